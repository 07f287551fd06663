"""Organizations: who may list the organisation, paging, parents, account closure.

Written from the Organizations API reference (ListAccounts, ListAccountsForParent,
ListChildren, ListOrganizationalUnitsForParent, ListRoots, MoveAccount,
CloseAccount, RegisterDelegatedAdministrator, Account) and its common errors.
"""

import pytest

from helpers import client_error, error_code

MANAGEMENT = "123456789012"
MISSING_OU = "ou-abcd-12345678"
DAY = 24 * 3600


@pytest.fixture
def org(emu):
    client = emu.client("organizations")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    return client, root


def new_account(client, name):
    status = client.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
    return status["AccountId"]


def read_all(client, method, key, **kwargs):
    out, token = [], None
    while True:
        page = getattr(client, method)(**kwargs, **({"NextToken": token} if token else {}))
        out += page[key]
        token = page.get("NextToken")
        if not token:
            return out


def test_outside_an_organisation_everything_is_not_in_use(emu):
    client = emu.client("organizations")
    for call in (client.describe_organization, client.list_accounts, client.list_roots):
        assert error_code(client_error(call)) == "AWSOrganizationsNotInUseException"


def test_list_accounts_pages_by_20_and_loses_no_account(org):
    client, _ = org
    created = {new_account(client, f"acct{i}") for i in range(25)}
    first = client.list_accounts()
    assert len(first["Accounts"]) == 20 and first["NextToken"]
    every = read_all(client, "list_accounts", "Accounts", MaxResults=7)
    ids = [a["Id"] for a in every]
    assert len(ids) == len(set(ids)) == 26
    assert set(ids) == created | {MANAGEMENT}
    assert {a["Status"] for a in every} == {"ACTIVE"}
    pages = client.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 5})
    assert sum(len(p["Accounts"]) for p in pages) == 26


def test_page_size_and_token_are_checked(org):
    client, root = org
    for call, kwargs in (
        (client.list_accounts, {}),
        (client.list_accounts_for_parent, {"ParentId": root}),
        (client.list_children, {"ParentId": root, "ChildType": "ACCOUNT"}),
        (client.list_organizational_units_for_parent, {"ParentId": root}),
    ):
        assert error_code(client_error(call, MaxResults=21, **kwargs)) == "InvalidInputException"
        assert error_code(client_error(call, NextToken="not-a-token", **kwargs)) == "InvalidInputException"


def test_parents_children_and_moves(org):
    client, root = org
    prod = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    team = client.create_organizational_unit(ParentId=prod, Name="team")["OrganizationalUnit"]["Id"]
    in_prod = [new_account(client, f"p{i}") for i in range(3)]
    in_team = new_account(client, "t")
    stays = new_account(client, "r")
    for account in in_prod:
        client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod)
    client.move_account(AccountId=in_team, SourceParentId=root, DestinationParentId=team)

    at_root = {a["Id"] for a in read_all(client, "list_accounts_for_parent", "Accounts", ParentId=root)}
    assert at_root == {MANAGEMENT, stays}
    assert {a["Id"] for a in read_all(client, "list_accounts_for_parent", "Accounts", ParentId=prod, MaxResults=2)} == set(in_prod)
    children = read_all(client, "list_children", "Children", ParentId=prod, ChildType="ACCOUNT", MaxResults=1)
    assert sorted(c["Id"] for c in children) == sorted(in_prod)
    assert {c["Type"] for c in children} == {"ACCOUNT"}
    units = client.list_children(ParentId=prod, ChildType="ORGANIZATIONAL_UNIT")["Children"]
    assert units == [{"Id": team, "Type": "ORGANIZATIONAL_UNIT"}]
    ous = client.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    assert [(o["Id"], o["Name"]) for o in ous] == [(prod, "prod")]
    assert ous[0]["Arn"].endswith(f"/{prod}")
    assert client.list_parents(ChildId=in_team)["Parents"] == [{"Id": team, "Type": "ORGANIZATIONAL_UNIT"}]


def test_organizational_units_page(org):
    client, root = org
    made = {client.create_organizational_unit(ParentId=root, Name=f"ou{i}")["OrganizationalUnit"]["Id"] for i in range(23)}
    first = client.list_organizational_units_for_parent(ParentId=root)
    assert len(first["OrganizationalUnits"]) == 20
    every = read_all(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=root, MaxResults=20)
    assert {o["Id"] for o in every} == made


def test_unknown_parents_and_units(org):
    client, root = org
    for call, kwargs in (
        (client.list_accounts_for_parent, {"ParentId": MISSING_OU}),
        (client.list_children, {"ParentId": MISSING_OU, "ChildType": "ACCOUNT"}),
        (client.list_organizational_units_for_parent, {"ParentId": MISSING_OU}),
        (client.create_organizational_unit, {"ParentId": MISSING_OU, "Name": "x"}),
    ):
        assert error_code(client_error(call, **kwargs)) == "ParentNotFoundException"
    err = client_error(client.describe_organizational_unit, OrganizationalUnitId=MISSING_OU)
    assert error_code(err) == "OrganizationalUnitNotFoundException"


def test_move_account_errors(org):
    client, root = org
    account = new_account(client, "m")
    prod = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    err = client_error(client.move_account, AccountId=account, SourceParentId=MISSING_OU, DestinationParentId=prod)
    assert error_code(err) == "SourceParentNotFoundException"
    err = client_error(client.move_account, AccountId=account, SourceParentId=root, DestinationParentId=MISSING_OU)
    assert error_code(err) == "DestinationParentNotFoundException"
    client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod)
    err = client_error(client.move_account, AccountId=account, SourceParentId=root, DestinationParentId=prod)
    assert error_code(err) == "DuplicateAccountException"


def test_a_member_may_describe_its_organisation_but_not_list_it(emu, org):
    client, root = org
    member = new_account(client, "member")
    as_member = emu.client("organizations", account=member)
    assert as_member.describe_organization()["Organization"]["MasterAccountId"] == MANAGEMENT
    for call, kwargs in (
        (as_member.list_accounts, {}),
        (as_member.list_roots, {}),
        (as_member.list_accounts_for_parent, {"ParentId": root}),
        (as_member.list_children, {"ParentId": root, "ChildType": "ACCOUNT"}),
        (as_member.list_organizational_units_for_parent, {"ParentId": root}),
        (as_member.describe_account, {"AccountId": member}),
        (as_member.create_account, {"AccountName": "x", "Email": "x@example.com"}),
        (as_member.create_organizational_unit, {"ParentId": root, "Name": "x"}),
    ):
        err = client_error(call, **kwargs)
        assert error_code(err) == "AccessDeniedException"
        assert err.response["Error"]["Message"] == "You don't have permissions to access this resource."


def test_a_delegated_administrator_may_list_but_not_change(emu, org):
    client, root = org
    admin = new_account(client, "security")
    other = new_account(client, "other")
    client.register_delegated_administrator(AccountId=admin, ServicePrincipal="securityhub.amazonaws.com")
    as_admin = emu.client("organizations", account=admin)
    assert {a["Id"] for a in read_all(as_admin, "list_accounts", "Accounts")} == {MANAGEMENT, admin, other}
    assert as_admin.list_roots()["Roots"][0]["Id"] == root
    assert len(as_admin.list_children(ParentId=root, ChildType="ACCOUNT")["Children"]) == 3
    assert as_admin.describe_account(AccountId=other)["Account"]["Id"] == other
    err = client_error(as_admin.create_organizational_unit, ParentId=root, Name="x")
    assert error_code(err) == "AccessDeniedException"
    err = client_error(as_admin.register_delegated_administrator, AccountId=other, ServicePrincipal="securityhub.amazonaws.com")
    assert error_code(err) == "AccessDeniedException"
    client.deregister_delegated_administrator(AccountId=admin, ServicePrincipal="securityhub.amazonaws.com")
    assert error_code(client_error(as_admin.list_accounts)) == "AccessDeniedException"


def status_of(client, account):
    described = client.describe_account(AccountId=account)["Account"]
    listed = next(a for a in read_all(client, "list_accounts", "Accounts") if a["Id"] == account)
    assert (listed["Status"], listed["State"]) == (described["Status"], described["State"])
    return described["Status"], described["State"]


def test_close_account_is_pending_then_suspended_then_closed(emu, org):
    client, _ = org
    account = new_account(client, "old")
    client.close_account(AccountId=account)
    assert status_of(client, account) == ("PENDING_CLOSURE", "PENDING_CLOSURE")
    assert error_code(client_error(client.close_account, AccountId=account)) == "AccountAlreadyClosedException"
    emu.admin("POST", "/clock", {"advance_seconds": 300})
    assert status_of(client, account) == ("SUSPENDED", "SUSPENDED")
    assert error_code(client_error(client.close_account, AccountId=account)) == "AccountAlreadyClosedException"
    emu.admin("POST", "/clock", {"advance_seconds": 90 * DAY})
    assert status_of(client, account) == ("SUSPENDED", "CLOSED")


def test_the_management_account_cannot_be_closed(org):
    client, _ = org
    err = client_error(client.close_account, AccountId=MANAGEMENT)
    assert error_code(err) == "ConstraintViolationException"


def test_assumed_role_credentials_still_act_in_the_member_account(emu, org):
    client, _ = org
    member = new_account(client, "workload")
    identity = emu.client("sts", account=member).get_caller_identity()
    assert identity["Account"] == member
    ec2 = emu.client("ec2", account=member)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert vpc in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    assert vpc not in [v["VpcId"] for v in emu.client("ec2").describe_vpcs()["Vpcs"]]
    assert emu.requests(service="ec2", action="CreateVpc")[-1]["account"] == member


def test_a_reset_forgets_the_organisation_of_former_members(emu, org):
    client, _ = org
    member = new_account(client, "gone")
    emu.reset()
    as_former = emu.client("organizations", account=member)
    assert error_code(client_error(as_former.describe_organization)) == "AWSOrganizationsNotInUseException"
    assert error_code(client_error(as_former.list_accounts)) == "AWSOrganizationsNotInUseException"
    as_former.create_organization(FeatureSet="ALL")

"""Trust policies of the member-account roles (security): each role can be assumed only
by the one function role of the deployment that needs it (peering-acceptor: requester role;
drift-auditor: audit role), from the deployment account, and only inside the organisation when
an organisation id is given. No wildcard principal, no other action than sts:AssumeRole.

The trusted ARN must also be the name the deployment really gives that function's role, in SAM
(template.yaml) and in Terraform (iam.tf), or the trust would point at nothing.
"""

from __future__ import annotations

import os

import pytest

import infra_support as support
from infra_support import Cfn

DEPLOYMENT = "210987654321"
ORG = "o-abcdefghij"
# member role key -> (SAM logical id, the function that assumes it)
ROLES = {"requester": ("RequesterRole", "peering-acceptor"), "audit": ("AuditRole", "drift-auditor")}


def function_role_arn(fn: str, prefix: str = "vpcwarden") -> str:
    return f"arn:{support.PARTITION}:iam::{DEPLOYMENT}:role/{prefix}-{fn}"


def expected_conditions(fn: str, org: str) -> dict[str, dict[str, list[str]]]:
    conditions = {
        "ArnEquals": {"aws:PrincipalArn": [function_role_arn(fn)]},
        "StringEquals": {"aws:PrincipalAccount": [DEPLOYMENT]},
    }
    if org:
        conditions["StringEquals"]["aws:PrincipalOrgID"] = [org]
    return conditions


def normalised(conditions: dict) -> dict[str, dict[str, list[str]]]:
    return {op: {k: sorted(support._as_list(v)) for k, v in kv.items()} for op, kv in conditions.items()}


@pytest.mark.parametrize("org", ["", ORG], ids=["no-org", "org"])
def test_sam_member_roles_trust_only_their_function_role(org: str, member_template: dict) -> None:
    cfn = Cfn(member_template, {"DeploymentAccountId": DEPLOYMENT, "OrganizationId": org})
    for key, (logical_id, fn) in ROLES.items():
        doc = cfn.properties(logical_id)["AssumeRolePolicyDocument"]
        [statement] = support._as_list(doc["Statement"])
        assert statement["Effect"] == "Allow"
        assert support._as_list(statement["Action"]) == ["sts:AssumeRole"], key
        principals = support._as_list(statement["Principal"]["AWS"])
        assert principals == [f"arn:{support.PARTITION}:iam::{DEPLOYMENT}:root"], key
        assert set(statement["Principal"]) == {"AWS"}, f"{key}: only an AWS account principal"
        assert normalised(statement["Condition"]) == expected_conditions(fn, org), key


def test_terraform_member_roles_trust_only_their_function_role() -> None:
    # Which role trusts which function (the partition is known only at plan time: read the HCL).
    hcl = support.load_hcl(os.path.join(support.TF_DIR, "modules", "member-role"))
    roles = hcl["locals"]["roles"]
    for key, (_, fn) in ROLES.items():
        branch = roles[roles.index(f"{key} = {{") :]
        branch = branch[: branch.index("}}")]
        trusted = "arn:${local.partition}:iam::${var.deployment_account_id}:role/${var.deployment_name_prefix}-" + fn
        assert f'trusted = \\"{trusted}\\"' in branch or f'trusted = "{trusted}"' in branch, branch

    # The trust document itself (a data source: read from the HCL, not evaluated).
    [statement] = hcl["data"]["aws_iam_policy_document"]["trust"]["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement.get("effect", "Allow") == "Allow"
    [principal] = statement["principals"]
    assert principal == {"type": "AWS", "identifiers": ["arn:${local.partition}:iam::${var.deployment_account_id}:root"]}
    fixed = {(c["test"], c["variable"]): c["values"] for c in statement["condition"]}
    assert fixed == {
        ("ArnEquals", "aws:PrincipalArn"): ["${each.value.trusted}"],
        ("StringEquals", "aws:PrincipalAccount"): ["${var.deployment_account_id}"],
    }
    [dynamic] = statement["dynamic"]
    org_condition = dynamic["condition"]
    assert org_condition["for_each"] == '${var.organization_id == "" ? [] : [var.organization_id]}'
    assert org_condition["content"] == [
        {"test": "StringEquals", "variable": "aws:PrincipalOrgID", "values": ["${condition.value}"]}
    ]


def test_trusted_names_are_the_deployed_function_role_names(sam_template: dict, member_template: dict, tf_hcl: dict) -> None:
    cfn = Cfn(sam_template)
    sam_names = {fn: cfn.properties(support.SAM_FUNCTIONS[fn].role)["RoleName"] for _, fn in ROLES.values()}
    assert sam_names == {fn: f"vpcwarden-{fn}" for _, fn in ROLES.values()}
    assert member_template["Parameters"]["DeploymentNamePrefix"]["Default"] == sam_template["Parameters"]["NamePrefix"]["Default"]

    # Terraform: roles named "<name_prefix>-<function>", one per function; the member module's
    # default prefix is the deployment's.
    role = tf_hcl["resource"]["aws_iam_role"]["function"]
    assert role["name"] == "${var.name_prefix}-${each.key}"
    assert role["for_each"] == "${toset(local.function_names)}"
    member = support.load_hcl(os.path.join(support.TF_DIR, "modules", "member-role"))
    assert member["variable"]["deployment_name_prefix"]["default"] == tf_hcl["variable"]["name_prefix"]["default"] == "vpcwarden"

"""DescribeRegions: enabled Regions, AllRegions, opt-in status, filters, and the admin API.

Written from the EC2 API reference (DescribeRegions, Region) and the Account
Management Reference Guide ("Regions launched before March 20, 2019 are enabled
by default"; later ones are opt-in and disabled by default).
"""

from helpers import client_error, error_code, query_body, raw_call, xml_without_namespaces

A = "123456789012"
B = "210987654321"
DEFAULT_REGIONS = {
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1",
}


def regions(ec2, **kwargs):
    return {r["RegionName"]: r["OptInStatus"] for r in ec2.describe_regions(**kwargs)["Regions"]}


def opt(emu, account, region, status):
    return emu.admin("POST", "/regions", {"account": account, "region": region, "opt_in_status": status})


def test_without_all_regions_only_the_default_regions_of_a_new_account(emu):
    listed = regions(emu.client("ec2"))
    assert set(listed) == DEFAULT_REGIONS
    assert set(listed.values()) == {"opt-in-not-required"}
    assert regions(emu.client("ec2"), AllRegions=False) == listed


def test_all_regions_lists_the_opt_in_regions_as_not_opted_in_and_no_other_partition(emu):
    listed = regions(emu.client("ec2"), AllRegions=True)
    assert DEFAULT_REGIONS < set(listed)
    for name in ("ap-east-1", "af-south-1", "eu-south-1", "ap-southeast-3", "me-south-1", "il-central-1"):
        assert listed[name] == "not-opted-in"
    assert not any(name.startswith(("us-gov-", "cn-")) for name in listed)
    assert {s for n, s in listed.items() if n not in DEFAULT_REGIONS} == {"not-opted-in"}


def test_opting_in_is_per_account(emu):
    opt(emu, A, "ap-east-1", "opted-in")
    mine = regions(emu.client("ec2"))
    assert mine["ap-east-1"] == "opted-in"
    assert set(mine) == DEFAULT_REGIONS | {"ap-east-1"}
    assert "ap-east-1" not in regions(emu.client("ec2", account=B))
    opt(emu, A, "ap-east-1", "not-opted-in")
    assert "ap-east-1" not in regions(emu.client("ec2"))


def test_opt_in_status_filter(emu):
    ec2 = emu.client("ec2")
    opt(emu, A, "eu-south-1", "opted-in")
    flt = lambda *v: [{"Name": "opt-in-status", "Values": list(v)}]  # noqa: E731
    assert regions(ec2, Filters=flt("opted-in")) == {"eu-south-1": "opted-in"}
    assert regions(ec2, Filters=flt("not-opted-in")) == {}
    not_opted = regions(ec2, AllRegions=True, Filters=flt("not-opted-in"))
    assert "ap-east-1" in not_opted and "eu-south-1" not in not_opted
    enabled = regions(ec2, AllRegions=True, Filters=flt("opt-in-not-required", "opted-in"))
    assert set(enabled) == DEFAULT_REGIONS | {"eu-south-1"}


def test_region_name_and_endpoint_filters(emu):
    ec2 = emu.client("ec2")
    assert set(regions(ec2, Filters=[{"Name": "region-name", "Values": ["eu-*"]}])) == {
        "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1"}
    out = ec2.describe_regions(Filters=[{"Name": "endpoint", "Values": ["ec2.us-west-2.amazonaws.com"]}])["Regions"]
    assert out == [{"RegionName": "us-west-2", "Endpoint": "ec2.us-west-2.amazonaws.com", "OptInStatus": "opt-in-not-required"}]
    err = client_error(ec2.describe_regions, Filters=[{"Name": "geography", "Values": ["x"]}])
    assert error_code(err) == "InvalidParameterValue"


def test_region_names_are_listed_whether_enabled_or_not(emu):
    listed = regions(emu.client("ec2"), RegionNames=["ap-east-1", "us-east-1"])
    assert listed == {"ap-east-1": "not-opted-in", "us-east-1": "opt-in-not-required"}


def test_wire_shape(emu):
    opt(emu, A, "ap-east-1", "opted-in")
    status, _, body = raw_call(emu.url, "ec2", query_body("DescribeRegions", "2016-11-15", **{"RegionName.1": "ap-east-1"}))
    assert status == 200
    item = xml_without_namespaces(body).find("regionInfo/item")
    assert item.findtext("regionName") == "ap-east-1"
    assert item.findtext("regionEndpoint") == "ec2.ap-east-1.amazonaws.com"
    assert item.findtext("optInStatus") == "opted-in"


def test_admin_api_checks_its_input_and_lists_an_account(emu):
    for body in (
        {"account": A, "region": "us-east-1", "opt_in_status": "not-opted-in"},
        {"account": A, "region": "ap-east-1", "opt_in_status": "enabled"},
        {"account": A, "region": "xx-nowhere-1", "opt_in_status": "opted-in"},
        {"region": "ap-east-1", "opt_in_status": "opted-in"},
    ):
        status, payload = emu.call("POST", "/vpcwarden-api/regions", body)
        assert status == 400, body
        assert "error" in payload
    assert opt(emu, B, "me-south-1", "opted-in") == {"account": B, "region": "me-south-1", "opt_in_status": "opted-in"}
    listed = {r["region"]: r["opt_in_status"] for r in emu.admin("GET", f"/regions?account={B}")}
    assert listed["me-south-1"] == "opted-in"
    assert listed["us-east-1"] == "opt-in-not-required"
    assert listed["ap-east-1"] == "not-opted-in"


def test_a_moto_reset_forgets_opt_ins(emu):
    opt(emu, A, "ap-east-1", "opted-in")
    emu.reset()
    assert "ap-east-1" not in regions(emu.client("ec2"))

"""The two example estates (infra/terraform/examples/peering-two-vpcs and
privatelink-provider-consumer), applied to the local emulator, then managed by vpcwarden.

After `terraform apply`, the estate is read back as declared; then a grant is written into an
allowlist table and the real function binary is run once through the local Lambda Runtime API
(`target/debug/invoke-function`, tests/src/bin/invoke-function.rs) with a scheduled event, and
the estate must have converged: the peering active with routes in both route tables, or the
endpoint connection available. A `terraform plan` afterwards must show no changes (vpcwarden's
routes, tags and acceptance do not fight the example's configuration), and `terraform destroy`
must remove the estate.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

import pytest

import infra_support as support
from infra_support import ACCOUNT, REGION

ALLOWLIST, LEDGER = "vpcwarden-allowlist", "vpcwarden-ledger"
ENV = {"AWS_ACCESS_KEY_ID": "infra-test", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}


def bin_dir() -> str:
    explicit = os.environ.get("VPCWARDEN_BIN_DIR")
    if explicit:
        return explicit
    return os.path.join(support.ROOT, os.environ.get("CARGO_TARGET_DIR") or "target", "debug")


def require_binary(name: str, why: str) -> str:
    path = os.path.join(bin_dir(), name)
    if not os.path.isfile(path):
        pytest.skip(f"{path} is not built ({why})")
    return path


def invoke(emu: support.EmulatorProcess, function: str, event: str = "schedule", **env: str) -> dict[str, Any]:
    """Runs the built function once through invoke-function; its answer (or error) as JSON."""
    tool = require_binary("invoke-function", "cargo build -p vpcwarden-tests --bin invoke-function")
    require_binary(function, f"cargo build -p {function}")
    pairs = [f"{k}={v}" for k, v in {"ALLOWLIST_TABLE": ALLOWLIST, "LEDGER_TABLE": LEDGER, **env}.items()]
    proc = subprocess.run(
        [tool, function, event, "--endpoint", emu.url, "--region", REGION, *pairs],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ.get("PATH", ""), "VPCWARDEN_BIN_DIR": bin_dir()},
    )
    assert proc.returncode == 0, f"{function} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-8000:]}"
    return json.loads(proc.stdout)


class Estate:
    """An example applied to its own emulator; destroyed by ``destroy()`` or at teardown."""

    def __init__(self, tf: support.Terraform, example: str, work: str, inputs: dict[str, Any]) -> None:
        self.tf, self.rel = tf, f"examples/{example}"
        self.emu = support.EmulatorProcess(os.path.join(work, "emulator.log"))
        self.destroyed = False
        try:
            support.create_tables(self.emu, (ALLOWLIST, LEDGER))
            with open(os.path.join(tf.path(self.rel), "emulator.auto.tfvars.json"), "w") as f:
                json.dump({"aws_endpoint_url": self.emu.url, **inputs}, f)
            tf.init(self.rel)
            tf.run(self.rel, "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false", env=ENV)
            raw = json.loads(tf.run(self.rel, "output", "-json", env=ENV).stdout)
            self.out = {k: v["value"] for k, v in raw.items()}
        except BaseException:
            self.close()
            raise

    def plan_changes(self) -> tuple[int, str]:
        proc = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"],
            cwd=self.tf.path(self.rel),
            env={**support.terraform_env(), **ENV},
            capture_output=True,
            text=True,
            timeout=600,
        )
        return proc.returncode, proc.stdout + proc.stderr

    def destroy(self) -> None:
        self.tf.run(self.rel, "destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false", env=ENV)
        self.destroyed = True

    def close(self) -> None:
        if not self.destroyed:
            try:
                self.destroy()
            except Exception:  # noqa: BLE001 - best effort; the emulator goes away anyway
                pass
        self.emu.stop()


# --------------------------------------------------------------------------- peering-two-vpcs


@pytest.fixture(scope="module")
def peering(tf_scratch: support.Terraform, tmp_path_factory: pytest.TempPathFactory):
    estate = Estate(tf_scratch, "peering-two-vpcs", str(tmp_path_factory.mktemp("peering")), {})
    yield estate
    estate.close()


def routes(ec2: Any, rtb: str) -> dict[str, str]:
    [table] = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"]
    return {
        r.get("DestinationCidrBlock", r.get("DestinationIpv6CidrBlock", "")): r.get("VpcPeeringConnectionId") or r.get("GatewayId", "")
        for r in table["Routes"]
    }


def test_peering_estate_is_applied_as_declared(peering: Estate) -> None:
    ec2, out = peering.emu.client("ec2"), peering.out
    vpcs = {v["VpcId"]: v for v in ec2.describe_vpcs(VpcIds=list(out["vpc_ids"].values()))["Vpcs"]}
    assert vpcs[out["vpc_ids"]["a"]]["CidrBlock"] == "10.0.0.0/16"
    assert vpcs[out["vpc_ids"]["b"]]["CidrBlock"] == "192.168.0.0/16"
    for side in ("a", "b"):
        [table] = ec2.describe_route_tables(RouteTableIds=[out["route_table_ids"][side]])["RouteTables"]
        assert table["VpcId"] == out["vpc_ids"][side]
        [assoc] = [a for a in table["Associations"] if not a.get("Main")]
        [subnet] = ec2.describe_subnets(SubnetIds=[assoc["SubnetId"]])["Subnets"]
        assert subnet["VpcId"] == out["vpc_ids"][side]
        assert routes(ec2, out["route_table_ids"][side]) == {out["vpc_cidrs"][side]: "local"}
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[out["peering_connection_id"]])["VpcPeeringConnections"]
    assert pcx["Status"]["Code"] == "pending-acceptance", "left for vpcwarden, not auto-accepted"
    assert (pcx["RequesterVpcInfo"]["VpcId"], pcx["AccepterVpcInfo"]["VpcId"]) == (out["vpc_ids"]["a"], out["vpc_ids"]["b"])


def test_peering_acceptor_accepts_and_wires_both_route_tables(peering: Estate) -> None:
    ec2, ddb, out = peering.emu.client("ec2"), peering.emu.client("dynamodb"), peering.out
    pcx_id = out["peering_connection_id"]
    # Without a grant the request stays pending.
    answer = invoke(peering.emu, "peering-acceptor")
    assert [(p["pcx"], p["action"]) for p in answer["peerings"]] == [(pcx_id, "ignored")], answer
    grant = out["peering_grant"]
    ddb.put_item(
        TableName=ALLOWLIST,
        Item={
            "pk": {"S": grant["pk"]},
            "sk": {"S": grant["sk"]},
            "allowed_cidrs": {"SS": grant["allowed_cidrs"]},
            "note": {"S": "examples/peering-two-vpcs"},
            "added_by": {"S": "test_examples"},
            "added_at": {"N": str(int(time.time()))},
        },
    )
    answer = invoke(peering.emu, "peering-acceptor")
    [decision] = answer["peerings"]
    assert (decision["pcx"], decision["action"], decision["status"]) == (pcx_id, "accepted", "active"), answer
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["Status"]["Code"] == "active"
    assert routes(ec2, out["route_table_ids"]["a"]) == {"10.0.0.0/16": "local", "192.168.0.0/16": pcx_id}
    assert routes(ec2, out["route_table_ids"]["b"]) == {"192.168.0.0/16": "local", "10.0.0.0/16": pcx_id}
    ledger = ddb.query(TableName=LEDGER, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"pcx#{pcx_id}"}})
    assert any(i["action"]["S"] == "accepted" for i in ledger["Items"])
    # A second sweep finds nothing to do.
    again = invoke(peering.emu, "peering-acceptor")
    assert all(not p.get("routes_added") for p in again["peerings"]), again


def test_terraform_and_vpcwarden_do_not_fight_over_the_peering(peering: Estate) -> None:
    code, text = peering.plan_changes()
    assert code == 0, f"terraform plan wants changes after vpcwarden converged the estate:\n{text[-6000:]}"


def test_peering_estate_is_destroyed(peering: Estate) -> None:
    peering.destroy()
    ec2 = peering.emu.client("ec2")
    left = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    assert left == []


# --------------------------------------------------------------------------- privatelink-provider-consumer


@pytest.fixture(scope="module")
def privatelink(tf_scratch: support.Terraform, tmp_path_factory: pytest.TempPathFactory):
    inputs = {"lb_deletion_protection": False}  # lets the test destroy the estate
    estate = Estate(tf_scratch, "privatelink-provider-consumer", str(tmp_path_factory.mktemp("privatelink")), inputs)
    yield estate
    estate.close()


def connection_state(emu: support.EmulatorProcess, service: str, endpoint: str) -> str:
    conns = emu.client("ec2").describe_vpc_endpoint_connections(Filters=[{"Name": "service-id", "Values": [service]}])["VpcEndpointConnections"]
    [conn] = [c for c in conns if c["VpcEndpointId"] == endpoint]
    return conn["VpcEndpointState"]


def test_privatelink_estate_is_applied_as_declared(privatelink: Estate) -> None:
    emu, out = privatelink.emu, privatelink.out
    ec2, elbv2 = emu.client("ec2"), emu.client("elbv2")
    vpcs = {v["VpcId"]: v["CidrBlock"] for v in ec2.describe_vpcs(VpcIds=list(out["vpc_ids"].values()))["Vpcs"]}
    assert vpcs == {out["vpc_ids"]["provider"]: "10.1.0.0/16", out["vpc_ids"]["consumer"]: "10.2.0.0/16"}
    [lb] = elbv2.describe_load_balancers(LoadBalancerArns=[out["load_balancer_arn"]])["LoadBalancers"]
    assert (lb["Type"], lb["Scheme"], lb["VpcId"]) == ("network", "internal", out["vpc_ids"]["provider"])
    [listener] = elbv2.describe_listeners(LoadBalancerArn=out["load_balancer_arn"])["Listeners"]
    assert (listener["Protocol"], listener["Port"]) == ("TCP", 443)
    assert listener["DefaultActions"][0]["TargetGroupArn"] == out["target_group_arn"]
    health = elbv2.describe_target_health(TargetGroupArn=out["target_group_arn"])["TargetHealthDescriptions"]
    assert [t["Target"]["Id"] for t in health] == ["10.1.1.10"]
    [svc] = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[out["endpoint_service_id"]])["ServiceConfigurations"]
    assert svc["AcceptanceRequired"] is True
    assert svc["NetworkLoadBalancerArns"] == [out["load_balancer_arn"]]
    [endpoint] = ec2.describe_vpc_endpoints(VpcEndpointIds=[out["endpoint_id"]])["VpcEndpoints"]
    assert (endpoint["VpcEndpointType"], endpoint["VpcId"]) == ("Interface", out["vpc_ids"]["consumer"])
    [group] = endpoint["Groups"]
    assert group["GroupId"] == out["endpoint_security_group_id"]
    [sg] = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert sg["VpcId"] == out["vpc_ids"]["consumer"], "the endpoint's security group lives in the consumer VPC"
    [rule] = sg["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["IpRanges"][0]["CidrIp"]) == ("tcp", 443, 443, "10.2.0.0/16")
    assert connection_state(emu, out["endpoint_service_id"], out["endpoint_id"]) == "pendingAcceptance"


def test_endpoint_approver_approves_the_granted_connection(privatelink: Estate) -> None:
    emu, out = privatelink.emu, privatelink.out
    require_binary("endpoint-approver", "a colleague is finishing endpoint-approver; build it with cargo build -p endpoint-approver")
    grant = out["endpoint_grant"]
    assert grant["sk"] == f"account#{ACCOUNT}"
    emu.client("dynamodb").put_item(
        TableName=ALLOWLIST,
        Item={
            "pk": {"S": grant["pk"]},
            "sk": {"S": grant["sk"]},
            "max_endpoints": {"N": "2"},
            "note": {"S": "examples/privatelink-provider-consumer"},
            "added_by": {"S": "test_examples"},
            "added_at": {"N": str(int(time.time()))},
        },
    )
    answer = invoke(emu, "endpoint-approver")
    assert connection_state(emu, out["endpoint_service_id"], out["endpoint_id"]) == "available", answer
    [endpoint] = emu.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[out["endpoint_id"]])["VpcEndpoints"]
    assert endpoint["State"].lower() == "available"


def test_terraform_and_vpcwarden_do_not_fight_over_the_endpoint(privatelink: Estate) -> None:
    code, text = privatelink.plan_changes()
    assert code == 0, f"terraform plan wants changes after vpcwarden converged the estate:\n{text[-6000:]}"


def test_privatelink_estate_is_destroyed(privatelink: Estate) -> None:
    privatelink.destroy()
    ec2 = privatelink.emu.client("ec2")
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []
    assert privatelink.emu.client("elbv2").describe_load_balancers()["LoadBalancers"] == []

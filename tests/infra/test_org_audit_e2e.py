"""The org audit end to end on the emulator's Step Functions engine, with the real drift-auditor.

The built ``drift-auditor`` (``target/debug``, the binary ``make test`` builds) is deployed as a
Lambda function from a zip holding it as ``bootstrap`` (the emulator runs it through the Lambda
Runtime API, with its execution role's credentials); the production definition
(infra/statemachine/org-audit.asl.json, rendered as Terraform renders it) is created as a state
machine and executed. The estate: an organisation of 40 member accounts in two OUs (plus the
management account), two regions; drift in a few scopes (an unlisted peering in two members, a
wildcard endpoint service in ours); one member whose audit role cannot be assumed, one
suspended, one excluded. The run's report must list every planned scope with its status and hold
exactly the findings the same function finds invoked once over the same estate; two executions
with the same input keep their data apart. (Tolerance and retries are proven with a stand-in
auditor in test_org_audit_statemachine.py, where failures can be chosen.)
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import urllib.request
import zipfile
from typing import Any

import pytest

import infra_support as support

sys.path.insert(0, support.EMULATOR_DIR)
from lambda_helpers import TRUST_POLICY  # noqa: E402
from privatelink import make_provider  # noqa: E402
from sfn_helpers import SFN_TRUST, wait  # noqa: E402

BUCKET = "vpcwarden-org-e2e"
PREFIX = "reports/"
REGIONS = ["us-east-1", "eu-west-1"]
ROLE = "vpcwarden-audit"
MEMBERS_PER_UNIT = 20
MAX_CONCURRENCY = 10


def binary() -> str:
    """The drift-auditor ``make test`` built; a missing build fails (it is a step before this one)."""
    bin_dir = os.environ.get("VPCWARDEN_BIN_DIR") or os.path.join(support.ROOT, os.environ.get("CARGO_TARGET_DIR") or "target", "debug")
    path = os.path.join(bin_dir, "drift-auditor")
    assert os.path.isfile(path), f"{path} is not built: run `cargo build --workspace --bins --tests` first"
    return path


def zipped(path: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        with open(path, "rb") as f:
            archive.writestr(info, f.read())
    return buffer.getvalue()


def post(emu: support.EmulatorProcess, path: str, body: Any) -> Any:
    req = urllib.request.Request(emu.url + "/vpcwarden-api" + path, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def member_client(emu: support.EmulatorProcess, service: str, region: str, account: str) -> Any:
    """A client acting in `account` (the keys of a role assumed there, as in the Rust harness)."""
    import boto3

    creds = emu.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return boto3.client(
        service, endpoint_url=emu.url, region_name=region, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
    )


def unlisted_peering(emu: support.EmulatorProcess, account: str, region: str) -> None:
    """Two VPCs of `account` peered with no grant: PEERING_NOT_ALLOWLISTED in that scope."""
    ec2 = member_client(emu, "ec2", region, account)
    a = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    b = ec2.create_vpc(CidrBlock="10.51.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=b)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)


class Estate:
    """The organisation, its drift, and who is left out."""

    def __init__(self, emu: support.EmulatorProcess, per_unit: int = MEMBERS_PER_UNIT) -> None:
        org = emu.client("organizations")
        org.create_organization(FeatureSet="ALL")
        root = org.list_roots()["Roots"][0]["Id"]
        self.members: list[str] = []
        for unit_name in ("prod", "dev"):
            unit = org.create_organizational_unit(ParentId=root, Name=unit_name)["OrganizationalUnit"]["Id"]
            for i in range(per_unit):
                status = org.create_account(AccountName=f"{unit_name}-{i}", Email=f"{unit_name}-{i}@example.com")
                account = status["CreateAccountStatus"]["AccountId"]
                org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=unit)
                self.members.append(account)
        self.suspended, self.excluded, self.denied = self.members[3], self.members[per_unit + per_unit // 4], self.members[7]
        org.close_account(AccountId=self.suspended)
        post(emu, "/clock", {"advance_seconds": 360})
        post(emu, "/faults", {"service": "sts", "action": "AssumeRole", "error": "AccessDenied", "status": 403,
                              "message": "not authorized to perform sts:AssumeRole",
                              "params": {"RoleArn": f"arn:aws:iam::{self.denied}:role/{ROLE}"}})
        self.drifted = [(self.members[1], "us-east-1"), (self.members[per_unit + per_unit // 2], "eu-west-1")]
        for account, region in self.drifted:
            unlisted_peering(emu, account, region)
        make_provider(emu, True, ["*"])  # ours: ENDPOINT_SERVICE_WILDCARD_PRINCIPAL

    def planned(self) -> set[tuple[str, str]]:
        accounts = [support.ACCOUNT] + [m for m in self.members if m not in (self.suspended, self.excluded)]
        return {(a, r) for a in accounts for r in REGIONS}


class Deployment:
    """The real drift-auditor as a Lambda function, and the production state machine."""

    def __init__(
        self, emu: support.EmulatorProcess, estate: Estate, name: str = "org-e2e", path: str | None = None, max_concurrency: int = MAX_CONCURRENCY
    ) -> None:
        self.emu, self.name = emu, name
        lam, iam, sfn = emu.client("lambda"), emu.client("iam"), emu.client("stepfunctions")
        role = iam.create_role(RoleName=f"{name}-drift-auditor", AssumeRolePolicyDocument=TRUST_POLICY)["Role"]["Arn"]
        variables = {
            "ALLOWLIST_TABLE": "vpcwarden-allowlist",
            "LEDGER_TABLE": "vpcwarden-ledger",
            "REPORT_BUCKET": BUCKET,
            "REPORT_PREFIX": PREFIX,
            "AUDIT_ACCOUNTS": "org",
            "AUDIT_EXCLUDE_ACCOUNTS": estate.excluded,
            "AUDIT_REGIONS": ",".join(REGIONS),
            "AUDIT_ROLE_NAME": ROLE,
            "RUST_LOG": "warn",
        }
        self.function_arn = lam.create_function(
            FunctionName=f"{name}-drift-auditor",
            Runtime="provided.al2023",
            Handler="bootstrap",
            Role=role,
            Code={"ZipFile": zipped(path or binary())},
            Timeout=900,
            MemorySize=512,
            Environment={"Variables": variables},
        )["FunctionArn"]
        values = {"DriftAuditorFunctionArn": self.function_arn, "ReportBucket": BUCKET, "MaxConcurrency": max_concurrency, "ToleratedFailurePercentage": 5}
        definition = support.render_asl_with_terraform(values) if shutil.which("terraform") else support.render_asl(values)
        sm_role = iam.create_role(RoleName=f"{name}-org-audit", AssumeRolePolicyDocument=SFN_TRUST)["Role"]["Arn"]
        self.arn = sfn.create_state_machine(name=f"{name}-org-audit", definition=definition, roleArn=sm_role)["stateMachineArn"]

    def invoke(self, event: Any) -> Any:
        import boto3
        from botocore.config import Config

        lam = boto3.client(
            "lambda", endpoint_url=self.emu.url, region_name=support.REGION, aws_access_key_id="infra-test",
            aws_secret_access_key="testing", config=Config(read_timeout=300, retries={"total_max_attempts": 1}),
        )
        out = lam.invoke(FunctionName=self.function_arn, Payload=json.dumps(event).encode())
        payload = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, payload
        return payload

    def execute(self, execution_input: Any) -> dict[str, Any]:
        sfn = self.emu.client("stepfunctions")
        arn = sfn.start_execution(stateMachineArn=self.arn, input=json.dumps(execution_input))["executionArn"]
        return wait(self.emu, arn, timeout=1800)


def s3_json(emu: support.EmulatorProcess, key: str) -> Any:
    return json.loads(emu.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def s3_keys(emu: support.EmulatorProcess, prefix: str) -> list[str]:
    pages = emu.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def ids(report: dict[str, Any]) -> set[str]:
    return {f["id"] for f in report["findings"] + report["waived"]}


def key_of(uri: str) -> str:
    return uri.removeprefix(f"s3://{BUCKET}/")


@pytest.fixture(scope="module")
def org_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The estate, the single invocation's reports, and two executions of the same input."""
    work = tmp_path_factory.mktemp("org-e2e")
    emu = support.EmulatorProcess(str(work / "emulator.log"))
    try:
        emu.client("s3").create_bucket(Bucket=BUCKET)
        support.create_tables(emu)
        estate = Estate(emu)
        deployment = Deployment(emu, estate)
        single = deployment.invoke({})
        single_ids: set[str] = set()
        for key in s3_keys(emu, PREFIX):
            if key.endswith("/report.json") and "/runs/" not in key:
                single_ids |= ids(s3_json(emu, key))
        first, second = deployment.execute({}), deployment.execute({})
        yield emu, estate, single, single_ids, first, second
    finally:
        emu.stop()


def test_the_execution_reports_every_planned_scope_with_its_status(org_run) -> None:  # type: ignore[no-untyped-def]
    emu, estate, _, _, first, _ = org_run
    assert first["status"] == "SUCCEEDED", (first.get("error"), first.get("cause"))
    output = json.loads(first["output"])
    report = s3_json(emu, key_of(output["reports"]["json"]))
    listed = {(s["account"], s["region"]): s for s in report["scope"]["scopes"]}
    assert set(listed) == estate.planned(), "every planned scope, and only those"
    failed = {scope for scope, s in listed.items() if s["status"] == "failed"}
    assert failed == {(estate.denied, r) for r in REGIONS}, failed
    assert all("AccessDenied" in listed[s]["error"] for s in failed)
    assert (output["scopes_audited"], output["scopes_failed"]) == (len(listed) - 2, 2), output
    notes = " ".join(output["notes"])
    assert estate.suspended in notes and "SUSPENDED" in notes and estate.excluded in notes, notes
    print(f"{len(listed)} scopes, {output['summary']['total']} findings")


def test_the_findings_equal_those_of_one_invocation_over_the_same_estate(org_run) -> None:  # type: ignore[no-untyped-def]
    emu, estate, single, single_ids, first, _ = org_run
    report = s3_json(emu, key_of(json.loads(first["output"])["reports"]["json"]))
    assert ids(report) == single_ids and single_ids, "the same findings, by id"
    assert report["summary"]["total"] == single["total"]
    where = {(f["account"], f["region"], f["code"]) for f in report["findings"]}
    for account, region in estate.drifted:
        assert (account, region, "PEERING_NOT_ALLOWLISTED") in where, (account, region)
    assert (support.ACCOUNT, "us-east-1", "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL") in where
    page = emu.client("s3").get_object(Bucket=BUCKET, Key=key_of(json.loads(first["output"])["reports"]["html"]))["Body"].read().decode()
    assert "<svg" in page


def test_two_executions_of_the_same_input_keep_their_data_apart(org_run) -> None:  # type: ignore[no-untyped-def]
    emu, estate, _, _, first, second = org_run
    assert second["status"] == "SUCCEEDED", (second.get("error"), second.get("cause"))
    a, b = json.loads(first["output"]), json.loads(second["output"])
    assert a["run_id"] != b["run_id"]
    for out in (a, b):
        keys = s3_keys(emu, f"{PREFIX}runs/{out['run_id']}/scopes/")
        assert len(keys) == len(estate.planned()), "each run has one result per planned scope, failed ones included"
    assert a["summary"]["total"] == b["summary"]["total"]
    assert b["summary"]["new"] == 0, "the second run compares with the first, scope by scope"

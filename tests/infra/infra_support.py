"""Shared scaffolding of the infrastructure tests (tests/infra).

* ``Cfn``: loads infra/sam/*.yaml (cfn-lint's loader, so the ``!Ref``/``!Sub``/... tags are
  understood) and evaluates conditions and intrinsic functions for given parameter values.
* ``Terraform``: a scratch copy of infra/terraform, initialised offline against the machine's
  provider mirror (the same discovery as tests/tools/infra-check.sh), with ``console()`` to
  evaluate expressions of a module and ``run()`` for init/apply/destroy.
* ``load_hcl()``: python-hcl2 over every ``*.tf`` of a folder, with the quoting of python-hcl2 8
  removed.
* ``EmulatorProcess``: tests/emulator/server.py on a free loopback port (started and stopped by
  tests/emulator/emulator_process.py, as in the emulator's own suite), and boto3 clients for it.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# VPCWARDEN_INFRA_DIR points the tests at another copy of infra/ (e.g. to check that a deliberate
# difference between the flavours is caught, without touching the tree).
INFRA = os.path.abspath(os.environ.get("VPCWARDEN_INFRA_DIR") or os.path.join(ROOT, "infra"))
SAM_TEMPLATE = os.path.join(INFRA, "sam", "template.yaml")
SAM_MEMBER_TEMPLATE = os.path.join(INFRA, "sam", "member-role.yaml")
TF_DIR = os.path.join(INFRA, "terraform")
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"

# The emulator's start and stop are shared with its own suite (tests/emulator/emulator_process.py).
EMULATOR_DIR = os.path.join(ROOT, "tests", "emulator")
if EMULATOR_DIR not in sys.path:
    sys.path.append(EMULATOR_DIR)
import emulator_process as _emulator_process  # noqa: E402

FUNCTIONS = ("peering-acceptor", "endpoint-approver", "drift-auditor")


@dataclass(frozen=True)
class SamFunction:
    """Where a function lives in the SAM template."""

    function: str  # AWS::Serverless::Function logical id
    role: str  # AWS::IAM::Role logical id
    log_group: str  # AWS::Logs::LogGroup logical id


SAM_FUNCTIONS = {
    "peering-acceptor": SamFunction("PeeringAcceptorFunction", "AcceptorRole", "AcceptorLogGroup"),
    "endpoint-approver": SamFunction("EndpointApproverFunction", "ApproverRole", "ApproverLogGroup"),
    "drift-auditor": SamFunction("DriftAuditorFunction", "AuditorRole", "AuditorLogGroup"),
}

# SAM logical id -> Terraform address of the same resource (for references in both flavours).
SAM_TO_TF = {
    "AllowlistTable": "aws_dynamodb_table.allowlist",
    "LedgerTable": "aws_dynamodb_table.ledger",
    "ReportBucket": "aws_s3_bucket.reports",
    "EncryptionKey": "aws_kms_key.this",
    "FailureQueue": "aws_sqs_queue.failures",
    "EndpointNotificationTopic": "aws_sns_topic.endpoint_notifications",
    "AlarmTopic": "aws_sns_topic.alarms",
    "AcceptorLogGroup": 'aws_cloudwatch_log_group.function["peering-acceptor"]',
    "ApproverLogGroup": 'aws_cloudwatch_log_group.function["endpoint-approver"]',
    "AuditorLogGroup": 'aws_cloudwatch_log_group.function["drift-auditor"]',
}


# --------------------------------------------------------------------------- CloudFormation


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class ResourceRef:
    """An unresolved ``!Ref X`` / ``!GetAtt X.Attr`` to a resource of the template."""

    logical_id: str
    attribute: str | None = None

    def __str__(self) -> str:
        return f"{{{self.logical_id}{'.' + self.attribute if self.attribute else ''}}}"


def load_cfn(path: str) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return _plain(cfn_yaml.load(path))


def _plain(node: Any) -> Any:
    """cfn-lint's node classes -> plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


class Cfn:
    """A CloudFormation/SAM template evaluated for one set of parameter values.

    ``resolve(logical_id, attribute)`` turns references to resources into values (default: a
    ``ResourceRef``; inside ``!Sub`` its string form ``{Id.Attr}``).
    """

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, Any] | None = None,
        resolve: Callable[[str, str | None], Any] | None = None,
    ) -> None:
        self.template = template
        self.params: dict[str, Any] = {}
        for name, spec in template.get("Parameters", {}).items():
            value = (parameters or {}).get(name, spec.get("Default"))
            if value is None:
                raise KeyError(f"parameter {name} has no default and no value")
            if spec.get("Type") == "CommaDelimitedList":
                value = value if isinstance(value, list) else [v for v in str(value).split(",")]
                value = [] if value == [""] else value
            else:
                value = str(value)
            self.params[name] = value
        unknown = set(parameters or {}) - set(self.params)
        if unknown:
            raise KeyError(f"unknown parameters {sorted(unknown)}")
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "vpcwarden",
            "AWS::NoValue": NO_VALUE,
        }
        self._resolve = resolve or (lambda lid, attr: ResourceRef(lid, attr))
        self._conditions: dict[str, bool] = {}

    # -- conditions ------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self._cond(self.template["Conditions"][name]))
        return self._conditions[name]

    def _cond(self, node: Any) -> bool:
        (fn, arg), = node.items()
        if fn == "Fn::Equals":
            a, b = (self.value(x) for x in arg)
            return _scalar(a) == _scalar(b)
        if fn == "Fn::Not":
            return not self._cond(arg[0])
        if fn == "Fn::And":
            return all(self._cond(x) for x in arg)
        if fn == "Fn::Or":
            return any(self._cond(x) for x in arg)
        if fn == "Condition":
            return self.condition(arg)
        raise ValueError(f"unsupported condition function {fn}")

    # -- values ----------------------------------------------------------
    def value(self, node: Any) -> Any:
        """Evaluates intrinsic functions; drops AWS::NoValue from lists and mappings."""
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                if arg in self.pseudo:
                    return self.pseudo[arg]
                if arg in self.params:
                    return self.params[arg]
                return self._resolve(arg, None)
            if key == "Fn::GetAtt":
                lid, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._resolve(lid, attr)
            if key == "Fn::If":
                name, yes, no = arg
                return self.value(yes if self.condition(name) else no)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(_scalar(v)) for v in self._flat(self.value(items)))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.value(text)).split(sep)
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(self.value(index))]
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                raise ValueError(f"unsupported intrinsic {key}")
        out = {}
        for k, v in node.items():
            v = self.value(v)
            if v is not NO_VALUE:
                out[k] = v
        return out

    @staticmethod
    def _flat(items: Any) -> list[Any]:
        return items if isinstance(items, list) else [items]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.value(variables[name]))
            if name in self.pseudo:
                return str(self.pseudo[name])
            if name in self.params:
                v = self.params[name]
                return ",".join(v) if isinstance(v, list) else str(v)
            lid, _, attr = name.partition(".")
            return str(self._resolve(lid, attr or None))

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    # -- resources -------------------------------------------------------
    def resources(self) -> dict[str, dict[str, Any]]:
        """Resources whose Condition holds (unevaluated properties)."""
        return {
            lid: r
            for lid, r in self.template["Resources"].items()
            if "Condition" not in r or self.condition(r["Condition"])
        }

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.value(self.template["Resources"][logical_id].get("Properties", {}))

    def function(self, logical_id: str) -> dict[str, Any]:
        """A serverless function's properties with the Globals applied (shallow, as SAM does for these keys)."""
        merged = dict(self.template.get("Globals", {}).get("Function", {}))
        props = self.template["Resources"][logical_id]["Properties"]
        for k, v in props.items():
            if k == "Environment" and "Environment" in merged:
                env = dict(merged["Environment"]["Variables"])
                env.update(v["Variables"])
                merged[k] = {"Variables": env}
            else:
                merged[k] = v
        return self.value(merged)

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        """Every statement of a role: its inline policies and the AWS::IAM::RolePolicy resources
        attached to it (only those whose Condition holds)."""
        statements: list[dict[str, Any]] = []
        role = self.properties(role_logical_id)
        for policy in role.get("Policies", []):
            statements += _as_list(policy["PolicyDocument"]["Statement"])
        for lid, res in self.resources().items():
            if res["Type"] != "AWS::IAM::RolePolicy":
                continue
            role_ref = res["Properties"].get("RoleName")
            if role_ref == {"Ref": role_logical_id}:
                statements += _as_list(self.properties(lid)["PolicyDocument"]["Statement"])
        return statements


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _scalar(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return v


def statement_actions(statements: Iterable[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s.get("Effect", "Allow") == "Allow" for a in _as_list(s["Action"])}


# --------------------------------------------------------------------------- Terraform


def plugin_dir() -> str | None:
    """The offline provider mirror, found as tests/tools/infra-check.sh finds it."""
    explicit = os.environ.get("TF_PLUGIN_DIR")
    if explicit:
        return explicit
    home = os.path.expanduser("~")
    for d in ("/opt/tf-plugins", "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins", f"{home}/.terraform.d/plugins"):
        if os.path.isdir(os.path.join(d, "registry.terraform.io", "hashicorp", "aws")):
            return d
    return None


def terraform_env() -> dict[str, str]:
    env = dict(os.environ)
    if not os.path.exists(env.get("TF_CLI_CONFIG_FILE", os.path.expanduser("~/.terraformrc"))):
        env["TF_CLI_CONFIG_FILE"] = "/dev/null"
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    env.pop("TF_LOG", None)
    return env


class Terraform:
    """A scratch copy of infra/terraform (nothing is written into the tree), with the files the
    module reads beside it as in the tree (../statemachine, ../sam)."""

    def __init__(self, scratch: str) -> None:
        self.scratch = scratch
        self.tree = os.path.join(scratch, "terraform")
        shutil.copytree(TF_DIR, self.tree, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        for beside in ("statemachine", "sam"):
            shutil.copytree(os.path.join(INFRA, beside), os.path.join(scratch, beside))
        self._initialised: set[str] = set()

    def path(self, rel: str = ".") -> str:
        return os.path.normpath(os.path.join(self.tree, rel))

    def run(self, rel: str, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["terraform", *args],
            cwd=self.path(rel),
            env={**terraform_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"terraform {' '.join(args)} in {rel} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
        return proc

    def init(self, rel: str = ".") -> None:
        if rel in self._initialised:
            return
        args = ["init", "-backend=false", "-input=false", "-no-color"]
        mirror = plugin_dir()
        if mirror:
            args.append(f"-plugin-dir={mirror}")
        self.run(rel, *args)
        self._initialised.add(rel)

    def console(self, expression: str, rel: str = ".", variables: dict[str, Any] | None = None) -> Any:
        """Evaluates ``jsonencode(<expression>)`` in a module (no state: resource attributes are
        unknown). The console reads one line: object attributes must be separated by commas."""
        self.init(rel)
        expression = " ".join(line.strip() for line in expression.splitlines())
        args = ["console", "-no-color"]
        for k, v in (variables or {}).items():
            args += ["-var", f"{k}={_tfvar(v)}"]
        proc = subprocess.run(
            ["terraform", *args],
            cwd=self.path(rel),
            env=terraform_env(),
            input=f"jsonencode({expression})\n",
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = proc.stdout.strip()
        if proc.returncode != 0 or not out.startswith('"'):
            raise RuntimeError(f"terraform console could not evaluate {expression!r}:\n{out}\n{proc.stderr}")
        return json.loads(json.loads(out))


def _tfvar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def load_hcl(folder: str) -> dict[str, Any]:
    """Every ``*.tf`` of ``folder`` parsed by python-hcl2 and merged:
    ``{"resource": {type: {name: body}}, "variable": {name: body}, "locals": {...}, ...}``.
    String literals come back unquoted; expressions as ``${...}``."""
    import hcl2

    merged: dict[str, Any] = {"resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {}, "module": {}}
    for path in sorted(glob.glob(os.path.join(folder, "*.tf"))):
        with open(path) as f:
            doc = _unquote(hcl2.load(f))
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                merged["resource"].setdefault(rtype, {}).update(named)
        for block in doc.get("data", []):
            for rtype, named in block.items():
                merged["data"].setdefault(rtype, {}).update(named)
        for kind in ("variable", "output", "module"):
            for block in doc.get(kind, []):
                merged[kind].update(block)
        for block in doc.get("locals", []):
            merged["locals"].update(block)
    return merged


def _unquote(node: Any) -> Any:
    if isinstance(node, dict):
        return {_unquote(k): _unquote(v) for k, v in node.items() if k != "__is_block__"}
    if isinstance(node, list):
        return [_unquote(v) for v in node]
    if isinstance(node, str) and len(node) >= 2 and node[0] == '"' and node[-1] == '"' and '"' not in node[1:-1]:
        return node[1:-1]
    return node


def hcl_expr(value: Any) -> str | None:
    """``"${expr}"`` -> ``expr`` (None for a literal)."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return None


# --------------------------------------------------------------------------- emulator


class EmulatorProcess(_emulator_process.EmulatorProcess):
    """tests/emulator/server.py on a free loopback port (killed by ``stop``), with boto3 clients
    signed by the infrastructure tests' own key."""

    def __init__(self, log_path: str) -> None:
        super().__init__(log_path, cwd=ROOT)

    def client(self, service: str, region: str = REGION, access_key: str = "infra-test") -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"}),
        )

    def admin(self, method: str, path: str) -> Any:
        import urllib.request

        req = urllib.request.Request(self.url + "/vpcwarden-api" + path, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")


def provider_override(url: str) -> str:
    """A Terraform ``*_override.tf`` body pointing the aws provider of a root module at the emulator."""
    services = [
        "cloudwatch", "dynamodb", "ec2", "elbv2", "events", "iam", "kms", "lambda", "logs", "s3", "sns", "sqs", "sts",
    ]
    endpoints = "\n".join(f'    {s} = "{url}"' for s in services)
    return f"""provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "infra-test"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def dummy_zip(path: str) -> str:
    """A stand-in for cargo-lambda's bootstrap.zip (the real one needs a cross-compiled release build)."""
    import zipfile

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\necho 'placeholder for the cargo-lambda build'\n")
    return path


def scratch_dir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix)


@dataclass
class Scenario:
    """One set of deployment inputs, as SAM parameters and as Terraform variables."""

    name: str
    sam: dict[str, Any] = field(default_factory=dict)
    tf: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- the org-audit definition

ASL_FILE = os.path.join(INFRA, "statemachine", "org-audit.asl.json")
# The substitution variables of the definition, in SAM (DefinitionSubstitutions) and Terraform
# (templatefile) alike.
ASL_VARIABLES = ("DriftAuditorFunctionArn", "ReportBucket", "MaxConcurrency", "ToleratedFailurePercentage")


def render_asl(values: dict[str, Any], path: str = ASL_FILE) -> str:
    """The definition with ``${Name}`` replaced as CloudFormation's DefinitionSubstitutions does
    (plain text: a number is its decimal text). Every variable must be given, nothing else may be
    left: an unknown ``${...}`` raises (CloudFormation would leave it, Terraform would refuse it)."""
    if sorted(values) != sorted(ASL_VARIABLES):
        raise KeyError(f"the definition takes exactly {ASL_VARIABLES}, not {sorted(values)}")

    def repl(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise KeyError(f"unknown substitution ${{{m.group(1)}}} in {path}")
        return str(_scalar(values[m.group(1)]))

    with open(path) as f:
        return re.sub(r"\$\{([^}]*)\}", repl, f.read())


def render_asl_with_terraform(values: dict[str, Any], path: str = ASL_FILE) -> str:
    """The definition as Terraform's ``templatefile`` renders it (``terraform console`` in an empty
    scratch folder: no providers, nothing to initialise). Numbers are passed as HCL numbers, as
    the module's number variables are."""
    args = ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
    scratch = tempfile.mkdtemp(prefix="tf-templatefile-")
    try:
        proc = subprocess.run(
            ["terraform", "console", "-no-color"],
            cwd=scratch,
            env=terraform_env(),
            input=f"jsonencode(templatefile({json.dumps(path)}, {{{args}}}))\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = proc.stdout.strip()
    if proc.returncode != 0 or not out.startswith('"'):
        raise RuntimeError(f"terraform could not render {path}:\n{out}\n{proc.stderr}")
    return str(json.loads(json.loads(out)))


def create_tables(emu: EmulatorProcess, names: tuple[str, str] = ("vpcwarden-allowlist", "vpcwarden-ledger")) -> None:
    """The allowlist and the ledger as the functions expect them (keys `pk`, `sk`)."""
    ddb = emu.client("dynamodb")
    for name in names:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

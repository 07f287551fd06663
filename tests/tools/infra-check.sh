#!/usr/bin/env bash
# Static checks of the infrastructure (infra/sam, infra/terraform, samconfig.toml):
#   cfn-lint, sam validate --lint, terraform fmt -check, terraform validate (every module and
#   example), asl-validator on the org-audit state machine (infra/statemachine, rendered with sample
#   values as SAM and Terraform render it), and checkov on both flavours with zero failed checks
#   (skips are inline, with a reason).
# Needs no AWS account and no network beyond the package registries (PyPI, npm) on its first run.
# Tools: cfn-lint from ./.venv (tests/tools/venv.sh); SAM CLI and checkov each pin their own boto3,
# which conflicts with the test pins, so they get their own venvs (./.venv-sam, ./.venv-checkov)
# from tests/requirements-sam.txt and tests/requirements-checkov.txt. asl-validator (npm, pinned
# with its whole tree in tests/tools/node-tools/package-lock.json) goes to ./.node-tools by `npm ci`. terraform is used from PATH
# (skipped, with a message, when absent); an offline provider mirror is used when one is found.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

passed=0
failed=0
skipped=0
failures=()

step() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'ok: %s\n' "$*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); printf 'FAILED: %s\n' "$*"; }
skip() { skipped=$((skipped + 1)); printf 'SKIPPED: %s\n' "$*"; }
run() { # run NAME CMD... : records the result, never aborts the script
  local name="$1"
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}

# A venv built like tests/tools/venv.sh: reinstalled only when its requirements file changed.
tool_venv() {
  local venv="$1" req="$2" stamp want py="${PYTHON:-python3}"
  stamp="$venv/.requirements.sha256"
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
  fi
  # Keep the venv out of git status without touching the top-level .gitignore.
  [ -f "$venv/.gitignore" ] || echo '*' >"$venv/.gitignore"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
  fi
}

step "tools"
tests/tools/venv.sh # creates python3-venv if needed; cfn-lint is pinned in tests/requirements.txt
tool_venv "$root/.venv-sam" tests/requirements-sam.txt
tool_venv "$root/.venv-checkov" tests/requirements-checkov.txt
# npm tools: `npm ci` from the committed lock file, again only when that file changed.
node_tools() {
  local dir="$root/.node-tools" src="$root/tests/tools/node-tools" stamp want
  stamp="$dir/.lock.sha256"
  want="$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$dir/node_modules/.bin/asl-validator" ]; then
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}
if command -v npm >/dev/null; then
  node_tools
else
  echo "npm not found: asl-validator cannot run (install Node.js and npm; Debian: apt-get install nodejs npm)"
fi
cfn_lint="$root/.venv/bin/cfn-lint"
sam="$root/.venv-sam/bin/sam"
checkov="$root/.venv-checkov/bin/checkov"
"$cfn_lint" --version
"$sam" --version
echo "checkov $("$checkov" --version)"

# No AWS account is used: the linters only need a region name.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
export SAM_CLI_TELEMETRY=0

templates=(infra/sam/template.yaml infra/sam/member-role.yaml)

step "cfn-lint"
run "cfn-lint ${templates[*]}" "$cfn_lint" "${templates[@]}"

step "sam validate --lint"
for t in "${templates[@]}"; do
  # run from a scratch dir so that samconfig.toml's defaults do not replace -t
  run "sam validate --lint $t" bash -c 'cd "$(mktemp -d)" && "$1" validate --lint -t "$2"' _ "$sam" "$root/$t"
done
run "sam validate (samconfig.toml at the root)" "$sam" validate --lint

step "terraform"
if ! command -v terraform >/dev/null; then
  skip "terraform fmt/validate: terraform is not installed (the image has it at /usr/local/bin/terraform; install Terraform >= 1.5 to run these steps)"
else
  export CHECKPOINT_DISABLE=1 # no version check against checkpoint-api.hashicorp.com
  if [ ! -e "${TF_CLI_CONFIG_FILE:-$HOME/.terraformrc}" ]; then
    export TF_CLI_CONFIG_FILE=/dev/null # no CLI config: silences "Unable to open CLI configuration file"
  fi
  terraform version | sed -n 1p  # sed reads it all: `head` could SIGPIPE terraform under pipefail
  run "terraform fmt -check -recursive infra/terraform" terraform fmt -check -recursive -diff infra/terraform

  # An offline provider mirror (folder holding registry.terraform.io/hashicorp/aws), if any.
  plugin_dir="${TF_PLUGIN_DIR:-}"
  if [ -z "$plugin_dir" ]; then
    for d in /opt/tf-plugins /usr/share/terraform/plugins /usr/local/share/terraform/plugins "$HOME/.terraform.d/plugins"; do
      if [ -d "$d/registry.terraform.io/hashicorp/aws" ]; then plugin_dir="$d"; break; fi
    done
  fi
  if [ -z "$plugin_dir" ]; then
    found="$(find / -xdev -type d -path '*/registry.terraform.io/hashicorp/aws' -not -path '*/.terraform/*' 2>/dev/null | head -n1 || true)"
    [ -n "$found" ] && plugin_dir="${found%/registry.terraform.io/hashicorp/aws}"
  fi
  if [ -n "$plugin_dir" ]; then
    echo "provider mirror: $plugin_dir (terraform init -plugin-dir, offline)"
    init_args=(-backend=false -input=false -plugin-dir="$plugin_dir")
  else
    echo "no provider mirror found: terraform init downloads the providers from the registry"
    init_args=(-backend=false -input=false)
  fi

  # Validate a scratch copy so that no .terraform/ or lock file is left in the tree (with the files
  # the module reads beside it: ../statemachine, ../sam).
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  cp -r infra/terraform infra/statemachine infra/sam "$scratch/"
  rm -rf "$scratch"/terraform/.terraform "$scratch"/terraform/*/.terraform "$scratch"/terraform/*/*/.terraform
  dirs=(.)
  for d in infra/terraform/modules/*/ infra/terraform/examples/*/ infra/terraform/examples/modules/*/; do
    d="${d%/}"
    compgen -G "$d/*.tf" >/dev/null || continue # examples/modules holds modules, not a configuration
    dirs+=("${d#infra/terraform/}")
  done
  for dir in "${dirs[@]}"; do
    run "terraform validate infra/terraform/$dir" bash -c \
      'cd "$1" && terraform init "${@:2}" >init.log 2>&1 || { cat init.log; exit 1; }; terraform validate -no-color' \
      _ "$scratch/terraform/$dir" "${init_args[@]}"
  done
fi

step "asl-validator"
# The definition is a template: ${DriftAuditorFunctionArn} and ${ReportBucket} inside strings,
# ${MaxConcurrency} and ${ToleratedFailurePercentage} as bare numbers, so the file itself is not
# JSON. Render it with sample values the way SAM's DefinitionSubstitutions and Terraform's
# templatefile both do (tests/infra/test_parity.py proves the two renderings equal), then validate
# the result with the real validator. Any other ${...}, or text that is not JSON once rendered,
# fails too.
asl_validator="$root/.node-tools/node_modules/.bin/asl-validator"
asl_dir="$(mktemp -d)"
for numbers in "10 10" "1 0" "250 100"; do
  read -r concurrency tolerance <<<"$numbers"
  rendered="$asl_dir/org-audit-$concurrency-$tolerance.json"
  if ! python3 - infra/statemachine/org-audit.asl.json "$rendered" "$concurrency" "$tolerance" <<'EOF'
import json, re, sys
src, dst, concurrency, tolerance = sys.argv[1:]
values = {
    "DriftAuditorFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:vpcwarden-drift-auditor",
    "ReportBucket": "vpcwarden-reports-20260101000000000000000001",
    "MaxConcurrency": concurrency,
    "ToleratedFailurePercentage": tolerance,
}
text = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], open(src).read())
json.loads(text)  # valid JSON once rendered
open(dst, "w").write(text)
EOF
  then
    fail "render infra/statemachine/org-audit.asl.json (MaxConcurrency=$concurrency, ToleratedFailurePercentage=$tolerance)"
  elif [ ! -x "$asl_validator" ]; then
    fail "asl-validator is not installed (npm missing, or npm ci failed)"
  else
    run "asl-validator org-audit.asl.json (MaxConcurrency=$concurrency, ToleratedFailurePercentage=$tolerance)" "$asl_validator" --json-path "$rendered"
  fi
done
rm -rf "$asl_dir"

step "checkov"
# Every skip must be inline with a reason: `#checkov:skip=ID:reason` / Metadata.checkov.skip[].comment.
missing="$(grep -rnE 'checkov:skip=[A-Z0-9_]+ *$' infra || true)"
missing_sam="$(python3 - "${templates[@]}" <<'EOF'
import re, sys
for path in sys.argv[1:]:
    lines = open(path).read().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*- id: CKV", line) and not (i + 1 < len(lines) and re.match(r"\s*comment: \S", lines[i + 1])):
            print(f"{path}:{i + 1}: {line.strip()}")
EOF
)"
if [ -n "$missing$missing_sam" ]; then
  printf '%s\n' "$missing" "$missing_sam"
  fail "checkov skips without a reason"
else
  ok "every checkov skip carries a reason"
fi
checkov_args=(--skip-download --download-external-modules false --compact --quiet)
run "checkov cloudformation infra/sam" "$checkov" -d infra/sam --framework cloudformation "${checkov_args[@]}"
run "checkov terraform infra/terraform" "$checkov" -d infra/terraform --framework terraform "${checkov_args[@]}"

echo
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "infra-check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

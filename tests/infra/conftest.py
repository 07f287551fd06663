"""Fixtures of the infrastructure tests (tests/infra): see infra_support.py."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import infra_support as support  # noqa: E402


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    tf = shutil.which("terraform")
    return [f"terraform: {tf or 'absent'}; provider mirror: {support.plugin_dir() or 'none (registry)'}"]


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    tf = shutil.which("terraform")
    if not tf:
        pytest.skip("terraform is not installed (install Terraform >= 1.5; the image has it at /usr/local/bin/terraform)")
    return tf


@pytest.fixture(scope="session")
def sam_template() -> dict:
    return support.load_cfn(support.SAM_TEMPLATE)


@pytest.fixture(scope="session")
def member_template() -> dict:
    return support.load_cfn(support.SAM_MEMBER_TEMPLATE)


@pytest.fixture(scope="session")
def tf_hcl() -> dict:
    return support.load_hcl(support.TF_DIR)


@pytest.fixture(scope="session")
def tf_scratch(terraform_bin: str, tmp_path_factory: pytest.TempPathFactory) -> support.Terraform:
    """infra/terraform copied to a scratch folder; `terraform init` runs offline on first use."""
    return support.Terraform(str(tmp_path_factory.mktemp("tf")))

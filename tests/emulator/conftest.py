"""Fixtures: one emulator (tests/emulator/server.py) per session, reset per test."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator_process import EmulatorProcess

DEFAULT_ACCOUNT = "123456789012"


class Emulator:
    """The session's emulator process, with its admin API and boto3 clients."""

    def __init__(self, process: EmulatorProcess) -> None:
        self.process = process
        self.url = process.url
        self.proc = process.proc
        self._creds: dict[str, dict[str, str]] = {}

    # -- admin API --------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            raw = err.read()
            status = err.code
        try:
            return status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return status, raw.decode()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = self.call(method, "/vpcwarden-api" + path, body)
        assert status == 200, (status, payload)
        return payload

    def add_fault(self, **rule: Any) -> str:
        return self.admin("POST", "/faults", rule)["id"]

    def requests(self, **filters: str) -> list[dict[str, Any]]:
        qs = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.admin("GET", "/requests" + (f"?{qs}" if qs else ""))

    def reset(self) -> None:
        status, _ = self.call("POST", "/moto-api/reset")
        assert status == 200
        self.admin("POST", "/reset")
        self._creds.clear()

    # -- boto3 ------------------------------------------------------------
    def client(
        self,
        service: str,
        account: str | None = None,
        region: str = "us-east-1",
        retries: int = 0,
        **kwargs: Any,
    ) -> Any:
        """A boto3 client for ``account`` (STS AssumeRole into it unless default)."""
        creds = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "dummy"}
        if account and account != DEFAULT_ACCOUNT:
            creds = self._assume(account)
        config = Config(retries={"total_max_attempts": retries + 1, "mode": "standard"})
        if "config" in kwargs:
            config = config.merge(kwargs.pop("config"))
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            config=config,
            **creds,
            **kwargs,
        )

    def _assume(self, account: str) -> dict[str, str]:
        if account not in self._creds:
            sts = self.client("sts")
            c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/x", RoleSessionName="emulator-test")["Credentials"]
            self._creds[account] = {
                "aws_access_key_id": c["AccessKeyId"],
                "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"],
            }
        return self._creds[account]


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory):
    state_dir = tmp_path_factory.mktemp("emulator-state")
    process = EmulatorProcess(str(state_dir / "server.log"), state_dir=str(state_dir))
    emu = Emulator(process)
    emu.state_dir = state_dir  # type: ignore[attr-defined]
    yield emu
    process.stop()


@pytest.fixture
def emu(emulator_server: Emulator) -> Emulator:
    emulator_server.reset()
    return emulator_server

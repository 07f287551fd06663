"""server.py: loopback only, readiness line, state file."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com", "::"])
def test_refuses_non_loopback_host(host):
    proc = subprocess.run(
        [sys.executable, SERVER, "--host", host, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "loopback" in proc.stderr


def test_ready_line_and_state_file(emulator_server):
    # The session emulator was started with --port 0 --state-dir: it announced
    # the port it bound and wrote the same in emulator.json.
    state = json.loads((emulator_server.state_dir / "emulator.json").read_text())
    assert state["url"] == emulator_server.url
    assert state["pid"] == emulator_server.proc.pid
    assert state["host"] == "127.0.0.1"


def test_health_and_moto_api_passthrough(emu):
    assert emu.admin("GET", "/health") == {"status": "ok"}
    status, body = emu.call("POST", "/moto-api/reset")
    assert status == 200 and body == {"status": "ok"}
    status, _ = emu.call("GET", "/vpcwarden-api/nope")
    assert status == 404


def test_gc_collects_and_says_how_long_it_took(emu):
    answer = emu.admin("POST", "/gc")
    assert set(answer) == {"collected", "ms"}
    assert answer["collected"] >= 0 and answer["ms"] >= 0
    status, _ = emu.call("GET", "/vpcwarden-api/gc")
    assert status == 405

"""Start and stop tests/emulator/server.py: the one way the Python test suites run the emulator.

``EmulatorProcess`` starts the server on a free loopback port (``--port 0``), reads the
``ready <port>`` line it prints once it accepts connections, and ``stop()`` ends it
(SIGTERM, then SIGKILL after 10 s). The server's stderr goes to ``log_path``. The emulator
suite (tests/emulator/conftest.py) and the infrastructure suite (tests/infra/infra_support.py)
both build on it; neither starts the server any other way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")
HOST = "127.0.0.1"


class EmulatorProcess:
    """tests/emulator/server.py on a free loopback port, until ``stop()``."""

    def __init__(self, log_path: str, state_dir: str | None = None, cwd: str | None = None) -> None:
        self.log_path = str(log_path)
        self._log = open(self.log_path, "w")
        args = [sys.executable, SERVER, "--host", HOST, "--port", "0"]
        if state_dir is not None:
            args += ["--state-dir", str(state_dir)]
        # No test uses AMIs: not loading moto's default AMI catalogue for every new EC2
        # account/region backend halves the run time. Unbuffered, so the log is complete
        # up to the moment something goes wrong.
        env = dict(os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env, cwd=cwd)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}; see {self.log_path}")
        self.port = int(line.split()[1])
        self.url = f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

"""Start and stop the ``bootstrap`` processes of Lambda execution environments.

* Every process is started from one long-lived spawner thread, in a session (and so a
  process group) of its own, with ``PR_SET_PDEATHSIG`` = SIGKILL.  Linux sends that signal
  when the *thread* that forked the child ends, which is why forking happens on a thread that
  lives as long as the emulator and not on a request thread: if the emulator dies without
  cleaning up (SIGKILL), the kernel still kills every bootstrap it started.
* :func:`kill_group` kills the whole process group, so helpers a bootstrap started go too.
* A :class:`LogPump` copies the process's stdout and stderr, line by line, into the
  function's log file and to whoever listens (the current invocation's log).
* :func:`unpack_code` unpacks a deployment package once per code digest, keeping each
  file's executable bit (``zipfile`` drops it unless told).
"""

from __future__ import annotations

import ctypes
import fcntl
import io
import os
import queue
import shutil
import signal
import struct
import subprocess
import termios
import threading
import time
import zipfile
from typing import IO, Any, Callable

_PR_SET_PDEATHSIG = 1
try:  # loaded here, not in the child: between fork and exec only the bare call is safe
    _PRCTL: Any = ctypes.CDLL(None).prctl
except (AttributeError, OSError):  # not Linux
    _PRCTL = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Spawner:
    """A daemon thread that starts processes for the rest of the emulator."""

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[dict[str, Any], queue.Queue[Any]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="lambda-spawner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            kwargs, reply = self._requests.get()
            try:
                reply.put(
                    subprocess.Popen(
                        **kwargs,
                        start_new_session=True,
                        preexec_fn=_die_with_parent,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        close_fds=True,
                    )
                )
            except Exception as exc:  # noqa: BLE001 - handed back to the caller
                reply.put(exc)

    def spawn(self, **kwargs: Any) -> subprocess.Popen[bytes]:
        reply: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._requests.put((kwargs, reply))
        result = reply.get()
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group the process leads (it was started in its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


class LogPump:
    """Copies a process's output into a log file, one line at a time, and to a listener."""

    def __init__(self, stream: IO[bytes], sink: Callable[[bytes], None], on_line: Callable[[bytes], None]) -> None:
        self._stream = stream
        self._sink = sink
        self._on_line = on_line
        self._copying = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lambda-log-pump", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # Raw reads, not a buffered readline: `drain` relies on nothing waiting in a buffer of
        # ours once the pipe is empty and no chunk is being copied.
        fd = self._stream.fileno()
        partial = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._copying.set()
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                self._sink(line + b"\n")
                self._on_line(line + b"\n")
            self._copying.clear()
        if partial:
            self._sink(partial)
            self._on_line(partial)
        self._stream.close()

    def drain(self, timeout: float = 2.0) -> None:
        """Waits until what the process has written so far is copied: Lambda logs a function's
        own lines before the END line of its invocation, however busy the machine is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pending = struct.unpack("i", fcntl.ioctl(self._stream.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
            except (OSError, ValueError):
                return  # the pipe is closed: everything was copied
            if pending == 0 and not self._copying.is_set():
                return
            time.sleep(0.001)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class LogFile:
    """An append-only log shared by a function's environments (one write per line)."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by close()

    def write(self, line: bytes) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.write(line if line.endswith(b"\n") else line + b"\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


_unpack_lock = threading.Lock()


def unpack_code(zip_bytes: bytes, digest: str, root: str) -> str:
    """Unpacks a deployment package into ``root/<digest>`` (once) and returns that directory."""
    target = os.path.join(root, digest.replace("/", "_") or "empty")
    with _unpack_lock:
        if os.path.isdir(target):
            return target
        staging = target + ".tmp"
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            for info in archive.infolist():
                path = archive.extract(info, staging)
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(path, mode)
        os.replace(staging, target)
        return target

"""The Lambda Runtime API (version 2018-06-01) served to one execution environment.

Each execution environment gets its own HTTP server on 127.0.0.1 (``AWS_LAMBDA_RUNTIME_API``),
as Lambda gives each sandbox its own endpoint.  The server only translates HTTP into calls on
the environment (:class:`~.lambda_environment.ExecutionEnvironment`), which owns the state:

* ``GET  /2018-06-01/runtime/invocation/next`` long-polls for the next event and answers it
  with the ``Lambda-Runtime-*`` headers;
* ``POST /2018-06-01/runtime/invocation/{id}/response`` and ``.../{id}/error`` end an
  invocation (202 ``{"status":"OK"}``; 400 ``InvalidRequestID`` for an id that is not the
  current one; 413 for a response over 6 MB);
* ``POST /2018-06-01/runtime/init/error`` reports a failed initialisation.

Answers and error bodies follow the runtime API's OpenAPI description and AWS's reference
implementation (aws-lambda-runtime-interface-emulator).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

PREFIX = "/2018-06-01/runtime"
# Lambda's limit on a synchronous response (and on the request payload).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
_INVOCATION = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")


class RuntimeBackend(Protocol):
    """What the Runtime API needs from an execution environment."""

    def next_invocation(self) -> Any | None: ...

    def post_response(self, request_id: str, body: bytes) -> bool: ...

    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> bool: ...

    def post_init_error(self, body: bytes, error_type: str | None) -> None: ...


class _Handler(BaseHTTPRequestHandler):
    server: "RuntimeApiServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the runtime's own output is what belongs in the function's log

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the runtime is gone (killed, timed out): nobody to answer

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.split("?", 1)[0] != PREFIX + "/invocation/next":
            self._send(404, {"errorType": "NotFound", "errorMessage": "Not Found"})
            return
        invocation = self.server.backend.next_invocation()
        if invocation is None:  # the environment is shutting down
            self.close_connection = True
            self._send(500, {"errorType": "Runtime.Shutdown", "errorMessage": "Environment is shutting down"})
            return
        self._send(200, invocation.payload, invocation.runtime_headers())

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        path = self.path.split("?", 1)[0]
        body = self._body()
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if path == PREFIX + "/init/error":
            self.server.backend.post_init_error(body, error_type)
            self._send(202, {"status": "OK"})
            return
        match = _INVOCATION.match(path)
        if match is None:
            self._send(404, {"errorType": "NotFound", "errorMessage": "Not Found"})
            return
        request_id, kind = match.groups()
        if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
            self._too_large(request_id)
            return
        if kind == "response":
            accepted = self.server.backend.post_response(request_id, body)
        else:
            accepted = self.server.backend.post_error(request_id, body, error_type)
        if not accepted:
            self._send(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
            return
        self._send(202, {"status": "OK"})

    def _too_large(self, request_id: str) -> None:
        message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
        error = {"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}
        self.server.backend.post_error(request_id, json.dumps(error).encode(), error["errorType"])
        self._send(
            413,
            {"errorMessage": f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).", "errorType": "RequestEntityTooLarge"},
        )


class RuntimeApiServer(ThreadingHTTPServer):
    """One environment's Runtime API endpoint, served from a daemon thread."""

    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a runtime that dies mid-request is the environment's business, not a server error

    def __init__(self, backend: RuntimeBackend) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.backend = backend
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self._started = False

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        self._started = True
        self._thread.start()

    def stop(self) -> None:
        if self._started:  # shutdown() waits for serve_forever, which never ran otherwise
            self.shutdown()
        self.server_close()

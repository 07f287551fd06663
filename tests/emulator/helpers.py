"""Small helpers shared by the emulator tests."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError


def raw_call(
    url: str,
    service: str,
    body: bytes | str,
    region: str = "us-east-1",
    content_type: str = "application/x-www-form-urlencoded; charset=utf-8",
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = "/",
) -> tuple[int, dict[str, str], str]:
    """An unsigned-but-SigV4-shaped request (moto does not verify signatures)."""
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url + path, data=body if method != "GET" else None, method=method)
    req.add_header("Content-Type", content_type)
    req.add_header(
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
    )
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def query_body(action: str, version: str, **params: str) -> str:
    return urlencode({"Action": action, "Version": version, **params})


def client_error(call, *args, **kwargs) -> ClientError:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value


def error_code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


def http_status(err_or_resp) -> int:  # type: ignore[no-untyped-def]
    resp = err_or_resp.response if isinstance(err_or_resp, ClientError) else err_or_resp
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def xml_without_namespaces(body: bytes | str):  # type: ignore[no-untyped-def]
    """Parse XML and drop namespaces, so paths read like the API reference."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    for el in root.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root

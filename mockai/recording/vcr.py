"""Read vcrpy / pytest-recording YAML cassettes that hold OpenAI traffic, as mockai interactions.

vcrpy's format: `version: 1`, `interactions: [{request: {method, uri, body, headers}, response:
{status: {code, message}, headers, body: {string}}}]`, header values as lists, bodies as text or
`!!binary` bytes (still compressed when recorded below httpx, hence the decoding here). A streamed
SSE answer is one string; it is split into events on blank lines (with no timing: t = 0).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from mockai.errors import UsageError
from mockai.recording.interaction import Interaction, split_events

HOP_BY_HOP = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive"}
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads the `!!python/unicode` strings of cassettes written under Python 2."""


def _text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_Loader.add_constructor("tag:yaml.org,2002:python/unicode", _text)
_Loader.add_constructor("tag:yaml.org,2002:python/str", _text)


def read_vcr(data: bytes, name: str = "cassette") -> list[Interaction]:
    """The interactions of a vcrpy YAML cassette."""
    try:
        doc = yaml.load(data, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise UsageError(
            f"{name} is neither a mockai cassette (JSON lines) nor a vcrpy YAML cassette: {exc}"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise UsageError(
            f"{name} is not a vcrpy cassette: expected a mapping with `version: 1` and `interactions: [...]`."
        )
    if doc.get("version", 1) != 1:
        raise UsageError(
            f"{name} is a vcrpy cassette of version {doc.get('version')!r}; mockai imports version 1. Run "
            "vcrpy's migration first."
        )
    return [_interaction(item, name, n) for n, item in enumerate(doc["interactions"], start=1)]


def _interaction(item: Mapping[str, Any], name: str, n: int) -> Interaction:
    try:
        request, response = item["request"], item["response"]
        url = urlsplit(request["uri"])
        status = response["status"]["code"] if "status" in response else response["status_code"]
        raw_body = response["body"]["string"] if "body" in response else response.get("content", b"")
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{name}: interaction {n} lacks {exc}; is this a vcrpy cassette?") from None
    response_headers = _headers(response.get("headers") or {})
    body = _decompress(_bytes(raw_body), dict(response_headers).get("content-encoding", ""))
    kept = tuple((k, v) for k, v in response_headers if k not in HOP_BY_HOP and k not in ("date", "server"))
    is_stream = dict(kept).get("content-type", "").startswith("text/event-stream")
    return Interaction(
        method=str(request.get("method", "GET")).upper(),
        path=url.path or "/",
        query=url.query,
        request_headers=_headers(request.get("headers") or {}),
        request_body=_bytes(request.get("body")),
        status=int(status),
        response_headers=kept,
        body=b"" if is_stream else body,
        chunks=tuple((0.0, event) for event in split_events(body)) if is_stream else None,
    )


def _headers(headers: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            out.append((str(name).lower(), str(value)))
    return tuple(out)


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, Mapping):  # some vcrpy versions nest the request body too
        body = body.get("string", b"")
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def _decompress(body: bytes, encoding: str) -> bytes:
    """vcrpy keeps compressed bodies unless decode_compressed_response was on; httpx-level ones are already
    decoded."""
    try:
        if "gzip" in encoding:
            return gzip.decompress(body)
        if "deflate" in encoding:
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        pass
    return body

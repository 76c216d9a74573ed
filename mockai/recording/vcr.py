"""Read vcrpy / pytest-recording YAML cassettes that hold OpenAI traffic, as mockai interactions.

vcrpy's format: `version: 1`, `interactions: [{request: {method, uri, body, headers}, response:
{status: {code, message}, headers, body: {string}}}]`, header values as lists, bodies as text or
`!!binary` bytes (still compressed when recorded below httpx, hence the decoding here). A streamed
SSE answer is one string; it is split into events on blank lines (with no timing: t = 0).

Variants read too: pydantic-ai's `parsed_body` (the JSON body as YAML data); aiohttp's recordings, whose
header names are tagged `!!python/object/apply:multidict._multidict.istr` (read as the plain strings they
hold: no Python object is ever constructed); paths recorded percent-encoded (`ft%3Agpt-4o...`).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

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


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    """A `!!python/object...` value read as data: a wrapped string (aiohttp's istr) as that string, anything
    else as the list or mapping it is written as. Nothing is imported or constructed."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        items = loader.construct_sequence(node, deep=True)
        return items[0] if len(items) == 1 and isinstance(items[0], str) else items
    if isinstance(node, yaml.MappingNode):
        mapping = loader.construct_mapping(node, deep=True)
        args = mapping.get("args")
        return args[0] if isinstance(args, list) and len(args) == 1 and isinstance(args[0], str) else mapping
    return None


_Loader.add_constructor("tag:yaml.org,2002:python/unicode", _text)
_Loader.add_constructor("tag:yaml.org,2002:python/str", _text)


def _tuple(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return _plain(loader, "", node)


_Loader.add_constructor("tag:yaml.org,2002:python/tuple", _tuple)
for _prefix in ("object/apply:", "object/new:", "object:"):
    _Loader.add_multi_constructor(f"tag:yaml.org,2002:python/{_prefix}", _plain)


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
        status = response["status"]["code"] if isinstance(response.get("status"), Mapping) else None
        status = status or response.get("status_code") or response["status"]
        raw_body = _body(response)
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{name}: interaction {n} lacks {exc}; is this a vcrpy cassette?") from None
    response_headers = _headers(response.get("headers") or {})
    body = _decompress(_bytes(raw_body), dict(response_headers).get("content-encoding", ""))
    kept = tuple((k, v) for k, v in response_headers if k not in HOP_BY_HOP and k not in ("date", "server"))
    is_stream = dict(kept).get("content-type", "").startswith("text/event-stream")
    return Interaction(
        method=str(request.get("method", "GET")).upper(),
        path=unquote(url.path) or "/",
        query=url.query,
        request_headers=_headers(request.get("headers") or {}),
        request_body=_body(request),
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


def _body(part: Mapping[str, Any]) -> bytes:
    """A request's or response's body: `body` (text, bytes, or `{string: ...}`), pydantic-ai's `parsed_body`
    (JSON as data), or `content`."""
    if part.get("parsed_body") is not None:
        return json.dumps(part["parsed_body"]).encode("utf-8")
    if "body" in part:
        return _bytes(part["body"])
    return _bytes(part.get("content"))


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
        if "gzip" in encoding or body[:2] == b"\x1f\x8b":  # the gzip magic: compressed, header or not
            return gzip.decompress(body)
        if "deflate" in encoding:
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        pass
    return body

"""What makes two requests "the same" for replay: a normal form, its hash, and a readable difference.

The normal form is method, path, query (secret parameters left out) and the body: JSON parsed (so key
order and whitespace do not matter) without the ignored fields; multipart uploads as their fields, files
by name, type and hash (the boundary is random per request); anything else by its text or hash.
Headers never take part: they carry keys, SDK versions and platform details, not the question.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockai.secrets import SECRET_QUERY

DEFAULT_IGNORE: tuple[str, ...] = ("user",)
"""Body fields left out of matching by default: `user` is an end-user id that changes per run, not the
question."""
ABSENT = object()
_KEY_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def multipart_fields(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The fields of a multipart/form-data body; files become {filename, content_type, size, sha256}."""
    boundary = _param(content_type, "boundary")
    if not boundary:
        return None
    fields: dict[str, Any] = {}
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        value = value.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, rest = line.partition(":")
            headers[name.strip().lower()] = rest.strip()
        disposition = headers.get("content-disposition", "")
        name = _param(disposition, "name") or ""
        filename = _param(disposition, "filename")
        item: Any = (
            value.decode("utf-8", "replace")
            if filename is None
            else {
                "filename": filename,
                "content_type": headers.get("content-type", ""),
                "size": len(value),
                "sha256": hashlib.sha256(value).hexdigest()[:16],
            }
        )
        if name in fields:
            prev = fields[name]
            fields[name] = [*prev, item] if isinstance(prev, list) else [prev, item]
        else:
            fields[name] = item
    return fields


def _param(header: str, key: str) -> str | None:
    for piece in header.split(";")[1:]:
        k, sep, v = piece.strip().partition("=")
        if sep and k.strip().lower() == key:
            return v.strip().strip('"')
    return None


def parse_body(body: bytes, content_type: str) -> Any:
    """The body as the journal and matching see it: parsed JSON, multipart fields, text, or a hash."""
    if not body:
        return None
    ctype = content_type.lower()
    if ctype.startswith("multipart/form-data"):
        fields = multipart_fields(body, content_type)
        if fields is not None:
            return {"multipart": fields}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"sha256": hashlib.sha256(body).hexdigest()}
    if "json" in ctype or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return {"text": text}


def normal_form(
    method: str,
    path: str,
    query: str,
    body: Any,
    ignore: Iterable[str] = DEFAULT_IGNORE,
    drop: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The request as matching sees it; `body` is already parsed (see `parse_body`)."""
    pairs = (
        sorted([k, v] for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in SECRET_QUERY)
        if query
        else []
    )
    if drop:
        body = _drop_keys(body, drop)
    for dotted in ignore:
        body = _without(body, dotted.split("."))
    return {"method": method.upper(), "path": path, "query": pairs, "body": body}


def key(normal: Mapping[str, Any]) -> bytes:
    """A 16-byte hash of a normal form: the cassette index key (in memory only, never written down)."""
    try:
        canonical = orjson.dumps(normal, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson refuses (a lone surrogate, an int past 64 bits): the stdlib spells it
        canonical = _KEY_ENCODER.encode(normal).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(canonical, digest_size=16).digest()


def _without(obj: Any, parts: list[str]) -> Any:
    if not parts or not isinstance(obj, dict):
        return obj
    if isinstance(obj.get("multipart"), dict) and len(obj) == 1:
        return {"multipart": _without(obj["multipart"], parts)}
    head, rest = parts[0], parts[1:]
    if head not in obj:
        return obj
    if not rest:
        return {k: v for k, v in obj.items() if k != head}
    return {**obj, head: _without(obj[head], rest)}


def _drop_keys(obj: Any, names: frozenset[str]) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_keys(v, names) for k, v in obj.items() if k not in names}
    if isinstance(obj, list):
        return [_drop_keys(v, names) for v in obj]
    return obj


def differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two normal forms differ: (dotted path, value in a, value in b), ABSENT for a missing key."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in [*a, *(k for k in b if k not in a)]:
            out += differences(a.get(k, ABSENT), b.get(k, ABSENT), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            out += differences(a[i] if i < len(a) else ABSENT, b[i] if i < len(b) else ABSENT, f"{path}[{i}]")
        return out
    return [] if a == b and type(a) is type(b) else [(path, a, b)]


def show(value: Any, limit: int = 60) -> str:
    """A value for an error message: repr, shortened."""
    text = "(absent)" if value is ABSENT else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(diffs: list[tuple[str, Any, Any]], most: int = 3) -> str:
    shown = "; ".join(f"{p}: {show(a)} != {show(b)}" for p, a, b in diffs[:most])
    return shown + (f"; and {len(diffs) - most} more" if len(diffs) > most else "")

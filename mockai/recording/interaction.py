"""One recorded interaction: its bytes on the wire, and its readable JSON form in a cassette line.

A body is stored as parsed JSON when a known serialisation (`style`) gives back its exact bytes, as
text when it is other UTF-8, and as base64 otherwise (multipart uploads too, with their content type),
so replay sends the recorded bytes unchanged while the cassette stays readable and diffable. A stream
(`text/event-stream`) is stored as its SSE events, each with `t`, seconds since the response headers.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockai.recording.scrub import Scrubber

Headers = tuple[tuple[str, str], ...]
LINE_PREFIX = '{"request": '
"""Every line starts so: loading parses only the request part and leaves the response for replay."""

JSON_STYLES: dict[str, dict[str, Any]] = {
    "indent2": {"indent": 2},
    "compact": {"separators": (",", ":")},
    "spaced": {},
}
CHUNK_STYLE = "compact"
SSE_EVENT = re.compile(r"(?:event: ([^\n]*)\n)?data: (.*)\n\n", re.DOTALL)


@dataclass(frozen=True)
class Interaction:
    """A request and its answer as bytes: what the recorder captured and what replay sends."""

    method: str
    path: str
    query: str
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    body: bytes = b""
    chunks: tuple[tuple[float, bytes], ...] | None = None
    """SSE events with their time since the response headers; None for a plain body."""
    elapsed: float = 0.0
    """Seconds from sending the request to the response headers."""

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.request_headers if k.lower() == "content-type"), "")


def dump_json(obj: Any, style: str) -> str:
    """`obj` serialised in a named style: indent2|compact|spaced, optionally +ascii and +nl."""
    base, *flags = style.split("+")
    text = json.dumps(obj, ensure_ascii="ascii" in flags, **JSON_STYLES[base])
    return text + "\n" if "nl" in flags else text


def find_style(obj: Any, text: str, first: str = "indent2") -> str | None:
    """The style that reproduces `text` exactly from `obj`, if any."""
    bases = [first, *(b for b in JSON_STYLES if b != first)]
    body, nl = (text[:-1], "+nl") if text.endswith("\n") else (text, "")
    for base in bases:
        for ascii_flag in ("", "+ascii"):
            if dump_json(obj, base + ascii_flag) == body:
                return base + ascii_flag + nl
    return None


def encode_body(data: bytes, content_type: str, scrub: Scrubber) -> dict[str, Any]:
    if not data:
        return {"text": ""}
    if content_type.lower().startswith("multipart/"):
        return {"base64": base64.b64encode(data).decode("ascii"), "content_type": content_type}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii"), "content_type": content_type}
    if text.lstrip()[:1] in ("{", "["):
        try:
            obj = json.loads(text)
        except ValueError:
            return {"text": text}
        clean, changed = scrub.json(obj)
        style = find_style(obj, text)
        if style is not None or changed:
            return {"json": clean, "style": style or "indent2"}
    return {"text": text}


def decode_body(stored: Mapping[str, Any]) -> bytes:
    if "json" in stored:
        return dump_json(stored["json"], stored.get("style", "indent2")).encode("utf-8")
    if "base64" in stored:
        return base64.b64decode(stored["base64"])
    return str(stored.get("text", "")).encode("utf-8")


def encode_chunk(t: float, data: bytes, scrub: Scrubber) -> dict[str, Any]:
    out: dict[str, Any] = {"t": round(t, 4)}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        out["base64"] = base64.b64encode(data).decode("ascii")
        return out
    m = SSE_EVENT.fullmatch(text)
    if m and m.group(2)[:1] in ("{", "["):
        try:
            obj = json.loads(m.group(2))
        except ValueError:
            obj = None
        style = find_style(obj, m.group(2), CHUNK_STYLE) if obj is not None else None
        if style is not None and "+nl" not in style:
            if m.group(1) is not None:
                out["event"] = m.group(1)
            out["data"] = scrub.json(obj)[0]
            if style != CHUNK_STYLE:
                out["style"] = style
            return out
    out["text"] = text
    return out


def decode_chunk(stored: Mapping[str, Any]) -> bytes:
    if "data" in stored:
        event = f"event: {stored['event']}\n" if "event" in stored else ""
        return f"{event}data: {dump_json(stored['data'], stored.get('style', CHUNK_STYLE))}\n\n".encode()
    if "base64" in stored:
        return base64.b64decode(stored["base64"])
    return str(stored.get("text", "")).encode("utf-8")


def headers_json(headers: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Headers as a JSON object; a repeated header becomes a list of its values."""
    out: dict[str, str | list[str]] = {}
    for name, value in headers:
        name = name.lower()
        if name not in out:
            out[name] = value
        else:
            prev = out[name]
            out[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
    return out


def headers_from_json(stored: Mapping[str, Any]) -> Headers:
    return tuple((k, v) for k, vs in stored.items() for v in (vs if isinstance(vs, list) else [vs]))


def to_line(it: Interaction, scrub: Scrubber, recorded_at: str | None = None) -> str:
    """The cassette line for an interaction, secrets scrubbed, ending in a newline."""
    request: dict[str, Any] = {"method": it.method, "path": it.path}
    if it.query:
        request["query"] = scrub.query(it.query)
    request["headers"] = headers_json(scrub.request_headers(it.request_headers))
    request["body"] = encode_body(it.request_body, it.content_type, scrub)
    response: dict[str, Any] = {
        "status": it.status,
        "headers": headers_json(scrub.response_headers(it.response_headers)),
    }
    response["elapsed"] = round(it.elapsed, 4)
    if it.chunks is None:
        ctype = next((v for k, v in it.response_headers if k.lower() == "content-type"), "")
        response["body"] = encode_body(it.body, ctype, scrub)
    else:
        response["chunks"] = [encode_chunk(t, data, scrub) for t, data in it.chunks]
    stamp = recorded_at or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = json.dumps({"request": request, "response": response, "recorded_at": stamp}, ensure_ascii=False)
    assert line.startswith(LINE_PREFIX)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a body (JSON allows `"\ud800"`): kept as that escape
        line = line.encode("utf-8", "backslashreplace").decode("utf-8")
    secrets = scrub.secrets(it.request_headers) + scrub.values(
        _json_or_none(it.request_body) if scrub.fields else None, it.query
    )
    return scrub.text(line, sorted(set(secrets), key=len, reverse=True)) + "\n"


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data) if data.lstrip()[:1] in (b"{", b"[") else None
    except ValueError:
        return None


def from_json(obj: Mapping[str, Any]) -> Interaction:
    """The interaction a parsed cassette line describes."""
    req, resp = obj["request"], obj["response"]
    chunks = resp.get("chunks")
    return Interaction(
        method=req["method"],
        path=req["path"],
        query=req.get("query", ""),
        request_headers=headers_from_json(req.get("headers", {})),
        request_body=decode_body(req.get("body", {})),
        status=int(resp["status"]),
        response_headers=headers_from_json(resp.get("headers", {})),
        body=decode_body(resp.get("body", {})) if chunks is None else b"",
        chunks=None if chunks is None else tuple((float(c.get("t", 0.0)), decode_chunk(c)) for c in chunks),
        elapsed=float(resp.get("elapsed", 0.0)),
    )


class SSESplitter:
    """Cuts a byte stream into SSE events (each ending in a blank line), whatever the network chunking."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer += data
        while True:
            cut = _event_end(self._buffer)
            if cut < 0:
                return
            event, self._buffer = self._buffer[:cut], self._buffer[cut:]
            yield event

    def flush(self) -> Iterator[bytes]:
        if self._buffer:
            rest, self._buffer = self._buffer, b""
            yield rest


def _event_end(buffer: bytes) -> int:
    ends = [i + len(sep) for sep in (b"\n\n", b"\r\n\r\n", b"\r\r") if (i := buffer.find(sep)) >= 0]
    return min(ends) if ends else -1


def split_events(data: bytes) -> list[bytes]:
    splitter = SSESplitter()
    return [*splitter.feed(data), *splitter.flush()]

"""Bytes on the wire: JSON bodies, OpenAI's response headers, and SSE streams with scripted faults."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import Receive, Send

from mockai.reply import StreamPlan

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"
CUT_MESSAGE = "ASGI callable returned without completing response."


def json_bytes(obj: Any) -> bytes:
    """A body as the real API writes it: pretty-printed with 2-space indents.

    The bytes of `json.dumps(obj, indent=2, ensure_ascii=False)`, built several times faster: with an
    indent the stdlib drops its C encoder for a generator per nesting level, which made encoding the
    largest cost of a chat answer and nearly all of an embedding's. Anything unusual (an unknown type, a
    cycle) goes to json.dumps itself, so its errors are unchanged."""
    try:
        text = _pretty(obj, "\n")
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(obj, indent=2, ensure_ascii=False)
    # backslashreplace: a lone surrogate from the request (echoed in an error) becomes a valid \udXXX escape.
    return text.encode("utf-8", "backslashreplace")


_encode_str = json.encoder.encode_basestring  # the C function json.dumps(ensure_ascii=False) uses
_float_repr = float.__repr__
_int_repr = int.__repr__
_INF = float("inf")


def _float(o: float) -> str:
    """json's float text: repr, and NaN / Infinity / -Infinity (allow_nan is json.dumps' default)."""
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return _float_repr(o)


def _key(k: Any) -> str:
    """A dict key as json turns it into a string, in json's order of checks; other types are a TypeError."""
    if isinstance(k, str):
        return k
    if isinstance(k, float):
        return _float(k)
    if k is True or k is False or k is None:
        return "true" if k else ("false" if k is False else "null")
    if isinstance(k, int):
        return _int_repr(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def _pretty(o: Any, nl: str) -> str:
    """`o` as json.dumps(indent=2, ensure_ascii=False) writes it; `nl` is a newline plus the current indent."""
    t = type(o)
    if t is str:
        return _encode_str(o)
    if t is dict:
        if not o:
            return "{}"
        inner = nl + "  "
        items = [
            _encode_str(k if type(k) is str else _key(k)) + ": " + (_encode_str(v) if type(v) is str else _pretty(v, inner))
            for k, v in o.items()
        ]
        return "{" + inner + ("," + inner).join(items) + nl + "}"
    if t is list or t is tuple:
        if not o:
            return "[]"
        inner = nl + "  "
        if type(o[0]) is float:  # an embedding: 1536 floats, one map() instead of one call each
            try:
                floats = ("," + inner).join(map(_float_repr, o))
            except TypeError:  # not all floats
                pass
            else:
                if "n" not in floats:  # no nan / inf, which json spells NaN / Infinity
                    return "[" + inner + floats + nl + "]"
        return "[" + inner + ("," + inner).join([_pretty(v, inner) for v in o]) + nl + "]"
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if t is int:
        return _int_repr(o)
    if t is float:
        return _float(o)
    return _pretty_subclass(o, nl)


def _pretty_subclass(o: Any, nl: str) -> str:
    """Subclasses of the JSON types (an IntEnum, an OrderedDict), checked in json's own order."""
    if isinstance(o, str):
        return _encode_str(o)
    if isinstance(o, int):  # bool is handled before: only True/False are bools
        return _int_repr(o)
    if isinstance(o, float):
        return _float(o)
    if isinstance(o, (list, tuple)):
        return _pretty(list(o), nl)
    if isinstance(o, dict):
        return _pretty(dict(o.items()), nl)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""json.dumps(obj, separators=(",", ":"), ensure_ascii=False), without building an encoder per call."""


def event_bytes(obj: Any) -> bytes:
    """One SSE event: `data: <compact JSON>` and a blank line."""
    if type(obj) is Event:
        return obj.wire
    return b"data: " + _compact(obj).encode("utf-8", "backslashreplace") + b"\n\n"


class Event(dict):  # type: ignore[type-arg]
    """A stream chunk (a plain dict to anyone reading it) that carries its `event_bytes`, built from a template.

    The chunks of a stream differ only in their content piece; encoding each whole was most of a stream's
    cost. `EventTemplate` encodes the rest once and splices each piece in."""

    __slots__ = ("wire",)

    wire: bytes


class EventTemplate:
    """`event_bytes` of `obj` with one string value swapped, at the cost of encoding that string alone.

    `obj` holds MARK where the string goes; `render(value, piece)` gives an `Event` equal to `value` (the
    same dict with the piece in place of MARK, built by the caller) whose bytes are exactly
    `event_bytes(value)`. When MARK's encoding is not found exactly once, `ok` is False: use plain dicts."""

    MARK = "\x00mockai-piece\x00"

    def __init__(self, obj: Any) -> None:
        text = _compact(obj)
        self.before, self.after = "", ""
        mark = _encode_str(self.MARK)
        self.ok = text.count(mark) == 1
        if self.ok:
            self.before, _, self.after = text.partition(mark)

    def render(self, value: dict[str, Any], piece: str) -> Event:
        event = Event(value)
        text = self.before + _encode_str(piece) + self.after
        event.wire = b"data: " + text.encode("utf-8", "backslashreplace") + b"\n\n"
        return event


DONE = b"data: [DONE]\n\n"
_NEVER = sys.maxsize
"""A fault index no stream reaches: no fault."""


def raw_headers(content_type: str, headers: Mapping[str, str], length: int | None = None) -> list[tuple[bytes, bytes]]:
    out = [(b"content-type", content_type.encode("latin-1"))]
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    out += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return out


async def send_body(send: Send, status: int, content_type: str, body: bytes, headers: Mapping[str, str]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": raw_headers(content_type, headers, len(body))})
    await send({"type": "http.response.body", "body": body})


async def send_stream(
    send: Send,
    receive: Receive,
    headers: Mapping[str, str],
    events: Iterable[Any],
    plan: StreamPlan,
    error: Mapping[str, Any] | None = None,
) -> str:
    """Send `events` as SSE and `[DONE]`, applying pacing and faults. Returns how the stream ended:
    "done", "cut", "error", "malformed" or "disconnected"."""
    await send({"type": "http.response.start", "status": 200, "headers": raw_headers(SSE, headers)})
    gone = asyncio.Event()
    pace = plan.tokens_per_second
    watcher = asyncio.ensure_future(_watch_disconnect(receive, gone)) if pace else None
    # A fault at chunk i, whichever comes first; no fault: past any index.
    cut, fail, garble = (_NEVER if n is None else n for n in (plan.cut_after, plan.error_after, plan.malformed_after))
    first_fault = min(cut, fail, garble)
    try:
        for i, event in enumerate(events):
            if i >= first_fault:
                if i >= cut:
                    # Returning without the final body message makes the server drop the connection mid-body.
                    return "cut"
                if i >= fail:
                    await send({"type": "http.response.body", "body": event_bytes(error or {}), "more_body": False})
                    return "error"
                await send({"type": "http.response.body", "body": b'data: {"id": "chatcmpl-broken", "choices": [\n\n', "more_body": False})
                return "malformed"
            await send({"type": "http.response.body", "body": event_bytes(event), "more_body": True})
            if pace:
                await asyncio.sleep(max(1, plan.chunk_tokens) / pace)
                if gone.is_set():
                    return "disconnected"
        await send({"type": "http.response.body", "body": DONE, "more_body": False})
        return "done"
    finally:
        if watcher is not None:
            watcher.cancel()


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


class _QuietCuts(logging.Filter):
    """Scripted stream cuts are on purpose: keep uvicorn from logging them as app errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return CUT_MESSAGE not in record.getMessage()


def quiet_scripted_cuts() -> None:
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())

"""Bytes on the wire: JSON bodies as the API writes them, and SSE streams with their pacing and scripted
faults."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.types import Receive, Send

from mockai.reply import StreamPlan

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"
CUT_MESSAGE = "ASGI callable returned without completing response."


def json_bytes(obj: Any) -> bytes:
    """A body as the real API writes it: pretty-printed with 2-space indents.

    orjson writes it, some twenty times faster than json.dumps(indent=2), which drops to pure Python
    with an indent: encoding was the largest cost of a chat answer and nearly all of an embedding's. What
    orjson refuses (a lone surrogate echoed from the request, an int past 64 bits, an unknown type) goes to
    json.dumps, so those bodies and errors are as before."""
    try:
        return orjson.dumps(obj, option=_PRETTY)
    except TypeError:
        # backslashreplace: a lone surrogate from the request becomes a valid \udXXX escape.
        return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace")


_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""Indented as the real API's bodies; dataclasses and dates are no JSON of ours: json.dumps refuses them."""


GATEWAY_JSON = "application/json; charset=utf-8"
GATEWAY_ERRORS = {401, 429}
"""Statuses whose bodies the live API writes 4-space indented with a trailing newline, as `GATEWAY_JSON`
(issue #13's recordings; [UNVERIFIED] beyond 401, 429 and the 404 of an unknown model)."""


def error_layout(status: int, code: str | None, body: Any) -> tuple[str, bytes]:
    """The content type and bytes of an error body: the gateway's layout for 401, 429 and unknown-model
    404s; the 2-space layout without a newline for validation errors (400) and the rest."""
    if status in GATEWAY_ERRORS or (status == 404 and code == "model_not_found"):
        return GATEWAY_JSON, (json.dumps(body, indent=4, ensure_ascii=False) + "\n").encode(
            "utf-8", "backslashreplace"
        )
    return JSON, json_bytes(body)


def event_bytes(obj: Any, named: bool = False) -> bytes:
    """One SSE event: `data: <compact JSON>` and a blank line; when `named`, first an `event: <its type>`
    line, as the Responses API sends."""
    try:
        data = orjson.dumps(obj, option=_COMPACT)
    except TypeError:
        data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")
    head = b""
    if named and isinstance(obj, Mapping) and isinstance(obj.get("type"), str):
        head = b"event: " + obj["type"].encode("utf-8") + b"\n"
    return head + b"data: " + data + b"\n\n"


_COMPACT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


DONE = b"data: [DONE]\n\n"
_NEVER = sys.maxsize
"""A fault index no stream reaches: no fault."""


def raw_headers(
    content_type: str, headers: Mapping[str, str], length: int | None = None
) -> list[tuple[bytes, bytes]]:
    """The response headers as ASGI pairs, in order: content type, length, then `headers` as given."""
    pairs = _PAIRS
    out = [pairs.get(("content-type", content_type)) or _pair(("content-type", content_type))]
    if length is not None:
        out.append((b"content-length", b"%d" % length))
    for item in headers.items():
        found = pairs.get(item)
        if found is None:
            name, value = item
            found = (_NAMES.get(name) or name.encode("latin-1"), value.encode("latin-1"))
            if name not in _VARYING:
                _keep(item, found)
        out.append(found)
    return out


def _pair(item: tuple[str, str]) -> tuple[bytes, bytes]:
    """A header encoded for ASGI, kept if its value is the same in every answer."""
    name, value = item
    found = (name.encode("latin-1"), value.encode("latin-1"))
    if name not in _VARYING:
        _keep(item, found)
    return found


def _keep(item: tuple[str, str], pair: tuple[bytes, bytes]) -> None:
    """Most headers are the same in every answer, so their bytes are kept (bounded)."""
    if len(_PAIRS) >= 4096:
        _PAIRS.clear()  # values scripted per rule must not grow it without end
    _PAIRS[item] = pair


_PAIRS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_VARYING = frozenset(
    {
        "x-request-id",
        "openai-processing-ms",
        "content-length",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
    }
)
"""Headers whose value changes from answer to answer: encoded each time, never kept."""
_NAMES = {name: name.encode("latin-1") for name in _VARYING}
"""The varying headers' names, encoded once."""


async def send_body(
    send: Send, status: int, content_type: str, body: bytes, headers: Mapping[str, str]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": raw_headers(content_type, headers, len(body)),
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_stream(
    send: Send,
    receive: Receive,
    headers: Mapping[str, str],
    events: Iterable[Any],
    plan: StreamPlan,
    error: Mapping[str, Any] | None = None,
    done: bool = True,
    named: bool = False,
) -> str:
    """Send `events` as SSE (then `[DONE]` when `done`), applying pacing and faults. Returns how the stream
    ended: "done", "cut", "error", "malformed" or "disconnected"."""
    await send({"type": "http.response.start", "status": 200, "headers": raw_headers(SSE, headers)})
    gone = asyncio.Event()
    pace = plan.tokens_per_second
    watcher = asyncio.ensure_future(_watch_disconnect(receive, gone)) if pace else None
    # A fault at chunk i, whichever comes first; no fault: past any index.
    cut, fail, garble = (
        _NEVER if n is None else n for n in (plan.cut_after, plan.error_after, plan.malformed_after)
    )
    first_fault = min(cut, fail, garble)
    held: list[bytes] = []  # unpaced events, sent STREAM_BATCH bytes at a time
    size = 0
    try:
        for i, event in enumerate(events):
            if i >= first_fault:
                head = b"".join(held)
                if i >= cut:
                    # Returning without the final body message makes the server drop the connection mid-body.
                    if head:
                        await send({"type": "http.response.body", "body": head, "more_body": True})
                    return "cut"
                if i >= fail:
                    tail = event_bytes(error or {}, named)
                    await send({"type": "http.response.body", "body": head + tail, "more_body": False})
                    return "error"
                await send({"type": "http.response.body", "body": head + MALFORMED, "more_body": False})
                return "malformed"
            data = event_bytes(event, named)
            if pace:
                await send({"type": "http.response.body", "body": data, "more_body": True})
                await asyncio.sleep(max(1, plan.chunk_tokens) / pace)
                if gone.is_set():
                    return "disconnected"
                continue
            held.append(data)
            size += len(data)
            if size >= STREAM_BATCH:
                await send({"type": "http.response.body", "body": b"".join(held), "more_body": True})
                held, size = [], 0
        last = b"".join(held) + (DONE if done else b"")
        await send({"type": "http.response.body", "body": last, "more_body": False})
        return "done"
    finally:
        if watcher is not None:
            watcher.cancel()


STREAM_BATCH = 64 * 1024
"""Bytes of unpaced SSE events handed to the server at once: the same bytes in fewer, larger body messages
(an unpaced stream leaves in one write anyway; see mockai.server.protocol)."""
MALFORMED = b'data: {"id": "chatcmpl-broken", "choices": [\n\n'
"""What a scripted `malformed_after` sends instead of the next event: broken JSON, then the end."""


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

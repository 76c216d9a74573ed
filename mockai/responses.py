"""Bytes on the wire: JSON bodies, OpenAI's response headers, and SSE streams with scripted faults."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import Receive, Send

from mockai.reply import StreamPlan

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"
CUT_MESSAGE = "ASGI callable returned without completing response."


def json_bytes(obj: Any) -> bytes:
    """A body as the real API writes it: pretty-printed with 2-space indents."""
    # backslashreplace: a lone surrogate from the request (echoed in an error) becomes a valid \udXXX escape.
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace")


def event_bytes(obj: Any) -> bytes:
    """One SSE event: `data: <compact JSON>` and a blank line."""
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n\n"


DONE = b"data: [DONE]\n\n"


def raw_headers(content_type: str, headers: Mapping[str, str], length: int | None = None) -> list[tuple[bytes, bytes]]:
    out = [(b"content-type", content_type.encode("latin-1"))]
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    out.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
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
    watcher = asyncio.ensure_future(_watch_disconnect(receive, gone)) if plan.tokens_per_second else None
    try:
        for i, event in enumerate(events):
            if plan.cut_after is not None and i >= plan.cut_after:
                # Returning without the final body message makes the server drop the connection mid-body.
                return "cut"
            if plan.error_after is not None and i >= plan.error_after:
                await send({"type": "http.response.body", "body": event_bytes(error or {}), "more_body": False})
                return "error"
            if plan.malformed_after is not None and i >= plan.malformed_after:
                await send({"type": "http.response.body", "body": b'data: {"id": "chatcmpl-broken", "choices": [\n\n', "more_body": False})
                return "malformed"
            await send({"type": "http.response.body", "body": event_bytes(event), "more_body": True})
            if plan.tokens_per_second:
                await asyncio.sleep(max(1, plan.chunk_tokens) / plan.tokens_per_second)
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

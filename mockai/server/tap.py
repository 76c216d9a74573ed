"""A tap on the wire: every answer the server sends, written as JSON lines, for conformance checks.

Set `MOCKAI_TAP=DIR` in the environment of a server (`mockai serve`, or a test process using
`ServerThread`) and `create_app` returns a `TapApp`: the same app, which also appends one line per
answer to `DIR/tap-<pid>.jsonl` (one file per process, so pytest-xdist workers never interleave).
The compatibility suite (tests/compat/) reads those files and validates each body and each SSE event
against OpenAI's OpenAPI schemas. Without the variable the plain `MockApp` serves, so the hot path
is untouched: the choice is made once, when the app is created.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from starlette.types import Message

from mockai.server.app import MockApp
from mockai.server.exchange import Exchange
from mockai.server.state import MockState

ENV = "MOCKAI_TAP"
TEXT_TYPES = ("application/json", "text/")
"""Bodies kept as text; others (audio) are recorded by size only."""


class TapApp(MockApp):
    """`MockApp` that also records what it sends (status, content type, body) to a JSON-lines file."""

    def __init__(self, state: MockState, directory: str | os.PathLike[str]) -> None:
        super().__init__(state)
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.tap_path = folder / f"tap-{os.getpid()}.jsonl"
        self._lock = threading.Lock()

    async def handle(self, ex: Exchange) -> None:
        seen: dict[str, Any] = {"status": None, "content_type": "", "chunks": [], "complete": False}
        send = ex.server_send

        async def tee(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
                }
                seen["content_type"] = headers.get("content-type", "")
            elif message["type"] == "http.response.body":
                seen["chunks"].append(message.get("body", b""))
                seen["complete"] = not message.get("more_body", False)
            await send(message)

        ex.server_send = tee
        try:
            await super().handle(ex)
        finally:
            if seen["status"] is not None:
                # Who wrote the answer: a cassette's or upstream's bodies are not mockai's to check.
                seen["source"] = ex.source
                self._write(ex.scope, seen)

    def _write(self, scope: Any, seen: dict[str, Any]) -> None:
        raw = b"".join(seen["chunks"])
        textual = seen["content_type"].startswith(TEXT_TYPES)
        record = {
            "method": scope["method"],
            "path": scope["path"],
            "status": seen["status"],
            "content_type": seen["content_type"],
            "complete": seen["complete"],
            "source": seen["source"],
            "size": len(raw),
            "body": raw.decode("utf-8", errors="replace") if textual else None,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, open(self.tap_path, "a", encoding="utf-8") as f:
            f.write(line)

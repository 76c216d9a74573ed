"""The server writes each answer with one write: what one event-loop step writes is gathered and sent
when the step ends, closing sends what is gathered first, and aborting drops it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from typing import Any

import httpx
import pytest

from mockai.server import protocol
from mockai.server.protocol import GatheringTransport
from mockai.server.runner import ServerThread
from mockai.settings import Settings


class Recorder(asyncio.Transport):
    """A transport that notes what is done to it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing


def test_the_writes_of_one_step_go_out_as_one_write_when_the_step_ends() -> None:
    async def main() -> list[tuple[str, Any]]:
        inner = Recorder()
        gathering = GatheringTransport(inner, asyncio.get_running_loop())
        gathering.write(b"HTTP/1.1 200 OK\r\n\r\n")
        gathering.write(memoryview(b"{}"))
        assert inner.calls == []  # nothing yet: the step is not over
        await asyncio.sleep(0)
        gathering.write(b"next")
        await asyncio.sleep(0)
        return inner.calls

    assert asyncio.run(main()) == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}"), ("write", b"next")]


def test_closing_sends_what_is_gathered_first_and_aborting_drops_it() -> None:
    async def main() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        loop = asyncio.get_running_loop()
        closed, aborted = Recorder(), Recorder()
        first, second = GatheringTransport(closed, loop), GatheringTransport(aborted, loop)
        first.write(b"partial stream")
        first.close()
        second.write(b"never sent")
        second.abort()
        await asyncio.sleep(0)
        return closed.calls, aborted.calls

    closed, aborted = asyncio.run(main())
    assert closed == [("write", b"partial stream"), ("close", None)]
    assert aborted == [("abort", None)]


def test_a_server_answers_whole_responses_over_keep_alive_connections() -> None:
    with ServerThread(Settings(port=0)) as server, httpx.Client(base_url=server.url + "/") as http:
        for _ in range(3):  # the same connection each time: every answer ends where the next begins
            response = http.post(
                "/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            )
            assert response.status_code == 200
            assert response.json()["object"] == "chat.completion"


def open_connections(server: ServerThread) -> int:
    """How many client connections the server holds."""

    async def count() -> int:
        return len(server._server.server_state.connections)

    return asyncio.run_coroutine_threadsafe(count(), server.loop).result(timeout=5)


def test_a_client_that_stops_reading_its_answer_is_dropped_and_its_answer_cut_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(protocol, "STALLED_READER_SECONDS", 0.3)
    body = json.dumps({"model": "text-embedding-3-small", "input": ["a"] * 200}).encode()  # ~8 MB answer
    with ServerThread(Settings(port=0)) as server:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", server.port))
        head = "POST /v1/embeddings HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        client.sendall(head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body)
        try:
            deadline = time.monotonic() + 10
            held = False
            while time.monotonic() < deadline:  # the connection is held while its answer waits, then dropped
                n = open_connections(server)
                held = held or n > 0
                if held and n == 0:
                    break
                time.sleep(0.02)
            assert held and open_connections(server) == 0
            received = bytearray()
            client.settimeout(5)
            with contextlib.suppress(ConnectionError):
                while (chunk := client.recv(65536)) and len(received) < 64_000_000:
                    received += chunk
            head_end = received.index(b"\r\n\r\n") + 4
            length = next(
                int(line.split(b":")[1])
                for line in received[:head_end].split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            assert len(received) - head_end < length  # the answer was cut off, not delivered whole
        finally:
            client.close()

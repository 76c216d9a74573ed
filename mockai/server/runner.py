"""Run the app under uvicorn: in the foreground for `mockai serve`, or in a thread for tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from mockai.models import tokens
from mockai.scenario.reload import watch
from mockai.server.app import MockApp
from mockai.server.protocol import GatheringHttpToolsProtocol
from mockai.server.state import MockState
from mockai.server.tap import ENV as TAP_ENV, TapApp
from mockai.settings import Settings
from mockai.wire import quiet_scripted_cuts


def create_app(state: MockState | None = None) -> MockApp:
    """The ASGI app for a state (a fresh default one when none is given).

    With `MOCKAI_TAP=DIR` set, a `TapApp` that also writes every answer to DIR for the conformance checks;
    decided here, once, so serving without it costs nothing."""
    state = state or MockState()
    tap = os.environ.get(TAP_ENV)
    return TapApp(state, tap) if tap else MockApp(state)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it back from the socket)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it every answer waits ~40 ms for a delayed ACK (headers and body are two writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: MockApp, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        # X-Forwarded-* rewriting is for apps behind a proxy; mockai answers its client directly, and the
        # middleware would cost every request a pass over its headers.
        proxy_headers=False,
        lifespan="off",
        http=GatheringHttpToolsProtocol,
        loop="auto",
        timeout_graceful_shutdown=1,
    )


READY_ENCODINGS = ("cl100k_base", "o200k_base")
"""Built before the server says it is ready: the first answers for today's models cost what later ones do."""
LATER_ENCODINGS = ("p50k_base", "p50k_edit", "r50k_base")
"""The legacy models' encodings (r50k takes over a second to build): built in the background once serving."""


def warm(names: tuple[str, ...]) -> None:
    """Build these encodings now (each is built once per process, whoever asks first)."""
    for name in names:
        tokens.get_encoding(name)


class Server(uvicorn.Server):
    """uvicorn's server plus mockai's start-up work: the tokenizers, and with `watch` on, the file watcher."""

    def __init__(self, config: uvicorn.Config, state: MockState) -> None:
        super().__init__(config)
        self.state = state
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop serving requests, once started."""
        self._watcher: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await asyncio.to_thread(warm, READY_ENCODINGS)
        if self.state.settings.watch:
            self._watcher = asyncio.create_task(watch(self.state.reloader), name="mockai-watch")
        await super().startup(sockets=sockets)
        threading.Thread(target=warm, args=(LATER_ENCODINGS,), name="mockai-warm", daemon=True).start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await super().shutdown(sockets=sockets)


@dataclass
class ServerThread:
    """A mockai server in a background thread, on a free loopback port unless told otherwise."""

    settings: Settings = field(default_factory=lambda: Settings(port=0))
    state: MockState | None = None
    _server: Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.state = self.state or MockState.from_settings(self.settings)
        app = create_app(self.state)
        sock = bind(self.settings.host, self.settings.port)
        self.port = sock.getsockname()[1]
        quiet_scripted_cuts()
        self._server = Server(uvicorn_config(app), self.state)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="mockai-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"mockai: the server on {self.settings.host}:{self.port} did not start within {timeout}s"
                )
            time.sleep(0.005)
        return self

    @property
    def url(self) -> str:
        """The base URL for OpenAI clients, ending in /v1."""
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        return f"http://{host}:{self.port}/v1"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop serving requests (to look at its tasks from a test)."""
        assert self._server is not None and self._server.loop is not None, "the server is not started"
        return self._server.loop

    def stop(self) -> None:
        if self.state is not None:
            self.state.eject()  # closes the cassette file and, in the still-running loop, the upstream client
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

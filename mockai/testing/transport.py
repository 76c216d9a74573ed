"""In-process HTTP clients: call the ASGI app directly, with no socket, no server thread and no GIL handoff.

`http_client(app)` gives a sync client whose transport runs the app to completion on a private event loop
(one per thread; from inside a running loop it uses a helper thread instead), so an OpenAI client built with
`http_client=` pays close to nothing per call beyond mockai's own work. `async_http_client(app)` uses the
HTTP library's own ASGI transport. Both are built on the HTTP library the installed `openai` uses (httpx, or
httpx2 for openai 3.x), so the SDK's exception mapping sees the errors it expects.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message

Result = tuple[int, list[tuple[bytes, bytes]], list[bytes], bool]
"""status, raw headers, body chunks, and whether the app finished the body (False: a scripted cut)."""


def http_library() -> ModuleType:
    """The httpx-style module the installed `openai` package uses (httpx2 for openai 3.x), else httpx."""
    base: Any
    try:
        import openai._base_client as base
    except ImportError:
        base = None
    module: ModuleType | None = getattr(base, "httpx2", None) or getattr(base, "httpx", None)
    if module is None:
        import httpx

        module = httpx
    return module


async def run_app(app: ASGIApp, scope: dict[str, Any], body: bytes) -> Result:
    """Run one HTTP exchange through `app` and collect its whole answer."""
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    complete = False
    request_sent = False
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()  # the client stays connected until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers, complete
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body" and not complete:
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                finished.set()

    try:
        await app(scope, receive, send)
    except Exception:
        if status is None:  # nothing was answered: a bug worth seeing in full
            raise
        # The app already answered (it re-raises after sending its 500): the client sees that answer.
    finally:
        finished.set()
    if status is None:
        raise RuntimeError("mockai: the app returned without answering the request")
    return status, headers, chunks, complete


def scope_of(request: Any) -> dict[str, Any]:
    """The ASGI scope of an httpx(2) request, as uvicorn would build it."""
    url = request.url
    host = url.host or "127.0.0.1"
    port = url.port or (443 if url.scheme == "https" else 80)
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(url.path),
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": ("127.0.0.1", 50000),
        "server": (host, port),
    }


class _Loops(threading.local):
    loop: asyncio.AbstractEventLoop | None = None


@functools.cache
def transport_class(lib: ModuleType) -> type:
    """A sync in-process transport class for one httpx-style module."""

    class CutStream(lib.SyncByteStream):  # type: ignore[name-defined,misc]
        """A body the app stopped sending midway: its chunks, then the error a dropped connection gives."""

        def __init__(self, chunks: list[bytes]) -> None:
            self.chunks = chunks

        def __iter__(self) -> Iterator[bytes]:
            yield from self.chunks
            raise lib.RemoteProtocolError("peer closed connection without sending complete message body")

    class InProcessTransport(lib.BaseTransport):  # type: ignore[name-defined,misc]
        """Answers requests by running a mockai ASGI app in this thread, on a private event loop."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app
            self._loops = _Loops()
            self._all: list[asyncio.AbstractEventLoop] = []
            self._helper: concurrent.futures.ThreadPoolExecutor | None = None
            self._lock = threading.Lock()

        def handle_request(self, request: Any) -> Any:
            scope, body = scope_of(request), request.read()
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                status, headers, chunks, complete = self._run(scope, body)
            else:  # called from async code: a loop is running in this thread, so run ours in a helper thread
                with self._lock:
                    self._helper = self._helper or concurrent.futures.ThreadPoolExecutor(
                        1, "mockai-inprocess"
                    )
                status, headers, chunks, complete = self._helper.submit(self._run, scope, body).result()
            stream = lib.ByteStream(b"".join(chunks)) if complete else CutStream(chunks)
            return lib.Response(status, headers=headers, stream=stream, request=request)

        def _run(self, scope: dict[str, Any], body: bytes) -> Result:
            loop = self._loops.loop
            if loop is None or loop.is_closed():
                loop = self._loops.loop = asyncio.new_event_loop()
                with self._lock:
                    self._all.append(loop)
            return loop.run_until_complete(run_app(self.app, scope, body))

        def close(self) -> None:
            with self._lock:
                loops, self._all = self._all, []
                helper, self._helper = self._helper, None
            if helper is not None:
                helper.shutdown(wait=True)
            for loop in loops:
                if not loop.is_running():
                    loop.close()

    return InProcessTransport


def http_client(app: ASGIApp, base_url: str, **kwargs: Any) -> Any:
    """A sync httpx(2) client that answers from `app` in-process; pass it to `OpenAI(http_client=...)`."""
    lib = http_library()
    return lib.Client(transport=transport_class(lib)(app), base_url=base_url, **kwargs)


def async_http_client(app: ASGIApp, base_url: str, **kwargs: Any) -> Any:
    """An async httpx(2) client that answers from `app` in-process; for `AsyncOpenAI(http_client=...)`."""
    lib = http_library()
    return lib.AsyncClient(transport=lib.ASGITransport(app=app), base_url=base_url, **kwargs)


__all__ = ["async_http_client", "http_client", "http_library", "run_app", "transport_class"]

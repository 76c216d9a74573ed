"""The wire side of the cassette layer: forward a request upstream and pass its answer on, or send a
recording.

Both keep the bytes unchanged: status, headers (less hop-by-hop ones) and body, a stream event by event.
One httpx.AsyncClient per cassette session, created on first use in the server's event loop and closed
there by `close_client` when the cassette is ejected.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from starlette.types import Send

from mockai.errors import OpenAIError
from mockai.recording.cassette import Cassette
from mockai.recording.interaction import Interaction, SSESplitter
from mockai.recording.modes import ReplaySpeed

REQUEST_DROP = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "accept-encoding",
        "proxy-authorization",
    }
)
"""Not forwarded upstream: hop-by-hop (Proxy-Authorization is for the proxy in front of mockai, never the
upstream's business), or set by httpx itself (it decodes gzip for us)."""
RESPONSE_DROP = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "content-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "date",
        "server",
    }
)
"""Not recorded nor sent on: hop-by-hop, describing the upstream's encoding, or added by uvicorn itself."""


@dataclass
class Upstream:
    """Where misses are recorded from, and the client that talks to it (made on first use in the server's
    loop)."""

    url: str
    """The base URL, e.g. https://api.openai.com/v1 (no trailing slash)."""
    timeout: float = 600.0
    api_key: str | None = None
    """Sent instead of the client's key when set (the fixture's real key when recording)."""
    client: httpx.AsyncClient | None = field(default=None, repr=False)
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    """The event loop the client belongs to, where it must be closed."""

    def close(self, timeout: float = 5.0) -> None:
        """Close the client (its pooled connections) in its own loop, from any thread."""
        client, loop, self.client, self.loop = self.client, self.loop, None, None
        if client is None or loop is None or loop.is_closed() or not loop.is_running():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(client.aclose())
            return
        try:
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass  # the server is going away; its connections go with it


@dataclass(frozen=True)
class Outgoing:
    """The request to send upstream, as the client sent it."""

    method: str
    path: str
    query: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Client(Protocol):
    """The client being answered, as the server's pipeline hands it over."""

    def answer(self) -> Send:
        """The `send` for the answer about to start."""

    async def error(self, exc: OpenAIError) -> None:
        """Answer with this error (and journal it)."""

    def journal(self, status: int, error: Mapping[str, Any] | None) -> None:
        """Note the answer in the journal, before its last byte goes out."""


async def replay(client: Client, it: Interaction, speed: ReplaySpeed) -> None:
    """Send a recorded answer: its status, headers and body bytes unchanged, a stream event by event."""
    realtime = speed is ReplaySpeed.REALTIME
    if realtime and it.elapsed > 0:
        await asyncio.sleep(it.elapsed)
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in it.response_headers
        if k.lower() not in RESPONSE_DROP
    ]
    client.journal(it.status, error_of(it.status, it.body))
    send = client.answer()
    if it.chunks is None:
        headers.append((b"content-length", str(len(it.body)).encode()))
        await send({"type": "http.response.start", "status": it.status, "headers": headers})
        await send({"type": "http.response.body", "body": it.body})
        return
    await send({"type": "http.response.start", "status": it.status, "headers": headers})
    start = time.perf_counter()
    for t, data in it.chunks:
        if realtime and (delay := t - (time.perf_counter() - start)) > 0:
            await asyncio.sleep(delay)
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def forward(upstream: Upstream, cassette: Cassette, out: Outgoing, client: Client) -> bool:
    """Proxy one request upstream, pass the answer on as it comes, and record it once it is complete.

    True when the answer was recorded; False when the upstream or the disk failed (the client was told)."""
    http = upstream.client
    if http is None:  # first use: in the server's event loop, which is where it must be closed
        http = upstream.client = httpx.AsyncClient(
            follow_redirects=False, limits=httpx.Limits(max_connections=200)
        )
        upstream.loop = asyncio.get_running_loop()
    headers = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in out.headers
        if k.decode("latin-1").lower() not in REQUEST_DROP
    ]
    if upstream.api_key:
        headers = [(k, v) for k, v in headers if k.lower() not in ("authorization", "api-key")]
        headers.append(("authorization", f"Bearer {upstream.api_key}"))
    url = upstream.url + out.path.removeprefix("/v1") + (f"?{out.query}" if out.query else "")
    request = http.build_request(out.method, url, headers=headers, content=out.body, timeout=upstream.timeout)
    sent = time.perf_counter()
    try:
        response = await http.send(request, stream=True)
    except httpx.HTTPError as exc:
        await client.error(upstream_error(upstream, exc))
        return False
    elapsed = time.perf_counter() - sent
    raw_headers = [
        (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw
    ]  # latin-1: lossless for any bytes
    kept = [(k, v) for k, v in raw_headers if k not in RESPONSE_DROP]
    start = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept]
    chunks: list[tuple[float, bytes]] | None = None
    body = b""
    held = b""  # `data: [DONE]` and what follows: sent only once the recording is durable
    try:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            chunks, splitter = [], SSESplitter()
            send = client.answer()
            await send({"type": "http.response.start", "status": response.status_code, "headers": start})
            t0 = time.perf_counter()
            async for part in response.aiter_bytes():
                chunks += [(time.perf_counter() - t0, event) for event in splitter.feed(part)]
                ready, held = _hold_done(held + part)
                if ready:
                    await send({"type": "http.response.body", "body": ready, "more_body": True})
            chunks += [(time.perf_counter() - t0, event) for event in splitter.flush()]
        else:
            body = await response.aread()
    except httpx.HTTPError as exc:
        error = upstream_error(upstream, exc)
        if chunks is None:
            await client.error(error)
        else:  # headers already went out: end the stream abruptly, as the upstream did, and record nothing
            client.journal(response.status_code, error.body())
        return False
    finally:
        await response.aclose()
    it = Interaction(
        out.method,
        out.path,
        out.query,
        tuple(headers),
        out.body,
        response.status_code,
        tuple(kept),
        body,
        None if chunks is None else tuple(chunks),
        elapsed,
    )
    try:
        await asyncio.to_thread(lambda: cassette.append(cassette.encode(it)))
    except OSError as exc:
        # Disk full, read-only folder...: the client must not take an unrecorded answer for a recorded one.
        error = OpenAIError(
            500,
            f"mockai: could not write to cassette {cassette.path} ({exc}); the answer was not recorded. "
            "Check the disk and the folder's permissions.",
            type="server_error",
            code="cassette_write_failed",
        )
        if chunks is None:
            await client.error(error)
        else:
            client.journal(response.status_code, error.body())
        return False
    client.journal(response.status_code, error_of(response.status_code, body))
    send = client.answer()
    if chunks is not None:
        await send({"type": "http.response.body", "body": held, "more_body": False})
        return True
    start.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": start})
    await send({"type": "http.response.body", "body": body})
    return True


DONE = b"data: [DONE]"


def _hold_done(data: bytes) -> tuple[bytes, bytes]:
    """`data` split into what may go to the client now and what waits for the recording: the `[DONE]`
    event on, or a tail that may be its start. A client that sees `[DONE]` takes the stream as complete,
    so it must not arrive before the recording it vouches for is on disk."""
    at = data.find(DONE)
    if at >= 0 and (at == 0 or data[at - 1 : at] == b"\n"):
        return data[:at], data[at:]
    for size in range(min(len(DONE) - 1, len(data)), 0, -1):  # a part ending inside "data: [DONE]"
        start = len(data) - size
        if DONE.startswith(data[start:]) and (start == 0 or data[start - 1 : start] == b"\n"):
            return data[:start], data[start:]
    return data, b""


def upstream_error(upstream: Upstream, exc: httpx.HTTPError) -> OpenAIError:
    """An OpenAI-shaped 502/504 for an upstream that could not be reached or broke off."""
    where, name = display(upstream.url), type(exc).__name__
    cause = next((str(e) for e in reversed(_chain(exc)) if str(e)), "")  # the root cause says most
    detail = f"{name}: {cause}" if cause else name
    if isinstance(exc, httpx.TimeoutException):
        status, what = (
            504,
            f"did not answer within {upstream.timeout:g}s ({name}). Raise --upstream-timeout or check the "
            "upstream",
        )
    elif isinstance(exc, httpx.ConnectError):
        verb = "refused the connection" if _refused(exc) else "could not be reached"
        status, what = 502, f"{verb} ({detail}). Check that it is running and that --upstream is right"
    else:
        status, what = 502, f"broke off the exchange ({detail}). Retry, or check the upstream"
    return OpenAIError(
        status,
        f"mockai: upstream {where} {what}; nothing was recorded.",
        type="server_error",
        code="upstream_error",
    )


def display(url: str) -> str:
    """A URL without credentials or query, fit for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _chain(exc: BaseException) -> list[BaseException]:
    """An exception and its causes: httpx -> httpcore -> anyio -> the OS error."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 10:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def _refused(exc: BaseException) -> bool:
    return any(isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower() for e in _chain(exc))


def error_of(status: int, body: bytes) -> dict[str, Any] | None:
    if status < 400:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict) else None

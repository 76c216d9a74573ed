"""The floor: a bare Starlette app on mockai's server stack that answers canned bytes and does nothing else.

No parsing, no validation, no tokenizer, no journal: whatever mockai costs above this is mockai's own
work, and nothing on this stack (uvicorn + httptools + uvloop with mockai.server.protocol, one worker) can
answer faster. bench/run.py gives it the very bytes mockai answered, so both sides move the same data:

    python bench/floor_app.py --port 0 --canned canned.json

`canned.json` maps a path to
`{"content_type": ..., "headers": [[name, value], ...], "chunks": [base64, ...]}`:
mockai's own response headers too, since the server's cost grows with each header it writes. One chunk is
answered as a plain `Response`, several as a `StreamingResponse` with one ASGI send per chunk, as a stream is.
Prints `floor serving http://127.0.0.1:PORT` once it accepts connections.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockai.server.protocol import GatheringHttpToolsProtocol


def endpoint(content_type: str, headers: dict[str, str], chunks: list[bytes]) -> Any:
    """A handler that reads the request body (as any real one must) and answers the canned chunks."""
    if len(chunks) == 1:
        body = chunks[0]

        async def plain(request: Request) -> Response:
            await request.body()
            return Response(body, media_type=content_type, headers=headers)

        return plain

    async def stream(request: Request) -> StreamingResponse:
        await request.body()

        async def events() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return StreamingResponse(events(), media_type=content_type, headers=headers)

    return stream


def build_app(canned: dict[str, Any]) -> Starlette:
    routes = [
        Route(
            path,
            endpoint(
                spec["content_type"],
                dict(spec.get("headers", [])),
                [base64.b64decode(c) for c in spec["chunks"]],
            ),
            methods=["POST"],
        )
        for path, spec in canned.items()
    ]
    return Starlette(routes=routes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--canned", type=Path, required=True)
    args = parser.parse_args()
    app = build_app(json.loads(args.canned.read_text()))
    # Same socket set-up as mockai.server.runner.bind: IPPROTO_TCP so asyncio sets TCP_NODELAY on
    # accepted sockets.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    port = sock.getsockname()[1]

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            print(f"floor serving http://127.0.0.1:{port}", flush=True)

    # mockai's own HTTP protocol (one write per answer) and settings: the same stack, so the floor stays
    # what nothing on it can beat.
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        lifespan="off",
        http=GatheringHttpToolsProtocol,
        loop="uvloop",
    )
    Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()

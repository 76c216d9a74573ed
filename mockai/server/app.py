"""The ASGI app: takes each HTTP request, routes it, and makes sure every failure is answered in OpenAI's
envelope.

Routes: `/_mockai/...` to the admin API; the model endpoints (and openai 0.28's `/v1/engines/{model}/...`)
to the pipeline (mockai.server.pipeline); `/v1/models` to the catalogue; any other `/v1/...` path to the
cassette when one is in use; the rest gets OpenAI's 404 `Invalid URL` or 405.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from mockai import errors
from mockai.endpoints import models, routes
from mockai.server import admin, objects, pipeline
from mockai.server.exchange import Exchange
from mockai.server.state import MockState

MAX_HEADER_BYTES = 64 * 1024
"""Request headers past this many bytes (names and values) get a 431."""


class MockApp:
    """mockai's ASGI application over one `MockState`."""

    def __init__(self, state: MockState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        await self.handle(Exchange.begin(scope, receive, send, self.state.seed, next(self.state.requests)))

    async def handle(self, ex: Exchange) -> None:
        """Answer one request; whatever goes wrong before the answer starts is still answered."""
        try:
            await self.route(ex)
        except errors.OpenAIError as exc:
            if not ex.answered:
                await pipeline.send_error(self.state, ex, exc)
        except Exception as exc:
            # A bug in mockai: still answer in OpenAI's envelope, then let uvicorn log the traceback.
            if not ex.answered:
                message = f"mockai internal error: {type(exc).__name__}: {exc}"
                await pipeline.send_error(
                    self.state, ex, errors.OpenAIError(500, message, type="server_error")
                )
            raise

    async def route(self, ex: Exchange) -> None:
        path, method = ex.path, ex.method
        size = ex.header_bytes
        if size > MAX_HEADER_BYTES:
            # [UNVERIFIED] text: OpenAI's edge answers 431 without a documented body.
            raise errors.OpenAIError(
                431,
                f"Request Header Fields Too Large: the request's headers are {size:,} bytes; mockai takes "
                f"at most {MAX_HEADER_BYTES:,}.",
            )
        if path.startswith("/_mockai/images/") and method in ("GET", "HEAD"):
            await objects.image(self.state, ex)
            return
        if path.startswith("/_mockai/"):
            await admin.route(self.state, ex)
            return
        check_api_key(self.state, ex)
        found = routes.find(path)
        if found is not None and method == "POST":
            await pipeline.answer(self.state, ex, *found)
        elif await objects.route(self.state, ex):
            return
        elif models.is_models_path(path):
            if method != "HEAD" and method not in models.allowed(path):
                raise errors.method_not_allowed(method, path, models.allowed(path))
            await pipeline.answer_models(self.state, ex)
        elif self.state.cassette is not None and path.startswith("/v1/"):
            await pipeline.from_cassette(self.state, ex)
        elif found is not None:
            raise errors.method_not_allowed(method, path, ("POST", *objects.other_methods(path)))
        else:
            raise errors.invalid_url(method, path)


def check_api_key(state: MockState, ex: Exchange) -> None:
    """OpenAI's 401 when the server requires a key and the request has none or another."""
    expected = state.settings.api_key
    if expected is None:
        return
    key = ex.api_key
    if key is None:
        raise errors.missing_api_key()
    if key != expected:
        raise errors.incorrect_api_key(key)

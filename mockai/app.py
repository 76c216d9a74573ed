"""The ASGI app: routes a request along mockai's pipeline and answers like api.openai.com.

parse + validate -> resolve model (clock) -> scripted faults -> rate limiter -> choose the reply
(rules, else the deterministic generator) -> render JSON or SSE -> journal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from starlette.types import Receive, Scope, Send

from mockai import catalogue, errors, generator
from mockai.context import Ctx
from mockai.endpoints import chat, completions, edits, embeddings, speech, transcriptions, translations
from mockai.journal import mask_headers
from mockai.reply import Reply
from mockai.responses import JSON, json_bytes, send_body, send_stream
from mockai.state import MockState

DEFAULT_REPLY = Reply()


@dataclass(frozen=True)
class Endpoint:
    """A model endpoint: its family name and the module that checks and renders it."""

    name: str
    module: ModuleType


MODEL_ROUTES: dict[str, Endpoint] = {
    "/v1/chat/completions": Endpoint("chat", chat),
    "/v1/completions": Endpoint("completions", completions),
    "/v1/edits": Endpoint("edits", edits),
    "/v1/embeddings": Endpoint("embeddings", embeddings),
    "/v1/audio/transcriptions": Endpoint("transcriptions", transcriptions),
    "/v1/audio/translations": Endpoint("translations", translations),
    "/v1/audio/speech": Endpoint("speech", speech),
}
ENGINE_SUFFIXES = {"chat/completions": "/v1/chat/completions", "completions": "/v1/completions", "embeddings": "/v1/embeddings", "edits": "/v1/edits"}

Handler = Callable[["MockApp", "Exchange"], Awaitable[None]]


@dataclass
class Exchange:
    """One request being answered: what came in, and what to say about it in the journal."""

    scope: Scope
    receive: Receive
    send: Send
    method: str
    path: str
    headers: dict[str, str]
    request_id: str
    started: float
    body: Any = None
    endpoint: str | None = None
    raw_send: Send | None = None
    """The server's own `send`; `send` is it wrapped to notice when the answer starts."""
    answered: bool = False
    """True once `http.response.start` went out: an error after that cannot be answered any more."""

    def answer(self) -> Send:
        """The server's own `send`, for the answer about to start; marks the exchange answered first, as the
        wrapped `send` does on `http.response.start`. A stream sends hundreds of messages: each through
        the wrapper was an extra coroutine per message."""
        self.answered = True
        return self.raw_send or self.send

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip() or None
        return self.headers.get("api-key") or None


class MockApp:
    """mockai's ASGI application over one `MockState`."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        from mockai import admin

        self.admin_routes = admin.ROUTES

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
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        n = next(self.state.counter)

        async def tracked_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                ex.answered = True
            await send(message)

        ex = Exchange(
            scope=scope,
            receive=receive,
            send=tracked_send,
            method=scope["method"],
            path=scope["path"],
            headers=headers,
            request_id="req_" + hashlib.blake2b(f"{self.state.seed}:{n}".encode(), digest_size=16).hexdigest(),
            started=time.perf_counter(),
            raw_send=send,
        )
        try:
            await self.dispatch(ex)
        except errors.OpenAIError as exc:
            if not ex.answered:
                await self.send_error(ex, exc)
        except Exception as exc:
            # A bug in mockai: still answer in OpenAI's envelope, then let uvicorn log the traceback.
            if not ex.answered:
                await self.send_error(ex, errors.OpenAIError(500, f"mockai internal error: {type(exc).__name__}: {exc}", type="server_error"))
            raise

    async def dispatch(self, ex: Exchange) -> None:
        path, method = ex.path, ex.method
        if path.startswith("/_mockai/"):
            handler = self.admin_routes.get((method, path)) or (self.admin_routes.get(("GET", path)) if method == "HEAD" else None)
            if handler is None:
                allowed = [m for m, p in self.admin_routes if p == path]
                raise errors.method_not_allowed(method, path, allowed) if allowed else errors.invalid_url(method, path)
            await handler(self, ex)
            return
        self.check_api_key(ex)
        if self.state.cassette is not None and path.startswith("/v1/"):
            from mockai import recorder

            if await recorder.handle(self, ex):
                return
        endpoint = MODEL_ROUTES.get(path)
        model_from_path = None
        if endpoint is None and path.startswith("/v1/engines/"):
            model_from_path, _, rest = path[len("/v1/engines/") :].partition("/")
            target = ENGINE_SUFFIXES.get(rest)
            endpoint = MODEL_ROUTES.get(target) if target else None
        if endpoint is not None:
            if method != "POST":
                raise errors.method_not_allowed(method, path, ("POST",))
            await self.model_request(ex, endpoint, model_from_path)
            return
        if path == "/v1/models" or path.startswith("/v1/models/"):
            if method not in ("GET", "HEAD") and not (method == "DELETE" and path != "/v1/models"):
                raise errors.method_not_allowed(method, path, ("GET",) if path == "/v1/models" else ("GET", "DELETE"))
            await self.models(ex)
            return
        raise errors.invalid_url(method, path)

    def check_api_key(self, ex: Exchange) -> None:
        expected = self.state.settings.api_key
        if expected is None:
            return
        key = ex.api_key
        if key is None:
            raise errors.missing_api_key()
        if key != expected:
            raise errors.incorrect_api_key(key)

    # ------------------------------------------------------------------------------------------------

    async def read_body(self, ex: Exchange, limit: int | None = None) -> bytes:
        """The request body; past `limit` (default: the server's max_body_bytes), OpenAI's 413 naming how many
        bytes came. The rest is read and dropped, so the client sees the answer instead of a broken pipe."""
        if limit is None:
            limit = self.state.settings.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await ex.receive()
            if message["type"] == "http.disconnect":
                break
            part = message.get("body", b"")
            size += len(part)
            if size <= limit:
                chunks.append(part)
            more = bool(message.get("more_body"))
        if size > limit:
            raise errors.payload_too_large(limit, size)
        return b"".join(chunks)

    async def parse_json(self, ex: Exchange) -> dict[str, Any]:
        raw = await self.read_body(ex)
        try:
            # Strict UTF-8 (a BOM allowed): json.loads(bytes) would let UTF-8-encoded surrogates and UTF-16 through.
            body = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise errors.bad_json() from None
        ex.body = body
        if not isinstance(body, dict):
            # [UNVERIFIED] wording: the real API rejects a non-object body with a 400.
            raise errors.OpenAIError(400, f"Invalid type for request body: expected an object, but got {errors.describe_type(body)} instead.", code="invalid_type")
        return body

    def context(self, ex: Exchange, endpoint: str, body: Mapping[str, Any]) -> Ctx:
        state = self.state
        d = generator.digest(state.seed, endpoint, body)
        created = int(time.time()) if state.settings.real_time else generator.created(state.as_of, d)
        return Ctx(as_of=state.as_of, seed=state.seed, digest=d, created=created, path=ex.path)

    async def model_request(self, ex: Exchange, endpoint: Endpoint, model_from_path: str | None) -> None:
        ex.endpoint = endpoint.name
        parse = getattr(endpoint.module, "parse", None)
        body = await parse(self, ex) if parse else await self.parse_json(ex)
        if model_from_path is not None:
            body = {**body, "model": model_from_path}
            ex.body = body
        ctx = self.context(ex, endpoint.name, body)
        plan = endpoint.module.prepare(body, ctx, ex.api_key, ex.headers)
        reply = self.state.rules.choose(plan.call)
        if reply is None and self.state.strict:
            await self.send_error(ex, unmatched(self.state.rules.explain(plan.call)), model=plan.call.model, source="unmatched")
            return
        reply = reply or DEFAULT_REPLY
        model_name = plan.resolved.name
        # Limits key on the id the client sent (`gpt-4o`, as OpenAI's 429 texts name it), not the snapshot it
        # resolves to, so a scenario's `limits: {gpt-4o: ...}` applies; a glob `gpt-4o*` covers the snapshots.
        limit_model = plan.call.model
        if reply.error is not None:
            e = reply.error
            base = errors.for_status(e.status, ex.request_id, body.get("model", ""), ex.api_key, e.type or e.code)
            exc = errors.OpenAIError(
                e.status,
                e.message or base.message,
                type=e.type or base.type,
                param=e.param if e.param is not None else base.param,
                code=e.code if e.code is not None else base.code,
                headers={**base.headers, **e.headers},
            )
            if reply.delay and await self.pause(ex, reply.delay):
                self.record(ex, exc.status, reply.source, exc.body())  # the client left: journaled, not sent
                return
            await self.send_error(ex, exc, model=limit_model, source=reply.source)
            return
        cost = getattr(plan, "prompt_tokens", 0) + (getattr(plan, "max_tokens", None) or 0)
        decision = self.state.limiter.check(ex.api_key, limit_model, cost)
        if decision.error is not None:
            await self.send_error(ex, decision.error, model=limit_model, source="limiter")
            return
        if reply.delay and await self.pause(ex, reply.delay):
            self.record(ex, 200, reply.source)  # the client left: journaled, not sent
            return
        headers = self.base_headers(ex, decision.headers)
        headers["openai-model"] = model_name
        render = getattr(endpoint.module, "render", None)
        if render is not None:
            content_type, payload = render(plan, reply, ctx)
            self.record(ex, 200, reply.source)
            await send_body(ex.answer(), 200, content_type, payload, headers)
        elif getattr(plan, "stream", False):
            self.record(ex, 200, reply.source)
            error_event = errors.OpenAIError(500, "The server had an error while processing your request. Sorry about that!", type="server_error").body()
            events = endpoint.module.chunks(plan, reply, ctx)  # a generator: nothing runs before the answer starts
            await send_stream(ex.answer(), ex.receive, headers, events, reply.stream, error_event)
        else:
            payload = json_bytes(endpoint.module.body(plan, reply, ctx))
            self.record(ex, 200, reply.source)
            await send_body(ex.answer(), 200, JSON, payload, headers)

    async def pause(self, ex: Exchange, seconds: float) -> bool:
        """Hold the answer back `seconds`; True, as soon as it happens, if the client hangs up meanwhile.

        A client that timed out is gone: its task ends now, not when a scripted 30 s delay is over."""

        async def hang_up() -> None:
            while (await ex.receive())["type"] != "http.disconnect":
                await asyncio.sleep(seconds)  # a server whose receive() answers at once: just wait the delay out

        try:
            await asyncio.wait_for(hang_up(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def models(self, ex: Exchange) -> None:
        as_of = self.state.as_of
        if ex.path == "/v1/models":
            body: dict[str, Any] = {"object": "list", "data": [m.as_json() for m in catalogue.available(as_of)]}
        else:
            model_id = ex.path[len("/v1/models/") :]
            model = catalogue.MODELS.get(catalogue.base_of(model_id))
            if model is None or not model.alive(as_of):
                raise errors.OpenAIError(404, f"The model `{model_id}` does not exist or you do not have access to it.", param="model", code="model_not_found")
            if ex.method == "DELETE":
                # [UNVERIFIED] deleting a base model: OpenAI refuses; only fine-tunes of your org can be deleted.
                raise errors.OpenAIError(403, "You have insufficient permissions for this operation. Missing scopes: api.model.delete.", type="invalid_request_error")
            body = {**model.as_json(), "id": model_id}
        self.record(ex, 200, "catalogue")
        await send_body(ex.send, 200, JSON, json_bytes(body), self.base_headers(ex, self.state.limiter.peek(ex.api_key, "")))

    # ------------------------------------------------------------------------------------------------

    def base_headers(self, ex: Exchange, ratelimit: Mapping[str, str]) -> dict[str, str]:
        elapsed = int((time.perf_counter() - ex.started) * 1000)
        return {
            "access-control-expose-headers": "X-Request-ID",
            "openai-organization": "user-mockai",
            "openai-processing-ms": str(max(elapsed, 1)),
            "openai-version": "2020-10-01",
            "x-request-id": ex.request_id,
            **ratelimit,
        }

    async def send_error(self, ex: Exchange, exc: errors.OpenAIError, model: str = "", source: str = "error") -> None:
        headers = self.base_headers(ex, {})
        if not any(k.startswith("x-ratelimit-") for k in exc.headers) and not ex.path.startswith("/_mockai/"):
            headers.update(self.state.limiter.peek(ex.api_key, model))
        headers.update(exc.headers)
        self.record(ex, exc.status, source, exc.body())
        await send_body(ex.send, exc.status, JSON, json_bytes(exc.body()), headers)

    def record(self, ex: Exchange, status: int, source: str, error: Mapping[str, Any] | None = None) -> None:
        if ex.path.startswith("/_mockai/"):
            return
        reply: dict[str, Any] = {"source": source}
        if error is not None:
            reply["error"] = error["error"]
        self.state.journal.record(
            method=ex.method, path=ex.path, headers=mask_headers(ex.headers), json=ex.body, status=status, endpoint=ex.endpoint, reply=reply
        )


def unmatched(explanation: str) -> errors.OpenAIError:
    """Strict mode's answer to a call no rule matches: the engine's explanation, nearest rule first."""
    if not explanation.startswith("no rule matched"):  # a rule fitted but its gates or `times` refused
        explanation = f"no rule matched this call; {explanation}"
    hint = "strict mode is on: add a rule for this call, or turn strict off to get the generated reply."
    return errors.OpenAIError(400, f"mockai: {explanation}\n{hint}", code="mockai_no_rule_matched")


def create_app(state: MockState | None = None) -> MockApp:
    """The ASGI app for a state (a fresh default one when none is given).

    With `MOCKAI_TAP=DIR` set, a `mockai.tap.TapApp` that also writes every answer to DIR for the
    conformance checks; decided here, once, so serving without it costs nothing."""
    import os

    tap = os.environ.get("MOCKAI_TAP")
    if tap:
        from mockai.tap import TapApp

        return TapApp(state or MockState(), tap)
    return MockApp(state or MockState())

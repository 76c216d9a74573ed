"""The pipeline: how a request to the API is answered, step by step, in the order the steps run.

1. **Read and check.** The body is read (JSON, or a multipart form for uploads) and the endpoint's
   `prepare` checks it and resolves the model on the simulated date: OpenAI's 400/404 otherwise.
2. **Choose the reply source.** The first scripted rule that fits; else the cassette in use (a recording,
   or the upstream when recording; a miss is the cassette's 400); else, in strict mode, a 400 naming the
   nearest rule; else the deterministic generator.
3. **Faults and the limiter.** A scripted error is answered as it is and uses no quota. Any other reply
   takes its cost from the rate limiter first: a 429 instead leaves the rule unused. Then scripted delays.
4. **Render.** The endpoint's JSON body or SSE stream (paced and broken as scripted), or recorded bytes.
5. **Journal.** What was asked, what was answered and where it came from; noted before the last byte
   goes out, so a client that reads the journal after its answer finds the entry.

With a cassette in use, a request that mockai's own checks refuse is still answered by its recording
(or the upstream, when recording): the recording is the real API's answer. `GET /v1/models` and the
admin API never go through the cassette.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints import models
from mockai.endpoints.contract import Body, Endpoint, Stream
from mockai.endpoints.headers import dated as dated_headers
from mockai.endpoints.uploads import MAX_UPLOAD_BYTES, parse_form
from mockai.generation import generator
from mockai.memo import Memo
from mockai.recording import keys, proxy
from mockai.recording.session import CassetteSession
from mockai.reply import Reply
from mockai.server.exchange import Exchange
from mockai.server.limiter import Decision
from mockai.server.state import MockState
from mockai.wire import JSON, error_layout, json_bytes, send_body, send_stream

GENERATED = Reply()
"""The reply when nothing is scripted: every field is the generator's."""
LARGE_BODY = 256 * 1024
"""Bodies past this many bytes are checked and counted in a worker thread, so other requests go on."""
STREAM_ERROR = errors.OpenAIError(
    500, "The server had an error while processing your request. Sorry about that!", type="server_error"
).body()
"""The event a scripted `error_after` sends mid-stream."""


async def answer(
    state: MockState, ex: Exchange, endpoint: Endpoint[Any], model_from_path: str | None
) -> None:
    """Answer one request to a model endpoint, through every step above."""
    ex.endpoint = endpoint.name
    # 1. Read and check.
    try:
        body = await _read(state, ex, endpoint)
        if model_from_path is not None:
            body = ex.body = {**body, "model": model_from_path}
        raw = ex.raw if model_from_path is None and not endpoint.form and memoisable(endpoint, body) else None
        ctx = context(state, ex, endpoint.name, body, raw)
        if len(ex.raw or b"") > LARGE_BODY:  # counting megabytes of tokens takes seconds: not on the loop
            plan = await asyncio.to_thread(endpoint.prepare, body, ctx, ex.api_key, ex.headers)
            call = plan.call
        else:
            plan, call = prepared(state, ex, endpoint, body, ctx, raw)
    except errors.OpenAIError:
        if (
            state.cassette is not None
            and ex.raw is not None
            and await _recorded(state, state.cassette, ex) is None
        ):
            return
        raise

    # 2. Choose the reply source; the limiter's say comes with the choice, so a refused rule is not used up.
    decision: Decision | None = None

    def admit(reply: Reply) -> bool:
        nonlocal decision
        if reply.error is not None:
            return True  # scripted errors use no quota
        decision = state.limiter.check(ex.api_key, call.model, plan.cost)
        return decision.allowed

    reply = state.rules.choose(call, admit)
    why = None
    if reply is None:
        if state.cassette is not None:
            await from_cassette(state, ex)
            return
        if strict(state, ex):
            error = unmatched(state.rules.explain(call))
            await send_error(state, ex, error, model=call.model, source="unmatched")
            return
        reply = GENERATED
        admit(reply)
        why = state.rules.explain(call) if state.rules.rules else None  # for the journal: the nearest rule

    # 3. Scripted faults, the limiter, delays. Limits key on the id the client sent (`gpt-4o`, as OpenAI's
    # 429 texts name it), so a scenario's `limits: {gpt-4o: ...}` applies; a glob `gpt-4o*` covers snapshots.
    if reply.error is not None:
        error = scripted_error(reply, ex, body)
        if reply.delay and await pause(ex, reply.delay):
            journal(
                state, ex, error.status, reply.source, error.body()
            )  # the client left: journaled, not sent
            return
        await send_error(state, ex, error, model=call.model, source=reply.source)
        return
    assert decision is not None
    if decision.error is not None:
        await send_error(state, ex, decision.error, model=call.model, source="limiter")
        return
    if reply.delay and await pause(ex, reply.delay):
        journal(state, ex, 200, reply.source, why=why)  # the client left: journaled, not sent
        return

    # 4. Render, 5. journal.
    headers = ex.headers_out(decision.headers)
    headers.update(dated(endpoint.name, plan.resolved.name, ctx.as_of, ex.api_key))
    rendered = render(state, ex, endpoint, plan, reply, ctx, raw)
    journal(state, ex, 200, reply.source, why=why)
    if isinstance(rendered, Stream):
        send = ex.answer()
        await send_stream(
            send,
            ex.receive,
            headers,
            rendered.events,
            reply.stream,
            rendered.error or STREAM_ERROR,
            rendered.done,
            rendered.named,
        )
    else:
        await send_body(ex.answer(), 200, rendered.content_type, rendered.data, headers)


async def answer_models(state: MockState, ex: Exchange) -> None:
    """`GET /v1/models[/{id}]`: always from the catalogue on the simulated date, never a cassette."""
    body = models.answer(ex.method, ex.path, state.as_of)
    journal(state, ex, 200, "catalogue")
    headers = ex.headers_out(state.limiter.peek(ex.api_key, ""))
    await send_body(ex.answer(), 200, JSON, json_bytes(body), headers)


async def from_cassette(state: MockState, ex: Exchange) -> None:
    """Answer from the cassette in use: its recording, else the upstream when recording, else its 400."""
    session = state.cassette
    assert session is not None
    missed = await _recorded(state, session, ex)
    if missed is not None:
        error = session.miss_error(ex.method, ex.path, missed)
        await send_error(state, ex, error, source="cassette")


async def _recorded(state: MockState, session: CassetteSession, ex: Exchange) -> dict[str, Any] | None:
    """Replay the recording of this request, or forward it upstream when the session records: None when
    one of them answered; else the request's normal form, for the miss's 400 to compare."""
    raw = ex.raw if ex.raw is not None else await ex.read_body(state.settings.max_body_bytes)
    normal = _normal(session, ex)
    recorded = session.find(normal)
    if recorded is not None:
        await proxy.replay(_Client(state, ex, "cassette"), recorded, session.options.replay_speed)
        return None
    if not session.records:
        return normal
    outgoing = proxy.Outgoing(ex.method, ex.path, ex.query, list(ex.scope["headers"]), raw)
    await session.forward(outgoing, _Client(state, ex, "upstream"))
    return None


def _normal(session: CassetteSession, ex: Exchange) -> dict[str, Any]:
    ex.body = keys.parse_body(ex.raw or b"", ex.headers.get("content-type", ""))
    return session.normal_form(ex.method, ex.path, ex.query, ex.body)


@dataclass
class _Client:
    """The client of a cassette or upstream answer, as mockai.recording.proxy.Client."""

    state: MockState
    ex: Exchange
    source: str

    def answer(self) -> Any:
        return self.ex.answer()

    async def error(self, exc: errors.OpenAIError) -> None:
        await send_error(self.state, self.ex, exc, source=self.source)

    def journal(self, status: int, error: Mapping[str, Any] | None) -> None:
        journal(self.state, self.ex, status, self.source, error)


# -- the steps' parts ----------------------------------------------------------------------------------


async def _read(state: MockState, ex: Exchange, endpoint: Endpoint[Any]) -> dict[str, Any]:
    """The body as a dict: JSON, or an upload's multipart form."""
    limit = state.settings.max_body_bytes
    if endpoint.form:
        raw = await ex.read_body(min(MAX_UPLOAD_BYTES, limit))
        ex.body = await parse_form(raw, ex.headers.get("content-type", ""))
        return dict(ex.body)
    body = await ex.read_json(limit)
    if not isinstance(body, dict):
        # [UNVERIFIED] wording: the real API rejects a non-object body with a 400.
        raise errors.OpenAIError(
            400,
            f"Invalid type for request body: expected an object, but got {errors.describe_type(body)} "
            "instead.",
            code="invalid_type",
        )
    return body


def context(
    state: MockState, ex: Exchange, endpoint: str, body: Mapping[str, Any], raw: bytes | None = None
) -> Ctx:
    """What rendering needs besides the body: the clock, the seed, and the digest every id derives from.

    `raw`: the bytes `body` was parsed from, as they came: the same bytes (to the same path and host, on
    the same date and seed) give the same context, so a repeated request takes it from a bounded memo
    instead of hashing the canonical JSON again."""
    scheme, host = ex.scope.get("scheme", "http"), ex.headers.get("host", "127.0.0.1")
    if raw is None or state.settings.real_time:
        return _context(state, ex, endpoint, body, scheme, host)
    key = (state.seed, state.as_of, endpoint, ex.path, scheme, host, raw)
    found = _CONTEXTS.get(key)
    if found is not None and found.store is state.store:
        return found
    return _CONTEXTS.put(key, _context(state, ex, endpoint, body, scheme, host))


def _context(
    state: MockState, ex: Exchange, endpoint: str, body: Mapping[str, Any], scheme: str, host: str
) -> Ctx:
    digest = generator.digest(state.seed, endpoint, body)
    created = int(time.time()) if state.settings.real_time else generator.created(state.as_of, digest)
    return Ctx(
        as_of=state.as_of,
        seed=state.seed,
        digest=digest,
        created=created,
        path=ex.path,
        base_url=f"{scheme}://{host}",
        store=state.store,
    )


_CONTEXTS: Memo[tuple[int, dt.date, str, str, str, str, bytes], Ctx] = Memo(
    entries=4096, size=16_000_000, size_of=lambda k: len(k[-1]) + len(k[-2])
)
"""Request bytes (and where they were sent) -> context: 4,096 requests and 16 MB of them at most."""


MEMOISABLE = frozenset({"chat", "completions", "embeddings", "edits", "moderations"})
"""Endpoints whose checks and bodies depend on the request, clock and seed alone. Not Responses (its
`previous_response_id` reads the server's store), images (they store what their URLs serve), audio."""


def memoisable(endpoint: Endpoint[Any], body: Mapping[str, Any]) -> bool:
    """Whether this request's plan and body may be memoised: a pure endpoint, and nothing to store."""
    return endpoint.name in MEMOISABLE and not body.get("store")


def prepared(
    state: MockState, ex: Exchange, endpoint: Endpoint[Any], body: dict[str, Any], ctx: Ctx, raw: bytes | None
) -> tuple[Any, Call]:
    """`endpoint.prepare`, memoised by the request's bytes, path, simulated date and seed (bounded).

    A suite sends the same request over and over, and its checks, model resolution and token counts depend
    on nothing else; a repeat takes the first one's plan with its own `Call` (its parsed body, key and
    headers, which rules match on). A refused request is never kept: it is checked every time.

    Returns the plan, for rendering (the first request's: its content is this one's), and this request's
    `Call`, for the rules, the limiter and the journal."""
    if raw is None:
        plan = endpoint.prepare(body, ctx, ex.api_key, ex.headers)
        return plan, plan.call
    key = (endpoint.name, ex.path, state.as_of, state.seed, raw)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS.put(key, endpoint.prepare(body, ctx, ex.api_key, ex.headers))
        return plan, plan.call
    return plan, with_request(plan.call, body, ex.api_key, ex.headers)


def with_request(
    first: Call, body: Mapping[str, Any], api_key: str | None, headers: Mapping[str, str]
) -> Call:
    """`first` with this request's body, key and headers: `dataclasses.replace` without its per-field
    `__init__` (a frozen dataclass sets each field through `object.__setattr__`), a third of its cost.
    Every other field is copied as it is, so a field added to `Call` later is carried over too."""
    call: Call = object.__new__(Call)
    call.__dict__.update(first.__dict__, body=body, api_key=api_key, headers=headers)
    return call


def dated(endpoint: str, model: str, as_of: dt.date, api_key: str | None) -> Mapping[str, str]:
    """`endpoints.headers.dated`, memoised (bounded): a client sends the same key and model every time, and
    hashing its key into an `openai-project` id costs more than the rest of the headers together."""
    key = (endpoint, model, as_of, api_key)
    found = _DATED.get(key)
    if found is None:
        found = _DATED.put(key, MappingProxyType(dated_headers(endpoint, model, as_of, api_key)))
    return found


_DATED: Memo[tuple[str, str, dt.date, str | None], Mapping[str, str]] = Memo(
    entries=1024, size=1_000_000, size_of=lambda k: len(k[1]) + len(k[3] or "")
)
"""(endpoint, model, date, key) -> dated headers: 1,024 of them and 1 M characters of models and keys."""


def render(
    state: MockState,
    ex: Exchange,
    endpoint: Endpoint[Any],
    plan: Any,
    reply: Reply,
    ctx: Ctx,
    raw: bytes | None,
) -> Body | Stream:
    """`endpoint.render`; a whole body is memoised (bounded) by the request's bytes, the clock and the reply.

    The same request, seed and date with the same reply render the same bytes, ids and `created` included;
    streams, real-time clocks and replies with scripted usage or endpoint extras are rendered every time.
    (An error reply is never rendered, and pacing and faults only shape streams.)"""
    if raw is None or state.settings.real_time or reply.usage or reply.extra:
        return endpoint.render(plan, reply, ctx)
    r = reply
    said = (r.text, r.tool_calls, r.function_call, r.refusal, r.finish_reason, r.embedding, r.source)
    key = (endpoint.name, ex.path, ctx.as_of, ctx.digest, ctx.created, said, raw)
    found = _BODIES.get(key)
    if found is not None:
        return found
    rendered = endpoint.render(plan, reply, ctx)
    if isinstance(rendered, Body) and len(rendered.data) <= MAX_MEMO_BODY:
        _BODIES.put(key, rendered)
    return rendered


_PLANS: Memo[tuple[str, str, Any, int, bytes], Any] = Memo(
    entries=1024, size=8_000_000, size_of=lambda k: len(k[-1])
)
"""Request bytes -> checked plan: 1,024 requests and 8 MB of them at most."""
MAX_MEMO_BODY = 65_536
"""A float embedding (1,536 coordinates, pretty-printed) is about 40 KB."""
_BODIES: Memo[tuple[Any, ...], Body] = Memo(entries=256, size=8_000_000, size_of=lambda k: len(k[-1]))
"""Request bytes and reply -> rendered body: 256 bodies of at most 64 KB each, and 8 MB of requests."""


def scripted_error(reply: Reply, ex: Exchange, body: Mapping[str, Any]) -> errors.OpenAIError:
    """A rule's `error:` as OpenAI would send it: the standard body of its status, with what the rule sets."""
    e = reply.error
    assert e is not None
    base = errors.for_status(
        e.status, ex.request_id, str(body.get("model", "")), ex.api_key, e.type or e.code
    )
    return errors.OpenAIError(
        e.status,
        e.message or base.message,
        type=e.type or base.type,
        param=e.param if e.param is not None else base.param,
        code=e.code if e.code is not None else base.code,
        headers={**base.headers, **e.headers},
    )


STRICT_HEADER = "x-mockai-strict"
"""A request header that turns strict mode on (`true`) or off (`false`) for that request alone."""


def strict(state: MockState, ex: Exchange) -> bool:
    """Whether a call no rule matches is refused: the request's x-mockai-strict header, else the server."""
    value = ex.headers.get(STRICT_HEADER)
    if value is None:
        return state.strict
    flag = value.strip().lower()
    if flag not in ("true", "false", "1", "0"):
        raise errors.OpenAIError(
            400,
            f"mockai: the {STRICT_HEADER} header must be true or false; got {value!r}",
            param=STRICT_HEADER,
        )
    return flag in ("true", "1")


def unmatched(explanation: str) -> errors.OpenAIError:
    """Strict mode's answer to a call no rule matches: the engine's explanation, nearest rule first."""
    if not explanation.startswith("no rule matched"):  # a rule fitted but its gates or `times` refused
        explanation = f"no rule matched this call; {explanation}"
    hint = "strict mode is on: add a rule for this call, or turn strict off to get the generated reply."
    return errors.OpenAIError(400, f"mockai: {explanation}\n{hint}", code="mockai_no_rule_matched")


async def pause(ex: Exchange, seconds: float) -> bool:
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


async def send_error(
    state: MockState, ex: Exchange, exc: errors.OpenAIError, model: str = "", source: str = "error"
) -> None:
    """Answer with an error in OpenAI's envelope, with the limiter's headers for `model`, and journal it."""
    headers = ex.headers_out({})
    if not any(k.startswith("x-ratelimit-") for k in exc.headers) and not ex.path.startswith("/_mockai/"):
        headers.update(state.limiter.peek(ex.api_key, model))
    headers.update(exc.headers)
    body = exc.body()
    journal(state, ex, exc.status, source, body)
    content_type, data = error_layout(exc.status, exc.code, body)
    await send_body(ex.answer(), exc.status, content_type, data, headers)


@lru_cache(maxsize=1024)
def _source_only(source: str) -> Mapping[str, Any]:
    """The journal's `reply` of an answer that is not an error: one read-only mapping per source, shared
    (bounded: rule sources come from files, but never without end)."""
    return MappingProxyType({"source": source})


def journal(
    state: MockState,
    ex: Exchange,
    status: int,
    source: str,
    error: Mapping[str, Any] | None = None,
    why: str | None = None,
) -> None:
    """Note the answer in the journal (not for admin requests); `why`: how the rules missed, if any exist."""
    ex.source = source
    if ex.path.startswith("/_mockai/"):
        return
    if error is None and why is None:
        reply: Mapping[str, Any] = _source_only(source)
    else:
        reply = {"source": source}
        if error is not None:
            reply["error"] = error["error"]
        if why is not None:
            reply["why"] = why
    state.journal.record(
        raw=ex.raw,
        method=ex.method,
        path=ex.path,
        headers=ex.masked_headers,
        header_bytes=ex.header_bytes,
        json=ex.body,
        status=status,
        endpoint=ex.endpoint,
        reply=reply,
        json_from_raw=ex.body is ex.parsed and ex.body is not None,
    )

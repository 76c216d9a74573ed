"""The admin API under /_mockai/: lets a test in any language inspect, script and reset a server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from mockai import errors, settings
from mockai.models import catalogue
from mockai.scenario.files import ScenarioError, parse_scenario
from mockai.scenario.lint import never_fire
from mockai.scenario.reload import confined
from mockai.server.exchange import Exchange, parse_json
from mockai.server.state import MockState
from mockai.version import __version__
from mockai.wire import JSON, json_bytes, send_body

AdminHandler = Callable[[MockState, Exchange], Awaitable[None]]


async def route(state: MockState, ex: Exchange) -> None:
    """Answer an admin request; OpenAI-shaped 404/405 for a path or method it does not have."""
    handler = ROUTES.get((ex.method, ex.path)) or (
        ROUTES.get(("GET", ex.path)) if ex.method == "HEAD" else None
    )
    if handler is None:
        allowed = [m for m, p in ROUTES if p == ex.path]
        if allowed:
            raise errors.method_not_allowed(ex.method, ex.path, allowed)
        raise errors.invalid_url(ex.method, ex.path)
    await handler(state, ex)


def _authorise(state: MockState, ex: Exchange) -> None:
    token = state.settings.admin_token
    if token is not None and ex.headers.get("authorization", "") != f"Bearer {token}":
        raise errors.OpenAIError(
            401, "mockai: the admin API needs 'Authorization: Bearer <admin token>' (set with --admin-token)."
        )


async def _reply(ex: Exchange, body: Any, status: int = 200) -> None:
    await send_body(ex.answer(), status, JSON, json_bytes(body), ex.headers_out({}))


async def _json_body(state: MockState, ex: Exchange) -> Any:
    raw = await ex.read_body(state.settings.max_body_bytes)
    return parse_json(raw) if raw.strip() else {}


async def health(state: MockState, ex: Exchange) -> None:
    await _reply(
        ex, {"status": "ok", "version": __version__, "as_of": state.as_of.isoformat(), "seed": state.seed}
    )


async def reset(state: MockState, ex: Exchange) -> None:
    _authorise(state, ex)
    state.reset()
    await _reply(ex, {"status": "reset"})


async def requests(state: MockState, ex: Exchange) -> None:
    """The journal, oldest first; `?after=SEQ&limit=N` pages through it (`has_more` says when to go on)."""
    _authorise(state, ex)
    query = parse_qs(ex.query, keep_blank_values=True)
    after, limit = _whole(query, "after", 0), _whole(query, "limit", None)
    entries, more = state.journal.page(after or 0, limit)

    def listing() -> bytes:
        return json_bytes({"object": "list", "data": [e.as_json() for e in entries], "has_more": more})

    # Up to journal_bytes (128 MiB) of entries: a large page is built in a worker thread, off the loop.
    large = state.journal.bytes > LARGE_PAGE and (limit is None or limit > 100)
    data = await asyncio.to_thread(listing) if large else listing()
    await send_body(ex.answer(), 200, JSON, data, ex.headers_out({}))


LARGE_PAGE = 4 * 1024 * 1024
"""Journal bytes past which an unpaged `GET /_mockai/requests` is serialised in a worker thread."""


def _whole(query: dict[str, list[str]], name: str, default: int | None) -> int | None:
    if name not in query:
        return default
    text = query[name][-1]
    if not text.isdigit() or len(text) > 18 or (name == "limit" and int(text) < 1):
        least = 1 if name == "limit" else 0
        raise errors.OpenAIError(
            400,
            f"mockai: {name} must be a whole number of at least {least}, e.g. ?after=120&limit=100; "
            f"got {text[:40]!r}.",
            param=name,
        )
    return int(text)


async def clock(state: MockState, ex: Exchange) -> None:
    _authorise(state, ex)
    if ex.method == "PUT":
        body = await _json_body(state, ex)
        value = body.get("as_of") if isinstance(body, dict) else None
        try:
            state.as_of = settings.check("as_of", value) if value is not None else catalogue.today()
        except errors.UsageError as exc:
            raise errors.OpenAIError(400, str(exc), param="as_of") from None
    await _reply(ex, {"as_of": state.as_of.isoformat()})


async def limits(state: MockState, ex: Exchange) -> None:
    _authorise(state, ex)
    body = await _json_body(state, ex)
    if not isinstance(body, dict):
        raise errors.OpenAIError(400, 'mockai: send {"rpm": N, "tpm": N, "model": "optional glob"}.')
    try:
        state.limiter.set_limits(rpm=body.get("rpm"), tpm=body.get("tpm"), model=body.get("model"))
    except errors.UsageError as exc:
        raise errors.OpenAIError(400, str(exc)) from None
    await _reply(ex, {"status": "ok"})


async def scenario(state: MockState, ex: Exchange) -> None:
    """PUT a scenario (the structure of a scenario file, as JSON): it replaces every rule, atomically.

    With `?file=NAME`, the scenario file NAME of the server's scenario folder instead (never a path
    outside it); it is then the file `POST /_mockai/reload` and `--watch` read again."""
    _authorise(state, ex)
    query = parse_qs(ex.query, keep_blank_values=True)
    if "file" in query:
        path = confined(state.settings.scenario_dir, query["file"][-1])
        try:
            # Parsing a file: not on the event loop. Later reloads check it is still inside the folder.
            await asyncio.to_thread(state.reloader.load, (path,), folder=state.settings.scenario_dir)
        except ScenarioError as exc:
            raise errors.OpenAIError(400, f"mockai: the scenario has mistakes: {exc}", param="file") from None
        await _reply(ex, {"status": "ok", "rules": len(state.rules.rules)})
        return
    body = await _json_body(state, ex)
    try:
        parsed = await asyncio.to_thread(parse_scenario, body, name="admin")
    except ScenarioError as exc:
        raise errors.OpenAIError(400, f"mockai: the scenario has mistakes: {exc}") from None
    state.reloader.forget()  # first: the rules are the admin's now, no watcher may load files over them
    loaded = state.rules.replace(parsed)
    state.forget_scenarios()
    for item in loaded:
        state.apply(item)
    answer: dict[str, Any] = {"status": "ok", "rules": len(state.rules.rules)}
    warnings = [str(p) for item in loaded for p in never_fire(item, state.as_of)]
    if warnings:
        answer["warnings"] = warnings  # rules that load but can never answer
    await _reply(ex, answer)


async def clear_scenario(state: MockState, ex: Exchange) -> None:
    """DELETE the scenario: every rule goes (limits, clock and seed stay until a reset)."""
    _authorise(state, ex)
    state.drop_rules()
    await _reply(ex, {"status": "ok", "rules": 0})


async def reload(state: MockState, ex: Exchange) -> None:
    """POST: read the scenario files again and swap their rules in at once; on a mistake the old rules
    stay."""
    _authorise(state, ex)
    files = state.scenario_files
    if not files:
        raise errors.OpenAIError(
            400,
            "mockai: there are no scenario files to reload: start the server with --scenario FILE, or PUT "
            "/_mockai/scenario?file=NAME.",
        )
    try:
        await asyncio.to_thread(state.reloader.load)
    except ScenarioError as exc:
        raise errors.OpenAIError(
            400, f"mockai: the scenario files have mistakes; the old rules stay: {exc}"
        ) from None
    await _reply(ex, {"status": "ok", "rules": len(state.rules.rules), "files": list(files)})


async def add_rule(state: MockState, ex: Exchange) -> None:
    """POST one rule, shaped like an entry of a file's `rules:`; it is tried after the rules already
    loaded."""
    _authorise(state, ex)
    body = await _json_body(state, ex)
    try:
        rule = state.rules.add_rule(body)
    except ScenarioError as exc:
        raise errors.OpenAIError(400, f"mockai: the rule has mistakes: {exc}") from None
    await _reply(ex, {"status": "ok", "source": rule.source, "rules": len(state.rules.rules)})


ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("GET", "/_mockai/health"): health,
    ("POST", "/_mockai/reset"): reset,
    ("GET", "/_mockai/requests"): requests,
    ("GET", "/_mockai/clock"): clock,
    ("PUT", "/_mockai/clock"): clock,
    ("PUT", "/_mockai/limits"): limits,
    ("PUT", "/_mockai/scenario"): scenario,
    ("DELETE", "/_mockai/scenario"): clear_scenario,
    ("POST", "/_mockai/rules"): add_rule,
    ("POST", "/_mockai/reload"): reload,
}

"""The admin API under /_mockai/: lets a test in any language inspect, script and reset a server."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mockai import __version__, catalogue, errors
from mockai.responses import JSON, json_bytes, send_body

if TYPE_CHECKING:
    from mockai.app import Exchange, MockApp

AdminHandler = Callable[["MockApp", "Exchange"], Awaitable[None]]


def _authorise(app: MockApp, ex: Exchange) -> None:
    token = app.state.settings.admin_token
    if token is not None and ex.headers.get("authorization", "") != f"Bearer {token}":
        raise errors.OpenAIError(401, "mockai: the admin API needs 'Authorization: Bearer <admin token>' (set with --admin-token).")


async def _reply(app: MockApp, ex: Exchange, body: Any, status: int = 200) -> None:
    await send_body(ex.send, status, JSON, json_bytes(body), app.base_headers(ex, {}))


async def _json_body(app: MockApp, ex: Exchange) -> Any:
    raw = await app.read_body(ex)
    try:
        return json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        raise errors.bad_json() from None


async def health(app: MockApp, ex: Exchange) -> None:
    state = app.state
    await _reply(app, ex, {"status": "ok", "version": __version__, "as_of": state.as_of.isoformat(), "seed": state.seed})


async def reset(app: MockApp, ex: Exchange) -> None:
    _authorise(app, ex)
    app.state.reset()
    await _reply(app, ex, {"status": "reset"})


async def requests(app: MockApp, ex: Exchange) -> None:
    _authorise(app, ex)
    await _reply(app, ex, {"object": "list", "data": [e.as_json() for e in app.state.journal.entries()]})


async def clock(app: MockApp, ex: Exchange) -> None:
    _authorise(app, ex)
    if ex.method == "PUT":
        body = await _json_body(app, ex)
        value = body.get("as_of") if isinstance(body, dict) else None
        try:
            app.state.as_of = catalogue.parse_date(value) if value is not None else catalogue.today()
        except errors.UsageError as exc:
            raise errors.OpenAIError(400, str(exc), param="as_of") from None
    await _reply(app, ex, {"as_of": app.state.as_of.isoformat()})


async def limits(app: MockApp, ex: Exchange) -> None:
    _authorise(app, ex)
    body = await _json_body(app, ex)
    if not isinstance(body, dict):
        raise errors.OpenAIError(400, "mockai: send {\"rpm\": N, \"tpm\": N, \"model\": \"optional glob\"}.")
    try:
        app.state.limiter.set_limits(rpm=body.get("rpm"), tpm=body.get("tpm"), model=body.get("model"))
    except errors.UsageError as exc:
        raise errors.OpenAIError(400, str(exc)) from None
    await _reply(app, ex, {"status": "ok"})


async def scenario(app: MockApp, ex: Exchange) -> None:
    """PUT a scenario (the structure of a scenario file, as JSON): it replaces every rule, atomically."""
    _authorise(app, ex)
    from mockai.scenarios import ScenarioError, parse_scenario

    body = await _json_body(app, ex)
    try:
        loaded = app.state.rules.replace(parse_scenario(body, name="admin"))
    except ScenarioError as exc:
        raise errors.OpenAIError(400, f"mockai: the scenario has mistakes: {exc}") from None
    for item in loaded:
        app.state.apply(item)
    await _reply(app, ex, {"status": "ok", "rules": len(app.state.rules.rules)})


async def clear_scenario(app: MockApp, ex: Exchange) -> None:
    """DELETE the scenario: every rule goes (limits, clock and seed stay until a reset)."""
    _authorise(app, ex)
    app.state.rules.clear()
    await _reply(app, ex, {"status": "ok", "rules": 0})


async def add_rule(app: MockApp, ex: Exchange) -> None:
    """POST one rule, shaped like an entry of a file's `rules:`; it is tried after the rules already loaded."""
    _authorise(app, ex)
    from mockai.scenarios import ScenarioError

    body = await _json_body(app, ex)
    try:
        rule = app.state.rules.add_rule(body)
    except ScenarioError as exc:
        raise errors.OpenAIError(400, f"mockai: the rule has mistakes: {exc}") from None
    await _reply(app, ex, {"status": "ok", "source": rule.source, "rules": len(app.state.rules.rules)})


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
}

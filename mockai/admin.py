"""The admin API under /_mockai/: lets a test in any language inspect, script and reset a server."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

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
        return json.loads(raw.decode("utf-8-sig")) if raw.strip() else {}
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
    """PUT a scenario (the structure of a scenario file, as JSON): it replaces every rule, atomically.

    With `?file=NAME`, the scenario file NAME of the server's scenario folder instead (never a path
    outside it); it is then the file `POST /_mockai/reload` and `--watch` read again."""
    _authorise(app, ex)
    from mockai.reload import confined, reloader
    from mockai.scenarios import ScenarioError, parse_scenario

    query = parse_qs(ex.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if "file" in query:
        path = confined(app.state.settings.scenario_dir, query["file"][-1])
        try:
            reloader(app.state).load((path,))
        except ScenarioError as exc:
            raise errors.OpenAIError(400, f"mockai: the scenario has mistakes: {exc}", param="file") from None
        await _reply(app, ex, {"status": "ok", "rules": len(app.state.rules.rules)})
        return
    body = await _json_body(app, ex)
    try:
        parsed = parse_scenario(body, name="admin")
    except ScenarioError as exc:
        raise errors.OpenAIError(400, f"mockai: the scenario has mistakes: {exc}") from None
    reloader(app.state).forget()  # first: the rules are the admin's now, no watcher may load files over them
    loaded = app.state.rules.replace(parsed)
    for item in loaded:
        app.state.apply(item)
    await _reply(app, ex, {"status": "ok", "rules": len(app.state.rules.rules)})


async def clear_scenario(app: MockApp, ex: Exchange) -> None:
    """DELETE the scenario: every rule goes (limits, clock and seed stay until a reset)."""
    _authorise(app, ex)
    from mockai.reload import reloader

    app.state.rules.clear()
    reloader(app.state).forget()
    await _reply(app, ex, {"status": "ok", "rules": 0})


async def reload(app: MockApp, ex: Exchange) -> None:
    """POST: read the scenario files again and swap their rules in at once; on a mistake the old rules stay."""
    _authorise(app, ex)
    from mockai.reload import reloader
    from mockai.scenarios import ScenarioError

    files = app.state.scenario_files
    if not files:
        raise errors.OpenAIError(400, "mockai: there are no scenario files to reload: start the server with --scenario FILE, or PUT /_mockai/scenario?file=NAME.")
    try:
        reloader(app.state).load()
    except ScenarioError as exc:
        raise errors.OpenAIError(400, f"mockai: the scenario files have mistakes; the old rules stay: {exc}") from None
    await _reply(app, ex, {"status": "ok", "rules": len(app.state.rules.rules), "files": list(files)})


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
    ("POST", "/_mockai/reload"): reload,
}

"""The cassette layer in front of the model pipeline: replay recorded answers, or proxy and record.

`use_cassette(state, path, mode, upstream)` puts a cassette in use; from then on every `/v1/...`
request is answered from it (`handle`, called by `MockApp.dispatch`) or, when the record mode allows,
forwarded to the upstream with httpx, returned to the client unchanged (streams chunk by chunk) and
appended to the cassette before the client sees the end of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockai import fingerprint
from mockai.cassette import Cassette
from mockai.errors import OpenAIError, UsageError
from mockai.proxy import close_client, display, forward, replay
from mockai.record_mode import RecordMode, ReplaySpeed
from mockai.scrub import Scrubber

if TYPE_CHECKING:
    import os

    from mockai.app import Exchange, MockApp
    from mockai.state import MockState

HINT = "Re-record with --record-mode=new_episodes --upstream URL, or make the request match the recording."


@dataclass
class CassetteSession:
    """A cassette in use by a server: its mode, its upstream, and what it did so far."""

    cassette: Cassette
    mode: RecordMode
    records: bool
    """Misses go upstream and are appended (modes all, new_episodes; once when the file is new)."""
    upstream: str | None
    replay_speed: ReplaySpeed = ReplaySpeed.FAST
    timeout: float = 600.0
    upstream_api_key: str | None = None
    hint: str = HINT
    misses: list[str] = field(default_factory=list)
    """The message of every request that matched nothing, for a test fixture to report."""
    recorded: int = 0
    replayed: int = 0
    client: Any = field(default=None, repr=False)
    """The httpx.AsyncClient to the upstream (mockai.proxy), and the event loop it belongs to."""
    loop: Any = field(default=None, repr=False)

    @property
    def replays(self) -> bool:
        return self.mode is not RecordMode.ALL

    def describe(self) -> str:
        if not self.records:
            return f"replaying {self.cassette.path} ({len(self.cassette)} interactions, record mode '{self.mode.value}')"
        return f"recording into {self.cassette.path} from {display(self.upstream or '')} (record mode '{self.mode.value}')"


def use_cassette(
    state: MockState,
    path: str | os.PathLike[str],
    mode: RecordMode | str = RecordMode.NONE,
    upstream: str | None = None,
    *,
    ignore: tuple[str, ...] | None = None,
    scrub_headers: tuple[str, ...] | None = None,
    scrub_fields: tuple[str, ...] | None = None,
    replay_speed: ReplaySpeed | str | None = None,
    upstream_api_key: str | None = None,
    timeout: float | None = None,
    hint: str = HINT,
) -> CassetteSession:
    """Serve `/v1/...` from a cassette (replacing any in use); options left None come from the settings."""
    settings = state.settings
    mode = RecordMode(mode)
    speed = ReplaySpeed(replay_speed or settings.replay_speed)
    scrub = Scrubber.build(
        settings.scrub_headers if scrub_headers is None else scrub_headers,
        settings.scrub_fields if scrub_fields is None else scrub_fields,
        [upstream_api_key] if upstream_api_key else [],
    )
    cassette = Cassette.load(path, settings.match_ignore if ignore is None else ignore, scrub)
    records = mode in (RecordMode.ALL, RecordMode.NEW_EPISODES) or (mode is RecordMode.ONCE and not cassette.existed)
    if records and cassette.read_only:
        raise UsageError(f"record mode '{mode.value}' would write, but {cassette.read_only}.")
    if records and not upstream:
        why = f"{cassette.path} does not exist yet" if mode is RecordMode.ONCE else "it sends requests upstream"
        raise UsageError(
            f"record mode '{mode.value}' needs an upstream because {why}: pass --upstream URL (e.g. https://api.openai.com/v1), "
            "or use record mode 'none' to replay only."
        )
    if upstream is not None and (urlsplit(upstream).scheme not in ("http", "https") or urlsplit(upstream).query):
        raise UsageError(f"upstream {display(upstream)!r} is not an http(s) base URL; give one like https://api.openai.com/v1 (no query).")
    cassette.overwrite = mode is RecordMode.ALL
    if upstream:
        cassette.header_extra["upstream"] = display(upstream)
    eject(state)
    session = CassetteSession(
        cassette=cassette,
        mode=mode,
        records=records,
        upstream=upstream.rstrip("/") if upstream else None,
        replay_speed=speed,
        timeout=settings.upstream_timeout if timeout is None else timeout,
        upstream_api_key=upstream_api_key,
        hint=hint,
    )
    state.cassette = session
    return session


def eject(state: MockState) -> CassetteSession | None:
    """Stop using the cassette (closing its file); returns the session, to report on what happened."""
    session: CassetteSession | None = state.cassette
    state.cassette = None
    if session is not None:
        close_client(session)
        session.cassette.close()
    return session


async def handle(app: MockApp, ex: Exchange) -> bool:
    """Answer a request from the cassette or through the upstream; False when no cassette is in use."""
    session: CassetteSession | None = app.state.cassette
    if session is None:
        return False
    from mockai.app import MODEL_ROUTES

    raw = await app.read_body(ex)
    query = ex.scope.get("query_string", b"").decode("latin-1")
    ex.body = fingerprint.parse_body(raw, ex.headers.get("content-type", ""))
    route = MODEL_ROUTES.get(ex.path)
    ex.endpoint = route.name if route else None
    cassette = session.cassette
    normal = cassette.normal_form(ex.method, ex.path, query, ex.body)
    if session.replays:
        i = cassette.next_match(fingerprint.key(normal), repeat_last=not session.records)
        if i is not None:
            try:
                recorded = cassette.interaction(i)
            except UsageError as exc:  # a hand-edited line broke: say which
                raise OpenAIError(500, f"mockai: {exc}", type="server_error", code="cassette_invalid") from None
            await replay(app, ex, session, recorded)
            return True
    if not session.records:
        exc = miss_error(session, ex, normal)
        session.misses.append(exc.message)
        await app.send_error(ex, exc, source="cassette")
        return True
    await forward(app, ex, session, raw, query)
    return True


def miss_error(session: CassetteSession, ex: Exchange, normal: dict[str, Any]) -> OpenAIError:
    """The 400 for a request no recording matches: names the closest recording and how it differs."""
    cassette = session.cassette
    message = f"mockai: no recorded interaction matches {ex.method} {ex.path} in {cassette.path} (record mode '{session.mode.value}')."
    best = cassette.closest(normal)
    if best is None:
        message += " The cassette is empty." if cassette.existed else " The cassette file does not exist."
    else:
        i, diffs = best
        line = cassette.line_numbers[i]
        at = f"#{i + 1}" + (f" (line {line})" if line else "")
        message += f" Closest: {at}, differs in {fingerprint.describe(diffs)}." if diffs else f" Closest: {at}."
    return OpenAIError(400, f"{message} {session.hint}", code="cassette_miss")



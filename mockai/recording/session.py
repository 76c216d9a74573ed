"""A cassette in use by a server: how it replays, whether and where it records, and what it did so far.

`open_session` checks the options and loads the cassette; the server's pipeline then asks the session
for the recording that answers a request (`find`), for the 400 when none does (`miss_error`), and hands
misses to `mockai.recording.proxy.forward` when the session records.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockai import settings as settings_
from mockai.errors import OpenAIError, UsageError
from mockai.recording import keys
from mockai.recording.cassette import Cassette
from mockai.recording.interaction import Interaction
from mockai.recording.modes import RecordMode, ReplaySpeed
from mockai.recording.proxy import Client, Outgoing, Upstream, display, forward
from mockai.recording.scrub import Scrubber
from mockai.settings import Settings

HINT = "Re-record with --record-mode=new_episodes --upstream URL, or make the request match the recording."


@dataclass(frozen=True)
class CassetteOptions:
    """How a cassette is matched, scrubbed, replayed and recorded; from the server's settings by default."""

    ignore: tuple[str, ...] = keys.DEFAULT_IGNORE
    """Body fields (dotted paths) left out when matching a request to a recording."""
    scrub_headers: tuple[str, ...] = ()
    scrub_fields: tuple[str, ...] = ()
    replay_speed: ReplaySpeed = ReplaySpeed.FAST
    timeout: float = 600.0
    """Seconds the upstream may take."""
    upstream_api_key: str | None = None
    """The key sent upstream instead of the client's (the fixture's real key when recording)."""
    hint: str = HINT
    """What a miss's 400 tells the user to do."""

    @classmethod
    def of(
        cls, settings: Settings, hint: str = HINT, upstream_api_key: str | None = None, **changes: Any
    ) -> CassetteOptions:
        """The options `settings` give, with `changes` (settings names: match_ignore, scrub_headers,
        scrub_fields, replay_speed, upstream_timeout) checked as any setting is."""
        merged = settings_.merge(changes, lambda key: f"{key} in use_cassette", base=settings)
        return cls(
            ignore=merged.match_ignore,
            scrub_headers=merged.scrub_headers,
            scrub_fields=merged.scrub_fields,
            replay_speed=ReplaySpeed(merged.replay_speed),
            timeout=merged.upstream_timeout,
            upstream_api_key=upstream_api_key,
            hint=hint,
        )


@dataclass
class CassetteSession:
    """A cassette in use by a server: its mode, its upstream, and what it did so far."""

    cassette: Cassette
    mode: RecordMode
    records: bool
    """Misses go upstream and are appended (modes all, new_episodes; once when the file is new)."""
    upstream: Upstream | None
    """Where misses are recorded from (a session that records has one)."""
    options: CassetteOptions = field(default_factory=CassetteOptions)
    misses: list[str] = field(default_factory=list)
    """The message of every request that matched nothing, for a test fixture to report."""
    recorded: int = 0
    replayed: int = 0

    @property
    def replays(self) -> bool:
        return self.mode is not RecordMode.ALL

    def describe(self) -> str:
        mode = f"record mode '{self.mode.value}'"
        if not self.records:
            return f"replaying {self.cassette.path} ({len(self.cassette)} interactions, {mode})"
        source = display(self.upstream.url if self.upstream else "")
        return f"recording into {self.cassette.path} from {source} ({mode})"

    def normal_form(self, method: str, path: str, query: str, body: Any) -> dict[str, Any]:
        """The request as the cassette keys and compares it."""
        return self.cassette.normal_form(method, path, query, body)

    def find(self, normal: Mapping[str, Any]) -> Interaction | None:
        """The recording that answers this request next, if the session replays and one matches."""
        if not self.replays:
            return None
        i = self.cassette.next_match(keys.key(normal), repeat_last=not self.records)
        if i is None:
            return None
        try:
            recorded = self.cassette.interaction(i)
        except UsageError as exc:  # a hand-edited line broke: say which
            raise OpenAIError(500, f"mockai: {exc}", type="server_error", code="cassette_invalid") from None
        self.replayed += 1
        return recorded

    def miss_error(self, method: str, path: str, normal: dict[str, Any]) -> OpenAIError:
        """The 400 for a request no recording matches: names the closest recording and how it differs."""
        cassette = self.cassette
        message = (
            f"mockai: no recorded interaction matches {method} {path} in {cassette.path} "
            f"(record mode '{self.mode.value}')."
        )
        best = cassette.closest(normal)
        if best is None:
            message += " The cassette is empty." if cassette.existed else " The cassette file does not exist."
        else:
            i, diffs = best
            line = cassette.line_numbers[i]
            at = f"#{i + 1}" + (f" (line {line})" if line else "")
            message += f" Closest: {at}, differs in {keys.describe(diffs)}." if diffs else f" Closest: {at}."
        error = OpenAIError(400, f"{message} {self.options.hint}", code="cassette_miss")
        self.misses.append(error.message)
        return error

    async def forward(self, out: Outgoing, client: Client) -> None:
        """Send a miss upstream and record the answer (the session must record)."""
        assert self.upstream is not None
        if await forward(self.upstream, self.cassette, out, client):
            self.recorded += 1

    def close(self) -> None:
        """Close the upstream client (in its own loop) and the cassette file."""
        if self.upstream is not None:
            self.upstream.close()
        self.cassette.close()


def open_session(
    path: str | os.PathLike[str],
    mode: RecordMode | str = RecordMode.NONE,
    upstream: str | None = None,
    options: CassetteOptions | None = None,
) -> CassetteSession:
    """Load a cassette for use in `mode`; a UsageError says what is missing (an upstream, a writable file)."""
    options = options or CassetteOptions()
    mode = RecordMode(mode)
    secrets = [options.upstream_api_key] if options.upstream_api_key else []
    scrub = Scrubber.build(options.scrub_headers, options.scrub_fields, secrets)
    cassette = Cassette.load(path, options.ignore, scrub)
    records = mode in (RecordMode.ALL, RecordMode.NEW_EPISODES) or (
        mode is RecordMode.ONCE and not cassette.existed
    )
    if records and cassette.read_only:
        raise UsageError(f"record mode '{mode.value}' would write, but {cassette.read_only}.")
    if records and not upstream:
        why = (
            f"{cassette.path} does not exist yet" if mode is RecordMode.ONCE else "it sends requests upstream"
        )
        raise UsageError(
            f"record mode '{mode.value}' needs an upstream because {why}: pass --upstream URL "
            "(e.g. https://api.openai.com/v1), or use record mode 'none' to replay only."
        )
    if upstream is not None:
        upstream = settings_.check_url(upstream, "upstream")
    cassette.overwrite = mode is RecordMode.ALL
    if upstream:
        cassette.header_extra["upstream"] = display(upstream)
    link = Upstream(upstream, options.timeout, options.upstream_api_key) if upstream else None
    return CassetteSession(cassette=cassette, mode=mode, records=records, upstream=link, options=options)

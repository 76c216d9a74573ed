"""The mutable state of one mockai server: clock, seed, rules, limiter and journal.

One `MockState` per server; the app reads it on every request, the admin API and the pytest fixture
change it between tests. Everything in it is safe to use from several threads.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from mockai import catalogue
from mockai.errors import UsageError
from mockai.fingerprint import DEFAULT_IGNORE
from mockai.journal import Journal
from mockai.ratelimit import DEFAULT_LIMITS, Limits, RateLimiter
from mockai.rules import RuleEngine
from mockai.scenarios import Scenario


@dataclass(frozen=True)
class Settings:
    """How a server starts; `mockai serve` flags and the fixture's options map onto these."""

    host: str = "127.0.0.1"
    port: int = 8000
    as_of: dt.date | None = None
    """The simulated date; None means today (UTC)."""
    seed: int = 0
    scenarios: tuple[str, ...] = ()
    watch: bool = False
    """Reload the scenario files when they change (mtimes checked at most once a second; see mockai.reload)."""
    scenario_dir: str | None = None
    """The folder `PUT /_mockai/scenario?file=NAME` may load from; None: loading by name is refused."""
    rpm: int | None = None
    tpm: int | None = None
    real_time: bool = False
    """Use the wall clock for `created` instead of a time derived from the request."""
    journal_size: int = 10_000
    api_key: str | None = None
    """When set, requests must carry this key (OpenAI's 401 otherwise)."""
    admin_token: str | None = None
    """When set, /_mockai/ requests must carry `Authorization: Bearer <token>`."""
    max_body_bytes: int = 32 * 1024 * 1024
    cassette: str | None = None
    """Serve /v1/... from this cassette file (see mockai.recorder); None: no cassette layer."""
    record_mode: str = "none"
    """all | new_episodes | none | once (mockai.cassette.RecordMode)."""
    upstream: str | None = None
    """The base URL recordings are fetched from, e.g. https://api.openai.com/v1."""
    upstream_timeout: float = 600.0
    match_ignore: tuple[str, ...] = DEFAULT_IGNORE
    """Body fields (dotted paths) left out when matching a request to a recording."""
    scrub_headers: tuple[str, ...] = ()
    scrub_fields: tuple[str, ...] = ()
    """Extra headers and JSON fields redacted before a cassette is written (the usual secrets always are)."""
    replay_speed: str = "fast"
    """fast | realtime: replay streams at once or with their recorded timing."""


@dataclass
class MockState:
    settings: Settings = field(default_factory=Settings)
    as_of: dt.date = field(default_factory=catalogue.today)
    seed: int = 0
    journal: Journal = field(default_factory=Journal)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(enforce=False))
    rules: RuleEngine = field(default_factory=RuleEngine)
    """Scripted replies: the scenario rules, first match answers."""
    counter: Any = field(default_factory=itertools.count)
    cassette: Any = None
    """The cassette in use (mockai.recorder.CassetteSession), set by recorder.use_cassette."""
    strict: bool = False
    """A call no rule matches gets a 400 `mockai: no rule matched ...` instead of the generated reply."""
    scenario_files: tuple[str, ...] = ()
    """The files the rules came from: what `POST /_mockai/reload` and `--watch` read again."""
    reloader: Any = field(default=None, repr=False)
    """The mockai.reload.Reloader of those files, made on first use."""

    @classmethod
    def from_settings(cls, settings: Settings) -> MockState:
        limits = Limits(rpm=settings.rpm or DEFAULT_LIMITS.rpm, tpm=settings.tpm or DEFAULT_LIMITS.tpm)
        state = cls(
            settings=settings,
            as_of=settings.as_of or catalogue.today(),
            seed=settings.seed,
            journal=Journal(settings.journal_size),
            limiter=RateLimiter(limits, enforce=settings.rpm is not None or settings.tpm is not None),
            rules=RuleEngine(seed=settings.seed),
        )
        if settings.scenarios:
            from mockai.reload import reloader

            reloader(state).load(tuple(settings.scenarios))
        if settings.cassette is not None:
            from mockai.recorder import use_cassette

            use_cassette(state, settings.cassette, settings.record_mode, settings.upstream)
        elif settings.upstream is not None or settings.record_mode != "none":
            raise UsageError("recording needs a cassette file to write to: add --cassette PATH (e.g. cassettes/session.jsonl).")
        return state

    def apply(self, scenario: Scenario) -> None:
        """Take a scenario's own settings: per-model limits, simulated date, seed."""
        for model, limit in scenario.limits.items():
            self.limiter.set_limits(rpm=limit.rpm, tpm=limit.tpm, model=model)
        if scenario.as_of is not None:
            self.as_of = scenario.as_of
        if scenario.seed is not None:
            self.seed = self.rules.seed = scenario.seed

    def reset(self) -> None:
        """Back to how the server started: journal, counters, limiter buckets, scenario state."""
        self.journal.clear()
        self.limiter.reset(limits=True)
        self.as_of = self.settings.as_of or catalogue.today()
        self.seed = self.settings.seed
        self.rules.reset()
        if self.cassette is not None:
            self.cassette.cassette.rewind()

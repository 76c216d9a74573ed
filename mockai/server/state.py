"""The mutable state of one mockai server: clock, seed, rules, limiter, journal and cassette.

One `MockState` per server; the pipeline reads it on every request, the admin API and the pytest
fixture change it between tests. Everything in it is safe to use from several threads.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from dataclasses import dataclass, field

from mockai.errors import UsageError
from mockai.models import catalogue
from mockai.recording.session import CassetteOptions, CassetteSession, open_session
from mockai.scenario.engine import RuleEngine
from mockai.scenario.files import Scenario
from mockai.scenario.reload import Reloader
from mockai.server.journal import Journal
from mockai.server.limiter import DEFAULT_LIMITS, Limits, RateLimiter
from mockai.settings import Settings
from mockai.store import ObjectStore


@dataclass
class MockState:
    settings: Settings = field(default_factory=Settings)
    as_of: dt.date = field(default_factory=catalogue.today)
    seed: int = 0
    journal: Journal = field(default_factory=Journal)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(enforce=False))
    rules: RuleEngine = field(default_factory=RuleEngine)
    """Scripted replies: the scenario rules, first match answers."""
    requests: itertools.count[int] = field(default_factory=itertools.count)
    """Numbers the requests since start or reset: request ids derive from it."""
    cassette: CassetteSession | None = None
    """The cassette in use, set by `use_cassette`."""
    strict: bool = False
    """A call no rule matches gets a 400 `mockai: no rule matched ...` instead of the generated reply."""
    scenario_files: tuple[str, ...] = ()
    """The files the rules came from: what `POST /_mockai/reload` and `--watch` read again."""
    applied: list[Scenario] = field(default_factory=list)
    """The scenarios whose settings (limits, clock, seed) were taken: a reset takes them again."""
    store: ObjectStore = field(default_factory=ObjectStore)
    """Stored responses and chat completions (bounded; emptied by a reset)."""
    reloader: Reloader = field(init=False, repr=False)
    """Loads those files, and loads them again when asked or when they change."""

    def __post_init__(self) -> None:
        self.reloader = Reloader(self)

    @classmethod
    def from_settings(cls, settings: Settings) -> MockState:
        limits = Limits(rpm=settings.rpm or DEFAULT_LIMITS.rpm, tpm=settings.tpm or DEFAULT_LIMITS.tpm)
        state = cls(
            settings=settings,
            as_of=settings.as_of or catalogue.today(),
            seed=settings.seed,
            journal=Journal(settings.journal_size, settings.journal_bytes, settings.journal_body_bytes),
            limiter=RateLimiter(limits, enforce=settings.rpm is not None or settings.tpm is not None),
            rules=RuleEngine(seed=settings.seed),
            strict=settings.strict,
        )
        if settings.scenarios:
            state.reloader.load(tuple(settings.scenarios))
        if settings.cassette is not None:
            state.use_cassette(settings.cassette, settings.record_mode, settings.upstream)
        elif settings.upstream is not None or settings.record_mode != "none":
            raise UsageError(
                "recording needs a cassette file to write to: add --cassette PATH (e.g. "
                "cassettes/session.jsonl)."
            )
        return state

    def apply(self, scenario: Scenario) -> None:
        """Take a scenario's own settings: per-model limits, simulated date, seed (again after every
        reset)."""
        self.applied.append(scenario)
        self._take(scenario)

    def forget_scenarios(self) -> None:
        """The rules were replaced: a reset no longer takes their scenarios' settings."""
        self.applied.clear()

    def drop_rules(self) -> None:
        """Every rule goes, with its scenario's settings (from the next reset on) and the files to reload."""
        self.rules.clear()
        self.applied.clear()
        self.reloader.forget()

    def _take(self, scenario: Scenario) -> None:
        for model, limit in scenario.limits.items():
            self.limiter.set_limits(rpm=limit.rpm, tpm=limit.tpm, model=model)
        if scenario.as_of is not None:
            self.as_of = scenario.as_of
        if scenario.seed is not None:
            self.seed = self.rules.seed = scenario.seed

    def use_cassette(
        self,
        path: str | os.PathLike[str],
        mode: str = "none",
        upstream: str | None = None,
        options: CassetteOptions | None = None,
    ) -> CassetteSession:
        """Answer /v1/... from a cassette (recording misses where the mode allows), replacing any in use."""
        session = open_session(path, mode, upstream, options or CassetteOptions.of(self.settings))
        self.eject()
        self.cassette = session
        return session

    def eject(self) -> CassetteSession | None:
        """Stop using the cassette (closing its file); returns it, to report on what happened."""
        session, self.cassette = self.cassette, None
        if session is not None:
            session.close()
        return session

    def reset(self) -> None:
        """Back to how the server started: journal, request numbers, limiter buckets, clock, seed, rule state;
        the loaded scenarios' limits, clock and seed taken again, so the same calls give the same bytes."""
        self.journal.clear()
        self.store.clear()
        self.requests = itertools.count()
        self.limiter.reset(limits=True)
        self.as_of = self.settings.as_of or catalogue.today()
        self.seed = self.rules.seed = self.settings.seed
        self.strict = self.settings.strict
        self.rules.reset()
        for scenario in self.applied:
            self._take(scenario)
        if self.cassette is not None:
            self.cassette.cassette.rewind()

"""`MockAI`: the handle a test scripts mockai with, and then asserts on. The pytest `mockai` fixture is one.

Rules are the same dictionaries scenario files hold; the fluent form (`mock.on_chat(contains="weather")
.reply("Sunny")`) only writes them for you. Rules are tried in the order they were added, the first that
fits answers. A rule added with `expect=True` (and in strict mode every rule this test added) must answer
at least once, or `verify()` (run by the fixture at teardown) raises `ExpectationError`.

    with MockAI() as mock:              # outside pytest: starts its own server
        mock.on_chat(contains="weather").reply("Sunny")
        client = openai.OpenAI(base_url=mock.url, api_key="sk-test")
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockai import settings
from mockai.errors import UsageError
from mockai.models import tiktoken_cache
from mockai.testing.assertions import ExpectationError, Requests, report, unmatched_report, unused_report

if TYPE_CHECKING:
    from mockai.scenario.engine import ScenarioLike
    from mockai.scenario.files import Rule, Scenario
    from mockai.server.runner import ServerThread
    from mockai.server.state import MockState

API_KEY = "sk-mockai-0000000000000000"
"""The key the fixture puts in OPENAI_API_KEY: mockai accepts any key unless told otherwise."""

CASSETTE_HINT = (
    "Re-record with `pytest --mockai-record=new_episodes` (and --mockai-upstream URL for another upstream), "
    "or make the request match the recording."
)


_tiktoken: dict[str, str] = {}


def offline_tiktoken() -> dict[str, str]:
    """{"TIKTOKEN_CACHE_DIR": folder} holding mockai's vocabularies; {} when the variable is set already.

    Written once per machine (a few seconds the first time), then only looked up, once per process."""
    if tiktoken_cache.ENV in os.environ and os.environ[tiktoken_cache.ENV] != _tiktoken.get("folder"):
        return {}
    if "folder" not in _tiktoken:
        _tiktoken["folder"] = str(tiktoken_cache.write_cache())
    return {tiktoken_cache.ENV: _tiktoken["folder"]}


def _call(name: str, *args: Any, **kwargs: Any) -> str:
    """`on_chat(contains='weather')`: how a fluent rule is named in reports."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if v is not None]
    return f"{name}({', '.join(parts)})"


@dataclass(frozen=True)
class When:
    """A rule being written: what it matches. Finish it with .reply(), .reply_tool_call() or .fail()."""

    mock: MockAI
    match: Mapping[str, Any]
    label: str
    times: int | None = None
    expect: bool | None = None
    name: str | None = None

    def reply(self, content: str | None = None, **reply: Any) -> Rule:
        """Answer with this text (and any other reply keys: finish_reason, usage, delay, stream,
        embedding...)."""
        label = _call("reply", content, **reply)
        if content is not None:
            reply = {"content": content, **reply}
        return self._add(reply, label)

    def reply_tool_call(self, name: str, /, **arguments: Any) -> Rule:
        """Answer with one call of tool `name` with these arguments (sent as JSON)."""
        return self._add(
            {"tool_calls": [{"name": name, "arguments": arguments}]},
            _call("reply_tool_call", name, **arguments),
        )

    def fail(self, status: int = 500, /, message: str | None = None, **error: Any) -> Rule:
        """Answer with OpenAI's error for this status (its real text unless `message`; also type, code, param,
        headers)."""
        body = {"status": status, **({"message": message} if message is not None else {}), **error}
        return self._add({"error": body}, _call("fail", status, message=message, **error))

    def _add(self, reply: dict[str, Any], finish: str) -> Rule:
        rule: dict[str, Any] = {"name": self.name or f"{self.label}.{finish}", "reply": reply}
        if self.match:
            rule["match"] = dict(self.match)
        if self.times is not None:
            rule["times"] = self.times
        return self.mock.add_rule(rule, expect=self.expect)


class MockAI:
    """A handle over one mockai server for one test: script replies, set the clock and limits, read
    requests."""

    def __init__(self, server: ServerThread | None = None) -> None:
        if server is None:
            from mockai.server.runner import ServerThread
            from mockai.settings import Settings

            server, self._own_server = ServerThread(Settings(port=0)).start(), True
        else:
            self._own_server = False
        assert server.state is not None, "mockai: start the server before handing it to MockAI"
        self.server = server
        self.state: MockState = server.state
        self.requests = Requests(self.state.journal.entries)
        """Every request this test made to the mock, oldest first (see
        `mockai.testing.assertions.Requests`)."""
        self._expect: dict[int, tuple[Rule, bool]] = {}
        self._clients: list[Any] = []
        self._app: Any = None

    # -- where it is ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL for OpenAI clients, ending in /v1."""
        return self.server.url

    @property
    def api_key(self) -> str:
        return self.state.settings.api_key or API_KEY

    def environ(self) -> dict[str, str]:
        """The variables that point OpenAI SDKs (and langchain, litellm) at this mock, and, unless it is set
        already, a TIKTOKEN_CACHE_DIR that lets client-side tiktoken count tokens offline."""
        return {
            "OPENAI_BASE_URL": self.url,
            "OPENAI_API_BASE": self.url,
            "OPENAI_API_KEY": self.api_key,
            **offline_tiktoken(),
        }

    def http_client(self, **kwargs: Any) -> Any:
        """An httpx client that calls mockai in-process (no socket):
        `OpenAI(http_client=mockai.http_client())`."""
        from mockai.testing.transport import http_client

        client = http_client(self._asgi(), self.url, **kwargs)
        self._clients.append(client)
        return client

    def async_http_client(self, **kwargs: Any) -> Any:
        """The async twin of `http_client()`, for `AsyncOpenAI(http_client=...)`."""
        from mockai.testing.transport import async_http_client

        return async_http_client(self._asgi(), self.url, **kwargs)

    def _asgi(self) -> Any:
        if self._app is None:
            from mockai.server.runner import create_app

            self._app = create_app(self.state)
        return self._app

    # -- scripting -----------------------------------------------------------------------------------

    def add_rule(self, rule: Mapping[str, Any], *, expect: bool | None = None) -> Rule:
        """Add one rule shaped like an entry of a scenario's `rules:`; `expect=True`: it must be used."""
        if not isinstance(rule, Mapping):
            raise UsageError(
                "mockai: add_rule takes a mapping such as "
                f"{{'match': {{'contains': 'hi'}}, 'reply': 'Hello'}}; got {rule!r}"
            )
        added = self.state.rules.add_rule(rule)
        self._mark(added, expect)
        return added

    def load_scenario(self, scenario: ScenarioLike, *, expect: bool | None = None) -> Scenario:
        """Add a scenario's rules (a file path, or its data) after those loaded, and take its limits, as_of,
        seed."""
        loaded = self.state.rules.load(scenario)
        self.state.apply(loaded)
        for rule in loaded.rules:
            self._mark(rule, expect)
        return loaded

    def _mark(self, rule: Rule, expect: bool | None) -> None:
        if expect is not None:
            self._expect[id(rule)] = (rule, expect)

    def on(
        self,
        endpoint: str | None = None,
        *,
        times: int | None = None,
        expect: bool | None = None,
        name: str | None = None,
        **match: Any,
    ) -> When:
        """Start a rule for calls to `endpoint` (any when None) that fit the match keys (contains, model,
        regex...)."""
        label = _call(f"on_{endpoint}" if endpoint else "on", **match)
        if endpoint is not None:
            match = {"endpoint": endpoint, **match}
        return When(self, match, label, times, expect, name)

    def on_chat(
        self, *, times: int | None = None, expect: bool | None = None, name: str | None = None, **match: Any
    ) -> When:
        """Start a rule for chat completions that fit the match keys, e.g. on_chat(contains="weather")."""
        return self.on("chat", times=times, expect=expect, name=name, **match)

    def on_responses(
        self, *, times: int | None = None, expect: bool | None = None, name: str | None = None, **match: Any
    ) -> When:
        """Start a rule for Responses API calls that fit the match keys, e.g.
        on_responses(last_item="function_call_output")."""
        return self.on("responses", times=times, expect=expect, name=name, **match)

    def on_completions(
        self, *, times: int | None = None, expect: bool | None = None, name: str | None = None, **match: Any
    ) -> When:
        """Start a rule for legacy completions that fit the match keys."""
        return self.on("completions", times=times, expect=expect, name=name, **match)

    def on_embeddings(
        self, *, times: int | None = None, expect: bool | None = None, name: str | None = None, **match: Any
    ) -> When:
        """Start a rule for embeddings that fit the match keys."""
        return self.on("embeddings", times=times, expect=expect, name=name, **match)

    def fail_next(
        self, n: int = 1, *, status: int = 500, endpoint: str | None = None, message: str | None = None
    ) -> Rule:
        """The next `n` calls (to `endpoint`, or any) that reach this rule get OpenAI's error for `status`;
        expected."""
        label = _call("fail_next", n, status=status, endpoint=endpoint, message=message)
        return self.on(endpoint, times=n, expect=True, name=label).fail(status, message=message)

    def answered(self, rule: Rule) -> int:
        """How many times `rule` has answered in this test."""
        return self.state.rules.answered(rule)

    # -- clock, seed, limits, strictness -------------------------------------------------------------

    def set_date(self, as_of: str | dt.date) -> None:
        """The simulated date (YYYY-MM-DD): which models exist, what aliases point to, `created` times."""
        self.state.as_of = settings.check("as_of", as_of, "set_date")

    def set_seed(self, seed: int) -> None:
        """The seed of generated replies and `probability` rules."""
        self.state.seed = self.state.rules.seed = settings.check("seed", seed, "set_seed")

    def set_limits(self, rpm: int | None = None, tpm: int | None = None, model: str | None = None) -> None:
        """Enforce requests and tokens per minute, for every model or one model id or glob ("gpt-4*")."""
        self.state.limiter.set_limits(rpm=rpm, tpm=tpm, model=model)

    @property
    def strict(self) -> bool:
        """Strict mode: unmatched calls get a 400 and fail the test; every rule this test added must be
        used."""
        return self.state.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self.state.strict = bool(value)

    def use_cassette(
        self,
        path: str | os.PathLike[str],
        mode: str = "none",
        upstream: str | None = None,
        upstream_api_key: str | None = None,
    ) -> Any:
        """Answer /v1/... from a recorded cassette (recording misses in modes that allow it)."""
        from mockai.recording.session import CassetteOptions

        options = CassetteOptions.of(
            self.state.settings, hint=CASSETTE_HINT, upstream_api_key=upstream_api_key
        )
        return self.state.use_cassette(path, mode, upstream, options)

    # -- lifecycle -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """A clean slate: no rules, empty journal, default clock, seed and limits, not strict, no cassette."""
        self._eject()
        self.state.drop_rules()
        self.state.reset()
        self.state.strict = False
        self._expect.clear()

    def problems(self) -> list[str]:
        """Every unmet expectation so far, each explained; [] when all is well."""
        entries = self.state.journal.entries()
        found = [unmatched_report(e) for e in entries if e.reply.get("source") == "unmatched"]
        session = self.state.cassette
        found += [m.removeprefix("mockai: ") for m in (session.misses if session is not None else ())]
        for rule in self.state.rules.rules:
            wanted = self._expect.get(id(rule))
            expected = wanted[1] if wanted is not None else self.strict
            if expected and self.state.rules.answered(rule) == 0:
                found.append(unused_report(rule, entries, self.state))
        return found

    def verify(self, where: str = "") -> None:
        """Raise ExpectationError if an expected rule went unused or a request matched nothing (strict)."""
        found = self.problems()
        if found:
            raise ExpectationError(report(found, where))

    def _eject(self) -> None:
        self.state.eject()

    def close(self) -> None:
        """Close the clients it made and any cassette; stop the server if this MockAI started it."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._eject()
        if self._own_server:
            self.server.stop()

    def __enter__(self) -> MockAI:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                self.verify()
        finally:
            self.close()

    def __repr__(self) -> str:
        return f"<MockAI {self.url} rules={len(self.state.rules.rules)} requests={len(self.state.journal)}>"


__all__ = ["API_KEY", "ExpectationError", "MockAI", "When"]

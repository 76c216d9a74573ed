"""pytest plugin: registered through the `pytest11` entry point, so `pip install mockai` is enough.

Fixtures: `mockai_server` (session: one server per test session, i.e. per xdist worker, started the
first time a test asks for it), `mockai` (function: reset, configured, with OPENAI_* pointing at it,
expectations checked at teardown) and `mockai_config` (function, returns {}: the override point).
Importing this module costs almost nothing: mockai's server is imported only when a test uses it.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockai.errors import MockAIError, UsageError
from mockai.testing.config import KEYS, Layer, MockConfig, default_cassette, resolve_config

if TYPE_CHECKING:
    from mockai.scenario.files import Scenario
    from mockai.server.runner import ServerThread
    from mockai.testing.mock import MockAI

MARKER = (
    "mockai(scenario=None, as_of=None, seed=None, rpm=None, tpm=None, strict=False, cassette=None): "
    "configure the mockai fixture for this test (the marker alone also turns the fixture on)."
)


@dataclass(frozen=True)
class Session:
    """The command line's part, checked once in pytest_configure."""

    layer: Layer
    record_mode: str | None
    upstream: str | None


SESSION = pytest.StashKey[Session]()
CALL_FAILED = pytest.StashKey[bool]()
_scenarios: dict[Path, tuple[int, Scenario]] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockai", "mockai: a local double of the OpenAI API")
    group.addoption(
        "--mockai-as-of", metavar="DATE", help="simulated date (YYYY-MM-DD) for every test using mockai."
    )
    group.addoption(
        "--mockai-seed", metavar="N", type=int, help="seed of generated replies for every test using mockai."
    )
    group.addoption(
        "--mockai-scenario", metavar="PATH", action="append", default=[],
        help="scenario file loaded for every test using mockai (repeatable); its rules come first.",
    )  # fmt: skip
    group.addoption(
        "--mockai-strict", action="store_true", default=None,
        help="strict mode for every test: unmatched calls fail, every rule a test adds must be used.",
    )  # fmt: skip
    group.addoption(
        "--mockai-record", metavar="MODE",
        help="record mode for tests marked with cassette=...: "
        "none (default, replay only), once, new_episodes, all.",
    )  # fmt: skip
    group.addoption(
        "--mockai-upstream",
        metavar="URL",
        help="where recordings are fetched from (default https://api.openai.com/v1).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    values = {
        "as_of": config.getoption("mockai_as_of", None),
        "seed": config.getoption("mockai_seed", None),
        "scenario": config.getoption("mockai_scenario", None) or None,
        "strict": config.getoption("mockai_strict", None),
    }
    invocation = Path(config.invocation_params.dir)
    layer = Layer("the command line (--mockai-*)", values, (invocation, config.rootpath), background=True)
    record = config.getoption("mockai_record", None)
    try:
        resolve_config([layer])  # check once, up front: a typo fails the run before any test
        mode = _record_mode(record) if record is not None else None
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION] = Session(layer, mode, config.getoption("mockai_upstream", None))


def _record_mode(value: str) -> str:
    """A checked record mode (a typo is refused with the valid modes listed)."""
    from mockai.recording.modes import RecordMode

    return str(RecordMode(value).value)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def mockai_server() -> Iterator[ServerThread]:
    """The session's mockai server (one per xdist worker) on a free loopback port, started on first use."""
    from mockai.server.runner import ServerThread
    from mockai.settings import Settings

    with ServerThread(Settings(port=0)) as server:
        yield server


@pytest.fixture
def mockai_config() -> Mapping[str, Any]:
    """Override point: return settings for the mockai fixture (the marker's keywords).

    For example {"scenario": "base.yaml", "seed": 42}."""
    return {}


@pytest.fixture
def mockai(
    request: pytest.FixtureRequest,
    mockai_server: ServerThread,
    mockai_config: Mapping[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MockAI]:
    """A clean mockai for this test, with OPENAI_BASE_URL and OPENAI_API_KEY pointing at it.

    Its expectations are checked at teardown."""
    from mockai.testing.assertions import report
    from mockai.testing.mock import MockAI

    real_key = os.environ.get("OPENAI_API_KEY")
    mock = MockAI(mockai_server)
    try:
        mistake = None
        try:
            begin(mock, config_for(request, mockai_config), real_key)
        except MockAIError as exc:  # a settings mistake: its message says it all, a traceback would not
            mistake = str(exc)
        if mistake is not None:  # failed outside the `except`, so pytest shows the message once, not chained
            pytest.fail(mistake, pytrace=False)
        # The test's own monkeypatch: one undo stack, so the variables come back right whatever the test sets.
        for name, value in mock.environ().items():
            monkeypatch.setenv(name, value)
        yield mock
        # A failed test already says what went wrong; unmet expectations would only repeat it.
        problems = [] if request.node.stash.get(CALL_FAILED, False) else mock.problems()
        if problems:
            pytest.fail(report(problems, f" in {request.node.nodeid}"), pytrace=False)
    finally:
        mock.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked @pytest.mark.mockai gets the mockai fixture even when it does not ask for it by name."""
    # Done once at collection rather than by an autouse fixture, which would cost every test of the suite.
    for item in items:
        names = getattr(item, "fixturenames", None)
        if (
            isinstance(names, list)
            and "mockai" not in names
            and item.get_closest_marker("mockai") is not None
        ):
            names.append("mockai")


def config_for(request: pytest.FixtureRequest, fixture_config: Mapping[str, Any]) -> MockConfig:
    """This test's settings: command line < mockai_config < markers (module, class, test).

    See mockai.testing.config for the merge."""
    node, config = request.node, request.config
    test_path = Path(node.path)
    search = (test_path.parent, config.rootpath)
    session = config.stash[SESSION]
    layers = [session.layer, Layer("the mockai_config fixture", fixture_config, search, background=True)]
    for mark in reversed(list(node.iter_markers("mockai"))):  # iter_markers gives the closest first
        if mark.args:
            raise UsageError(
                f"mockai: @pytest.mark.mockai takes keyword arguments only ({', '.join(KEYS)}); got "
                f"{mark.args!r}"
            )
        layers.append(Layer("@pytest.mark.mockai", mark.kwargs, search))
    return resolve_config(
        layers,
        default_cassette=lambda: default_cassette(test_path, node.nodeid),
        record_mode=session.record_mode,
        upstream=session.upstream,
    )


def begin(mock: MockAI, config: MockConfig, real_api_key: str | None = None) -> None:
    """Reset the mock and apply a test's settings: scenarios, then explicit clock, seed, limits, strictness,
    cassette."""
    mock.reset()
    for path, background in config.scenarios:
        mock.load_scenario(_scenario(path), expect=False if background else None)
    if config.as_of is not None:
        mock.set_date(config.as_of)
    if config.seed is not None:
        mock.set_seed(config.seed)
    if config.rpm is not None or config.tpm is not None:
        mock.set_limits(rpm=config.rpm, tpm=config.tpm)
    mock.strict = config.strict
    if config.cassette is not None:
        records = config.record_mode not in (None, "none")
        mock.use_cassette(
            config.cassette,
            config.record_mode or "none",
            upstream=config.upstream if records else None,
            upstream_api_key=real_api_key if records else None,
        )


def _scenario(path: Path) -> Scenario:
    """A scenario file, parsed once per session (again only if the file changes)."""
    stamp = path.stat().st_mtime_ns
    cached = _scenarios.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    from mockai.scenario.files import load_scenario

    scenario = load_scenario(path)
    _scenarios[path] = (stamp, scenario)
    return scenario

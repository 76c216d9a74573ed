"""Shared fixtures: one mockai server per test session, reset before each test that uses it."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import openai
import pytest

from mockai.server.runner import ServerThread
from mockai.server.state import MockState
from mockai.settings import Settings

# pytester's in-process runs (tests/test_plugin.py) drop the modules first imported inside them. httpx imports
# httpcore lazily and caches its exception classes on first use, so an httpcore first imported in such a run
# comes back as a new module whose timeouts httpx no longer maps to its own, and the SDK's APITimeoutError
# becomes a raw httpcore error in every later test. Importing both generations up front keeps them.
for _name in ("httpcore", "httpcore2"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)

# tests/compat/ is `make compat`'s: client scripts for other virtualenvs, and .envs/ of installed packages.
collect_ignore = ["compat"]


TEST_DAY = dt.date(2026, 6, 1)
"""The session server's simulated day. Pinned so the suite does not change with the wall clock: the live API
retires models on dated shutdowns (gpt-3.5-turbo and gpt-4 on 2026-10-23), and most tests use them."""


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    """A mockai server on a free loopback port for the whole session, its clock on TEST_DAY."""
    with ServerThread(Settings(port=0, as_of=TEST_DAY)) as srv:
        yield srv


@pytest.fixture()
def state(server: ServerThread) -> Iterator[MockState]:
    """The session server's state, reset to defaults (TEST_DAY, seed 0, no rules) around each test."""
    assert server.state is not None
    server.state.drop_rules()
    server.state.reset()
    yield server.state
    server.state.drop_rules()
    server.state.reset()


@pytest.fixture()
def client(server: ServerThread, state: MockState) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="sk-test-0123456789abcdef", max_retries=0)


@pytest.fixture()
async def aclient(server: ServerThread, state: MockState) -> AsyncIterator[openai.AsyncOpenAI]:
    """Closed in the test's own event loop: an async client left to the garbage collector closes its
    connections from whichever later test's loop is running, on a transport of a loop already closed."""
    async with openai.AsyncOpenAI(
        base_url=server.url, api_key="sk-test-0123456789abcdef", max_retries=0
    ) as client:
        yield client


@pytest.fixture()
def http(server: ServerThread, state: MockState) -> Iterator[httpx.Client]:
    """Raw HTTP against the server root (paths start with /v1/ or /_mockai/)."""
    with httpx.Client(base_url=server.url.removesuffix("/v1"), timeout=10) as c:
        yield c


def set_date(state: MockState, text: str) -> None:
    state.as_of = dt.date.fromisoformat(text)


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


class LogCollector(logging.Handler):
    """Keeps the warnings and errors a logger emits."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture()
def server_log() -> Iterator[LogCollector]:
    """Warnings and errors the server logs while the test runs (a crash in the app logs a traceback)."""
    handler = LogCollector()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)

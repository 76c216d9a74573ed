"""What the pytest fixture costs: per test (setup + teardown) and per mocked chat completion call.

Per call, `client.chat.completions.create` through three transports, against a floor that does no mock
work at all (an httpx MockTransport returning a canned body of the same size):
  loopback    `openai.OpenAI()` against the session server thread (what the fixture's env vars give)
  in-process  `openai.OpenAI(http_client=mockai.http_client())`: the app runs in the calling thread
Per test, the fixture's own work measured directly, and as the CPU-time difference between pytest runs
of N trivial tests with and without the fixture (each run pays one server start, so it cancels out).

    .venv/bin/python bench/fixture_overhead.py [--calls 300] [--repeats 5] [--tests 2000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai

from mockai.server.runner import ServerThread
from mockai.settings import Settings
from mockai.testing.config import Layer, resolve_config
from mockai.testing.mock import MockAI
from mockai.testing.pytest_plugin import begin
from mockai.testing.transport import http_library

MESSAGES: Any = [{"role": "user", "content": "Say hello"}]


def per_call(clients: dict[str, openai.OpenAI], calls: int, repeats: int) -> dict[str, float]:
    """Median over repeats of the mean seconds per `chat.completions.create`; transports take turns."""
    for client in clients.values():
        for _ in range(20):  # warm up: connections, caches, tokenizers
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    runs: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(repeats):  # interleaved, so a busy moment on a shared machine hits every transport alike
        for name, client in clients.items():
            start = time.perf_counter()
            for _ in range(calls):
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            runs[name].append((time.perf_counter() - start) / calls)
    for client in clients.values():
        client.close()
    return {name: statistics.median(r) for name, r in runs.items()}


def call_costs(mock: MockAI, calls: int, repeats: int) -> dict[str, float]:
    lib = http_library()  # the httpx flavour openai uses (httpx2 for openai 3.x)
    with mock.http_client() as probe:
        canned = probe.post("/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES})
    body, headers = canned.content, dict(canned.headers)
    floor = lib.Client(
        transport=lib.MockTransport(lambda request: lib.Response(200, headers=headers, content=body))
    )
    options: dict[str, Any] = {"base_url": mock.url, "api_key": "sk-bench", "max_retries": 0}
    clients = {
        "floor (MockTransport, canned body)": openai.OpenAI(**options, http_client=floor),
        "loopback (server thread)": openai.OpenAI(**options),
        "in-process (mockai.http_client())": openai.OpenAI(**options, http_client=mock.http_client()),
    }
    return per_call(clients, calls, repeats)


def fixture_direct(server: ServerThread, iterations: int, repeats: int) -> float:
    """The fixture's body without pytest: resolve settings, reset, set the env, check, close."""
    import pytest

    layers = [
        Layer("the command line", {}),
        Layer("the mockai_config fixture", {}),
        Layer("marker", {"seed": 1}),
    ]
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            mock = MockAI(server)
            begin(mock, resolve_config(layers))
            with pytest.MonkeyPatch.context() as env:
                for name, value in mock.environ().items():
                    env.setenv(name, value)
                mock.problems()
            mock.close()
        runs.append((time.perf_counter() - start) / iterations)
    return statistics.median(runs)


def pytest_run(directory: Path, *args: str) -> float:
    """CPU seconds (user + system) of one pytest run: steadier than wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(directory)],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=directory,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fixture_in_pytest(tests: int, repeats: int) -> tuple[float, float]:
    """Per-test seconds: the fixture (all tests use it vs only the first), and the plugin for tests
    that don't."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        variants = {}
        for name, uses in (("all", range(tests)), ("first", range(1)), ("none", range(0))):
            d = root / name
            d.mkdir()
            lines = [f"def test_{i}({'mockai' if i in uses else ''}):\n    pass\n" for i in range(tests)]
            (d / "test_many.py").write_text("\n".join(lines))
            variants[name] = d
        times: dict[str, list[float]] = {"all": [], "first": [], "none": [], "off": []}
        for _ in range(repeats):
            times["all"].append(pytest_run(variants["all"]))
            times["first"].append(pytest_run(variants["first"]))
            times["none"].append(pytest_run(variants["none"]))
            times["off"].append(pytest_run(variants["none"], "-p", "no:mockai"))
        least = {
            k: min(v) for k, v in times.items()
        }  # CPU time: noise only ever adds, so the least is the cost
        return (least["all"] - least["first"]) / (tests - 1), (least["none"] - least["off"]) / tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    os.environ.pop("OPENAI_BASE_URL", None)
    with ServerThread(Settings(port=0)) as server:
        mock = MockAI(server)
        costs = call_costs(mock, args.calls, args.repeats)
        direct = fixture_direct(server, 2000, args.repeats)
        mock.close()
    in_pytest, plugin_idle = fixture_in_pytest(args.tests, args.repeats)
    floor = costs["floor (MockTransport, canned body)"]
    print(
        f"per mocked call (openai {openai.__version__}, {http_library().__name__}; "
        f"median of {args.repeats} x {args.calls} calls)"
    )
    print(f"  {'transport':40} {'us/call':>9} {'x floor':>8}")
    for name, seconds in costs.items():
        print(f"  {name:40} {seconds * 1e6:9.0f} {seconds / floor:8.2f}")
    print(f"per test ({args.tests} trivial tests per pytest run, least CPU of {args.repeats} runs)")
    print(f"  {'fixture setup+teardown, direct':40} {direct * 1e6:9.0f} us")
    print(f"  {'fixture setup+teardown, in pytest (CPU)':40} {in_pytest * 1e6:9.0f} us")
    print(f"  {'plugin, for a test without the fixture':40} {plugin_idle * 1e6:9.0f} us (CPU)")


if __name__ == "__main__":
    main()

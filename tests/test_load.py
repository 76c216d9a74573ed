"""Load: a short mixed run against a server in its own process (the long one is `make soak`), state that
stays within its bounds, and clients that hang up mid-answer leaving no task behind."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockai.server.journal import Journal
from mockai.server.limiter import RateLimiter
from mockai.server.runner import ServerThread
from mockai.server.state import MockState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import soak  # noqa: E402


def test_a_mixed_load_with_streams_gets_no_errors_and_no_runaway_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = soak.main(
        ["--requests", "1500", "--concurrency", "64", "--seconds", "60", "--max-growth-mb", "48"]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "errors: 0" in out


# -- state stays bounded, and clients that leave leave nothing behind -------------------------------------

LONG = " ".join(f"word{i}" for i in range(400))
"""400 tokens: 20 s of stream at 20 tokens a second."""


def task_count(server: ServerThread) -> int:
    """How many tasks the server's event loop holds (this probe's own included), read in that loop."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    return asyncio.run_coroutine_threadsafe(count(), server.loop).result(timeout=5)


def settles_at(server: ServerThread, baseline: int, timeout: float) -> float:
    """Seconds until the loop is back to `baseline` tasks; fails after `timeout`."""
    started = time.monotonic()
    while (n := task_count(server)) > baseline:
        assert time.monotonic() - started < timeout, f"{n - baseline} task(s) still running after {timeout}s"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture()
def bounded() -> Iterator[ServerThread]:
    """A server whose journal keeps 100 entries and whose limiter keeps 50 buckets."""
    state = MockState(journal=Journal(100), limiter=RateLimiter(max_buckets=50, enforce=False))
    with ServerThread(state=state) as srv:
        yield srv


def test_the_journal_and_the_limiter_stay_at_their_bounds_under_a_load_of_many_keys(
    bounded: ServerThread,
) -> None:
    async def load() -> list[int]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=bounded.url, limits=limits, timeout=30) as client:
            sem = asyncio.Semaphore(32)

            async def one(i: int) -> int:
                body = {
                    "model": ("gpt-4o-mini", "gpt-4o")[i % 2],
                    "messages": [{"role": "user", "content": f"q{i}"}],
                    "max_tokens": 5,
                    "stream": i % 3 == 0,
                }
                async with sem:
                    response = await client.post(
                        "/chat/completions", json=body, headers={"authorization": f"Bearer sk-load-{i:06d}"}
                    )
                    return response.status_code

            return await asyncio.gather(*(one(i) for i in range(1200)))

    assert asyncio.run(load()) == [200] * 1200
    state = bounded.state
    assert state is not None
    entries = state.journal.entries()
    assert len(entries) == 100 and [e.seq for e in entries] == list(range(1101, 1201))
    assert len(state.limiter) == 50


def test_clients_dropping_a_paced_stream_after_two_chunks_leave_no_task_behind(
    server: ServerThread, state: MockState
) -> None:
    state.rules.replace({"rules": [{"reply": {"text": LONG, "stream": {"tokens_per_second": 20}}}]})
    baseline = task_count(server)
    started = time.monotonic()

    async def drop_after_two(client: httpx.AsyncClient) -> list[str]:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "go"}], "stream": True}
        async with client.stream("POST", "/chat/completions", json=body) as response:
            events = []
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.append(line)
                if len(events) == 2:
                    break  # leaving the block closes the connection mid-stream
        return events

    async def many() -> list[list[str]]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            return await asyncio.gather(*(drop_after_two(client) for _ in range(8)))

    assert all(len(events) == 2 for events in asyncio.run(many()))
    settled = settles_at(server, baseline, timeout=3)
    assert time.monotonic() - started < 4  # the full streams would take 20 s: their generators stopped early
    assert settled < 3
    assert [e.status for e in state.journal.entries()] == [200] * 8
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert (
            client.post(
                "/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
            ).status_code
            == 200
        )


def test_a_client_giving_up_during_a_scripted_delay_frees_its_task_at_once(
    server: ServerThread, state: MockState
) -> None:
    state.rules.replace({"rules": [{"reply": {"delay": 30, "content": "too late"}}]})
    baseline = task_count(server)
    for body in (
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "y"}], "stream": True},
    ):
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(server.url + "/chat/completions", json=body, timeout=0.3)
    assert settles_at(server, baseline, timeout=2) < 2  # not the 30 s of the delay
    # journaled as answered when the client left, as they would have been after the delay
    assert [(e.status, e.reply["source"]) for e in state.journal.entries()] == [(200, "rule:inline#1")] * 2


def test_the_benchmarks_distinct_workload_sends_a_new_prompt_every_request(
    server: ServerThread, state: MockState
) -> None:
    import load
    import workload

    body = workload.bodies()["distinct"]
    with pytest.raises(ValueError, match="__N__"):
        load.run(None, server.url + "/chat/completions", b"{}", 1, 1, counter=workload.COUNTER)
    wrk = load.ensure_wrk()
    if wrk is None:
        pytest.skip("wrk is not installed")
    result = load.run(wrk, server.url + "/chat/completions", body, 1, 2, counter=workload.COUNTER)
    prompts = [e.json["messages"][0]["content"] for e in state.journal.entries()]
    assert result.errors == 0 and len(prompts) > 10
    assert len(set(prompts)) == len(prompts)
    assert all(p.startswith("Say hello, request ") and p.endswith(" of the run") for p in prompts)

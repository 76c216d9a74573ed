"""Conformance with real recorded OpenAI traffic: every case of shared/reference/real-traffic/cases.jsonl is
replayed through the real `openai` client against a loopback mockai whose clock is set to the case's day.

Two figures per category: how often mockai's `prompt_tokens` equals the live API's, and how often the set of
key paths of the response body equals the recorded one. The test asserts floors (what mockai reaches today, so
a regression fails); `python tests/test_real_traffic.py` (or `pytest -s`) prints the table.

The cases are evidence to derive counting rules from, never a lookup: a held-out set of the same kind checks
the rules. `ungated-media` (linked images, files, audio) cannot be counted offline and has no token floor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockai.server.runner import ServerThread
from mockai.settings import Settings

CASES = Path(
    os.environ.get(
        "MOCKAI_REAL_TRAFFIC",
        Path(__file__).resolve().parents[2] / "shared" / "reference" / "real-traffic" / "cases.jsonl",
    )
)
"""The recorded cases beside the clone (as tests/conformance.py finds the spec); MOCKAI_REAL_TRAFFIC or a
path argument (`python tests/test_real_traffic.py OTHER.jsonl`) replays another set, e.g. a held-out one."""

pytestmark = pytest.mark.skipif(not CASES.exists(), reason=f"no recorded traffic at {CASES}")

# Floors: the match rates (percent) mockai reaches on cases.jsonl. Raise them as fidelity improves.
TOKEN_FLOORS = {
    "chat-text": 100,
    "chat-text-reasoning": 100,
    "chat-tools": 97,
    "chat-tool-history": 0,
    "chat-json-schema": 60,
    "chat-image-data": 100,
    "completions": 100,
    "embeddings": 100,
    "edits": 0,
}
SHAPE_FLOORS = {
    "chat-text": 100,
    "chat-tools": 100,
    "chat-json-schema": 100,
    "chat-text-reasoning": 100,
    "chat-image-data": 100,
}
OVERALL_TOKEN_FLOOR = 97
"""prompt_tokens over every case whose count is knowable offline (all but `ungated-media`)."""

EXTRA = Path(__file__).parent / "data" / "real-traffic-extra.jsonl"
"""More recorded requests in the same format, taken from public cassettes (pydantic-ai, llm, dd-trace-py,
openllmetry, openinference, mirascope, magentic, crewAI, langchain, langgraph; each `source` given) to check
that the counting rules generalise.
Their `response` is not kept (""), so only prompt_tokens is compared. The tools rules of
mockai/models/tool_prompt.py were derived from this set, cases.jsonl and the counts pamelafox measured
(tests/test_tool_prompt.py) together."""

EXTRA_TOKEN_FLOORS = {"chat-json-schema": 90, "chat-text": 100, "chat-text-reasoning": 100, "chat-tools": 92}


@dataclass
class Outcome:
    """What mockai answered for one recorded case."""

    prompt_tokens: int | None = None
    paths: frozenset[str] | None = None
    error: str | None = None


@dataclass
class Tally:
    """Matches per category."""

    cases: int = 0
    tokens: int = 0
    shaped: int = 0
    shapes: int = 0
    misses: list[str] = field(default_factory=list)


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a JSON value (`choices[].message.content`); list items share one `[]` step."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            yield from key_paths(item, f"{prefix}[]")


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON events of an SSE stream (without `[DONE]`)."""
    events = []
    for line in text.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                events.append(json.loads(data))
    return events


def shape(body: Any) -> frozenset[str]:
    """A chat body's key paths, without `message.tool_calls`: whether a model calls a tool is its choice,
    not the API's shape (mockai's generator decides it its own way)."""
    return frozenset(p for p in key_paths(body) if not p.startswith("choices[].message.tool_calls"))


def recorded_shape(case: dict[str, Any]) -> frozenset[str] | None:
    """The key paths of the recorded response body (non-streamed chat only: streams vary chunk by chunk)."""
    if case["stream"] or case["endpoint"] != "chat":
        return None
    try:
        return shape(json.loads(case["response"]))
    except ValueError:
        return None


def path_of(case: dict[str, Any]) -> str:
    suffix = {"chat": "chat/completions"}.get(case["endpoint"], case["endpoint"])
    if case["engine"]:
        return f"/engines/{case['engine']}/{suffix}"
    return f"/{suffix}"


def replay(client: openai.OpenAI, case: dict[str, Any]) -> Outcome:
    """Send one case's body as recorded (through the SDK's own request path) and read mockai's answer."""
    body = dict(case["body"])
    try:
        if case["stream"]:
            response = client.post(path_of(case), body=body, cast_to=httpx.Response, stream=True)
            text = response.read().decode()
            usage = [e["usage"] for e in sse_events(text) if e.get("usage")]
            return Outcome(prompt_tokens=usage[-1]["prompt_tokens"] if usage else None)
        data = client.post(path_of(case), body=body, cast_to=httpx.Response).json()
    except openai.APIStatusError as exc:
        return Outcome(error=f"{exc.status_code} {exc.message}"[:160])
    return Outcome(prompt_tokens=(data.get("usage") or {}).get("prompt_tokens"), paths=shape(data))


def measure(cases: list[dict[str, Any]]) -> dict[str, Tally]:
    """Replay every case against one loopback mockai, its clock on each case's day."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    with ServerThread(Settings(port=0)) as server:
        assert server.state is not None
        client = openai.OpenAI(base_url=server.url, api_key="sk-test-0123456789abcdef", max_retries=0)
        for case in cases:
            server.state.drop_rules()
            server.state.reset()
            server.state.as_of = dt.date.fromisoformat(case["date"])
            outcome = replay(client, case)
            tally = tallies[case["category"]]
            tally.cases += 1
            label = f"{case['model']} {case['source'].rsplit('/', 1)[-1]}"
            if outcome.prompt_tokens == case["prompt_tokens"]:
                tally.tokens += 1
            else:
                got = outcome.error or outcome.prompt_tokens
                tally.misses.append(f"tokens {label}: live {case['prompt_tokens']}, mockai {got}")
            expected = recorded_shape(case)
            if expected is not None:
                tally.shapes += 1
                if outcome.paths == expected:
                    tally.shaped += 1
                elif outcome.paths is not None:
                    missing = sorted(expected - outcome.paths)
                    extra = sorted(outcome.paths - expected)
                    tally.misses.append(f"shape {label} ({case['date']}): missing {missing} extra {extra}")
    return dict(tallies)


def percent(hits: int, total: int) -> int:
    return 100 * hits // total if total else 100


def table(tallies: dict[str, Tally]) -> str:
    lines = [f"{'category':<22}{'cases':>6}{'tokens':>12}{'shape':>12}"]
    for name in sorted(tallies):
        t = tallies[name]
        shape = f"{t.shaped}/{t.shapes}" if t.shapes else "-"
        lines.append(f"{name:<22}{t.cases:>6}{f'{t.tokens}/{t.cases}':>12}{shape:>12}")
    known = [t for n, t in tallies.items() if n != "ungated-media"]
    hits, total = sum(t.tokens for t in known), sum(t.cases for t in known)
    shaped, shapes = sum(t.shaped for t in tallies.values()), sum(t.shapes for t in tallies.values())
    tokens, shape = f"{percent(hits, total)}%", f"{percent(shaped, shapes)}%"
    lines.append(f"{'knowable offline':<22}{total:>6}{tokens:>12}{shape:>12}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    result = measure(load_cases())
    print("\n" + table(result))
    return result


@pytest.mark.parametrize("category", sorted(TOKEN_FLOORS))
def test_prompt_tokens_match_the_live_api_per_category(tallies: dict[str, Tally], category: str) -> None:
    tally = tallies.get(category)
    if tally is None:
        pytest.skip(f"no {category} case in {CASES.name}")
    rate = percent(tally.tokens, tally.cases)
    assert rate >= TOKEN_FLOORS[category], "\n".join(m for m in tally.misses if m.startswith("tokens"))


def test_prompt_tokens_match_overall(tallies: dict[str, Tally]) -> None:
    known = [t for n, t in tallies.items() if n != "ungated-media"]
    assert percent(sum(t.tokens for t in known), sum(t.cases for t in known)) >= OVERALL_TOKEN_FLOOR


@pytest.fixture(scope="module")
def extra_tallies() -> dict[str, Tally]:
    result = measure(load_cases(EXTRA))
    print("\n" + table(result))
    return result


@pytest.mark.parametrize("category", sorted(EXTRA_TOKEN_FLOORS))
def test_prompt_tokens_on_more_recordings(extra_tallies: dict[str, Tally], category: str) -> None:
    tally = extra_tallies[category]
    rate = percent(tally.tokens, tally.cases)
    assert rate >= EXTRA_TOKEN_FLOORS[category], "\n".join(m for m in tally.misses if m.startswith("tokens"))


@pytest.mark.parametrize("category", sorted(SHAPE_FLOORS))
def test_chat_body_key_paths_match_the_recorded_ones(tallies: dict[str, Tally], category: str) -> None:
    tally = tallies[category]
    assert percent(tally.shaped, tally.shapes) >= SHAPE_FLOORS[category], "\n".join(
        m for m in tally.misses if m.startswith("shape")
    )


if __name__ == "__main__":
    files = [a for a in sys.argv[1:] if a != "-v"]
    source = Path(files[0]) if files else CASES
    if not source.exists():  # a clone without shared/ beside it: nothing to measure, and no failure
        print(f"recorded-traffic conformance: skipped, {source} is not there (set MOCKAI_REFERENCE)")
        sys.exit(0)
    result = measure(load_cases(source))
    if "-v" in sys.argv:
        for name, t in sorted(result.items()):
            for miss in t.misses:
                print(f"{name}: {miss}")
    print(table(result))

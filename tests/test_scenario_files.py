"""The worked examples in scenarios/: each file loads over the admin API and does what its
description says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from mockai.cli import main
from mockai.scenario.files import load_scenario
from mockai.scenario.matching import draw
from mockai.server.runner import ServerThread
from mockai.server.state import MockState

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FILES = sorted(p for p in SCENARIOS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
KEY = "sk-test-0123456789abcdef"


@dataclass
class Kit:
    """What a per-file check needs: the server's state, an SDK client without retries, raw HTTP."""

    server: ServerThread
    state: MockState
    client: openai.OpenAI
    http: httpx.Client

    def retrying(self, retries: int = 2) -> openai.OpenAI:
        """An SDK client that retries like the default one (429 and 5xx), `retries` times."""
        return openai.OpenAI(base_url=self.server.url, api_key=KEY, max_retries=retries)

    def sources(self) -> list[str]:
        """The journal's `reply.source` of every request so far, oldest first."""
        return [e.reply["source"] for e in self.state.journal.entries()]


def put_scenario(http: httpx.Client, path: Path) -> None:
    """Load a scenario file the way a test in any language would: PUT its data as JSON."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    response = http.put("/_mockai/scenario", content=json.dumps(data, default=str))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "rules": len(data["rules"])}


def user(text: str, system: str | None = None) -> list[dict[str, str]]:
    """A chat message list: an optional system message, then one user message."""
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": text}]


# ---------------------------------------------------------------------------------------------------------
# One check per file, named by the file's stem.


def check_summary(kit: Kit) -> None:
    answer = kit.client.chat.completions.create(
        model="gpt-4o-mini",
        messages=user(
            "Revenue for Q3 was up 31% on flat costs. " * 20, system="Summarise the text in 10 words."
        ),
    )
    text = answer.choices[0].message.content
    assert text == "Quarterly revenue rose sharply while costs stayed flat, lifting margins."
    assert len(text.split()) == 10
    assert answer.usage is not None
    assert answer.usage.completion_tokens == 12
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + 12
    assert kit.sources() == ["rule:summary#ten-word-summary"]


FIB = "\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"


def check_code_completion(kit: Kit) -> None:
    done = kit.client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="def fibonacci(n: int) -> int:", max_tokens=64
    )
    assert (done.choices[0].text, done.choices[0].finish_reason) == (FIB, "stop")
    chat = kit.client.chat.completions.create(
        model="gpt-4o-mini", messages=user("Write Fibonacci in Python.")
    )
    assert chat.choices[0].message.content == f"```python\ndef fibonacci(n: int) -> int:{FIB}```"
    kit.client.completions.create(model="gpt-3.5-turbo-instruct", prompt="def factorial(n):")
    assert kit.sources() == [
        "rule:code-completion#fibonacci-body",
        "rule:code-completion#fibonacci-chat",
        "generator",
    ]


FEW_SHOT = [
    {"role": "system", "content": "Translate corporate jargon into plain English."},
    {"role": "user", "content": "Let's circle back on this."},
    {"role": "assistant", "content": "Let's talk about it again later."},
]


def check_jargon_translation(kit: Kit) -> None:
    question = "We need more synergy between the teams."
    answer = kit.client.chat.completions.create(model="gpt-4o-mini", messages=[*FEW_SHOT, *user(question)])
    assert answer.choices[0].message.content == f'Plain English for "{question}": let\'s work together.'
    with pytest.raises(openai.BadRequestError) as missing:
        kit.client.chat.completions.create(model="gpt-4o-mini", messages=user(question))
    assert missing.value.body == {
        "message": "mockai scenario: the few-shot examples are missing from the prompt.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def check_edits_to_chat(kit: Kit) -> None:
    assert kit.state.as_of.isoformat() == "2023-10-01"
    old = kit.client.post(
        "/edits",
        body={
            "model": "text-davinci-edit-001",
            "instruction": "Fix the spelling mistakes.",
            "input": "What day of the wek is it?",
        },
        cast_to=httpx.Response,
    )
    new = kit.client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=user("What day of the wek is it?", system="Fix the spelling mistakes."),
    )
    assert old.json()["choices"][0]["text"] == new.choices[0].message.content == "What day of the week is it?"
    assert new.model == "gpt-3.5-turbo-0613"
    kit.http.put("/_mockai/clock", json={"as_of": "2024-01-04"}).raise_for_status()
    with pytest.raises(openai.NotFoundError) as retired:
        kit.client.post(
            "/edits",
            body={"model": "text-davinci-edit-001", "instruction": "Fix it.", "input": "wek"},
            cast_to=httpx.Response,
        )
    assert retired.value.body["message"] == (
        "The model `text-davinci-edit-001` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations"
    )


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        },
    },
}


def check_tool_agent(kit: Kit) -> None:
    messages: list[dict[str, object]] = [*user("What's the weather in Paris?")]
    finals = []
    for _ in range(4):  # the agent loop: call the model until it stops asking for tools
        choice = kit.client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL]
        ).choices[0]
        if choice.finish_reason != "tool_calls":
            finals.append(choice.message.content)
            break
        calls = choice.message.tool_calls or []
        messages.append({"role": "assistant", "content": None, "tool_calls": [c.model_dump() for c in calls]})
        for call in calls:
            assert (call.id, call.function.name) == ("call_weather_1", "get_weather")
            assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "18°C and sunny"})
    assert finals == ["In Paris it is 18°C and sunny."]
    assert kit.sources() == ["rule:tool-agent#ask-for-weather", "rule:tool-agent#answer-with-result"]
    assert kit.state.rules.state("tool-agent") == "done"
    kit.http.post("/_mockai/reset").raise_for_status()
    again = kit.client.chat.completions.create(
        model="gpt-4o-mini", messages=user("Weather?"), tools=[WEATHER_TOOL]
    )
    assert again.choices[0].finish_reason == "tool_calls"


RPM_429 = re.compile(
    r"Rate limit reached for gpt-3\.5-turbo in organization org-[0-9A-Za-z]{24} on requests per min \(RPM\): "
    r"Limit 2, Used 2, Requested 1\. Please try again in (29\.\d+s|30s)\. "
    r"Visit https://platform\.openai\.com/account/rate-limits to learn more\."
)


def check_rate_limit_storm(kit: Kit) -> None:
    retrying = kit.retrying(2)
    with pytest.raises(openai.RateLimitError) as storm:
        retrying.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))
    assert storm.value.code == "rate_limit_exceeded"
    recovered = retrying.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))
    assert recovered.choices[0].message.content == "Recovered."
    entries = kit.state.journal.entries()
    assert [(e.status, e.headers["x-stainless-retry-count"]) for e in entries] == [
        (429, "0"),
        (429, "1"),
        (429, "2"),
        (200, "0"),
    ]
    # The limiter side: gpt-3.5-turbo is held to 2 requests per minute.
    for left in ("1", "0"):
        raw = kit.client.chat.completions.with_raw_response.create(model="gpt-3.5-turbo", messages=user("hi"))
        assert (raw.headers["x-ratelimit-limit-requests"], raw.headers["x-ratelimit-remaining-requests"]) == (
            "2",
            left,
        )
    with pytest.raises(openai.RateLimitError) as limited:
        kit.client.chat.completions.create(model="gpt-3.5-turbo", messages=user("hi"))
    assert RPM_429.fullmatch(limited.value.body["message"]), limited.value.body
    assert (limited.value.type, limited.value.code) == ("requests", "rate_limit_exceeded")
    assert limited.value.response.headers["retry-after"] == "30"
    assert kit.sources()[-1] == "limiter"


def check_retired_model_migration(kit: Kit) -> None:
    with pytest.raises(openai.NotFoundError) as old:
        kit.client.completions.create(model="text-davinci-003", prompt="Say hi")
    assert old.value.body == {
        "message": "The model `text-davinci-003` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
    new = kit.client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")
    assert (new.model, new.choices[0].text) == ("gpt-3.5-turbo-instruct", " Migrated.")
    listed = {m.id for m in kit.client.models.list()}
    assert "gpt-3.5-turbo-instruct" in listed and "text-davinci-003" not in listed
    kit.http.put("/_mockai/clock", json={"as_of": "2024-01-03"}).raise_for_status()
    assert (
        kit.client.completions.create(model="text-davinci-003", prompt="Say hi").model == "text-davinci-003"
    )


def stream_text(client: openai.OpenAI, prompt: str, got: list[str]) -> None:
    """Stream a chat reply into `got`, one content piece per chunk."""
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=user(prompt), stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            got.append(chunk.choices[0].delta.content)


def check_broken_stream(kit: Kit) -> None:
    got: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        stream_text(kit.client, "cut", got)
    assert "".join(got) == "one two"
    got.clear()
    with pytest.raises(openai.APIError) as event:
        stream_text(kit.client, "error", got)
    assert event.value.message == "The server had an error while processing your request. Sorry about that!"
    assert "".join(got) == "one two"
    got.clear()
    with pytest.raises(json.JSONDecodeError):
        stream_text(kit.client, "garbage", got)
    assert "".join(got) == "one two"
    got.clear()
    started = time.perf_counter()
    stream_text(kit.client, "slow", got)
    elapsed = time.perf_counter() - started
    assert got == ["one", " two", " three"]
    assert 0.2 <= elapsed < 0.6, elapsed  # role, 3 content and finish chunks at 1/20 s each: 0.25 s


def check_flaky_service(kit: Kit) -> None:
    statuses = []
    for _ in range(6):
        try:
            kit.client.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))
            statuses.append(200)
        except openai.InternalServerError as exc:
            statuses.append(exc.status_code)
    assert statuses == [200, 200, 503, 200, 200, 503]

    def run() -> list[int]:
        out = []
        for _ in range(10):
            try:
                kit.client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")
                out.append(200)
            except openai.InternalServerError as exc:
                out.append(exc.status_code)
        return out

    first = run()
    kit.http.post("/_mockai/reset").raise_for_status()
    assert run() == first  # the same seed fails the same calls
    assert first == [500 if draw(7, "flaky-service#2", n) < 0.3 else 200 for n in range(1, 11)]
    assert 0 < first.count(500) < 10


CHECKS: dict[str, Callable[[Kit], None]] = {
    "summary": check_summary,
    "code_completion": check_code_completion,
    "jargon_translation": check_jargon_translation,
    "edits_to_chat": check_edits_to_chat,
    "tool_agent": check_tool_agent,
    "rate_limit_storm": check_rate_limit_storm,
    "retired_model_migration": check_retired_model_migration,
    "broken_stream": check_broken_stream,
    "flaky_service": check_flaky_service,
}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_scenario_file_loads_over_the_admin_api_and_does_what_it_describes(
    path: Path, server: ServerThread, state: MockState, client: openai.OpenAI, http: httpx.Client
) -> None:
    assert path.stem in CHECKS, f"scenarios/{path.name} has no check: add check_{path.stem} to CHECKS"
    put_scenario(http, path)
    CHECKS[path.stem](Kit(server, state, client, http))


def test_the_examples_cover_every_file_and_each_file_describes_itself() -> None:
    assert {p.stem for p in FILES} == set(CHECKS)
    for path in FILES:
        scenario = load_scenario(path)
        assert scenario.description and len(scenario.description) > 80, path.name


def test_mockai_check_passes_on_the_shipped_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SCENARIOS)]) == 0
    assert capsys.readouterr().out == f"mockai check: {len(FILES)} file(s) OK\n"


BAD = """\
name: bad
rules:
  - match: {endpont: chat}
    reply: {content: hi}
  - match: {model: gpt-4o}
    times: 0
    reply: {contnet: x}
"""


def test_mockai_check_reports_each_mistake_as_file_line_message_with_a_fix_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    good = SCENARIOS / "summary.yaml"
    assert main(["check", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{bad}:3: unknown match key 'endpont'. Did you mean 'endpoint'? "
        "Valid keys: any_message, call, called, contains, endpoint, icontains, json, last_role, "
        "model, probability, regex, state, stream, system, tool_result, tools, turn.",
        f"{bad}:6: times must be a whole number of at least 1; got 0",
        f"{bad}:7: unknown reply key 'contnet'. Did you mean 'content'? "
        "Valid keys: categories, content, delay, duration, embedding, error, finish_reason, flagged, "
        "function_call, language, refusal, stream, text, tool_calls, usage.",
        "mockai check: 3 problem(s) in 2 file(s)",
    ]


def test_mockai_check_of_a_directory_without_scenario_files_fails_instead_of_passing_vacuously(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err == f"mockai check: no scenario files (*.yaml, *.yml, *.json) in {tmp_path}\n"
    )


def test_serve_refuses_to_start_with_a_bad_scenario_and_prints_the_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mockai", "serve", "--port", "0", "--scenario", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[0] == "mockai: 3 problems:"
    assert lines[1].startswith(f"{bad}:3: unknown match key 'endpont'. Did you mean 'endpoint'?")
    assert len(lines) == 4

"""The order of a request's way through mockai (mockai/server/pipeline.py), and what that order promises:
rules beat recordings beat the generator, a rule is used up only by an answer actually sent, scripted
errors use no quota, the models list never comes from a cassette, and a reset gives the same bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from mockai.errors import org_id
from mockai.generation import audio_synth
from mockai.scenario.files import ScenarioError, parse_scenario
from mockai.server.runner import ServerThread
from mockai.server.state import MockState
from mockai.settings import Settings

KEY = "sk-test-0123456789abcdef"
WEATHER = [{"role": "user", "content": "What is the weather in Paris?"}]


def sources(state: MockState) -> list[str]:
    return [e.reply["source"] for e in state.journal.entries()]


# ---------------------------------------------------------------------------------------------------------
# rules and the limiter


def test_a_rule_refused_by_the_limiter_is_not_used_up(client: openai.OpenAI, state: MockState) -> None:
    rule = state.rules.add_rule({"match": {"contains": "weather"}, "times": 1, "reply": "Sunny"})
    state.limiter.set_limits(tpm=1_000)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=WEATHER, max_tokens=5_000)
    assert refused.value.body["message"] == (  # type: ignore[index]
        f"Request too large for gpt-4o-mini in organization {org_id(KEY)} on tokens per min (TPM): "
        "Limit 1000, Requested 5014. "
        "The input or output tokens must be reduced in order to run successfully. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    assert state.rules.answered(rule) == 0
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=WEATHER, max_tokens=10)
    assert answer.choices[0].message.content == "Sunny"
    again = client.chat.completions.create(model="gpt-4o-mini", messages=WEATHER, max_tokens=10)
    assert again.choices[0].message.content != "Sunny"  # `times: 1` is used up now, by the answer sent
    assert sources(state) == ["limiter", "rule:inline#1", "generator"]


def test_scripted_errors_use_no_quota(http: httpx.Client, state: MockState) -> None:
    state.rules.add_rule({"times": 3, "reply": {"error": 503}})
    state.limiter.set_limits(rpm=2)
    chat = {"model": "gpt-4o-mini", "messages": WEATHER}
    statuses = [http.post("/v1/chat/completions", json=chat).status_code for _ in range(6)]
    assert statuses == [503, 503, 503, 200, 200, 429]


def test_a_call_each_rule_refuses_in_strict_mode_gets_a_400_and_uses_no_quota(
    http: httpx.Client, state: MockState
) -> None:
    state.strict = True
    state.limiter.set_limits(rpm=1)
    chat = {"model": "gpt-4o-mini", "messages": WEATHER}
    refused = http.post("/v1/chat/completions", json=chat)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "mockai_no_rule_matched"
    assert refused.json()["error"]["message"].startswith(
        "mockai: no rule matched chat (model='gpt-4o-mini', text='What is the weather in Paris?'); "
        "no rules are loaded"
    )
    state.strict = False
    assert http.post("/v1/chat/completions", json=chat).status_code == 200


# ---------------------------------------------------------------------------------------------------------
# reply sources: rules, then the cassette, then the generator


@pytest.fixture(scope="module")
def cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cassette holding one chat answer, recorded through mockai from another mockai scripted to say it."""
    path = tmp_path_factory.mktemp("cassette") / "recorded.jsonl"
    with ServerThread() as upstream:
        assert upstream.state is not None
        upstream.state.rules.add_rule({"reply": "From the recording."})
        recording = Settings(port=0, cassette=str(path), record_mode="all", upstream=upstream.url)
        with ServerThread(recording) as recorder:
            client = openai.OpenAI(base_url=recorder.url, api_key=KEY, max_retries=0)
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "recorded"}]
            )
    return path


@pytest.fixture()
def replaying(cassette: Path) -> Iterator[tuple[ServerThread, openai.OpenAI]]:
    with ServerThread(Settings(port=0, cassette=str(cassette))) as server:
        yield server, openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)


def ask(client: openai.OpenAI, text: str) -> str | None:
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content


def test_rules_beat_recordings_and_a_call_neither_knows_gets_the_cassettes_400(
    replaying: tuple[ServerThread, openai.OpenAI],
) -> None:
    server, client = replaying
    assert server.state is not None
    server.state.rules.add_rule({"match": {"contains": "rule"}, "reply": "From the rule."})
    assert ask(client, "recorded") == "From the recording."
    assert ask(client, "a rule, please") == "From the rule."
    with pytest.raises(openai.BadRequestError) as missed:
        ask(client, "something nobody recorded")
    assert missed.value.body["code"] == "cassette_miss"  # type: ignore[index]
    assert missed.value.body["message"].startswith(  # type: ignore[index]
        "mockai: no recorded interaction matches POST /v1/chat/completions in "
    )
    assert sources(server.state) == ["cassette", "rule:inline#1", "cassette"]


def test_the_models_list_comes_from_the_catalogue_even_with_a_cassette(
    replaying: tuple[ServerThread, openai.OpenAI],
) -> None:
    server, client = replaying
    assert server.state is not None
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o-mini" in ids and client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    assert sources(server.state) == ["catalogue", "catalogue"]


def test_a_recording_answers_a_request_mockai_itself_would_refuse(tmp_path: Path) -> None:
    """A recording is the real API's answer: replayed even when mockai's own checks disagree."""
    path = tmp_path / "newer-model.jsonl"
    with ServerThread() as upstream:
        assert upstream.state is not None
        upstream.state.rules.add_rule({"reply": "Recorded from a model this mockai does not know."})
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        with ServerThread(
            Settings(port=0, cassette=str(path), record_mode="all", upstream=upstream.url)
        ) as rec:
            # Recorded as the client sent it, under a model id the recorder's own catalogue refuses.
            sent = httpx.post(rec.url + "/chat/completions", json=body, timeout=10)
            assert sent.status_code == 200
    lines = path.read_text().replace('"gpt-4o-mini"', '"gpt-9-preview"', 1)
    path.write_text(lines)
    with ServerThread(Settings(port=0, cassette=str(path))) as replay:
        newer = httpx.post(
            replay.url + "/chat/completions", json={**body, "model": "gpt-9-preview"}, timeout=10
        )
    assert newer.status_code == 200
    assert (
        newer.json()["choices"][0]["message"]["content"] == "Recorded from a model this mockai does not know."
    )


# ---------------------------------------------------------------------------------------------------------
# determinism across a reset


def test_after_a_reset_the_same_calls_give_the_same_bytes_and_request_ids(
    http: httpx.Client, state: MockState
) -> None:
    state.rules.add_rule({"match": {"contains": "fail"}, "reply": {"error": 500}})

    def run() -> list[tuple[int, bytes, str]]:
        calls: list[dict[str, Any]] = [
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "please fail"}]},
            {"model": "no-such-model", "messages": [{"role": "user", "content": "hello"}]},
        ]
        out = []
        for body in calls:
            response = http.post("/v1/chat/completions", json=body)
            out.append((response.status_code, response.content, response.headers["x-request-id"]))
        return out

    first = run()
    assert http.post("/_mockai/reset").status_code == 200
    assert run() == first
    assert [status for status, _, _ in first] == [200, 500, 404]
    assert first[1][2] in first[1][1].decode()  # the 500's text names its request id, as OpenAI's does


def test_a_reset_takes_the_scenarios_seed_again(http: httpx.Client, state: MockState) -> None:
    scenario = {"seed": 7, "rules": [{"match": {"contains": "never"}, "reply": "x"}]}
    assert http.put("/_mockai/scenario", json=scenario).status_code == 200
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    before = http.post("/v1/chat/completions", json=chat).content
    http.post("/_mockai/reset")
    assert state.seed == 7 and http.post("/v1/chat/completions", json=chat).content == before


# ---------------------------------------------------------------------------------------------------------
# stream faults on every streamed endpoint


def test_a_scripted_stream_cut_breaks_a_transcription_stream(client: openai.OpenAI, state: MockState) -> None:
    state.rules.add_rule(
        {
            "match": {"endpoint": "transcriptions"},
            "reply": {"text": "one two three four", "stream": {"cut_after": 2}},
        }
    )
    got: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        stream = client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", audio_synth.synthesize("hello", "wav")), stream=True
        )
        for event in stream:
            got.append(event.delta)  # type: ignore[union-attr]
    assert got == ["one", " two"]


def test_a_scripted_error_event_ends_a_speech_stream(http: httpx.Client, state: MockState) -> None:
    state.rules.add_rule({"match": {"endpoint": "speech"}, "reply": {"stream": {"error_after": 1}}})
    request = {
        "model": "gpt-4o-mini-tts",
        "voice": "sage",
        "input": "Hello there. " * 40,
        "stream_format": "sse",
    }
    response = http.post("/v1/audio/speech", json=request)
    events = [line for line in response.text.split("\n\n") if line]
    assert len(events) == 2 and events[0].startswith('data: {"type":"speech.audio.delta"')
    assert events[1] == (
        'data: {"error":{"message":"The server had an error while processing your request. '
        'Sorry about that!","type":"server_error","param":null,"code":null}}'
    )


def test_stream_faults_on_a_rule_for_an_endpoint_that_never_streams_are_refused_at_load() -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(
            {"rules": [{"match": {"endpoint": "embeddings"}, "reply": {"stream": {"cut_after": 1}}}]}
        )
    assert str(refused.value).endswith(
        "stream: scripts how a streamed answer is paced or broken, but embeddings never stream; "
        "put it on a rule for chat, completions, transcriptions or speech"
    )


def test_a_generated_answer_is_journaled_with_why_no_rule_answered(
    http: httpx.Client, state: MockState
) -> None:
    state.rules.add_rule({"name": "weather", "match": {"contains": "weather"}, "reply": "Sunny"})
    http.post(
        "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    )
    reply = state.journal.entries()[-1].reply
    assert reply["source"] == "generator"
    assert reply["why"] == (
        "no rule matched chat (model='gpt-4o-mini', text='hi'); closest: rule 'weather' (scenario 'inline') "
        "failed on contains='weather'"
    )


def test_the_strict_header_must_say_true_or_false(http: httpx.Client, state: MockState) -> None:
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    refused = http.post("/v1/chat/completions", json=chat, headers={"x-mockai-strict": "maybe"})
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "message": "mockai: the x-mockai-strict header must be true or false; got 'maybe'",
        "type": "invalid_request_error",
        "param": "x-mockai-strict",
        "code": None,
    }
    assert (
        http.post("/v1/chat/completions", json=chat, headers={"x-mockai-strict": "true"}).status_code == 400
    )

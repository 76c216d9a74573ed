"""Scripted faults over HTTP, seen through the real openai package: rules, errors, retries, limits,
streams."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import openai
import pytest
from conftest import LogCollector

from mockai.errors import org_id
from mockai.scenario.matching import draw
from mockai.server.runner import ServerThread
from mockai.server.state import MockState

KEY = "sk-test-0123456789abcdef"
ORG = org_id(KEY)
HI = [{"role": "user", "content": "hi"}]


def rules(state: MockState, *items: dict[str, Any], **settings: Any) -> None:
    """Replace the server's rules with these (and apply a scenario's settings such as seed)."""
    for scenario in state.rules.replace({"name": "t", "rules": list(items), **settings}):
        state.apply(scenario)


def chat(client: openai.OpenAI, text: str = "hi", **kw: Any) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **kw
    )


def outcome(client: openai.OpenAI, text: str = "hi") -> int | str:
    """The reply's content, or the HTTP status of the error the SDK raised."""
    try:
        return chat(client, text).choices[0].message.content
    except openai.APIStatusError as exc:
        return exc.status_code


def retrying(server: ServerThread, retries: int = 2, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=retries, **kw)


def sources(state: MockState) -> list[str]:
    return [e.reply["source"] for e in state.journal.entries()]


# ---------------------------------------------------------------------------------------------------------
# Rules, sequences, times


def test_the_first_matching_rule_answers_and_the_rest_fall_through_to_the_default_reply(
    client: openai.OpenAI, state: MockState
) -> None:
    rules(
        state,
        {"name": "weather", "match": {"contains": "weather"}, "reply": {"content": "Sunny."}},
        {"name": "any-gpt-4o", "match": {"model": "gpt-4o*"}, "reply": {"content": "A gpt-4o answer."}},
    )
    assert outcome(client, "weather in Paris?") == "Sunny."
    assert outcome(client, "hello") == "A gpt-4o answer."
    weather = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="weather")
    assert weather.choices[0].text == "Sunny."  # no `endpoint:` in the rule, so it answers completions too
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hello")
    assert sources(state) == ["rule:t#weather", "rule:t#any-gpt-4o", "rule:t#weather", "generator"]


def test_replies_are_answered_in_order_and_the_last_one_repeats(
    client: openai.OpenAI, state: MockState
) -> None:
    rules(
        state, {"match": {"endpoint": "chat"}, "replies": [{"error": 503}, {"error": 429}, {"content": "ok"}]}
    )
    assert [outcome(client) for _ in range(4)] == [503, 429, "ok", "ok"]


def test_a_rule_with_times_answers_that_often_then_lets_the_next_rule_answer(
    client: openai.OpenAI, state: MockState
) -> None:
    rules(
        state,
        {"id": "twice", "match": {"endpoint": "chat"}, "times": 2, "reply": {"error": {"status": 500}}},
        {"id": "after", "match": {"endpoint": "chat"}, "times": 1, "reply": {"content": "third"}},
    )
    assert [outcome(client) for _ in range(4)] == [500, 500, "third", outcome(client)]
    assert sources(state) == ["rule:t#twice", "rule:t#twice", "rule:t#after", "generator", "generator"]


# ---------------------------------------------------------------------------------------------------------
# Every error status, with OpenAI's standard bodies and the SDK's exception classes

SERVER_500 = (
    "The server had an error processing your request. Sorry about that! You can retry your request, "
    "or contact us through our help center at help.openai.com if you keep seeing this error. "
    "(Please include the request ID {rid} in your email.)"
)
OVERLOADED = (
    "That model is currently overloaded with other requests. You can retry your request, "
    "or contact us through our help center at help.openai.com if the error persists. "
    "(Please include the request ID {rid} in your message.)"
)
QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. "
    "For more information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)
SCRIPTED_RPM = (
    f"Rate limit reached for gpt-4o-mini in organization {ORG} on requests per min (RPM): Limit 3, Used 3, "
    "Requested 1. Please try again in 20ms. "
    "Visit https://platform.openai.com/account/rate-limits to learn more."
)
BAD_KEY = (
    "Incorrect API key provided: sk-test-************cdef. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)

STATUSES: list[tuple[dict[str, Any], type[openai.APIStatusError], str, str, str | None, dict[str, str]]] = [
    ({"status": 400}, openai.BadRequestError, "Bad Request.", "invalid_request_error", None, {}),
    ({"status": 401}, openai.AuthenticationError, BAD_KEY, "invalid_request_error", "invalid_api_key",
     {"www-authenticate": 'Bearer realm="OpenAI API"'}),
    ({"status": 403}, openai.PermissionDeniedError, "Project does not have access to model `gpt-4o-mini`",
     "invalid_request_error", "model_not_found", {}),
    ({"status": 404}, openai.NotFoundError,
     "The model `gpt-4o-mini` does not exist or you do not have access to it.",
     "invalid_request_error", "model_not_found", {}),
    ({"status": 429}, openai.RateLimitError, SCRIPTED_RPM, "requests", "rate_limit_exceeded",
     {"retry-after": "1", "retry-after-ms": "20"}),
    ({"status": 429, "type": "insufficient_quota", "code": "insufficient_quota"}, openai.RateLimitError,
     QUOTA, "insufficient_quota", "insufficient_quota", {}),
    ({"status": 500}, openai.InternalServerError, SERVER_500, "server_error", None, {}),
    ({"status": 502}, openai.InternalServerError, "Bad gateway.", "server_error", "bad_gateway", {}),
    ({"status": 503}, openai.InternalServerError, OVERLOADED, "server_error", None, {}),
    ({"status": 504}, openai.InternalServerError, "Gateway timeout.", "server_error", "gateway_timeout", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("error", "raised", "message", "kind", "code", "headers"),
    STATUSES,
    ids=[f"{e['status']}-{e.get('type', 'standard')}" for e, *_ in STATUSES],
)
def test_a_scripted_status_answers_openais_standard_error_and_the_sdk_raises_its_class(
    client: openai.OpenAI,
    state: MockState,
    error: dict[str, Any],
    raised: type[openai.APIStatusError],
    message: str,
    kind: str,
    code: str | None,
    headers: dict[str, str],
) -> None:
    rules(state, {"reply": {"error": error}})
    with pytest.raises(raised) as caught:
        chat(client)
    response = caught.value.response
    rid = response.headers["x-request-id"]
    assert caught.value.status_code == error["status"]
    assert caught.value.body == {
        "message": message.format(rid=rid),
        "type": kind,
        "param": None,
        "code": code,
    }
    assert {k: response.headers.get(k) for k in headers} == headers
    if "insufficient_quota" in error.values():
        assert "retry-after" not in response.headers  # it needs the user to pay, not to wait
    assert response.headers["x-ratelimit-limit-requests"] == "30000"
    entry = state.journal.entries()[-1]
    assert (entry.status, entry.reply["source"], entry.reply["error"]["message"]) == (
        error["status"],
        "rule:t#1",
        message.format(rid=rid),
    )


def test_every_field_of_a_scripted_error_can_be_given_and_x_should_retry_false_stops_the_sdk_retrying(
    server: ServerThread, state: MockState
) -> None:
    rules(
        state,
        {
            "reply": {
                "error": {
                    "status": 400,
                    "message": (
                        "This model's maximum context length is 4097 tokens. "
                        "However, your messages resulted in 4294 tokens. "
                        "Please reduce the length of the messages."
                    ),
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                    "headers": {"x-should-retry": "false"},
                }
            }
        },
        {"reply": {"error": {"status": 503, "headers": {"x-should-retry": "false"}}}},
    )
    with pytest.raises(openai.BadRequestError) as caught:
        chat(retrying(server))
    assert (caught.value.param, caught.value.code) == ("messages", "context_length_exceeded")
    assert caught.value.body["message"].startswith("This model's maximum context length is 4097 tokens.")
    rules(state, {"reply": {"error": {"status": 503, "headers": {"x-should-retry": "false"}}}})
    with pytest.raises(openai.InternalServerError):
        chat(retrying(server))
    assert [e.status for e in state.journal.entries()] == [400, 503]  # neither was retried


# ---------------------------------------------------------------------------------------------------------
# The SDK's own retries


def test_the_sdk_retries_a_scripted_429_and_then_succeeds(server: ServerThread, state: MockState) -> None:
    rules(state, {"times": 1, "reply": {"error": {"status": 429}}})
    started = time.perf_counter()
    answer = chat(retrying(server, 2))
    assert answer.choices[0].message.content
    assert time.perf_counter() - started < 1.5  # it honoured retry-after-ms: 20, not the 0.5-8 s backoff
    entries = state.journal.entries()
    assert [(e.status, e.headers["x-stainless-retry-count"], e.reply["source"]) for e in entries] == [
        (429, "0", "rule:t#1"),
        (200, "1", "generator"),
    ]


def test_a_503_storm_longer_than_the_retries_reaches_the_caller_after_three_attempts(
    server: ServerThread, state: MockState
) -> None:
    rules(state, {"times": 3, "reply": {"error": {"status": 503, "headers": {"retry-after-ms": "10"}}}})
    with pytest.raises(openai.InternalServerError):
        chat(retrying(server, 2))
    assert chat(retrying(server, 2)).choices[0].message.content
    assert [e.status for e in state.journal.entries()] == [503, 503, 503, 200]


# ---------------------------------------------------------------------------------------------------------
# The rate limiter


def ms(duration: str) -> float:
    """A Go duration as OpenAI's reset headers write it (`120ms`, `1.5s`, `1m0s`), in milliseconds."""
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)(ms|m|s)", duration):
        total += float(number) * {"ms": 1, "s": 1000, "m": 60_000}[unit]
    return total


RPM_TEXT = re.compile(
    rf"Rate limit reached for gpt-4o-mini in organization {ORG} on requests per min \(RPM\): "
    r"Limit 120, Used 120, "
    r"Requested 1\. Please try again in (\d+)ms\. "
    r"Visit https://platform\.openai\.com/account/rate-limits to learn more\."
)


def refusal_with_time_to_retry(client: openai.OpenAI) -> openai.RateLimitError:
    """Use up the bucket until a refusal whose wait leaves a retrying client time to be refused too.

    A refusal just before the next request flows in (a wait of a few ms) would let that client straight
    through; then the bucket is left to refill past one request, which is let through, and the next one
    is refused with nearly a whole request's wait (500 ms at 120 RPM)."""
    for _ in range(300):
        try:
            chat(client)
        except openai.RateLimitError as exc:
            wait_ms = int(exc.response.headers["retry-after-ms"])
            if wait_ms >= 200:
                return exc
            time.sleep(wait_ms / 1000)  # the limiter's clock, not a server: wait for the refill it announced
    raise AssertionError("the limiter never refused a request")


def test_limiter_headers_count_down_then_a_429_with_retry_after_and_the_retrying_sdk_gets_through(
    server: ServerThread, client: openai.OpenAI, state: MockState, http: httpx.Client
) -> None:
    assert http.put("/_mockai/limits", json={"rpm": 120}).json() == {"status": "ok"}
    heads = [
        client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HI).headers
        for _ in range(10)
    ]
    assert [h["x-ratelimit-limit-requests"] for h in heads] == ["120"] * 10
    assert [h["x-ratelimit-remaining-requests"] for h in heads] == [str(n) for n in range(119, 109, -1)]
    resets = [ms(h["x-ratelimit-reset-requests"]) for h in heads]  # 500 ms per request used at 120 RPM
    assert all(500 * n - 300 <= r <= 500 * n for n, r in enumerate(resets, 1)), (
        resets
    )  # minus refill meanwhile
    patient = retrying(server, 2)  # made before the bucket runs dry: making a client takes tens of ms
    refused = refusal_with_time_to_retry(client)
    wait = RPM_TEXT.fullmatch(refused.body["message"])
    assert wait, refused.body["message"]
    headers = refused.response.headers
    assert (refused.type, refused.code) == ("requests", "rate_limit_exceeded")
    assert (headers["retry-after"], headers["retry-after-ms"], headers["x-ratelimit-remaining-requests"]) == (
        "1",
        wait[1],
        "0",
    )
    assert 0 < int(wait[1]) <= 500
    started = time.perf_counter()
    assert (
        chat(patient).choices[0].message.content
    )  # refused first, waits retry-after-ms, then is let through
    assert time.perf_counter() - started >= int(wait[1]) / 1000 - 0.01
    last = state.journal.entries()[-2:]
    assert [(e.status, e.reply["source"], e.headers["x-stainless-retry-count"]) for e in last] == [
        (429, "limiter", "0"),
        (200, "generator", "1"),
    ]
    http.post("/_mockai/reset").raise_for_status()
    fresh = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HI).headers
    assert (fresh["x-ratelimit-limit-requests"], fresh["x-ratelimit-remaining-requests"]) == (
        "30000",
        "29999",
    )


def test_the_token_bucket_takes_prompt_plus_max_tokens_and_refuses_a_request_larger_than_the_tpm(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    http.put("/_mockai/limits", json={"tpm": 6000}).raise_for_status()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HI, max_tokens=100)
    prompt = raw.parse().usage.prompt_tokens
    assert raw.headers["x-ratelimit-remaining-tokens"] == str(6000 - prompt - 100)
    with pytest.raises(openai.RateLimitError) as caught:
        chat(client, max_tokens=7000)
    assert caught.value.body["message"] == (
        f"Request too large for gpt-4o-mini in organization {ORG} on tokens per min (TPM): Limit 6000, "
        f"Requested {prompt + 7000}. "
        "The input or output tokens must be reduced in order to run successfully. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    assert "retry-after" not in caught.value.response.headers  # waiting cannot help


# ---------------------------------------------------------------------------------------------------------
# Delays and timeouts


def test_delay_holds_the_answer_back_that_long(client: openai.OpenAI, state: MockState) -> None:
    rules(state, {"reply": {"delay": 0.25, "content": "late"}}, {"reply": {"error": 503, "delay": 0.2}})
    started = time.perf_counter()
    assert outcome(client) == "late"
    assert 0.25 <= time.perf_counter() - started < 1


def test_a_delay_longer_than_the_client_timeout_raises_api_timeout_error_and_the_server_shrugs_it_off(
    server: ServerThread, client: openai.OpenAI, state: MockState, server_log: LogCollector
) -> None:
    rules(state, {"times": 1, "reply": {"delay": 0.6, "content": "too late"}})
    impatient = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, timeout=0.2)
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        chat(impatient)
    assert time.perf_counter() - started < 0.5
    assert outcome(client) != "too late"  # the server keeps answering while the abandoned reply waits
    deadline = time.monotonic() + 5
    while len(state.journal) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted((e.status, e.reply["source"]) for e in state.journal.entries()) == [
        (200, "generator"),
        (200, "rule:t#1"),
    ]
    assert server_log.records == []


def test_the_sdk_retries_a_timeout_and_the_second_attempt_gets_the_answer(
    server: ServerThread, state: MockState
) -> None:
    rules(state, {"times": 1, "reply": {"delay": 0.5}}, {"reply": {"content": "on time"}})
    assert chat(retrying(server, 1, timeout=0.2)).choices[0].message.content == "on time"


# ---------------------------------------------------------------------------------------------------------
# Streams: cut, error event, malformed chunk, pacing


def stream_pieces(client: openai.OpenAI, endpoint: str, got: list[str], **kw: Any) -> None:
    """Stream a reply from chat or completions, appending each text piece to `got`."""
    if endpoint == "chat":
        for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True, **kw):
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    else:
        for chunk in client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="hi", stream=True, **kw
        ):
            if chunk.choices and chunk.choices[0].text:
                got.append(chunk.choices[0].text)


TEXT = "one two three four five six seven eight"


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
@pytest.mark.parametrize(
    ("plan", "raised"),
    [
        ({"cut_after": 3}, openai.APIConnectionError),
        ({"error_after": 3}, openai.APIError),
        ({"malformed_after": 3}, json.JSONDecodeError),
    ],
    ids=["cut", "error-event", "malformed"],
)
def test_a_broken_stream_delivers_its_first_chunks_then_the_sdk_raises(
    client: openai.OpenAI, state: MockState, endpoint: str, plan: dict[str, int], raised: type[Exception]
) -> None:
    rules(state, {"reply": {"text": TEXT, "stream": plan}})
    got: list[str] = []
    with pytest.raises(raised) as caught:
        stream_pieces(client, endpoint, got)
    # chat's first chunk is the role chunk, so it has one text piece fewer before the fault
    assert "".join(got) == ("one two" if endpoint == "chat" else "one two three")
    if raised is openai.APIError:
        assert (
            caught.value.message == "The server had an error while processing your request. Sorry about that!"
        )
    entry = state.journal.entries()[-1]
    assert (entry.status, entry.reply["source"]) == (200, "rule:t#1")


def test_a_stream_paced_at_tokens_per_second_takes_as_long_as_its_chunks_need(
    client: openai.OpenAI, state: MockState
) -> None:
    rules(state, {"reply": {"text": TEXT, "stream": {"tokens_per_second": 40, "chunk_tokens": 2}}})
    got: list[str] = []
    started = time.perf_counter()
    stream_pieces(client, "chat", got)
    elapsed = time.perf_counter() - started
    assert got == ["one two", " three four", " five six", " seven eight"]
    expected = 6 * 2 / 40  # role + 4 content + finish chunks, 2 tokens' time each
    assert expected <= elapsed < expected + 0.5, elapsed


def test_the_sdk_closing_a_paced_stream_early_leaves_the_server_quiet_and_free(
    client: openai.OpenAI, state: MockState, server_log: LogCollector
) -> None:
    rules(state, {"reply": {"text": TEXT * 10, "stream": {"tokens_per_second": 100}}})
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True)
    next(iter(stream))
    stream.close()
    assert chat(client).choices[0].message.content  # the server is free for the next request
    assert server_log.records == []


# ---------------------------------------------------------------------------------------------------------
# usage and templating


def test_a_usage_override_replaces_the_counted_fields_in_json_and_in_the_streams_last_chunk(
    client: openai.OpenAI, state: MockState
) -> None:
    rules(state, {"reply": {"content": "ok", "usage": {"prompt_tokens": 1000, "completion_tokens": 7}}})
    usage = chat(client).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1000, 7, 1007)
    chunks = list(chat(client, stream=True, stream_options={"include_usage": True}))
    assert [c.usage for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    last = chunks[-1].usage
    assert (last.prompt_tokens, last.completion_tokens, last.total_tokens) == (1000, 7, 1007)


def test_reply_templates_fill_in_the_request_over_http(client: openai.OpenAI, state: MockState) -> None:
    rules(
        state,
        {
            "match": {"contains": "look up"},
            "reply": {"tool_calls": [{"name": "lookup", "arguments": {"query": "{{ text }}", "limit": 3}}]},
        },
        {
            "match": {"contains": "fail"},
            "reply": {
                "error": {
                    "status": 400,
                    "message": "no user id in {{ json.metadata }} for {{ model }}",
                    "param": "user",
                }
            },
        },
        {
            "reply": {
                "content": "{{ model }}|{{ endpoint }}|{{ text }}|{{ system }}|{{ json.temperature }}|"
                "{{ json.messages.0.role }}|{{ call_count }}|\\{{ literal }}"
            }
        },
    )
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hello there"}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, temperature=0.5)
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert (
        first.choices[0].message.content
        == "gpt-4o-mini|chat|Hello there|Be terse.|0.5|system|1|{{ literal }}"
    )
    assert (
        second.choices[0].message.content == "gpt-4o-mini|chat|Hello there|Be terse.||system|2|{{ literal }}"
    )
    tool = chat(client, 'look up "mockai"', tools=[{"type": "function", "function": {"name": "lookup"}}])
    assert (
        tool.choices[0].message.tool_calls[0].function.arguments
        == '{"query":"look up \\"mockai\\"","limit":3}'
    )
    with pytest.raises(openai.BadRequestError) as caught:
        chat(client, "fail", metadata={"team": "a"})
    assert caught.value.body["message"] == 'no user id in {"team":"a"} for gpt-4o-mini'


# ---------------------------------------------------------------------------------------------------------
# Every k-th call, probability under the seed


def test_every_kth_call_fails_and_a_probability_is_drawn_from_the_seed_so_runs_repeat(
    client: openai.OpenAI, state: MockState, http: httpx.Client
) -> None:
    rules(state, {"match": {"endpoint": "chat", "call": {"every": 4}}, "reply": {"error": 502}})
    assert [outcome(client) == 502 for _ in range(8)] == [False, False, False, True] * 2

    def pattern(seed: int) -> list[bool]:
        rules(state, {"match": {"probability": 0.5}, "reply": {"error": 500}}, seed=seed)
        return [outcome(client) == 500 for _ in range(12)]

    assert pattern(1) == pattern(1) == [draw(1, "t#1", n) < 0.5 for n in range(1, 13)]
    assert pattern(2) == [draw(2, "t#1", n) < 0.5 for n in range(1, 13)] != pattern(1)


# ---------------------------------------------------------------------------------------------------------
# Concurrency


def test_two_hundred_concurrent_requests_meet_a_times_50_rule_exactly_50_times(
    server: ServerThread, state: MockState
) -> None:
    rules(
        state, {"id": "fifty", "match": {"endpoint": "chat"}, "times": 50, "reply": {"content": "scripted"}}
    )

    async def burst() -> list[str]:
        async with openai.AsyncOpenAI(base_url=server.url, api_key=KEY, max_retries=0) as aclient:
            replies = await asyncio.gather(
                *(
                    aclient.chat.completions.create(
                        model="gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}]
                    )
                    for i in range(200)
                )
            )
        return [r.choices[0].message.content for r in replies]

    contents = asyncio.run(burst())
    assert contents.count("scripted") == 50
    counted = sources(state)
    assert (len(counted), counted.count("rule:t#fifty"), counted.count("generator")) == (200, 50, 150)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"x-a": "one\ntwo"}, "the value of 'x-a' must be one line of printable Latin-1; got 'one\\ntwo'"),
        ({"x-price": "5 €"}, "the value of 'x-price' must be one line of printable Latin-1; got '5 €'"),
        (
            {"retry after": "1"},
            "'retry after' is not a header name: use letters, digits and -, e.g. retry-after",
        ),
        ({"Content-Length": 5}, "'content-length' is set by mockai itself and cannot be scripted"),
    ],
)
def test_scripted_headers_that_http_cannot_carry_are_refused_when_the_rule_loads(
    http: httpx.Client, headers: dict[str, Any], message: str
) -> None:
    refused = http.post("/_mockai/rules", json={"reply": {"error": {"status": 503, "headers": headers}}})
    assert refused.status_code == 400
    assert (
        refused.json()["error"]["message"]
        == f"mockai: the rule has mistakes: rule 1: reply.error.headers: {message}"
    )

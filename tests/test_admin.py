"""The admin API under /_mockai/, driven with raw HTTP as a test in any language would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from conftest import LogCollector
from hypothesis import HealthCheck, event, given, settings, strategies as st
from openai_texts import BAD_JSON

from mockai import __version__
from mockai.scenario.files import RULE_KEYS, TOP_KEYS
from mockai.scenario.templates import REPLY_KEYS
from mockai.server.runner import ServerThread
from mockai.server.state import MockState
from mockai.settings import Settings

KEY = "sk-test-0123456789abcdef"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
AUTH = {"Authorization": f"Bearer {KEY}"}


def ask(http: httpx.Client, text: str = "hi", model: str = "gpt-4o-mini") -> httpx.Response:
    """One chat request over raw HTTP."""
    return http.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": text}]},
        headers=AUTH,
    )


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def envelope(message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}


# ---------------------------------------------------------------------------------------------------------
# health, clock, reset


def test_health_reports_the_version_clock_and_seed(http: httpx.Client) -> None:
    http.put("/_mockai/clock", json={"as_of": "2023-07-06"}).raise_for_status()
    assert http.get("/_mockai/health").json() == {
        "status": "ok",
        "version": __version__,
        "as_of": "2023-07-06",
        "seed": 0,
    }


def test_put_clock_moves_the_simulated_date_and_aliases_follow_it(http: httpx.Client) -> None:
    assert http.put("/_mockai/clock", json={"as_of": "2023-07-06"}).json() == {"as_of": "2023-07-06"}
    assert http.get("/_mockai/clock").json() == {"as_of": "2023-07-06"}
    assert ask(http, model="gpt-3.5-turbo").json()["model"] == "gpt-3.5-turbo-0613"
    http.put("/_mockai/clock", json={"as_of": "2024-01-04"}).raise_for_status()
    retired = http.post("/v1/completions", json={"model": "text-davinci-003", "prompt": "hi"}, headers=AUTH)
    assert retired.status_code == 404
    assert retired.json()["error"]["code"] == "model_not_found"


def test_a_clock_that_is_not_a_date_is_refused_with_the_format(http: httpx.Client) -> None:
    refused = http.put("/_mockai/clock", json={"as_of": "July 6"})
    assert refused.status_code == 400
    assert refused.json() == envelope(
        "mockai: as_of must be a date as YYYY-MM-DD, e.g. '2023-07-06'; got 'July 6'", "as_of"
    )


def test_reset_clears_the_journal_rule_counters_and_state_and_takes_the_scenarios_clock_and_limits_again(
    http: httpx.Client,
) -> None:
    scenario = {
        "as_of": "2025-01-01",
        "limits": {"gpt-4o-mini": {"rpm": 5}},
        "rules": [
            {"match": {"state": "started"}, "times": 1, "reply": {"content": "first"}, "next_state": "later"},
            {"match": {"state": "later"}, "reply": {"content": "later"}},
        ],
    }
    assert http.put("/_mockai/scenario", json=scenario).json() == {"status": "ok", "rules": 2}
    assert [content(ask(http)) for _ in range(2)] == ["first", "later"]
    assert ask(http).headers["x-ratelimit-remaining-requests"] == "2"
    assert len(http.get("/_mockai/requests").json()["data"]) == 3
    assert http.post("/_mockai/reset").json() == {"status": "reset"}
    assert http.get("/_mockai/requests").json() == {"object": "list", "data": [], "has_more": False}
    # The loaded scenario's clock and limits hold again, with full buckets: a reset between tests gives
    # every test the same server.
    assert http.get("/_mockai/clock").json()["as_of"] == "2025-01-01"
    again = ask(http)
    assert content(again) == "first"  # counters and state are back at the start; the rules stay
    assert again.headers["x-ratelimit-limit-requests"] == "5"
    assert again.headers["x-ratelimit-remaining-requests"] == "4"


# ---------------------------------------------------------------------------------------------------------
# scenario and rules


def test_put_scenario_replaces_every_rule_post_rules_appends_one_and_delete_clears_them(
    http: httpx.Client,
) -> None:
    http.put(
        "/_mockai/scenario",
        json={"name": "s", "rules": [{"match": {"contains": "a"}, "reply": "from the scenario"}]},
    )
    added = http.post(
        "/_mockai/rules", json={"name": "catch-all", "reply": {"content": "from the added rule"}}
    )
    assert added.json() == {"status": "ok", "source": "rule:inline#catch-all", "rules": 2}
    assert [content(ask(http, "a")), content(ask(http, "b"))] == ["from the scenario", "from the added rule"]
    replaced = http.put("/_mockai/scenario", json=[{"reply": "only me"}])
    assert replaced.json() == {"status": "ok", "rules": 1}
    assert content(ask(http, "a")) == "only me"
    assert http.delete("/_mockai/scenario").json() == {"status": "ok", "rules": 0}
    ask(http, "a")
    sources = [e["reply"]["source"] for e in http.get("/_mockai/requests").json()["data"]]
    assert sources == ["rule:s#1", "rule:inline#catch-all", "rule:admin#1", "generator"]


def test_a_scenario_with_mistakes_is_refused_whole_with_each_problem_and_the_old_rules_stay(
    http: httpx.Client,
) -> None:
    http.put("/_mockai/scenario", json={"rules": [{"reply": "old"}]}).raise_for_status()
    bad = {"rules": [{"match": {"endpont": "chat"}, "reply": "x"}, {"times": 0, "reply": "y"}], "sed": 3}
    refused = http.put("/_mockai/scenario", json=bad)
    assert refused.status_code == 400
    assert refused.json() == envelope(
        "mockai: the scenario has mistakes: 3 problems:\n"
        "unknown key 'sed'. Did you mean 'seed'? Valid keys: name, description, rules, limits, as_of, seed.\n"
        "rule 1: unknown match key 'endpont'. Did you mean 'endpoint'? "
        "Valid keys: any_message, call, called, contains, endpoint, icontains, json, last_role, "
        "model, probability, regex, state, stream, system, tool_result, tools, turn.\n"
        "rule 2: times must be a whole number of at least 1; got 0"
    )
    assert content(ask(http)) == "old"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/_mockai/rules",
            {"match": {"contains": "x"}},
            "mockai: the rule has mistakes: rule 1: a rule needs reply: {...} (one answer) "
            "or replies: [...] (answers in order); one is missing",
        ),
        (
            "/_mockai/rules",
            {"reply": {"error": {"status": 500, "headers": {"x-a": "one\ntwo"}}}},
            "mockai: the rule has mistakes: rule 1: reply.error.headers: "
            "the value of 'x-a' must be one line of printable Latin-1; got 'one\\ntwo'",
        ),
        (
            "/_mockai/scenario",
            "rules",
            "mockai: the scenario has mistakes: a scenario must be a mapping such as:\n"
            "name: my-scenario\nrules:\n  - match: {contains: hello}\n    reply: {content: Hi}\n"
            "got 'rules'",
        ),
        ("/_mockai/limits", [600], 'mockai: send {"rpm": N, "tpm": N, "model": "optional glob"}.'),
        ("/_mockai/limits", {"rpm": 0}, "mockai: rpm must be a whole number of at least 1; got 0"),
    ],
)
def test_admin_writes_with_mistakes_answer_a_400_envelope_that_says_what_to_fix(
    http: httpx.Client, path: str, body: Any, message: str
) -> None:
    method = "PUT" if path != "/_mockai/rules" else "POST"
    refused = http.request(method, path, json=body)
    assert (refused.status_code, refused.json()) == (400, envelope(message))


def test_a_body_that_is_not_json_gets_openais_bad_json_400(http: httpx.Client) -> None:
    refused = http.put("/_mockai/scenario", content=b"{rules: [")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("We could not parse the JSON body of your request.")
    deep = http.post("/_mockai/rules", content=b"[" * 100_000)
    assert deep.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/_mockai/nope", 404, "Invalid URL (GET /_mockai/nope)"),
        (
            "GET",
            "/_mockai/scenario",
            405,
            "Not allowed to GET on /_mockai/scenario. "
            "(HINT: Perhaps you meant to use a different HTTP method?)",
        ),
        (
            "POST",
            "/_mockai/requests",
            405,
            "Not allowed to POST on /_mockai/requests. "
            "(HINT: Perhaps you meant to use a different HTTP method?)",
        ),
    ],
)
def test_unknown_admin_paths_and_methods_answer_like_the_api(
    http: httpx.Client, method: str, path: str, status: int, message: str
) -> None:
    answer = http.request(method, path)
    assert (answer.status_code, answer.json()) == (status, envelope(message))


def test_put_limits_enforces_rpm_for_one_model_glob_only(http: httpx.Client) -> None:
    assert http.put("/_mockai/limits", json={"rpm": 1, "model": "gpt-4o-mini*"}).json() == {"status": "ok"}
    assert ask(http).status_code == 200
    assert ask(http).status_code == 429
    assert ask(http, model="gpt-4o").status_code == 200


# ---------------------------------------------------------------------------------------------------------
# the journal


def test_the_journal_shows_each_request_with_secrets_masked_its_body_status_and_reply(
    server: ServerThread, state: MockState, http: httpx.Client
) -> None:
    http.put("/_mockai/scenario", json={"rules": [{"match": {"contains": "fail"}, "reply": {"error": 503}}]})
    client = openai.OpenAI(
        base_url=server.url, api_key=KEY, organization="org-ABCDEFGHIJKLMNOPQRSTUVWX", max_retries=0
    )
    client.chat.completions.create(**CHAT)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "fail"}])
    http.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-short"})
    first, failed, short = http.get("/_mockai/requests").json()["data"]
    assert {k: first[k] for k in ("seq", "method", "path", "body", "status", "endpoint", "reply")} == {
        "seq": 1,
        "method": "POST",
        "path": "/v1/chat/completions",
        "body": CHAT,
        "status": 200,
        "endpoint": "chat",
        "reply": {
            "source": "generator",
            "why": "no rule matched chat (model='gpt-4o-mini', text='hi'); "
            "closest: rule #1 (scenario 'admin') failed on contains='fail'",
        },
    }
    assert first["headers"]["authorization"] == "Bearer sk-test-************cdef"
    assert first["headers"]["openai-organization"] == "org-ABCD" + "*" * 16 + "UVWX"
    assert first["headers"]["x-stainless-retry-count"] == "0"
    assert KEY not in json.dumps(http.get("/_mockai/requests").json())
    assert (failed["status"], failed["reply"]["source"], failed["reply"]["error"]["type"]) == (
        503,
        "rule:admin#1",
        "server_error",
    )
    assert short["headers"]["authorization"] == "Bearer ********"  # short keys are starred out whole


def test_the_journal_is_a_ring_buffer_keeping_the_newest_entries() -> None:
    with (
        ServerThread(Settings(port=0, journal_size=5)) as small,
        httpx.Client(base_url=small.url.removesuffix("/v1")) as http,
    ):
        for n in range(8):
            ask(http, f"request {n}")
        data = http.get("/_mockai/requests").json()["data"]
    assert [e["seq"] for e in data] == [4, 5, 6, 7, 8]
    assert [e["body"]["messages"][0]["content"] for e in data] == [f"request {n}" for n in range(3, 8)]


# ---------------------------------------------------------------------------------------------------------
# --admin-token


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[ServerThread]:
    """A server started with admin_token."""
    with ServerThread(Settings(port=0, admin_token="adm-token-1")) as srv:
        yield srv


@pytest.fixture()
def guarded(guarded_server: ServerThread) -> Iterator[httpx.Client]:
    """Raw HTTP to the guarded server's root; its state is reset after each test."""
    with httpx.Client(base_url=guarded_server.url.removesuffix("/v1")) as http:
        yield http
    assert guarded_server.state is not None
    guarded_server.state.reset()
    guarded_server.state.rules.clear()


NEEDS_TOKEN = "mockai: the admin API needs 'Authorization: Bearer <admin token>' (set with --admin-token)."


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_mockai/reset", None),
        ("GET", "/_mockai/requests", None),
        ("GET", "/_mockai/clock", None),
        ("PUT", "/_mockai/clock", {"as_of": "2025-01-01"}),
        ("PUT", "/_mockai/limits", {"rpm": 1}),
        ("PUT", "/_mockai/scenario", {"rules": []}),
        ("DELETE", "/_mockai/scenario", None),
        ("POST", "/_mockai/rules", {"reply": "x"}),
    ],
)
def test_with_an_admin_token_every_admin_call_but_health_needs_it(
    guarded: httpx.Client, method: str, path: str, body: Any
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = guarded.request(method, path, json=body, headers=headers)
        assert (refused.status_code, refused.json()) == (401, envelope(NEEDS_TOKEN))
    allowed = guarded.request(method, path, json=body, headers={"Authorization": "Bearer adm-token-1"})
    assert allowed.status_code == 200, allowed.text
    assert guarded.get("/_mockai/health").status_code == 200
    assert (
        guarded.post("/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
    )  # the API needs no admin token


# ---------------------------------------------------------------------------------------------------------
# PUT /_mockai/scenario never fails with a 5xx, whatever it is sent

SCALARS = st.none() | st.booleans() | st.integers(-2, 700) | st.floats(allow_nan=True) | st.text(max_size=6)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=6,
)


def mostly(good: Any, bad: Any = SCALARS) -> Any:
    """Usually a value from `good`, sometimes one from `bad` (one draw in five)."""
    return st.integers(0, 4).flatmap(lambda n: bad if n == 4 else good)


def table(keys: Any, values: Any) -> Any:
    """A small mapping with keys from `keys` (now and then a typo) and values from `values`."""
    return st.dictionaries(mostly(st.sampled_from(sorted(keys)), st.text(max_size=5)), values, max_size=3)


def some(strategy: Any) -> Any:
    """One value, or a short list of them."""
    return strategy | st.lists(strategy, max_size=3)


WORDS = st.sampled_from(
    [
        "hi",
        "",
        "{{ text }}",
        "{{ json.model }}",
        "{{ json.messages.9 }}",
        "{{ call_count }}",
        "{{ nope }}",
        "\\{{",
        "é",
    ]
)
MATCHERS_SAMPLED = {
    "endpoint": some(st.sampled_from(["chat", "completions", "chats"])),
    "model": some(st.sampled_from(["gpt-4o*", "gpt-4o-mini", "[", ""])),
    "contains": some(st.sampled_from(["h", "i", "hi", "x"])),
    "icontains": some(st.sampled_from(["H", "x"])),
    "system": st.text(max_size=3),
    "any_message": some(st.text(max_size=3)),
    "regex": st.sampled_from(["h", "(?i)HI", "[", "a{99999}"]),
    "json": st.dictionaries(
        st.sampled_from(["temperature", "messages.0.role", "model", "a..b"]), SCALARS, max_size=2
    ),
    "tools": some(st.text(max_size=3)),
    "stream": mostly(st.booleans()),
    "state": some(st.sampled_from(["started", "x"])),
    "call": st.integers(-1, 4)
    | st.lists(st.integers(0, 4), max_size=3)
    | st.fixed_dictionaries({"every": st.integers(-1, 4)}),
    "probability": st.floats(-0.5, 1.5),
    "nonsense": SCALARS,
}
MATCH = st.lists(
    st.one_of(*(st.fixed_dictionaries({k: v}) for k, v in MATCHERS_SAMPLED.items())), max_size=3
).map(lambda parts: {k: v for part in parts for k, v in part.items()})
ERRORS = st.fixed_dictionaries(
    {"status": mostly(st.integers(400, 599), st.integers(390, 610))},
    optional={
        "message": WORDS,
        "type": st.sampled_from(["insufficient_quota", "server_error", ""]),
        "code": mostly(st.sampled_from(["insufficient_quota", "x"])),
        "param": st.text(max_size=3),
        "headers": st.dictionaries(st.text(max_size=6), st.text(max_size=4) | st.integers()),
    },
)
TOOL = st.fixed_dictionaries(
    {"name": mostly(st.sampled_from(["f", "g"]))},
    optional={"arguments": mostly(st.just({"q": "{{ text }}"}), VALUES)},
)
DELIVERY = {
    "finish_reason": mostly(st.sampled_from(["stop", "length", "tool_calls"]), st.just("stopp")),
    "usage": table({"prompt_tokens", "completion_tokens", "total_tokens"}, st.integers(-1, 99)),
    "delay": st.floats(0, 0.005),
    "stream": table({"cut_after", "error_after", "malformed_after", "chunk_tokens"}, st.integers(-1, 4)),
}
REPLY = st.one_of(
    st.fixed_dictionaries({"content": WORDS}, optional=DELIVERY),
    st.fixed_dictionaries({"tool_calls": st.lists(TOOL, min_size=1, max_size=2)}, optional=DELIVERY),
    st.fixed_dictionaries({"refusal": WORDS}, optional=DELIVERY),
    st.fixed_dictionaries({"function_call": TOOL}, optional=DELIVERY),
    st.fixed_dictionaries({"error": ERRORS | st.integers(390, 610)}, optional={"delay": st.floats(0, 0.005)}),
    st.fixed_dictionaries(
        {},
        optional={
            "embedding": st.lists(st.floats(-1, 1), min_size=1, max_size=3),
            "language": mostly(st.text(min_size=1)),
            "duration": mostly(st.floats(0, 9)),
        },
    ),
    WORDS,
)
GATES = {
    "name": mostly(st.sampled_from(["a", "b"]), st.just("")),
    "match": MATCH,
    "times": mostly(st.integers(1, 3)),
    "next_state": mostly(st.sampled_from(["started", "x"])),
}
RULES = mostly(
    st.fixed_dictionaries({"reply": mostly(REPLY, table(REPLY_KEYS, VALUES))}, optional=GATES)
    | st.fixed_dictionaries({"replies": st.lists(REPLY, min_size=1, max_size=3)}, optional=GATES),
    table(RULE_KEYS, VALUES),
)
SCENARIO_DATA = mostly(
    st.fixed_dictionaries(
        {"rules": st.lists(RULES, max_size=4)},
        optional={
            "limits": st.dictionaries(
                st.sampled_from(["gpt-4o*", "x"]),
                table({"rpm", "tpm"}, mostly(st.integers(1, 5000))),
                min_size=1,
                max_size=2,
            ),
            "as_of": mostly(st.dates().map(str)),
            "seed": st.integers(),
            "name": st.text(min_size=1, max_size=4),
            "description": st.text(min_size=1, max_size=4),
        },
    )
    | st.lists(RULES, max_size=3),
    VALUES | table(TOP_KEYS, VALUES),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=SCENARIO_DATA, stream=st.booleans())
def test_any_scenario_put_gets_200_or_a_400_envelope_and_requests_after_it_never_crash_the_server(
    http: httpx.Client, server_log: LogCollector, data: Any, stream: bool
) -> None:
    http.post("/_mockai/reset").raise_for_status()
    answer = http.put("/_mockai/scenario", content=json.dumps(data))
    assert answer.status_code in (200, 400), answer.text
    event(f"PUT answered {answer.status_code}")
    if answer.status_code == 400:
        error = answer.json()["error"]
        # NaN and Infinity are not JSON: the live API's bad-JSON 400, the rest mockai's own.
        expected = "mockai: " if is_strict_json(answer.request.content) else BAD_JSON
        assert set(error) == {"message", "type", "param", "code"} and error["message"].startswith(expected)
        return
    body = {**CHAT, "temperature": 0.5, "stream": stream}
    try:
        after = http.post("/v1/chat/completions", json=body, headers=AUTH)
    except httpx.RemoteProtocolError:  # a scripted cut_after: the connection drops mid-stream on purpose
        after = None
    event(f"the request after it answered {after.status_code if after is not None else 'a cut stream'}")
    if after is not None and after.headers["content-type"] == "application/json":
        assert not after.json().get("error", {}).get("message", "").startswith("mockai internal error"), (
            after.text
        )
    assert [r.getMessage() for r in server_log.records] == []


def is_strict_json(raw: bytes) -> bool:
    """True when `raw` is JSON without NaN or Infinity, which Python writes and JSON does not have."""

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(raw, parse_constant=refuse)
    except ValueError:
        return False
    return True

"""The pytest plugin, driven as a user would: example test files run by `pytester`, plus its pieces directly.

Each pytester run starts one mockai server, so the example files group several tests per run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openai
import pytest

from mockai import ExpectationError, MockAI, UsageError
from mockai.testing.config import Layer, resolve_config

pytest_plugins = ["pytester"]

CHAT = 'model="gpt-4o-mini", messages=[{"role": "user", "content": %r}]'


def chat(text: str) -> str:
    """Source for an inner test: one chat call through a default `openai.OpenAI()`, returning its text."""
    return f"openai.OpenAI(max_retries=0).chat.completions.create({CHAT % text}).choices[0].message.content"


# -- as a user meets it: the fixture, the fluent API, the journal, the environment ---------------------

EXAMPLE = f"""
import json, os
import openai, pytest

WEATHER_TOOL = {{"type": "function", "function": {{"name": "get_weather", "parameters": \
{{"type": "object", "properties": {{"city": {{"type": "string"}}}}}}}}}}


def test_reply_by_contains(mockai):
    mockai.on_chat(contains="weather").reply("Sunny")
    assert {chat("weather in Paris?")} == "Sunny"
    assert os.environ["OPENAI_BASE_URL"] == os.environ["OPENAI_API_BASE"] == mockai.url
    assert mockai.url.endswith("/v1")


def test_tool_call_and_requests_helpers(mockai):
    mockai.on_chat(tools="get_weather").reply_tool_call("get_weather", city="Paris")
    client = openai.OpenAI()
    answer = client.chat.completions.create({CHAT % "weather?"}, tools=[WEATHER_TOOL])
    call = answer.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {{"city": "Paris"}})
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    requests = mockai.requests
    assert len(requests) == 2 and requests.count(endpoint="chat") == 1 and requests.count("embeddings") == 1
    assert requests.last.path == "/v1/embeddings" and requests.last.status == 200
    assert requests.filter(endpoint="chat").last.json["tools"] == [WEATHER_TOOL]
    assert requests.messages == [{{"role": "user", "content": "weather?"}}]
    assert requests[0].reply["source"] == \
"rule:inline#on_chat(tools='get_weather').reply_tool_call('get_weather', city='Paris')"
    assert requests[0].headers["authorization"] == "Bearer sk-mocka**************0000"  # masked


def test_each_test_starts_clean(mockai):
    assert len(mockai.requests) == 0 and mockai.state.rules.rules == () and not mockai.strict


def test_fail_next_then_the_client_retries(mockai):
    mockai.fail_next(2, status=429)
    answer = openai.OpenAI(max_retries=2).chat.completions.create({CHAT % "hi"})
    assert answer.choices[0].message.content
    assert [r.status for r in mockai.requests] == [429, 429, 200]


def test_fail_add_rule_and_scenario_file(mockai, tmp_path):
    mockai.on_embeddings().fail(503)
    with pytest.raises(openai.InternalServerError):
        openai.OpenAI(max_retries=0).embeddings.create(model="text-embedding-3-small", input="x")
    scenario = tmp_path / "greetings.yaml"
    scenario.write_text("rules:\\n  - match: {{contains: hi}}\\n    reply: {{content: Hello from a file}}\\n")
    mockai.load_scenario(scenario)
    mockai.add_rule({{"match": {{"contains": "bye"}}, "reply": {{"content": "Goodbye"}}}})
    assert {chat("hi there")} == "Hello from a file"
    assert {chat("bye now")} == "Goodbye"


def test_set_date_and_limits(mockai):
    mockai.set_date("2023-07-06")
    client = openai.OpenAI(max_retries=0)
    answer = client.chat.completions.create(model="gpt-3.5-turbo", \
messages=[{{"role": "user", "content": "hi"}}])
    assert answer.model == "gpt-3.5-turbo-0613"
    mockai.set_limits(rpm=1)
    client.chat.completions.create(model="gpt-3.5-turbo", messages=[{{"role": "user", "content": "one"}}])
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-3.5-turbo", messages=[{{"role": "user", "content": "two"}}])


def test_the_test_may_change_the_variables_too(monkeypatch, mockai):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://elsewhere.example/v1")


def test_environment_is_restored_after_the_fixture():
    assert os.environ["OPENAI_BASE_URL"] == "https://real.example/v1"
    assert os.environ["OPENAI_API_KEY"] == "sk-real-key"
    assert "OPENAI_API_BASE" not in os.environ
"""


def test_fixture_fluent_api_requests_and_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given real OpenAI settings in the environment
    monkeypatch.setenv("OPENAI_BASE_URL", "https://real.example/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-key")
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    pytester.makepyfile(test_example=EXAMPLE)
    # Then every test talks to mockai, and the last one (no fixture) sees the real settings again
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=8)


# -- failures explain themselves -------------------------------------------------------------------

FAILURES = f"""
import openai, pytest


def test_expected_rule_unused(mockai):
    mockai.add_rule({{"name": "time", "match": {{"contains": "time"}}, "reply": "Noon"}}, expect=True)
    {chat("weather?")}
    {chat("Time?")}


def test_a_failing_test_is_not_reported_twice(mockai):
    mockai.add_rule({{"match": {{"contains": "time"}}, "reply": "Noon"}}, expect=True)
    assert False, "the test's own failure"


@pytest.mark.mockai(strict=True)
def test_strict_unmatched_request(mockai):
    mockai.on_chat(contains="weather").reply("Sunny")
    assert {chat("weather?")} == "Sunny"
    with pytest.raises(openai.BadRequestError) as caught:
        {chat("hello")}
    assert caught.value.body["message"].startswith("mockai: no rule matched chat")
    assert caught.value.body["code"] == "mockai_no_rule_matched"


@pytest.mark.mockai(strict=True)
def test_strict_every_rule_must_be_used(mockai):
    mockai.on_chat(contains="a").reply("A")
    mockai.on_chat(contains="b").reply("B")
    mockai.on_chat(contains="c", expect=False).reply("C")
    assert {chat("a")} == "A"
"""


def test_unmet_expectations_fail_at_teardown_with_the_request_and_nearest_rule(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_failures=FAILURES)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_expected_rule_unused _*",
            "mockai: 1 expectation not met in test_failures.py::test_expected_rule_unused:",
            "- rule 'time' (scenario 'inline') was expected to answer but was never used.",
            "    The requests it could have answered:",
            "      POST /v1/chat/completions (model='gpt-4o-mini', text='weather?') -> 200 from generator: "
            "failed on contains='time'",
            "      POST /v1/chat/completions (model='gpt-4o-mini', text='Time?') -> 200 from generator: "
            "failed on contains='time' "
            "(contains is case-sensitive; icontains is not)",
            "Fix the code under test or the rule.*",
            "*_ ERROR at teardown of test_strict_unmatched_request _*",
            "mockai: 1 expectation not met in test_failures.py::test_strict_unmatched_request:",
            "- POST /v1/chat/completions (model='gpt-4o-mini') matched no rule; strict mode answered 400:",
            "    no rule matched chat (model='gpt-4o-mini', text='hello'); "
            "closest: rule \"on_chat(contains='weather').reply('Sunny')\" (scenario 'inline') "
            "failed on contains='weather'",
            "*_ ERROR at teardown of test_strict_every_rule_must_be_used _*",
            "mockai: 1 expectation not met in test_failures.py::test_strict_every_rule_must_be_used:",
            "- rule \"on_chat(contains='b').reply('B')\" (scenario 'inline') "
            "was expected to answer but was never used.",
            "      POST /v1/chat/completions (model='gpt-4o-mini', text='a') -> "
            "200 from rule:inline#on_chat(contains='a').reply('A'): failed on contains='b'",
        ]
    )
    # The failing test shows its own failure only, not the rule it never reached.
    assert "ERROR at teardown of test_a_failing_test_is_not_reported_twice" not in result.stdout.str()


# -- configuration: options < mockai_config < markers ------------------------------------------------

LAYERS = """
import datetime as dt, os
import openai, pytest

pytestmark = pytest.mark.mockai(as_of="2024-01-04")


def test_options_and_fixture_layers(mockai):
    assert mockai.state.seed == 2  # mockai_config beats --mockai-seed=7
    assert mockai.state.as_of == dt.date(2024, 1, 4)  # the module's marker beats --mockai-as-of
    assert mockai.strict  # --mockai-strict, not overridden


@pytest.mark.mockai(seed=9, scenario="marker.yaml", strict=False)
def test_markers_beat_the_fixture_and_scenarios_add_up(mockai):
    assert mockai.state.seed == 9 and not mockai.strict
    assert [r.scenario for r in mockai.state.rules.rules] == ["cli", "base", "marker"]


@pytest.mark.mockai(seed=5, strict=False)
def test_the_marker_alone_turns_the_fixture_on():
    answer = openai.OpenAI().chat.completions.create(model="gpt-3.5-turbo", \
messages=[{"role": "user", "content": "from base?"}])
    assert answer.choices[0].message.content == "base says hi"


@pytest.mark.mockai(sead=1)
def test_unknown_marker_key(mockai):
    pass


@pytest.mark.mockai("marker.yaml")
def test_positional_marker_argument(mockai):
    pass


@pytest.mark.mockai(scenario="missing.yaml")
def test_missing_scenario_file(mockai):
    pass
"""

CONFTEST = """
import pytest

@pytest.fixture
def mockai_config():
    return {"seed": 2, "scenario": "base.yaml"}
"""


def test_configuration_layers_merge_broad_to_narrow(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_layers=LAYERS)
    for name, text in (("cli", "cli says hi"), ("base", "base says hi"), ("marker", "marker says hi")):
        pytester.makefile(
            ".yaml", **{name: f"rules:\n  - match: {{contains: {name}}}\n    reply: {{content: {text}}}\n"}
        )
    result = pytester.runpytest(
        "-p", "no:cacheprovider",
        "--mockai-seed=7", "--mockai-as-of=2023-07-06", "--mockai-scenario=cli.yaml", "--mockai-strict"
    )  # fmt: skip
    result.assert_outcomes(passed=3, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_unknown_marker_key _*",
            "mockai: unknown key 'sead' in @pytest.mark.mockai. Did you mean 'seed'? "
            "Valid keys: as_of, cassette, rpm, scenario, seed, strict, tpm.",
            "*_ ERROR at setup of test_positional_marker_argument _*",
            "mockai: @pytest.mark.mockai takes keyword arguments only "
            "(as_of, cassette, rpm, scenario, seed, strict, tpm); got ('marker.yaml',)",
            "*_ ERROR at setup of test_missing_scenario_file _*",
            "mockai: scenario file 'missing.yaml' from @pytest.mark.mockai not found; "
            "looked for /*/missing.yaml",
        ]
    )


def test_a_bad_command_line_option_stops_the_run_before_any_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_never_runs(mockai): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockai-as-of=2023-13-01")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: mockai: as_of in the command line (--mockai-*) "
            "must be a date as YYYY-MM-DD*got '2023-13-01'"
        ]
    )


def test_fixtures_document_themselves(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines_random(
        [
            "mockai -- *",
            "    A clean mockai for this test, with OPENAI_BASE_URL and OPENAI_API_KEY pointing at it.",
            "mockai_server [[]session scope[]] -- *",
            "mockai_config -- *",
        ]
    )


# -- async tests, in-process clients, xdist, laziness ------------------------------------------------

ASYNC = f"""
import openai, pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_async_openai_through_the_environment_and_in_process(mockai):
    mockai.on_chat().reply("async hello")
    answer = await openai.AsyncOpenAI().chat.completions.create({CHAT % "hi"})
    assert answer.choices[0].message.content == "async hello"
    in_process = openai.AsyncOpenAI(http_client=mockai.async_http_client())
    answer = await in_process.chat.completions.create({CHAT % "hi"})
    assert answer.choices[0].message.content == "async hello"
    sync_in_a_loop = openai.OpenAI(http_client=mockai.http_client())
    assert sync_in_a_loop.chat.completions.create({CHAT % "hi"}).choices[0].message.content == "async hello"
    assert mockai.requests.count("chat") == 3


def test_in_process_client_streams(mockai):
    mockai.on_chat().reply("Hello there friend")
    client = openai.OpenAI(http_client=mockai.http_client())
    chunks = client.chat.completions.create({CHAT % "hi"}, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello there friend"
    assert mockai.requests.last.json["stream"] is True


def test_in_process_client_sees_a_cut_stream_as_a_connection_error(mockai):
    mockai.on_chat().reply("one two three four five", stream={{"cut_after": 2}})
    client = openai.OpenAI(http_client=mockai.http_client(), max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create({CHAT % "hi"}, stream=True))
"""


def test_async_tests_and_in_process_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_async=ASYNC)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


XDIST = """
import os
from pathlib import Path
import openai, pytest


@pytest.mark.parametrize("n", range(8))
def test_each_worker_has_its_own_server_and_state(mockai, n):
    mockai.on_chat().reply(f"answer {n}")
    answer = openai.OpenAI().chat.completions.create(model="gpt-4o-mini", \
messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == f"answer {n}"
    assert len(mockai.requests) == 1 and len(mockai.state.rules.rules) == 1
    Path(os.environ["MOCKAI_TEST_OUT"], f"{n}.txt").write_text(\
f"{os.environ['PYTEST_XDIST_WORKER']} {mockai.url}")
"""


def test_xdist_workers_get_separate_servers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("MOCKAI_TEST_OUT", str(out))
    pytester.makepyfile(test_xdist=XDIST)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=8)
    seen = dict(line.split() for line in {p.read_text() for p in out.iterdir()})
    assert len({p.name for p in out.iterdir()}) == 8
    assert set(seen) == {"gw0", "gw1"} and len(set(seen.values())) == 2  # one URL per worker, each its own


def test_a_suite_that_never_asks_for_mockai_starts_no_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys, threading

        def test_plain():
            assert "mockai.server.runner" not in sys.modules and "mockai.server.app" not in sys.modules
            assert not any(t.name == "mockai-server" for t in threading.enumerate())
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


# -- the pieces, directly (this suite has the plugin too) ---------------------------------------------


def test_fluent_rules_compile_to_the_same_rule_dicts(mockai: MockAI) -> None:
    rules = [
        mockai.on_chat(contains="weather", times=2).reply("Sunny", finish_reason="length"),
        mockai.add_rule(
            {
                "match": {"endpoint": "chat", "contains": "weather"},
                "times": 2,
                "reply": {"content": "Sunny", "finish_reason": "length"},
            }
        ),
    ]
    fluent, plain = (r.replies[0].base for r in rules)
    assert (fluent.text, fluent.finish_reason) == (plain.text, plain.finish_reason) == ("Sunny", "length")
    assert rules[0].times == rules[1].times == 2 and rules[0].endpoints == rules[1].endpoints == frozenset(
        {"chat"}
    )
    failing = mockai.fail_next(3, status=503, endpoint="embeddings")
    assert failing.name == "fail_next(3, status=503, endpoint='embeddings')" and failing.times == 3
    assert failing.replies[0].base.error is not None and failing.replies[0].base.error.status == 503
    mockai.state.rules.clear()  # nothing here is expected to be used


def test_verify_raises_an_expectation_error_outside_pytest() -> None:
    with MockAI() as mock:
        mock.on_chat(contains="never").reply(
            "x",
        )
        mock.fail_next()
        with pytest.raises(ExpectationError, match=r"fail_next\(1, status=500\).*was expected to answer"):
            mock.verify()
        client = openai.OpenAI(base_url=mock.url, api_key="sk-test", max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert mock.answered(mock.state.rules.rules[1]) == 1
    assert not mock.server._thread.is_alive()  # type: ignore[union-attr]


def layer(name: str, background: bool = False, **values: object) -> Layer:
    return Layer(name, values, background=background)


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ([layer("cli", seed=1), layer("fixture", seed=2), layer("marker", seed=3)], {"seed": 3}),
        ([layer("cli", seed=1), layer("fixture", seed=2), layer("marker", seed=None)], {"seed": 2}),
        (
            [layer("cli", as_of="2023-07-06"), layer("marker", as_of=dt.date(2024, 1, 4))],
            {"as_of": dt.date(2024, 1, 4)},
        ),
        (
            [layer("cli", strict=True), layer("marker", rpm=3, tpm=1000)],
            {"strict": True, "rpm": 3, "tpm": 1000},
        ),
    ],
)
def test_narrower_layers_win(layers: list[Layer], expected: dict[str, object]) -> None:
    config = resolve_config(layers)
    assert {k: getattr(config, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seed": "1"}, "mockai: seed in m must be a whole number of at least 0; got '1'"),
        ({"rpm": 0}, "mockai: rpm in m must be a whole number of at least 1; got 0"),
        ({"strict": "yes"}, "mockai: strict in m must be True or False; got 'yes'"),
        ({"as_of": "July"}, "mockai: as_of in m must be a date as YYYY-MM-DD, e.g. '2023-07-06'; got 'July'"),
        (
            {"cassette": 3},
            "mockai: cassette in m must be a file path such as 'cassettes/chat.jsonl', "
            "or True for one named after the test; got 3",
        ),
        (
            {"scenarios": "x"},
            "mockai: unknown key 'scenarios' in m. Did you mean 'scenario'? "
            "Valid keys: as_of, cassette, rpm, scenario, seed, strict, tpm.",
        ),
    ],
)
def test_bad_values_say_what_is_expected(values: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_config([Layer("m", values)])
    assert str(caught.value) == message


def test_scenarios_add_up_broad_first_and_background_ones_are_marked(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text("rules: []\n")
    config = resolve_config(
        [
            Layer("cli", {"scenario": "a.yaml"}, (tmp_path,), background=True),
            Layer("marker", {"scenario": ["b.yaml", "a.yaml"]}, (tmp_path,)),
        ]
    )
    assert config.scenarios == ((tmp_path / "a.yaml", True), (tmp_path / "b.yaml", False))


def test_tiktoken_in_the_code_under_test_works_offline_inside_the_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    pytester.makepyfile(
        """
        import os, tiktoken

        def test_counts_with_the_vocabularies_mockai_wrote(mockai):
            assert os.path.isdir(os.environ["TIKTOKEN_CACHE_DIR"])
            assert len(tiktoken.encoding_for_model("gpt-4o").encode("hello world")) == 2
            assert len(tiktoken.get_encoding("r50k_base").encode("hello world")) == 2

        def test_the_variable_is_restored_afterwards():
            assert "TIKTOKEN_CACHE_DIR" not in os.environ
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_settings_mistake_fails_the_test_with_its_message_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockai(seed="x")
        def test_a(mockai):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    message = "mockai: seed in @pytest.mark.mockai must be a whole number of at least 0; got 'x'"
    assert result.stdout.lines.count(message) == 1
    assert "During handling of the above exception" not in result.stdout.str()

from __future__ import annotations

import contextlib
import datetime as dt
import json
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from mockai.call import Call
from mockai.errors import MockAIError
from mockai.reply import ErrorReply, Reply, StreamPlan, ToolCall
from mockai.scenario.engine import RuleEngine
from mockai.scenario.files import (
    RULE_KEYS,
    TOP_KEYS,
    YAML_HINT,
    Limit,
    Problem,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_from_text,
)
from mockai.scenario.lint import check_files
from mockai.scenario.matching import MATCHERS
from mockai.scenario.templates import REPLY_KEYS

WEATHER = """\
name: weather-agent
as_of: 2023-07-06
seed: 42
limits: {"gpt-4o": {rpm: 3, tpm: 1000}}
rules:
  - match: {endpoint: chat, model: "gpt-4*", contains: "weather"}
    reply: {tool_calls: [{name: get_weather, arguments: {city: Paris}}]}
  - match: {endpoint: chat, regex: "(?i)thanks"}
    reply: {content: "You're welcome."}
  - match: {endpoint: chat}
    times: 2                       # this rule answers twice, then is skipped
    reply: {error: {status: 429}}  # OpenAI's full 429, headers included
  - match: {endpoint: embeddings}
    replies:                       # consumed in order, the last one repeats
      - {error: {status: 503}}
      - {}                         # {} = the default deterministic reply
"""


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def chat(text: str = "hello", model: str = "gpt-4o-mini", **body: Any) -> Call:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    return Call("chat", model, {"model": model, "messages": messages, **body}, text)


def embed(text: str = "hello") -> Call:
    return Call(
        "embeddings", "text-embedding-3-small", {"model": "text-embedding-3-small", "input": text}, text
    )


def engine_with(*rules: dict[str, Any], seed: int = 0) -> RuleEngine:
    engine = RuleEngine(seed=seed)
    engine.load({"name": "t", "rules": list(rules)})
    return engine


def problems_of(text: str, tmp_path: Path, name: str = "x.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text, name))
    return [str(p) for p in caught.value.problems]


# Loading


def test_the_documented_example_file_loads_with_its_settings(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, WEATHER))
    assert scenario.name == "weather-agent"
    assert scenario.as_of == dt.date(2023, 7, 6)
    assert scenario.seed == 42
    assert scenario.limits == {"gpt-4o": Limit(rpm=3, tpm=1000)}
    assert [(r.number, r.line, r.times) for r in scenario.rules] == [
        (1, 6, None),
        (2, 8, None),
        (3, 10, 2),
        (4, 13, None),
    ]


def test_the_documented_example_answers_as_its_comments_say(tmp_path: Path) -> None:
    engine = RuleEngine()
    engine.load(write(tmp_path, WEATHER))
    tool = engine.choose(chat("what's the weather?", model="gpt-4o"))
    assert tool is not None and tool.tool_calls == (ToolCall("get_weather", '{"city":"Paris"}'),)
    assert tool.source == "rule:weather-agent#1"
    thanks = engine.choose(chat("Thanks!"))
    assert thanks is not None and thanks.text == "You're welcome."
    errors = [engine.choose(chat("hi")) for _ in range(3)]
    assert [e.error if e else None for e in errors] == [ErrorReply(429), ErrorReply(429), None]
    embeddings = [engine.choose(embed()) for _ in range(3)]
    assert embeddings[0] is not None and embeddings[0].error == ErrorReply(503)
    assert embeddings[1] == embeddings[2] == Reply(source="rule:weather-agent#4")


def test_a_scenario_without_a_name_takes_the_file_stem(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "rules: []\n", name="greetings.yml"))
    assert scenario.name == "greetings"
    assert scenario.rules == ()


def test_json_scenario_files_load_with_line_numbers(tmp_path: Path) -> None:
    data = {"name": "j", "rules": [{"match": {"contains": "hi"}, "reply": {"content": "Hello"}}]}
    path = tmp_path / "j.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    engine = RuleEngine()
    scenario = engine.load(path)
    assert scenario.rules[0].line == 4
    assert engine.choose(chat("hi")) == Reply(text="Hello", source="rule:j#1")


def test_json_mistakes_point_at_their_lines(tmp_path: Path) -> None:
    good = {"rules": [{"match": {"contains": "hi"}, "reply": {"contnet": "Hello"}}]}
    assert problems_of(json.dumps(good, indent=1), tmp_path, "j.json") == [
        f"{tmp_path}/j.json:8: unknown reply key 'contnet'. Did you mean 'content'? Valid keys: categories, "
        "content, delay, duration, embedding, error, finish_reason, flagged, function_call, language, "
        "refusal, stream, text, tool_calls, usage."
    ]
    assert problems_of('{"rules": [}', tmp_path, "j.json") == [
        f"{tmp_path}/j.json:1: invalid JSON: Expecting value (column 12)."
    ]


def test_a_bare_list_of_rules_is_a_scenario() -> None:
    scenario = parse_scenario([{"reply": "Hi"}])
    assert scenario.name == "inline"
    assert scenario.rules[0].replies[0].base.text == "Hi"


def test_text_from_an_admin_request_may_be_yaml_or_json() -> None:
    from_json = scenario_from_text('{"name": "a", "rules": [{"reply": {"content": "x"}}]}')
    from_yaml = scenario_from_text("name: a\nrules:\n  - reply: {content: x}\n")
    assert from_json.rules[0].replies == from_yaml.rules[0].replies


# Mistakes, reported all at once with file, line and a fix


def test_every_mistake_in_a_file_is_reported_with_its_line_and_a_fix(tmp_path: Path) -> None:
    text = """\
    name: broken
    rules:
      - match: {endpoint: chat, contians: weather}
        reply: {content: hi}
      - match:
          endpoint: chatt
          regex: "(unclosed"
        times: -1
        reply:
          content: "{{ __class__ }}"
          finish_reason: stopp
      - match: {model: 3}
        replies: []
      - contains: x
        reply: {error: {status: 200}, content: x}
      - match: {}
    """
    path = f"{tmp_path}/x.yaml"
    assert problems_of(text, tmp_path) == [
        f"{path}:3: unknown match key 'contians'. Did you mean 'contains'? Valid keys: any_message, call, "
        "called, contains, endpoint, icontains, json, last_role, model, probability, regex, state, "
        "stream, system, tool_result, tools, turn.",
        f"{path}:6: match.endpoint: unknown endpoint 'chatt'. Did you mean 'chat'? Valid endpoints: chat, "
        "completions, edits, embeddings, transcriptions, translations, speech, responses, moderations, "
        "images.",
        f"{path}:7: match.regex: invalid regular expression '(unclosed': missing ), unterminated subpattern "
        "at position 0. Fix it, or use contains for a plain substring.",
        f"{path}:8: times must be a whole number of at least 1; got -1",
        f"{path}:10: reply.content: unknown placeholder '{{{{ __class__ }}}}'. Valid placeholders: "
        "{{ text }}, {{ model }}, {{ endpoint }}, {{ system }}, {{ tool_result }}, {{ call_count }}, "
        "{{ json.<dotted.path> }}. Write \\{{ for a literal '{{'.",
        f"{path}:11: reply.finish_reason: 'stopp' is not a finish reason. Did you mean 'stop'? Valid: stop, "
        "length, tool_calls, content_filter, function_call.",
        f'{path}:12: match.model: expected a string or a list of strings, e.g. model: "gpt-4*"; got 3',
        f"{path}:13: replies must be a non-empty list, e.g. replies: [{{error: {{status: 503}}}}, {{}}]; got "
        "[]",
        f"{path}:14: unknown rule key 'contains'. Match keys go under 'match:', e.g. match: "
        "{contains: ...}. Valid keys: name, id, description, match, reply, replies, times, next_state.",
        f"{path}:15: reply.error.status: expected an HTTP error status from 400 to 599, e.g. 429; got 200",
        f"{path}:15: an error reply cannot also have content; use two replies",
        f"{path}:16: a rule needs reply: {{...}} (one answer) or replies: [...] (answers in order); one is "
        "missing",
    ]


def test_the_error_carries_its_problems_and_subclasses_value_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, "rules:\n  - {match: {contains: 1}, reply: {}}\n"))
    error = caught.value
    assert isinstance(error, MockAIError) and isinstance(error, ValueError)
    assert error.problems == (
        Problem(
            f"{tmp_path}/x.yaml",
            2,
            'match.contains: expected a string or a list of strings, e.g. contains: "weather"; got 1',
        ),
    )
    assert str(error) == str(error.problems[0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - match: {contains: hi\n",
            f"3: invalid YAML: expected ',' or '}}', but got '<stream end>'. {YAML_HINT}",
        ),
        (
            "rules: [\n",
            f"2: invalid YAML: expected the node content, but found '<stream end>'. {YAML_HINT}",
        ),
        (
            "name: a\nname: b\n",
            "2: duplicate key 'name': YAML keeps only the last one; remove or rename the other",
        ),
        ("", "the scenario is empty; write at least rules: [...]"),
        (
            "- 1\n",
            "rule 1: a rule must be a mapping such as "
            "{match: {contains: hello}, reply: {content: Hi}}; got 1",
        ),
        (
            "rule: []\n",
            "1: unknown key 'rule'. Did you mean 'rules'? Valid keys: name, description, rules, limits, "
            "as_of, seed.",
        ),
        (
            "match: {}\n",
            "1: unknown key 'match'. Rules go in the list under 'rules:'. Valid keys: name, description, "
            "rules, limits, as_of, seed.",
        ),
        ("rules: {a: 1}\n", "1: rules must be a list of rules; got {'a': 1}"),
        ("as_of: July\n", "1: as_of must be a date such as 2023-07-06; got 'July'"),
        ("seed: 1.5\n", "1: seed must be a whole number, e.g. seed: 42; got 1.5"),
        ("limits: {gpt-4o: {rpm: 0}}\n", "1: rpm must be a whole number of at least 1; got 0"),
        ("limits: {gpt-4o: {rps: 3}}\n", "1: unknown limit 'rps'. Did you mean 'rpm'? Valid: rpm, tpm."),
        (
            "limits: [1]\n",
            '1: limits must map model names to {rpm, tpm}, e.g. limits: {"gpt-4o": {rpm: 3, tpm: 1000}}; '
            "got [1]",
        ),
        (
            "rules:\n- reply: {}\n  times: 1\n  replies: [{}]\n",
            "2: a rule needs reply: {...} (one answer) or replies: [...] (answers in order); not both",
        ),
        (
            "rules:\n- replies: [a, b]\n  times: 1\n",
            "3: times: 1 but 2 replies; those after the first 1 would never be sent",
        ),
        (
            "rules:\n- {id: a, reply: {}}\n- {id: a, reply: {}}\n",
            "3: id 'a' is used twice (also rule 'a' (FILE:2)); ids must differ",
        ),
        (
            "rules:\n- {reply: {}, content: hi}\n",
            "2: unknown rule key 'content'. Reply keys go under 'reply:', e.g. reply: {content: ...}. "
            "Valid keys: name, id, description, match, reply, replies, times, next_state.",
        ),
        (
            "rules:\n- reply: 42\n",
            "2: a reply must be a mapping such as reply: {content: Hello} ({} for the default); got 42",
        ),
        (
            "rules:\n- reply: {content: 42}\n",
            "2: reply.content: expected a string; got 42. Quote it if YAML read it as something else: "
            'content: "42"',
        ),
        (
            "rules:\n- reply: {content: a, text: b}\n",
            "2: give either 'content' or 'text', not both: they mean the same",
        ),
        (
            "rules:\n- reply: {error: {}}\n",
            "2: reply.error: an error needs a status, e.g. error: {status: 429}",
        ),
        (
            "rules:\n- reply: {error: {status: 429, kind: x}}\n",
            "2: reply.error: unknown key 'kind'. Valid keys: status, type, code, message, param, headers.",
        ),
        (
            "rules:\n- reply: {stream: {cut_after: -1}}\n",
            "2: reply.stream.cut_after: expected a whole number of at least 0; got -1",
        ),
        (
            "rules:\n- reply: {stream: {chunk_tokens: 0}}\n",
            "2: reply.stream.chunk_tokens: expected a whole number of at least 1; got 0",
        ),
        (
            "rules:\n- reply: {stream: {tokens_per_second: 0}}\n",
            "2: reply.stream.tokens_per_second: expected a number above 0; got 0",
        ),
        (
            "rules:\n- reply: {usage: {prompt_tokens: -2}}\n",
            "2: reply.usage.prompt_tokens: expected a whole number of at least 0; got -2",
        ),
        (
            "rules:\n- reply: {delay: -1}\n",
            "2: reply.delay: expected seconds from 0, e.g. delay: 0.5; got -1",
        ),
        (
            "rules:\n- reply: {delay: .inf}\n",
            "2: reply.delay: expected seconds from 0, e.g. delay: 0.5; got inf",
        ),
        (
            "rules:\n- reply: {embedding: []}\n",
            "2: reply.embedding: expected a non-empty list of numbers, e.g. embedding: [0.6, 0.8]",
        ),
        (
            "rules:\n- reply: {tool_calls: [{nme: f}]}\n",
            "2: reply.tool_calls: unknown key 'nme'. Did you mean 'name'? Valid keys: name, arguments, id.",
        ),
        (
            "rules:\n- reply: {tool_calls: [{name: f, arguments: [1]}]}\n",
            "2: reply.tool_calls: arguments must be a mapping (sent as JSON) or a JSON string",
        ),
        (
            "rules:\n- reply: {function_call: {name: f, id: x}}\n",
            "2: reply.function_call: unknown key 'id'. Valid keys: name, arguments.",
        ),
        (
            "rules:\n- {match: {contains: a}, next_state: '', reply: {}}\n",
            "2: next_state must be a non-empty string; got ''",
        ),
    ],
)
def test_each_kind_of_mistake_has_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = f"{tmp_path}/x.yaml"
    expected = f"{path}:{message}" if message[0].isdigit() else f"{path}: {message}"
    assert problems_of(text, tmp_path) == [expected.replace("FILE", path)]


def test_numbers_too_large_for_a_float_are_rejected_not_crashed_on() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario({"rules": [{"reply": {"embedding": [10**400]}}, {"reply": {"delay": 10**400}}]})
    assert [p.message for p in caught.value.problems] == [
        "rule 1: reply.embedding: expected a non-empty list of numbers, e.g. embedding: [0.6, 0.8]",
        f"rule 2: reply.delay: expected seconds from 0, e.g. delay: 0.5; got {10**400}",
    ]


def test_problems_in_rules_given_as_data_name_the_rule() -> None:
    engine = RuleEngine()
    engine.add_rule({"reply": {}})
    with pytest.raises(ScenarioError) as caught:
        engine.add_rule({"match": {"contians": "x"}, "reply": {}})
    assert str(caught.value) == (
        "rule 2: unknown match key 'contians'. Did you mean 'contains'? Valid keys: any_message, call, "
        "called, contains, endpoint, icontains, json, last_role, model, probability, regex, state, "
        "stream, system, tool_result, tools, turn."
    )
    assert len(engine.rules) == 1


def test_check_files_lists_problems_across_files_and_directories(tmp_path: Path) -> None:
    write(tmp_path, WEATHER, "good.yaml")
    write(tmp_path, "rules: [{reply: {contnt: x}}]\n", "bad.yml")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert check_files([tmp_path / "good.yaml"]) == []
    assert [str(p) for p in check_files([tmp_path, tmp_path / "missing.yaml"])] == [
        f"{tmp_path}/bad.yml:1: unknown reply key 'contnt'. Did you mean 'content'? Valid keys: categories, "
        "content, delay, duration, embedding, error, finish_reason, flagged, function_call, language, "
        "refusal, stream, text, tool_calls, usage.",
        f"{tmp_path}/missing.yaml: cannot read the file: No such file or directory",
    ]


# Replies


def test_reply_keys_map_onto_the_reply_value() -> None:
    engine = engine_with(
        {
            "match": {"contains": "all"},
            "reply": {
                "text": "t",
                "refusal": "no",
                "finish_reason": "length",
                "delay": 0.25,
                "stream": {"tokens_per_second": 20, "chunk_tokens": 2, "cut_after": 3, "error_after": 4},
                "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
                "function_call": {"name": "f", "arguments": '{"raw": '},
                "language": "french",
                "duration": 2,
            },
        },
        {
            "match": {"contains": "err"},
            "reply": {"error": {"status": 429, "code": "rate_limit_exceeded", "headers": {"Retry-After": 2}}},
        },
        {"match": {"contains": "short"}, "reply": {"error": 500}},
        {"match": {"contains": "vec"}, "reply": {"embedding": [1, 0.5]}},
    )
    assert engine.choose(chat("all")) == Reply(
        text="t",
        refusal="no",
        finish_reason="length",
        delay=0.25,
        stream=StreamPlan(tokens_per_second=20.0, chunk_tokens=2, cut_after=3, error_after=4),
        usage={"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
        function_call=ToolCall("f", '{"raw": '),
        extra={"language": "french", "duration": 2.0},
        source="rule:t#1",
    )
    err = engine.choose(chat("err"))
    assert err is not None and err.error == ErrorReply(
        429, code="rate_limit_exceeded", headers={"retry-after": "2"}
    )
    short = engine.choose(chat("short"))
    assert short is not None and short.error == ErrorReply(500)
    vec = engine.choose(chat("vec"))
    assert vec is not None and vec.embedding == (1.0, 0.5)


def test_tool_call_arguments_are_compact_json_in_the_order_written() -> None:
    engine = engine_with(
        {"reply": {"tool_calls": [
            {"name": "a", "arguments": {"z": 1, "a": [True, None], "é": "ü"}, "id": "call_1"},
            {"name": "b", "arguments": "{not json"},
            {"name": "c"},
        ]}},
    )  # fmt: skip
    reply = engine.choose(chat())
    assert reply is not None and reply.tool_calls == (
        ToolCall("a", '{"z":1,"a":[true,null],"é":"ü"}', "call_1"),
        ToolCall("b", "{not json"),
        ToolCall("c", "{}"),
    )


def test_a_string_reply_is_short_for_content() -> None:
    reply = engine_with({"reply": "Hi"}).choose(chat())
    assert reply == Reply(text="Hi", source="rule:t#1")


# Templating


def test_placeholders_fill_from_the_request() -> None:
    engine = engine_with(
        {
            "name": "echo",
            "reply": {
                "content": "You said: {{ text }} to {{model}} on {{ endpoint }} ({{ call_count }}); "
                "system={{ system }}; first={{ json.messages.0.content }}; "
                "t={{ json.temperature }}; fmt={{ json.response_format }}; "
                "none=[{{ json.nope.0 }}]",
            },
        }
    )
    call = chat("hi there", temperature=0.5, response_format={"type": "json_object"})
    first = engine.choose(call)
    assert first is not None and first.text == (
        "You said: hi there to gpt-4o-mini on chat (1); system=Be brief.; first=Be brief.; t=0.5; "
        'fmt={"type":"json_object"}; none=[]'
    )
    assert first.source == "rule:t#echo"
    second = engine.choose(call)
    assert second is not None and second.text is not None and "(2)" in second.text


def test_placeholders_in_tool_arguments_are_json_escaped() -> None:
    engine = engine_with(
        {
            "reply": {
                "tool_calls": [
                    {"name": "echo", "arguments": {"said": "{{ text }}", "n": ["{{ call_count }}"]}}
                ]
            }
        }
    )
    reply = engine.choose(chat('say "hi"\n'))
    assert reply is not None and reply.tool_calls == (
        ToolCall("echo", '{"said":"say \\"hi\\"\\n","n":["1"]}'),
    )


def test_placeholders_fill_error_messages_and_refusals() -> None:
    engine = engine_with(
        {"match": {"contains": "a"}, "reply": {"error": {"status": 400, "message": "bad {{ json.model }}"}}},
        {"reply": {"refusal": "I won't {{ text }}"}},
    )
    error = engine.choose(chat("a"))
    assert error is not None and error.error == ErrorReply(400, message="bad gpt-4o-mini")
    refusal = engine.choose(chat("b"))
    assert refusal is not None and refusal.refusal == "I won't b"


@pytest.mark.parametrize(
    "template",
    [
        "{{ __class__ }}",
        "{{ text.__class__ }}",
        "{{ model.upper }}",
        "{{ json.a.__class__.__mro__ }}",
        "{{ call.__init__.__globals__ }}",
        "{{ text|upper }}",
        "{{ text() }}",
        "{{ json['model'] }}",
        "{{ json.a..b }}",
        "{{ 1 + 1 }}",
        "{{ }}",
    ],
)
def test_templating_rejects_anything_but_plain_lookups(template: str) -> None:
    with pytest.raises(ScenarioError, match="unknown placeholder"):
        parse_scenario({"rules": [{"reply": {"content": template}}]})


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{0.__class__}", "{0.__class__}"),
        ("{text}", "{text}"),
        ("%(text)s ${text} {{{{", "%(text)s ${text} {{{{"),
        ("\\{{ text }} is {{ text }}", "{{ text }} is hi"),
        ("{{ json.class }}|{{ json.messages.len }}|{{ json.model.upper }}", "||"),
    ],
)
def test_other_brace_syntaxes_stay_inert_text(template: str, rendered: str) -> None:
    reply = engine_with({"reply": {"content": template}}).choose(chat("hi"))
    assert reply is not None and reply.text == rendered


# times, replies, call, state, probability


def test_times_answers_that_many_calls_then_lets_later_rules_answer() -> None:
    engine = engine_with({"times": 2, "reply": "first"}, {"reply": "second"})
    assert [r.text for r in (engine.choose(chat()) for _ in range(4)) if r] == [
        "first",
        "first",
        "second",
        "second",
    ]


def test_replies_are_used_in_order_and_the_last_repeats() -> None:
    engine = engine_with({"replies": ["a", "b", "c"]})
    assert [r.text for r in (engine.choose(chat()) for _ in range(5)) if r] == ["a", "b", "c", "c", "c"]


def test_times_caps_a_sequence_of_replies() -> None:
    engine = engine_with({"times": 3, "replies": ["a", "b"]})
    assert [r.text if r else None for r in (engine.choose(chat()) for _ in range(4))] == ["a", "b", "b", None]


def test_a_rule_for_one_endpoint_never_sees_another() -> None:
    engine = engine_with({"match": {"endpoint": "embeddings"}, "reply": {}})
    assert engine.choose(chat()) is None
    assert engine.choose(embed()) is not None


def test_call_picks_the_nth_call_that_reaches_the_rule() -> None:
    engine = engine_with(
        {"match": {"contains": "x", "call": 2}, "reply": "second x"},
        {"match": {"call": {"every": 3}}, "reply": "every third"},
        {"reply": "other"},
    )
    texts = [r.text for r in (engine.choose(chat(t)) for t in ["x", "y", "x", "x", "y", "y"]) if r]
    # The second rule counts every call the first one let through: y, x, x, y, y -> the 3rd is the 2nd x.
    assert texts == ["other", "other", "second x", "every third", "other", "other"]


def test_state_moves_on_when_a_rule_answers_and_reset_returns_it_to_started() -> None:
    engine = engine_with(
        {"match": {"state": "started"}, "next_state": "waiting", "reply": "one"},
        {"match": {"state": "waiting", "contains": "go"}, "next_state": "done", "reply": "two"},
        {"match": {"state": ["waiting", "done"]}, "reply": "again"},
    )
    texts = [r.text for r in (engine.choose(chat(t)) for t in ["a", "b", "go", "go"]) if r]
    assert texts == ["one", "again", "two", "again"]
    assert engine.state("t") == "done"
    engine.reset()
    assert engine.state("t") == "started"
    reply = engine.choose(chat())
    assert reply is not None and reply.text == "one"


def test_each_scenario_keeps_its_own_state() -> None:
    engine = RuleEngine()
    for name in ("a", "b"):
        engine.load(
            {"name": name, "rules": [{"match": {"state": "started"}, "next_state": "x", "reply": name}]}
        )
    assert [r.text if r else None for r in (engine.choose(chat()) for _ in range(3))] == ["a", "b", None]
    assert (engine.state("a"), engine.state("b"), engine.state()) == ("x", "x", "started")


def flaky(seed: int) -> list[bool]:
    engine = engine_with({"match": {"probability": 0.3}, "reply": {"error": 503}}, seed=seed)
    return [engine.choose(chat()) is not None for _ in range(60)]


def test_probability_replays_exactly_under_the_same_seed_and_differs_under_another() -> None:
    assert flaky(0) == flaky(0)
    assert flaky(0) != flaky(1)
    assert 8 <= sum(flaky(0)) <= 30


def test_reset_replays_the_same_probabilistic_sequence() -> None:
    engine = engine_with({"match": {"probability": 0.5}, "reply": "x"}, seed=3)
    first = [engine.choose(chat()) is not None for _ in range(20)]
    engine.reset()
    assert [engine.choose(chat()) is not None for _ in range(20)] == first


def test_two_hundred_concurrent_calls_use_a_times_fifty_rule_exactly_fifty_times() -> None:
    engine = engine_with({"times": 50, "reply": "limited"}, {"reply": "rest"})
    barrier = threading.Barrier(200)
    texts: list[str | None] = []
    lock = threading.Lock()

    def ask() -> None:
        barrier.wait()
        reply = engine.choose(chat())
        with lock:
            texts.append(reply.text if reply else None)

    threads = [threading.Thread(target=ask) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert texts.count("limited") == 50
    assert texts.count("rest") == 150
    assert engine.answered(engine.rules[0]) == 50


def test_concurrent_calls_see_old_rules_or_new_never_a_mix() -> None:
    old = {"name": "old", "rules": [{"match": {"state": "started"}, "next_state": "s1", "reply": "old"}]}
    new = {"name": "old", "rules": [{"match": {"state": "started"}, "reply": "new"}]}
    engine = RuleEngine()
    engine.load(old)
    seen: list[str] = []

    def ask() -> None:
        for _ in range(200):
            reply = engine.choose(chat())
            if reply is not None and reply.text:
                seen.append(reply.text)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    engine.replace([new])
    for thread in threads:
        thread.join()
    # "old" answers at most once (it moves the state on), and after the swap "new" always can.
    assert seen.count("old") <= 1
    assert engine.choose(chat()) == Reply(text="new", source="rule:old#1")


# The engine's other verbs


def test_replace_swaps_rules_and_forgets_counters_and_state() -> None:
    engine = engine_with({"times": 1, "next_state": "x", "reply": "a"})
    engine.choose(chat())
    engine.replace({"name": "t", "rules": [{"times": 1, "match": {"state": "started"}, "reply": "b"}]})
    assert engine.state("t") == "started"
    assert [r.text if r else None for r in (engine.choose(chat()) for _ in range(2))] == ["b", None]


def test_a_failing_replace_changes_nothing() -> None:
    engine = engine_with({"reply": "a"})
    with pytest.raises(ScenarioError):
        engine.replace([{"rules": [{"reply": "b"}]}, {"rules": [{"reply": {"contnt": "c"}}]}])
    reply = engine.choose(chat())
    assert reply is not None and reply.text == "a"


def test_reset_keeps_rules_and_clear_drops_them() -> None:
    engine = engine_with({"times": 1, "reply": "a"})
    engine.choose(chat())
    assert engine.choose(chat()) is None
    engine.reset()
    assert engine.choose(chat()) is not None
    engine.clear()
    assert engine.rules == ()
    assert engine.choose(chat()) is None


def test_add_rule_appends_numbered_inline_rules() -> None:
    engine = RuleEngine()
    first = engine.add_rule({"match": {"contains": "a"}, "reply": "A"})
    second = engine.add_rule({"reply": "B"})
    assert (first.number, second.number) == (1, 2)
    assert [engine.choose(chat(t)).text for t in ("a", "b")] == ["A", "B"]  # type: ignore[union-attr]
    assert second.source == "rule:inline#2"


def test_unused_rules_are_those_that_never_answered() -> None:
    engine = engine_with(
        {"name": "used", "reply": {}}, {"name": "spare", "match": {"contains": "zzz"}, "reply": {}}
    )
    engine.choose(chat())
    assert [r.name for r in engine.unused_rules()] == ["spare"]


def test_explain_names_the_nearest_miss_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: basic
        rules:
          - match: {endpoint: embeddings}
            reply: {}
          - name: greeting
            match: {model: "gpt-4*", contains: "hi there"}
            reply: {content: Hello}
          - match: {regex: "^bye", model: "gpt-3*"}
            times: 1
            reply: {}
          - match: {state: waiting, call: 2}
            reply: {}
        """,
    )
    engine = RuleEngine()
    engine.load(path)
    call = chat("hello")
    assert engine.explain(call) == (
        f"no rule matched chat (model='gpt-4o-mini', text='hello'); closest: rule 'greeting' ({path}:5) "
        "failed on contains='hi there'\n"
        "rules, nearest first:\n"
        f"  rule 'greeting' ({path}:5): failed on contains='hi there'\n"
        f"  rule #3 ({path}:8): failed on model='gpt-3*', regex='^bye'\n"
        f"  rule #4 ({path}:11): failed on state='waiting' (scenario state is 'started'), call=2 (this would "
        "be call 1)\n"
        f"  rule #1 ({path}:3): failed on endpoint='embeddings'"
    )
    assert engine.choose(call) is None
    assert engine.explain(chat("hi there")).startswith(
        f"rule 'greeting' ({path}:5) matches chat (model='gpt-4o-mini', text='hi there')\n"
    )


def test_explain_says_when_there_are_no_rules_and_clips_long_text() -> None:
    assert RuleEngine().explain(chat("x" * 100)) == (
        f"no rule matched chat (model='gpt-4o-mini', text='{'x' * 57}...'); no rules are loaded"
    )


def test_explain_reports_a_used_up_rule() -> None:
    engine = engine_with({"times": 1, "reply": {}})
    engine.choose(chat())
    assert engine.explain(chat("hi")) == (
        "no rule matched chat (model='gpt-4o-mini', text='hi'); closest: rule #1 (scenario 't') failed on "
        "times=1 (used up)"
    )


# Any data either loads or raises ScenarioError

KEYS = st.sampled_from(
    [*TOP_KEYS, *RULE_KEYS, *MATCHERS, *REPLY_KEYS, "status", "every", "name", "arguments"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.just(10**400)
    | st.floats()
    | st.text(max_size=12)
    | st.dates()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_any_dict_either_loads_or_raises_scenario_error(data: dict[str, Any]) -> None:
    try:
        scenario = parse_scenario(data)
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
    else:
        engine = RuleEngine()
        engine.load(scenario)
        engine.choose(chat())
        engine.explain(embed())


RULES = st.lists(
    st.dictionaries(KEYS, VALUES | st.dictionaries(KEYS, VALUES, max_size=4), max_size=4), max_size=3
)


@settings(max_examples=400, deadline=None)
@given(RULES)
def test_any_list_of_rule_dicts_either_loads_or_raises_scenario_error(rules: list[dict[str, Any]]) -> None:
    try:
        scenario = parse_scenario({"rules": rules})
    except ScenarioError:
        return
    engine = RuleEngine()
    engine.load(scenario)
    for call in (chat(), embed()):
        engine.choose(call)
        engine.explain(call)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_either_loads_or_raises_scenario_error(text: str) -> None:
    with contextlib.suppress(ScenarioError):
        scenario_from_text(text, source="<fuzz>")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules: [{reply: {delay: " + "9" * 5000 + "}}]",
            "<text>: invalid YAML: Exceeds the limit (4300 digits)",
        ),
        ("[" * 100_000, "<text>:1: the scenario is too large: nested more than 100 levels deep"),
        (
            "rules:\n- reply: &x {tool_calls: [{name: f, arguments: *x}]}",
            "<text>:2: this rule nests too deeply",
        ),
        (
            "a: !!python/object/apply:os.system [echo]",
            "<text>:1: invalid YAML: could not determine a constructor",
        ),
    ],
)
def test_hostile_yaml_is_refused_with_a_scenario_error(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text)
    assert str(caught.value).startswith(message)


def test_check_reports_rules_that_can_never_answer(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(
        "as_of: 2024-01-04\n"
        "rules:\n"
        "  - match: {model: gpt-4o-mini}\n"
        "    reply: Hi\n"
        "  - match: {contains: weather}\n"
        "    reply: Sunny\n"
        "  - match: {contains: weather, model: 'gpt-4*'}\n"
        "    reply: Never\n"
        "  - match: {model: [gpt-4o-mini, gpt-4]}\n"
        "    reply: gpt-4 exists on that date\n"
    )
    assert [str(p) for p in check_files([path])] == [
        f"{path}:3: this rule can never answer: on 2024-01-04 'gpt-4o-mini' is not released yet (it is from "
        "2024-07-16). Set the scenario's as_of: to a date the model exists on, or name a model of that date",
        f"{path}:7: this rule can never answer: rule #2 (line 5) comes first and answers every call it fits; "
        "move this one above it, or give the earlier rule `times:` or a narrower `match:`",
    ]

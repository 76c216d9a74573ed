"""Scenario files: read YAML or JSON, check every rule, report each mistake with file:line and a fix.

A scenario is an ordered list of rules (the first whose `match` fits answers) plus optional `limits`
(per model rpm/tpm), `as_of` and `seed`, which the server applies. YAML is read with a safe loader
that records the line of every mapping and key; JSON files get the same lines when YAML reads them
the same way. All mistakes in a file are collected before `ScenarioError` is raised.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mockai.call import Call
from mockai.errors import MockAIError
from mockai.reply import StreamPlan
from mockai.scenario.matching import (
    MATCHERS,
    Endpoint,
    Gate,
    Issue,
    Matcher,
    compile_match,
    did_you_mean,
    is_count,
    line_of,
)
from mockai.scenario.templates import REPLY_KEYS, ReplyTemplate, compile_reply

INLINE = "inline"
"""The scenario name of rules added one by one, and of scenarios given without a name."""
TOP_KEYS = ("name", "description", "rules", "limits", "as_of", "seed")
RULE_KEYS = ("name", "id", "description", "match", "reply", "replies", "times", "next_state")
LIMIT_KEYS = ("rpm", "tpm")
SUFFIXES = (".yaml", ".yml", ".json")
NESTED = "this rule nests too deeply, or contains itself through a YAML alias; write it out plainly"
YAML_HINT = "Check the indentation and quoting here or just above."

NEVER_STREAMED = frozenset({"edits", "embeddings", "translations"})
"""Endpoints whose answers are never streamed: a rule for them cannot script stream faults."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario and where it is."""

    path: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class ScenarioError(MockAIError, ValueError):
    """A scenario has mistakes; `problems` holds each one with its file and line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        super().__init__(lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n" + "\n".join(lines))


@dataclass(frozen=True)
class Limit:
    """A model's rate limits: requests and tokens per minute (None: not limited)."""

    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Rule:
    """One checked rule: what it matches, what it answers and how often. `number` is 1-based."""

    scenario: str
    number: int
    matchers: tuple[Matcher, ...]
    """The call-only checks, cheapest first."""
    replies: tuple[ReplyTemplate, ...]
    gates: tuple[Gate, ...] = ()
    endpoints: frozenset[str] | None = None
    """The endpoints it can answer; None for all."""
    times: int | None = None
    next_state: str | None = None
    name: str | None = None
    id: str | None = None
    path: str | None = None
    line: int | None = None

    @property
    def key(self) -> str:
        """Stable within a scenario; seeds the rule's `probability` draws."""
        return f"{self.scenario}#{self.number}"

    @property
    def source(self) -> str:
        """What `Reply.source` says for this rule's answers: `rule:<scenario>#<id, name or number>`."""
        return f"rule:{self.scenario}#{self.id or self.name or self.number}"

    def fits(self, call: Call) -> bool:
        """True when every call-only check passes (gates are the engine's business)."""
        for matcher in self.matchers:  # a loop, not all(...): this runs for every rule a call reaches
            if not matcher.matches(call):
                return False
        return True

    def misses(self, call: Call) -> list[str]:
        """The call-only checks that fail, as `key=value`."""
        return [m.describe() for m in self.matchers if not m.matches(call)]

    def __repr__(self) -> str:
        return f"<Rule {self.source} {self.describe()}>"

    def describe(self) -> str:
        """`rule 'greeting' (scenarios/basic.yaml:12)` or `rule #2 (scenario 'inline')`."""
        label = self.name or self.id
        who = f"rule {label!r}" if label else f"rule #{self.number}"
        if self.path is None:
            return f"{who} (scenario {self.scenario!r})"
        return f"{who} ({self.path}:{self.line})" if self.line else f"{who} ({self.path})"


@dataclass(frozen=True)
class Scenario:
    """An ordered list of rules plus the settings a file may carry for the server."""

    name: str
    rules: tuple[Rule, ...] = ()
    limits: Mapping[str, Limit] = field(default_factory=dict)
    as_of: dt.date | None = None
    seed: int | None = None
    description: str | None = None
    path: str | None = None


class _Mapping(dict):  # type: ignore[type-arg]
    """A dict that remembers where it was written: its own `line` and the line of each key."""

    line: int | None = None
    key_lines: Mapping[str, int] = {}


MAX_FILE_BYTES = 2 * 1024 * 1024
"""A scenario file (or admin text) past this is refused before it is parsed."""
MAX_ALIASES = 1_000
"""YAML aliases (`*name`) in one file: enough for shared replies, not for an alias bomb."""
MAX_NODES = 200_000
"""Values in a file once its aliases are expanded: what the checks and the rules would walk."""
MAX_DEPTH = 100
"""Nesting of YAML collections."""


class _Loader(yaml.SafeLoader):
    """Safe YAML loading (standard tags only) that records lines and duplicate keys, and refuses an alias
    bomb (too many aliases, or too many values once they are expanded) or deep nesting at its line."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _TooMuch(
                    None,
                    None,
                    f"more than {MAX_ALIASES:,} aliases (*name); write the values out",
                    event.start_mark,  # type: ignore[arg-type]
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooMuch(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_expanded(node)
        return self.construct_document(node)


class _TooMuch(yaml.composer.ComposerError):
    """A document past one of the loader's limits (not a syntax mistake: no indentation hint)."""


def _check_expanded(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand past MAX_NODES values, at the line of the first collection
    that does; counted once per distinct node, so the check itself stays linear."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # collections whose children are being counted: one met again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes or (not children_done and id(node) in open_):
            continue  # counted, or an alias inside itself (the rule checks name that one)
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        parts = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
        if not children_done:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((n, False) for n in parts if id(n) not in sizes and id(n) not in open_)
            continue
        open_.discard(id(node))
        size = 1 + sum(sizes.get(id(n), 1) for n in parts)
        if size > MAX_NODES:
            raise _TooMuch(
                None,
                None,
                f"its aliases expand to more than {MAX_NODES:,} values (an alias bomb?); write less, or "
                "fewer aliases of aliases",
                node.start_mark,
            )
        sizes[id(node)] = size


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = _Mapping()
    data.line = node.start_mark.line + 1
    yield data
    key_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
            if key_node.value in key_lines:
                loader.duplicates.append((key_node.start_mark.line + 1, key_node.value))
            key_lines[key_node.value] = key_node.start_mark.line + 1
    data.key_lines = key_lines
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _yaml(text: str, source: str) -> tuple[Any, list[Problem]]:
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # a character YAML does not allow
        return None, [Problem(source, None, f"invalid YAML: {exc}")]
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = (
            f"the scenario is too large: {exc.problem}"
            if isinstance(exc, _TooMuch)
            else f"invalid YAML: {exc.problem or exc.context}. {YAML_HINT}"
        )
        return None, [Problem(source, mark.line + 1 if mark else None, reason)]
    except (yaml.YAMLError, RecursionError, ValueError) as exc:  # ValueError: an int of 4300+ digits
        return None, [Problem(source, None, f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    repeats = "YAML keeps only the last one; remove or rename the other"
    return data, [
        Problem(source, line, f"duplicate key {key!r}: {repeats}") for line, key in loader.duplicates
    ]


def _text(text: str, source: str) -> tuple[Any, list[Problem]]:
    """Parse JSON (when it is JSON) or YAML, keeping line numbers wherever YAML can give them."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        if source.lower().endswith(".json") and isinstance(exc, json.JSONDecodeError):
            return None, [Problem(source, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno}).")]
        return _yaml(text, source)
    lined, problems = _yaml(text, source)  # YAML 1.1 reads some JSON differently: then JSON wins, unlined
    return (lined, problems) if lined == data else (data, [])


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check one scenario file (YAML or JSON); its name defaults to the file's stem."""
    source = os.fspath(path)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise ScenarioError([Problem(source, None, f"cannot read the file: {exc.strerror or exc}")]) from None
    return scenario_from_bytes(data, source)


def scenario_from_bytes(data: bytes, source: str) -> Scenario:
    """A scenario file's contents, read as `load_scenario` reads the file at `source`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([Problem(source, None, "the file is not UTF-8 text; save it as UTF-8")]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as read_text's universal newlines did
    return scenario_from_text(text, source=source, name=Path(source).stem)


def scenario_from_text(text: str, *, source: str = "<text>", name: str | None = None) -> Scenario:
    """A scenario from YAML or JSON text (a file, an admin request body); `source` names it in errors."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        message = (
            f"the scenario is {size:,} bytes; mockai reads at most {MAX_FILE_BYTES:,} bytes of scenario: "
            "split it into several files (--scenario takes several)"
        )
        raise ScenarioError([Problem(source, None, message)])
    data, problems = _text(text, source)
    if data is None and not problems:
        problems = [Problem(source, None, "the scenario is empty; write at least rules: [...]")]
    if data is None:
        raise ScenarioError(problems)
    scenario, more = _scenario(data, source, name)
    if problems or more or scenario is None:
        raise ScenarioError(problems + more)
    return scenario


def parse_scenario(data: Any, *, path: str | None = None, name: str | None = None) -> Scenario:
    """A scenario from parsed data: a mapping with `rules:` and settings, or a bare list of rules."""
    scenario, problems = _scenario(data, path, name)
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


def parse_rule(data: Any, *, scenario: str = INLINE, number: int = 1, path: str | None = None) -> Rule:
    """One rule from a mapping shaped like an entry of `rules:`."""
    rule, issues = _rule(data, scenario, number, path)
    if issues or rule is None:
        raise ScenarioError([_problem(path, number, i) for i in issues])
    return rule


def scenario_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and directories expanded to the scenario files in them (sorted, recursive)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def _problem(path: str | None, number: int, issue: Issue) -> Problem:
    """A rule's issue as a Problem; without a line to point at, the message names the rule."""
    return Problem(path, issue.line, issue.message if issue.line else f"rule {number}: {issue.message}")


def _scenario(data: Any, path: str | None, default_name: str | None) -> tuple[Scenario | None, list[Problem]]:
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, Mapping):
        example = "name: my-scenario\nrules:\n  - match: {contains: hello}\n    reply: {content: Hi}"
        return None, [
            Problem(path, line_of(data), f"a scenario must be a mapping such as:\n{example}\ngot {data!r}")
        ]
    issues: list[Issue] = []
    for key in data:
        if key not in TOP_KEYS:
            where = " Rules go in the list under 'rules:'." if key in RULE_KEYS or key in MATCHERS else ""
            hint = where or did_you_mean(key, TOP_KEYS)
            issues.append(
                Issue(f"unknown key {key!r}.{hint} Valid keys: {', '.join(TOP_KEYS)}.", line_of(data, key))
            )
    name = _text_field(data, "name", issues) or default_name or INLINE
    description = _text_field(data, "description", issues)
    rules_data = data.get("rules", [])
    problems: list[Problem] = []
    rules: list[Rule] = []
    if not isinstance(rules_data, list):
        issues.append(Issue(f"rules must be a list of rules; got {rules_data!r}", line_of(data, "rules")))
        rules_data = []
    for number, item in enumerate(rules_data, 1):
        try:
            rule, rule_issues = _rule(item, name, number, path, line_of(data, "rules"))
        except RecursionError:  # a YAML alias inside itself
            rule, rule_issues = None, [Issue(NESTED, line_of(item) or line_of(data, "rules"))]
        problems.extend(_problem(path, number, i) for i in rule_issues)
        if rule is not None:
            rules.append(rule)
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id is not None and seen.setdefault(rule.id, rule) is not rule:
            issues.append(
                Issue(
                    f"id {rule.id!r} is used twice (also {seen[rule.id].describe()}); ids must differ",
                    rule.line,
                )
            )
    limits = _limits(data.get("limits"), line_of(data, "limits"), issues)
    as_of = _as_of(data.get("as_of"), line_of(data, "as_of"), issues)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        issues.append(
            Issue(f"seed must be a whole number, e.g. seed: 42; got {seed!r}", line_of(data, "seed"))
        )
        seed = None
    problems = [Problem(path, i.line, i.message) for i in issues] + problems
    problems.sort(key=lambda p: p.line or 0)
    scenario = Scenario(name, tuple(rules), limits, as_of, seed, description, path)
    return (None if problems else scenario), problems


def _rule(
    data: Any, scenario: str, number: int, path: str | None = None, fallback: int | None = None
) -> tuple[Rule | None, list[Issue]]:
    if not isinstance(data, Mapping):
        example = "{match: {contains: hello}, reply: {content: Hi}}"
        return None, [
            Issue(f"a rule must be a mapping such as {example}; got {data!r}", line_of(data) or fallback)
        ]
    line = line_of(data)
    issues: list[Issue] = []
    for key in data:
        if key not in RULE_KEYS:
            hint = did_you_mean(key, RULE_KEYS)
            if key in MATCHERS:
                hint = f" Match keys go under 'match:', e.g. match: {{{key}: ...}}."
            elif key in REPLY_KEYS:
                hint = f" Reply keys go under 'reply:', e.g. reply: {{{key}: ...}}."
            message = f"unknown rule key {key!r}.{hint} Valid keys: {', '.join(RULE_KEYS)}."
            issues.append(Issue(message, line_of(data, key)))
    name, rule_id = _text_field(data, "name", issues), _text_field(data, "id", issues)
    next_state = _text_field(data, "next_state", issues)
    _text_field(data, "description", issues)
    matchers, match_issues = compile_match(data.get("match"))
    issues.extend(Issue(i.message, i.line or line_of(data, "match")) for i in match_issues)
    times = data.get("times")
    if times is not None and not is_count(times):
        issues.append(
            Issue(f"times must be a whole number of at least 1; got {times!r}", line_of(data, "times"))
        )
        times = None
    if ("reply" in data) == ("replies" in data):
        both = "not both" if "reply" in data else "one is missing"
        message = f"a rule needs reply: {{...}} (one answer) or replies: [...] (answers in order); {both}"
        return None, [*issues, Issue(message, line)]
    key = "reply" if "reply" in data else "replies"
    items = [data["reply"]] if key == "reply" else data["replies"]
    if not isinstance(items, list) or not items:
        example = "replies: [{error: {status: 503}}, {}]"
        return None, [
            *issues,
            Issue(f"replies must be a non-empty list, e.g. {example}; got {items!r}", line_of(data, key)),
        ]
    source = f"rule:{scenario}#{rule_id or name or number}"
    replies: list[ReplyTemplate] = []
    for item in items:
        template, reply_issues = compile_reply(item, source)
        issues.extend(Issue(i.message, i.line or line_of(item) or line_of(data, key)) for i in reply_issues)
        if template is not None:
            replies.append(template)
    if times is not None and times < len(items):
        message = (
            f"times: {times} but {len(items)} replies; those after the first {times} would never be sent"
        )
        issues.append(Issue(message, line_of(data, "times")))
    endpoints = next((m.names for m in matchers if isinstance(m, Endpoint)), None)
    streamed = any(r.base.stream != StreamPlan() for r in replies)
    if streamed and endpoints is not None and endpoints <= NEVER_STREAMED:
        never = " and ".join(sorted(endpoints))
        message = (
            f"stream: scripts how a streamed answer is paced or broken, but {never} never stream; "
            "put it on a rule for chat, completions, transcriptions or speech"
        )
        issues.append(Issue(message, line_of(data, key)))
    if issues:
        return None, issues
    static = tuple(m for m in matchers if not isinstance(m, Gate))
    gates = tuple(m for m in matchers if isinstance(m, Gate))
    fields = (static, tuple(replies), gates, endpoints, times, next_state, name, rule_id, path, line)
    return Rule(scenario, number, *fields), []


def _text_field(data: Mapping[str, Any], key: str, issues: list[Issue]) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and value):
        return value
    issues.append(Issue(f"{key} must be a non-empty string; got {value!r}", line_of(data, key)))
    return None


def _limits(value: Any, line: int | None, issues: list[Issue]) -> dict[str, Limit]:
    """`limits: {model: {rpm, tpm}}`, each a whole number of at least 1."""
    if value is None:
        return {}
    example = 'limits: {"gpt-4o": {rpm: 3, tpm: 1000}}'
    if not isinstance(value, Mapping):
        issues.append(
            Issue(f"limits must map model names to {{rpm, tpm}}, e.g. {example}; got {value!r}", line)
        )
        return {}
    limits: dict[str, Limit] = {}
    for model, spec in value.items():
        where = line_of(value, model) or line
        if not isinstance(model, str) or not isinstance(spec, Mapping) or not spec:
            issues.append(
                Issue(f"limits for {model!r} must be a mapping such as {{rpm: 3, tpm: 1000}}", where)
            )
            continue
        for key, number in spec.items():
            if key not in LIMIT_KEYS:
                issues.append(
                    Issue(f"unknown limit {key!r}.{did_you_mean(key, LIMIT_KEYS)} Valid: rpm, tpm.", where)
                )
            elif not is_count(number):
                issues.append(Issue(f"{key} must be a whole number of at least 1; got {number!r}", where))
        limits[model] = Limit(**{k: v for k, v in spec.items() if k in LIMIT_KEYS})
    return limits


def _as_of(value: Any, line: int | None, issues: list[Issue]) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        issues.append(Issue(f"as_of must be a date such as 2023-07-06; got {value!r}", line))
        return None


__all__ = [
    "INLINE", "Limit", "Problem", "Rule", "Scenario", "ScenarioError", "load_scenario",
    "parse_rule", "parse_scenario", "scenario_from_bytes", "scenario_from_text", "scenario_paths",
]  # fmt: skip

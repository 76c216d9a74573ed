"""Matchers: the keys of a rule's `match:`, each a small class registered under its key.

A matcher checks its value when the scenario loads (raising `Invalid` with a fix) and is cheap at
request time: regexes and globs are compiled once, and `cost` orders a rule's checks so the cheapest
run first. Gates (`state`, `call`, `probability`) read the engine's counters and are checked by the
engine under its lock; every other matcher reads only the `Call`.

Text matching is case-sensitive (`contains`, `system`, `any_message`, `model` globs); `icontains`
and `(?i)` in `regex` are the case-insensitive ways. A list given to `contains`, `icontains`,
`system`, `any_message` or `tools` means all of them; a list given to `endpoint` or `model`, any of them.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import re2  # type: ignore[import-untyped]

from mockai.call import ENDPOINTS, Call, content_text
from mockai.scenario import conversation

_registry: dict[str, type[Matcher]] = {}
MATCHERS: Mapping[str, type[Matcher]] = MappingProxyType(_registry)
"""Every match key, with the class that reads it."""

MISSING: Any = object()
"""What `dotted()` returns for a path that is not in the value."""

START = "started"
"""The state every scenario is in before a rule moves it, and after `reset()`."""


class Invalid(ValueError):
    """A value in a scenario is wrong: the message says how to fix it, `line` and `field` where."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.field = field

    def at(self, prefix: str) -> str:
        """The message after `prefix.field: ` (or `prefix: ` when no nested field is known)."""
        return f"{prefix}.{self.field}: {self}" if self.field else f"{prefix}: {self}"


@dataclass(frozen=True)
class Issue:
    """One mistake found while compiling part of a scenario."""

    message: str
    line: int | None = None


@dataclass(frozen=True)
class Probe:
    """What gates see: this call's number at the rule (1-based), the scenario state, the engine seed."""

    n: int
    state: str
    seed: int
    rule_key: str


def line_of(data: Any, key: Any = None) -> int | None:
    """The line of `key` in a mapping read from YAML (else the mapping's own line), or None."""
    key_lines = getattr(data, "key_lines", None)
    if key is not None and isinstance(key_lines, Mapping) and isinstance(key, str) and key in key_lines:
        return int(key_lines[key])
    line = getattr(data, "line", None)
    return line if isinstance(line, int) else None


def did_you_mean(word: Any, choices: Any) -> str:
    """` Did you mean 'x'?` for the closest valid choice, or ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def dotted(value: Any, path: tuple[str, ...]) -> Any:
    """Walk mapping keys and list indexes (never attributes) along `path`; MISSING when absent."""
    for segment in path:
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdecimal() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return MISSING
    return value


def messages_of(call: Call) -> tuple[Mapping[str, Any], ...]:
    """The call's conversation as chat messages; a Call built by hand with only a chat body: its messages."""
    if call.messages:
        return call.messages
    messages = call.body.get("messages")
    return tuple(m for m in messages if isinstance(m, Mapping)) if isinstance(messages, list) else ()


def system_text(call: Call) -> str:
    """The system and developer messages of the conversation (Responses: `instructions` too), joined by
    newlines."""
    messages = messages_of(call)
    return "\n".join(
        content_text(m.get("content"))
        for m in messages
        if isinstance(m, Mapping) and m.get("role") in ("system", "developer")
    )


def same(a: Any, b: Any) -> bool:
    """JSON equality: like ==, but true and 1 differ, and lists and mappings compare item by item."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def strings(value: Any, example: str) -> tuple[str, ...]:
    """A string or a non-empty list of strings, as a tuple; anything else is `Invalid`."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise Invalid(f"expected a string or a list of strings, e.g. {example}; got {value!r}")


class Matcher:
    """One `match:` key. Subclasses set `key` (which registers them) and `cost` (lower runs first)."""

    key: ClassVar[str] = ""
    cost: ClassVar[int] = 5

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.key:
            _registry[cls.key] = cls

    def __init__(self, value: Any) -> None:
        self.value = value

    def matches(self, call: Call) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        """`key=value`, as failure reports show it."""
        return f"{self.key}={self.value!r}"


class Gate(Matcher):
    """A matcher that depends on the engine's counters or state, not only on the call."""

    cost = 100
    before_count: ClassVar[bool] = False
    """True when a call that fails this gate is not counted as reaching the rule."""

    def matches(self, call: Call) -> bool:
        return True

    def admits(self, probe: Probe) -> bool:
        raise NotImplementedError


class Endpoint(Matcher):
    key, cost = "endpoint", 0

    def __init__(self, value: Any) -> None:
        names = strings(value, "endpoint: chat")
        for name in names:
            if name not in ENDPOINTS:
                hint = did_you_mean(name, ENDPOINTS)
                raise Invalid(f"unknown endpoint {name!r}.{hint} Valid endpoints: {', '.join(ENDPOINTS)}.")
        super().__init__(value)
        self.names = frozenset(names)

    def matches(self, call: Call) -> bool:
        return call.endpoint in self.names


class Model(Matcher):
    """A glob (`*`, `?`, `[abc]`) or a list of globs, any of which may match; case-sensitive."""

    key, cost = "model", 1

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.patterns = tuple(re.compile(fnmatch.translate(g)) for g in strings(value, 'model: "gpt-4*"'))

    def matches(self, call: Call) -> bool:
        return any(p.match(call.model) for p in self.patterns)


class Stream(Matcher):
    key, cost = "stream", 1

    def __init__(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise Invalid(f"expected true or false; got {value!r}")
        super().__init__(value)

    def matches(self, call: Call) -> bool:
        stream = call.body.get("stream")  # a multipart form sends the text "true"
        return (stream is True or (isinstance(stream, str) and stream.lower() == "true")) is self.value


class Json(Matcher):
    """Request fields by dotted path (`response_format.type`, `messages.0.role`); null also matches absent."""

    key, cost = "json", 2

    def __init__(self, value: Any) -> None:
        if not isinstance(value, Mapping) or not value:
            example = 'json: {"response_format.type": json_object}'
            raise Invalid(f"expected a mapping of dotted paths to values, e.g. {example}; got {value!r}")
        for path in value:
            if not isinstance(path, str) or not all(path.split(".")):
                raise Invalid(f"{path!r} is not a dotted path such as 'temperature' or 'messages.0.role'")
        super().__init__(dict(value))
        self.fields = tuple((tuple(path.split(".")), expected) for path, expected in value.items())

    def matches(self, call: Call) -> bool:
        for path, expected in self.fields:
            found = dotted(call.body, path)
            if found is MISSING or found is None:
                if expected is not None:
                    return False
            elif not same(found, expected):
                return False
        return True


class Tools(Matcher):
    """Names of tools (`tools[].function.name`; the Responses API's `tools[].name`) or legacy
    `functions[].name` the request offers."""

    key, cost = "tools", 2

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.names = strings(value, "tools: get_weather")

    def matches(self, call: Call) -> bool:
        offered = set()
        for tool in _list(call.body.get("tools")):
            if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping):
                offered.add(tool["function"].get("name"))
            elif isinstance(tool, Mapping) and isinstance(tool.get("name"), str):
                offered.add(tool["name"])
        for function in _list(call.body.get("functions")):
            if isinstance(function, Mapping):
                offered.add(function.get("name"))
        return all(name in offered for name in self.names)


class _Contains(Matcher):
    """Every given substring occurs in the subject text."""

    cost = 3
    fold = False

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        needles = strings(value, f'{self.key}: "weather"')
        self.needles = tuple(n.casefold() for n in needles) if self.fold else needles

    def matches(self, call: Call) -> bool:
        text = self.subject(call)
        if self.fold:
            text = text.casefold()
        for needle in self.needles:  # a loop, not all(...): this runs for every call a rule sees
            if needle not in text:
                return False
        return True

    def subject(self, call: Call) -> str:
        return call.text


class Contains(_Contains):
    key = "contains"


class IContains(_Contains):
    key, fold = "icontains", True


class System(_Contains):
    key = "system"

    def subject(self, call: Call) -> str:
        return system_text(call)


class AnyMessage(_Contains):
    """Substrings in any one message's content (each needle may sit in a different message)."""

    key, cost = "any_message", 4

    def subject(self, call: Call) -> str:
        messages = messages_of(call)
        if not messages:
            return call.text
        return "\x00".join(content_text(m.get("content")) for m in messages)


class Regex(Matcher):
    """A search on the call text with RE2, compiled once at load: linear in the text whatever the
    pattern, so no rule can backtrack catastrophically (`(a+)+$` on a long request included).

    The pattern is Python's `re` syntax as far as RE2 has it; RE2 has no lookaround and no
    backreferences, and a pattern that needs them is refused at load, saying so."""

    key, cost = "regex", 5

    def __init__(self, value: Any) -> None:
        if not isinstance(value, str):
            raise Invalid(f'expected a regular expression string, e.g. regex: "(?i)thanks"; got {value!r}')
        try:
            re.compile(value)  # Python's words for a plain syntax mistake
        except (re.error, OverflowError, RecursionError) as exc:
            raise Invalid(
                f"invalid regular expression {value!r}: {exc}. Fix it, or use contains for a plain substring."
            ) from None
        try:
            self.pattern = re2.compile(value, _RE2_OPTIONS)
        except re2.error as exc:
            reason = exc.args[0].decode("utf-8", "replace") if exc.args else "refused"
            raise Invalid(
                f"regular expression {value!r} is not available: {reason}. mockai matches rules with "
                "RE2, which never backtracks, so there are no lookarounds (?=, (?!, (?<=, (?<!), no "
                "backreferences and no repeat counts past 1000; rewrite it without them, or use contains "
                "for a plain substring."
            ) from None
        super().__init__(value)

    def matches(self, call: Call) -> bool:
        return self.pattern.search(call.text) is not None


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the user's Invalid, not a line on stderr


class Turn(Matcher):
    """Assistant turns so far in the conversation (`turn: 0` is its first call; a tool call is a turn), or
    any of a list of them: multi-turn matching with no `state`."""

    key, cost = "turn", 1

    def __init__(self, value: Any) -> None:
        numbers = value if isinstance(value, list) and value else [value]
        if not all(is_count(n, 0) for n in numbers):
            raise Invalid(f"expected a whole number from 0 or a list of them, e.g. turn: 1; got {value!r}")
        super().__init__(value)
        self.numbers = frozenset(numbers)

    def matches(self, call: Call) -> bool:
        return conversation.turn(messages_of(call)) in self.numbers


class LastRole(Matcher):
    """The role of the conversation's last message (a tool result is `tool`), or any of a list."""

    key, cost = "last_role", 1

    def __init__(self, value: Any) -> None:
        roles = strings(value, "last_role: tool")
        for role in roles:
            if role not in conversation.ROLES:
                hint = did_you_mean(role, conversation.ROLES)
                raise Invalid(f"unknown role {role!r}.{hint} Valid roles: {', '.join(conversation.ROLES)}.")
        super().__init__(value)
        self.roles = frozenset(roles)

    def matches(self, call: Call) -> bool:
        return conversation.last_role(messages_of(call)) in self.roles


class ToolResult(_Contains):
    """Substrings of the latest tool result's text; never fits before a tool has answered."""

    key = "tool_result"

    def matches(self, call: Call) -> bool:
        return conversation.tool_result(messages_of(call)) is not None and super().matches(call)

    def subject(self, call: Call) -> str:
        return conversation.tool_result(messages_of(call)) or ""


class Called(Matcher):
    """Tools the assistant already called earlier in the conversation (all of the given names)."""

    key, cost = "called", 2

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.names = strings(value, "called: get_weather")

    def matches(self, call: Call) -> bool:
        done = conversation.called(messages_of(call))
        return all(name in done for name in self.names)


class State(Gate):
    """The rule's scenario is in this state (or one of these); see the rule key `next_state`."""

    key, cost, before_count = "state", 90, True

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.states = frozenset(strings(value, f"state: {START}"))

    def admits(self, probe: Probe) -> bool:
        return probe.state in self.states


class CallNumber(Gate):
    """The n-th call reaching this rule (1-based): `call: 2`, `call: [1, 3]` or `call: {every: 3}`."""

    key, cost = "call", 91

    def __init__(self, value: Any) -> None:
        every = value.get("every") if isinstance(value, Mapping) and set(value) == {"every"} else None
        numbers = value if isinstance(value, list) and value else [value]
        if every is not None:
            if not is_count(every):
                raise Invalid(f"every must be a whole number of at least 1; got {every!r}")
        elif not all(is_count(n) for n in numbers):
            raise Invalid(f"expected a call number from 1, a list of them, or {{every: k}}; got {value!r}")
        super().__init__(value)
        self.every = every
        self.numbers = frozenset(numbers) if every is None else frozenset()

    def admits(self, probe: Probe) -> bool:
        return probe.n % self.every == 0 if self.every else probe.n in self.numbers


class Probability(Gate):
    """Fits with probability p, drawn from a hash of (engine seed, rule, call number): no global random."""

    key, cost = "probability", 92

    def __init__(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise Invalid(f"expected a number from 0 to 1, e.g. probability: 0.25; got {value!r}")
        super().__init__(value)
        self.p = float(value)

    def admits(self, probe: Probe) -> bool:
        return draw(probe.seed, probe.rule_key, probe.n) < self.p


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_count(value: Any, least: int = 1) -> bool:
    """True for a whole number (not a bool) of at least `least`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def draw(seed: int, key: str, n: int) -> float:
    """A number in [0, 1) fixed by its arguments, so a run replays exactly under the same seed."""
    digest = hashlib.blake2b(f"{seed}\x00{key}\x00{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def compile_match(data: Any) -> tuple[tuple[Matcher, ...], list[Issue]]:
    """A `match:` mapping as matchers sorted cheapest first, with every mistake found in it."""
    if data is None:
        return (), []
    if not isinstance(data, Mapping):
        example = "match: {endpoint: chat, contains: hello}"
        message = f"match must be a mapping of match keys, e.g. {example}; got {data!r}"
        return (), [Issue(message, line_of(data))]
    matchers: list[Matcher] = []
    issues: list[Issue] = []
    for key, value in data.items():
        cls = _registry.get(key) if isinstance(key, str) else None
        if cls is None:
            hint = did_you_mean(key, _registry)
            message = f"unknown match key {key!r}.{hint} Valid keys: {', '.join(sorted(_registry))}."
            issues.append(Issue(message, line_of(data, key)))
            continue
        try:
            matchers.append(cls(value))
        except Invalid as exc:
            issues.append(Issue(exc.at(f"match.{key}"), exc.line or line_of(data, key)))
    return tuple(sorted(matchers, key=lambda m: m.cost)), issues


__all__ = ["MATCHERS", "START", "Gate", "Invalid", "Issue", "Matcher", "Probe", "compile_match", "draw"]

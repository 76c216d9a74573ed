"""Reply templates: a rule's `reply:` mapping checked and compiled once, rendered per call.

Strings in a reply may hold placeholders, `{{ name }}`, from a fixed list: `text`, `model`,
`endpoint`, `system`, `tool_result` (the latest tool result's text), `call_count` (how many times this
rule has answered, this time included) and `json.<dotted.path>` (e.g. `{{ json.messages.0.content }}`).
Values are found by mapping key and list index only; nothing is evaluated, no attribute is read and
`str.format` is never called, so a reply cannot run code. Any other `{{ ... }}` is a load-time error;
`\\{{` writes a literal `{{`.
Placeholders work in `content`/`text`, `refusal`, `error.message` and the string values of
`arguments` given as a mapping (which are JSON-encoded after filling); `arguments` given as a string
is sent verbatim, valid JSON or not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockai.call import Call
from mockai.reply import MODERATION_CATEGORIES, ErrorReply, Reply, StreamPlan, ToolCall
from mockai.scenario import conversation
from mockai.scenario.matching import (
    MISSING,
    Invalid,
    Issue,
    did_you_mean,
    dotted,
    is_count,
    line_of,
    messages_of,
    system_text,
)

ROOTS = ("text", "model", "endpoint", "system", "tool_result", "call_count", "json")
REPLY_KEYS = (
    "content", "text", "tool_calls", "function_call", "refusal", "finish_reason", "embedding",
    "error", "delay", "stream", "usage", "language", "duration", "flagged", "categories",
)  # fmt: skip
OUTPUT_KEYS = (
    "content", "text", "tool_calls", "function_call", "refusal", "embedding", "finish_reason", "usage",
)  # fmt: skip
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")
STREAM_KEYS = ("tokens_per_second", "chunk_tokens", "cut_after", "error_after", "malformed_after")
USAGE_KEYS = (
    "prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens",
)  # fmt: skip
ERROR_KEYS = ("status", "type", "code", "message", "param", "headers")

FRAMING_HEADERS = ("content-length", "content-type", "transfer-encoding", "connection")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_TOKEN = re.compile(r"\\\{\{|\{\{(.*?)\}\}", re.S)
_SEGMENT = re.compile(r"(?!__)[^\s.{}]+")
_VALID = (
    "{{ text }}, {{ model }}, {{ endpoint }}, {{ system }}, {{ tool_result }}, {{ call_count }}, "
    "{{ json.<dotted.path> }}"
)


@dataclass(frozen=True)
class Lookup:
    """One placeholder: a root from ROOTS and, for `json`, the path below it."""

    root: str
    path: tuple[str, ...] = ()

    def find(self, call: Call, call_count: int) -> Any:
        if self.root == "json":
            return dotted(call.body, self.path)
        if self.root == "call_count":
            return call_count
        if self.root == "system":
            return system_text(call)
        if self.root == "tool_result":
            return conversation.tool_result(messages_of(call)) or ""
        return {"text": call.text, "model": call.model, "endpoint": call.endpoint}[self.root]


@dataclass(frozen=True)
class Template:
    """A string split into literal parts and lookups."""

    parts: tuple[str | Lookup, ...]

    @property
    def static(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    def render(self, call: Call | None = None, call_count: int = 0) -> str:
        if call is None:
            return "".join(p for p in self.parts if isinstance(p, str))
        return "".join(p if isinstance(p, str) else _show(p.find(call, call_count)) for p in self.parts)


def compile_template(text: str) -> Template:
    """Split `text` into literals and lookups; an unknown placeholder raises `Invalid`."""
    parts: list[str | Lookup] = []
    position = 0
    for token in _TOKEN.finditer(text):
        parts.append(text[position : token.start()])
        parts.append("{{" if token.group(1) is None else _lookup(token.group(1).strip()))
        position = token.end()
    parts.append(text[position:])
    merged: list[str | Lookup] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return Template(tuple(merged))


def _lookup(expression: str) -> Lookup:
    root, dot, rest = expression.partition(".")
    segments = tuple(rest.split(".")) if dot else ()
    if root in ROOTS and (not dot or root == "json") and all(_SEGMENT.fullmatch(s) for s in segments):
        return Lookup(root, segments)
    raise Invalid(
        f"unknown placeholder '{{{{ {expression} }}}}'.{did_you_mean(root, ROOTS)} "
        f"Valid placeholders: {_VALID}. Write \\{{{{ for a literal '{{{{'."
    )


def _show(value: Any) -> str:
    """A looked-up value as text: strings as they are, absent as "", anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if value is MISSING or value is None:
        return ""
    return _json(value)


def _json(value: Any) -> str:
    """Compact JSON, keys in the order written, non-ASCII as is (as the API writes arguments)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ToolTemplate:
    """A scripted tool call; `arguments` is final JSON text, or a structure with templates to fill."""

    name: str
    arguments: Any
    id: str | None = None

    def render(self, call: Call | None = None, call_count: int = 0) -> ToolCall:
        arguments = self.arguments
        if not isinstance(arguments, str):
            arguments = _json(_fill(arguments, call, call_count))
        return ToolCall(name=self.name, arguments=arguments, id=self.id)


@dataclass(frozen=True)
class ReplyTemplate:
    """A `Reply` with the placeholders still to fill; `base` is complete when nothing is templated."""

    base: Reply
    text: Template | None = None
    refusal: Template | None = None
    error_message: Template | None = None
    tool_calls: tuple[ToolTemplate, ...] | None = None
    function_call: ToolTemplate | None = None

    def render(self, call: Call, call_count: int) -> Reply:
        changes: dict[str, Any] = {}
        if self.text is not None:
            changes["text"] = self.text.render(call, call_count)
        if self.refusal is not None:
            changes["refusal"] = self.refusal.render(call, call_count)
        if self.error_message is not None and self.base.error is not None:
            changes["error"] = replace(self.base.error, message=self.error_message.render(call, call_count))
        if self.tool_calls is not None:
            changes["tool_calls"] = tuple(t.render(call, call_count) for t in self.tool_calls)
        if self.function_call is not None:
            changes["function_call"] = self.function_call.render(call, call_count)
        return replace(self.base, **changes) if changes else self.base


def compile_reply(data: Any, source: str) -> tuple[ReplyTemplate | None, list[Issue]]:
    """A `reply:` mapping (or a bare string, short for `{content: ...}`) checked and compiled."""
    if isinstance(data, str):
        data = {"content": data}
    if not isinstance(data, Mapping):
        example = "reply: {content: Hello}"
        return None, [
            Issue(f"a reply must be a mapping such as {example} ({{}} for the default); got {data!r}")
        ]
    issues: list[Issue] = []
    fields: dict[str, Any] = {"source": source}
    dynamic: dict[str, Any] = {}
    for key, value in data.items():
        if key not in REPLY_KEYS:
            hint = did_you_mean(key, REPLY_KEYS)
            message = f"unknown reply key {key!r}.{hint} Valid keys: {', '.join(sorted(REPLY_KEYS))}."
            issues.append(Issue(message, line_of(data, key)))
            continue
        try:
            _read(str(key), value, fields, dynamic)
        except Invalid as exc:
            issues.append(Issue(exc.at(f"reply.{key}"), exc.line or line_of(data, key)))
    if "content" in data and "text" in data:
        issues.append(
            Issue("give either 'content' or 'text', not both: they mean the same", line_of(data, "text"))
        )
    if "error" in data and any(k in data for k in OUTPUT_KEYS):
        others = ", ".join(k for k in OUTPUT_KEYS if k in data)
        issues.append(
            Issue(f"an error reply cannot also have {others}; use two replies", line_of(data, "error"))
        )
    if issues:
        return None, issues
    return ReplyTemplate(base=Reply(**fields), **dynamic), []


def _read(key: str, value: Any, fields: dict[str, Any], dynamic: dict[str, Any]) -> None:
    """Check one reply key and store it in `fields` (static) or `dynamic` (templated)."""
    if key in ("content", "text", "refusal"):
        target = "refusal" if key == "refusal" else "text"
        template = compile_template(_string(value, f'{key}: "42"'))
        fields[target] = template.render()
        if not template.static:
            dynamic[target] = template
    elif key in ("tool_calls", "function_call"):
        if key == "tool_calls":
            if not isinstance(value, list) or not value:
                raise Invalid("expected a list such as [{name: get_weather, arguments: {city: Paris}}]")
            tools = tuple(_tool(item, with_id=True) for item in value)
        else:
            tools = (_tool(value, with_id=False),)
        fields[key] = tuple(t.render() for t in tools) if key == "tool_calls" else tools[0].render()
        if any(not isinstance(t.arguments, str) for t in tools):
            dynamic[key] = tools if key == "tool_calls" else tools[0]
    elif key == "finish_reason":
        if value not in FINISH_REASONS:
            hint = did_you_mean(value, FINISH_REASONS)
            raise Invalid(f"{value!r} is not a finish reason.{hint} Valid: {', '.join(FINISH_REASONS)}.")
        fields[key] = value
    elif key == "embedding":
        if not isinstance(value, list) or not value or not all(_finite(v) for v in value):
            raise Invalid("expected a non-empty list of numbers, e.g. embedding: [0.6, 0.8]")
        fields[key] = tuple(float(v) for v in value)
    elif key == "error":
        fields[key], message = _error(value)
        if message is not None:
            dynamic["error_message"] = message
    elif key == "delay":
        fields[key] = _number(value, "seconds from 0, e.g. delay: 0.5")
    elif key == "stream":
        fields[key] = StreamPlan(**_table(value, STREAM_KEYS, _stream_value, "stream: {cut_after: 3}"))
    elif key == "usage":
        fields[key] = _table(value, USAGE_KEYS, lambda _, v: _whole(v, 0), "usage: {prompt_tokens: 12}")
    elif key == "language":
        fields.setdefault("extra", {})[key] = _string(value, "language: english")
    elif key == "flagged":
        if not isinstance(value, bool):
            raise Invalid(f"expected true or false, e.g. flagged: true; got {value!r}")
        fields.setdefault("extra", {})[key] = value
    elif key == "categories":
        names = value if isinstance(value, list) and value else None
        if names is None or not all(isinstance(n, str) for n in names):
            raise Invalid(
                f"expected a list of moderation categories, e.g. categories: [violence]; got {value!r}"
            )
        for name in names:
            if name not in MODERATION_CATEGORIES:
                hint = did_you_mean(name, MODERATION_CATEGORIES)
                raise Invalid(
                    f"{name!r} is not a moderation category.{hint} Valid: {', '.join(MODERATION_CATEGORIES)}."
                )
        fields.setdefault("extra", {})[key] = tuple(names)
    else:
        fields.setdefault("extra", {})[key] = _number(value, "seconds from 0, e.g. duration: 2.5")


def _string(value: Any, example: str) -> str:
    if not isinstance(value, str):
        raise Invalid(
            f"expected a string; got {value!r}. Quote it if YAML read it as something else: {example}"
        )
    return value


def _finite(value: Any) -> bool:
    """A JSON number that is also a float (not a bool, NaN, infinity or a too-large int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _number(value: Any, what: str) -> float:
    if not _finite(value) or value < 0:
        raise Invalid(f"expected {what}; got {value!r}")
    return float(value)


def _whole(value: Any, least: int) -> int:
    if not is_count(value, least):
        raise Invalid(f"expected a whole number of at least {least}; got {value!r}")
    return int(value)


def _table(
    value: Any, keys: tuple[str, ...], check: Callable[[str, Any], Any], example: str
) -> dict[str, Any]:
    """A small mapping whose keys come from `keys`, each value passed through `check(key, value)`."""
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping, e.g. {example}; got {value!r}")
    out = {}
    for k, v in value.items():
        if k not in keys:
            raise Invalid(
                f"unknown key {k!r}.{did_you_mean(k, keys)} Valid keys: {', '.join(keys)}.", line_of(value, k)
            )
        try:
            out[k] = check(k, v)
        except Invalid as exc:
            raise Invalid(str(exc), line_of(value, k), field=str(k)) from None
    return out


def _stream_value(key: str, value: Any) -> Any:
    if key == "tokens_per_second":
        if not _finite(value) or value <= 0:
            raise Invalid(f"expected a number above 0; got {value!r}")
        return float(value)
    return _whole(value, 1 if key == "chunk_tokens" else 0)


def _error(value: Any) -> tuple[ErrorReply, Template | None]:
    """`error: 429` or `error: {status, type, code, message, param, headers}`."""
    if not isinstance(value, Mapping):
        value = {"status": value}
    if "status" not in value:
        raise Invalid("an error needs a status, e.g. error: {status: 429}", line_of(value))
    fields = _table(value, ERROR_KEYS, _error_value, "error: {status: 429}")
    message = fields.pop("message", None)
    template = compile_template(message) if message is not None else None
    if template is not None:
        fields["message"] = template.render()
    return ErrorReply(**fields), template if template is not None and not template.static else None


def _error_value(key: str, value: Any) -> Any:
    if key == "status":
        if not is_count(value, 400) or value > 599:
            raise Invalid(f"expected an HTTP error status from 400 to 599, e.g. 429; got {value!r}")
        return value
    if key == "headers":
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and (isinstance(v, str) or _finite(v)) for k, v in value.items()
        ):
            raise Invalid(
                f'expected a mapping of header names to values, e.g. {{retry-after: "2"}}; got {value!r}'
            )
        headers = {k.lower(): v if isinstance(v, str) else str(v) for k, v in value.items()}
        for name, text in headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise Invalid(f"{name!r} is not a header name: use letters, digits and -, e.g. retry-after")
            if name in FRAMING_HEADERS:
                raise Invalid(f"{name!r} is set by mockai itself and cannot be scripted")
            if not _HEADER_VALUE.fullmatch(text):
                raise Invalid(f"the value of {name!r} must be one line of printable Latin-1; got {text!r}")
        return headers
    return _string(value, f'{key}: "rate_limit_exceeded"')


def _tool(value: Any, *, with_id: bool) -> ToolTemplate:
    """One `{name, arguments, id?}`; mapping arguments become compact JSON in the order written."""
    keys = ("name", "arguments", "id") if with_id else ("name", "arguments")
    _table(value, keys, lambda _, v: v, "{name: get_weather, arguments: {city: Paris}}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise Invalid(
            "each call needs a name, e.g. {name: get_weather, arguments: {city: Paris}}", line_of(value)
        )
    tool_id = value.get("id")
    if tool_id is not None and not isinstance(tool_id, str):
        raise Invalid(f"id must be a string such as call_abc123; got {tool_id!r}", line_of(value, "id"))
    arguments = value.get("arguments", {})
    if isinstance(arguments, str):
        return ToolTemplate(name, arguments, tool_id)
    if not isinstance(arguments, Mapping):
        raise Invalid(
            "arguments must be a mapping (sent as JSON) or a JSON string", line_of(value, "arguments")
        )
    structure, dynamic = _structure(arguments)
    return ToolTemplate(name, structure if dynamic else _json(structure), tool_id)


def _structure(value: Any) -> tuple[Any, bool]:
    """Arguments as plain JSON values, strings with placeholders as templates; True if any has one."""
    if isinstance(value, str):
        template = compile_template(value)
        return (template.render(), False) if template.static else (template, True)
    if value is None or isinstance(value, bool) or _finite(value):
        return value, False
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        items = {k: _structure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(d for _, d in items.values())
    if isinstance(value, list):
        pairs = [_structure(v) for v in value]
        return [v for v, _ in pairs], any(d for _, d in pairs)
    raise Invalid(f"{value!r} is not a JSON value; quote it to send it as a string")


def _fill(value: Any, call: Call | None, call_count: int) -> Any:
    if isinstance(value, Template):
        return value.render(call, call_count)
    if isinstance(value, Mapping):
        return {k: _fill(v, call, call_count) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, call, call_count) for v in value]
    return value


__all__ = ["ReplyTemplate", "Template", "ToolTemplate", "compile_reply", "compile_template"]

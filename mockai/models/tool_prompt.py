"""How a chat request's tool definitions enter the prompt, and what they cost in tokens.

The API writes function definitions into the prompt as a TypeScript-like namespace (`namespace functions {
... }`, one `type name = (_: {...}) => any;` per function, descriptions as `//` comments). The rendering
and the constants around it were derived from recorded live traffic (shared/reference/real-traffic and
tests/data) and published measurements. The text is the same for every model; the harmony format (the
gpt-5 family and the o-series) frames it in a message of its own and writes tool-call history otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockai.call import content_text
from mockai.models import tokens

MAX_DEPTH = 16
"""Nesting past this renders as `any`: a schema's depth is the client's, the rendering's budget is ours."""

MAX_REFS = 64
"""`$ref`s one function's rendering expands; past this they render as `any` (a schema of definitions that
refer to each other twice over would otherwise grow exponentially)."""


@dataclass
class _Style:
    """What one function's rendering reads and spends: its `$defs`, and the `$ref` budget left."""

    defs: Mapping[str, Any] = field(default_factory=dict)
    refs_left: int = MAX_REFS


def render(functions: Iterable[Mapping[str, Any]]) -> str:
    """The namespace text the definitions become, on every model (the harmony format included: its
    recordings match this text, not the public harmony library's, which writes titles on two lines,
    descriptions raw and every object on several lines).

    A function without properties is `() => any`; its description is a `//` comment (`_comment`).
    """
    parts = []
    for fn in functions:
        description = fn.get("description")
        head = _comment(description, "") if isinstance(description, str) and description else ""
        params = fn.get("parameters")
        name = fn.get("name")
        if isinstance(params, Mapping) and _properties_of(fn):
            style = _Style(_definitions(params))
            parts.append(f"{head}type {name} = (_: {_type(params, '', 0, style)}) => any;\n")
        else:
            parts.append(f"{head}type {name} = () => any;\n")
    return "namespace functions {\n\n" + "\n".join(parts) + "\n} // namespace functions"


def _comment(text: str, indent: str) -> str:
    """A description as `//` lines: one per line of the text, each stripped of the spaces around it (a
    blank line is a bare `//`), blank lines at either end dropped. (Derived from recorded counts: three
    pydantic-ai tool sets of indented docstrings, exact together only this way; a langchain docstring on
    gpt-3.5-turbo-0125, where a blank line costs a token more than a bare `//`.)"""
    return "".join(f"{indent}// {line.strip()}".rstrip() + "\n" for line in text.strip().split("\n"))


def _commented(prop: Mapping[str, Any]) -> bool:
    """True when a property carries a comment: a title, a description, examples or a default."""
    return any(prop.get(key) for key in ("title", "description", "examples")) or "default" in prop


def _properties(schema: Mapping[str, Any], indent: str, depth: int, style: _Style) -> str:
    """The properties of an object, as its type's body.

    Without any comment they fit on one line, `{ a: number, b?: string }` (the recorded counts of every
    uncommented function agree, pamelafox's measured nested objects too). Otherwise one line per property
    after its comments: pydantic's `title` as `// Title`, its description (`_comment`), then
    `// Examples:`; a `default` follows the line (`_default`), so an object with one is never on one line
    (pydantic-ai's `get_error(value: bool = False)`, in three recorded tool sets).
    """
    required = schema.get("required")
    required = set(required) if isinstance(required, list) else set()
    props = schema.get("properties")
    fields = [
        (key, _resolved(prop, style) if isinstance(prop, Mapping) else {})
        for key, prop in (props if isinstance(props, Mapping) else {}).items()
    ]
    if not any(_commented(prop) for _, prop in fields):
        inner = ", ".join(
            f"{key}{_optional(key, required)}: {_field(prop, indent + '    ', depth, style)}"
            for key, prop in fields
        )
        return "{ " + inner + " }" if inner else "{}"
    out = "{\n"
    for key, prop in fields:
        title = prop.get("title")
        if isinstance(title, str) and title:
            out += f"{indent}// {title}\n"
        description = prop.get("description")
        if isinstance(description, str) and description:
            out += _comment(description, indent)
        examples = prop.get("examples")
        if isinstance(examples, list) and examples:
            out += f"{indent}// Examples:\n"
            out += "".join(f'{indent}// - "{e}"\n' for e in examples if isinstance(e, str))
        line = f"{key}{_optional(key, required)}: {_field(prop, indent, depth, style)},"
        out += f"{indent}{line}{_default(prop)}\n"
    return out + indent + "}"


def _default(prop: Mapping[str, Any]) -> str:
    """A property's default as a trailing comment, as the harmony library's renderer writes it (two
    recordings of a `"fahrenheit"` default agree)."""
    if "default" not in prop:
        return ""
    default = prop["default"]
    return f' // default: "{default}"' if isinstance(default, str) else f" // default: {json.dumps(default)}"


def _definitions(parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    """The named schemas a function's parameters define (pydantic's `$defs`, older `definitions`)."""
    for key in ("$defs", "definitions"):
        defs = parameters.get(key)
        if isinstance(defs, Mapping):
            return defs
    return {}


def _resolved(schema: Mapping[str, Any], style: _Style) -> Mapping[str, Any]:
    """A property's local `$ref` replaced by the definition it names, the property's own keywords kept.

    The definition's `title` and `description` then comment the property like its own. [UNVERIFIED] one
    recorded pydantic model inside another, on gpt-4o and on gpt-5-mini, matches each exactly. A
    property's own `$ref` and an array's `items` are followed (`{ answer: string, label: string }[]`: two
    recorded pydantic-ai tool sets); a `$ref` elsewhere, unknown or past the budget stays, and renders as
    `any`.
    """
    ref = schema.get("$ref")
    if not isinstance(ref, str) or style.refs_left <= 0:
        return schema
    target = (
        style.defs.get(ref.rpartition("/")[2]) if ref.startswith(("#/$defs/", "#/definitions/")) else None
    )
    if not isinstance(target, Mapping):
        return schema
    style.refs_left -= 1
    own = {k: v for k, v in schema.items() if k != "$ref"}
    return {**target, **own}


def _optional(key: str, required: set[Any]) -> str:
    """TypeScript's mark of an optional property."""
    return "" if key in required else "?"


def _field(prop: Mapping[str, Any], indent: str, depth: int, style: _Style) -> str:
    """A property's type, `| null` added for an OpenAPI `nullable`."""
    kind = _type(prop, indent, depth + 1, style)
    if prop.get("nullable") is True and "null" not in kind:
        kind += " | null"
    return kind


def _type(schema: Mapping[str, Any], indent: str, depth: int, style: _Style) -> str:
    """A schema as a TypeScript type, after the public renderer of the harmony format: enums become
    literal unions (integer enums too, as pamelafox measured), `anyOf` is `any`, a list of types is joined
    without recursion; nested properties are not indented (pamelafox's two measured nested objects with
    comments). A top-level `title` is a `// title` comment before the `{` ([UNVERIFIED]: fitted
    on recorded requests, as above)."""
    if depth > MAX_DEPTH:
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        names = ["number" if k == "integer" else k for k in kind if isinstance(k, str)]
        if names:
            return " | ".join(names)
    if kind == "object":
        title = schema.get("title")
        head = f"// {title}\n" if depth == 0 and isinstance(title, str) and title else ""
        return head + _properties(schema, indent, depth, style)
    enum = schema.get("enum")
    enum = enum if isinstance(enum, list) else []
    if kind == "string":
        values = [v for v in enum if isinstance(v, str)]
        return " | ".join(json.dumps(v) for v in values) if values else "string"
    if kind in ("number", "integer"):
        numbers = [v for v in enum if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return " | ".join(json.dumps(v) for v in numbers) if numbers else "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return "Array<any>"
        return f"{_type(_resolved(items, style), indent, depth + 1, style)}[]"
    return "any"


TOOLS_HEADER = "# Tools\n\n## functions\n\n"
"""What precedes the namespace in the system message that carries it."""

HARMONY_FRAMING = 85
"""The harmony format's developer message around the tools section, beyond the section's own tokens."""


def count(
    encoding: str,
    functions: Sequence[Mapping[str, Any]],
    *,
    system: str | None,
    harmony: bool,
    forced: str | None = None,
    declined: bool = False,
    leading_system: bool = False,
    response_format: Mapping[str, Any] | None = None,
    o_series: bool = False,
    functions_era: bool = False,
) -> int:
    """Tokens the definitions add to a prompt (0 without any).

    Outside the harmony format the definitions are a `# Tools` section of the system message: appended
    after a blank line to the request's first system or developer message (`system`, its text), or a
    system message of their own without one. They are tokenized with that text, so what they cost
    depends on how the message ends. A `json_schema` response format then follows as a `# Response
    Formats` section (`_format_section`). One token fewer than that text on every model (fitted on recorded
    traffic); 1 more with `tool_choice: "none"` (`declined`, measured by hmarr/openai-chat-tokens, issue
    #9); when `tool_choice` names a function (`forced`), its name and 7 more (thirteen recordings of gpt-4o
    and gpt-4o-mini, one of gpt-3.5-turbo-0125, pamelafox's three measurements), 4 more on the 2023
    snapshots (`functions_era`: hmarr's figure for gpt-3.5-turbo-0613 and gpt-4-0613; one recording of
    gpt-4).
    The gpt-5 family (harmony) reads the same section in a developer message of its own:
    the section, a `json_schema` format's section tokenized apart (five recordings of gpt-5-mini), and 85
    tokens of framing (`HARMONY_FRAMING`); `tool_choice` costs nothing there. A conversation that opens
    with a system or developer message (`leading_system`) gives that message's text as the developer
    message's instructions: the section follows it after a blank line, tokenized with it, one token fewer
    (its own message's framing goes). [UNVERIFIED] a function with neither a description nor parameters
    costs one token fewer there (eight recordings of gpt-5-mini, each with one such function alone).
    The o-series (`o_series`) writes the section as gpt-4o models do, without their spared token
    ([UNVERIFIED] one recording of o3-mini: 47 tokens for a 43-token section in a message of its own).
    """
    if not functions:
        return 0
    formats = (
        _format_section(response_format)
        if response_format is not None and response_format.get("type") == "json_schema"
        else None
    )
    section = TOOLS_HEADER + render(functions)
    if harmony and not o_series:
        joined = leading_system and system is not None
        text = _joined(encoding, system, section) if joined else tokens.count(encoding, section)
        if formats is not None:
            text += tokens.count(encoding, formats)
        bare = sum(1 for fn in functions if not fn.get("description") and not _properties_of(fn))
        return text + HARMONY_FRAMING - (1 if joined else 0) - bare
    if formats is not None:
        section += "\n\n" + formats
    text = 4 + tokens.count(encoding, section) if system is None else _joined(encoding, system, section)
    text -= 0 if o_series else 1
    if declined:
        text += 1
    if forced not in (None, "*"):
        text += (4 if functions_era else 7) + tokens.count(encoding, forced)
    return text


def _joined(encoding: str, system: str | None, section: str) -> int:
    """What a section costs appended after a blank line to a message's text: tokenized with it, so the
    blank line may merge with how the text ends."""
    return tokens.count(encoding, f"{system}\n\n{section}") - tokens.count(encoding, system or "")


def _format_section(response_format: Mapping[str, Any]) -> str:
    """A `json_schema` response format as the system message writes it, beside tools or alone: its name,
    its description as a comment, and its schema as compact JSON without `additionalProperties`,
    `required` and `default` ([UNVERIFIED]: the text that matches the recorded requests with tools and a
    schema, and eight of the eleven without tools).
    """
    spec = response_format.get("json_schema")
    spec = spec if isinstance(spec, Mapping) else {}
    description = spec.get("description")
    comment = f"// {description}\n" if isinstance(description, str) and description else ""
    schema = spec.get("schema")
    lean = _without(
        schema if isinstance(schema, Mapping) else {}, ("additionalProperties", "required", "default"), 0
    )
    return f"# Response Formats\n\n## {spec.get('name') or ''}\n\n{comment}" + json.dumps(
        lean, separators=(",", ":")
    )


def _properties_of(function: Mapping[str, Any]) -> Mapping[str, Any]:
    """A function's top-level parameter schemas (empty when it takes none)."""
    params = function.get("parameters")
    props = params.get("properties") if isinstance(params, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def history_delta(encoding: str, messages: list[Any], *, harmony: bool) -> int:
    """What tool-call history costs beyond the cookbook's count of its messages (derived from live traffic).

    The prompt renders each call as a message of its own and each result under the called function's name,
    not under the `tool` role with its `tool_call_id`; `history_cost` says how. Outside the harmony format,
    several calls in one assistant message and their results are one round of their own (`parallel_cost`).
    Other messages, empty assistant messages included, cost what the cookbook says.
    """
    delta = 0
    names: dict[str, str] = {}
    answers = {
        m["tool_call_id"]: content_text(m.get("content"))
        for m in messages
        if isinstance(m, Mapping) and m.get("role") == "tool" and isinstance(m.get("tool_call_id"), str)
    }
    grouped: set[str] = set()
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        calls = _calls(message)
        if calls:
            ids = [c.get("id") for c in message.get("tool_calls") or [] if isinstance(c, Mapping)]
            names.update((i, n) for i, (n, _) in zip(ids, calls, strict=False) if isinstance(i, str))
            if len(calls) > 1 and not harmony:
                grouped.update(i for i in ids if isinstance(i, str))
                results = [answers[i] for i in ids if isinstance(i, str) and i in answers]
                delta += parallel_cost(encoding, message, calls, results)
            else:
                delta += history_cost(encoding, message, names, harmony=harmony)
        elif message.get("role") not in ("tool", "function"):
            continue
        elif message.get("tool_call_id") not in grouped:
            delta += history_cost(encoding, message, names, harmony=harmony)
        delta -= tokens.count_chat_prompt(encoding, [message]) - 3
    return delta


def history_cost(
    encoding: str, message: Mapping[str, Any], names: Mapping[str, str], *, harmony: bool
) -> int:
    """Tokens of one assistant message with tool calls, or of one tool result, as the prompt renders it.

    A call is `<|im_start|>assistant to=functions.NAME<|im_sep|>ARGS<|im_end|>` with its arguments
    re-serialised as compact JSON (`{"a": 1}` costs what `{"a":1}` does); a result is
    `<|im_start|>NAME to=assistant<|im_sep|>CONTENT<|im_end|>`, its content as given. In the harmony format
    a call and its result cost 19 tokens of framing together, plus the name twice, the compact arguments
    and the content.
    [UNVERIFIED] which side of a call carries which part of the framing: recordings give only the sum of a
    call and its result (13 tokens, 19 in the harmony format); an assistant's text beside its calls is
    written as a message of its own.
    """
    calls = _calls(message)
    if not calls:
        call_id = message.get("tool_call_id")
        name = names.get(call_id, "") if isinstance(call_id, str) else str(message.get("name") or "")
        content = content_text(message.get("content"))
        if harmony:
            return 8 + _qualified(encoding, name) + tokens.count(encoding, content)
        return 3 + tokens.count(encoding, f"{name} to=assistant") + tokens.count(encoding, content)
    own = _own_text(encoding, message)
    for name, arguments in calls:
        compact = _compact(arguments)
        head = (
            (9 if compact in ("", "{}") else 11) + _qualified(encoding, name)
            if harmony
            else 3 + tokens.count(encoding, f"assistant to=functions.{name}")
        )
        own += head + tokens.count(encoding, compact)
    return own


PARALLEL_FRAMING = 20
"""`<|im_start|>assistant to=multi_tool_use.parallel<|im_sep|>` ... `<|im_end|>` and
`<|im_start|>multi_tool_use.parallel to=assistant<|im_sep|>` ... `<|im_end|>`: 10 tokens each."""


def parallel_cost(
    encoding: str, message: Mapping[str, Any], calls: Sequence[tuple[str, str]], results: Sequence[str]
) -> int:
    """Tokens of several calls in one assistant message together with their results, outside harmony.

    The calls are one `multi_tool_use.parallel` call whose compact JSON lists them
    (`{"tool_uses":[{"recipient_name":"functions.NAME","parameters":{...}}]}`), and the results one answer
    from it: a JSON list of the results in the calls' order, each parsed when it is JSON, written with
    Python's default separators and ASCII escapes (`["Mexico", 4, "72\\u00b0F"]`). Derived from six
    recorded requests (gpt-4o, gpt-4o-mini, gpt-4.1), each exact with 20 tokens of framing.
    [UNVERIFIED] the order when results come back in another order than the calls; non-ASCII arguments.
    """
    uses = [{"recipient_name": f"functions.{n}", "parameters": _parsed(a)} for n, a in calls]
    try:
        written = json.dumps({"tool_uses": uses}, separators=(",", ":"), ensure_ascii=False)
        answer = json.dumps([_parsed(r) if r else r for r in results])
    except RecursionError:  # JSON nested past what Python re-serialises: counted as sent
        written, answer = "".join(a for _, a in calls), "".join(results)
    return (
        _own_text(encoding, message)
        + PARALLEL_FRAMING
        + tokens.count(encoding, written)
        + tokens.count(encoding, answer)
    )


def _own_text(encoding: str, message: Mapping[str, Any]) -> int:
    """An assistant's text beside its calls (a message of its own), and its `name`, written after the role
    of the call as of any message (`assistant:NAME to=...`: one recorded dd-trace-py request, 7 tokens)."""
    text, name = message.get("content"), message.get("name")
    named = tokens.count_name(encoding, name) if isinstance(name, str) and name else 0
    return named + (
        tokens.count_chat_prompt(encoding, [{"role": "assistant", "content": text}]) - 3 if text else 0
    )


def _calls(message: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An assistant message's calls as (name, arguments) pairs, the legacy `function_call` included."""
    if message.get("role") != "assistant":
        return []
    listed = message.get("tool_calls")
    found = [c.get("function") for c in listed if isinstance(c, Mapping)] if isinstance(listed, list) else []
    legacy = message.get("function_call")
    found += [legacy] if isinstance(legacy, Mapping) else []
    return [
        (str(fn.get("name") or ""), str(fn.get("arguments") or "")) for fn in found if isinstance(fn, Mapping)
    ]


def _qualified(encoding: str, name: str) -> int:
    """Tokens of a function's name after `functions` (`functions.get` merges the dot into the name)."""
    return tokens.count(encoding, f"functions.{name}") - 1


def _parsed(arguments: str) -> Any:
    """A call's arguments as JSON, or the string itself when it is not JSON."""
    try:
        return json.loads(arguments) if arguments else {}
    except (ValueError, RecursionError):
        return arguments


def _compact(arguments: str) -> str:
    """A call's arguments as the prompt writes them: compact JSON, or the string as given if not JSON."""
    parsed = _parsed(arguments)
    if isinstance(parsed, str) and parsed == arguments:
        return arguments
    try:
        return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        return arguments


def response_format_count(
    encoding: str,
    response_format: Mapping[str, Any],
    *,
    system: str | None,
    harmony: bool = False,
    beside_tools: bool = False,
) -> int:
    """Tokens a `json_schema` response format adds (0 for the others); 0 too when it is `beside_tools`,
    where `count` writes it with them.

    Alone it is the same `# Response Formats` section (`_format_section`): appended after a blank line to
    the first system or developer message's text (`system`) and tokenized with it, or a system message of
    its own (4 tokens more; not in the harmony format: one recording of gpt-5-mini), and 4 tokens of
    framing. Fitted on eleven recordings of gpt-4o and gpt-4o-mini: eight match; two schemas with a short
    top-level description and the one with a `$ref` come out one token over.
    """
    if response_format.get("type") != "json_schema" or beside_tools:
        return 0
    section = _format_section(response_format)
    if system is not None:
        return _joined(encoding, system, section) + 4
    return tokens.count(encoding, section) + (4 if harmony else 8)


def _without(schema: Any, keywords: tuple[str, ...], depth: int) -> Any:
    """A schema without the given keywords (a property of the same name stays)."""
    if depth > MAX_DEPTH or not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in keywords:
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, Mapping):
            out[key] = {k: _without(v, keywords, depth + 1) for k, v in value.items()}
        elif isinstance(value, Mapping):
            out[key] = _without(value, keywords, depth + 1)
        elif isinstance(value, list):
            out[key] = [_without(v, keywords, depth + 1) for v in value]
        else:
            out[key] = value
    return out

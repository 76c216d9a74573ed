"""How a chat request's tool definitions enter the prompt, and what they cost in tokens.

The API writes function definitions into the prompt as a TypeScript-like namespace (`namespace functions {
... }`, one `type name = (_: {...}) => any;` per function, descriptions as `//` comments). The constants
around it were derived from recorded live traffic (shared/reference/real-traffic): they depend on the
model family (cl100k models, o200k models, and harmony-format models: the gpt-5 family and the o-series).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mockai.models import tokens

MAX_DEPTH = 16
"""Nesting past this renders as `any`: a schema's depth is the client's, the rendering's budget is ours."""


def render(functions: Iterable[Mapping[str, Any]]) -> str:
    """The namespace text the definitions become.

    A function without properties is `() => any`; its description is one `//` comment, written as given
    (a multi-line description keeps its raw newlines: recorded counts match that, not `//` on every line).
    """
    parts = []
    for fn in functions:
        lines = []
        description = fn.get("description")
        if isinstance(description, str) and description:
            lines.append(f"// {description}")
        params = fn.get("parameters")
        name = fn.get("name")
        props = params.get("properties") if isinstance(params, Mapping) else None
        if isinstance(params, Mapping) and isinstance(props, Mapping) and props:
            lines.append(f"type {name} = (_: {_type(params, '', 0)}) => any;\n")
        else:
            lines.append(f"type {name} = () => any;\n")
        parts.append("\n".join(lines))
    return "namespace functions {\n\n" + "\n".join(parts) + "\n} // namespace functions"


def _properties(schema: Mapping[str, Any], indent: str, depth: int) -> str:
    """One line per property, after its comments: `// Title:` (pydantic's `title`), then `// description`
    and `// Examples:`. [UNVERIFIED] the title line's exact text: fitted on the recorded counts of two
    requests (a `// Title` line with a colon is the rendering that matches both); `default` is not written
    (a recorded `default: false` costs nothing), unlike in the harmony library's renderer.
    """
    required = schema.get("required")
    required = set(required) if isinstance(required, list) else set()
    props = schema.get("properties")
    out = ""
    for key, prop in (props if isinstance(props, Mapping) else {}).items():
        prop = prop if isinstance(prop, Mapping) else {}
        title = prop.get("title")
        if isinstance(title, str) and title:
            out += f"{indent}// {title}:\n"
        description = prop.get("description")
        if isinstance(description, str):
            out += f"{indent}// {description}\n"
        examples = prop.get("examples")
        if isinstance(examples, list) and examples:
            out += f"{indent}// Examples:\n"
            out += "".join(f'{indent}// - "{e}"\n' for e in examples if isinstance(e, str))
        optional = "" if key in required else "?"
        kind = _type(prop, indent + "    ", depth + 1)
        if prop.get("nullable") is True and "null" not in kind:
            kind += " | null"
        out += f"{indent}{key}{optional}: {kind},\n"
    return out


def _type(schema: Mapping[str, Any], indent: str, depth: int) -> str:
    """A schema as a TypeScript type, following the public renderer of the harmony format: only string enums
    become literal unions, `anyOf` is `any`, a list of types is joined without recursion, nested properties
    indent by four spaces. A top-level `title` is a `// title` comment before the `{` ([UNVERIFIED]: fitted
    on two recorded requests, as above)."""
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
        return head + "{\n" + _properties(schema, indent, depth) + indent + "}"
    if kind == "string":
        enum = schema.get("enum")
        values = [v for v in enum if isinstance(v, str)] if isinstance(enum, list) else []
        return " | ".join(json.dumps(v) for v in values) if values else "string"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        items = schema.get("items")
        return f"{_type(items, indent, depth + 1)}[]" if isinstance(items, Mapping) else "Array<any>"
    return "any"


def count(
    encoding: str,
    functions: Sequence[Mapping[str, Any]],
    *,
    system: str | None,
    harmony: bool,
    forced_name: bool,
    model_id: str = "",
) -> int:
    """Tokens the definitions add to a prompt (0 without any).

    cl100k models: the namespace plus 9, 4 fewer when a system message takes the definitions in.
    o200k models: plus 8 (7 on the gpt-4.1 family: [UNVERIFIED], both recorded gpt-4.1 requests with tools
    are one lower than gpt-4o's rule), 3 fewer with a system or developer message. `system` is the role of the
    request's first system or developer message, None without one. Harmony models (gpt-5 family,
    o-series): plus 90 for the developer message that holds them, 1 fewer when `tool_choice` names a
    function.
    """
    if not functions:
        return 0
    text = tokens.count(encoding, render(functions))
    if harmony:
        return text + 90 - (1 if forced_name else 0)
    if encoding == "cl100k_base":
        return text + 9 - (4 if system else 0)
    framing = 7 if model_id.startswith("gpt-4.1") else 8
    return text + framing - (3 if system else 0)


def history_delta(encoding: str, messages: list[Any], *, harmony: bool) -> int:
    """What tool-call history costs beyond the cookbook's count of its strings (derived from live traffic).

    An assistant message with neither content nor tool calls is not in the prompt ([UNVERIFIED]: one
    recording, an empty one before an assistant's tool call). A `tool` message's `tool_call_id` is not in
    the prompt, and its text content enters JSON-quoted; each call in an assistant's `tool_calls` adds 5
    tokens of framing (9 in the harmony format). Outside the harmony format, several calls in one message
    are written as one `multi_tool_use.parallel` call whose JSON lists them
    (`{"tool_uses": [{"recipient_name": "functions.NAME", "parameters": {...}}]}`).
    """
    delta = 0
    per_call = 9 if harmony else 5
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        if message.get("role") == "assistant" and not any(
            message.get(key) for key in ("content", "tool_calls", "function_call")
        ):
            delta -= 3 + tokens.count(encoding, "assistant")  # what the cookbook counted for it
        if message.get("role") == "tool":
            call_id, content = message.get("tool_call_id"), message.get("content")
            if isinstance(call_id, str):
                delta -= tokens.count(encoding, call_id)
            if isinstance(content, str):
                delta += tokens.count(encoding, json.dumps(content)) - tokens.count(encoding, content)
        calls = message.get("tool_calls")
        if isinstance(calls, list) and len(calls) > 1 and not harmony:
            delta += _parallel(encoding, calls)
        elif isinstance(calls, list):
            delta += per_call * len(calls)
    return delta


def _parallel(encoding: str, calls: list[Any]) -> int:
    """Several calls as one `multi_tool_use.parallel` call, less what the cookbook counted for them."""
    uses, counted = [], 0
    for call in calls:
        fn = call.get("function") if isinstance(call, Mapping) else None
        fn = fn if isinstance(fn, Mapping) else {}
        name, arguments = str(fn.get("name") or ""), str(fn.get("arguments") or "")
        counted += tokens.count(encoding, name) + tokens.count(encoding, arguments)
        try:
            parameters = json.loads(arguments) if arguments else {}
        except ValueError:
            parameters = arguments
        uses.append({"recipient_name": f"functions.{name}", "parameters": parameters})
    return tokens.count(encoding, json.dumps({"tool_uses": uses})) - 2 - counted


def response_format_count(encoding: str, response_format: Mapping[str, Any], *, system: str | None) -> int:
    """Tokens a `json_schema` response format adds (0 for the others), derived from recorded traffic.

    The schema enters as compact JSON without its `title` keywords, after its name and 15 tokens of
    framing; 4 fewer when a system or developer message takes it in. [UNVERIFIED] the format's own
    `description` is not counted: no recording carries one.
    """
    if response_format.get("type") != "json_schema":
        return 0
    spec = response_format.get("json_schema")
    spec = spec if isinstance(spec, Mapping) else {}
    schema = spec.get("schema")
    text = json.dumps(_untitled(schema if isinstance(schema, Mapping) else {}, 0), separators=(",", ":"))
    name = str(spec.get("name") or "")
    return tokens.count(encoding, text) + tokens.count(encoding, name) + 15 - (4 if system else 0)


def _untitled(schema: Any, depth: int) -> Any:
    """A schema without its `title` keywords (a property called "title" stays)."""
    if depth > MAX_DEPTH or not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title":
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, Mapping):
            out[key] = {k: _untitled(v, depth + 1) for k, v in value.items()}
        elif isinstance(value, Mapping):
            out[key] = _untitled(value, depth + 1)
        elif isinstance(value, list):
            out[key] = [_untitled(v, depth + 1) for v in value]
        else:
            out[key] = value
    return out

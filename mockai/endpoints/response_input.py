"""The input side of a Responses request: its items (messages, function calls and their outputs,
reasoning items) checked and given ids, read as the chat messages they stand for, and its tools and
`text.format` checked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mockai import errors
from mockai.call import Ctx, content_text
from mockai.endpoints.validate import P, check_value, function_name, invalid_enum
from mockai.generation import generator
from mockai.models import catalogue

BUILT_IN_TOOLS = (
    "function", "file_search", "computer_use_preview", "computer", "web_search", "web_search_2025_08_26",
    "web_search_preview", "web_search_preview_2025_03_11", "mcp", "code_interpreter", "image_generation",
    "local_shell", "shell", "custom", "apply_patch",
)  # fmt: skip
ITEM_TYPES = (
    "message", "function_call", "function_call_output", "reasoning", "item_reference", "file_search_call",
    "web_search_call", "computer_call", "computer_call_output", "image_generation_call",
    "code_interpreter_call", "local_shell_call", "local_shell_call_output", "shell_call",
    "shell_call_output", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "mcp_call",
    "custom_tool_call", "custom_tool_call_output", "apply_patch_call", "apply_patch_call_output",
)  # fmt: skip
PART_TYPES = ("input_text", "input_image", "input_file", "input_audio", "output_text", "refusal")
INPUT_ROLES = ("user", "assistant", "system", "developer")


def input_items(value: Any, ctx: Ctx) -> Iterator[dict[str, Any]]:
    """The request's input as items with ids, as `GET /v1/responses/{id}/input_items` lists them."""
    if value is None:
        return
    if isinstance(value, str):
        if len(value) > errors.MAX_STRING:
            raise errors.string_too_long("input", len(value))  # [UNVERIFIED] the param of a string input
        value = [{"role": "user", "content": value}]
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            check_value(where, item, P("object"))
        kind = item.get("type", "message" if "role" in item else None)
        if kind is None:
            raise errors.missing_parameter(f"{where}.type")
        if kind not in ITEM_TYPES:
            raise invalid_enum(f"{where}.type", kind, ITEM_TYPES)
        item_id = item.get("id") or generator.hex_id(ctx.digest, f"in{i}", 48)
        if kind == "message":
            yield message_item(item, where, item_id)
        elif kind == "function_call":
            for key in ("call_id", "name", "arguments"):
                if not isinstance(item.get(key), str):
                    raise errors.missing_parameter(f"{where}.{key}")
            yield {"status": "completed", **item, "id": item.get("id") or "fc_" + item_id}
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str):
                raise errors.missing_parameter(f"{where}.call_id")
            if not isinstance(item.get("output"), (str, list)):
                raise errors.missing_parameter(f"{where}.output")
            yield {"status": "completed", **item, "id": item.get("id") or "fco_" + item_id}
        else:
            yield {**item, "type": kind}


def message_item(item: dict[str, Any], where: str, item_id: str) -> dict[str, Any]:
    role = item.get("role")
    if role is None:
        raise errors.missing_parameter(f"{where}.role")
    if role not in INPUT_ROLES:
        raise invalid_enum(f"{where}.role", role, INPUT_ROLES)
    content = item.get("content")
    if content is None:
        raise errors.missing_parameter(f"{where}.content")
    if not isinstance(content, (str, list)):
        raise errors.OpenAIError(
            400,
            f"Invalid type for '{where}.content': expected one of a string or an array of objects, but got "
            f"{errors.describe_type(content)} instead.",
            param=f"{where}.content",
            code="invalid_type",
        )
    text_type = "output_text" if role == "assistant" else "input_text"
    if isinstance(content, str) and len(content) > errors.MAX_STRING:
        # [UNVERIFIED] the param of a string content; parts are named as users pasted them, below.
        raise errors.string_too_long(f"{where}.content", len(content))
    if isinstance(content, str):
        content = [{"type": text_type, "text": content}]
    for k, part in enumerate(content):
        if not isinstance(part, dict):
            check_value(f"{where}.content[{k}]", part, P("object"))
        if part.get("type") not in PART_TYPES:
            raise invalid_enum(f"{where}.content[{k}].type", part.get("type"), PART_TYPES)
        if part["type"] in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise errors.missing_parameter(f"{where}.content[{k}].text")
        if part["type"] in ("input_text", "output_text") and len(part["text"]) > errors.MAX_STRING:
            raise errors.string_too_long(f"{where}.content[{k}].text", len(part["text"]))
    parts = [
        {"annotations": [], "logprobs": [], **part}
        if isinstance(part, dict) and part.get("type") == "output_text"
        else part
        for part in content
    ]
    return {
        "id": item.get("id") or "msg_" + item_id,
        "type": "message",
        "role": role,
        "content": parts,
        "status": item.get("status", "completed"),
    }


def as_messages(
    items: list[dict[str, Any]] | tuple[dict[str, Any], ...], instructions: Any
) -> list[dict[str, Any]]:
    """Input items as the chat messages they stand for: what chat's token rules count."""
    out: list[dict[str, Any]] = []
    if isinstance(instructions, str) and instructions:
        out.append({"role": "developer", "content": instructions})
    elif isinstance(instructions, list):
        out.extend(as_messages(instructions, None))
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            out.append({"role": item.get("role", "user"), "content": content_text(item.get("content"))})
        elif kind == "function_call":
            fn = {"name": item.get("name", ""), "arguments": item.get("arguments", "")}
            out.append({"role": "assistant", "tool_calls": [{"function": fn}]})
        elif kind == "function_call_output":
            output = item.get("output")
            out.append({"role": "tool", "content": content_text(output)})
    return out


def tools(
    body: Mapping[str, Any], resolved: catalogue.Resolved
) -> tuple[list[dict[str, Any]], str | None, str, tuple[str, ...]]:
    """The request's functions, the forced one (`*`: any), the tool mode ("none", "auto", "forced") and
    the functions `tool_choice.allowed_tools` lets the model call (empty: all of them)."""
    tools = body.get("tools") or []
    defs: list[dict[str, Any]] = []
    hosted: list[str] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            check_value(where, tool, P("object"))
        kind = tool.get("type")
        if kind is None:
            raise errors.missing_parameter(f"{where}.type")
        if kind not in BUILT_IN_TOOLS:
            raise invalid_enum(f"{where}.type", kind, BUILT_IN_TOOLS)
        if kind == "function":
            defs.append(_function(tool, where))
            continue
        hosted.append(kind)
        if kind.startswith("web_search") and resolved.model.id.startswith("gpt-4.1-nano"):
            # [UNVERIFIED] wording: gpt-4.1-nano has no web search.
            raise errors.OpenAIError(
                400,
                f"Hosted tool '{kind}' is not supported with {resolved.name}.",
                param="tools",
                code=None,
            )
        if kind == "file_search" and not isinstance(tool.get("vector_store_ids"), list):
            raise errors.missing_parameter(f"{where}.vector_store_ids")
        if kind == "code_interpreter" and tool.get("container") is None:
            raise errors.missing_parameter(f"{where}.container")
    choice = body.get("tool_choice")
    names = [d["name"] for d in defs]
    mode, forced = ("auto" if defs else "none"), None
    if isinstance(choice, str):
        allowed = ("none", "auto", "required")
        if choice not in allowed:
            raise invalid_enum("tool_choice", choice, allowed)
        mode = {"none": "none", "auto": "auto" if defs else "none", "required": "forced"}[choice]
        forced = "*" if choice == "required" and defs else None
        if choice == "required" and not defs:
            mode = "none"
    elif isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            name = choice.get("name")
            if name not in names:
                # [UNVERIFIED] wording.
                raise errors.invalid_value(
                    "tool_choice",
                    f"Tool choice 'function' with name '{name}' not found in 'tools' parameter.",
                )
            mode, forced = "forced", name
        elif kind == "allowed_tools":
            permitted = _allowed_tools(choice, names)
            if not permitted and choice["tools"]:
                mode = "none"  # only hosted tools allowed: mockai answers with text
            elif choice.get("mode") == "required" and defs:
                mode, forced = "forced", "*"
            return defs, forced, mode, permitted
        elif kind not in hosted:
            # [UNVERIFIED] wording.
            raise errors.invalid_value("tool_choice", f"Tool choice '{kind}' not found in 'tools' parameter.")
        else:
            mode = "none"  # a forced hosted tool: mockai answers with text
    return defs, forced, mode, ()


def _allowed_tools(choice: Mapping[str, Any], names: list[str]) -> tuple[str, ...]:
    """`tool_choice: {"type": "allowed_tools", "mode": ..., "tools": [...]}`: every tool stays in the
    prompt, calls keep to the listed functions (hosted tools may be listed too). Chat's twin is nested
    under `allowed_tools` and names functions as `{"type": "function", "function": {"name": ...}}`."""
    if choice.get("mode") not in ("auto", "required"):
        raise invalid_enum("tool_choice.mode", choice.get("mode"), ("auto", "required"))
    listed = choice.get("tools")
    if not isinstance(listed, list):
        raise errors.missing_parameter("tool_choice.tools")
    allowed: list[str] = []
    for i, tool in enumerate(listed):
        if not isinstance(tool, dict):
            check_value(f"tool_choice.tools[{i}]", tool, P("object"))
        if tool.get("type") != "function":
            continue
        name = tool.get("name")
        if name not in names:
            # [UNVERIFIED] wording, after the named tool choice's.
            raise errors.invalid_value(
                f"tool_choice.tools[{i}]",
                f"Tool choice 'function' with name '{name}' not found in 'tools' parameter.",
            )
        allowed.append(name)
    return tuple(allowed)


def _function(tool: dict[str, Any], where: str) -> dict[str, Any]:
    name = function_name(tool.get("name"), where)
    params = tool.get("parameters")
    if params is not None and not isinstance(params, dict):
        check_value(f"{where}.parameters", params, P("object"))
    return {"name": name, "description": tool.get("description") or "", "parameters": params}


def text_format(value: Any, items: list[dict[str, Any]], instructions: Any) -> dict[str, Any]:
    """`text.format` as chat's `response_format` (the shape chat.default_output reads)."""
    fmt = value.get("format") if isinstance(value, dict) else None
    if isinstance(value, dict) and value.get("verbosity") is not None:
        check_value("text.verbosity", value["verbosity"], P("string", enum=("low", "medium", "high")))
    if fmt is None:
        return {"type": "text"}
    if not isinstance(fmt, dict):
        check_value("text.format", fmt, P("object"))
    kind = fmt.get("type")
    if kind is None:
        raise errors.missing_parameter("text.format.type")
    if kind not in ("text", "json_object", "json_schema"):
        raise invalid_enum("text.format.type", kind, ("text", "json_object", "json_schema"))
    if kind == "json_object":
        said = " ".join(m.get("content", "") or "" for m in as_messages(items, instructions))
        if "json" not in said.lower():
            # [UNVERIFIED] wording, after chat's.
            raise errors.OpenAIError(
                400,
                "Response input messages must contain the word 'json' in some form to use 'text.format' of "
                "type 'json_object'.",
                param="input",
            )
        return {"type": "json_object"}
    if kind == "json_schema":
        if not isinstance(fmt.get("name"), str):
            raise errors.missing_parameter("text.format.name")
        if not isinstance(fmt.get("schema"), dict):
            raise errors.missing_parameter("text.format.schema")
        if fmt.get("description") is not None:
            check_value("text.format.description", fmt["description"], P("string"))
        if fmt.get("strict") is not None:
            check_value("text.format.strict", fmt["strict"], P("boolean"))
        return {"type": "json_schema", "json_schema": {"name": fmt["name"], "schema": fmt["schema"]}}
    return {"type": "text"}

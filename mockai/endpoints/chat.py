"""POST /v1/chat/completions: checks, exact prompt tokens, choices, and the JSON and SSE bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx, content_text, last_user_text
from mockai.endpoints import chat_audio, chat_rules, chat_shape
from mockai.endpoints.chat_shape import ChatShape
from mockai.endpoints.contract import Body, Endpoint, Stream
from mockai.endpoints.validate import (
    P,
    Param,
    check_logit_bias,
    check_params,
    check_value,
    function_name,
    invalid_enum,
    string_list,
)
from mockai.generation import fakejson, generator, shaping
from mockai.models import catalogue, image_tokens, tokens, tool_prompt
from mockai.reply import Reply, ToolCall
from mockai.wire import JSON, json_bytes

ROLES = ("system", "assistant", "user", "function", "tool", "developer")

PARAMS: dict[str, Param] = {
    "model": P("string", required=True),
    "messages": P("array", required=True, min_items=1),
    "audio": P("object"),
    "frequency_penalty": P("number", min=-2, max=2),
    "function_call": P("string", "object"),
    "functions": P("array", min_items=1, max_items=128),
    "logit_bias": P("object"),
    "logprobs": P("boolean"),
    "max_completion_tokens": P("integer", min=1),
    "max_tokens": P("integer", min=1),
    "metadata": P("object"),
    "modalities": P("array"),
    "moderation": P("any"),
    "n": P("integer", min=1, max=128),
    "parallel_tool_calls": P("boolean"),
    "prediction": P("object"),
    "presence_penalty": P("number", min=-2, max=2),
    "prompt_cache_key": P("string"),
    "prompt_cache_options": P("object"),
    "prompt_cache_retention": P("string"),
    "reasoning_effort": P("string", enum=("none", "minimal", "low", "medium", "high", "xhigh")),
    "response_format": P("object"),
    "safety_identifier": P("string"),
    "seed": P("integer"),
    "service_tier": P("string", enum=("auto", "default", "flex", "scale", "priority")),
    "stop": P("string", "array"),
    "store": P("boolean"),
    "stream": P("boolean"),
    "stream_options": P("object"),
    "temperature": P("number", min=0, max=2),
    "tool_choice": P("string", "object"),
    "tools": P("array", max_items=128),
    "top_logprobs": P("integer", min=0, max=20),
    "top_p": P("number", min=0, max=1),
    "user": P("string"),
    "verbosity": P("string", enum=("low", "medium", "high")),
    "web_search_options": P("object"),
}


@dataclass(frozen=True)
class ChatPlan:
    """A checked chat request: everything rendering needs, computed once."""

    call: Call
    resolved: catalogue.Resolved
    messages: list[dict[str, Any]]
    prompt_tokens: int
    n: int
    max_tokens: int | None
    stop: list[str]
    logprobs: bool
    top_logprobs: int
    stream: bool
    include_usage: bool
    functions: list[dict[str, Any]] = field(default_factory=list)
    legacy_functions: bool = False
    forced: str | None = None
    """Name of a function the request forces, or "*" for `required`."""
    tool_mode: str = "none"
    """"none", "auto" or "forced"."""
    allowed: tuple[str, ...] = ()
    """The functions `tool_choice.allowed_tools` lets the model call (empty: all of them)."""
    response_format: dict[str, Any] = field(default_factory=dict)
    custom: frozenset[str] = frozenset()
    """Names of `type: "custom"` tools: their calls carry free-text `input`, not JSON `arguments`."""
    audio: chat_audio.AudioOut | None = None
    """The spoken answer asked with `modalities: ["text", "audio"]`: its text becomes the transcript."""
    prompt_audio_tokens: int = 0
    """Of prompt_tokens, those of the `input_audio` parts."""

    @property
    def encoding(self) -> str:
        return self.resolved.model.encoding

    @property
    def cost(self) -> int:
        return self.prompt_tokens + (self.max_tokens or 0)


def prepare(body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]) -> ChatPlan:
    """Check a chat request as the real API does and count its prompt tokens."""
    check_params(body, PARAMS)
    messages = body["messages"]
    _check_messages(messages)
    chat_rules.check_tool_order(messages)
    resolved = catalogue.resolve(body["model"], "chat", ctx.as_of, ctx.path)
    chat_rules.check_model_params(body, resolved.model)
    audio = chat_audio.check(body, resolved.model)
    check_logit_bias(body.get("logit_bias"), tokens.get_encoding(resolved.model.encoding).eot_token)
    stop = string_list("stop", body.get("stop"), max_items=4)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    max_param = "max_completion_tokens" if body.get("max_completion_tokens") else "max_tokens"
    if max_tokens is not None and resolved.model.max_output and max_tokens > resolved.model.max_output:
        raise errors.invalid_value(
            max_param,
            f"max_tokens is too large: {max_tokens}. This model supports at most {resolved.model.max_output} "
            f"completion tokens, whereas you provided {max_tokens}.",
        )
    top = body.get("top_logprobs")
    if top is not None and not body.get("logprobs"):
        # [UNVERIFIED] exact wording.
        raise errors.invalid_value(
            "top_logprobs",
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
        )
    stream = bool(body.get("stream"))
    options = body.get("stream_options")
    if options is not None and not stream:
        raise errors.invalid_value(
            "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        )
    include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
    functions, legacy, forced, mode, allowed = _tools(body)
    response_format = _response_format(body.get("response_format"), messages)
    model = resolved.model
    prompt = tokens.count_chat_prompt(
        model.encoding, _counted(messages, model), legacy_0301=resolved.legacy_0301
    )
    if model.harmony or "search" in model.traits:
        prompt -= 1  # the harmony format primes the reply with one token fewer than the cookbook's 3
    if "no_system" in model.traits:
        prompt += 8  # [UNVERIFIED] o1-mini counted 8 more than its harmony peers (one recording)
    prompt += tool_prompt.history_delta(model.encoding, messages, harmony=model.harmony)
    prompt += image_tokens.prompt_tokens(model.id, messages)
    heard = chat_audio.input_audio_tokens(messages) if "audio" in model.traits else 0
    prompt += heard
    system = next(
        (m for m in messages if isinstance(m, dict) and m.get("role") in ("system", "developer")), None
    )
    system_text = None if system is None else content_text(system.get("content"))
    prompt += tool_prompt.response_format_count(
        model.encoding,
        response_format,
        system=system_text,
        harmony=model.harmony,
        beside_tools=bool(functions),
    )
    fn_tokens = tool_prompt.count(
        model.encoding,
        functions,
        system=system_text,
        harmony=model.harmony,
        forced=forced,
        declined=mode == "none",
        leading_system=bool(messages) and system is messages[0],
        response_format=response_format,
        o_series="o_series" in model.traits,
        functions_era="functions_era" in model.traits,
    )
    _check_context(resolved.model.context, prompt, fn_tokens, max_tokens)
    call = Call(
        endpoint="chat",
        model=body["model"],
        body=body,
        text=last_user_text(messages),
        messages=tuple(m for m in messages if isinstance(m, dict)),
        api_key=api_key,
        headers=headers,
    )
    return ChatPlan(
        call=call,
        resolved=resolved,
        messages=messages,
        prompt_tokens=prompt + fn_tokens,
        n=body.get("n") or 1,
        max_tokens=max_tokens,
        stop=stop,
        logprobs=bool(body.get("logprobs")),
        top_logprobs=top or 0,
        stream=stream,
        include_usage=include_usage,
        functions=functions,
        legacy_functions=legacy,
        forced=forced,
        tool_mode=mode,
        allowed=allowed,
        custom=frozenset(
            t["custom"]["name"]
            for t in body.get("tools") or []
            if isinstance(t, dict) and t.get("type") == "custom"
        ),
        response_format=response_format,
        audio=audio,
        prompt_audio_tokens=heard,
    )


def _check_messages(messages: list[Any]) -> None:
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise errors.OpenAIError(
                400,
                f"Invalid type for '{where}': expected an object, but got {errors.describe_type(message)} "
                "instead.",
                param=where,
                code="invalid_type",
            )
        role = message.get("role")
        if role is None:
            raise errors.missing_parameter(f"{where}.role")
        if not isinstance(role, str) or role not in ROLES:
            raise invalid_enum(f"{where}.role", role, ROLES)
        content = message.get("content")
        if content is None and role in ("system", "developer", "user", "tool") and "content" not in message:
            raise errors.missing_parameter(f"{where}.content")
        if content is not None and not isinstance(content, (str, list)):
            raise errors.OpenAIError(
                400,
                f"Invalid type for '{where}.content': expected one of a string or an array of objects, but "
                f"got {errors.describe_type(content)} instead.",
                param=f"{where}.content",
                code="invalid_type",
            )
        if content is None and role in ("system", "developer", "user", "tool"):
            raise errors.OpenAIError(
                400,
                f"Invalid type for '{where}.content': expected one of a string or an array of objects, but "
                "got null instead.",
                param=f"{where}.content",
                code="invalid_type",
            )
        if isinstance(content, str) and len(content) > errors.MAX_STRING:
            raise errors.string_too_long(f"{where}.content", len(content))
        if isinstance(content, list):
            for k, part in enumerate(content):
                text = part.get("text") if isinstance(part, dict) else None
                if isinstance(text, str) and len(text) > errors.MAX_STRING:
                    # [UNVERIFIED] the param of a part; the Responses API names input[N].content[K].text.
                    raise errors.string_too_long(f"{where}.content[{k}].text", len(text))
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise errors.missing_parameter(f"{where}.tool_call_id")
        if role == "function" and not isinstance(message.get("name"), str):
            raise errors.missing_parameter(f"{where}.name")
        if "name" in message and message["name"] is not None and not isinstance(message["name"], str):
            check_value(f"{where}.name", message["name"], P("string"))


def _counted(messages: list[Any], model: catalogue.Model) -> list[Any]:
    """The messages the prompt count covers: a search preview does not count its system or developer
    messages. [UNVERIFIED] one recording: 11 tokens for a system and a user message, the user message
    alone by the cookbook's formula less the one priming token the harmony format also saves."""
    if "search" not in model.traits:
        return messages
    return [m for m in messages if not (isinstance(m, dict) and m.get("role") in ("system", "developer"))]


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], bool, str | None, str, tuple[str, ...]]:
    tools, functions = body.get("tools"), body.get("functions")
    choice, fcall = body.get("tool_choice"), body.get("function_call")
    if choice is not None and not tools:
        raise errors.invalid_value(
            "tool_choice",
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        )
    if fcall is not None and not functions:
        raise errors.invalid_value(
            "function_call",
            "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are "
            "specified.",
        )
    defs: list[dict[str, Any]] = []
    legacy = False
    for i, tool in enumerate(tools or []):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            check_value(where, tool, P("object"))
        if tool.get("type", "function") not in ("function", "custom"):
            raise invalid_enum(f"{where}.type", tool.get("type"), ("function", "custom"))
        fn = tool.get("function") if tool.get("type", "function") == "function" else tool.get("custom")
        if not isinstance(fn, dict):
            raise errors.missing_parameter(f"{where}.function")
        defs.append(_function(fn, f"{where}.function"))
    if functions:
        legacy = True
        for i, fn in enumerate(functions):
            if not isinstance(fn, dict):
                check_value(f"functions[{i}]", fn, P("object"))
            defs.append(_function(fn, f"functions[{i}]"))
    names = [d["name"] for d in defs]
    forced: str | None = None
    mode = "auto" if defs else "none"
    selector = choice if tools else fcall
    if isinstance(selector, str):
        allowed = ("none", "auto", "required") if tools else ("none", "auto")
        param = "tool_choice" if tools else "function_call"
        if selector not in allowed:
            raise invalid_enum(param, selector, allowed)
        mode = {"none": "none", "auto": "auto", "required": "forced"}[selector]
        forced = "*" if selector == "required" else None
    elif isinstance(selector, dict) and tools and selector.get("type") == "allowed_tools":
        return (defs, legacy, *_allowed_tools(selector.get("allowed_tools"), names))
    elif isinstance(selector, dict):
        kind = "custom" if selector.get("type") == "custom" else "function"
        picked = selector.get(kind) if tools else selector
        if picked is not None and not isinstance(picked, dict):
            check_value(f"tool_choice.{kind}", picked, P("object"))
        name = (picked or {}).get("name")
        param = "tool_choice" if tools else "function_call"
        if name not in names:
            raise errors.invalid_value(
                param,
                f"Invalid value for '{param}': no function named '{name}' was specified in the "
                f"'{'tools' if tools else 'functions'}' parameter.",
            )
        mode, forced = "forced", name
    return defs, legacy, forced, mode, ()


def _allowed_tools(spec: Any, names: list[str]) -> tuple[str | None, str, tuple[str, ...]]:
    """`tool_choice: {"type": "allowed_tools", ...}`: every tool stays in the prompt, calls keep to the listed
    ones; `mode` is `auto` or `required`. Returns (forced, mode, allowed names)."""
    if not isinstance(spec, dict):
        raise errors.missing_parameter("tool_choice.allowed_tools")
    mode = spec.get("mode")
    if mode not in ("auto", "required"):
        raise invalid_enum("tool_choice.allowed_tools.mode", mode, ("auto", "required"))
    listed = spec.get("tools")
    if not isinstance(listed, list):
        raise errors.missing_parameter("tool_choice.allowed_tools.tools")
    allowed: list[str] = []
    for i, tool in enumerate(listed):
        kind = tool.get("type", "function") if isinstance(tool, dict) else "function"
        if kind not in ("function", "custom"):
            raise invalid_enum(f"tool_choice.allowed_tools.tools[{i}].type", kind, ("function", "custom"))
        picked = tool.get(kind) if isinstance(tool, dict) else None
        name = picked.get("name") if isinstance(picked, dict) else None
        if name not in names:
            # [UNVERIFIED] wording, after the named tool_choice's.
            raise errors.invalid_value(
                f"tool_choice.allowed_tools.tools[{i}]",
                f"Invalid value for 'tool_choice': no function named '{name}' was specified in the 'tools' "
                "parameter.",
            )
        allowed.append(name)
    return ("*", "forced", tuple(allowed)) if mode == "required" else (None, "auto", tuple(allowed))


def _function(fn: dict[str, Any], where: str) -> dict[str, Any]:
    name = function_name(fn.get("name"), where)
    if "parameters" in fn and fn["parameters"] is not None and not isinstance(fn["parameters"], dict):
        check_value(f"{where}.parameters", fn["parameters"], P("object"))
    fakejson.check(
        fn.get("parameters"),
        f"function '{name}'",
        f"{where}.parameters",
        strict=fn.get("strict") is True,
        code="invalid_function_parameters",
    )
    return fn


def _response_format(value: Any, messages: list[Any]) -> dict[str, Any]:
    if value is None:
        return {}
    kind = value.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        if kind is None:
            raise errors.missing_parameter("response_format.type")
        raise invalid_enum("response_format.type", kind, ("text", "json_object", "json_schema"))
    if kind == "json_object":
        said_json = any(
            "json" in content_text(m.get("content")).lower() for m in messages if isinstance(m, dict)
        )
        if not said_json:
            raise errors.OpenAIError(
                400,
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                "'json_object'.",
                param="messages",
            )
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict):
            raise errors.missing_parameter("response_format.json_schema")
        if not isinstance(spec.get("name"), str):
            raise errors.missing_parameter("response_format.json_schema.name")
        if spec.get("schema") is not None:
            check_value("response_format.json_schema.schema", spec["schema"], P("object"))
        fakejson.check(
            spec.get("schema"),
            f"response_format '{spec['name']}'",
            "response_format",
            spec.get("strict") is True,
        )
    checked: dict[str, Any] = value
    return checked


def _check_context(context: int, prompt: int, fn_tokens: int, max_tokens: int | None) -> None:
    total = prompt + fn_tokens + (max_tokens or 0)
    if not context or total <= context:
        return
    head = f"This model's maximum context length is {context} tokens. However, "
    if max_tokens is None and not fn_tokens:
        text = f"your messages resulted in {prompt} tokens. Please reduce the length of the messages."
    elif max_tokens is None:
        text = (
            f"your messages resulted in {prompt + fn_tokens} tokens ({prompt} in the messages, {fn_tokens} "
            "in the "
            "functions). Please reduce the length of the messages or functions."
        )
    elif not fn_tokens:
        text = (
            f"you requested {total} tokens ({prompt} in the messages, {max_tokens} in the completion). "
            "Please reduce the length of the messages or completion."
        )
    else:
        text = (
            f"you requested {total} tokens ({prompt} in the messages, {fn_tokens} in the functions, and "
            f"{max_tokens} "
            "in the completion). Please reduce the length of the messages, functions, or completion."
        )
    raise errors.OpenAIError(400, head + text, param="messages", code="context_length_exceeded")


# ----------------------------------------------------------------------------------------------------
# Choices: what the "model" answers for each of the n choices.


@dataclass(frozen=True)
class Choice:
    index: int
    text: str | None
    ids: tuple[int, ...]
    tool_calls: tuple[ToolCall, ...]
    function_call: ToolCall | None
    refusal: str | None
    finish_reason: str
    completion_tokens: int
    audio_tokens: int = 0
    """Of completion_tokens, those of the spoken answer (0 unless audio output was asked)."""

    def spoken(self, plan: ChatPlan) -> bool:
        """The text is said, not written: it goes out as `audio.transcript`, with `content` null."""
        return plan.audio is not None and self.text is not None


def choices(plan: ChatPlan, reply: Reply, ctx: Ctx) -> list[Choice]:
    return [_choice(plan, reply, ctx, i) for i in range(plan.n)]


def _choice(plan: ChatPlan, reply: Reply, ctx: Ctx, index: int) -> Choice:
    d = generator.derive(ctx.digest, f"choice{index}")
    text, calls, fcall, refusal = reply.text, reply.tool_calls or (), reply.function_call, reply.refusal
    if not reply.scripted_output:
        text, calls, fcall = _default_output(plan, d)
    calls = tuple(
        ToolCall(c.name, c.arguments, c.id or generator.make_id("call_", d, 24, f"call{k}"))
        for k, c in enumerate(calls)
    )
    if plan.legacy_functions and calls and fcall is None:
        fcall, calls = calls[0], ()
    finish = "stop"
    ids: tuple[int, ...] = ()
    if text is not None:
        shaped = shaping.shape(text, plan.encoding, plan.max_tokens, plan.stop)
        text, ids, finish = shaped.text, shaped.ids, shaped.finish_reason
    if calls:
        finish = "stop" if plan.forced not in (None, "*") else "tool_calls"
    elif fcall is not None:
        finish = "stop" if plan.forced not in (None, "*") else "function_call"
    if reply.finish_reason:
        finish = reply.finish_reason
    used = len(ids)
    for c in (*calls, *([fcall] if fcall else [])):
        used += tokens.count(plan.encoding, c.name) + tokens.count(plan.encoding, c.arguments) + 3
    if refusal:
        used += tokens.count(plan.encoding, refusal)
    spoken = chat_audio.audio_tokens(text) if plan.audio is not None and text is not None else 0
    return Choice(index, text, ids, calls, fcall, refusal, finish, used + spoken, spoken)


def _default_output(plan: ChatPlan, d: bytes) -> tuple[str | None, tuple[ToolCall, ...], ToolCall | None]:
    last_role = plan.messages[-1].get("role") if plan.messages else None
    text, calls = default_output(
        plan.functions,
        plan.tool_mode,
        plan.forced,
        last_role == "user",
        plan.response_format,
        d,
        plan.custom,
        plan.allowed,
    )
    return text, calls, None


def default_output(
    functions: list[dict[str, Any]],
    tool_mode: str,
    forced: str | None,
    user_spoke_last: bool,
    response_format: Mapping[str, Any],
    d: bytes,
    custom: frozenset[str] = frozenset(),
    allowed: tuple[str, ...] = (),
) -> tuple[str | None, tuple[ToolCall, ...]]:
    """No script: call a tool when one is forced, or offered and the user just spoke; else write text
    (JSON valid against the schema when one is asked for). Calls keep to the `allowed` functions
    (`tool_choice.allowed_tools`; empty: all of them). Chat and Responses share it."""
    functions = [f for f in functions if not allowed or f["name"] in allowed]
    if functions and (tool_mode == "forced" or (tool_mode == "auto" and user_spoke_last)):
        if forced not in (None, "*"):
            fn = next(f for f in functions if f["name"] == forced)
        else:
            fn = functions[generator.number(d, "tool", len(functions))]
        params = (
            fn.get("parameters")
            if isinstance(fn.get("parameters"), dict)
            else {"type": "object", "properties": {}}
        )
        if fn["name"] in custom:  # a custom tool's call carries free text, not JSON arguments
            return None, (ToolCall(fn["name"], generator.text(d)),)
        args = json.dumps(fakejson.instance(params, d.hex()), ensure_ascii=False)
        return None, (ToolCall(fn["name"], args),)
    fmt = response_format.get("type")
    if fmt == "json_schema":
        schema = response_format["json_schema"].get("schema") or {"type": "object"}
        return json.dumps(fakejson.instance(schema, d.hex()), ensure_ascii=False), ()
    if fmt == "json_object":
        return json.dumps({"answer": generator.text(d)}), ()
    return generator.text(d), ()


def usage(
    plan: ChatPlan, picked: list[Choice], override: Mapping[str, int] | None, shape: ChatShape
) -> dict[str, Any]:
    completion = sum(c.completion_tokens for c in picked)
    out: dict[str, Any] = {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": plan.prompt_tokens + completion,
    }
    if shape.usage_details == 1:
        out["prompt_tokens_details"] = {"cached_tokens": 0}
        out["completion_tokens_details"] = {"reasoning_tokens": 0}
    elif shape.usage_details == 2:
        out["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": plan.prompt_audio_tokens}
        if shape.cache_write:
            out["prompt_tokens_details"]["cache_write_tokens"] = 0
        spoken = sum(c.audio_tokens for c in picked)
        out["completion_tokens_details"] = {
            "reasoning_tokens": 0,
            "audio_tokens": spoken,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
        if "audio" in plan.resolved.model.traits:
            # The audio models also split each side into text (and image) tokens, as recorded in 2026.
            out["prompt_tokens_details"].update(
                text_tokens=plan.prompt_tokens - plan.prompt_audio_tokens, image_tokens=0
            )
            out["completion_tokens_details"]["text_tokens"] = completion - spoken
    if override:
        out.update(
            {k: v for k, v in override.items() if k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        )
        if "total_tokens" not in override:
            out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    return out


# ----------------------------------------------------------------------------------------------------
# Rendering.


def _tool_call_json(c: ToolCall, custom: frozenset[str]) -> dict[str, Any]:
    if c.name in custom:
        return {"id": c.id, "type": "custom", "custom": {"name": c.name, "input": c.arguments}}
    return {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}


def _logprobs(plan: ChatPlan, ctx: Ctx, c: Choice) -> dict[str, Any] | None:
    if not plan.logprobs:
        return None
    content = shaping.chat_logprobs(ctx.digest, plan.encoding, f"lp{c.index}", c.ids, plan.top_logprobs)
    return {"content": content, "refusal": None}


def shape_of(plan: ChatPlan, ctx: Ctx) -> ChatShape:
    """The body's keys for this request's model on the simulated date."""
    return chat_shape.shape(
        plan.resolved.model, plan.resolved.name, ctx.as_of, plan.call.body.get("service_tier")
    )


def _tail(shape: ChatShape, usage_json: dict[str, Any] | None) -> dict[str, Any]:
    """`usage`, `service_tier` and `system_fingerprint`, as far as the shape has them."""
    out: dict[str, Any] = {} if usage_json is None else {"usage": usage_json}
    if shape.service_tier is not None:
        out["service_tier"] = shape.service_tier
    if shape.fingerprint is not chat_shape.ABSENT:
        out["system_fingerprint"] = shape.fingerprint
    return out


MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


def _moderation(plan: ChatPlan, ctx: Ctx) -> dict[str, Any] | None:
    """The `moderation` object a request with `moderation: {"model": ...}` gets: results for the input and
    the output, nothing flagged, small scores derived from the request ([UNVERIFIED] its place in the body:
    the one recording was re-serialised with sorted keys)."""
    asked = plan.call.body.get("moderation")
    if not isinstance(asked, dict):
        return None
    model = asked.get("model") if isinstance(asked.get("model"), str) else "omni-moderation-latest"

    def results(side: str) -> dict[str, Any]:
        d = generator.derive(ctx.digest, f"moderation-{side}")
        scores = {c: round(d[i] / 255 * 1e-3, 8) for i, c in enumerate(MODERATION_CATEGORIES)}
        result = {
            "categories": {c: False for c in MODERATION_CATEGORIES},
            "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
            "category_scores": scores,
            "flagged": False,
            "model": model,
            "type": "moderation_result",
        }
        return {"model": model, "results": [result], "type": "moderation_results"}

    return {"input": results("input"), "output": results("output")}


def body(plan: ChatPlan, reply: Reply, ctx: Ctx) -> dict[str, Any]:
    """The non-stream `chat.completion` object."""
    shape = shape_of(plan, ctx)
    picked = choices(plan, reply, ctx)
    out_choices = []
    for c in picked:
        message: dict[str, Any] = {"role": "assistant", "content": None if c.spoken(plan) else c.text}
        if shape.refusal:
            message["refusal"] = c.refusal
        if plan.audio is not None and c.text is not None:
            message["audio"] = chat_audio.message_audio(
                plan.audio, c.text, generator.derive(ctx.digest, f"audio{c.index}"), ctx.created
            )
        if c.tool_calls:
            message["tool_calls"] = [_tool_call_json(t, plan.custom) for t in c.tool_calls]
        if c.function_call:
            message["function_call"] = {"name": c.function_call.name, "arguments": c.function_call.arguments}
        if shape.annotations:
            message["annotations"] = []
        choice: dict[str, Any] = {"index": c.index, "message": message}
        if shape.logprobs_key:
            choice["logprobs"] = _logprobs(plan, ctx, c)
        choice["finish_reason"] = c.finish_reason
        out_choices.append(choice)
    return {
        "id": generator.make_id("chatcmpl-", ctx.digest),
        "object": "chat.completion",
        "created": ctx.created,
        "model": plan.resolved.name,
        "choices": out_choices,
        **({"moderation": moderation} if (moderation := _moderation(plan, ctx)) is not None else {}),
        **_tail(shape, usage(plan, picked, reply.usage, shape)),
    }


def chunks(plan: ChatPlan, reply: Reply, ctx: Ctx) -> Iterator[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a stream, in the real API's order."""
    shape = shape_of(plan, ctx)
    picked = choices(plan, reply, ctx)
    head = {
        "id": generator.make_id("chatcmpl-", ctx.digest),
        "object": "chat.completion.chunk",
        "created": ctx.created,
        "model": plan.resolved.name,
        **_tail(shape, None),
    }
    null_usage = {"usage": None} if plan.include_usage else {}
    options = plan.call.body.get("stream_options") or {}
    sent = 0

    def padded(chunk: dict[str, Any]) -> dict[str, Any]:
        nonlocal sent
        sent += 1
        if shape.obfuscation and options.get("include_obfuscation", True) is not False:
            chunk["obfuscation"] = chat_shape.obfuscation(ctx.digest, sent)
        return chunk

    def chunk(
        index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None
    ) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": index, "delta": delta}
        if shape.logprobs_key:
            choice["logprobs"] = logprobs
        choice["finish_reason"] = finish
        return padded({**head, "choices": [choice], **null_usage})

    per = max(1, reply.stream.chunk_tokens)
    for c in picked:
        first: dict[str, Any] = {
            "role": "assistant",
            "content": "" if c.text is not None and not c.spoken(plan) else None,
        }
        if shape.refusal:
            first["refusal"] = None
        empty_lp: dict[str, Any] | None = {"content": [], "refusal": None} if plan.logprobs else None
        if c.tool_calls or c.function_call:
            first["content"] = None
        if not c.tool_calls and not c.function_call:
            yield chunk(c.index, first, empty_lp)
        if c.text and plan.audio is not None:
            pieces = [piece for piece, _ in shaping.chunks(plan.encoding, c.ids, per)]
            for audio_delta in chat_audio.deltas(
                plan.audio, pieces, c.text, generator.derive(ctx.digest, f"audio{c.index}"), ctx.created
            ):
                yield chunk(c.index, {"audio": audio_delta})
        elif c.text:
            position = 0
            # Once per choice, sliced per chunk: recomputing from the first token for each was quadratic.
            all_lp = (
                shaping.chat_logprobs(ctx.digest, plan.encoding, f"lp{c.index}", c.ids, plan.top_logprobs)
                if plan.logprobs
                else []
            )
            for piece, ids in shaping.chunks(plan.encoding, c.ids, per):
                lp = None
                if plan.logprobs:
                    lp = {"content": all_lp[position : position + len(ids)], "refusal": None}
                position += len(ids)
                yield chunk(c.index, {"content": piece}, lp)
        if c.refusal:
            yield chunk(c.index, {"refusal": c.refusal})
        for k, call in enumerate(c.tool_calls):
            # [UNVERIFIED] a custom call streams as `custom.input` pieces, the way functions stream arguments.
            kind, field_name = ("custom", "input") if call.name in plan.custom else ("function", "arguments")
            opening = {"index": k, "id": call.id, "type": kind, kind: {"name": call.name, field_name: ""}}
            delta = {**first, "tool_calls": [opening]} if k == 0 else {"tool_calls": [opening]}
            yield chunk(c.index, delta)
            for piece, _ in shaping.chunks(
                plan.encoding, tuple(tokens.encode(plan.encoding, call.arguments)), per
            ):
                yield chunk(c.index, {"tool_calls": [{"index": k, kind: {field_name: piece}}]})
        if c.function_call:
            yield chunk(c.index, {**first, "function_call": {"name": c.function_call.name, "arguments": ""}})
            for piece, _ in shaping.chunks(
                plan.encoding, tuple(tokens.encode(plan.encoding, c.function_call.arguments)), per
            ):
                yield chunk(c.index, {"function_call": {"arguments": piece}})
        yield chunk(c.index, {}, None, c.finish_reason)
    if plan.include_usage:
        yield padded({**head, "choices": [], "usage": usage(plan, picked, reply.usage, shape)})


@dataclass(frozen=True)
class StoredCompletion:
    """A chat completion made with `store: true`: what `GET /v1/chat/completions[/{id}[/messages]]`
    read."""

    body: dict[str, Any]
    requested: str
    """The model id the client asked for (the list's `model` filter matches it or the snapshot)."""
    messages: tuple[dict[str, Any], ...]
    """The request's messages with ids, as `/messages` lists them."""

    @property
    def size(self) -> int:
        return len(json_bytes(self.body)) + len(json_bytes(list(self.messages)))

    def with_metadata(self, metadata: Mapping[str, Any]) -> StoredCompletion:
        return StoredCompletion({**self.body, "metadata": dict(metadata)}, self.requested, self.messages)


def keep(plan: ChatPlan, ctx: Ctx, completion: dict[str, Any]) -> None:
    """Store a completion made with `store: true` (the stream's too: its chunks rebuild this body)."""
    if not plan.call.body.get("store"):
        return
    messages = tuple(
        {
            "id": f"{completion['id']}-{i}",
            "role": m.get("role"),
            "content": content_text(m.get("content")) if m.get("content") is not None else None,
            "name": m.get("name"),
            "content_parts": m.get("content") if isinstance(m.get("content"), list) else None,
        }
        for i, m in enumerate(plan.messages)
    )
    stored = StoredCompletion(
        {**completion, "metadata": plan.call.body.get("metadata") or {}}, plan.call.model, messages
    )
    ctx.store.put("chat", completion["id"], stored, stored.size)


def render(plan: ChatPlan, reply: Reply, ctx: Ctx) -> Body | Stream:
    """The whole JSON body, or the stream's chunks when `stream` is set."""
    if plan.call.body.get("store"):
        keep(plan, ctx, body(plan, reply, ctx))
    if plan.stream:
        return Stream(chunks(plan, reply, ctx))
    return Body(JSON, json_bytes(body(plan, reply, ctx)))


ENDPOINT = Endpoint("chat", prepare, render)

"""POST /v1/responses: the Responses API. Input items, tools, text formats, reasoning, stored
conversations (`previous_response_id`), and the JSON body or the typed SSE event stream.

Tokens are counted by chat's rules (the input items read as the chat messages they stand for), and the
default output is chat's (mockai.endpoints.chat.default_output), so both APIs answer a request alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx, last_user_text
from mockai.endpoints import response_input
from mockai.endpoints.chat import default_output
from mockai.endpoints.contract import Body, Endpoint, Stream
from mockai.endpoints.validate import P, Param, check_params, check_value, invalid_enum
from mockai.generation import generator, shaping
from mockai.models import catalogue, tokens, tool_prompt
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

PARAMS: dict[str, Param] = {
    "model": P("string", required=True),
    "input": P("string", "array"),
    "background": P("boolean"),
    "context_management": P("array"),
    "conversation": P("string", "object"),
    "include": P("array"),
    "instructions": P("string", "array"),
    "max_output_tokens": P("integer", min=16),
    "max_tool_calls": P("integer", min=1),
    "metadata": P("object"),
    "parallel_tool_calls": P("boolean"),
    "previous_response_id": P("string"),
    "prompt": P("object"),
    "prompt_cache_key": P("string"),
    "prompt_cache_retention": P("string"),
    "reasoning": P("object"),
    "safety_identifier": P("string"),
    "service_tier": P("string", enum=("auto", "default", "flex", "scale", "priority")),
    "store": P("boolean"),
    "stream": P("boolean"),
    "stream_options": P("object"),
    "temperature": P("number", min=0, max=2),
    "text": P("object"),
    "tool_choice": P("string", "object"),
    "tools": P("array"),
    "top_logprobs": P("integer", min=0, max=20),
    "top_p": P("number", min=0, max=1),
    "truncation": P("string", enum=("auto", "disabled")),
    "user": P("string"),
}
INCLUDABLE = (
    "code_interpreter_call.outputs", "computer_call_output.output.image_url", "file_search_call.results",
    "message.input_image.image_url", "message.output_text.logprobs", "reasoning.encrypted_content",
    "web_search_call.action.sources", "web_search_call.results",
)  # fmt: skip
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
SUMMARIES = ("auto", "concise", "detailed")
REASONING_MODEL = re.compile(r"^(o\d|gpt-5(?!-chat))")
"""Reasoning models: the o-series and gpt-5 (not gpt-5-chat): they take `reasoning`, refuse `temperature`."""
REASONING_BUDGET = {"none": 0, "minimal": 0, "low": 64, "medium": 192, "high": 448, "xhigh": 896}
"""Base reasoning tokens per effort; each response uses 1x-4x of it, derived from the request."""
STREAM_FAILED = "The server had an error while processing your request. Sorry about that!"


@dataclass(frozen=True)
class Conversation:
    """What a stored response leaves for `previous_response_id`: every item so far, in order."""

    items: tuple[dict[str, Any], ...]
    """Input items (with ids) and output items of the whole chain."""


@dataclass(frozen=True)
class StoredResponse:
    body: dict[str, Any]
    input_items: tuple[dict[str, Any], ...]
    """This request's input items, with their ids, oldest first."""
    conversation: Conversation


@dataclass(frozen=True)
class ResponsesPlan:
    """A checked Responses request: everything rendering needs, computed once."""

    call: Call
    resolved: catalogue.Resolved
    input_items: tuple[dict[str, Any], ...]
    history: tuple[dict[str, Any], ...]
    input_tokens: int
    functions: list[dict[str, Any]]
    forced: str | None
    tool_mode: str
    text_format: dict[str, Any]
    reasoning: bool
    effort: str | None
    summary: str | None
    max_output_tokens: int | None
    stream: bool
    store: bool
    user_spoke_last: bool
    echo: dict[str, Any] = field(default_factory=dict)
    """The request's settings as the response object repeats them."""
    allowed: tuple[str, ...] = ()
    """The functions `tool_choice.allowed_tools` lets the model call (empty: all of them)."""

    @property
    def encoding(self) -> str:
        return self.resolved.model.encoding

    @property
    def cost(self) -> int:
        return self.input_tokens + (self.max_output_tokens or 0)


# ----------------------------------------------------------------------------------------------------
# Checking a request.


def prepare(body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]) -> ResponsesPlan:
    """Check a Responses request as the real API does, resolve the conversation and count its input."""
    for name in body:
        if name not in PARAMS:
            raise errors.OpenAIError(
                400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter"
            )
    check_params(body, PARAMS)
    resolved = resolve_model(body["model"], ctx)
    reasoning_model = bool(REASONING_MODEL.match(resolved.model.id))
    effort, summary = _reasoning(body.get("reasoning"), reasoning_model)
    if reasoning_model and body.get("temperature") is not None and body.get("temperature") != 1:
        raise _unsupported("temperature")
    if reasoning_model and body.get("top_p") is not None and body.get("top_p") != 1:
        raise _unsupported("top_p")
    for i, name in enumerate(body.get("include") or []):
        if name not in INCLUDABLE:
            raise invalid_enum(f"include[{i}]", name, INCLUDABLE)
    if body.get("stream_options") is not None and not body.get("stream"):
        # [UNVERIFIED] wording, taken from chat's.
        raise errors.invalid_value(
            "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        )
    store = body.get("store") is not False
    if body.get("background") and not store:
        # [UNVERIFIED] wording.
        raise errors.invalid_value(
            "background", "Background mode requires 'store' to be true: set 'store' to true or leave it out."
        )
    if body.get("previous_response_id") is not None and body.get("conversation") is not None:
        # [UNVERIFIED] wording.
        raise errors.invalid_value(
            "previous_response_id",
            "Cannot use 'previous_response_id' together with 'conversation': pass one of them.",
        )
    history = _history(body.get("previous_response_id"), ctx)
    items = tuple(response_input.input_items(body.get("input"), ctx))
    if not items and not history and body.get("prompt") is None:
        raise errors.missing_parameter("input")
    functions, forced, mode, allowed = response_input.tools(body, resolved)
    text_format = response_input.text_format(body.get("text"), [*history, *items], body.get("instructions"))
    instructions = body.get("instructions")
    system = instructions if isinstance(instructions, str) and instructions else None
    # Counted as chat counts them (mockai.models.tool_prompt); `instructions` are the system message.
    # [UNVERIFIED] no recorded Responses request: chat's rules, the format section included.
    fn_tokens = tool_prompt.count(
        resolved.model.encoding,
        functions,
        system=system,
        harmony=resolved.model.harmony,
        forced=forced,
        declined=mode == "none",
        leading_system=system is not None,
        response_format=text_format,
        o_series="o_series" in resolved.model.traits,
    ) + tool_prompt.response_format_count(
        resolved.model.encoding,
        text_format,
        system=system,
        harmony=resolved.model.harmony,
        beside_tools=bool(functions),
    )
    max_out = body.get("max_output_tokens")
    if max_out is not None and resolved.model.max_output and max_out > resolved.model.max_output:
        # [UNVERIFIED] wording, after chat's.
        raise errors.invalid_value(
            "max_output_tokens",
            f"max_output_tokens is too large: {max_out}. This model supports at most "
            f"{resolved.model.max_output} output tokens, whereas you provided {max_out}.",
        )
    history, input_tokens = _fit(
        resolved, history, items, instructions, fn_tokens, max_out, body.get("truncation") == "auto"
    )
    messages = response_input.as_messages([*history, *items], instructions)
    call = Call(
        endpoint="responses",
        model=body["model"],
        body=body,
        text=last_user_text(messages),
        messages=tuple(messages),
        api_key=api_key,
        headers=headers,
    )
    last = (history + items)[-1] if history or items else {}
    return ResponsesPlan(
        call=call,
        resolved=resolved,
        input_items=items,
        history=history,
        input_tokens=input_tokens,
        functions=functions,
        forced=forced,
        tool_mode=mode,
        allowed=allowed,
        text_format=text_format,
        reasoning=reasoning_model and effort != "none",
        effort=effort,
        summary=summary,
        max_output_tokens=max_out,
        stream=bool(body.get("stream")),
        store=store,
        user_spoke_last=last.get("type") == "message" and last.get("role") == "user",
        echo=_echo(body, effort, summary, text_format),
    )


def resolve_model(model_id: str, ctx: Ctx) -> catalogue.Resolved:
    """Every chat model answers the Responses API on the same dates."""
    model = catalogue.lookup(model_id, ctx.as_of)
    family = "responses" if "responses" in model.endpoints else "chat"
    if family not in model.endpoints:
        # [UNVERIFIED] wording: what the live API says for a model of another family on /v1/responses.
        raise errors.OpenAIError(
            400,
            f"The requested model '{model_id}' is not supported with the Responses API.",
            param="model",
            code="model_not_found",
        )
    return catalogue.resolve(model_id, family, ctx.as_of, ctx.path)


def _unsupported(param: str) -> errors.OpenAIError:
    return errors.OpenAIError(
        400,
        f"Unsupported parameter: '{param}' is not supported with this model.",
        param=param,
        code="unsupported_parameter",
    )


def _reasoning(value: Any, reasoning_model: bool) -> tuple[str | None, str | None]:
    if value is None:
        return ("medium" if reasoning_model else None), None
    effort, summary = value.get("effort"), value.get("summary", value.get("generate_summary"))
    if effort is not None:
        check_value("reasoning.effort", effort, P("string", enum=EFFORTS))
        if not reasoning_model:
            raise _unsupported("reasoning.effort")
    if summary is not None:
        check_value("reasoning.summary", summary, P("string", enum=SUMMARIES))
        if not reasoning_model:
            raise _unsupported("reasoning.summary")
    if not reasoning_model:
        return None, None
    return effort or "medium", summary


def _history(previous: str | None, ctx: Ctx) -> tuple[dict[str, Any], ...]:
    if previous is None:
        return ()
    stored = ctx.store.get("response", previous)
    if not isinstance(stored, StoredResponse):
        raise errors.OpenAIError(
            400,
            f"Previous response with id '{previous}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    return stored.conversation.items


def _fit(
    resolved: catalogue.Resolved,
    history: tuple[dict[str, Any], ...],
    items: tuple[dict[str, Any], ...],
    instructions: Any,
    fn_tokens: int,
    max_out: int | None,
    truncate: bool,
) -> tuple[tuple[dict[str, Any], ...], int]:
    """The input's tokens; with `truncation: auto`, the oldest earlier items go until it fits.

    Chat's count is 3 plus each message's own, so each earlier item is counted once and dropping the
    oldest subtracts its share: no recount per dropped item."""
    encoding, context = resolved.model.encoding, resolved.model.context
    count = tokens.count_chat_prompt(encoding, response_input.as_messages(items, instructions)) + fn_tokens
    shares = [
        tokens.count_chat_prompt(encoding, response_input.as_messages([item], None)) - 3 for item in history
    ]
    count += sum(shares)
    dropped = 0
    while context and count + (max_out or 0) > context and truncate and dropped < len(history):
        count -= shares[dropped]
        dropped += 1
    if not context or count + (max_out or 0) <= context:
        return history[dropped:], count
    # [UNVERIFIED] wording of the Responses API's context overflow.
    raise errors.OpenAIError(
        400,
        "Your input exceeds the context window of this model. Please adjust your input and try again.",
        param="input",
        code="context_length_exceeded",
    )


def _echo(
    body: Mapping[str, Any], effort: str | None, summary: str | None, text_format: Mapping[str, Any]
) -> dict[str, Any]:
    fmt: dict[str, Any] = {"type": text_format["type"]}
    raw = (body.get("text") or {}).get("format") or {}
    if fmt["type"] == "json_schema":
        fmt = {
            "type": "json_schema",
            **({"description": raw["description"]} if raw.get("description") is not None else {}),
            "name": raw["name"],
            "schema": raw["schema"],
            "strict": bool(raw.get("strict", False)),
        }
    tools = []
    for tool in body.get("tools") or []:
        if tool.get("type") == "function":
            tools.append(
                {
                    "type": "function",
                    "description": tool.get("description"),
                    "name": tool["name"],
                    "parameters": tool.get("parameters"),
                    "strict": tool.get("strict", True),
                }
            )
        else:
            tools.append(tool)
    return {
        "background": bool(body.get("background")),
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": effort, "summary": summary},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "store": body.get("store") is not False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt, "verbosity": (body.get("text") or {}).get("verbosity", "medium")},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": tools,
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


# ----------------------------------------------------------------------------------------------------
# The output: what the "model" answers.


@dataclass(frozen=True)
class Output:
    items: list[dict[str, Any]]
    text_ids: tuple[int, ...]
    reasoning_tokens: int
    output_tokens: int
    incomplete: str | None
    """Why the response stopped short (`max_output_tokens`, `content_filter`), or None."""


def output(plan: ResponsesPlan, reply: Reply, ctx: Ctx) -> Output:
    d = generator.derive(ctx.digest, "output")
    text, calls, refusal = reply.text, reply.tool_calls or (), reply.refusal
    if not reply.scripted_output:
        text, calls = default_output(
            plan.functions,
            plan.tool_mode,
            plan.forced,
            plan.user_spoke_last,
            plan.text_format,
            d,
            allowed=plan.allowed,
        )
    items: list[dict[str, Any]] = []
    reasoning = 0
    if plan.reasoning:
        base = REASONING_BUDGET.get(plan.effort or "medium", 192)
        reasoning = base * (1 + generator.number(d, "reasoning", 4))
        if plan.max_output_tokens is not None:
            reasoning = min(reasoning, plan.max_output_tokens)
        item: dict[str, Any] = {
            "id": "rs_" + generator.hex_id(d, "rs", 48),
            "type": "reasoning",
            "summary": [],
        }
        if plan.summary is not None:
            item["summary"] = [{"type": "summary_text", "text": generator.text(d, "summary")}]
        if "reasoning.encrypted_content" in (plan.call.body.get("include") or []):
            item["encrypted_content"] = "gAAAAA" + generator.hex_id(d, "enc", 64)
        items.append(item)
    budget = None if plan.max_output_tokens is None else plan.max_output_tokens - reasoning
    incomplete = None
    if budget is not None and budget <= 0:
        return Output(items, (), reasoning, reasoning, "max_output_tokens")
    used = reasoning
    ids: tuple[int, ...] = ()
    if text is not None or refusal is not None:
        parts: list[dict[str, Any]] = []
        if text is not None:
            shaped = shaping.shape(text, plan.encoding, budget, [])
            ids = shaped.ids
            used += len(ids)
            if shaped.finish_reason == "length":
                incomplete = "max_output_tokens"
            parts.append(
                {
                    "type": "output_text",
                    "annotations": [],
                    "logprobs": _logprobs(plan, ctx, ids),
                    "text": shaped.text,
                }
            )
        if refusal is not None:
            used += tokens.count(plan.encoding, refusal)
            parts.append({"type": "refusal", "refusal": refusal})
        items.append(
            {
                "id": "msg_" + generator.hex_id(d, "msg", 48),
                "type": "message",
                "status": "incomplete" if incomplete else "completed",
                "content": parts,
                "role": "assistant",
            }
        )
    for k, c in enumerate(calls):
        call_id = c.id or generator.make_id("call_", d, 24, f"call{k}")
        items.append(
            {
                "id": "fc_" + generator.hex_id(d, f"fc{k}", 48),
                "type": "function_call",
                "status": "completed",
                "arguments": c.arguments,
                "call_id": call_id,
                "name": c.name,
            }
        )
        used += tokens.count(plan.encoding, c.name) + tokens.count(plan.encoding, c.arguments) + 3
    if reply.finish_reason == "length":
        incomplete = "max_output_tokens"
    elif reply.finish_reason == "content_filter":
        incomplete = "content_filter"
    return Output(items, ids, reasoning, used, incomplete)


def _logprobs(plan: ResponsesPlan, ctx: Ctx, ids: tuple[int, ...]) -> list[dict[str, object]]:
    """The text's token logprobs when `include` asks for `message.output_text.logprobs`; else none."""
    if "message.output_text.logprobs" not in (plan.call.body.get("include") or []):
        return []
    return shaping.chat_logprobs(
        ctx.digest, plan.encoding, "lp", ids, plan.call.body.get("top_logprobs") or 0
    )


def _delta_logprob(lp: Mapping[str, Any]) -> dict[str, Any]:
    """A token's logprob as stream events carry it: no bytes."""
    tops = [{"token": t["token"], "logprob": t["logprob"]} for t in lp["top_logprobs"]]
    return {"token": lp["token"], "logprob": lp["logprob"], "top_logprobs": tops}


def usage(plan: ResponsesPlan, out: Output, override: Mapping[str, int] | None) -> dict[str, Any]:
    """Usage by chat's rules; a rule's `usage:` may set input/output tokens under either API's names."""
    given = dict(override or {})
    inp = given.get("input_tokens", given.get("prompt_tokens", plan.input_tokens))
    outp = given.get("output_tokens", given.get("completion_tokens", out.output_tokens))
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": outp,
        "output_tokens_details": {"reasoning_tokens": out.reasoning_tokens},
        "total_tokens": given.get("total_tokens", inp + outp),
    }


def response_id(ctx: Ctx) -> str:
    return "resp_" + generator.hex_id(ctx.digest, "resp", 48)


def response_object(
    plan: ResponsesPlan, ctx: Ctx, status: str, out: Output | None, reply: Reply
) -> dict[str, Any]:
    """The `response` object: in progress (no output yet), or finished with its output and usage."""
    done = out is not None and status != "in_progress"
    body: dict[str, Any] = {
        "id": response_id(ctx),
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "background": plan.echo["background"],
        "billing": {"payer": "developer"},
        "completed_at": ctx.created + 1 if done and status == "completed" else None,
        "error": None,
        "incomplete_details": {"reason": out.incomplete} if done and out and out.incomplete else None,
        "instructions": plan.echo["instructions"],
        "max_output_tokens": plan.echo["max_output_tokens"],
        "max_tool_calls": plan.echo["max_tool_calls"],
        "model": plan.resolved.name,
        "output": out.items if done and out else [],
    }
    for key in ("parallel_tool_calls", "previous_response_id", "prompt_cache_key", "reasoning"):
        body[key] = plan.echo[key]
    body["safety_identifier"] = plan.echo["safety_identifier"]
    for key in (
        "service_tier",
        "store",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
    ):
        body[key] = plan.echo[key]
    body["truncation"] = plan.echo["truncation"]
    if done and out:
        # [UNVERIFIED] the live API's in-progress objects say `"usage": null`; the spec types it an object,
        # so an unfinished response leaves it out.
        body["usage"] = usage(plan, out, reply.usage)
    if plan.echo["user"] is not None:
        # [UNVERIFIED] whether the live API sends `"user": null`; the spec types it a string: left out.
        body["user"] = plan.echo["user"]
    body["metadata"] = plan.echo["metadata"]
    return body


def _keep(plan: ResponsesPlan, ctx: Ctx, final: dict[str, Any]) -> None:
    """Store the finished response (unless `store: false`) for retrieval and `previous_response_id`."""
    if not plan.store:
        return
    conversation = Conversation((*plan.history, *plan.input_items, *final["output"]))
    stored = StoredResponse(final, plan.input_items, conversation)
    size = len(json_bytes(final)) + len(json_bytes(list(conversation.items)))
    ctx.store.put("response", final["id"], stored, size)


def final_status(out: Output) -> str:
    return "incomplete" if out.incomplete else "completed"


def body(plan: ResponsesPlan, reply: Reply, ctx: Ctx) -> dict[str, Any]:
    """The non-stream `response` object (stored when `store` is on)."""
    out = output(plan, reply, ctx)
    final = response_object(plan, ctx, final_status(out), out, reply)
    _keep(plan, ctx, final)
    return final


def events(plan: ResponsesPlan, reply: Reply, ctx: Ctx) -> Iterator[dict[str, Any]]:
    """The typed events of a stream, each with the next `sequence_number`, in the live API's order."""
    out = output(plan, reply, ctx)
    final = response_object(plan, ctx, final_status(out), out, reply)
    _keep(plan, ctx, final)
    seq = 0

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal seq
        made = {"type": kind, **fields, "sequence_number": seq}
        seq += 1
        return made

    start = response_object(plan, ctx, "in_progress", None, reply)
    yield event("response.created", response=start)
    yield event("response.in_progress", response=start)
    per = max(1, reply.stream.chunk_tokens)
    for index, item in enumerate(out.items):
        kind, item_id = item["type"], item["id"]
        if kind == "reasoning":
            yield event("response.output_item.added", output_index=index, item={**item, "summary": []})
            for k, part in enumerate(item["summary"]):
                at = {"item_id": item_id, "output_index": index, "summary_index": k}
                yield event("response.reasoning_summary_part.added", **at, part={**part, "text": ""})
                yield event("response.reasoning_summary_text.delta", **at, delta=part["text"])
                yield event("response.reasoning_summary_text.done", **at, text=part["text"])
                yield event("response.reasoning_summary_part.done", **at, part=part)
        elif kind == "message":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            for k, part in enumerate(item["content"]):
                at = {"item_id": item_id, "output_index": index, "content_index": k}
                if part["type"] == "output_text":
                    yield event("response.content_part.added", **at, part={**part, "text": ""})
                    every = [_delta_logprob(lp) for lp in part["logprobs"]]
                    position = 0
                    for piece, ids in shaping.chunks(plan.encoding, out.text_ids, per):
                        lps = every[position : position + len(ids)]
                        position += len(ids)
                        yield event("response.output_text.delta", **at, delta=piece, logprobs=lps)
                    yield event("response.output_text.done", **at, text=part["text"], logprobs=every)
                else:
                    yield event("response.content_part.added", **at, part={**part, "refusal": ""})
                    yield event("response.refusal.delta", **at, delta=part["refusal"])
                    yield event("response.refusal.done", **at, refusal=part["refusal"])
                yield event("response.content_part.done", **at, part=part)
        elif kind == "function_call":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            ids = tuple(tokens.encode(plan.encoding, item["arguments"]))
            for piece, _ in shaping.chunks(plan.encoding, ids, per):
                yield event(
                    "response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=piece
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item_id,
                name=item["name"],
                output_index=index,
                arguments=item["arguments"],
            )
        yield event("response.output_item.done", output_index=index, item=item)
    yield event(f"response.{final['status']}", response=final)


def stream_error(reply: Reply) -> dict[str, Any]:
    """The `error` event a scripted `error_after` sends, numbered as the event it stands in for."""
    return {
        "type": "error",
        "code": "server_error",
        "message": STREAM_FAILED,
        "param": None,
        "sequence_number": reply.stream.error_after or 0,
    }


def render(plan: ResponsesPlan, reply: Reply, ctx: Ctx) -> Body | Stream:
    """The whole `response` object, or its typed event stream when `stream` is set."""
    if plan.stream:
        return Stream(events(plan, reply, ctx), done=False, error=stream_error(reply), named=True)
    return Body(JSON, json_bytes(body(plan, reply, ctx)))


ENDPOINT = Endpoint("responses", prepare, render)

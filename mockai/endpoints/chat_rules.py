"""The chat checks that depend on the model or on the order of messages, with the live API's texts
(found in errors users pasted in public issues; any not found are marked [UNVERIFIED])."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockai.errors import (
    OpenAIError,
    unsupported_default_only,
    unsupported_parameter,
    unsupported_role,
)
from mockai.models.catalogue import Model

SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1}
"""Reasoning models accept these only at their default: "Unsupported value: ... Only the default (1)"."""
REFUSED_WHILE_REASONING: dict[str, object] = {
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logprobs": False,
    "top_logprobs": None,
}
"""Reasoning models refuse these unless at their default: "Unsupported parameter: ... with this model."
([UNVERIFIED] that a default value is let through, and `top_logprobs`' text)."""


def check_model_params(body: Mapping[str, Any], model: Model) -> None:
    """Refuse what a reasoning model does not take, in the order the parameters are listed here
    ([UNVERIFIED] which one the API names first when several are wrong)."""
    if "no_system" in model.traits:
        for i, message in enumerate(body["messages"]):
            role = message.get("role")
            if role in ("system", "developer"):
                raise unsupported_role(i, role)
    if body.get("web_search_options") is not None and "search" not in model.traits:
        raise web_search_refused(model)
    if not model.reasoning:
        return
    if body.get("max_tokens") is not None:
        raise unsupported_parameter("max_tokens", instead="max_completion_tokens")
    if body.get("reasoning_effort") == "none":
        return  # gpt-5.1 and later sample as a chat model when not reasoning
    for name, default in SAMPLING_DEFAULTS.items():
        value = body.get(name)
        if value is not None and value != default:
            raise unsupported_default_only(name, value, default)
    for name, unset in REFUSED_WHILE_REASONING.items():
        if body.get(name) is not None and body[name] != unset:
            raise unsupported_parameter(name)
    if body.get("logit_bias"):
        raise unsupported_parameter("logit_bias")  # [UNVERIFIED] text


def check_tool_order(messages: list[Any]) -> None:
    """Every `tool` message answers a call of the assistant message before it (directly or after other
    answers), and every call gets its answer before the conversation goes on."""
    calls: set[str] | None = None
    """The call ids of the assistant message the current run of `tool` messages answers."""
    pending: dict[str, None] = {}
    """The calls still unanswered, in order (a dict: answering one is O(1) however many there are)."""
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if calls is None:
                raise OpenAIError(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    param=f"messages.[{i}].role",
                )
            call_id = message.get("tool_call_id")
            if call_id not in calls:
                raise OpenAIError(
                    400,
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in 'tool_calls' of previous "
                    "message.",
                    param=f"messages.[{i}].tool_call_id",  # [UNVERIFIED] param
                )
            pending.pop(call_id, None)
            continue
        _check_answered(pending, i)
        listed = message.get("tool_calls")
        listed = listed if role == "assistant" and isinstance(listed, list) else []
        ids = [c["id"] for c in listed if isinstance(c, Mapping) and isinstance(c.get("id"), str)]
        calls = set(ids) if ids else None
        pending = dict.fromkeys(ids)
    # A conversation that ends on unanswered calls is refused too; [UNVERIFIED] the index named.
    _check_answered(pending, len(messages))


def _check_answered(pending: dict[str, None], index: int) -> None:
    if pending:
        raise OpenAIError(
            400,
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: "
            + ", ".join(pending),  # [UNVERIFIED] separator between several ids
            param=f"messages.[{index}].role",  # [UNVERIFIED] which message the index names
        )


def web_search_refused(model: Model) -> OpenAIError:
    """`web_search_options` outside the search models. Users pasted both texts: reasoning models (o3,
    o4-mini) do not know the parameter, other chat models (gpt-4-turbo) refuse it ([UNVERIFIED] the second
    one's param and code)."""
    if model.reasoning:
        return OpenAIError(
            400,
            "Unknown parameter: 'web_search_options'.",
            param="web_search_options",
            code="unknown_parameter",
        )
    return OpenAIError(400, "Web search options not supported with this model.", param="web_search_options")

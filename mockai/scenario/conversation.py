"""What the conversation itself says, for the stateless multi-turn match keys (`turn`, `last_role`,
`tool_result`, `called`): read from `Call.messages`, so chat and the Responses API match alike and a
rule needs no `state` to tell "call the tool" from "answer from its result"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mockai.call import content_text

Messages = Sequence[Mapping[str, Any]]
ROLES = ("user", "assistant", "tool", "system", "developer")
"""What `last_role` can be; a Responses `function_call_output` and a legacy `function` message are `tool`."""


def turn(messages: Messages) -> int:
    """Assistant turns so far (a tool call is one): 0 on the first call of a conversation."""
    return sum(1 for m in messages if m.get("role") == "assistant")


def last_role(messages: Messages) -> str | None:
    """The last message's role, tool results as `tool`."""
    if not messages:
        return None
    role = messages[-1].get("role")
    return "tool" if role == "function" else role if isinstance(role, str) else None


def tool_result(messages: Messages) -> str | None:
    """The text of the latest tool result, or None when no tool has answered yet."""
    for message in reversed(messages):
        if message.get("role") in ("tool", "function"):
            return content_text(message.get("content"))
    return None


def called(messages: Messages) -> set[str]:
    """Names of the tools the assistant called earlier in the conversation."""
    return set(_calls(messages))


def _calls(messages: Messages) -> Iterator[str]:
    for message in messages:
        if message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            fn = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                yield fn["name"]
        legacy = message.get("function_call")
        if isinstance(legacy, Mapping) and isinstance(legacy.get("name"), str):
            yield legacy["name"]

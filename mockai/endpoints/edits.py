"""POST /v1/edits (retired 2024-01-04): an instruction applied to an input, visibly and deterministically.

The catalogue answers the retired-model 404 from the shutdown date on, and `Invalid URL (POST /v1/edits)`
for a model of another family. The default edit follows the instruction where it can (upper or lower
case, reverse the words, fix spelling) and otherwise appends a sentence; a scripted `Reply.text`
replaces it in every choice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints.contract import Body, Endpoint
from mockai.endpoints.validate import P, Param, check_params
from mockai.generation import generator
from mockai.models import catalogue, tokens
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

PARAMS: dict[str, Param] = {
    "model": P("string", required=True),
    "instruction": P("string", required=True),
    "input": P("string"),
    "n": P("integer", min=1, max=20),
    "temperature": P("number", min=0, max=2),
    "top_p": P("number", min=0, max=1),
}
PROMPT_OVERHEAD = 12
"""Tokens the edit models add around instruction and input. Two figures agree: the API reference's example
("What day of the wek is it?" / "Fix the spelling mistakes" -> 25) and dd-trace-py's recorded edit
("test input 1" / "test instruction 1" -> 18, a response a dd-trace-py test replays)."""
TYPOS = {
    "teh": "the", "wek": "week", "recieve": "receive", "seperate": "separate",
    "definately": "definitely", "occured": "occurred", "untill": "until", "wich": "which",
    "becuase": "because", "adress": "address", "tommorow": "tomorrow", "thier": "their", "alot": "a lot",
    "goverment": "government", "beleive": "believe",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class EditPlan:
    call: Call
    resolved: catalogue.Resolved
    instruction: str
    input: str
    n: int
    prompt_tokens: int

    @property
    def encoding(self) -> str:
        return self.resolved.model.encoding

    @property
    def cost(self) -> int:
        return self.prompt_tokens


def prepare(body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]) -> EditPlan:
    """Check an edit request as the real API did and count its prompt tokens with p50k_edit."""
    check_params(body, PARAMS)
    resolved = catalogue.resolve(body["model"], "edits", ctx.as_of, ctx.path)
    instruction, text = body["instruction"], body.get("input") or ""
    encoding = resolved.model.encoding
    prompt = tokens.count(encoding, instruction) + tokens.count(encoding, text) + PROMPT_OVERHEAD
    context = resolved.model.context
    if context and prompt > context:
        # [UNVERIFIED] wording for edits: the legacy completions text, with the input as the prompt.
        raise errors.OpenAIError(
            400,
            f"This model's maximum context length is {context} tokens, however you requested {prompt} tokens "
            f"({prompt} in your prompt; 0 for the completion). Please reduce your prompt; or completion "
            "length.",
        )
    call = Call("edits", body["model"], body, text=text, api_key=api_key, headers=headers)
    return EditPlan(call, resolved, instruction, text, body.get("n") or 1, prompt)


def apply_instruction(instruction: str, text: str, d: bytes) -> str:
    """The default edit: what the instruction asks for when it is one we know, else an added sentence."""
    asked = instruction.lower()
    if "upper" in asked or "capital" in asked:
        return text.upper()
    if "lower" in asked:
        return text.lower()
    if "reverse" in asked:
        return " ".join(reversed(text.split()))
    if "spell" in asked or "typo" in asked or "grammar" in asked:
        return fix_spelling(text)
    added = generator.text(d).split(". ")[1].rstrip(".") + "."  # the first sentence after the opener
    return f"{text.rstrip()} {added}" if text.strip() else added


def fix_spelling(text: str) -> str:
    """Known misspellings corrected (keeping capitals), and the first letter of the text capitalised."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        right = TYPOS.get(word.lower())
        if right is None:
            return word
        return right.capitalize() if word[0].isupper() else right

    fixed = _WORD.sub(fix, text)
    stripped = fixed.lstrip()
    return fixed[: len(fixed) - len(stripped)] + stripped[:1].upper() + stripped[1:]


def texts(plan: EditPlan, reply: Reply, ctx: Ctx) -> list[str]:
    if reply.text is not None:
        return [reply.text] * plan.n
    return [
        apply_instruction(plan.instruction, plan.input, generator.derive(ctx.digest, f"choice{i}"))
        for i in range(plan.n)
    ]


def body(plan: EditPlan, reply: Reply, ctx: Ctx) -> dict[str, Any]:
    outputs = texts(plan, reply, ctx)
    finish = reply.finish_reason if reply.finish_reason in ("stop", "length") else "stop"
    completion = sum(tokens.count(plan.encoding, t) for t in outputs)
    usage = {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": plan.prompt_tokens + completion,
    }
    if reply.usage:
        usage.update({k: v for k, v in reply.usage.items() if k in usage})
        if "total_tokens" not in reply.usage:
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "object": "edit",
        "created": ctx.created,
        "choices": [{"text": t, "index": i, "finish_reason": finish} for i, t in enumerate(outputs)],
        "usage": usage,
    }


def render(plan: EditPlan, reply: Reply, ctx: Ctx) -> Body:
    return Body(JSON, json_bytes(body(plan, reply, ctx)))


ENDPOINT = Endpoint("edits", prepare, render)

"""POST /v1/moderations: one result per input, deterministic scores, flagged only when a rule says so.

Every category scores low (derived from the request and the input's index) unless a rule's reply says
`flagged: true`, optionally naming `categories` (default: violence); those then score high and are true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints.contract import Body, Endpoint
from mockai.endpoints.validate import P, Param, check_params, check_value, invalid_enum
from mockai.generation import generator
from mockai.models import catalogue, tokens
from mockai.reply import MODERATION_CATEGORIES, Reply
from mockai.wire import JSON, json_bytes

PARAMS: dict[str, Param] = {
    "input": P("string", "array", required=True),
    "model": P("string"),
}
DEFAULT_MODEL = "omni-moderation-latest"
IMAGE_CATEGORIES = frozenset(
    ("self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence", "violence/graphic")
)
"""The categories omni-moderation also scores images for."""
MAX_INPUTS = 2048
"""[UNVERIFIED] the most inputs one request takes (embeddings' limit)."""


@dataclass(frozen=True)
class ModerationPlan:
    call: Call
    resolved: catalogue.Resolved
    inputs: tuple[tuple[str, frozenset[str]], ...]
    """Each input: its text and the input types it holds ("text", "image")."""
    tokens: int

    @property
    def cost(self) -> int:
        return self.tokens


def prepare(
    body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]
) -> ModerationPlan:
    """Check a moderation request as the real API does."""
    check_params(body, PARAMS)
    model = body.get("model") or DEFAULT_MODEL
    resolved = catalogue.resolve(model, "moderations", ctx.as_of, ctx.path)
    omni = resolved.model.id.startswith("omni-")
    raw = body["input"]
    if isinstance(raw, str):
        inputs = [(raw, frozenset({"text"}))]
    elif raw and all(isinstance(x, str) for x in raw):
        if len(raw) > MAX_INPUTS:
            check_value("input", raw, P("array", max_items=MAX_INPUTS))
        inputs = [(x, frozenset({"text"})) for x in raw]
    else:
        if not raw:
            check_value("input", raw, P("array", min_items=1))
        inputs = [_parts(raw, omni)]
    enc = resolved.model.encoding
    call = Call(
        endpoint="moderations",
        model=model,
        body=body,
        text="\n".join(text for text, _ in inputs),
        api_key=api_key,
        headers=headers,
    )
    count = sum(tokens.count(enc, text) for text, _ in inputs)
    return ModerationPlan(call, resolved, tuple(inputs), count)


def _parts(parts: list[Any], omni: bool) -> tuple[str, frozenset[str]]:
    """A multi-modal input (text and image_url parts): one input, one result."""
    texts, kinds = [], set()
    for i, part in enumerate(parts):
        where = f"input[{i}]"
        if not isinstance(part, dict):
            check_value(where, part, P("object"))
        kind = part.get("type")
        if kind not in ("text", "image_url"):
            raise invalid_enum(f"{where}.type", kind, ("text", "image_url"))
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise errors.missing_parameter(f"{where}.text")
            texts.append(part["text"])
            kinds.add("text")
        else:
            if not omni:
                # [UNVERIFIED] wording: text-moderation models take no images.
                raise errors.invalid_value(
                    where, f"Invalid value for '{where}': this model does not support image inputs."
                )
            if not isinstance(part.get("image_url"), dict) or not part["image_url"].get("url"):
                raise errors.missing_parameter(f"{where}.image_url.url")
            kinds.add("image")
    return " ".join(texts), frozenset(kinds)


def result(plan: ModerationPlan, reply: Reply, ctx: Ctx, index: int) -> dict[str, Any]:
    flagged_by_rule = bool(reply.extra.get("flagged"))
    chosen = frozenset(reply.extra.get("categories") or (("violence",) if flagged_by_rule else ()))
    d = generator.derive(ctx.digest, f"input{index}")
    _, kinds = plan.inputs[index]
    categories, scores, applied = {}, {}, {}
    for name in MODERATION_CATEGORIES:
        hit = name in chosen
        low = (1 + generator.number(d, name, 9000)) / 1_000_000  # 1e-6 .. 9e-3
        high = 0.8 + generator.number(d, name, 1900) / 10_000  # 0.8 .. 0.99
        categories[name] = hit
        scores[name] = high if hit else low
        applied[name] = sorted(
            kinds if name in IMAGE_CATEGORIES else kinds & {"text"}, key=("text", "image").index
        )
    return {
        "flagged": bool(chosen),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


def render(plan: ModerationPlan, reply: Reply, ctx: Ctx) -> Body:
    """The moderation object: `modr-` id, the model's snapshot name, one result per input."""
    body = {
        "id": "modr-" + generator.hex_id(ctx.digest, "modr", 32),  # [UNVERIFIED] id length
        "model": plan.resolved.name,
        "results": [result(plan, reply, ctx, i) for i in range(len(plan.inputs))],
    }
    return Body(JSON, json_bytes(body))


ENDPOINT = Endpoint("moderations", prepare, render)

"""POST /v1/embeddings: text or token-id inputs, exact usage, float or base64 vectors, `dimensions`.

Vectors come from `mockai.generation.vectors` (deterministic, unit length, similar for texts that share
words); token-id inputs are decoded first, so langchain's token arrays embed exactly like the text they
encode.
A scripted `Reply.embedding` is returned as given for every input: not padded, truncated or normalised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints.contract import Body, Endpoint
from mockai.endpoints.validate import P, Param, check_params
from mockai.generation import vectors
from mockai.models import catalogue, tokens
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

PARAMS: dict[str, Param] = {
    "model": P("string", required=True),
    "input": P("any", required=True),
    "encoding_format": P("string", enum=("float", "base64")),
    "dimensions": P("integer", min=1),
    "user": P("string"),
}
MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
NEW_LIMIT_TEXT_SINCE = dt.date(2024, 1, 25)
"""[UNVERIFIED] when `Invalid 'input[i]': maximum input length is 8192 tokens.` replaced the 2023 wording:
we switch on the day the text-embedding-3 models came out."""
INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)


@dataclass(frozen=True)
class EmbeddingPlan:
    """A checked embeddings request: each input as (text, token ids), and the vector shape asked for."""

    call: Call
    resolved: catalogue.Resolved
    inputs: tuple[tuple[str, tuple[int, ...]], ...]
    dimensions: int | None
    base64: bool

    @property
    def prompt_tokens(self) -> int:
        return sum(len(ids) for _, ids in self.inputs)

    @property
    def cost(self) -> int:
        return self.prompt_tokens


def prepare(body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]) -> EmbeddingPlan:
    """Check an embeddings request as the real API does and count its tokens."""
    check_params(body, PARAMS)
    resolved = catalogue.resolve(body["model"], "embeddings", ctx.as_of, ctx.path)
    model = resolved.model
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if not model.id.startswith("text-embedding-3"):
            # [UNVERIFIED] param and code; the message is the real one.
            raise errors.OpenAIError(400, "This model does not support specifying dimensions.")
        if dimensions > model.dims:
            # [UNVERIFIED] wording: the validator's style for an integer above its maximum.
            raise errors.OpenAIError(
                400,
                f"Invalid 'dimensions': integer above maximum value. Expected a value <= {model.dims}, "
                f"but got {dimensions} instead.",
                param="dimensions",
                code="integer_above_max_value",
            )
    inputs = _inputs(body["input"], model.encoding, _Limit.of(model, ctx.as_of))
    _check_total(inputs)
    call = Call(
        "embeddings",
        body["model"],
        body,
        text="\n".join(t for t, _ in inputs),
        api_key=api_key,
        headers=headers,
    )
    return EmbeddingPlan(call, resolved, inputs, dimensions, body.get("encoding_format") == "base64")


def _inputs(value: Any, encoding: str, limit: _Limit) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """string | string[] | int[] | int[][] -> ((text, ids), ...); OpenAI's one error for anything else,
    and its per-input length limit, input by input.

    The real API validates `input` against one JSON schema, so an empty string, an empty array, a
    mixed array or too many items all get the same `'$.input' is invalid` message."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and 0 < len(value) <= MAX_INPUTS:
        if all(_is_int(v) for v in value):
            items = [value]
        elif all(isinstance(v, str) for v in value) or all(
            isinstance(v, list) and v and all(map(_is_int, v)) for v in value
        ):
            items = value
        else:
            raise errors.OpenAIError(400, INVALID_INPUT)
    else:
        raise errors.OpenAIError(400, INVALID_INPUT)
    if any(isinstance(item, str) and not item for item in items):
        raise errors.OpenAIError(400, INVALID_INPUT)
    enc = tokens.get_encoding(encoding)
    texts: list[str | tuple[str, tuple[int, ...]]] = []  # checked before any length, as the schema is
    for item in items:
        if isinstance(item, str):
            texts.append(item)
            continue
        try:
            # [UNVERIFIED] the real reply to an id outside the vocabulary; we treat it as a schema miss.
            if any(not 0 <= t < enc.n_vocab for t in item):
                raise KeyError
            text = enc.decode_bytes(item).decode("utf-8", errors="replace")
        except (KeyError, ValueError, OverflowError):
            raise errors.OpenAIError(400, INVALID_INPUT) from None
        texts.append((text, tuple(item)))
    out = []
    for i, entry in enumerate(texts):
        if isinstance(entry, str):
            limit.refuse_if_surely_longer(i, entry, encoding)
            entry = (entry, tuple(tokens.encode(encoding, entry)))
        limit.check(i, len(entry[1]))
        out.append(entry)
    return tuple(out)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Limit:
    """OpenAI's per-input token limit, in the wording of the simulated date."""

    tokens: int
    new_text: bool

    @classmethod
    def of(cls, model: catalogue.Model, as_of: dt.date) -> _Limit:
        new_text = as_of >= NEW_LIMIT_TEXT_SINCE
        # The 2024+ message and limit say 8192 where the 2023 one said 8191 for the same models.
        return cls(8192 if new_text and model.context == 8191 else model.context, new_text)

    def check(self, i: int, count: int) -> None:
        if not self.tokens or count <= self.tokens:
            return
        if self.new_text:
            raise errors.OpenAIError(
                400, f"Invalid 'input[{i}]': maximum input length is {self.tokens} tokens."
            )
        raise errors.OpenAIError(
            400,
            f"This model's maximum context length is {self.tokens} tokens, however you requested {count} "
            f"tokens ({count} in your prompt; 0 for the completion). Please reduce your prompt; or "
            "completion length.",
        )

    def refuse_if_surely_longer(self, i: int, text: str, encoding: str) -> None:
        """The 2024+ 400 for a text whose length alone proves it too long (no token covers more than
        `max_token_bytes` bytes, a character at least one), before encoding it: a 24 MB word takes
        tiktoken seconds. The 2023 text states the exact count, so that one still encodes the text."""
        if self.new_text and self.tokens and len(text) > self.tokens * tokens.max_token_bytes(encoding):
            self.check(i, self.tokens + 1)


def _check_total(inputs: tuple[tuple[str, tuple[int, ...]], ...]) -> None:
    """OpenAI's per-request total, once every input is within its own limit."""
    total = sum(len(ids) for _, ids in inputs)
    if total > MAX_REQUEST_TOKENS:
        raise errors.OpenAIError(
            400,
            f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            type="max_tokens_per_request",
            code="max_tokens_per_request",
        )


def usage(plan: EmbeddingPlan, override: Mapping[str, int] | None) -> dict[str, int]:
    out = {"prompt_tokens": plan.prompt_tokens, "total_tokens": plan.prompt_tokens}
    if override:
        out.update({k: v for k, v in override.items() if k in out})
        if "total_tokens" not in override:
            out["total_tokens"] = out["prompt_tokens"]
    return out


def body(plan: EmbeddingPlan, reply: Reply, ctx: Ctx) -> dict[str, Any]:
    model = plan.resolved.model
    done: dict[str, Any] = {}  # a text repeated in one request is embedded once
    data = []
    for index, (text, _) in enumerate(plan.inputs):
        if text not in done:
            vector: Any = (
                reply.embedding
                if reply.embedding is not None
                else vectors.embed(text, model.id, model.dims, plan.dimensions)
            )
            done[text] = vectors.to_base64(vector) if plan.base64 else list(vector)
        data.append({"object": "embedding", "index": index, "embedding": done[text]})
    return {"object": "list", "data": data, "model": plan.resolved.name, "usage": usage(plan, reply.usage)}


def render(plan: EmbeddingPlan, reply: Reply, ctx: Ctx) -> Body:
    return Body(JSON, json_bytes(body(plan, reply, ctx)))


ENDPOINT = Endpoint("embeddings", prepare, render)

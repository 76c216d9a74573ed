"""POST /v1/completions (legacy): prompts as text or token ids, echo, suffix, logprobs, n, best_of."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors
from mockai.call import Call, Ctx
from mockai.endpoints.contract import Body, Endpoint, Stream
from mockai.endpoints.validate import P, Param, check_logit_bias, check_params, string_list
from mockai.generation import generator, shaping
from mockai.models import catalogue, tokens
from mockai.reply import Reply
from mockai.wire import JSON, json_bytes

PARAMS: dict[str, Param] = {
    "model": P("string", required=True),
    "prompt": P("string", "array"),
    "best_of": P("integer", min=0, max=20),
    "echo": P("boolean"),
    "frequency_penalty": P("number", min=-2, max=2),
    "logit_bias": P("object"),
    "logprobs": P("integer", min=0, max=5),
    "max_tokens": P("integer", min=0),
    "n": P("integer", min=1, max=128),
    "presence_penalty": P("number", min=-2, max=2),
    "seed": P("integer"),
    "stop": P("string", "array"),
    "stream": P("boolean"),
    "stream_options": P("object"),
    "suffix": P("string"),
    "temperature": P("number", min=0, max=2),
    "top_p": P("number", min=0, max=1),
    "user": P("string"),
}


@dataclass(frozen=True)
class CompletionPlan:
    call: Call
    resolved: catalogue.Resolved
    prompts: list[tuple[str, tuple[int, ...]]]
    """Each prompt as (text, token ids)."""
    n: int
    max_tokens: int
    stop: list[str]
    logprobs: int | None
    echo: bool
    stream: bool
    include_usage: bool

    @property
    def encoding(self) -> str:
        return self.resolved.model.encoding

    @property
    def prompt_tokens(self) -> int:
        return sum(len(ids) for _, ids in self.prompts)

    @property
    def cost(self) -> int:
        return self.prompt_tokens + self.max_tokens


def prepare(
    body: dict[str, Any], ctx: Ctx, api_key: str | None, headers: Mapping[str, str]
) -> CompletionPlan:
    check_params(body, PARAMS)
    resolved = catalogue.resolve(body["model"], "completions", ctx.as_of, ctx.path)
    encoding = resolved.model.encoding
    check_logit_bias(body.get("logit_bias"), tokens.get_encoding(encoding).eot_token)
    prompts = _prompts(body.get("prompt", "<|endoftext|>"), encoding)
    n = body.get("n") or 1
    best_of = body.get("best_of")
    stream = bool(body.get("stream"))
    if best_of is not None and best_of < n:
        raise errors.invalid_value("n", "best_of must be greater than or equal to n.")
    if best_of is not None and best_of > 1 and stream:
        # [UNVERIFIED] exact wording; the spec says results "cannot be streamed" with best_of.
        raise errors.invalid_value("best_of", "Cannot stream results with best_of > 1.")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise errors.invalid_value(
            "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        )
    max_tokens = body.get("max_tokens")
    max_tokens = 16 if max_tokens is None else max_tokens
    context = resolved.model.context
    for _, ids in prompts:
        if context and len(ids) + max_tokens > context:
            raise errors.OpenAIError(
                400,
                f"This model's maximum context length is {context} tokens, however you requested "
                f"{len(ids) + max_tokens} tokens ({len(ids)} in your prompt; {max_tokens} for the "
                "completion). "
                "Please reduce your prompt; or completion length.",
            )
    call = Call(
        "completions",
        body["model"],
        body,
        text="\n".join(t for t, _ in prompts),
        api_key=api_key,
        headers=headers,
    )
    return CompletionPlan(
        call=call,
        resolved=resolved,
        prompts=prompts,
        n=n,
        max_tokens=max_tokens,
        stop=string_list("stop", body.get("stop"), max_items=4),
        logprobs=body.get("logprobs"),
        echo=bool(body.get("echo")),
        stream=stream,
        include_usage=bool(isinstance(options, dict) and options.get("include_usage")),
    )


def _prompts(prompt: Any, encoding: str) -> list[tuple[str, tuple[int, ...]]]:
    """string | string[] | int[] | int[][] -> [(text, ids)], with OpenAI's 400 for anything else."""
    enc = tokens.get_encoding(encoding)

    def from_ids(ids: list[Any], where: str) -> tuple[str, tuple[int, ...]]:
        for i, t in enumerate(ids):
            if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < enc.n_vocab:
                raise errors.OpenAIError(
                    400,
                    f"Invalid token in prompt: {t!r}. Minimum value is 0, maximum value is {enc.n_vocab - 1} "
                    "(inclusive).",
                    param=f"{where}[{i}]" if where else "prompt",
                )
        try:
            text = enc.decode_bytes(ids).decode("utf-8", errors="replace")
        except KeyError:
            raise errors.OpenAIError(400, "Invalid token in prompt.", param="prompt") from None
        return text, tuple(ids)

    if isinstance(prompt, str):
        return [(prompt, tuple(tokens.with_special(enc, prompt)))]
    if isinstance(prompt, list):
        if not prompt:
            raise errors.OpenAIError(400, "Invalid prompt: prompt cannot be an empty array.", param="prompt")
        if all(isinstance(p, str) for p in prompt):
            return [(p, tuple(tokens.with_special(enc, p))) for p in prompt]
        if all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
            return [from_ids(prompt, "prompt")]
        if all(isinstance(p, list) for p in prompt):
            return [from_ids(p, f"prompt[{i}]") for i, p in enumerate(prompt)]
    raise errors.OpenAIError(
        400,
        "Invalid type for 'prompt': expected one of a string, an array of strings, an array of integers, or "
        "an "
        f"array of arrays of integers, but got {errors.describe_type(prompt)} instead.",
        param="prompt",
        code="invalid_type",
    )


@dataclass(frozen=True)
class Piece:
    index: int
    prompt: int
    text: str
    ids: tuple[int, ...]
    finish_reason: str


def prompt_digest(plan: CompletionPlan, ctx: Ctx, p: int) -> bytes:
    """The digest a prompt's completions come from: the request's, with `prompt` set to that one prompt's
    text. So a prompt gets the same completion alone or in a batch, as text or as token ids: langchain's
    `OpenAI` sends `["x"]` from invoke() and `"x"` from stream(), and the two must tell the same story."""
    body = plan.call.body
    if isinstance(body.get("prompt"), str):
        return ctx.digest  # already the digest of this one prompt
    return generator.digest(ctx.seed, "completions", {**body, "prompt": plan.prompts[p][0]})


def pieces(plan: CompletionPlan, reply: Reply, ctx: Ctx) -> list[Piece]:
    out = []
    for p, _ in enumerate(plan.prompts):
        per_prompt = prompt_digest(plan, ctx, p)
        for j in range(plan.n):
            index = p * plan.n + j
            d = generator.derive(per_prompt, f"choice{j}")
            text = reply.text if reply.text is not None else " " + generator.text(d)
            shaped = shaping.shape(text, plan.encoding, plan.max_tokens, plan.stop)
            finish = reply.finish_reason or shaped.finish_reason
            out.append(Piece(index, p, shaped.text, shaped.ids, finish))
    return out


def _logprobs(plan: CompletionPlan, ctx: Ctx, piece: Piece) -> dict[str, Any] | None:
    if plan.logprobs is None:
        return None
    prompt_text, prompt_ids = plan.prompts[piece.prompt]
    ids = (prompt_ids if plan.echo else ()) + piece.ids
    raw = shaping.pieces(plan.encoding, ids)
    toks: list[str] = []
    lps: list[float | None] = []
    tops: list[dict[str, float] | None] = []
    offsets: list[int] = []
    offset = 0
    for pos, b in enumerate(raw):
        toks.append(shaping.token_text(b))
        offsets.append(offset)
        offset += len(b.decode("utf-8", errors="replace"))
        if plan.echo and pos == 0:
            lps.append(None)
            tops.append(None)
            continue
        alts = shaping.alternatives(
            ctx.digest, plan.encoding, f"lp{piece.index}/{pos}", b, max(plan.logprobs, 1)
        )
        lps.append(alts[0][1])
        tops.append({shaping.token_text(t): lp for t, lp in alts[: plan.logprobs]} if plan.logprobs else {})
    return {"tokens": toks, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}


def _slice(logprobs: dict[str, Any] | None, start: int, end: int) -> dict[str, Any] | None:
    """The logprobs of tokens [start, end) of a choice, for one stream chunk."""
    if logprobs is None:
        return None
    return {key: values[start:end] for key, values in logprobs.items()}


def _text(plan: CompletionPlan, piece: Piece) -> str:
    return (plan.prompts[piece.prompt][0] + piece.text) if plan.echo else piece.text


def usage(plan: CompletionPlan, picked: list[Piece], override: Mapping[str, int] | None) -> dict[str, int]:
    completion = sum(len(p.ids) for p in picked)
    out = {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": plan.prompt_tokens + completion,
    }
    if override:
        out.update({k: v for k, v in override.items() if k in out})
        if "total_tokens" not in override:
            out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    return out


def body(plan: CompletionPlan, reply: Reply, ctx: Ctx) -> dict[str, Any]:
    picked = pieces(plan, reply, ctx)
    return {
        "id": generator.make_id("cmpl-", ctx.digest),
        "object": "text_completion",
        "created": ctx.created,
        "model": plan.resolved.name,
        "choices": [
            {
                "text": _text(plan, p),
                "index": p.index,
                "logprobs": _logprobs(plan, ctx, p),
                "finish_reason": p.finish_reason,
            }
            for p in picked
        ],
        "usage": usage(plan, picked, reply.usage),
    }


def chunks(plan: CompletionPlan, reply: Reply, ctx: Ctx) -> Iterator[dict[str, Any]]:
    picked = pieces(plan, reply, ctx)
    cid = generator.make_id("cmpl-", ctx.digest)

    def chunk(index: int, text: str, finish: str | None, logprobs: Any = None) -> dict[str, Any]:
        return {
            "id": cid,
            "object": "text_completion",
            "created": ctx.created,
            "choices": [{"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}],
            "model": plan.resolved.name,
        }

    per = max(1, reply.stream.chunk_tokens)
    for p in picked:
        # With `logprobs`, each chunk carries the logprobs of its own tokens (text_offset stays absolute),
        # as the real stream does; clients such as openai 0.28 read `chunk.choices[0].logprobs.tokens`.
        full = _logprobs(plan, ctx, p)
        at = 0
        if plan.echo:
            at = len(plan.prompts[p.prompt][1])
            yield chunk(p.index, plan.prompts[p.prompt][0], None, _slice(full, 0, at))
        for text, ids in shaping.chunks(plan.encoding, p.ids, per):
            yield chunk(p.index, text, None, _slice(full, at, at + len(ids)))
            at += len(ids)
        # [UNVERIFIED] the closing chunk's logprobs: empty lists keep `logprobs.tokens` iterable.
        yield chunk(p.index, "", p.finish_reason, _slice(full, at, at))
    if plan.include_usage:
        yield {
            "id": cid,
            "object": "text_completion",
            "created": ctx.created,
            "model": plan.resolved.name,
            "choices": [],
            "usage": usage(plan, picked, reply.usage),
        }


def render(plan: CompletionPlan, reply: Reply, ctx: Ctx) -> Body | Stream:
    """The whole JSON body, or the stream's chunks when `stream` is set."""
    if plan.stream:
        return Stream(chunks(plan, reply, ctx))
    return Body(JSON, json_bytes(body(plan, reply, ctx)))


ENDPOINT = Endpoint("completions", prepare, render)

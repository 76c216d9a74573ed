"""Fit a reply's text to the request: stop sequences, max tokens, stream chunks and logprobs.

Shared by chat and legacy completions, so both truncate at exactly `max_tokens` tokens of the model's
own encoding and report the same `finish_reason` the real API would.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockai.generation import generator
from mockai.memo import Memo
from mockai.models import tokens


@dataclass(frozen=True)
class Shaped:
    text: str
    ids: tuple[int, ...]
    finish_reason: str


def shape(text: str, encoding: str, max_tokens: int | None, stop: list[str]) -> Shaped:
    """Cut `text` at the first stop sequence, then at `max_tokens` tokens (memoised: a scripted reply is
    shaped the same way every time it answers)."""
    key = (text, encoding, max_tokens, tuple(stop))
    found = _SHAPED.get(key)
    return found if found is not None else _SHAPED.put(key, _shape(text, encoding, max_tokens, stop))


_SHAPED: Memo[tuple[str, str, int | None, tuple[str, ...]], Shaped] = Memo(
    entries=4096, size=8_000_000, size_of=lambda key: len(key[0]) + sum(map(len, key[3]))
)
"""Bounded: 4,096 replies and 8 M characters of them at most."""


def _shape(text: str, encoding: str, max_tokens: int | None, stop: list[str]) -> Shaped:
    finish = "stop"
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    ids = tokens.encode(encoding, text)
    if max_tokens is not None and len(ids) > max_tokens:
        ids = ids[:max_tokens]
        text = decode(encoding, ids)
        finish = "length"
    return Shaped(text=text, ids=tuple(ids), finish_reason=finish)


def decode(encoding: str, ids: list[int] | tuple[int, ...]) -> str:
    return tokens.get_encoding(encoding).decode_bytes(list(ids)).decode("utf-8", errors="replace")


def pieces(encoding: str, ids: tuple[int, ...]) -> list[bytes]:
    enc = tokens.get_encoding(encoding)
    return [enc.decode_single_token_bytes(i) for i in ids]


def chunks(encoding: str, ids: tuple[int, ...], per_chunk: int = 1) -> list[tuple[str, tuple[int, ...]]]:
    """Split tokens into stream chunks of about `per_chunk` tokens, never splitting a UTF-8 character."""
    out: list[tuple[str, tuple[int, ...]]] = []
    buf = b""
    group: list[int] = []
    for token_id, piece in zip(ids, pieces(encoding, ids)):
        buf += piece
        group.append(token_id)
        if len(group) >= per_chunk:
            try:
                out.append((buf.decode("utf-8"), tuple(group)))
            except UnicodeDecodeError:
                continue
            buf, group = b"", []
    if group:
        out.append((buf.decode("utf-8", errors="replace"), tuple(group)))
    return out


def token_text(piece: bytes) -> str:
    """How OpenAI shows one token: its text, or `bytes:\\xNN` escapes for a partial UTF-8 sequence."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{b:02x}" for b in piece)


def logprob(d: bytes, label: str) -> float:
    """A plausible log probability in (-3, 0], fixed for the request and position."""
    return -round(generator.number(d, label, 300000) ** 2 / 3e10, 8)


def alternatives(d: bytes, encoding: str, label: str, chosen: bytes, count: int) -> list[tuple[bytes, float]]:
    """`count` top candidates for one position: the chosen token first, then others, less likely."""
    enc = tokens.get_encoding(encoding)
    first = logprob(d, label)
    out = [(chosen, first)]
    k = 0
    while len(out) < count and k < count * 4:
        candidate = enc.decode_single_token_bytes(generator.number(d, f"{label}/alt{k}", 20000) + 200)
        k += 1
        if candidate not in (c for c, _ in out):
            out.append(
                (
                    candidate,
                    round(
                        first - 0.5 - len(out) * 0.75 - generator.number(d, f"{label}/lp{k}", 1000) / 1000, 8
                    ),
                )
            )
    return out


def chat_logprobs(
    d: bytes, encoding: str, label: str, ids: tuple[int, ...], top: int
) -> list[dict[str, object]]:
    """Chat `logprobs.content`: one entry per token with real token text and bytes."""
    out: list[dict[str, object]] = []
    for pos, piece in enumerate(pieces(encoding, ids)):
        alts = alternatives(d, encoding, f"{label}/{pos}", piece, max(top, 1))
        out.append(
            {
                "token": token_text(piece),
                "logprob": alts[0][1],
                "bytes": list(piece),
                "top_logprobs": [
                    {"token": token_text(b), "logprob": lp, "bytes": list(b)} for b, lp in alts[:top]
                ],
            }
        )
    return out

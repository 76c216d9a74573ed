"""Cassettes on disk: the versioned JSON-lines format, crash-safe appends, and the replay index.

A cassette is a text file. Line 1 is a header, `{"mockai_cassette": 1, ...}`; every further line is
one interaction (see `mockai.recording.interaction`). Recording only ever appends a whole line, then flushes
and fsyncs it, so a crash or `kill -9` loses at most the interaction in flight; a torn last line is
skipped with a warning on load and cut off before the next recording appends to the file.

Loading checks that replay can decode every line (`check_replayable`: a bad one is skipped with its
line number), then indexes each request by the hash of its normal form (`mockai.recording.keys`), so a
lookup costs the same for 10 interactions as for 100,000.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gc
import json
import os
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from mockai.errors import UsageError
from mockai.recording import keys
from mockai.recording.interaction import (
    LINE_PREFIX,
    Interaction,
    decode_body,
    from_json,
    headers_from_json,
    to_line,
)
from mockai.recording.scrub import Scrubber
from mockai.recording.vcr import read_vcr
from mockai.version import __version__

FORMAT_VERSION = 1
PREFIX = LINE_PREFIX.encode("utf-8")
RESPONSE_MARK = b'}, "response": {'
_decoder = json.JSONDecoder()
"""The stdlib's parser, not orjson's: orjson turns an integer past 64 bits into a float, and a recording
must come back exactly as it was."""


class CassetteWarning(UserWarning):
    """A cassette loaded, but part of it was skipped."""


class Cassette:
    """A cassette in memory: the interactions' lines, a hash index on their requests, and play counts."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        ignore: Iterable[str] = keys.DEFAULT_IGNORE,
        scrub: Scrubber | None = None,
    ) -> None:
        self.path = Path(path)
        self.ignore = tuple(ignore)
        self.scrub = scrub or Scrubber()
        self.lines: list[memoryview] = []
        """Each interaction's line as UTF-8 bytes (views into the file's contents: no copies)."""
        self.line_numbers: list[int] = []
        self.keys: list[bytes] = []
        self.index: dict[bytes, list[int]] = {}
        self.routes: dict[tuple[str, str], list[int]] = {}
        self.played: dict[bytes, int] = {}
        self.existed = False
        self.read_only: str | None = None
        """Why this cassette cannot be recorded into (e.g. it is a vcrpy YAML file), if it cannot."""
        self.overwrite = False
        self.drop_fields = self.scrub.fields
        """Scrubbed JSON fields (now, or when the file was recorded): left out of matching, as their values
        are gone."""
        self.header_extra: dict[str, Any] = {}
        self._valid_end = 0
        self._last_number = 0
        self._file: Any = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    # -- loading ------------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        ignore: Iterable[str] = keys.DEFAULT_IGNORE,
        scrub: Scrubber | None = None,
    ) -> Cassette:
        """Read a cassette (mockai JSON lines, or a vcrpy YAML cassette); a missing file gives an empty
        one."""
        cassette = cls(path, ignore, scrub)
        try:
            data = cassette.path.read_bytes()
        except FileNotFoundError:
            return cassette
        cassette.existed = True
        if cassette.path.suffix in (".yaml", ".yml") or data[:4096].lstrip()[:1] not in (b"{", b""):
            cassette.read_only = (
                f"{cassette.path} is a vcrpy cassette; convert it with "
                f"`mockai import-vcr {cassette.path} NEW.jsonl` to record into it"
            )
            for it in read_vcr(data, str(cassette.path)):
                line = to_line(it, cassette.scrub).encode("utf-8")
                cassette._add(line, 0, len(line) - 1, 0)
            return cassette
        paused = gc.isenabled()
        gc.disable()  # loading makes ~10 objects per line and frees none: cyclic GC passes only cost time
        try:
            cassette._parse(data)
        finally:
            if paused:
                gc.enable()
        return cassette

    def _parse(self, data: bytes) -> None:
        view, size, start, number, header_seen = memoryview(data), len(data), 0, 0, False
        tail = size
        while tail and data[tail - 1] in b" \t\r\n":
            tail -= 1
        last_start = data.rfind(b"\n", 0, tail) + 1  # the last non-blank line: the only one a crash can tear
        while start < size:
            end = data.find(b"\n", start)
            end = size if end < 0 else end
            number += 1
            line_end = end - 1 if end > start and data[end - 1] == 0x0D else end
            if data[start : start + 1] != b"{" and not data[start:line_end].strip():
                self._last_number, start = number, end + 1
                continue
            try:
                if not header_seen:
                    self._check_header(json.loads(str(view[start:line_end], "utf-8")))
                    header_seen = True
                else:
                    check_replayable(view[start:line_end])
                    self._add(data, start, line_end, number, full=start >= last_start)
            except (ValueError, KeyError, TypeError) as exc:
                if isinstance(exc, UsageError):
                    raise
                last = start >= last_start
                what = (
                    "is incomplete (the recording was interrupted)"
                    if last
                    else f"is not a valid interaction ({exc})"
                )
                kept = (
                    "It is cut off before the next recording into this file."
                    if last
                    else "Fix or delete that line."
                )
                warnings.warn(
                    f"mockai: {self.path} line {number} {what} and was skipped; the {len(self.lines)} "
                    f"interactions before it load fine. {kept}",
                    CassetteWarning,
                    stacklevel=4,
                )
                if last:
                    return
                start = end + 1
                continue
            self._valid_end, self._last_number, start = min(end + 1, size), number, end + 1

    def _check_header(self, header: Any) -> None:
        if not isinstance(header, dict) or "mockai_cassette" not in header:
            raise UsageError(
                f"{self.path} is not a mockai cassette: its first line should be a header like "
                f'{{"mockai_cassette": {FORMAT_VERSION}, ...}}. Is it a vcrpy cassette? Name it .yaml.'
            )
        version = header["mockai_cassette"]
        if version != FORMAT_VERSION:
            raise UsageError(
                f"{self.path} has cassette format version {version!r}; this mockai ({__version__}) reads "
                f"version {FORMAT_VERSION}. Upgrade mockai, or re-record the cassette."
            )
        self.drop_fields = self.drop_fields | frozenset(header.get("scrubbed_fields") or ())

    def _scrubbed(self) -> dict[str, Any]:
        return {"scrubbed_fields": sorted(self.drop_fields)} if self.drop_fields else {}

    def _add(self, data: bytes, start: int, end: int, number: int, full: bool = False) -> int:
        request = self._request(data, start, end, full)
        normal = self._normal(request)
        k = keys.key(normal)
        i = len(self.lines)
        self.lines.append(memoryview(data)[start:end])
        self.keys.append(k)
        self.line_numbers.append(number)
        self.index.setdefault(k, []).append(i)
        self.routes.setdefault((normal["method"], normal["path"]), []).append(i)
        return i

    @staticmethod
    def _request(data: bytes, start: int, end: int, full: bool = False) -> dict[str, Any]:
        """The request of a line, decoding only the bytes before `"response"` unless `full` (which checks it
        all)."""
        if not full and data.startswith(PREFIX, start):
            cut = data.find(RESPONSE_MARK, start, end)
            if cut >= 0:
                text = data[start : cut + 1].decode("utf-8")
                try:
                    request, stop = _decoder.raw_decode(text, len(PREFIX))
                except ValueError:
                    stop = -1
                if stop == len(text) and isinstance(request, dict):
                    return request
        parsed = json.loads(str(memoryview(data)[start:end], "utf-8"))
        if (
            not isinstance(parsed, dict)
            or not isinstance(parsed.get("request"), dict)
            or not isinstance(parsed.get("response"), dict)
        ):
            raise TypeError("it needs a request and a response object")
        found: dict[str, Any] = parsed["request"]
        return found

    def _normal(self, request: dict[str, Any]) -> dict[str, Any]:
        stored = request.get("body") or {}
        if "json" in stored:
            body = stored["json"]
        else:
            ctype = next(
                (v for k, v in headers_from_json(request.get("headers", {})) if k == "content-type"), ""
            )
            body = keys.parse_body(decode_body(stored), ctype)
        return self.normal_form(request["method"], request["path"], request.get("query", ""), body)

    def normal_form(self, method: str, path: str, query: str, body: Any) -> dict[str, Any]:
        """A request's normal form under this cassette's ignore list and scrubbed fields."""
        return keys.normal_form(method, path, query, body, self.ignore, self.drop_fields)

    # -- replay -------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.lines)

    def next_match(self, key: bytes, repeat_last: bool) -> int | None:
        """The next unplayed recording of this request, in recorded order; when all are played, the
        last one again if `repeat_last`, else None."""
        found = self.index.get(key)
        if not found:
            return None
        with self._lock:
            n = self.played.get(key, 0)
            if n < len(found):
                self.played[key] = n + 1
                return found[n]
        return found[-1] if repeat_last else None

    def interaction(self, i: int) -> Interaction:
        try:
            return from_json(json.loads(str(self.lines[i], "utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{self.path} line {self.line_numbers[i]} is not a valid interaction ({type(exc).__name__}: "
                f"{exc}); fix or re-record it."
            ) from None

    def rewind(self) -> None:
        """Replay from the first recording of each request again."""
        with self._lock:
            self.played.clear()

    def closest(
        self, normal: dict[str, Any], limit: int = 5000
    ) -> tuple[int, list[tuple[str, Any, Any]]] | None:
        """The recorded request nearest to `normal` (fewest differing fields), and the differences."""
        candidates = self.routes.get((normal["method"], normal["path"])) or range(len(self.lines))
        best: tuple[int, list[tuple[str, Any, Any]]] | None = None
        for i in list(candidates)[:limit]:
            line = bytes(self.lines[i])
            diffs = keys.differences(normal, self._normal(self._request(line, 0, len(line))))
            if best is None or len(diffs) < len(best[1]):
                best = (i, diffs)
        return best

    # -- recording ----------------------------------------------------------------------------------

    def encode(self, it: Interaction) -> str:
        return to_line(it, self.scrub)

    def append(self, line: str) -> int:
        """Write one interaction line (flushed and fsynced before returning) and index it as played."""
        if self.read_only:
            raise UsageError(f"mockai: {self.read_only}.")
        with self._write_lock:
            if self._file is None:
                self._open()
            self._file.write(line.encode("utf-8"))  # one write of a whole line: appends never interleave
            self._file.flush()
            os.fsync(self._file.fileno())
            with self._lock:
                raw = line.encode("utf-8")
                i = self._add(raw, 0, len(raw) - 1, self._next_line)
                self._next_line += 1
                key = self.keys[i]
                self.played[key] = len(self.index[key])
            return i

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = self.overwrite or self._valid_end == 0 or not self.path.exists()
        if fresh:
            self._file = open(self.path, "wb")  # noqa: SIM115 - kept open for the session's appends
            self._file.write(header_line(**self.header_extra, **self._scrubbed()).encode("utf-8"))
            self._next_line = 2
            self._fsync_dir()
            if self.overwrite:
                with self._lock:
                    self._reset_index()
            return
        self._file = open(self.path, "r+b")  # noqa: SIM115
        size = self._file.seek(0, os.SEEK_END)
        if size > self._valid_end:
            self._file.truncate(self._valid_end)  # drop a line torn by a crash
            self._file.seek(self._valid_end)
        if self._valid_end and self._peek_last_byte() != b"\n":
            self._file.write(b"\n")
        self._next_line = self._last_number + 1

    def _peek_last_byte(self) -> bytes:
        pos = self._file.tell()
        self._file.seek(pos - 1)
        last = bytes(self._file.read(1))
        self._file.seek(pos)
        return last

    def _reset_index(self) -> None:
        for table in (self.lines, self.line_numbers, self.keys, self.index, self.routes, self.played):
            table.clear()

    def _fsync_dir(self) -> None:
        """Make the new file's directory entry durable too (best effort: not every platform allows it)."""
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass

    def close(self) -> None:
        with self._write_lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def check_replayable(line: memoryview | bytes) -> None:
    """Raise ValueError, naming the field, for a line replay could not turn back into the recorded bytes:
    a response that is not an object, a status that is not an HTTP status, header values that are not
    text, a body or chunk in invalid base64 (which the lenient decoder would replay as other bytes).

    Loading checks every line with it, so a bad line is reported with its number then, not answered
    with a 500 at replay. orjson parses (some ten times faster than the stdlib here); what it refuses
    (a lone surrogate escape) goes to the stdlib."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        parsed = json.loads(str(line, "utf-8"))
    if not isinstance(parsed, dict):
        raise ValueError("the line is not a JSON object")
    request, response = parsed.get("request"), parsed.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise ValueError("it needs a request and a response object")
    _check_stored(request.get("body", {}), "request.body")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"response.status is {status!r}, not an HTTP status from 100 to 599")
    _check_headers(request.get("headers", {}), "request.headers")
    _check_headers(response.get("headers", {}), "response.headers")
    if not isinstance(response.get("elapsed", 0.0), (int, float)):
        raise ValueError("response.elapsed is not a number of seconds")
    chunks = response.get("chunks")
    if chunks is None:
        _check_stored(response.get("body", {}), "response.body")
        return
    if not isinstance(chunks, list):
        raise ValueError("response.chunks is not a list")
    for i, chunk in enumerate(chunks):
        _check_stored(chunk, f"response.chunks[{i}]")
        if not isinstance(chunk.get("t", 0.0), (int, float)):
            raise ValueError(f"response.chunks[{i}].t is not a number of seconds")


def _check_stored(stored: Any, where: str) -> None:
    """A stored body or chunk: an object; its base64, if any, valid (strictly: no stray characters)."""
    if not isinstance(stored, dict):
        raise ValueError(f"{where} is not an object")
    if "base64" in stored:
        try:
            base64.b64decode(stored["base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError(f"{where}.base64 is not valid base64") from None


def _check_headers(stored: Any, where: str) -> None:
    if not isinstance(stored, dict):
        raise ValueError(f"{where} is not an object")
    for name, value in stored.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where}[{name!r}] is not a string or a list of strings")


def header_line(**extra: Any) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = {
        "mockai_cassette": FORMAT_VERSION,
        "created_by": f"mockai {__version__}",
        "created_at": stamp,
        **extra,
    }
    return json.dumps(header, ensure_ascii=False) + "\n"


def write_cassette(
    path: str | os.PathLike[str], interactions: Iterable[Interaction], scrub: Scrubber | None = None
) -> int:
    """Write a whole cassette at once (conversions, benchmarks); returns the number of interactions."""
    scrub = scrub or Scrubber()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(target, "w", encoding="utf-8") as f:
        f.write(header_line(**({"scrubbed_fields": sorted(scrub.fields)} if scrub.fields else {})))
        for it in interactions:
            f.write(to_line(it, scrub))
            n += 1
    return n


def import_vcr(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> int:
    """Write a vcrpy YAML cassette out as a mockai cassette (secret headers scrubbed); returns the count."""
    return write_cassette(target, read_vcr(Path(source).read_bytes(), os.fspath(source)))

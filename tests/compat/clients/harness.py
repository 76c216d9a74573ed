"""What every client script shares: the check registry, the admin calls, and the result lines.

Each script runs inside its client's own virtual environment, so this file uses the standard library
only. A script registers checks with `@check(row)`, then `main()` runs them in order against
`$MOCKAI_URL` and prints one JSON line per row, `{"row", "status", "detail"}`, for tests/compat/run.py
to put in the matrix. A check passes by returning (its return value is the detail), fails by raising,
and is skipped or not applicable by raising `Skip` or `NotApplicable`.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
import tempfile
import time
import traceback
import urllib.request
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

URL = os.environ.get("MOCKAI_URL", "http://127.0.0.1:8000/v1")
ROOT = URL.removesuffix("/v1")
KEY = "sk-compat-0123456789abcdef"
ROWS = (
    "chat", "chat stream", "tools", "tools stream", "legacy functions", "completions", "completions stream",
    "embeddings", "embeddings base64", "edits", "transcription", "translation", "speech", "models",
    "engine routes", "async", "headers", "429 retry", "retired model", "context length", "responses",
    "responses stream", "agents run",
)  # fmt: skip
"""The matrix's rows, in order. A script reports every row, `n/a` for what its client cannot do."""

Check = Callable[[], Any]
_checks: list[tuple[str, Check]] = []


class Skip(Exception):
    """The check could not run here (say why); not a failure."""


class NotApplicable(Exception):
    """The client has no API for this row (say what it lacks)."""


def check(row: str) -> Callable[[Check], Check]:
    if row not in ROWS:
        raise ValueError(f"unknown row {row!r}; rows are {ROWS}")

    def register(fn: Check) -> Check:
        _checks.append((row, fn))
        return fn

    return register


def not_applicable(row: str, why: str) -> None:
    """Declare a row this client cannot exercise."""

    def fn() -> Any:
        raise NotApplicable(why)

    _checks.append((row, fn))


# ----------------------------------------------------------------------------------------------------
# The admin API: script an error, move the clock, start clean.


def admin(method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{ROOT}/_mockai/{path}", data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"null")


def reset() -> None:
    """Back to defaults: no rules, today's date, empty journal."""
    admin("DELETE", "scenario")
    admin("POST", "reset")


def fail_next(endpoint: str, status: int = 429, times: int = 1, **error: Any) -> None:
    """The next `times` calls to `endpoint` get a scripted `status` (mockai's 429 says retry after 20 ms)."""
    admin(
        "PUT",
        "scenario",
        {
            "rules": [
                {
                    "match": {"endpoint": endpoint},
                    "times": times,
                    "reply": {"error": {"status": status, **error}},
                }
            ]
        },
    )


def set_date(day: str) -> None:
    admin("PUT", "clock", {"as_of": day})


def requests_seen(path_suffix: str) -> list[dict[str, Any]]:
    """Journal entries whose path ends with `path_suffix`, oldest first."""
    return [e for e in admin("GET", "requests")["data"] if e["path"].endswith(path_suffix)]


def long_text(tokens: int) -> str:
    """Text of at least `tokens` tokens in any OpenAI encoding (one word and a space each)."""
    return "hello " * tokens


def sample_wav() -> Path:
    """A 1.5 s 16 kHz mono tone, written once into $MOCKAI_COMPAT_TMP: the audio the checks upload."""
    path = Path(os.environ.get("MOCKAI_COMPAT_TMP", tempfile.gettempdir())) / "mockai-compat-hello.wav"
    if not path.exists():
        rate, seconds = 16_000, 1.5
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(rate * seconds))
        )
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(frames)
        tmp.replace(path)
    return path


def expect(condition: Any, message: str) -> None:
    if not condition:
        raise AssertionError(message)


# ----------------------------------------------------------------------------------------------------


def main(client: str) -> int:
    """Run every registered check in order, each from a clean server state; print one line per row."""
    for row, fn in _checks:
        started = time.perf_counter()
        try:
            reset()
            detail = fn()
            status = "pass"
        except NotApplicable as exc:
            status, detail = "n/a", str(exc)
        except Skip as exc:
            status, detail = "skip", str(exc)
        except Exception as exc:  # noqa: BLE001 - any exception is this row's failure, reported in full
            status = "fail"
            tb = traceback.extract_tb(exc.__traceback__)
            here = next(
                (f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb) if "compat" in f.filename), ""
            )
            detail = f"{type(exc).__name__}: {exc} [{here}]"
        finally:
            try:
                reset()
            except OSError:
                pass
        line = {
            "client": client,
            "row": row,
            "status": status,
            "detail": str(detail or "")[:2000],
            "seconds": round(time.perf_counter() - started, 3),
        }
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit("harness.py is imported by the client scripts, not run")

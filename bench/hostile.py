"""Hostile requests, one class at a time, against a mockai server in its own process: for each, the hostile
request's status and duration, the worst `GET /_mockai/health` latency a concurrent client saw meanwhile,
and the server's RSS before and after. Exits 1 when a class gets a 5xx, health waits 2 s or more, or the
hostile request takes 10 s or more (the bounds of issue #15).

    .venv/bin/python bench/hostile.py            # every class
    .venv/bin/python bench/hostile.py --only alias-bomb,fan-out
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HI = [{"role": "user", "content": "hi"}]
MIXED_WORD = "qwertyuiopasdfghjklzxcvbnm" * 923_077
"""24 MB of letters with no space: one piece of tiktoken's pattern, and not a run of one letter."""
FAN_OUT = {
    "$defs": {"n": {"type": "object", "properties": {k: {"$ref": "#/$defs/n"} for k in "abcdefgh"}}},
    "$ref": "#/$defs/n",
}


def chat(**extra: Any) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": HI, **extra}).encode()


def schema(value: Any, strict: bool = False) -> bytes:
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": value, "strict": strict}}
    return chat(response_format=fmt)


def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * fan)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join([*lines, "rules: [{match: {contains: x}, reply: {content: hi}}]"])


@dataclass
class Hostile:
    """One class of hostile request: what is sent, where, how."""

    name: str
    method: str
    path: str
    body: Callable[[], bytes] = lambda: b""
    headers: dict[str, str] | None = None
    setup: Callable[[httpx.Client, Path], None] | None = None


def _rule(regex: str) -> Callable[[httpx.Client, Path], None]:
    def setup(http: httpx.Client, folder: Path) -> None:
        http.post("/_mockai/rules", json={"match": {"regex": regex}, "reply": {"content": "x"}})

    return setup


def _file(name: str, text: str) -> Callable[[httpx.Client, Path], None]:
    def setup(http: httpx.Client, folder: Path) -> None:
        (folder / name).write_text(text)

    return setup


def _full_journal(http: httpx.Client, folder: Path) -> None:
    """Fill the journal to its byte bound with 1 MB bodies (each kept as a 1 MiB marker)."""
    big = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi " * 350_000}]})
    for _ in range(130):
        http.post("/v1/chat/completions", content=big, headers={"content-type": "application/json"})


CLASSES = [
    # class 1: unbounded generation
    Hostile(
        "minItems-1e9", "POST", "/v1/chat/completions", lambda: schema({"type": "array", "minItems": 10**9})
    ),
    Hostile(
        "minLength-1e9",
        "POST",
        "/v1/chat/completions",
        lambda: schema({"type": "string", "minLength": 10**9}),
    ),
    Hostile("ref-fan-out", "POST", "/v1/chat/completions", lambda: schema(FAN_OUT)),
    Hostile(
        "forced-tool-fan-out",
        "POST",
        "/v1/chat/completions",
        lambda: chat(
            tools=[{"type": "function", "function": {"name": "f", "parameters": FAN_OUT}}],
            tool_choice="required",
        ),
    ),
    Hostile(
        "stream-logprobs-4k",
        "POST",
        "/v1/chat/completions",
        lambda: chat(logprobs=True, top_logprobs=20, stream=True, max_tokens=4000),
    ),
    # class 2: regex rules
    Hostile(
        "regex-backtracking",
        "POST",
        "/v1/chat/completions",
        lambda: json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a" * 40 + "!"}]}
        ).encode(),
        setup=_rule("^(a+)+$"),
    ),
    # class 3: 5xx on client input
    Hostile(
        "nan-temperature", "POST", "/v1/chat/completions", lambda: chat()[:-1] + b', "temperature": NaN}'
    ),
    Hostile(
        "whitespace-3MB-o200k",
        "POST",
        "/v1/chat/completions",
        lambda: json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": " " * 3_000_000}]}
        ).encode(),
    ),
    Hostile(
        "tool-choice-string",
        "POST",
        "/v1/chat/completions",
        lambda: chat(
            tools=[{"type": "function", "function": {"name": "f"}}],
            tool_choice={"type": "function", "function": "f"},
        ),
    ),
    Hostile("schema-type-object", "POST", "/v1/chat/completions", lambda: schema({"type": {"a": 1}})),
    Hostile(
        "speech-speed-nan",
        "POST",
        "/v1/audio/speech",
        lambda: b'{"model": "tts-1", "input": "hi", "voice": "alloy", "speed": NaN}',
    ),
    Hostile("scenario-name-300", "PUT", "/_mockai/scenario?file=" + "a" * 300),
    # class 4: scenario loading
    Hostile("alias-bomb", "PUT", "/_mockai/scenario?file=bomb.yaml", setup=_file("bomb.yaml", alias_bomb())),
    Hostile(
        "scenario-5MB",
        "PUT",
        "/_mockai/scenario?file=big.yaml",
        setup=_file("big.yaml", "rules: []\n" + "# padding\n" * 500_000),
    ),
    # class 5: memory
    Hostile(
        "body-24MB-text",
        "POST",
        "/v1/chat/completions",
        lambda: json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello world " * 2_000_000}]}
        ).encode(),
    ),
    Hostile(
        "body-24MB-one-word",
        "POST",
        "/v1/embeddings",
        lambda: json.dumps({"model": "text-embedding-3-small", "input": ["x" * 24_000_000]}).encode(),
    ),
    Hostile(
        "body-24MB-mixed-word",
        "POST",
        "/v1/embeddings",
        lambda: json.dumps({"model": "text-embedding-3-small", "input": [MIXED_WORD]}).encode(),
    ),
    Hostile(
        "chat-24MB-mixed-word",
        "POST",
        "/v1/chat/completions",
        lambda: json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": MIXED_WORD}]}
        ).encode(),
    ),
    Hostile(
        "chat-10MB-one-piece",
        "POST",
        "/v1/chat/completions",
        lambda: json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": MIXED_WORD[:10_400_000]}]}
        ).encode(),
    ),
    Hostile(
        "chat-3MB-tabs-spaces",
        "POST",
        "/v1/chat/completions",
        lambda: json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": " \t" * 1_500_000}]}
        ).encode(),
    ),
    Hostile("journal-128MB-listing", "GET", "/_mockai/requests", setup=_full_journal),
    Hostile("header-30MB", "POST", "/v1/chat/completions", chat, headers={"x-pad": "p" * 30_000_000}),
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(folder: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "mockai", "serve", "--port", "0", "--scenario-dir", str(folder)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().split()[3]  # type: ignore[union-attr]
    root = url.removesuffix("/v1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(root + "/_mockai/health").status_code == 200:
                return proc, root
        except httpx.TransportError:
            time.sleep(0.02)
    proc.terminate()
    raise RuntimeError("mockai did not start")


async def measure(root: str, hostile: Hostile) -> tuple[int, float, float]:
    """The hostile request's status and seconds, and the worst health latency seen while it ran."""
    worst = 0.0
    done = asyncio.Event()
    async with (
        httpx.AsyncClient(base_url=root, timeout=60) as health,
        httpx.AsyncClient(base_url=root, timeout=60) as client,
    ):

        async def poll() -> None:
            nonlocal worst
            while not done.is_set():
                started = time.perf_counter()
                await health.get("/_mockai/health")
                worst = max(worst, time.perf_counter() - started)
                await asyncio.sleep(0.01)

        poller = asyncio.create_task(poll())
        started = time.perf_counter()
        try:
            answer = await client.request(
                hostile.method, hostile.path, content=hostile.body(), headers=hostile.headers or {}
            )
            status = answer.status_code
        except httpx.HTTPError:
            status = 0
        took = time.perf_counter() - started
        done.set()
        await poller
    return status, took, worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated class names")
    args = parser.parse_args(argv)
    chosen = [h for h in CLASSES if not args.only or h.name in args.only.split(",")]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc, root = start(folder)
        try:
            head = ("class", "status", "took s", "worst health s", "RSS MB before", "after")
            print(f"{head[0]:24} {head[1]:>6} {head[2]:>7} {head[3]:>15} {head[4]:>14} {head[5]:>7}")
            for hostile in chosen:
                with httpx.Client(base_url=root) as http:
                    http.delete("/_mockai/scenario")
                    if hostile.setup:
                        hostile.setup(http, folder)
                before = rss_mb(proc.pid)
                status, took, worst = asyncio.run(measure(root, hostile))
                after = rss_mb(proc.pid)
                bad = status >= 500 or status == 0 or worst >= 2 or took >= 10
                failures += bad
                print(
                    f"{hostile.name:24} {status:>6} {took:>7.2f} {worst:>15.3f} {before:>14.1f} {after:>7.1f}"
                    + ("  FAIL" if bad else "")
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"classes: {len(chosen)}, failing: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

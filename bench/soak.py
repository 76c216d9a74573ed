"""Bounded load against a mockai server in its own process: a mix of endpoints, streams included.

Prints requests tried, errors, requests/s and the server's RSS before and after; exits 1 on any error
or when RSS grows more than --max-growth-mb. `make soak` runs it long; tests/test_load.py runs it short.

    .venv/bin/python bench/soak.py --requests 20000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

MIX = [
    (
        "/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello {i}"}], "max_tokens": 30},
    ),
    (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "stream {i}"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ),
    ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "prompt {i}", "max_tokens": 20}),
    ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "stream {i}", "stream": True}),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["text {i}", "more text"]}),
    (
        "/v1/chat/completions",
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "weather {i}"}],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                    },
                }
            ],
        },
    ),
    ("/v1/chat/completions", {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}),
]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockai", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().split()[3]  # type: ignore[union-attr]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url.removesuffix("/v1") + "/_mockai/health").status_code == 200:
                return proc, url.removesuffix("/v1")
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError("mockai did not start")


async def run(root: str, total: int, concurrency: int, deadline_s: float) -> tuple[int, list[str]]:
    counter = itertools.count()
    problems: list[str] = []
    done = 0
    deadline = time.monotonic() + deadline_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=root, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done
            while (i := next(counter)) < total and time.monotonic() < deadline:
                path, template = MIX[i % len(MIX)]
                body = json.loads(json.dumps(template).replace("{i}", str(i)))
                try:
                    response = await client.post(path, json=body)
                except httpx.HTTPError as exc:
                    problems.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                done += 1
                expected = 404 if body["model"] == "no-such-model" else 200
                if response.status_code != expected:
                    problems.append(f"{path}: {response.status_code} {response.text[:200]}")
                elif body.get("stream") and not response.text.endswith("data: [DONE]\n\n"):
                    problems.append(f"{path}: stream did not end with [DONE]")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=300, help="stop early after this long")
    parser.add_argument("--max-growth-mb", type=float, default=64)
    args = parser.parse_args(argv)
    proc, root = start_server()
    try:
        warm = asyncio.run(run(root, 500, 8, 60))[0]
        before = rss_kb(proc.pid)
        started = time.perf_counter()
        done, problems = asyncio.run(run(root, args.requests, args.concurrency, args.seconds))
        elapsed = time.perf_counter() - started
        after = rss_kb(proc.pid)
        journal = httpx.get(root + "/_mockai/requests").json()["data"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    growth = (after - before) / 1024
    print(
        f"requests: {done} (+{warm} warm-up) in {elapsed:.1f} s = {done / elapsed:.0f}/s "
        f"at {args.concurrency} connections"
    )
    print(f"errors: {len(problems)}")
    for line in problems[:10]:
        print("  " + line)
    print(
        f"server RSS: {before / 1024:.1f} MB before, {after / 1024:.1f} MB after ({growth:+.1f} MB); "
        f"journal holds {len(journal)} entries"
    )
    return 1 if problems or growth > args.max_growth_mb else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Quick figures for the core server: import time, process start to first answer, and requests per
second for a short non-streaming chat completion from a separate load process on loopback.

    .venv/bin/python bench/quick.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

import httpx

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20}


def import_time(repeats: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import mockai.server.app; print(time.perf_counter() - t)"
    return statistics.median(
        float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(repeats)
    )


def start_to_ready() -> tuple[float, subprocess.Popen[str], str]:
    """Seconds from spawning `mockai serve` to its first chat answer (the process, and its /v1 URL)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockai", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().split()[3]  # type: ignore[union-attr]
    with httpx.Client() as c:
        while True:
            try:
                if c.post(url + "/chat/completions", json=CHAT).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.001)
    return time.perf_counter() - started, proc, url


def ready_then_answers(later: int = 20) -> dict[str, float]:
    """Spawn to health ok, then the first chat answer after it and the median of `later` more (seconds):
    whether the first answers after ready cost what later ones do."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockai", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = proc.stdout.readline().split()[3]  # type: ignore[union-attr]
        health = url.removesuffix("/v1") + "/_mockai/health"
        with httpx.Client() as c:
            while True:
                try:
                    if c.get(health).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.001)
            ready = time.perf_counter() - started
            times = []
            for i in range(later + 1):
                body = {**CHAT, "messages": [{"role": "user", "content": f"question {i}"}]}
                t = time.perf_counter()
                c.post(url + "/chat/completions", json=body).raise_for_status()
                times.append(time.perf_counter() - t)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"ready_s": ready, "first_call_s": times[0], "later_call_s": statistics.median(times[1:])}


async def load(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    done = errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                response = await client.post(url + "/chat/completions", json=CHAT)
                done += 1
                errors += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(f"import mockai.server.app: {import_time() * 1000:.0f} ms (median of 5)")
    ready, proc, url = start_to_ready()
    try:
        print(f"process start to first chat answer: {ready * 1000:.0f} ms")
        # The load runs in this process, the server in its own: one core each on a 2-core machine.
        done, errors = asyncio.run(load(url, args.seconds, args.concurrency))
        print(
            f"short chat completion: {done / args.seconds:.0f} requests/s over {args.seconds:.0f} s, "
            f"{args.concurrency} connections, {errors} errors"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()

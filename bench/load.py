"""Load from a separate process on loopback, bounded in time: wrk when it is there, else async httpx.

wrk (C, one thread) barely registers next to the server it loads, so what it measures is the server.
When wrk is missing and this runs as root, `ensure_wrk` installs the Debian package; otherwise the
fallback is an async httpx client in a child process, several times slower than wrk, so a fast
server's figure is then capped by the client (the report says which generator ran).

    python bench/load.py URL BODY_FILE --seconds 3 --connections 16   # the fallback, as a child process
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench-0123456789abcdef"}

LUA = """\
wrk.method = "POST"
wrk.body = [==[{body}]==]
{headers}
{request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {{"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,\
"status_errors":%d,"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One timed run: requests answered per second, and how many went wrong."""

    rps: float
    requests: int
    errors: int
    """Socket errors and timeouts, plus answers that were not 2xx/3xx."""
    p50_ms: float
    p99_ms: float
    generator: str


def ensure_wrk() -> str | None:
    """The wrk binary, installing Debian's package when missing and allowed (root); None: use the fallback."""
    found = shutil.which("wrk")
    if found or os.environ.get("MOCKAI_BENCH_NO_INSTALL"):
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("bench: wrk is missing; installing it: apt-get install -y wrk", file=sys.stderr)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet).returncode != 0:  # type: ignore[call-overload]
            subprocess.run(["apt-get", "update"], timeout=300, **quiet)  # type: ignore[call-overload]
            subprocess.run(["apt-get", "install", "-y", "wrk"], timeout=300, **quiet)  # type: ignore[call-overload]
    return shutil.which("wrk")


COUNTED = """\
local head, tail, n = [==[{head}]==], [==[{tail}]==], 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, head .. n .. tail)
end
"""
"""A body with a counter: every request's differs (one wrk thread, so the numbers are unique)."""


def run(
    wrk: str | None, url: str, body: bytes, seconds: float, connections: int, counter: str | None = None
) -> LoadResult:
    """POST `body` to `url` for `seconds` over `connections` keep-alive connections.

    `counter`: a marker in `body` replaced by the request's number, so that no two requests are alike."""
    if counter is not None and counter.encode() not in body:
        raise ValueError(f"the body has no {counter!r} to count with")
    if wrk is not None:
        return _wrk(wrk, url, body, seconds, connections, counter)
    return _fallback(url, body, seconds, connections, counter)


def _wrk(
    wrk: str, url: str, body: bytes, seconds: float, connections: int, counter: str | None
) -> LoadResult:
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS.items())
    request = ""
    if counter is not None:
        head, tail = body.decode().split(counter, 1)
        request = COUNTED.format(head=head, tail=tail)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(body=body.decode(), headers=headers, request=request))
    try:
        cmd = [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            url,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(script.name)
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary for {url}:\n{out}")
    s = json.loads(line.removeprefix("WRKJSON "))
    return LoadResult(
        rps=s["requests"] / (s["duration_us"] / 1e6),
        requests=s["requests"],
        errors=s["errors"] + s["status_errors"],
        p50_ms=s["p50_us"] / 1000,
        p99_ms=s["p99_us"] / 1000,
        generator="wrk",
    )


def _fallback(url: str, body: bytes, seconds: float, connections: int, counter: str | None) -> LoadResult:
    """Run this file as a child process: the load must not share the benchmark's own interpreter."""
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(body)
    try:
        cmd = [
            sys.executable,
            __file__,
            url,
            f.name,
            "--seconds",
            str(seconds),
            "--connections",
            str(connections),
            *(["--counter", counter] if counter else []),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(f.name)
    return LoadResult(**json.loads(out.splitlines()[-1]))


async def _httpx_load(
    url: str, body: bytes, seconds: float, connections: int, counter: str | None = None
) -> dict[str, object]:
    import httpx

    head, _, tail = body.partition(counter.encode()) if counter else (body, b"", b"")
    sent = 0

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10, headers=HEADERS) as client:

        async def worker() -> None:
            nonlocal errors, sent
            while time.perf_counter() < deadline:
                sent += 1
                content = head + str(sent).encode() + tail if counter else body
                t = time.perf_counter()
                try:
                    response = await client.post(url, content=content)
                    errors += response.status_code >= 400
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    pick = (
        (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000)
        if latencies
        else (lambda q: 0.0)
    )
    return {
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "generator": "httpx",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="fallback load generator (async httpx)")
    parser.add_argument("url")
    parser.add_argument("body", type=Path)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--counter", default=None, help="a marker in the body replaced by a request number")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        _httpx_load(args.url, args.body.read_bytes(), args.seconds, args.connections, args.counter)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Server throughput and streaming, side by side: mockai, the bare-Starlette floor and the peers, one run.

Every server runs in its own process; the load comes from another (wrk) on loopback. Targets are loaded
in turn inside each round, and rounds repeat, so a burst of noise from the machine's other users lands on
all of them alike; the figure kept is the median.
"""

from __future__ import annotations

import base64
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import load
import servers
import workload
from servers import Server, Skip

SCENARIOS = {
    "chat": "chat, short, same prompt",
    "distinct": "chat, short, every prompt new",
    "tools": "chat, 2k-token system + tools",
    "embeddings": "embeddings, float",
    "embeddings_b64": "embeddings, base64",
    "stream": "chat stream, 200 tokens",
}
"""Scenario -> its label in the report. base64 is what openai-python asks for by default."""

SERVER_HEADERS = frozenset(
    {"date", "server", "content-type", "content-length", "transfer-encoding", "connection"}
)
"""Headers the server stack writes itself; the floor gets mockai's other headers, to write the same bytes."""


def request_bodies() -> dict[str, bytes]:
    raw = workload.bodies()
    raw["embeddings_b64"] = json.dumps(
        {**workload.EMBEDDINGS, "encoding_format": "base64"}, separators=(",", ":")
    ).encode()
    return raw


def probe(server: Server, scenario: str, body: bytes) -> dict[str, Any]:
    """One request before the load: is the answer a 200, and what is it (size, SSE events)?"""
    body = body.replace(workload.COUNTER.encode(), b"0")
    response = httpx.post(server.url(scenario), content=body, headers=load.HEADERS, timeout=30)
    events = response.content.count(b"data: ") - response.content.count(b"data: [DONE]")
    sse = response.headers.get("content-type", "").startswith("text/event-stream")
    own = [[k, v] for k, v in response.headers.items() if k not in SERVER_HEADERS]
    return {
        "status": response.status_code,
        "bytes": len(response.content),
        "sse": sse,
        "events": events if sse else 0,
        "content": response.content,
        "content_type": response.headers.get("content-type", ""),
        "headers": own,
    }


def canned_from(mockai_answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, object]]:
    """What the floor answers: mockai's own bytes per scenario; a stream as one chunk per SSE event."""
    canned: dict[str, dict[str, object]] = {}
    for scenario, answer in mockai_answers.items():
        content: bytes = answer["content"]
        if answer["sse"]:
            chunks = [part + b"\n\n" for part in content.split(b"\n\n") if part]
        else:
            chunks = [content]
        canned[scenario] = {
            "content_type": answer["content_type"],
            "headers": answer["headers"],
            "chunks": [base64.b64encode(c).decode() for c in chunks],
        }
    return canned


def start_all(
    with_peers: bool, extra_sources: list[Path], folder: Path, log: Callable[[str], None]
) -> tuple[list[Server], dict[str, str], dict[str, dict[str, Any]]]:
    """mockai (and mockai from other source trees, for before/after), the floor, the peers.

    Returns the servers, the peers skipped with why, and mockai's answers (the floor serves the same bytes).
    Peers start in the background meanwhile: Prism takes ~10 s to load OpenAI's 3 MB spec."""
    bodies = request_bodies()
    pool = ThreadPoolExecutor(2)
    pending = {}
    if with_peers:
        replies = {"Say hello": workload.HELLO, "Tell me a long story": workload.text_of(200)}
        pending["Prism"] = pool.submit(servers.start_prism)
        pending["aimock"] = pool.submit(servers.start_aimock, replies, folder)
        pending["llmock"] = pool.submit(servers.start_llmock, folder)
        pending["mockllm"] = pool.submit(servers.start_mockllm, replies, folder)
    skipped: dict[str, str] = {}
    started: list[Server] = []
    try:
        mockai = servers.start_mockai(workload.scenario())
        started.append(mockai)
        answers = {s: probe(mockai, s, bodies[s]) for s in SCENARIOS}
        bad = {s: a["status"] for s, a in answers.items() if a["status"] != 200}
        if bad:
            raise RuntimeError(f"mockai answered {bad} to the benchmark's requests")
        for source in extra_sources:
            started.append(servers.start_mockai(workload.scenario(), source=source))
        started.append(servers.start_floor(canned_from(answers), folder))
        for name, future in pending.items():
            try:
                started.append(future.result(timeout=900))
            except Skip as exc:
                skipped[name] = str(exc)
                log(f"bench: skipping {name}: {exc}")
            except Exception as exc:  # a peer's failure must not sink the run
                skipped[name] = f"{type(exc).__name__}: {exc}"
                log(f"bench: skipping {name}: {type(exc).__name__}: {exc}")
    except BaseException:
        for server in started:
            server.stop()
        raise
    finally:
        pool.shutdown(wait=True)
    return started, skipped, answers


def throughput(
    targets: list[Server], rounds: int, seconds: float, connections: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Requests/s per target and scenario: `rounds` rounds, each target in turn, median kept."""
    wrk = load.ensure_wrk()
    generator = (
        "wrk"
        if wrk
        else "httpx (fallback: wrk missing and could not be installed; a slower client caps the fast servers)"
    )
    bodies = request_bodies()
    plan: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        for server in targets:
            if scenario not in server.paths:
                plan.setdefault(server.name, {})[scenario] = {
                    "skipped": server.notes.get(scenario, "not served")
                }
                continue
            try:
                answer = probe(server, scenario, bodies[scenario])
            except httpx.HTTPError as exc:
                plan.setdefault(server.name, {})[scenario] = {
                    "skipped": f"no answer: {type(exc).__name__}: {exc}"
                }
                continue
            entry = {
                "status": answer["status"],
                "bytes": answer["bytes"],
                "events": answer["events"],
                "runs": [],
                "errors": 0,
            }
            if answer["status"] >= 400:
                entry["skipped"] = (
                    f"answers {answer['status']}: {answer['content'][:120].decode(errors='replace')}"
                )
            elif scenario == "stream" and not answer["sse"]:
                entry["note"] = f"answers {answer['content_type'] or 'no content type'}, not an SSE stream"
            elif server.notes.get(scenario):
                entry["note"] = server.notes[scenario]
            plan.setdefault(server.name, {})[scenario] = entry
    for r in range(rounds):
        log(f"bench: throughput round {r + 1}/{rounds}")
        for scenario in SCENARIOS:
            for server in targets:
                entry = plan[server.name][scenario]
                if "skipped" in entry:
                    continue
                try:
                    counter = workload.COUNTER if scenario == "distinct" else None
                    url = server.url(scenario)
                    result = load.run(wrk, url, bodies[scenario], seconds, connections, counter)
                except (
                    RuntimeError,
                    OSError,
                    ValueError,
                    subprocess.SubprocessError,
                ) as exc:  # e.g. a peer that died under load
                    entry["skipped"] = f"load failed: {exc}"[:300]
                    log(f"bench: {server.name}, {scenario}: {entry['skipped']}")
                    continue
                entry["runs"].append(round(result.rps, 1))
                entry["errors"] += result.errors
                entry.setdefault("p50_ms", []).append(result.p50_ms)
    for per_target in plan.values():
        for entry in per_target.values():
            if entry.get("runs"):
                entry["rps"] = statistics.median(entry["runs"])
                entry["p50_ms"] = statistics.median(entry["p50_ms"])
                if entry.get("events"):
                    entry["chunks_per_s"] = entry["rps"] * entry["events"]
    return {
        "generator": generator,
        "connections": connections,
        "seconds": seconds,
        "rounds": rounds,
        "targets": plan,
    }


def paced(server: Server, repeats: int) -> dict[str, Any]:
    """A stream paced at 50 tokens/s (one token a chunk): tokens per second asked vs measured, median.

    Measured: content chunks over the time from the first event (the role chunk) to the last content
    chunk; the server sleeps once after each event, so that span holds one sleep per content chunk."""
    body = json.dumps(workload.PACED).encode()
    rates = []
    with httpx.Client(timeout=60, headers=load.HEADERS) as client:
        for _ in range(repeats):
            stamps: list[float] = []
            with client.stream("POST", server.url("stream"), content=body) as response:
                for line in response.iter_lines():
                    if line.startswith("data: {"):
                        stamps.append(time.perf_counter())
            content_chunks = len(stamps) - 2  # the role chunk first, the finish chunk last
            rates.append(content_chunks / (stamps[-2] - stamps[0]))
    measured = statistics.median(rates)
    asked = workload.PACED_TOKENS_PER_SECOND
    return {
        "asked": asked,
        "measured": measured,
        "runs": rates,
        "tokens": content_chunks,
        "asked_over_measured": asked / measured,
    }


def run_servers(args: Any, folder: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """The whole server section: start everything, load it, measure pacing, stop everything."""
    targets, skipped, _ = start_all(not args.no_peers, [Path(p) for p in args.compare_source], folder, log)
    try:
        started = {s.name: round(s.started_s, 2) for s in targets}
        result = throughput(targets, args.rounds, args.seconds, args.connections, log)
        log("bench: paced stream accuracy")
        result["paced"] = paced(targets[0], 3)
    finally:
        for server in targets:
            server.stop()
    result["skipped"] = skipped
    result["start_s"] = started
    return result


def run_in_tempdir(args: Any, log: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mockai-bench-") as tmp:
        return run_servers(args, Path(tmp), log)

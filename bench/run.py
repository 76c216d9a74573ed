"""`make bench`: what mockai costs, side by side with its floors and its peers, measured in one run.

A mock that slows a test suite down gets removed from it. Figures taken on different days or machines
cannot be compared, and this machine is shared, so every figure here is a ratio of two measurements from
the same run, each the median of repeats:

  1. server throughput  mockai vs a bare Starlette app on the same stack answering the same bytes (the
                        floor), and vs the peers (Prism on OpenAI's spec, aimock, llmock, mockllm); wrk
  2. streaming          chunks/s with no pacing (vs the floor); paced streams, tokens/s asked vs measured
  3. per call           openai SDK calls through the fixture vs an httpx MockTransport
                        (bench/fixture_overhead.py)
  4. start-up           import time and process start to first answer, vs the floor (bench/quick.py)
  5. replay scale       cassette load and lookup at 10 / 10,000 / 100,000 interactions (bench/replay_scale.py)

Prints the table, writes bench/results.json (and bench/results-latest.json, committed) and bench/chart.png.

    .venv/bin/python bench/run.py [--quick] [--no-peers] [--rounds 3] [--seconds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import report  # noqa: E402
import workload  # noqa: E402

Log = Callable[[str], None]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    """Where and when: the chart and README quote it."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import mockai

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "mockai": mockai.__version__,
        "load_average_at_start": os.getloadavg()[0],
    }


# ------------------------------------------------------------------------------------------------------
# 4. Start-up


def import_seconds(code: str, repeats: int) -> float:
    """Median seconds to run `code` (imports) in a fresh interpreter, timed inside it."""
    probe = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    return statistics.median(
        float(subprocess.check_output([sys.executable, "-c", probe], cwd=BENCH.parent))
        for _ in range(repeats)
    )


def floor_start_to_answer(folder: Path) -> float:
    """Seconds from spawning the floor app to its first answer, as quick.start_to_ready does for mockai."""
    import servers

    canned = {"chat": {"content_type": "application/json", "chunks": ["e30="]}}
    t = time.perf_counter()
    server = servers.start_floor(canned, folder)
    try:
        servers.wait_http(server.proc, server.url("chat"), 30)
        return time.perf_counter() - t
    finally:
        server.stop()


def startup(repeats: int) -> dict[str, Any]:
    """Import time and process start to first chat answer: mockai (bench/quick.py) vs the floor app."""
    import quick

    floor_imports = "import uvicorn, starlette.applications, starlette.responses, starlette.routing"
    out: dict[str, Any] = {
        "import_mockai_s": quick.import_time(repeats),
        "import_floor_s": import_seconds(floor_imports, repeats),
    }
    ready = []
    for _ in range(3):
        seconds, proc, _url = quick.start_to_ready()
        proc.terminate()
        proc.wait(timeout=10)
        ready.append(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        floor_ready = [floor_start_to_answer(Path(tmp)) for _ in range(3)]
    out["first_answer_mockai_s"] = statistics.median(ready)
    out["first_answer_floor_s"] = statistics.median(floor_ready)
    runs = [quick.ready_then_answers() for _ in range(3)]
    for key in ("ready_s", "first_call_s", "later_call_s"):
        out[f"{key.removesuffix('_s')}_mockai_s"] = statistics.median(r[key] for r in runs)
    return out


# ------------------------------------------------------------------------------------------------------
# 3. Per call, in-process


def per_call(calls: int, repeats: int) -> dict[str, Any]:
    """openai SDK calls: the fixture's loopback server and the in-process transport vs MockTransport."""
    try:
        import fixture_overhead

        from mockai.server.runner import ServerThread
        from mockai.settings import Settings
        from mockai.testing.mock import MockAI
    except ImportError as exc:  # hook: bench/fixture_overhead.py and mockai.testing.transport land separately
        return {"skipped": f"bench/fixture_overhead.py or its imports are not there yet ({exc})"}
    os.environ.pop("OPENAI_BASE_URL", None)
    with ServerThread(Settings(port=0)) as server:
        mock = MockAI(server)
        try:
            costs = fixture_overhead.call_costs(mock, calls, repeats)
            fixture = fixture_overhead.fixture_direct(server, 300, repeats)
        finally:
            mock.close()
    return {
        "calls": calls,
        "repeats": repeats,
        "seconds_per_call": costs,
        "fixture_setup_teardown_s": fixture,
    }


# ------------------------------------------------------------------------------------------------------
# 5. Replay scale


def replay(sizes: list[int], lookups: int, repeats: int) -> dict[str, Any]:
    """Cassette load time and per-lookup time per size, with bench/replay_scale.py's cassettes.

    A lookup is the server's work for one request: parse the body, normalise and hash it, find the
    recording, decode it for replay. Median of `repeats` passes of `lookups` random requests."""
    import random

    try:
        import replay_scale

        from mockai.recording import keys as fingerprint
        from mockai.recording.cassette import Cassette, write_cassette
    except ImportError as exc:
        return {"skipped": f"bench/replay_scale.py or mockai.recording.cassette is not importable ({exc})"}
    rng = random.Random(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"bench-{n}.jsonl"
            t = time.perf_counter()
            write_cassette(path, replay_scale.interactions(n))
            write_s = time.perf_counter() - t
            t = time.perf_counter()
            cassette = Cassette.load(path)
            load_s = time.perf_counter() - t
            passes = []
            for _ in range(repeats):
                bodies = [replay_scale.request_body(rng.randrange(n)) for _ in range(lookups)]
                t = time.perf_counter()
                for raw in bodies:
                    body = fingerprint.parse_body(raw, "application/json")
                    found = cassette.next_match(
                        fingerprint.key(cassette.normal_form("POST", "/v1/chat/completions", "", body)),
                        repeat_last=True,
                    )
                    assert found is not None
                    cassette.interaction(found)
                passes.append((time.perf_counter() - t) / lookups)
            rows.append(
                {
                    "interactions": n,
                    "mb": path.stat().st_size / 1e6,
                    "write_s": write_s,
                    "load_s": load_s,
                    "lookup_s": statistics.median(passes),
                    "lookup_passes_s": passes,
                }
            )
            del cassette
    return {"lookups": lookups, "repeats": repeats, "rows": rows}


# ------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of load per server and scenario (median kept)"
    )
    parser.add_argument("--seconds", type=float, default=3, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--calls", type=int, default=1000, help="SDK calls per pass, per transport")
    parser.add_argument("--sizes", default="10,10000,100000", help="cassette sizes")
    parser.add_argument(
        "--no-peers", action="store_true", help="skip the peers: Prism, aimock, llmock, mockllm (no npm, pip)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 2 s, 200 calls, cassettes up to 10,000: a smoke test"
    )
    parser.add_argument(
        "--only", default="startup,per_call,replay,servers", help="sections to run (comma-separated)"
    )
    parser.add_argument(
        "--compare-source",
        action="append",
        default=[],
        metavar="DIR",
        help=(
            "also load mockai from this source tree (e.g. `git archive HEAD` unpacked): "
            "before/after in one run"
        ),
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    parser.add_argument(
        "--latest", type=Path, default=BENCH / "results-latest.json", help="committed copy ('' to skip)"
    )
    parser.add_argument("--chart", type=Path, default=BENCH / "chart.png")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.calls, args.sizes = 1, 2, 200, "10,10000"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(args.only.split(","))
    started = time.perf_counter()
    kept = ("rounds", "seconds", "connections", "calls", "sizes", "no_peers", "quick", "only")
    results: dict[str, Any] = {"machine": machine(), "settings": {k: getattr(args, k) for k in kept}}
    workload.text_of(200)  # build the tokenizer once, outside any timing
    if "startup" in only:
        log("bench: start-up")
        results["startup"] = startup(5)
    if "per_call" in only:
        log("bench: per-call cost through the fixture")
        results["per_call"] = per_call(args.calls, args.rounds)
    if "replay" in only:
        log("bench: replay scale")
        results["replay"] = replay([int(s) for s in args.sizes.split(",")], 2000, args.rounds)
    if "servers" in only:
        import throughput

        results["servers"] = throughput.run_in_tempdir(args, log)
    results["machine"]["load_average_at_end"] = os.getloadavg()[0]
    results["machine"]["bench_seconds"] = round(time.perf_counter() - started, 1)
    text = report.table(results)
    print(text)
    results["table"] = text
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if str(args.latest) not in ("", "."):
        args.latest.write_text(json.dumps(results, indent=2, default=str) + "\n")
    note = report.chart(results, args.chart)
    log(
        f"bench: wrote {args.out}"
        + (f", {args.latest}" if str(args.latest) not in ("", ".") else "")
        + f"; {note}"
    )
    log(f"bench: done in {results['machine']['bench_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`make compat`: the clients people use, unchanged, against one mockai server, and every body checked
against OpenAI's schemas. Prints a client x endpoint matrix; exits 1 on any failure.

1. Build (or reuse) each client's environment under tests/compat/.envs/, in parallel.
2. Start `python -m mockai serve --port 0` with MOCKAI_TAP set, read its URL line, poll its health.
3. Run each client script in turn (they share the server's clock and rules, so never at once); each
   prints one JSON line per matrix row (clients/harness.py).
4. Check everything the server sent to each client against the OpenAPI schemas (tapcheck.py), then
   the main test suite's bodies too: from the tap of a run already made (`--main-tap DIR`, what CI
   does after `MOCKAI_TAP=DIR make test`, so the suite runs once), or by running it under the tap.

Options: `--only NAME` (repeatable: openai, openai028, langchain, litellm, node, agents), `--no-main-suite`,
`--main-tap DIR`.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE / "clients")]

import envs  # noqa: E402 - found through the sys.path entries just above
import tapcheck  # noqa: E402
from harness import ROWS, sample_wav  # noqa: E402

CLIENT_TIMEOUT = 300
START_TIMEOUT = 60
CLIENTS = ("openai", "openai028", "langchain", "litellm", "node", "agents")
SCHEMA_ROW = "schema conformance"
SYMBOL = {"pass": "pass", "fail": "FAIL", "skip": "skip", "n/a": "n/a"}


@dataclass
class Column:
    """One client's results: its label (with version), each row's status and detail, and its timings."""

    key: str
    label: str
    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    setup: str = ""
    seconds: float = 0.0


def build_all(only: set[str]) -> dict[str, envs.Built]:
    """Every client's environment, built in parallel (pip and npm mostly wait on the network and disk)."""
    jobs = {
        "openai": lambda: envs.Built(
            "openai", (sys.executable, str(HERE / "clients" / "with_openai.py")), 0.0, reused=True
        ),
        "openai028": lambda: envs.python_env(
            "openai028", HERE / "requirements-openai028.txt", HERE / "clients" / "with_openai028.py"
        ),
        "langchain": lambda: envs.python_env(
            "langchain", HERE / "requirements-langchain.txt", HERE / "clients" / "with_langchain.py"
        ),
        "litellm": lambda: envs.python_env(
            "litellm", HERE / "requirements-litellm.txt", HERE / "clients" / "with_litellm.py"
        ),
        "node": lambda: envs.node_env(HERE / "node"),
        "agents": lambda: envs.python_env(
            "agents", HERE / "requirements-agents.txt", HERE / "clients" / "with_agents.py"
        ),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(fn) for key, fn in jobs.items() if key in only}
        return {key: f.result() for key, f in futures.items()}


class Server:
    """`python -m mockai serve --port 0` in a child process, tapped, stopped with SIGTERM."""

    def __init__(self, tap: Path, log: Path) -> None:
        env = {**os.environ, "MOCKAI_TAP": str(tap)}
        self.log = open(log, "w")  # noqa: SIM115 - open for the server's whole life, closed in stop()
        self.proc = subprocess.Popen(
            # The clock is pinned as in tests/conftest.py: the clients use gpt-3.5-turbo and gpt-4, which the
            # live API retires on 2026-10-23, so an unpinned run would turn 404 with the wall clock.
            [sys.executable, "-m", "mockai", "serve", "--port", "0", "--as-of", "2026-06-01"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            line = ""
        found = re.search(r"serving (http://\S+/v1)", line)
        if not found:
            self.stop()
            raise RuntimeError(
                f"mockai serve printed no URL line within {START_TIMEOUT}s (got {line!r}); see {log}"
            )
        self.url = found.group(1)
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(self.url.removesuffix("/v1") + "/_mockai/health", timeout=2) as r:
                    if json.loads(r.read())["status"] == "ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _drain(self, lines: queue.Queue[str]) -> None:
        """Hand over the first stdout line (the URL), then keep reading so the pipe never fills."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put(line)
        lines.put("")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run_client(built: envs.Built, url: str, logs: Path, extra_env: dict[str, str]) -> Column:
    """Run one client script and read its JSON lines; a crash or a missing row is that row's failure."""
    column = Column(
        built.name, built.name, setup=f"{'cached' if built.reused else 'built'} in {built.seconds:.1f}s"
    )
    if built.error is not None:
        status = "skip" if built.error.startswith("skip:") else "fail"
        column.results = {row: (status, built.error.removeprefix("skip: ")) for row in ROWS}
        column.setup = "not available" if status == "skip" else "failed to build"
        return column
    env = {
        **os.environ,
        **extra_env,
        "MOCKAI_URL": url,
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": "sk-compat-0123456789abcdef",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    started = time.perf_counter()
    log = logs / f"{built.name}.log"
    try:
        done = subprocess.run(
            built.command,
            cwd=HERE / "clients",
            env=env,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
        out, err, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        out, err, code = _text(exc.stdout), _text(exc.stderr) + f"\n(timed out after {CLIENT_TIMEOUT}s)", -1
    column.seconds = time.perf_counter() - started
    log.write_text(f"$ {' '.join(built.command)}\n--- stdout\n{out}\n--- stderr\n{err}\n")
    for line in out.splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            column.label = item["client"]
            column.results[item["row"]] = (item["status"], item["detail"])
    for row in ROWS:
        if row not in column.results:
            tail = " | ".join(err.strip().splitlines()[-3:])
            column.results[row] = (
                "fail",
                f"no result: the script exited {code} before this row ({tail}); see {log}",
            )
    return column


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


def tap_size(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in folder.glob("tap-*.jsonl")}


def tap_since(folder: Path, before: dict[Path, int]) -> list[dict[str, Any]]:
    """The tap records written since `before` (byte offsets per file): one client's traffic."""
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("tap-*.jsonl")):
        with open(path, encoding="utf-8") as f:
            f.seek(before.get(path, 0))
            out.extend(json.loads(line) for line in f if line.strip())
    return out


def main_suite(tap: Path, logs: Path) -> tuple[str, str]:
    """The main test suite, run again with the tap on, and its bodies checked: every shape the tests
    provoke (rules, faults, eras, edge cases) is held to the schema, not only the clients' traffic."""
    env = {**os.environ, "MOCKAI_TAP": str(tap)}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-q",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/compat",
        "-x",
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    (logs / "main-suite.log").write_text(done.stdout + done.stderr)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    report = tapcheck.check(tapcheck.records(sorted(tap.glob("tap-*.jsonl"))))
    if done.returncode != 0:
        return (
            "fail",
            f"pytest failed ({summary}), so its bodies are incomplete; see {logs / 'main-suite.log'}",
        )
    if report.violations:
        return "fail", f"{len(report.violations)} violation(s): " + "; ".join(report.violations[:5])
    return "pass", f"pytest: {summary}; {report.summary()}"


def main_tap(tap: Path) -> tuple[str, str]:
    """The bodies an earlier run of the main suite wrote to `tap` (MOCKAI_TAP), checked against schemas."""
    files = sorted(tap.glob("tap-*.jsonl"))
    if not files:
        return "fail", f"no tap files in {tap}: run the suite with MOCKAI_TAP={tap} first"
    report = tapcheck.check(tapcheck.records(files))
    if report.violations:
        return "fail", f"{len(report.violations)} violation(s): " + "; ".join(report.violations[:5])
    return "pass", f"from the suite's own run ({len(files)} tap files); {report.summary()}"


def print_matrix(columns: list[Column]) -> None:
    rows = [*ROWS, SCHEMA_ROW]
    width = max(len(r) for r in rows) + 2
    cells = [max(len(c.label), 6) + 2 for c in columns]
    print("\n" + "endpoint".ljust(width) + "".join(c.label.ljust(w) for c, w in zip(columns, cells)))
    print("-" * (width + sum(cells)))
    for row in rows:
        print(row.ljust(width) + "".join(SYMBOL[c.results[row][0]].ljust(w) for c, w in zip(columns, cells)))
    print("-" * (width + sum(cells)))
    print("seconds".ljust(width) + "".join(f"{c.seconds:.1f}".ljust(w) for c, w in zip(columns, cells)))
    print("environment".ljust(width) + "".join(c.setup.ljust(w) for c, w in zip(columns, cells)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=CLIENTS, help="run only this client (repeatable)")
    parser.add_argument("--no-main-suite", action="store_true", help="skip the main suite's conformance pass")
    parser.add_argument(
        "--main-tap",
        type=Path,
        metavar="DIR",
        help="check the tap of a suite run already made instead of a new run",
    )
    args = parser.parse_args(argv)
    only = set(args.only or CLIENTS)
    started = time.perf_counter()
    envs.ENVS.mkdir(parents=True, exist_ok=True)
    logs = envs.ENVS / "logs"
    logs.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="mockai-compat-", dir=envs.ENVS))
    extra_env = {
        "TIKTOKEN_CACHE_DIR": str(envs.tiktoken_cache()),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "MOCKAI_COMPAT_TMP": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    os.environ["MOCKAI_COMPAT_TMP"] = str(scratch)
    sample_wav()
    print(
        f"compat: preparing {len(only)} client environment(s) under {envs.ENVS.relative_to(REPO)}/ ...",
        flush=True,
    )
    built = build_all(only)
    for b in built.values():
        state = "error: " + b.error if b.error else ("cached" if b.reused else f"built in {b.seconds:.1f}s")
        print(f"  {b.name:<10} {state}", flush=True)
    server = Server(scratch / "tap-clients", logs / "server.log")
    print(f"compat: mockai at {server.url}", flush=True)
    columns = []
    try:
        for key in CLIENTS:
            if key not in built:
                continue
            before = tap_size(scratch / "tap-clients")
            column = run_client(built[key], server.url, logs, extra_env)
            report = tapcheck.check(tap_since(scratch / "tap-clients", before))
            if built[key].error is not None:
                column.results[SCHEMA_ROW] = column.results[ROWS[0]]
            elif report.violations:
                column.results[SCHEMA_ROW] = ("fail", "; ".join(report.violations[:5]))
            else:
                column.results[SCHEMA_ROW] = ("pass", report.summary())
            columns.append(column)
            failed = sum(1 for s, _ in column.results.values() if s == "fail")
            print(
                f"  {column.label:<24} {column.seconds:5.1f}s  {'ok' if not failed else f'{failed} failing'}",
                flush=True,
            )
    finally:
        server.stop()
    main_result = None
    if args.main_tap is not None:
        print(f"compat: the main test suite's bodies, from {args.main_tap} ...", flush=True)
        main_result = main_tap(args.main_tap)
    elif not args.no_main_suite:
        print("compat: main test suite under the tap, for schema conformance ...", flush=True)
        main_result = main_suite(scratch / "tap-main", logs)
    print_matrix(columns)
    failures = [(c.label, row, d) for c in columns for row, (s, d) in c.results.items() if s == "fail"]
    notes = [(c.label, row, s, d) for c in columns for row, (s, d) in c.results.items() if s == "skip"]
    said: set[tuple[str, str]] = set()
    if main_result is not None:
        print(f"\nmain suite schema conformance: {SYMBOL[main_result[0]]}: {main_result[1]}")
        if main_result[0] == "fail":
            failures.append(("main suite", SCHEMA_ROW, main_result[1]))
    for label, row, status, detail in notes:
        if (label, detail) not in said:  # a skipped client says why once, not once per row
            said.add((label, detail))
            print(f"  {status}: {label} / {row}: {detail}")
    for label, row, detail in failures:
        print(f"  FAIL: {label} / {row}: {detail}")
    shutil.rmtree(scratch, ignore_errors=True)
    passed = sum(1 for c in columns for s, _ in c.results.values() if s == "pass") + (
        main_result is not None and main_result[0] == "pass"
    )
    print(
        f"\ncompat: {time.perf_counter() - started:.0f}s in all; client output in {logs.relative_to(REPO)}/"
    )
    print(f"compat: {passed} passed, {len(failures)} failed, {len(notes)} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

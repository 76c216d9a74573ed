"""Where a mockai server spends its time under load: py-spy samples it while wrk loads one scenario.

Prints the top functions by own time (the frame on top of the stack) and by inclusive time (anywhere on
the stack), as a share of all samples. py-spy is installed into .venv on first use (`pip install py-spy`).

    .venv/bin/python bench/profile.py [--scenario chat|embeddings_b64|stream] [--seconds 8]
        [--top 20] [--source DIR]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402
import servers  # noqa: E402
import throughput  # noqa: E402
import workload  # noqa: E402


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
        found = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    assert found is not None
    return found


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Sample `pid` without pausing it (--nonblocking), as collapsed stacks, one frame per function."""
    cmd = [
        py_spy(),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "250",
        "--nonblocking",
        "--function",
        "--format",
        "raw",
        "--output",
        str(out),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise(collapsed: str, top: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(own, inclusive) shares per function from py-spy's raw output (`frame;frame;... count` lines)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    share = lambda c: [(f, n / max(total, 1)) for f, n in c.most_common(top)]  # noqa: E731
    return share(own), share(inclusive)


def _short(frame: str) -> str:
    """`send_body (mockai/responses.py)` from py-spy's `send_body (/abs/path/mockai/responses.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name


def profile(
    scenario: str, seconds: float, top: int, source: Path | None = None
) -> tuple[list[tuple[str, float]], list[tuple[str, float]], float]:
    server = servers.start_mockai(workload.scenario(), source=source)
    try:
        body = throughput.request_bodies()[scenario]
        wrk = load.ensure_wrk()
        load.run(wrk, server.url(scenario), body, 2, 16)  # warm up: tokenizers, caches
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "stacks.txt"
            spy = record(server.proc.pid, seconds, out)
            result: list[load.LoadResult] = []
            loader = threading.Thread(
                target=lambda: result.append(load.run(wrk, server.url(scenario), body, seconds - 1, 16))
            )
            loader.start()
            loader.join()
            spy.wait(timeout=seconds + 30)
            own, inclusive = summarise(out.read_text() if out.exists() else "", top)
        return own, inclusive, result[0].rps if result else 0.0
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", default="chat", choices=["chat", "embeddings", "embeddings_b64", "stream"]
    )
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="profile mockai from another source tree (e.g. `git archive HEAD` unpacked)",
    )
    args = parser.parse_args()
    own, inclusive, rps = profile(args.scenario, args.seconds, args.top, args.source)
    print(f"{args.scenario}: {rps:.0f} requests/s under py-spy (it costs the server some throughput)")
    print(f"{'own time':>8}  function")
    for name, share in own:
        print(f"{share:8.1%}  {name}")
    print(f"\n{'incl.':>8}  function")
    for name, share in inclusive:
        print(f"{share:8.1%}  {name}")


if __name__ == "__main__":
    main()

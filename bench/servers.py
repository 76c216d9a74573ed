"""The servers the benchmark loads, each in its own process on loopback, with a bounded start-up time.

mockai itself, the bare-Starlette floor (bench/floor_app.py), and the peers: Stoplight Prism serving
OpenAI's own spec, and mockllm from PyPI. Peers are installed on first use into bench/.peers/ (git-ignored)
with their ordinary clients (npm, pip); a peer that cannot be installed or started is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEERS = BENCH / ".peers"
SPEC = (REPO / ".." / "shared" / "reference" / "openapi" / "openapi-current.yaml").resolve()
PRISM_VERSION = "5"
MOCKLLM_PACKAGES = ("mockllm", "httptools", "uvloop")  # the latter two: the same server stack as mockai


class Skip(Exception):
    """A peer that cannot run here; the message says why, and goes in the report."""


@dataclass
class Server:
    """A running server: its process, its root URL, and the path it serves each scenario on."""

    name: str
    proc: subprocess.Popen[bytes]
    root: str
    paths: Mapping[str, str]
    """Scenario name -> path; a scenario it cannot answer is left out."""
    notes: dict[str, str] = field(default_factory=dict)
    """Scenario name -> a caveat for the report (e.g. "answers JSON, not SSE")."""
    started_s: float = 0.0

    def url(self, scenario: str) -> str:
        return self.root + self.paths[scenario]

    def stop(self) -> None:
        """Terminate this server's process (only the one this module started), then kill it if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line a server prints, or Skip when it dies or stays silent past `timeout`."""
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    deadline, buf = time.monotonic() + timeout, b""
    while time.monotonic() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            if b"\n" in buf:
                return buf.split(b"\n", 1)[0].decode()
        elif proc.poll() is not None:
            raise Skip(f"exited with status {proc.returncode} before it was ready")
        time.sleep(0.01)
    raise Skip(f"printed no ready line within {timeout:.0f} s")


def wait_http(proc: subprocess.Popen[bytes], url: str, timeout: float, body: bytes | None = None) -> None:
    """Poll until `url` answers anything at all (any status): the server is accepting requests."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise Skip(f"exited with status {proc.returncode} before it was ready")
            try:
                client.post(url, content=body or b"{}", headers={"content-type": "application/json"})
                return
            except httpx.TransportError:
                time.sleep(0.05)
    raise Skip(f"did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def _killed_on_failure(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """Kill `proc` if getting it ready fails (a Skip included): no benchmark server outlives its start."""
    try:
        yield
    except BaseException:
        proc.kill()
        raise


def _spawn(
    cmd: Sequence[str], env: Mapping[str, str] | None = None, quiet: bool = False, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        list(cmd), stdout=out, stderr=subprocess.DEVNULL, cwd=cwd or REPO, env={**os.environ, **(env or {})}
    )


def start_mockai(scenario: Mapping[str, object], source: Path | None = None) -> Server:
    """`python -m mockai serve --port 0`, with the benchmark's rules PUT through the admin API.

    `source`: another source tree of mockai to run instead (e.g. `git archive HEAD` unpacked), for a
    before/after comparison in the same run."""
    t = time.perf_counter()
    env = {"PYTHONPATH": str(source)} if source else None
    proc = _spawn([sys.executable, "-m", "mockai", "serve", "--port", "0"], env=env, cwd=source)
    with _killed_on_failure(proc):
        root = _first_line(proc, 30).split()[3].removesuffix("/v1")
        httpx.put(root + "/_mockai/scenario", json=scenario, timeout=10).raise_for_status()
    paths = {
        "chat": "/v1/chat/completions",
        "embeddings": "/v1/embeddings",
        "embeddings_b64": "/v1/embeddings",
        "stream": "/v1/chat/completions",
    }
    name = f"mockai ({source.name})" if source else "mockai"
    return Server(name, proc, root, paths, started_s=time.perf_counter() - t)


def start_floor(canned: Mapping[str, dict[str, object]], folder: Path) -> Server:
    """The bare Starlette app answering `canned` (scenario -> content type and chunks), one path each."""
    spec = {f"/floor/{name}": value for name, value in canned.items()}
    path = folder / "canned.json"
    path.write_text(json.dumps(spec))
    t = time.perf_counter()
    proc = _spawn([sys.executable, str(BENCH / "floor_app.py"), "--port", "0", "--canned", str(path)])
    with _killed_on_failure(proc):
        root = _first_line(proc, 30).split()[2]
    return Server(
        "bare Starlette",
        proc,
        root,
        {name: f"/floor/{name}" for name in canned},
        started_s=time.perf_counter() - t,
    )


# ------------------------------------------------------------------------------------------------------
# Peers


def _prism_bin() -> Path:
    """Prism's launcher, installed with npm into bench/.peers/prism on first use."""
    folder = PEERS / "prism"
    launcher = folder / "node_modules" / ".bin" / "prism"
    if launcher.exists():
        return launcher
    if shutil.which("npm") is None:
        raise Skip("npm is not installed (apt-get install -y npm)")
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
        str(folder),
        f"@stoplight/prism-cli@{PRISM_VERSION}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not launcher.exists():
        raise Skip(f"npm install @stoplight/prism-cli failed: {done.stderr.strip()[-300:]}")
    return launcher


def start_prism(start_timeout: float = 120) -> Server:
    """`prism mock` on OpenAI's spec: static examples, request validation on. Its paths have no /v1."""
    if not SPEC.exists():
        raise Skip(f"the OpenAPI spec is not at {SPEC}")
    launcher = _prism_bin()
    port = free_port()
    t = time.perf_counter()
    proc = _spawn([str(launcher), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)], quiet=True)
    root = f"http://127.0.0.1:{port}"
    with _killed_on_failure(proc):
        wait_http(proc, root + "/models", start_timeout)
    paths = {
        "chat": "/chat/completions",
        "embeddings": "/embeddings",
        "embeddings_b64": "/embeddings",
        "stream": "/chat/completions",
    }
    return Server("Prism (OpenAI spec)", proc, root, paths, started_s=time.perf_counter() - t)


def _mockllm_python() -> Path:
    """A throw-away venv with mockllm from PyPI (and httptools + uvloop) in bench/.peers/mockllm-venv."""
    venv = PEERS / "mockllm-venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import mockllm.server, httptools, uvloop"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *MOCKLLM_PACKAGES],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise Skip(f"pip install mockllm failed: {done.stderr.strip()[-300:]}")
    return python


def tiktoken_cache(folder: Path) -> Path:
    """tiktoken's download cache, filled from mockai's offline vocabularies.

    mockllm counts usage with `tiktoken.encoding_for_model`, which downloads the vocabulary on first use;
    with no network every request would try again and fail. Filling the cache (file name: sha1 of the URL)
    gives it what a developer's machine would have after one online run, so it is measured at its best.
    """
    from mockai.models.tiktoken_cache import write_cache

    return write_cache(folder)


def start_mockllm(responses: Mapping[str, str], folder: Path, start_timeout: float = 60) -> Server:
    """mockllm's app (`mockllm.server:app`) under uvicorn with httptools + uvloop, one worker, no reload.

    Its own `mockllm start` always runs uvicorn with --reload (a file watcher and a child process);
    running its app directly on the same stack as mockai is the fair comparison. No lag (its default)."""
    python = _mockllm_python()
    import yaml

    path = folder / "mockllm-responses.yml"
    path.write_text(yaml.safe_dump({"responses": dict(responses), "settings": {"lag_enabled": False}}))
    port = free_port()
    env = {
        "MOCKLLM_RESPONSES_FILE": str(path),
        "TIKTOKEN_CACHE_DIR": str(tiktoken_cache(PEERS / "tiktoken-cache")),
    }
    cmd = [
        str(python),
        "-m",
        "uvicorn",
        "mockllm.server:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    t = time.perf_counter()
    proc = _spawn(cmd, env=env, quiet=True)
    root = f"http://127.0.0.1:{port}"
    with _killed_on_failure(proc):
        wait_http(proc, root + "/v1/models", start_timeout)
    paths = {"chat": "/v1/chat/completions", "stream": "/v1/chat/completions"}
    server = Server(
        "mockllm " + _version(python, "mockllm"), proc, root, paths, started_s=time.perf_counter() - t
    )
    server.notes["embeddings"] = server.notes["embeddings_b64"] = "no embeddings endpoint"
    server.notes["stream"] = "streams one character per chunk"
    return server


def _version(python: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip()


def prism_version() -> str:
    package = PEERS / "prism" / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"

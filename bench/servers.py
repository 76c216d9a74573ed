"""The servers the benchmark loads, each in its own process on loopback, with a bounded start-up time.

mockai itself, the bare-Starlette floor (bench/floor_app.py), and the peers: Stoplight Prism serving
OpenAI's own spec, aimock (CopilotKit's, Node) and llmock (npm) and mockllm (PyPI). Peers are installed on
first use, pinned, into bench/.peers/ (git-ignored) with their ordinary clients (npm, pip); a peer that
cannot be installed or started is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
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
AIMOCK_VERSION = "1.43.0"
LLMOCK_VERSION = "3.3.6"
CHAT_PATHS = {
    "chat": "/v1/chat/completions",
    "distinct": "/v1/chat/completions",
    "tools": "/v1/chat/completions",
    "stream": "/v1/chat/completions",
}
"""The chat workloads (bench/workload.py) and where an OpenAI-compatible server answers them."""
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
    group: bool = False
    """The process leads its own session (a launcher with children, like llmock's `npm exec tsx`): stop
    signals the whole group, so no child outlives the run."""

    def url(self, scenario: str) -> str:
        return self.root + self.paths[scenario]

    def stop(self) -> None:
        """Terminate this server's process (only the one this module started), then kill it if it hangs."""
        if self.group:
            self._signal_group(signal.SIGTERM)
        elif self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.group:
            self._signal_group(signal.SIGKILL)  # the children the launcher left behind, if any

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


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
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    quiet: bool = False,
    cwd: Path | None = None,
    group: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `cmd`; `group`: in a session of its own, so Server.stop can end its children too."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        list(cmd),
        stdout=out,
        stderr=subprocess.DEVNULL,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        start_new_session=group,
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
    paths = {**CHAT_PATHS, "embeddings": "/v1/embeddings", "embeddings_b64": "/v1/embeddings"}
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


def _npm_bin(folder: str, package: str, version: str, launcher: str) -> Path:
    """`launcher` from `package@version`, installed with npm into bench/.peers/`folder` on first use."""
    prefix = PEERS / folder
    path = prefix / "node_modules" / ".bin" / launcher
    if path.exists():
        return path
    if shutil.which("npm") is None:
        raise Skip("npm is not installed (apt-get install -y npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    cmd = [
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
        str(prefix),
        f"{package}@{version}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not path.exists():
        raise Skip(f"npm install {package}@{version} failed: {done.stderr.strip()[-300:]}")
    return path


def _prism_bin() -> Path:
    """Prism's launcher, installed with npm into bench/.peers/prism on first use."""
    return _npm_bin("prism", "@stoplight/prism-cli", PRISM_VERSION, "prism")


def start_aimock(replies: Mapping[str, str], folder: Path, start_timeout: float = 60) -> Server:
    """aimock (`@copilotkit/aimock`, Node): one fixture per reply, matched on the last user message.

    Its server CLI is the package's `llmock` bin (`-f` fixtures; the `aimock` bin only takes a config)."""
    launcher = _npm_bin("aimock", "@copilotkit/aimock", AIMOCK_VERSION, "llmock")
    fixtures = folder / "aimock-fixtures"
    fixtures.mkdir(exist_ok=True)
    spec = [
        {"match": {"userMessage": text}, "response": {"content": reply}} for text, reply in replies.items()
    ]
    (fixtures / "bench.json").write_text(json.dumps({"fixtures": spec}))
    port = free_port()
    cmd = [str(launcher), "-p", str(port), "-h", "127.0.0.1", "-f", str(fixtures), "--log-level", "silent"]
    t = time.perf_counter()
    proc = _spawn(cmd, quiet=True)
    root = f"http://127.0.0.1:{port}"
    with _killed_on_failure(proc):
        wait_http(proc, root + "/v1/models", start_timeout)
    server = Server(
        f"aimock {AIMOCK_VERSION}", proc, root, dict(CHAT_PATHS), started_s=time.perf_counter() - t
    )
    server.notes["stream"] = "streams 20 characters per chunk"
    server.notes["embeddings"] = server.notes["embeddings_b64"] = (
        "embeddings not set up here (fixtures of their own)"
    )
    return server


def start_llmock(folder: Path, start_timeout: float = 90) -> Server:
    """llmock (npm, TypeScript run by tsx): no delay, no request log, its `stored` replies.

    It has no scripted reply: `stored` answers one of its own stored sentences at random, the closest
    it comes to a fixed reply. Configured by the `.llmockrc.json` in its working directory."""
    launcher = _npm_bin("llmock", "llmock", LLMOCK_VERSION, "llmock")
    workdir = folder / "llmock"
    workdir.mkdir(exist_ok=True)
    preset = {
        "name": "openai",
        "model": "gpt-4o-mini",
        "endpoint": "v1/chat/completions",
        "responseType": "stored",
        "maxLoremParas": 1,
        "validateRequests": False,
        "logRequests": False,
        "debug": False,
        "stream": False,
        "responseDelay": {"min": 0, "max": 0},
        "embeddings": {"enabled": False, "dimensions": 8},
    }
    port = free_port()
    server_config = {"port": port, "host": "127.0.0.1"}
    config = {"defaultModel": "chatgpt", "models": {"chatgpt": preset}, "server": server_config}
    (workdir / ".llmockrc.json").write_text(json.dumps(config))
    t = time.perf_counter()
    proc = _spawn(
        [str(launcher), "start", f"--port={port}", "--foreground"], quiet=True, cwd=workdir, group=True
    )
    root = f"http://127.0.0.1:{port}"
    try:
        wait_http(proc, root + "/v1/chat/completions", start_timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    server = Server(
        f"llmock {LLMOCK_VERSION}",
        proc,
        root,
        {name: CHAT_PATHS[name] for name in ("chat", "distinct", "tools")},
        started_s=time.perf_counter() - t,
        group=True,
    )
    server.notes["chat"] = "answers one of its stored sentences at random: it has no scripted reply"
    server.notes["stream"] = "streams only when started with --stream, then on every request"
    server.notes["embeddings"] = server.notes["embeddings_b64"] = "embeddings off here (random vectors only)"
    return server


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
    paths = {name: path.removeprefix("/v1") for name, path in CHAT_PATHS.items()}
    paths.update({"embeddings": "/embeddings", "embeddings_b64": "/embeddings"})
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
    paths = dict(CHAT_PATHS)
    server = Server(
        "mockllm " + _version(python, "mockllm"), proc, root, paths, started_s=time.perf_counter() - t
    )
    server.notes["embeddings"] = server.notes["embeddings_b64"] = "no embeddings endpoint"
    server.notes["stream"] = "streams one character per chunk"
    server.notes["distinct"] = "matches whole prompts only: a new prompt gets its default reply"
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

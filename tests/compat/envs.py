"""The compatibility suite's client environments: one virtualenv per Python client, one npm folder.

Each lives under tests/compat/.envs/ (git-ignored) and is built once from its pinned requirements
file; a stamp holding the hash of that file and of the interpreter makes a changed pin (or a new
Python) rebuild it, and anything else reuse it. The project's .venv stays lean: the clients' own
dependencies (numpy, langchain-core, litellm's tree) never enter it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENVS = HERE / ".envs"


@dataclass(frozen=True)
class Built:
    """An environment ready to run a client script: its interpreter (or node), or why it is not."""

    name: str
    command: tuple[str, ...]
    seconds: float
    reused: bool
    error: str | None = None


def _stamp(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 480) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"`{' '.join(cmd)}` exited {done.returncode}:\n{tail}")


def python_env(name: str, requirements: Path, script: Path) -> Built:
    """A virtualenv at .envs/NAME with `requirements` installed; rebuilt when they (or Python) change."""
    started = time.perf_counter()
    folder = ENVS / name
    python = folder / "bin" / "python"
    stamp_file = folder / ".mockai-stamp"
    stamp = _stamp(requirements.read_bytes(), sys.version, str(Path(sys.base_prefix).resolve()))
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return Built(name, (str(python), str(script)), time.perf_counter() - started, reused=True)
    try:
        shutil.rmtree(folder, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(folder)])
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(requirements),
            ]
        )
        stamp_file.write_text(stamp)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        return Built(
            name, (), time.perf_counter() - started, reused=False, error=f"could not build {folder}: {exc}"
        )
    return Built(name, (str(python), str(script)), time.perf_counter() - started, reused=False)


def node_env(source: Path) -> Built:
    """npm ci of tests/compat/node's lock file into .envs/node, with the client script copied beside it
    (ESM resolves `openai` from the script's own folder)."""
    started = time.perf_counter()
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return Built(
            "node",
            (),
            0.0,
            reused=False,
            error="skip: node/npm not found on PATH (install Node 18+ to run the official Node client)",
        )
    folder = ENVS / "node"
    lock = (source / "package-lock.json").read_bytes()
    stamp = _stamp(lock, (source / "package.json").read_bytes())
    stamp_file = folder / ".mockai-stamp"
    reused = (
        stamp_file.exists()
        and stamp_file.read_text() == stamp
        and (folder / "node_modules" / "openai").is_dir()
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not reused:
            shutil.rmtree(folder / "node_modules", ignore_errors=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy2(source / name, folder / name)
            _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder)
            stamp_file.write_text(stamp)
        shutil.copy2(source / "client.mjs", folder / "client.mjs")
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        return Built(
            "node", (), time.perf_counter() - started, reused=False, error=f"could not set up {folder}: {exc}"
        )
    return Built("node", (node, str(folder / "client.mjs")), time.perf_counter() - started, reused=reused)


def tiktoken_cache() -> Path:
    """A TIKTOKEN_CACHE_DIR holding the vocabularies, written by mockai from its offline sources.

    langchain's OpenAIEmbeddings tokenizes before it sends: without this it would try the internet."""
    from mockai.models.tiktoken_cache import write_cache

    return write_cache(ENVS / "tiktoken")

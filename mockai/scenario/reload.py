"""Scenario files read again while the server runs: on `POST /_mockai/reload`, and with `--watch`
whenever one of them changes.

The watcher is a background task in the server's event loop. At most once a second it stats the files
(mtime, size, inode; requests never touch them); only when a stamp moved does it read them, and only
when their bytes differ from those the rules came from does it swap the new rules in, all files at
once through `RuleEngine.replace`, so a request sees the old rules or the new, never a mix. A file
saved unchanged or touched keeps the rules and their counters. An edit with mistakes, or a file
caught half-written, keeps the old rules and says why on stderr; the next change is tried again.

A file whose mtime is within `RACY_NS` of when it was read could be written again in the same clock
tick without its stamp changing, so until it settles its bytes are compared on every look.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from typing import Protocol

from mockai.errors import OpenAIError
from mockai.scenario.engine import RuleEngine
from mockai.scenario.files import SUFFIXES, Problem, Scenario, ScenarioError, scenario_from_bytes
from mockai.scenario.lint import never_fire

INTERVAL = 1.0
"""Seconds between two looks at the files' stamps."""
RACY_NS = 2_000_000_000
"""Mtimes this close to the read are not trusted to catch a further write (FAT keeps 2 s)."""

Stamp = tuple[int, int, int] | None
"""(mtime_ns, size, inode) of a file; None when it cannot be stat'ed."""


def stamp(path: str) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class Target(Protocol):
    """What reloading changes: the server state (mockai.server.state.MockState) implements it."""

    rules: RuleEngine
    scenario_files: tuple[str, ...]

    def apply(self, scenario: Scenario) -> None:
        """Take a scenario's own settings (limits, clock, seed)."""

    def forget_scenarios(self) -> None:
        """Forget the scenarios whose settings were taken: their rules are gone."""


class Reloader:
    """Loads a server's scenario files and loads them again when asked or when they change. Thread-safe."""

    def __init__(self, state: Target) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._stamps: tuple[Stamp, ...] = ()
        self._data: tuple[bytes, ...] | None = None
        """The bytes the rules were loaded from (or the last broken edit, so it is reported once)."""
        self._racy = False
        self._folder: str | None = None
        """The scenario folder the files were named in (PUT ?file=): each read checks they are still in it."""
        self.reloads = 0
        """How many times rules were swapped in from the files (the first load included)."""

    @property
    def files(self) -> tuple[str, ...]:
        return self.state.scenario_files

    def load(self, files: tuple[str, ...] | None = None, *, folder: str | None = None) -> list[Scenario]:
        """Read `files` (default: the current ones) and swap their rules in; they become the files to watch.
        Files named inside a scenario `folder` must still resolve inside it at every later read too.

        Raises ScenarioError, keeping the old rules and files, when one cannot be read or has mistakes."""
        with self._lock:
            if files is not None:
                stamps, data = self._read(files, folder)
                loaded = self._swap(files, data)
                self._folder = folder
            else:
                stamps, data = self._read(self.files, self._folder)
                loaded = self._swap(self.files, data)
            self._remember(stamps, data)
            return loaded

    def forget(self) -> None:
        """The rules no longer come from files (the admin API replaced them): nothing to reload or watch."""
        with self._lock:
            self.state.scenario_files = ()
            self._stamps, self._data, self._racy = (), None, False
            self._folder = None

    def check(self) -> bool:
        """One look, as the watcher takes it: reload when a file's bytes changed; True when rules were
        swapped."""
        with self._lock:
            files = self.files
            if not files:
                return False
            stamps = tuple(map(stamp, files))
            if stamps == self._stamps and not self._racy:
                return False
            try:
                stamps, data = self._read(files, self._folder)
            except ScenarioError as exc:
                return self._report(stamps, None, exc)
            if data == self._data:
                self._remember(stamps, data)
                return False
            try:
                loaded = self._swap(files, data)
            except ScenarioError as exc:
                return self._report(stamps, data, exc)
            self._remember(stamps, data)
        rules = sum(len(s.rules) for s in loaded)
        print(f"mockai: reloaded {rules} rule(s) from {', '.join(files)}", file=sys.stderr, flush=True)
        return True

    def _read(
        self, files: tuple[str, ...], folder: str | None
    ) -> tuple[tuple[Stamp, ...], tuple[bytes, ...]]:
        # Stamps first: a write that lands after them changes them, so the next look reads again.
        stamps = tuple(map(stamp, files))
        data = []
        for path in files:
            try:
                if folder is not None and not Path(path).resolve().is_relative_to(Path(folder).resolve()):
                    # Nothing of what it points at goes into the message: it is not a scenario file.
                    raise ScenarioError(
                        [
                            Problem(
                                path,
                                None,
                                "no longer resolves inside the scenario folder (a symlink swapped in?); "
                                "not read. Put the scenario file itself in --scenario-dir.",
                            )
                        ]
                    )
                data.append(Path(path).read_bytes())
            except OSError as exc:
                raise ScenarioError(
                    [Problem(path, None, f"cannot read the file: {exc.strerror or exc}")]
                ) from None
        return stamps, tuple(data)

    def _swap(self, files: tuple[str, ...], data: tuple[bytes, ...]) -> list[Scenario]:
        loaded = [scenario_from_bytes(raw, path) for path, raw in zip(files, data)]
        for problem in (p for scenario in loaded for p in never_fire(scenario)):
            print(f"mockai: warning: {problem}", file=sys.stderr, flush=True)
        self.state.rules.replace(loaded)
        self.state.forget_scenarios()
        self.state.scenario_files = files
        for scenario in loaded:
            self.state.apply(scenario)
        self.reloads += 1
        return loaded

    def _remember(self, stamps: tuple[Stamp, ...], data: tuple[bytes, ...] | None) -> None:
        now = time.time_ns()
        self._stamps, self._data = stamps, data
        self._racy = any(s is not None and now - s[0] < RACY_NS for s in stamps)

    def _report(self, stamps: tuple[Stamp, ...], data: tuple[bytes, ...] | None, exc: ScenarioError) -> bool:
        reported = data is not None and data == self._data
        self._remember(stamps, data if data is not None else self._data)
        if not reported:
            print(
                f"mockai: a scenario file changed but cannot be loaded; the old rules stay.\n{exc}",
                file=sys.stderr,
                flush=True,
            )
        return False


async def watch(files: Reloader, interval: float = INTERVAL) -> None:
    """Look at the scenario files every `interval` seconds until cancelled (the server's background task)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(files.check)
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive any surprise; say it and go on
            print(
                f"mockai: watching the scenario files failed: {type(exc).__name__}: {exc}",
                file=sys.stderr,
                flush=True,
            )


def confined(folder: str | None, name: str) -> str:
    """The scenario file `name` inside `folder`, resolved; OpenAI's 400 for a name that leaves it.

    `..`, an absolute path and a symlink pointing outside all resolve outside the folder and are refused."""
    if folder is None:
        raise OpenAIError(
            400,
            "mockai: loading a scenario file by name needs a scenario folder: start the server with "
            "--scenario-dir DIR.",
            param="file",
        )
    root = Path(folder).resolve()
    try:
        target = (root / name).resolve() if name and "\x00" not in name else None
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name the OS refuses
        target = None
    if target is None or not target.is_relative_to(root) or target == root:
        raise OpenAIError(
            400,
            f"mockai: {name!r} is not a file name inside the scenario folder; give a path relative to "
            "--scenario-dir, without '..'.",
            param="file",
        )
    try:
        is_file = target.is_file()
    except OSError:  # a name too long for the OS, a component that is not a folder
        is_file = False
    if target.suffix.lower() not in SUFFIXES or not is_file:
        raise OpenAIError(
            404,
            f"mockai: there is no scenario file {name!r} in the scenario folder (*.yaml, *.yml or *.json).",
            param="file",
            code="scenario_not_found",
        )
    return str(target)

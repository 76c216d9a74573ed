"""The pytest fixture's configuration: its layers, and the one place they are merged and checked.

Precedence, broad to narrow (later wins):

    defaults < command line (--mockai-*) < `mockai_config` fixture < @pytest.mark.mockai on the module,
    then the class, then the test

`scenario` adds up across layers (broad first, so a test's own scenario comes after the shared ones);
every other key is replaced by the narrower layer. Explicit `as_of`, `seed`, `rpm`, `tpm` beat what a
scenario file sets. Scenarios from the command line and `mockai_config` are shared backgrounds: strict
mode does not require their rules to be used. Each value is checked by mockai.settings, as the CLI's are.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockai import settings
from mockai.errors import UsageError

KEYS = ("as_of", "cassette", "rpm", "scenario", "seed", "strict", "tpm")
"""What `@pytest.mark.mockai(...)` and `mockai_config` accept."""
DEFAULT_UPSTREAM = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Layer:
    """One source of settings: its name (for errors), its values, and where relative paths are looked up."""

    name: str
    values: Mapping[str, Any]
    search: tuple[Path, ...] = ()
    """Directories a relative scenario path is tried in, in order; a relative cassette path uses the first."""
    background: bool = False
    """Its scenarios are shared: never required to be used, even in strict mode."""


@dataclass(frozen=True)
class MockConfig:
    """The merged, checked settings of one test's mock."""

    scenarios: tuple[tuple[Path, bool], ...] = ()
    """(file, background) in load order."""
    as_of: dt.date | None = None
    seed: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    strict: bool = False
    cassette: Path | None = None
    record_mode: str | None = None
    """From --mockai-record; None replays only (record mode 'none')."""
    upstream: str = DEFAULT_UPSTREAM


def resolve_config(
    layers: Sequence[Layer],
    *,
    default_cassette: Callable[[], Path] | None = None,
    record_mode: str | None = None,
    upstream: str | None = None,
) -> MockConfig:
    """Merge the layers (broad first), checking every value once; raises UsageError saying how to fix it."""
    merged: dict[str, Any] = {}
    scenarios: list[tuple[Path, bool]] = []
    for layer in layers:
        if not isinstance(layer.values, Mapping):
            raise UsageError(
                f"mockai: {layer.name} must be a dict such as {{'seed': 42}}; got {layer.values!r}"
            )
        for key, value in layer.values.items():
            if key not in KEYS:
                close = difflib.get_close_matches(str(key), KEYS, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise UsageError(
                    f"mockai: unknown key {key!r} in {layer.name}.{hint} Valid keys: {', '.join(KEYS)}."
                )
            if value is None:
                continue  # "not set here": the broader layer's value stands
            if key == "scenario":
                for path in _paths(value, layer):
                    if all(path != p for p, _ in scenarios):
                        scenarios.append((path, layer.background))
            elif key == "cassette":
                merged[key] = _cassette(value, layer, default_cassette)
            else:
                merged[key] = settings.check(key, value, f"{key} in {layer.name}")
    return MockConfig(
        scenarios=tuple(scenarios), record_mode=record_mode, upstream=upstream or DEFAULT_UPSTREAM, **merged
    )


def _paths(value: Any, layer: Layer) -> list[Path]:
    """Scenario files, each found in the layer's search directories (absolute paths as they are)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    found = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or not os.fspath(item):
            raise UsageError(
                f"mockai: scenario in {layer.name} must be a file path or a list of them; got {item!r}"
            )
        path = Path(item)
        tried = (
            [path]
            if path.is_absolute()
            else list(dict.fromkeys(d / path for d in layer.search)) or [path.absolute()]
        )
        hit = next((p for p in tried if p.is_file()), None)
        if hit is None:
            where = ", ".join(str(p) for p in tried)
            raise UsageError(
                f"mockai: scenario file {os.fspath(item)!r} from {layer.name} not found; looked for {where}"
            )
        found.append(hit.resolve())
    return found


def _cassette(value: Any, layer: Layer, default: Callable[[], Path] | None) -> Path:
    if value is True and default is not None:
        return default()
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise UsageError(
            f"mockai: cassette in {layer.name} must be a file path such as 'cassettes/chat.jsonl', or True "
            "for "
            f"one named after the test; got {value!r}"
        )
    path = Path(value)
    return path if path.is_absolute() or not layer.search else layer.search[0] / path


def default_cassette(test_path: Path, nodeid: str) -> Path:
    """`<test dir>/cassettes/<module>/<Class.test_name[param]>.jsonl`, unsafe characters replaced by '-'."""
    name = ".".join(nodeid.split("::")[1:]) or test_path.stem
    return test_path.parent / "cassettes" / test_path.stem / (re.sub(r"[^\w.\[\]-]", "-", name) + ".jsonl")


__all__ = ["KEYS", "Layer", "MockConfig", "default_cassette", "resolve_config"]

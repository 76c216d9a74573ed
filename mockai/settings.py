"""How a server is set up, and the one place settings are checked and merged.

`mockai serve` flags, the pytest fixture's options (`mockai_config`, markers, `--mockai-*`), `MockAI`
and `use_cassette` all go through `merge`: each value is checked by the same function, so a mistake
gets the same message wherever it was made, naming where it was made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mockai.errors import UsageError
from mockai.recording.keys import DEFAULT_IGNORE
from mockai.recording.modes import RecordMode, ReplaySpeed


@dataclass(frozen=True)
class Settings:
    """How a server starts; `mockai serve` flags and the fixture's options map onto these."""

    host: str = "127.0.0.1"
    port: int = 8000
    as_of: dt.date | None = None
    """The simulated date; None means today (UTC)."""
    seed: int = 0
    strict: bool = False
    """A call no rule matches gets a 400 `mockai: no rule matched ...` instead of the generated reply."""
    scenarios: tuple[str, ...] = ()
    watch: bool = False
    """Reload the scenario files when they change (mtimes checked at most once a second)."""
    scenario_dir: str | None = None
    """The folder `PUT /_mockai/scenario?file=NAME` may load from; None: loading by name is refused."""
    rpm: int | None = None
    tpm: int | None = None
    real_time: bool = False
    """Use the wall clock for `created` instead of a time derived from the request."""
    journal_size: int = 10_000
    journal_bytes: int = 128 * 1024 * 1024
    """The journal's bound in bytes (bodies and headers): past it, the oldest entries go."""
    journal_body_bytes: int = 1024 * 1024
    """A request body past this is journaled as a marker with its first bytes."""
    api_key: str | None = None
    """When set, requests must carry this key (OpenAI's 401 otherwise)."""
    admin_token: str | None = None
    """When set, /_mockai/ requests must carry `Authorization: Bearer <token>`."""
    max_body_bytes: int = 32 * 1024 * 1024
    cassette: str | None = None
    """Serve /v1/... from this cassette file; None: no cassette."""
    record_mode: str = "none"
    """all | new_episodes | none | once (mockai.recording.modes.RecordMode)."""
    upstream: str | None = None
    """The base URL recordings are fetched from, e.g. https://api.openai.com/v1."""
    upstream_timeout: float = 600.0
    match_ignore: tuple[str, ...] = DEFAULT_IGNORE
    """Body fields (dotted paths) left out when matching a request to a recording."""
    scrub_headers: tuple[str, ...] = ()
    scrub_fields: tuple[str, ...] = ()
    """Extra headers and JSON fields redacted before a cassette is written (the usual secrets always are)."""
    replay_speed: str = "fast"
    """fast | realtime: replay streams at once or with their recorded timing."""


# -- one check per kind of value -----------------------------------------------------------------------
# Each takes the value and how the user named it ("--rpm", "rpm in the mockai_config fixture") and returns
# the value to keep, or raises UsageError saying what is expected.


def check_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"mockai: {name} must be a date as YYYY-MM-DD, e.g. '2023-07-06'; got {value!r}"
        ) from None


def check_count(least: int, most: int | None = None) -> Callable[[Any, str], int]:
    """A check for a whole number in [least, most]."""

    def check(value: Any, name: str) -> int:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < least
            or (most is not None and value > most)
        ):
            span = f"of at least {least}" if most is None else f"from {least} to {most}"
            raise UsageError(f"mockai: {name} must be a whole number {span}; got {value!r}")
        return value

    return check


def check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"mockai: {name} must be True or False; got {value!r}")
    return value


def check_seconds(value: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise UsageError(f"mockai: {name} must be a number of seconds above 0; got {value!r}")
    return float(value)


def check_record_mode(value: Any, name: str) -> str:
    return RecordMode(value).value


def check_replay_speed(value: Any, name: str) -> str:
    return ReplaySpeed(value).value


def check_url(value: Any, name: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise UsageError(
            f"mockai: {name} must be an http(s) base URL such as https://api.openai.com/v1 (no query); got "
            f"{value!r}"
        )
    return str(value).rstrip("/")


def check_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"mockai: {name} must be a non-empty string; got {value!r}")
    return value


def check_names(value: Any, name: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) and i for i in items):
        raise UsageError(f"mockai: {name} must be a list of names; got {value!r}")
    return tuple(items)


CHECKS: Mapping[str, Callable[[Any, str], Any]] = {
    "host": check_text,
    "port": check_count(0, 65535),
    "as_of": check_date,
    "seed": check_count(0),
    "strict": check_flag,
    "scenarios": check_names,
    "watch": check_flag,
    "scenario_dir": check_text,
    "rpm": check_count(1),
    "tpm": check_count(1),
    "real_time": check_flag,
    "journal_size": check_count(1),
    "journal_bytes": check_count(1),
    "journal_body_bytes": check_count(0),
    "api_key": check_text,
    "admin_token": check_text,
    "max_body_bytes": check_count(1),
    "cassette": check_text,
    "record_mode": check_record_mode,
    "upstream": check_url,
    "upstream_timeout": check_seconds,
    "match_ignore": check_names,
    "scrub_headers": check_names,
    "scrub_fields": check_names,
    "replay_speed": check_replay_speed,
}
"""Every Settings field and its check."""


def check(key: str, value: Any, name: str | None = None) -> Any:
    """One setting checked; `name` is how the user wrote it, for the message ("--rpm", "rpm in m")."""
    return CHECKS[key](value, name or key)


def merge(
    values: Mapping[str, Any], name: Callable[[str], str] = str, base: Settings | None = None
) -> Settings:
    """`base` (default: the defaults) with `values` over it, each checked; a None value means "not set here".

    `name(key)` is how the user wrote each setting, for the messages (`--rpm` on the command line)."""
    changes = {}
    for key, value in values.items():
        if key not in CHECKS:
            raise UsageError(f"mockai: unknown setting {key!r}; valid settings: {', '.join(CHECKS)}.")
        if value is not None:
            changes[key] = check(key, value, name(key))
    return dataclasses.replace(base or Settings(), **changes)


def flag(key: str) -> str:
    """A setting as its `mockai serve` flag: `record_mode` -> `--record-mode`."""
    return "--" + key.replace("_", "-")

"""Record and replay options that accept a string or a member, and reject typos with the valid choices."""

from __future__ import annotations

from enum import Enum

from mockai.errors import UsageError


class RecordMode(str, Enum):
    """When a cassette records, as in vcrpy: a string or a member works wherever a mode is asked for."""

    ALL = "all"
    """Send every request upstream and record it; the cassette is rewritten from scratch."""
    NEW_EPISODES = "new_episodes"
    """Replay what matches; send the rest upstream and append it."""
    NONE = "none"
    """Replay only; an unmatched request gets a 400 that shows the closest recording."""
    ONCE = "once"
    """Record everything if the cassette file does not exist yet, else replay only."""

    @classmethod
    def _missing_(cls, value: object) -> RecordMode:
        if isinstance(value, str):
            for mode in cls:
                if mode.value == value.strip().lower().replace("-", "_"):
                    return mode
        valid = ", ".join(repr(m.value) for m in sorted(cls, key=lambda m: m.value))
        raise UsageError(f"{value!r} is not a valid record mode. Valid modes are: {valid}.")


class ReplaySpeed(str, Enum):
    """How fast replay sends a recording: as fast as possible, or with the recorded delays."""

    FAST = "fast"
    REALTIME = "realtime"

    @classmethod
    def _missing_(cls, value: object) -> ReplaySpeed:
        for speed in cls:
            if isinstance(value, str) and speed.value == value.strip().lower():
                return speed
        raise UsageError(f"{value!r} is not a valid replay speed. Valid speeds are: 'fast', 'realtime'.")

"""What every endpoint needs to know about the request being answered, besides its body."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Ctx:
    as_of: dt.date
    """The simulated date."""
    seed: int
    digest: bytes
    """Hash of (seed, endpoint, body): the root of every derived id, timestamp and default text."""
    created: int
    """`created` of the response: derived from the digest, or the wall clock when asked for."""
    path: str = ""

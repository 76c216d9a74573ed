"""Response headers that changed with time in the live API (recorded traffic, shared/reference/real-traffic;
the day inside each bracket is a guess, [UNVERIFIED])."""

from __future__ import annotations

import datetime as dt

from mockai import errors

CHAT_MODEL_HEADER_UNTIL = dt.date(2024, 5, 13)
"""Chat answers stopped carrying `openai-model`: recorded 2024-04 with it, 2024-06 without."""
PROJECT_HEADER_SINCE = dt.date(2025, 8, 1)
"""Answers carry `openai-project`: recorded 2025-07 without it, 2025-08 with it."""


def dated(endpoint: str, model: str, as_of: dt.date, api_key: str | None) -> dict[str, str]:
    """The headers an answer of `endpoint` carries on `as_of`, besides those every answer has."""
    out: dict[str, str] = {}
    if endpoint != "chat" or as_of < CHAT_MODEL_HEADER_UNTIL:
        out["openai-model"] = model
    if as_of >= PROJECT_HEADER_SINCE:
        out["openai-project"] = project_id(api_key)
    return out


def project_id(key: str | None) -> str:
    """A stable fake `proj_...` for a key (never the key)."""
    return errors.fake_id("proj_", "project", key)

"""What was asked: one request to a model endpoint (`Call`), and what is known about it besides its body
(`Ctx`).

Scenario rules match against a `Call`, cassettes key on it, the generator hashes it. The app builds it
once per request after validation, so nothing downstream re-parses the body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockai.store import ObjectStore

ENDPOINTS = (
    "chat",
    "completions",
    "edits",
    "embeddings",
    "transcriptions",
    "translations",
    "speech",
    "responses",
    "moderations",
    "images",
)


@dataclass(frozen=True)
class Call:
    endpoint: str
    """One of ENDPOINTS."""
    model: str
    """The model id as the client sent it."""
    body: Mapping[str, Any]
    """The parsed JSON body (for multipart uploads: the form fields, the file as its name and size)."""
    text: str = ""
    """What `contains`/`regex` match: last user message, prompt, edit input, embedding input, transcript."""
    messages: tuple[Mapping[str, Any], ...] = ()
    """The conversation as chat messages: chat's own; the Responses API's input items (earlier turns of
    `previous_response_id` included) read as the messages they stand for. Empty for other endpoints."""
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers, lower-case names, secrets included: mask before storing."""


def last_user_text(messages: Any) -> str:
    """The text of the last user message (list-form content joined), or "" if there is none."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def content_text(content: Any) -> str:
    """A message's content as plain text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def parts_of(messages: Iterable[Any], kind: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(message index, part) for each content part of type `kind` (`image_url`, `input_audio`...)."""
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and part.get("type") == kind:
                    yield i, part


@dataclass(frozen=True)
class Ctx:
    """What every endpoint needs to know about the request being answered, besides its body."""

    as_of: dt.date
    """The simulated date."""
    seed: int
    digest: bytes
    """Hash of (seed, endpoint, body): the root of every derived id, timestamp and default text."""
    created: int
    """`created` of the response: derived from the digest, or the wall clock when asked for."""
    path: str = ""
    base_url: str = ""
    """`scheme://host` the client reached the mock at: where URLs it answers (image urls) point."""
    store: ObjectStore = field(default_factory=ObjectStore)
    """The server's stored objects: what `store: true` keeps and `previous_response_id` reads."""

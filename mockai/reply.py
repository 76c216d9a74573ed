"""What is answered: the endpoint-neutral reply value.

Scenario rules, cassettes and the deterministic generator all produce a `Reply`; each endpoint family
renders it (JSON body or SSE stream). A field left as None is "not scripted": the generator fills it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)  # fmt: skip
"""The moderation categories a reply's `categories` can flag (as /v1/moderations names them)."""


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str
    """The arguments as JSON text, exactly as the model "wrote" them."""
    id: str | None = None
    """`call_...`; derived from the request when None."""


@dataclass(frozen=True)
class ErrorReply:
    """A scripted HTTP error. `status` alone gives OpenAI's standard body and headers for that status."""

    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamPlan:
    """How a streamed reply is paced and broken. Counts are SSE chunks sent, the first (role) chunk
    included."""

    tokens_per_second: float | None = None
    chunk_tokens: int = 1
    cut_after: int | None = None
    """Close the connection (no [DONE]) after this many chunks."""
    error_after: int | None = None
    """Send an error event after this many chunks, then close."""
    malformed_after: int | None = None
    """Send a chunk that is not valid JSON after this many chunks, then close."""


@dataclass(frozen=True)
class Reply:
    text: str | None = None
    """Chat `content`; the `text` of completions, edits and transcripts."""
    tool_calls: tuple[ToolCall, ...] | None = None
    function_call: ToolCall | None = None
    refusal: str | None = None
    finish_reason: str | None = None
    embedding: tuple[float, ...] | None = None
    error: ErrorReply | None = None
    delay: float = 0.0
    """Seconds before the first byte."""
    stream: StreamPlan = field(default_factory=StreamPlan)
    usage: Mapping[str, int] | None = None
    """Overrides of usage fields (prompt_tokens, completion_tokens, total_tokens)."""
    source: str = "generator"
    """Where it came from, for the journal: "generator", "rule:<scenario>#<index>", "cassette"."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Room for endpoint-specific scripted values (e.g. audio `language`, `duration`)."""

    @property
    def scripted_output(self) -> bool:
        """True when the reply says what the model produced, so the generator must not add text."""
        return any(
            v is not None
            for v in (self.text, self.tool_calls, self.function_call, self.refusal, self.embedding)
        )

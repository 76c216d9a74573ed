"""The contract every endpoint implements: check a request into a plan, then render a reply for it.

The pipeline (mockai.server.pipeline) knows endpoints only through `Endpoint`: it reads the body (JSON,
or a multipart form when `form` is set), calls `prepare` to check it and resolve the model, chooses a
`Reply`, and calls `render`, which gives either a whole `Body` or a `Stream` of SSE events that the
pipeline sends with the reply's pacing and scripted faults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from mockai.call import Call, Ctx
from mockai.models.catalogue import Resolved
from mockai.reply import Reply


class Plan(Protocol):
    """What the pipeline reads from a checked request; each endpoint's plan carries more for its renderer."""

    @property
    def call(self) -> Call:
        """The request as rules, cassettes and the journal see it."""

    @property
    def resolved(self) -> Resolved:
        """The model it resolved to on the simulated date."""

    @property
    def cost(self) -> int:
        """Tokens the rate limiter takes for it: the prompt, plus the most the answer may use."""


PlanT = TypeVar("PlanT", bound=Plan)


@dataclass(frozen=True)
class Body:
    """A whole answer: its content type and bytes."""

    content_type: str
    data: bytes


@dataclass(frozen=True)
class Stream:
    """An answer sent as server-sent events, one per item, paced and broken as the reply's StreamPlan says."""

    events: Iterable[Mapping[str, Any]]
    """Produced lazily: nothing is computed before the answer starts."""
    done: bool = True
    """End with `data: [DONE]` (chat and completions do; the audio streams end with their last event)."""
    error: Mapping[str, Any] | None = None
    """The event a scripted `error_after` sends; None: the chat-style `{"error": ...}` event."""
    named: bool = False
    """Each event also goes with an `event: <its type>` line (the Responses API's streams)."""


Prepare = Callable[[dict[str, Any], Ctx, "str | None", Mapping[str, str]], PlanT]
"""(body, ctx, api key, headers) -> plan; raises mockai.errors.OpenAIError as the real API refuses."""


@dataclass(frozen=True)
class Endpoint(Generic[PlanT]):
    """One OpenAI endpoint family, as the pipeline sees it."""

    name: str
    """The family name rules match on (`endpoint: chat`) and the journal shows: one of
    mockai.call.ENDPOINTS."""
    prepare: Prepare[PlanT]
    render: Callable[[PlanT, Reply, Ctx], Body | Stream]
    form: bool = False
    """The body is a multipart form (an upload), not JSON."""

"""What a test asserts on: the requests mockai saw (`mockai.requests`), and the report of unmet expectations.

`Requests` is a read-only sequence of journal entries with helpers for the usual questions. The report
functions turn an unused expected rule or an unmatched strict-mode request into text that shows the
request and the nearest rule, so a failing test explains itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from mockai.errors import MockAIError
from mockai.server.journal import Entry

if TYPE_CHECKING:
    from mockai.call import Call
    from mockai.scenario.files import Rule
    from mockai.server.state import MockState

SHOWN = 5
"""How many requests a report lists per problem before it summarises the rest."""


class ExpectationError(MockAIError, AssertionError):
    """A test's mockai expectations were not met: an expected rule went unused, or a request matched
    nothing."""


class Requests(Sequence[Entry]):
    """The requests a mock has seen, oldest first: entries with .method, .path, .json, .headers, .status,
    .reply."""

    def __init__(self, entries: Callable[[], list[Entry]]) -> None:
        self._entries = entries

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...
    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        return self._entries()[index]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries())

    def __repr__(self) -> str:
        entries = self._entries()
        return f"<Requests {len(entries)}: " + ", ".join(describe(e) for e in entries[:SHOWN]) + ">"

    def filter(
        self,
        endpoint: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        model: str | None = None,
    ) -> Requests:
        """The requests that have every given value (`endpoint` is chat, completions, embeddings...)."""

        def keep(e: Entry) -> bool:
            return (
                (endpoint is None or e.endpoint == endpoint)
                and (method is None or e.method == method.upper())
                and (path is None or e.path == path)
                and (status is None or e.status == status)
                and (model is None or _body(e).get("model") == model)
            )

        chosen = [e for e in self._entries() if keep(e)]
        return Requests(lambda: chosen)

    def count(self, endpoint: str | None = None, **filters: Any) -> int:
        """How many requests have every given value; the same keywords as `filter`."""
        return len(self.filter(endpoint, **filters))

    @property
    def last(self) -> Entry:
        """The newest request; fails with a hint when there is none."""
        entries = self._entries()
        if not entries:
            raise ExpectationError(
                "mockai: no request reached the mock. Is the client pointed at it? openai.OpenAI() reads "
                "OPENAI_BASE_URL, which the mockai fixture sets; a client built before the test started, or "
                "with an explicit base_url, goes elsewhere."
            )
        return entries[-1]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The `messages` of the newest chat request."""
        chats = self.filter("chat")
        if not chats:
            raise ExpectationError(f"mockai: no chat request was made; the requests were: {self!r}")
        return list(_body(chats.last).get("messages") or [])


def _body(entry: Entry) -> dict[str, Any]:
    return entry.json if isinstance(entry.json, dict) else {}


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(entry: Entry, call: Call | None = None) -> str:
    """`POST /v1/chat/completions (model='gpt-4o-mini', text='Hi') -> 200 from generator`."""
    model = _body(entry).get("model")
    details = [f"model={model!r}"] if model is not None else []
    if call is not None and call.text:
        details.append(f"text={_clip(call.text)!r}")
    where = f" ({', '.join(details)})" if details else ""
    return f"{entry.method} {entry.path}{where} -> {entry.status} from {entry.reply.get('source', '?')}"


def call_of(entry: Entry, state: MockState) -> Call | None:
    """The `Call` rules saw for a journal entry, rebuilt from its body; None for non-model requests."""
    body = entry.json
    if entry.endpoint is None or not isinstance(body, dict):
        return None
    from mockai.call import Call, Ctx, content_text, last_user_text
    from mockai.endpoints.routes import BY_NAME

    endpoint = BY_NAME.get(entry.endpoint)
    try:
        if endpoint is None:
            raise LookupError(entry.endpoint)
        ctx = Ctx(as_of=state.as_of, seed=state.seed, digest=b"", created=0, path=entry.path)
        call: Call = endpoint.prepare(dict(body), ctx, None, dict(entry.headers)).call
        return call
    except Exception:  # noqa: BLE001 - a request the endpoint refused: show what we can
        text = last_user_text(body.get("messages")) or content_text(body.get("prompt") or body.get("input"))
        return Call(entry.endpoint, str(body.get("model", "")), body, text=text)


def unmatched_report(entry: Entry) -> str:
    """A strict-mode request no rule matched, with the engine's explanation (nearest rule first)."""
    message = str((entry.reply.get("error") or {}).get("message", ""))
    explanation = message.removeprefix("mockai: ").split("\nstrict mode is on:")[0]
    model = _body(entry).get("model")
    return (
        f"{entry.method} {entry.path} (model={model!r}) matched no rule; strict mode answered "
        f"{entry.status}:\n" + _indent(explanation)
    )


def unused_report(rule: Rule, entries: Sequence[Entry], state: MockState) -> str:
    """An expected rule that never answered, and how each request of this test missed it."""
    head = f"{rule.describe()} was expected to answer but was never used."
    model_entries = [e for e in entries if e.endpoint is not None]
    if not model_entries:
        return head + "\n  No model request reached the mock in this test."
    reach = [e for e in model_entries if rule.endpoints is None or e.endpoint in rule.endpoints]
    if not reach:
        wanted = ", ".join(sorted(rule.endpoints or ()))
        seen = "; ".join(describe(e) for e in model_entries[:SHOWN])
        return head + f"\n  It answers {wanted}, but this test only called: {seen}"
    lines = [head, "  The requests it could have answered:"]
    for entry in reach[:SHOWN]:
        call = call_of(entry, state)
        misses = rule.misses(call) if call is not None else []
        if misses:
            why = f"failed on {', '.join(misses)}" + (_case_hint(rule, call) if call is not None else "")
        else:
            why = "fits, but was not chosen (an earlier rule, or its times/call/state)"
        lines.append(f"    {describe(entry, call)}: {why}")
    if len(reach) > SHOWN:
        lines.append(f"    ... and {len(reach) - SHOWN} more")
    return "\n".join(lines)


def _case_hint(rule: Rule, call: Call) -> str:
    """A nudge when `contains` missed only because of letter case."""
    for matcher in rule.matchers:
        needles = getattr(matcher, "needles", ())
        if matcher.key == "contains" and not matcher.matches(call) and needles:
            if all(n.casefold() in call.text.casefold() for n in needles):
                return " (contains is case-sensitive; icontains is not)"
    return ""


def report(problems: Sequence[str], where: str = "") -> str:
    """The whole message of an ExpectationError."""
    count = f"{len(problems)} expectation{'s' if len(problems) != 1 else ''}"
    lines = [f"mockai: {count} not met{where}:"]
    lines += ["- " + _indent(p).lstrip() for p in problems]
    lines.append(
        "Fix the code under test or the rule. A rule added with expect=False may go unused; "
        "strict=False lets unmatched calls get the generated reply."
    )
    return "\n".join(lines)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


__all__ = [
    "ExpectationError",
    "Requests",
    "call_of",
    "describe",
    "report",
    "unmatched_report",
    "unused_report",
]

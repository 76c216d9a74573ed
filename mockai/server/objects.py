"""Reads and changes of stored objects: `/v1/responses/{id}` (retrieve, delete, input items, cancel),
`POST /v1/responses/input_tokens`, and the stored chat completions under `/v1/chat/completions`.

These never go through rules: they read what earlier answers stored in the server's state (mockai.store),
so they answer the same whatever scenario is loaded. Only an object the store does not have, while a
cassette is in use, is left to the cassette (a replayed `create` stored nothing here).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from mockai import errors
from mockai.endpoints import chat, responses
from mockai.server import pipeline
from mockai.server.exchange import Exchange
from mockai.server.state import MockState
from mockai.wire import JSON, json_bytes, send_body

Handler = Callable[[MockState, Exchange, str], Awaitable[None]]
RESPONSE = re.compile(r"/v1/responses/([^/]+)")
INPUT_ITEMS = re.compile(r"/v1/responses/([^/]+)/input_items")
CANCEL = re.compile(r"/v1/responses/([^/]+)/cancel")
COMPLETION = re.compile(r"/v1/chat/completions/([^/]+)")
MESSAGES = re.compile(r"/v1/chat/completions/([^/]+)/messages")


def find(method: str, path: str) -> tuple[Handler, str] | None | tuple[None, tuple[str, ...]]:
    """The handler for this stored-object route and the id in its path; (None, allowed methods) for a route
    it has under another method; None when the path is not one of them."""
    if path == "/v1/responses/input_tokens":
        return (_input_tokens, "") if method == "POST" else (None, ("POST",))
    if path == "/v1/chat/completions" and method in ("GET", "HEAD"):
        return _list_completions, ""
    table: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
        (INPUT_ITEMS, {"GET": _input_items}),
        (CANCEL, {"POST": _cancel}),
        (RESPONSE, {"GET": _get_response, "DELETE": _delete_response}),
        (MESSAGES, {"GET": _completion_messages}),
        (COMPLETION, {"GET": _get_completion, "POST": _update_completion, "DELETE": _delete_completion}),
    ]
    for pattern, handlers in table:
        m = pattern.fullmatch(path)
        if m is not None:
            handler = handlers.get("GET" if method == "HEAD" else method)
            if handler is None:
                return None, tuple(handlers)
            return handler, m.group(1)
    return None


def other_methods(path: str) -> tuple[str, ...]:
    """Methods a model route also answers here: `GET /v1/chat/completions` lists stored completions."""
    return ("GET",) if path == "/v1/chat/completions" else ()


async def route(state: MockState, ex: Exchange) -> bool:
    """Answer a stored-object request; False when the path is none of theirs."""
    found = find(ex.method, ex.path)
    if found is None:
        return False
    handler, arg = found
    if handler is None:
        assert isinstance(arg, tuple)
        raise errors.method_not_allowed(ex.method, ex.path, arg)
    assert isinstance(arg, str)
    try:
        await handler(state, ex, arg)
    except errors.OpenAIError as exc:
        if exc.status == 404 and state.cassette is not None and not ex.answered:
            return False  # made while replaying a cassette, so never stored here: its recording answers
        raise
    return True


async def _send(state: MockState, ex: Exchange, body: Any) -> None:
    pipeline.journal(state, ex, 200, "store")
    await send_body(ex.answer(), 200, JSON, json_bytes(body), ex.headers_out({}))


def _query(ex: Exchange) -> dict[str, str]:
    return dict(parse_qsl(ex.query, keep_blank_values=True))


def _page(ex: Exchange, items: list[dict[str, Any]], default_order: str, key: str = "id") -> dict[str, Any]:
    """A cursor page (`limit`, `order`, `after`) of `items` (oldest first), as OpenAI's list objects."""
    query = _query(ex)
    order = query.get("order", default_order)
    if order not in ("asc", "desc"):
        raise errors.invalid_value(
            "order", f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'."
        )
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise errors.invalid_type("limit", "an integer", query.get("limit")) from None
    if not 1 <= limit <= 100:
        # [UNVERIFIED] wording for an out-of-range list limit.
        raise errors.invalid_value(
            "limit", f"Invalid 'limit': expected a value between 1 and 100, but got {limit} instead."
        )
    ordered = items if order == "asc" else items[::-1]
    after = query.get("after")
    if after:
        ids = [item[key] for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    page = ordered[:limit]
    # [UNVERIFIED] an empty page's first_id/last_id: null, as OpenAI's other cursor lists say.
    return {
        "object": "list",
        "data": page,
        "first_id": page[0][key] if page else None,
        "last_id": page[-1][key] if page else None,
        "has_more": len(ordered) > limit,
    }


async def image(state: MockState, ex: Exchange) -> None:
    """`GET /_mockai/images/{name}`: an image answered as a `url`, while the store keeps it."""
    name = ex.path.removeprefix("/_mockai/images/")
    data = state.store.get("image", name)
    if not isinstance(data, bytes):
        raise errors.OpenAIError(
            404, f"mockai: no image {name!r}: it was never generated, or a reset dropped it."
        )
    await send_body(ex.answer(), 200, "image/png", data, ex.headers_out({}))


# -- responses -----------------------------------------------------------------------------------------


def _stored_response(state: MockState, response_id: str) -> responses.StoredResponse:
    stored = state.store.get("response", response_id)
    if not isinstance(stored, responses.StoredResponse):
        # [UNVERIFIED] param and code of the live API's 404 for an unknown response id.
        raise errors.OpenAIError(404, f"Response with id '{response_id}' not found.")
    return stored


async def _get_response(state: MockState, ex: Exchange, response_id: str) -> None:
    await _send(state, ex, _stored_response(state, response_id).body)


async def _delete_response(state: MockState, ex: Exchange, response_id: str) -> None:
    _stored_response(state, response_id)
    state.store.delete("response", response_id)
    # [UNVERIFIED] body: the SDK reads none; this is the shape of OpenAI's other deletions.
    await _send(state, ex, {"id": response_id, "object": "response.deleted", "deleted": True})


async def _input_items(state: MockState, ex: Exchange, response_id: str) -> None:
    stored = _stored_response(state, response_id)
    await _send(state, ex, _page(ex, list(stored.input_items), "desc"))


async def _cancel(state: MockState, ex: Exchange, response_id: str) -> None:
    stored = _stored_response(state, response_id)
    if not stored.body.get("background"):
        # [UNVERIFIED] wording.
        raise errors.OpenAIError(400, "Only responses created with background=true can be cancelled.")
    # A background response of mockai's has finished before the client can cancel it: as it stands.
    await _send(state, ex, stored.body)


async def _input_tokens(state: MockState, ex: Exchange, _: str) -> None:
    """`POST /v1/responses/input_tokens`: what `create` would count as `input_tokens` for this body."""
    body = await ex.read_json(state.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    ex.endpoint = "responses"
    ctx = pipeline.context(state, ex, "responses", body)
    plan = responses.prepare({k: v for k, v in body.items() if k != "stream"}, ctx, ex.api_key, ex.headers)
    await _send(state, ex, {"object": "response.input_tokens", "input_tokens": plan.input_tokens})


# -- stored chat completions ---------------------------------------------------------------------------


def _stored_completion(state: MockState, completion_id: str) -> chat.StoredCompletion:
    stored = state.store.get("chat", completion_id)
    if not isinstance(stored, chat.StoredCompletion):
        # [UNVERIFIED] wording and code of the live API's 404 for an unknown stored completion.
        raise errors.OpenAIError(404, f"Completion with id '{completion_id}' not found.")
    return stored


def _matches_metadata(stored: chat.StoredCompletion, wanted: Mapping[str, str]) -> bool:
    metadata = stored.body.get("metadata") or {}
    return all(metadata.get(k) == v for k, v in wanted.items())


def _metadata_filter(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`metadata[key]=value` query parameters, as the SDK sends `metadata={"key": "value"}`."""
    return {k[9:-1]: v for k, v in query if k.startswith("metadata[") and k.endswith("]")}


async def _list_completions(state: MockState, ex: Exchange, _: str) -> None:
    query = _query(ex)
    wanted = _metadata_filter(parse_qsl(ex.query, keep_blank_values=True))
    model = query.get("model")
    found = [
        s.body
        for s in state.store.values("chat")
        if isinstance(s, chat.StoredCompletion)
        and (model is None or s.requested == model or s.body.get("model") == model)
        and _matches_metadata(s, wanted)
    ]
    await _send(state, ex, _page(ex, found, "asc"))


async def _get_completion(state: MockState, ex: Exchange, completion_id: str) -> None:
    await _send(state, ex, _stored_completion(state, completion_id).body)


async def _update_completion(state: MockState, ex: Exchange, completion_id: str) -> None:
    stored = _stored_completion(state, completion_id)
    body = await ex.read_json(state.settings.max_body_bytes)
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    for name in body:
        if name != "metadata":
            raise errors.unrecognized_argument(name)
    if "metadata" not in body:
        raise errors.missing_parameter("metadata")
    metadata = body["metadata"]
    if metadata is not None and not isinstance(metadata, dict):
        raise errors.invalid_type("metadata", "an object", metadata)
    updated = stored.with_metadata(metadata or {})
    state.store.put("chat", completion_id, updated, updated.size)
    await _send(state, ex, updated.body)


async def _delete_completion(state: MockState, ex: Exchange, completion_id: str) -> None:
    _stored_completion(state, completion_id)
    state.store.delete("chat", completion_id)
    await _send(state, ex, {"object": "chat.completion.deleted", "id": completion_id, "deleted": True})


async def _completion_messages(state: MockState, ex: Exchange, completion_id: str) -> None:
    stored = _stored_completion(state, completion_id)
    await _send(state, ex, _page(ex, list(stored.messages), "asc"))

"""Stored objects: responses (retrieve, delete, input items, cancel) and stored chat completions (list,
retrieve, update, delete, messages), through the official SDK; a reset forgets them all."""

from __future__ import annotations

import httpx
import openai
import pytest
from conformance import validate

from mockai.server.state import MockState

HELLO = [{"role": "user", "content": "Hello"}]


def test_a_stored_response_is_retrieved_byte_for_byte(client: openai.OpenAI, http: httpx.Client) -> None:
    created = http.post("/v1/responses", json={"model": "gpt-4o", "input": "Keep me"})
    got = http.get(f"/v1/responses/{created.json()['id']}")
    assert got.status_code == 200
    assert got.content == created.content
    assert (
        client.responses.retrieve(created.json()["id"]).output_text
        == client.responses.create(model="gpt-4o", input="Keep me").output_text
    )


def test_store_false_keeps_nothing_and_a_missing_response_is_a_404(http: httpx.Client) -> None:
    created = http.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "Forget me", "store": False}
    ).json()
    assert created["store"] is False
    missing = http.get(f"/v1/responses/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == f"Response with id '{created['id']}' not found."
    validate("ErrorResponse", missing.json())


def test_a_deleted_response_is_gone_and_cannot_be_continued(client: openai.OpenAI) -> None:
    created = client.responses.create(model="gpt-4o", input="Short-lived")
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="gpt-4o", input="more", previous_response_id=created.id)
    assert refused.value.code == "previous_response_not_found"


def test_input_items_list_the_requests_items_newest_first_with_ids(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    created = client.responses.create(
        model="gpt-4o",
        input=[
            {"role": "user", "content": "First"},
            {"role": "assistant", "content": "Answer"},
            {"role": "user", "content": [{"type": "input_text", "text": "Second"}]},
        ],
    )
    page = client.responses.input_items.list(created.id)
    texts = [item.content[0].text for item in page.data]  # type: ignore[union-attr]
    assert texts == ["Second", "Answer", "First"]
    assert all(item.id for item in page.data)  # type: ignore[union-attr]
    raw = http.get(f"/v1/responses/{created.id}/input_items", params={"order": "asc", "limit": 2}).json()
    validate("ResponseItemList", raw)
    assert [i["content"][0]["text"] for i in raw["data"]] == ["First", "Answer"] and raw["has_more"] is True


def test_only_a_background_response_can_be_cancelled(client: openai.OpenAI) -> None:
    plain = client.responses.create(model="gpt-4o", input="x")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(plain.id)
    background = client.responses.create(model="gpt-4o", input="x", background=True)
    assert client.responses.cancel(background.id).id == background.id


def test_a_reset_forgets_stored_responses(http: httpx.Client, state: MockState) -> None:
    created = http.post("/v1/responses", json={"model": "gpt-4o", "input": "Reset me"}).json()
    state.reset()
    assert http.get(f"/v1/responses/{created['id']}").status_code == 404


def test_stored_chat_completions_list_filter_update_and_delete(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    a = client.chat.completions.create(model="gpt-4o", messages=HELLO, store=True, metadata={"team": "a"})  # type: ignore[arg-type]
    b = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Other"}],
        store=True,
        metadata={"team": "b"},
    )
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Not kept"}])
    listed = client.chat.completions.list()
    assert [c.id for c in listed.data] == [a.id, b.id]
    validate("ChatCompletionList", http.get("/v1/chat/completions").json())
    assert [c.id for c in client.chat.completions.list(metadata={"team": "b"}).data] == [b.id]
    assert [c.id for c in client.chat.completions.list(model="gpt-4o-mini").data] == [b.id]
    assert client.chat.completions.retrieve(a.id).choices[0].message.content == a.choices[0].message.content
    updated = client.chat.completions.update(a.id, metadata={"team": "c"})
    assert updated.metadata == {"team": "c"}
    deleted = client.chat.completions.delete(a.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (a.id, True, "chat.completion.deleted")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.retrieve(a.id)


def test_a_stored_completions_messages_are_listed_with_ids(client: openai.OpenAI, http: httpx.Client) -> None:
    messages = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]
    created = client.chat.completions.create(model="gpt-4o", messages=messages, store=True)  # type: ignore[arg-type]
    page = client.chat.completions.messages.list(created.id)
    assert [(m.id, m.content) for m in page.data] == [
        (f"{created.id}-0", "Be kind."),
        (f"{created.id}-1", "Hi"),
    ]


def test_list_pages_follow_the_after_cursor(client: openai.OpenAI) -> None:
    ids = [
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"n{i}"}], store=True
        ).id
        for i in range(3)
    ]
    first = client.chat.completions.list(limit=2)
    assert [c.id for c in first.data] == ids[:2] and first.has_more
    assert [c.id for c in client.chat.completions.list(limit=2).iter_pages().__next__().data] == ids[:2]
    assert [c.id for c in client.chat.completions.list(limit=2, after=ids[1]).data] == ids[2:]
    assert [c.id for c in client.chat.completions.list(limit=2)] == ids


def test_input_items_of_a_tool_turn_are_valid_against_the_spec(
    client: openai.OpenAI, http: httpx.Client
) -> None:
    tool = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
    first = client.responses.create(model="gpt-4o", input="call f", tools=[tool], tool_choice="required")  # type: ignore[list-item]
    call = first.output[0]
    assert call.type == "function_call"
    items = [
        {"role": "user", "content": "call f"},
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "done"},
    ]
    second = client.responses.create(model="gpt-4o", input=items, tools=[tool])  # type: ignore[arg-type, list-item]
    listed = http.get(f"/v1/responses/{second.id}/input_items", params={"order": "asc"}).json()
    validate("ResponseItemList", listed)
    assert [i["type"] for i in listed["data"]] == ["message", "function_call", "function_call_output"]

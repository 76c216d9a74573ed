"""GET /v1/models and /v1/models/{id}: the catalogue as of the simulated date."""

from __future__ import annotations

import json

import openai
import pytest
from conformance import validate
from conftest import set_date

from mockai.server.state import MockState


def test_the_list_matches_openais_schema(client: openai.OpenAI) -> None:
    raw = client.models.with_raw_response.list()
    validate("ListModelsResponse", json.loads(raw.text))


@pytest.mark.parametrize(
    ("as_of", "present", "absent"),
    [
        (
            "2023-07-06",
            {"text-davinci-003", "gpt-3.5-turbo-0613", "text-similarity-ada-001", "whisper-1"},
            {"gpt-4o", "gpt-3.5-turbo-0125"},
        ),
        (
            "2024-06-01",
            {"gpt-4o", "gpt-3.5-turbo-0613", "text-embedding-3-small"},
            {"text-davinci-003", "text-similarity-ada-001", "gpt-4o-mini"},
        ),
        (
            "2026-11-25",
            {"gpt-4o-mini", "gpt-5", "tts-1"},
            {"gpt-3.5-turbo-0613", "gpt-4-32k", "gpt-4-vision-preview"},
        ),
    ],
)
def test_the_list_shows_what_existed_on_the_simulated_date(
    client: openai.OpenAI, state: MockState, as_of: str, present: set, absent: set
) -> None:
    set_date(state, as_of)
    ids = {m.id for m in client.models.list()}
    assert present <= ids
    assert not (absent & ids)


def test_retrieve_returns_a_bare_model_object(client: openai.OpenAI) -> None:
    model = client.models.retrieve("gpt-3.5-turbo")
    assert (model.id, model.created, model.owned_by, model.object) == (
        "gpt-3.5-turbo",
        1677610602,
        "openai",
        "model",
    )
    validate("Model", model.model_dump())


def test_retrieving_a_retired_model_gets_a_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        client.models.retrieve("text-davinci-003")
    assert exc.value.code == "model_not_found"

"""The catalogue is current: every chat model id the installed openai SDK names answers while it is live,
and the retired ones answer the live API's 404 from their shutdown day (the deprecations page's dates)."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

import openai
import pytest
from conftest import set_date
from openai.types.shared import chat_model

from mockai.models import catalogue
from mockai.server.state import MockState

SDK_CHAT_MODELS = typing.get_args(chat_model.ChatModel)
HELLO = [{"role": "user", "content": "Hello"}]


def test_every_sdk_chat_model_id_is_in_the_catalogue() -> None:
    assert [m for m in SDK_CHAT_MODELS if m not in catalogue.MODELS] == []


@pytest.mark.parametrize("model_id", SDK_CHAT_MODELS)
def test_every_sdk_chat_model_answers_on_a_day_it_is_live(
    client: openai.OpenAI, state: MockState, model_id: str
) -> None:
    model = catalogue.MODELS[model_id]
    day = model.shutdown - dt.timedelta(days=1) if model.shutdown else max(model.released, state.as_of)
    state.as_of = day
    # The audio models refuse a request with no audio in or out, so they are asked for a spoken answer.
    spoken: dict[str, Any] = (
        {"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}
        if "audio" in model.traits
        else {}
    )
    completion = client.chat.completions.create(model=model_id, messages=HELLO, **spoken)  # type: ignore[arg-type]
    assert completion.model == model.snapshot(day)


@pytest.mark.parametrize(
    ("model_id", "shutdown"),
    [
        ("gpt-3.5-turbo", "2026-10-23"),
        ("gpt-3.5-turbo-0125", "2026-10-23"),
        ("gpt-4", "2026-10-23"),
        ("gpt-4-0613", "2026-10-23"),
        ("gpt-4-0314", "2026-03-26"),
        ("gpt-4-1106-preview", "2026-03-26"),
        ("gpt-4-0125-preview", "2026-03-26"),
        ("gpt-4-turbo-preview", "2026-03-26"),
        ("chatgpt-4o-latest", "2026-02-17"),
        ("codex-mini-latest", "2026-01-16"),
        ("gpt-4.5-preview", "2025-07-14"),
        ("o1-preview", "2025-07-28"),
        ("o1-mini", "2025-10-27"),
        ("gpt-5-chat-latest", "2026-07-23"),
        ("gpt-4o-search-preview-2025-03-11", "2026-07-23"),
        ("gpt-5.2-chat-latest", "2026-08-10"),
    ],
)
def test_retired_models_answer_until_the_day_before_their_shutdown(
    client: openai.OpenAI, state: MockState, model_id: str, shutdown: str
) -> None:
    day = dt.date.fromisoformat(shutdown)
    state.as_of = day - dt.timedelta(days=1)
    assert client.chat.completions.create(model=model_id, messages=HELLO).choices  # type: ignore[arg-type]
    state.as_of = day
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model=model_id, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.body == {
        "message": f"The model `{model_id}` has been deprecated, learn more here: "
        "https://platform.openai.com/docs/deprecations",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


def test_davinci_002_reports_its_snapshot_name(client: openai.OpenAI, state: MockState) -> None:
    set_date(state, "2026-03-31")
    completion = client.completions.create(model="davinci-002", prompt="Tell me a joke about opentelemetry")
    assert completion.model == "davinci:2023-07-21-v2"
    assert completion.usage is not None and completion.usage.prompt_tokens == 8


@pytest.mark.parametrize(
    ("model_id", "day", "reported"),
    [
        ("o3-mini", "2025-06-06", "o3-mini-2025-01-31"),
        ("o1-mini", "2025-08-15", "o1-mini-2024-09-12"),
        ("gpt-4.5-preview", "2025-03-22", "gpt-4.5-preview-2025-02-27"),
        ("gpt-4o-search-preview", "2025-05-14", "gpt-4o-search-preview-2025-03-11"),
        ("gpt-5.4-mini", "2026-05-12", "gpt-5.4-mini-2026-03-17"),
        ("gpt-5.6-sol", "2026-07-10", "gpt-5.6-sol"),
    ],
)
def test_aliases_report_the_snapshot_the_live_api_reported(
    client: openai.OpenAI, state: MockState, model_id: str, day: str, reported: str
) -> None:
    set_date(state, day)
    assert client.chat.completions.create(model=model_id, messages=HELLO).model == reported  # type: ignore[arg-type]

"""Headers and error layouts as the live API wrote them on the simulated date (recorded traffic)."""

from __future__ import annotations

import httpx
import pytest
from conftest import set_date

from mockai.server.state import MockState

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.mark.parametrize(("day", "echoed"), [("2024-04-19", True), ("2024-06-08", False)])
def test_chat_answers_stopped_naming_the_model_in_a_header_in_2024(
    http: httpx.Client, state: MockState, day: str, echoed: bool
) -> None:
    set_date(state, day)
    response = http.post("/v1/chat/completions", json={**CHAT, "model": "gpt-3.5-turbo"})
    assert ("openai-model" in response.headers) is echoed
    assert response.headers.get("openai-model", "gpt-3.5-turbo-0125") == "gpt-3.5-turbo-0125"


def test_completions_still_name_the_model(http: httpx.Client, state: MockState) -> None:
    set_date(state, "2026-03-31")
    response = http.post("/v1/completions", json={"model": "davinci-002", "prompt": "Hi", "max_tokens": 1})
    assert response.headers["openai-model"] == "davinci:2023-07-21-v2"


@pytest.mark.parametrize(("day", "present"), [("2025-07-08", False), ("2025-08-05", True)])
def test_answers_name_a_project_from_august_2025(
    http: httpx.Client, state: MockState, day: str, present: bool
) -> None:
    set_date(state, day)
    first = http.post("/v1/chat/completions", json=CHAT).headers.get("openai-project")
    assert (first is not None) is present
    if first is not None:
        assert first.startswith("proj_") and len(first) == 29
        assert http.post("/v1/chat/completions", json=CHAT).headers["openai-project"] == first


def test_an_unknown_model_404_is_written_by_the_gateway(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={**CHAT, "model": "gpt-nope"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.text == (
        "{\n"
        '    "error": {\n'
        '        "message": "The model `gpt-nope` does not exist or you do not have access to it.",\n'
        '        "type": "invalid_request_error",\n'
        '        "param": null,\n'
        '        "code": "model_not_found"\n'
        "    }\n"
        "}\n"
    )


def test_a_validation_400_is_two_space_indented_without_a_newline(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={**CHAT, "temperature": 5})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith('{\n  "error": {\n    "message": ')
    assert response.text.endswith("}")

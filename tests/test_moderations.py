"""POST /v1/moderations: deterministic scores, one result per input, flagged only when a rule says so."""

from __future__ import annotations

import httpx
import openai
import pytest
from conformance import validate

from mockai.reply import MODERATION_CATEGORIES
from mockai.server.runner import ServerThread
from mockai.testing.mock import MockAI


def test_a_moderation_is_valid_against_the_spec_and_not_flagged_by_default(http: httpx.Client) -> None:
    response = http.post("/v1/moderations", json={"input": ["hello", "goodbye"]})
    assert response.status_code == 200
    body = response.json()
    validate("CreateModerationResponse", body)
    assert body["model"] == "omni-moderation-latest" and body["id"].startswith("modr-")
    assert [r["flagged"] for r in body["results"]] == [False, False]
    for result in body["results"]:
        assert set(result["categories"]) == set(MODERATION_CATEGORIES)
        assert all(0 < s < 0.01 for s in result["category_scores"].values())
        assert result["category_applied_input_types"]["violence"] == ["text"]


def test_the_same_input_scores_the_same_bytes(http: httpx.Client) -> None:
    first = http.post("/v1/moderations", json={"input": "same"}).content
    assert http.post("/v1/moderations", json={"input": "same"}).content == first


def test_a_rule_flags_the_categories_it_names(client: openai.OpenAI, server: ServerThread) -> None:
    MockAI(server).on("moderations", contains="attack").reply(flagged=True, categories=["violence", "hate"])
    flagged = client.moderations.create(model="omni-moderation-latest", input="plan the attack")
    [result] = flagged.results
    assert result.flagged and result.categories.violence and result.categories.hate
    assert not result.categories.sexual
    assert result.category_scores.violence >= 0.8
    assert not client.moderations.create(input="a picnic").results[0].flagged


def test_images_are_scored_by_omni_moderation_only_in_their_categories(http: httpx.Client) -> None:
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    body = http.post("/v1/moderations", json={"input": parts}).json()
    applied = body["results"][0]["category_applied_input_types"]
    assert applied["violence"] == ["text", "image"] and applied["hate"] == ["text"]
    refused = http.post("/v1/moderations", json={"model": "text-moderation-latest", "input": parts})
    assert refused.status_code == 400


def test_text_moderation_latest_reports_its_snapshot(http: httpx.Client) -> None:
    body = http.post("/v1/moderations", json={"model": "text-moderation-latest", "input": "x"}).json()
    assert body["model"] == "text-moderation-007"


@pytest.mark.anyio
async def test_the_async_client_moderates(aclient: openai.AsyncOpenAI) -> None:
    result = await aclient.moderations.create(input="hello")
    assert result.results[0].flagged is False


def test_a_moderation_without_input_names_the_param(http: httpx.Client) -> None:
    error = http.post("/v1/moderations", json={"model": "omni-moderation-latest"}).json()["error"]
    assert (error["message"], error["param"]) == ("Missing required parameter: 'input'.", "input")

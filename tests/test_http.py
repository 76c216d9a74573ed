"""HTTP behaviour every client relies on: headers, error envelopes, unknown URLs and methods."""

from __future__ import annotations

import httpx
import openai
import pytest
from conformance import validate
from openai_texts import BAD_JSON

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_every_answer_carries_openais_headers(http: httpx.Client) -> None:
    for response in (
        http.post("/v1/chat/completions", json=CHAT),
        http.get("/v1/models"),
        http.post("/v1/nope", json={}),
    ):
        headers = response.headers
        assert headers["openai-version"] == "2020-10-01"
        assert headers["x-request-id"].startswith("req_") and len(headers["x-request-id"]) == 36
        assert headers["openai-processing-ms"].isdigit()
        for name in (
            "limit-requests",
            "limit-tokens",
            "remaining-requests",
            "remaining-tokens",
            "reset-requests",
            "reset-tokens",
        ):
            assert f"x-ratelimit-{name}" in headers


def test_the_sdk_exposes_the_request_id(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(**CHAT)
    assert completion._request_id.startswith("req_")


def test_malformed_json_gets_openais_parse_error(http: httpx.Client) -> None:
    response = http.post(
        "/v1/chat/completions", content=b'{"model": "gpt-4o",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": BAD_JSON, "type": "invalid_request_error", "param": None, "code": None}
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/chat/completion"), ("GET", "/v1/model/babbage-similarity"), ("GET", "/")],
)
def test_an_unknown_url_gets_invalid_url(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Invalid URL ({method} {path})"
    validate("ErrorResponse", response.json())


def test_a_wrong_method_on_a_known_route_gets_not_allowed(http: httpx.Client) -> None:
    # GET /v1/chat/completions lists stored completions (tests/test_stored.py): embeddings has no GET.
    response = http.get("/v1/embeddings")
    assert response.status_code == 405
    assert response.json()["error"]["message"] == (
        "Not allowed to GET on /v1/embeddings. (HINT: Perhaps you meant to use a different HTTP method?)"
    )


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"null", b"12"])
def test_a_json_body_that_is_not_an_object_gets_a_400(http: httpx.Client, body: bytes) -> None:
    response = http.post("/v1/chat/completions", content=body)
    assert response.status_code == 400
    validate("ErrorResponse", response.json())


def test_error_bodies_are_pretty_printed_like_the_real_api(http: httpx.Client) -> None:
    assert http.post("/v1/nope").text.startswith('{\n  "error": {\n    "message": ')


def test_health_answers_with_the_date_and_seed(http: httpx.Client) -> None:
    body = http.get("/_mockai/health").json()
    assert body["status"] == "ok" and body["seed"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "\\ud800": 1}',
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi \\udc00"}]}',
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi \\udc00"}], "stream": true}',
        b'{"model": "\\ud800", "messages": [{"role": "user", "content": "hi"}]}',
    ],
)
def test_lone_surrogates_in_a_request_never_break_the_answer(http: httpx.Client, raw: bytes) -> None:
    response = http.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 404)
    response.read().decode("utf-8")

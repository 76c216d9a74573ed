"""MOCKAI_TAP records every answer for the conformance check, and the check catches what drifts.

`make compat` trusts two things proved here: the tapped server writes what it sent (JSON, streams,
errors, audio sizes), and tests/compat/tapcheck.py fails a body the spec would reject instead of
passing everything it does not understand.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest
from compat import tapcheck

from mockai.server.app import MockApp
from mockai.server.runner import ServerThread, create_app
from mockai.server.tap import TapApp
from mockai.settings import Settings


def test_without_the_variable_the_plain_app_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCKAI_TAP", raising=False)
    assert type(create_app()) is MockApp


def test_a_tapped_server_records_bodies_streams_and_errors_that_conform(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MOCKAI_TAP", str(tmp_path))
    with ServerThread(Settings(port=0)) as srv:
        assert isinstance(create_app(srv.state), TapApp)
        client = openai.OpenAI(base_url=srv.url, api_key="sk-test-0123456789abcdef", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        list(
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
        )
        client.embeddings.create(model="text-embedding-3-small", input="hi")
        client.audio.speech.create(model="tts-1", voice="alloy", input="hi").read()
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
        httpx.get(srv.url.removesuffix("/v1") + "/_mockai/health")
    records = list(tapcheck.records(tmp_path.glob("tap-*.jsonl")))
    assert [(r["path"], r["status"]) for r in records if not r["path"].startswith("/_mockai/")] == [
        ("/v1/chat/completions", 200), ("/v1/chat/completions", 200), ("/v1/embeddings", 200),
        ("/v1/audio/speech", 200), ("/v1/chat/completions", 404),
    ]  # fmt: skip
    stream = records[1]
    assert stream["content_type"].startswith("text/event-stream") and stream["body"].endswith(
        "data: [DONE]\n\n"
    )
    assert records[3]["body"] is None and records[3]["size"] > 0 and records[3]["source"] == "generator"
    report = tapcheck.check(records)
    assert report.violations == [] and report.bodies == 3 and report.events > 2


def _chat_record(body: object, status: int = 200, stream: bool = False) -> dict[str, object]:
    text = (f"data: {json.dumps(body)}\n\ndata: [DONE]\n\n") if stream else json.dumps(body)
    ctype = "text/event-stream; charset=utf-8" if stream else "application/json"
    return {
        "method": "POST",
        "path": "/v1/chat/completions",
        "status": status,
        "content_type": ctype,
        "complete": True,
        "source": "generator",
        "size": len(text),
        "body": text,
    }


@pytest.mark.parametrize(
    ("record", "complaint"),
    [
        (
            _chat_record(
                {
                    "id": "chatcmpl-x",
                    "object": "chat.completion",
                    "created": 1,
                    "model": "m",
                    "choices": [{"index": 0}],
                }
            ),
            "required property",
        ),
        (
            _chat_record(
                {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": "no"},
                stream=True,
            ),
            "is not of type 'array'",
        ),
        (_chat_record({"error": {"message": "m"}}, status=400), "required property"),
        ({**_chat_record({}), "path": "/v1/unknown"}, "no schema known"),
    ],
)
def test_the_check_rejects_what_the_spec_rejects(record: dict[str, object], complaint: str) -> None:
    violations = tapcheck.check([record]).violations
    assert len(violations) == 1 and complaint in violations[0]


def test_recorded_bodies_are_the_recordings_business_not_the_checks() -> None:
    assert tapcheck.check([{**_chat_record({"not": "openai"}), "source": "cassette"}]).violations == []

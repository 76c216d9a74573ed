"""Cassettes as files: the JSON-lines format, crash-torn lines, the replay index, and vcrpy imports."""

from __future__ import annotations

import base64
import gzip
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from mockai.cli import main
from mockai.errors import UsageError
from mockai.recording import keys
from mockai.recording.cassette import Cassette, CassetteWarning, write_cassette
from mockai.recording.interaction import (
    Interaction,
    decode_body,
    decode_chunk,
    encode_body,
    encode_chunk,
    split_events,
)
from mockai.recording.modes import RecordMode
from mockai.recording.scrub import Scrubber
from mockai.server.runner import ServerThread
from mockai.settings import Settings

JSON = (("content-type", "application/json"),)


def chat(content: str, reply: str, request_id: str = "req_1") -> Interaction:
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}).encode()
    answer = json.dumps(
        {"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": reply}}]},
        indent=2,
    ).encode()
    return Interaction(
        "POST", "/v1/chat/completions", "", JSON, body, 200, (*JSON, ("x-request-id", request_id)), answer
    )


def lookup(cassette: Cassette, body: dict[str, object], path: str = "/v1/chat/completions") -> int | None:
    normal = cassette.normal_form("POST", path, "", body)
    return cassette.next_match(keys.key(normal), repeat_last=True)


def test_record_mode_takes_strings_or_members_and_rejects_typos_with_the_valid_modes() -> None:
    assert RecordMode("once") is RecordMode.ONCE
    assert RecordMode(RecordMode.ALL) is RecordMode.ALL
    assert RecordMode("New-Episodes") is RecordMode.NEW_EPISODES
    with pytest.raises(UsageError) as exc:
        RecordMode("onse")
    assert (
        str(exc.value)
        == "'onse' is not a valid record mode. Valid modes are: 'all', 'new_episodes', 'none', 'once'."
    )


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (json.dumps({"a": [1, 2.5], "é": None}, indent=2).encode(), "json"),
        (b'{"a":[1,2.5],"b":"\\u00e9"}', "json"),
        (b'{"a": 1}\n', "json"),
        (b'{"a": 1E5}', "text"),
        ("plain text, ünïcode".encode(), "text"),
        (b"\x00\xff\x10 binary", "base64"),
    ],
)
def test_a_body_is_stored_readably_and_decodes_to_its_exact_bytes(data: bytes, kind: str) -> None:
    stored = encode_body(data, "application/json", Scrubber())
    assert kind in stored
    assert decode_body(json.loads(json.dumps(stored))) == data


def test_sse_events_are_split_on_blank_lines_whatever_the_network_chunking() -> None:
    stream = b'data: {"x":1}\n\nevent: response.done\ndata: {"y":"\xc3\xa9"}\n\ndata: [DONE]\n\n'
    events = split_events(stream)
    assert events == [
        b'data: {"x":1}\n\n',
        b'event: response.done\ndata: {"y":"\xc3\xa9"}\n\n',
        b"data: [DONE]\n\n",
    ]
    stored = [encode_chunk(0.0, e, Scrubber()) for e in events]
    assert (
        stored[0]["data"] == {"x": 1}
        and stored[1]["event"] == "response.done"
        and stored[2]["text"] == "data: [DONE]\n\n"
    )
    assert b"".join(decode_chunk(s) for s in stored) == stream


def test_matching_ignores_key_order_whitespace_and_the_ignored_fields() -> None:
    a = keys.parse_body(b'{"model": "m", "user": "u1", "messages": []}', "application/json")
    b = keys.parse_body(b'{"messages":[],"model":"m","user":"u2"}', "application/json")
    c = keys.parse_body(b'{"messages":[],"model":"other"}', "application/json")
    key = lambda body: keys.key(keys.normal_form("POST", "/v1/chat/completions", "", body))  # noqa: E731
    assert key(a) == key(b) != key(c)


def test_multipart_uploads_match_whatever_their_random_boundary() -> None:
    files = {"file": ("a.wav", b"RIFF....WAVE", "audio/wav")}
    bodies = [
        httpx.Request("POST", "http://x/v1/audio/transcriptions", data={"model": "whisper-1"}, files=files)
        for _ in range(2)
    ]
    forms = [keys.parse_body(r.read(), r.headers["content-type"]) for r in bodies]
    assert bodies[0].headers["content-type"] != bodies[1].headers["content-type"]
    assert forms[0] == forms[1]
    assert (
        forms[0]["multipart"]["model"] == "whisper-1" and forms[0]["multipart"]["file"]["filename"] == "a.wav"
    )


def test_lookups_go_through_the_hash_index_in_recorded_order(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write_cassette(path, [chat("hi", "one", "req_1"), chat("bye", "x"), chat("hi", "two", "req_2")])
    cassette = Cassette.load(path)
    body = {"messages": [{"role": "user", "content": "hi"}], "model": "gpt-4o-mini"}
    assert [lookup(cassette, body) for _ in range(3)] == [0, 2, 2]
    cassette.rewind()
    assert lookup(cassette, body) == 0
    assert lookup(cassette, {"model": "gpt-4o-mini", "messages": []}) is None


@pytest.mark.parametrize("content", ["lone \ud800 surrogate", 2**70, "plain"])
def test_requests_orjson_cannot_read_or_write_still_load_and_match(tmp_path: Path, content: object) -> None:
    path = tmp_path / "c.jsonl"
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}).encode()
    odd = Interaction("POST", "/v1/chat/completions", "", JSON, body, 200, JSON, body)
    write_cassette(path, [odd, chat("other", "0"), odd])  # first: the load's fast path; last: its full check
    cassette = Cassette.load(path)
    assert len(cassette) == 3
    assert [
        lookup(cassette, {"messages": [{"role": "user", "content": content}], "model": "gpt-4o-mini"})
        for _ in range(2)
    ] == [0, 2]
    assert lookup(cassette, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "other"}]}) == 1
    assert cassette.interaction(0).body == body  # replayed exactly as recorded


def test_a_torn_last_line_is_skipped_with_a_warning_and_cut_off_before_the_next_recording(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.jsonl"
    write_cassette(path, [chat("one", "1"), chat("two", "2")])
    whole = path.read_bytes()
    path.write_bytes(whole + Cassette.load(path).lines[0].tobytes()[:57])  # what kill -9 mid-write leaves
    with pytest.warns(
        CassetteWarning,
        match=r"line 4 is incomplete \(the recording was interrupted\) and was skipped; the 2 interactions",
    ):
        cassette = Cassette.load(path)
    assert len(cassette) == 2
    cassette.append(cassette.encode(chat("three", "3")))
    cassette.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = Cassette.load(path)
    assert len(again) == 3 and path.read_bytes().startswith(whole)
    assert json.loads(again.interaction(2).body)["choices"][0]["message"]["content"] == "3"


def test_a_cassette_from_a_newer_mockai_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"mockai_cassette": 2}\n')
    with pytest.raises(
        UsageError, match="has cassette format version 2; this mockai .* reads version 1. Upgrade mockai"
    ):
        Cassette.load(path)


VCR_CHAT = {
    "id": "chatcmpl-vcr",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "From vcrpy."}, "finish_reason": "stop"}
    ],
}
VCR_CHUNK = {
    "id": "chatcmpl-s",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}],
}


def vcr_cassette(path: Path) -> Path:
    """A pytest-recording cassette as vcrpy writes it: lists of header values, one SSE string, gzip bytes."""

    def request(content: str, stream: bool = False) -> dict[str, object]:
        body = {
            "messages": [{"role": "user", "content": content}],
            "model": "gpt-4o-mini",
            **({"stream": True} if stream else {}),
        }
        return {
            "body": json.dumps(body),
            "headers": {"Authorization": ["DUMMY"], "Content-Type": ["application/json"]},
            "method": "POST",
            "uri": "https://api.openai.com/v1/chat/completions",
        }

    sse = (
        "".join(
            f"data: {json.dumps(c, separators=(',', ':'))}\n\n"
            for c in (
                VCR_CHUNK,
                {**VCR_CHUNK, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
            )
        )
        + "data: [DONE]\n\n"
    )
    doc = {
        "version": 1,
        "interactions": [
            {
                "request": request("hi"),
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"], "x-request-id": ["req_vcr"]},
                    "body": {"string": json.dumps(VCR_CHAT)},
                },
            },
            {
                "request": request("stream", True),
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["text/event-stream"]},
                    "body": {"string": sse},
                },
            },
            {
                "request": request("gzip"),
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
                    "body": {"string": gzip.compress(json.dumps(VCR_CHAT).encode())},
                },
            },
        ],
    }
    path.write_text(yaml.safe_dump(doc))
    assert "!!binary" in path.read_text()
    return path


def test_a_vcrpy_cassette_replays_through_the_openai_client_streams_split_into_events(tmp_path: Path) -> None:
    path = vcr_cassette(tmp_path / "test_chat.yaml")
    assert [len(it.chunks or ()) for it in map(Cassette.load(path).interaction, range(3))] == [0, 3, 0]
    with ServerThread(Settings(port=0, cassette=str(path))) as server:
        client = openai.OpenAI(base_url=server.url, api_key="sk-any", max_retries=0)
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content == "From vcrpy."
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "stream"}], stream=True
            )
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello"
        unzipped = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "gzip"}]
        )
        assert unzipped.http_response.json() == VCR_CHAT and "content-encoding" not in unzipped.headers


def test_import_vcr_converts_a_yaml_cassette_into_a_mockai_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = vcr_cassette(tmp_path / "old.yaml"), tmp_path / "new.jsonl"
    assert main(["import-vcr", str(source), str(target)]) == 0
    assert "wrote 3 interaction(s)" in capsys.readouterr().out
    lines = target.read_text().splitlines()
    assert json.loads(lines[0])["mockai_cassette"] == 1
    assert json.loads(lines[1])["request"]["headers"]["authorization"] == "<redacted>"
    assert json.loads(lines[2])["response"]["chunks"][0]["data"] == VCR_CHUNK
    assert json.loads(Cassette.load(target).interaction(2).body) == VCR_CHAT


def test_a_vcrpy_cassette_cannot_be_recorded_into(tmp_path: Path) -> None:
    path = vcr_cassette(tmp_path / "c.yaml")
    with pytest.raises(UsageError, match=r"is a vcrpy cassette; convert it with `mockai import-vcr"):
        ServerThread(
            Settings(port=0, cassette=str(path), record_mode="new_episodes", upstream="http://127.0.0.1:9/v1")
        ).start()


AIOHTTP_AND_PYDANTIC_AI = """\
interactions:
- request:
    body: '{"messages": [{"role": "user", "content": "from aiohttp"}], "model": "gpt-4o-mini"}'
    headers:
      ? !!python/object/apply:multidict._multidict.istr
      - Content-Type
      : application/json
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    body:
      string: !!binary |
        GZIPPED
    headers:
      ? !!python/object/apply:multidict._multidict.istr
      - Content-Type
      : application/json
    status:
      code: 200
      message: OK
    url: https://api.openai.com/v1/chat/completions
- request:
    headers:
      content-type:
      - application/json
    method: POST
    parsed_body:
      messages:
      - content: from pydantic-ai
        role: user
      model: gpt-4o-mini
    uri: https://api.openai.com/v1/chat/completions
  response:
    headers:
      content-type:
      - application/json
    parsed_body: PARSED
    status:
      code: 200
      message: OK
- request:
    body: ''
    headers: {}
    method: GET
    uri: https://api.openai.com/v1/models/ft%3Agpt-4o-mini-2024-07-18%3Aacme%3A%3Aabc123
  response:
    body:
      string: '{"id": "ft:gpt-4o-mini-2024-07-18:acme::abc123", "object": "model"}'
    headers: {}
    status:
      code: 200
      message: OK
version: 1
"""


def test_import_vcr_reads_aiohttp_tags_as_data_pydantic_ai_parsed_bodies_and_percent_encoded_paths(
    tmp_path: Path,
) -> None:
    gzipped = base64.b64encode(gzip.compress(json.dumps(VCR_CHAT).encode())).decode()  # no content-encoding
    text = AIOHTTP_AND_PYDANTIC_AI.replace("GZIPPED", gzipped).replace("PARSED", json.dumps(VCR_CHAT))
    (tmp_path / "mixed.yaml").write_text(text)
    assert main(["import-vcr", str(tmp_path / "mixed.yaml"), str(tmp_path / "mixed.jsonl")]) == 0
    cassette = Cassette.load(tmp_path / "mixed.jsonl")
    replayed = [cassette.interaction(i) for i in range(3)]
    assert [json.loads(it.body) for it in replayed[:2]] == [VCR_CHAT, VCR_CHAT]
    assert replayed[0].request_headers == (("content-type", "application/json"),)
    assert json.loads(replayed[1].request_body)["messages"][0]["content"] == "from pydantic-ai"
    assert replayed[2].path == "/v1/models/ft:gpt-4o-mini-2024-07-18:acme::abc123"
    with ServerThread(Settings(port=0, cassette=str(tmp_path / "mixed.jsonl"))) as server:
        client = openai.OpenAI(base_url=server.url, api_key="sk-any", max_retries=0)
        asked = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "from pydantic-ai"}]
        )
        assert asked.choices[0].message.content == "From vcrpy."


def corrupt_second_line(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Write a three-line cassette (header, "one", "two") whose "one" interaction is changed by `change`."""
    write_cassette(path, [chat("one", "1"), chat("two", "2")])
    header, first, second = path.read_text().splitlines()
    line = json.loads(first)
    change(line)
    path.write_text("\n".join([header, json.dumps(line), second]) + "\n")


def set_in(line: dict[str, Any], where: str, value: object) -> None:
    *parents, last = where.split(".")
    target = line
    for name in parents:
        target = target[name]
    target[last] = value


@pytest.mark.parametrize(
    ("where", "value", "reason"),
    [
        (
            "response.body",
            {"base64": "not base64!", "content_type": "image/png"},
            "response.body.base64 is not",
        ),
        ("response.body", "a string", "response.body is not an object"),
        ("response.status", "two hundred", "response.status is 'two hundred', not an HTTP status"),
        ("response.status", 42, "response.status is 42, not an HTTP status"),
        ("response.headers", {"x-request-id": 7}, r"response.headers\['x-request-id'\] is not a string"),
        (
            "response.chunks",
            [{"t": 0.0, "base64": "@@@@"}],
            r"response.chunks\[0\].base64 is not valid base64",
        ),
        (
            "response.chunks",
            [{"t": "soon", "text": "data: {}\n\n"}],
            r"response.chunks\[0\].t is not a number",
        ),
        ("response", [], "it needs a request and a response object"),
    ],
)
def test_a_line_replay_could_not_decode_is_refused_at_load_with_its_number(
    tmp_path: Path, where: str, value: object, reason: str
) -> None:
    path = tmp_path / "c.jsonl"
    corrupt_second_line(path, lambda line: set_in(line, where, value))
    with pytest.warns(CassetteWarning, match=rf"line 2 is not a valid interaction \({reason}.*Fix or delete"):
        cassette = Cassette.load(path)
    assert len(cassette) == 1  # the good line after it still loads
    assert json.loads(cassette.interaction(0).body)["choices"][0]["message"]["content"] == "2"


def test_valid_base64_bodies_and_chunks_still_load_and_replay_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    corrupt_second_line(
        path, lambda line: set_in(line, "response.body", {"base64": base64.b64encode(png).decode()})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cassette = Cassette.load(path)
    assert cassette.interaction(0).body == png


def test_a_refused_line_is_a_replay_miss_not_a_500(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    corrupt_second_line(path, lambda line: set_in(line, "response.body", {"base64": "%%%"}))
    with (
        pytest.warns(CassetteWarning, match="line 2"),
        ServerThread(Settings(port=0, cassette=str(path))) as server,
    ):
        client = openai.OpenAI(base_url=server.url, api_key="sk-any", max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "one"}])
        assert 400 <= caught.value.status_code < 500
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "two"}]
        )
        assert reply.choices[0].message.content == "2"

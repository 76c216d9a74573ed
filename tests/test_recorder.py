"""Record through an upstream, replay offline: byte-identical answers, record modes, secrets, crashes."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import uvicorn

from mockai.cli import main
from mockai.errors import UsageError
from mockai.recording.cassette import Cassette
from mockai.recording.session import CassetteOptions, CassetteSession
from mockai.server.runner import ServerThread, bind, uvicorn_config
from mockai.server.state import MockState
from mockai.settings import Settings

KEY = "sk-proj-SECRETkey0123456789abcdefXYZ"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
RELEASE = threading.Event()


def use_cassette(
    state: MockState,
    path: Path,
    mode: str = "none",
    upstream: str | None = None,
    timeout: float | None = None,
    **changes: Any,
) -> CassetteSession:
    """The server's `use_cassette`, with option changes named as settings (timeout: upstream_timeout)."""
    options = CassetteOptions.of(state.settings, upstream_timeout=timeout, **changes)
    return state.use_cassette(path, mode, upstream, options)


async def fake_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An OpenAI-compatible upstream with bad habits: echoes secrets, hangs, paces or breaks streams."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path, headers = scope["path"], {k.decode(): v.decode() for k, v in scope["headers"]}
    sse = [(b"content-type", b"text/event-stream")]
    if path == "/v1/echo":
        payload = json.dumps({"headers": headers, "body": body.decode("utf-8", "replace")}, indent=2).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"set-cookie", b"session=cookie-secret-value"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
    elif path == "/v1/hang":
        while not RELEASE.is_set():
            await asyncio.sleep(0.02)
    elif path in ("/v1/stream", "/v1/hang-stream", "/v1/broken-stream"):
        await send({"type": "http.response.start", "status": 200, "headers": sse})
        for i in range(3):
            await send(
                {"type": "http.response.body", "body": f'data: {{"i":{i}}}\n\n'.encode(), "more_body": True}
            )
            if path == "/v1/broken-stream":
                return  # returning mid-body makes uvicorn drop the connection
            while path == "/v1/hang-stream" and not RELEASE.is_set():
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


class AppThread:
    """Any ASGI app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        self.server = uvicorn.Server(uvicorn_config(app))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    """mockai A: the upstream that B records from."""
    with ServerThread() as a:
        yield a


@pytest.fixture(scope="module")
def fake() -> Iterator[AppThread]:
    RELEASE.clear()
    app = AppThread(fake_upstream)
    yield app
    RELEASE.set()
    app.stop()


@pytest.fixture()
def b() -> Iterator[ServerThread]:
    """mockai B, on which each test puts its own cassette."""
    with ServerThread() as server:  # stopping it ejects the cassette: closes the file and the upstream client
        yield server


def post(
    server: ServerThread, body: dict[str, Any], path: str = "/chat/completions", **kw: Any
) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=10, **kw)


def test_recording_then_replaying_offline_gives_byte_identical_answers_streams_included(
    tmp_path: Path,
) -> None:
    cassette = str(tmp_path / "session.jsonl")
    stream = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    with ServerThread() as a:
        direct = post(a, CHAT).content
        with ServerThread(Settings(port=0, cassette=cassette, record_mode="all", upstream=a.url)) as rec:
            client = openai.OpenAI(base_url=rec.url, api_key=KEY, max_retries=0)
            recorded = [
                client.chat.completions.create(**CHAT).model_dump(),
                [c.model_dump() for c in client.chat.completions.create(**stream)],
                client.completions.create(
                    model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=5
                ).model_dump(),
                [m.id for m in client.models.list()],
            ]
            raw = [post(rec, CHAT).content, post(rec, stream).content]
    assert raw[0] == direct  # passed on unchanged
    with ServerThread(Settings(port=0, cassette=cassette)) as replay:  # upstream A is gone
        client = openai.OpenAI(base_url=replay.url, api_key="sk-other", max_retries=0)
        assert client.chat.completions.create(**CHAT).model_dump() == recorded[0]
        assert [c.model_dump() for c in client.chat.completions.create(**stream)] == recorded[1]
        assert (
            client.completions.create(
                model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=5
            ).model_dump()
            == recorded[2]
        )
        assert [m.id for m in client.models.list()] == recorded[3]
        with httpx.stream("POST", replay.url + "/chat/completions", json=stream) as response:
            streamed = [part for part in response.iter_raw()]
        assert [post(replay, CHAT).content, b"".join(streamed)] == raw
        assert streamed[-1].endswith(b"data: [DONE]\n\n") and len(recorded[1]) > 3
        sources = {(e.path, e.reply["source"]) for e in replay.state.journal.entries()}
        # The models list is the catalogue's on the simulated date, never a recording.
        assert sources == {
            ("/v1/chat/completions", "cassette"),
            ("/v1/completions", "cassette"),
            ("/v1/models", "catalogue"),
        }


def test_secrets_never_reach_the_cassette_file(fake: AppThread, b: ServerThread, tmp_path: Path) -> None:
    path = tmp_path / "secrets.jsonl"
    use_cassette(
        b.state, path, "all", fake.url, scrub_headers=("x-internal-token",), scrub_fields=("customer_secret",)
    )
    secrets = {
        "authorization": f"Bearer {KEY}",
        "openai-organization": "org-SECRETorganisation",
        "openai-project": "proj_SECRETproject",
        "cookie": "sid=cookie-SECRET-session",
        "x-internal-token": "internal-SECRET-token",
    }
    answer = post(
        b,
        {"customer_secret": "field-SECRET-value", "model": "m"},
        "/echo?api-key=query-SECRET-key",
        headers=secrets,
    )
    assert (
        KEY in answer.text and answer.headers["set-cookie"] == "session=cookie-secret-value"
    )  # the client still gets it all
    b.state.eject()
    on_disk = path.read_bytes()
    for secret in [
        KEY,
        *secrets.values(),
        "field-SECRET-value",
        "query-SECRET-key",
        "cookie-secret-value",
        "SECRET",
    ]:
        assert secret.encode() not in on_disk
    assert on_disk.count(b"<redacted>") >= 8
    use_cassette(b.state, path, "none")
    assert (
        post(b, {"customer_secret": "another", "model": "m"}, "/echo?api-key=other").status_code == 200
    )  # still matches


def test_concurrent_requests_are_all_recorded(
    upstream: ServerThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "busy.jsonl"
    use_cassette(b.state, path, "all", upstream.url)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=b.url, timeout=20) as client:
            calls = [
                client.post(
                    "/chat/completions",
                    json={**CHAT, "messages": [{"role": "user", "content": f"q{i}"}], "stream": i % 2 == 0},
                )
                for i in range(20)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(burst()) == [200] * 20
    cassette = Cassette.load(path)
    contents = {cassette.interaction(i).request_body for i in range(len(cassette))}
    assert len(cassette) == 20 and all(any(f'"q{i}"'.encode() in c for c in contents) for i in range(20))


def test_kill_9_mid_stream_leaves_every_completed_interaction_readable(
    fake: AppThread, tmp_path: Path
) -> None:
    path = tmp_path / "crash.jsonl"
    args = [
        "-m",
        "mockai",
        "serve",
        "--port",
        "0",
        "--record",
        "--upstream",
        fake.url,
        "--cassette",
        str(path),
    ]
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert " serving http://" in line, (
            proc.stderr.read() if proc.stderr and proc.poll() is not None else line
        )
        url = line.split()[3]
        assert httpx.get(url.removesuffix("/v1") + "/_mockai/health").status_code == 200
        done = [httpx.post(f"{url}/echo", json={"n": n}).status_code for n in range(3)]
        done.append(httpx.post(f"{url}/stream", json={"n": 3}).status_code)
        with httpx.stream("POST", f"{url}/hang-stream", json={"n": 4}) as response:
            parts = response.iter_raw()
            first = next(parts)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            with pytest.raises(httpx.HTTPError):
                list(parts)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert done == [200] * 4 and first.startswith(b"data: ")
    cassette = Cassette.load(path)
    assert [json.loads(cassette.interaction(i).request_body)["n"] for i in range(len(cassette))] == [
        0,
        1,
        2,
        3,
    ]
    assert cassette.interaction(3).chunks is not None and len(cassette.interaction(3).chunks or ()) == 4


def test_record_mode_none_answers_a_miss_with_the_closest_recording_and_how_it_differs(
    upstream: ServerThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "x.jsonl"
    use_cassette(b.state, path, "all", upstream.url)
    assert post(b, CHAT).status_code == 200
    assert httpx.get(b.url + "/models").status_code == 200
    use_cassette(b.state, path, "none")
    miss = post(b, {**CHAT, "messages": [{"role": "user", "content": "hello"}]})
    assert miss.status_code == 400
    assert miss.json()["error"] == {
        "message": f"mockai: no recorded interaction matches POST /v1/chat/completions in {path} "
        "(record mode 'none'). "
        "Closest: #1 (line 2), differs in body.messages[0].content: 'hello' != 'hi'. "
        "Re-record with --record-mode=new_episodes --upstream URL, or make the request match the recording.",
        "type": "invalid_request_error",
        "param": None,
        "code": "cassette_miss",
    }
    assert b.state.cassette.misses == [miss.json()["error"]["message"]]


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_in_a_request_is_recorded_and_replays_like_any_other(
    upstream: ServerThread, b: ServerThread, tmp_path: Path, stream: bool
) -> None:
    path = tmp_path / "surrogate.jsonl"
    raw = (
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi \\udc00"}], "stream": %s}'
        % (b"true" if stream else b"false")
    )

    def send() -> httpx.Response:
        return httpx.post(
            b.url + "/chat/completions", content=raw, headers={"content-type": "application/json"}, timeout=10
        )

    use_cassette(b.state, path, "all", upstream.url)
    recorded = send()
    assert recorded.status_code == 200 and len(Cassette.load(path)) == 1
    use_cassette(b.state, path, "none")
    replayed = send()
    assert replayed.status_code == 200 and replayed.content == recorded.content


def test_record_mode_once_records_a_missing_cassette_then_only_replays(
    upstream: ServerThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "once.jsonl"
    use_cassette(b.state, path, "once", upstream.url)
    first = post(b, CHAT)
    calls = len(upstream.state.journal)
    use_cassette(b.state, path, "once", upstream.url)
    assert post(b, CHAT).content == first.content
    assert post(b, {**CHAT, "temperature": 0}).json()["error"]["message"].count("(record mode 'once')") == 1
    assert len(upstream.state.journal) == calls


def test_record_mode_new_episodes_replays_hits_and_records_misses(
    upstream: ServerThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "episodes.jsonl"
    use_cassette(b.state, path, "all", upstream.url)
    post(b, CHAT)
    use_cassette(b.state, path, "new_episodes", upstream.url)
    calls = len(upstream.state.journal)
    post(b, CHAT)
    assert len(upstream.state.journal) == calls  # a hit: replayed
    post(b, {**CHAT, "temperature": 0.5})
    assert len(upstream.state.journal) == calls + 1  # a miss: recorded
    assert len(Cassette.load(path)) == 2


def test_record_mode_all_records_everything_again_from_scratch(
    upstream: ServerThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "all.jsonl"
    use_cassette(b.state, path, "all", upstream.url)
    post(b, CHAT)
    post(b, {**CHAT, "temperature": 0})
    use_cassette(b.state, path, "all", upstream.url)
    calls = len(upstream.state.journal)
    post(b, CHAT)
    assert len(upstream.state.journal) == calls + 1
    assert len(Cassette.load(path)) == 1


def test_identical_requests_replay_in_recorded_order_then_the_last_repeats(
    upstream: ServerThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "order.jsonl"
    use_cassette(b.state, path, "all", upstream.url)
    ids = [post(b, CHAT).headers["x-request-id"] for _ in range(2)]
    assert ids[0] != ids[1]
    use_cassette(b.state, path, "none")
    assert [post(b, CHAT).headers["x-request-id"] for _ in range(3)] == [ids[0], ids[1], ids[1]]
    b.state.reset()  # between tests: replay starts over
    assert post(b, CHAT).headers["x-request-id"] == ids[0]


def test_recording_needs_an_upstream_and_a_cassette_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(
        UsageError,
        match=(
            r"record mode 'new_episodes' needs an upstream because it sends requests upstream: "
            r"pass --upstream URL"
        ),
    ):
        ServerThread(Settings(port=0, cassette=str(tmp_path / "c.jsonl"), record_mode="new_episodes")).start()
    with pytest.raises(
        UsageError, match=r"record mode 'once' needs an upstream because .* does not exist yet"
    ):
        ServerThread(Settings(port=0, cassette=str(tmp_path / "c.jsonl"), record_mode="once")).start()
    assert main(["serve", "--record", "--upstream", "http://127.0.0.1:9/v1"]) == 2
    assert main(["serve", "--cassette", "c.jsonl", "--record-mode", "onse"]) == 2
    err = capsys.readouterr().err
    assert "recording needs a cassette file to write to: add --cassette PATH" in err
    assert "'onse' is not a valid record mode. Valid modes are: 'all', 'new_episodes', 'none', 'once'." in err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_upstream_that_refuses_hangs_or_resets_gets_an_openai_error_and_nothing_is_recorded(
    fake: AppThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "failures.jsonl"
    use_cassette(b.state, path, "all", f"http://127.0.0.1:{closed_port()}/v1")
    refused = post(b, CHAT)
    assert refused.status_code == 502
    assert refused.json()["error"]["message"].startswith(
        f"mockai: upstream {b.state.cassette.upstream.url} refused the connection (ConnectError: "
    )
    assert refused.json()["error"]["type"] == "server_error"
    use_cassette(b.state, path, "all", fake.url, timeout=0.3)
    hung = post(b, {}, "/hang")
    assert (
        hung.status_code == 504
        and "did not answer within 0.3s (ReadTimeout)" in hung.json()["error"]["message"]
    )
    with socket.socket() as listener:  # accepts, then hangs up without a word
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True).start()
        use_cassette(b.state, path, "all", f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
        reset = post(b, CHAT)
    assert reset.status_code == 502 and "broke off the exchange (" in reset.json()["error"]["message"]
    use_cassette(b.state, path, "all", fake.url)
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", b.url + "/broken-stream", json={}) as response,
    ):
        response.read()
    assert not path.exists()


def test_realtime_replay_keeps_the_recorded_pacing_and_fast_replay_does_not(
    fake: AppThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "paced.jsonl"
    use_cassette(b.state, path, "all", fake.url)
    recorded = post(b, {}, "/stream").content
    timings = {}
    for speed in ("fast", "realtime"):
        use_cassette(b.state, path, "none", replay_speed=speed)
        start = time.perf_counter()
        assert post(b, {}, "/stream").content == recorded
        timings[speed] = time.perf_counter() - start
    assert timings["realtime"] >= 0.25 > timings["fast"]


def test_multipart_uploads_are_recorded_as_base64_and_replay_whatever_their_boundary(
    fake: AppThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "upload.jsonl"
    files = {"file": ("hello.wav", b"RIFF\x00\x01WAVEfmt binary", "audio/wav")}
    use_cassette(b.state, path, "all", fake.url)
    recorded = httpx.post(b.url + "/echo", data={"model": "whisper-1"}, files=files)
    stored = json.loads(path.read_text().splitlines()[1])["request"]["body"]
    assert stored["content_type"].startswith("multipart/form-data; boundary=") and "base64" in stored
    use_cassette(b.state, path, "none")
    replayed = httpx.post(b.url + "/echo", data={"model": "whisper-1"}, files=files)
    assert replayed.status_code == 200 and replayed.content == recorded.content
    other = httpx.post(
        b.url + "/echo",
        data={"model": "whisper-1"},
        files={"file": ("hello.wav", b"other bytes", "audio/wav")},
    )
    assert (
        other.status_code == 400
        and "differs in body.multipart.file.size: 11 != 20" in other.json()["error"]["message"]
    )


def start_recorder(url: str, path: Path, mode: str) -> tuple[subprocess.Popen[str], str]:
    """`mockai serve` recording from `url` into `path` in its own process; (process, base URL)."""
    args = [
        "-m",
        "mockai",
        "serve",
        "--port",
        "0",
        "--record-mode",
        mode,
        "--upstream",
        url,
        "--cassette",
        str(path),
    ]
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline() if proc.stdout else ""
    assert " serving http://" in line, proc.stderr.read() if proc.stderr and proc.poll() is not None else line
    return proc, line.split()[3]


def kill_9(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_a_recording_killed_twice_and_restarted_in_new_episodes_loses_nothing_acknowledged(
    fake: AppThread, tmp_path: Path
) -> None:
    path = tmp_path / "restarted.jsonl"
    proc, url = start_recorder(fake.url, path, "all")
    try:
        assert [httpx.post(f"{url}/echo", json={"n": n}).status_code for n in range(3)] == [200] * 3
    finally:
        kill_9(proc)
    proc, url = start_recorder(fake.url, path, "new_episodes")
    try:
        assert [httpx.post(f"{url}/echo", json={"n": n}).status_code for n in range(5)] == [
            200
        ] * 5  # 0-2 replayed, 3-4 recorded
        with httpx.stream("POST", f"{url}/hang-stream", json={"n": 5}) as response:
            next(response.iter_raw())
            kill_9(proc)  # mid-stream: this interaction was never acknowledged
    finally:
        kill_9(proc)
    proc, url = start_recorder(fake.url, path, "new_episodes")
    try:
        assert (
            httpx.get(url.removesuffix("/v1") + "/_mockai/requests").json()["data"] == []
        )  # a fresh process
        assert httpx.post(f"{url}/echo", json={"n": 6}).status_code == 200
        assert httpx.post(f"{url}/echo", json={"n": 0}).status_code == 200
        sources = [
            e["reply"]["source"]
            for e in httpx.get(url.removesuffix("/v1") + "/_mockai/requests").json()["data"]
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        kill_9(proc)
    assert sources == ["upstream", "cassette"]
    cassette = Cassette.load(path)
    assert [json.loads(cassette.interaction(i).request_body)["n"] for i in range(len(cassette))] == [
        0,
        1,
        2,
        3,
        4,
        6,
    ]


def test_upstream_stalling_mid_stream_past_the_timeout_cuts_the_stream_records_nothing_and_frees_the_server(
    fake: AppThread, b: ServerThread, tmp_path: Path
) -> None:
    path = tmp_path / "stalled.jsonl"
    use_cassette(b.state, path, "all", fake.url, timeout=0.3)
    started = time.monotonic()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", b.url + "/hang-stream", json={}, timeout=5) as response,
    ):
        parts = response.iter_raw()
        assert next(parts).startswith(b'data: {"i":0}')
        list(parts)
    assert time.monotonic() - started < 2
    entry = b.state.journal.entries()[-1]
    assert entry.status == 200 and entry.reply["error"]["code"] == "upstream_error"
    assert "did not answer within 0.3s (ReadTimeout)" in entry.reply["error"]["message"]
    assert not path.exists() or len(Cassette.load(path)) == 0
    use_cassette(b.state, path, "all", fake.url)
    assert post(b, {"after": 1}, "/echo").status_code == 200  # the server and the recording carry on
    assert len(Cassette.load(path)) == 1


def test_responses_record_and_replay_streams_byte_exact_and_a_replayed_retrieve_comes_from_the_cassette(
    tmp_path: Path,
) -> None:
    cassette = str(tmp_path / "responses.jsonl")
    body = {"model": "gpt-4o", "input": "Say hi"}
    with ServerThread() as a:
        with ServerThread(Settings(port=0, cassette=cassette, record_mode="all", upstream=a.url)) as rec:
            created = post(rec, body, "/responses")
            streamed = post(rec, {**body, "stream": True}, "/responses")
            got = httpx.get(f"{rec.url}/responses/{created.json()['id']}", timeout=10)
    assert got.status_code == 200 and streamed.text.startswith("event: response.created\n")
    with ServerThread(Settings(port=0, cassette=cassette)) as replay:  # upstream A is gone
        assert post(replay, body, "/responses").content == created.content
        assert post(replay, {**body, "stream": True}, "/responses").content == streamed.content
        client = openai.OpenAI(base_url=replay.url, api_key=KEY, max_retries=0)
        assert (
            client.responses.retrieve(created.json()["id"]).output_text
            == created.json()["output"][0]["content"][0]["text"]
        )

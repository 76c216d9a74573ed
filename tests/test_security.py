"""The doors a test server tends to leave open, closed: loopback by default, OpenAI's exact 401s, admin
paths that cannot leave their folder, YAML that cannot build objects, and API keys that never reach a
log, the journal or a cassette."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai_texts import MISSING_KEY

from mockai import cli
from mockai.scenario.files import ScenarioError, load_scenario
from mockai.secrets import mask_key
from mockai.server.runner import ServerThread
from mockai.server.state import MockState
from mockai.settings import Settings

KEY = "sk-proj-SECRET0123456789abcdefghijKLMN"
ADMIN = "admin-SECRET-token-0123456789"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
INCORRECT = "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys."

# -- where it listens ----------------------------------------------------------------------------------------


def test_serve_and_the_test_server_bind_127_0_0_1_by_default() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["serve"]).host == "127.0.0.1"
    with pytest.raises(SystemExit):  # uvicorn's `trace` level would log every header: not offered
        parser.parse_args(["serve", "--log-level", "trace"])
    assert Settings().host == "127.0.0.1"
    with ServerThread() as srv:
        assert srv.url.startswith("http://127.0.0.1:")


class Bound(Exception):
    """Raised instead of binding: the test stops `serve` before it listens anywhere."""


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False),
        ("127.3.4.5", False),
        ("::1", False),
        ("localhost", False),
        ("0.0.0.0", True),
        ("::", True),
        ("192.0.2.10", True),
        ("example.test", True),
    ],
)
def test_serve_warns_on_stderr_when_bound_beyond_loopback(
    host: str, warned: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mockai.server.runner

    def refuse(host: str, port: int) -> None:
        raise Bound(host)

    monkeypatch.setattr(mockai.server.runner, "bind", refuse)  # nothing is ever bound: the check runs before
    with pytest.raises(Bound):
        cli.main(["serve", "--host", host, "--port", "0"])
    err = capsys.readouterr().err
    expected = (
        f"mockai: warning: listening on {host}, reachable from other machines; "
        "it is a test double with no real auth.\n"
    )
    assert (err == expected) if warned else (err == "")


# -- the API key ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed() -> Iterator[ServerThread]:
    with ServerThread(Settings(port=0, api_key=KEY)) as srv:
        yield srv


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, MISSING_KEY),
        ({"authorization": "Bearer"}, 401, MISSING_KEY),
        ({"authorization": "Basic dXNlcjpwYXNz"}, 401, MISSING_KEY),
        ({"authorization": f"Bearer {KEY}"}, 200, None),
        ({"authorization": f"bearer {KEY}"}, 200, None),
        ({"api-key": KEY}, 200, None),
        (
            {"authorization": "Bearer sk-wrong-0123456789abcdefghij"},
            401,
            INCORRECT.format("sk-wrong*****************ghij"),
        ),
        (
            {"api-key": "sk-wrong-0123456789abcdefghij"},
            401,
            INCORRECT.format("sk-wrong*****************ghij"),
        ),
        ({"authorization": f"Bearer {KEY}x"}, 401, INCORRECT.format(mask_key(KEY + "x"))),
        (
            {"authorization": "Bearer sk-short"},
            401,
            INCORRECT.format("sk-short"),
        ),  # OpenAI echoes short keys as they are
        (
            {"authorization": "Bearer sk-wrong-0123456789abcdefghij", "api-key": KEY},
            401,
            INCORRECT.format("sk-wrong*****************ghij"),
        ),
    ],
)
def test_api_key_answers_openais_exact_401_texts_with_the_key_masked(
    keyed: ServerThread, headers: dict[str, str], status: int, message: str | None
) -> None:
    response = httpx.post(keyed.url + "/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == status
    assert KEY not in response.text
    if message is not None:
        assert response.json()["error"] == {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": None if "didn't" in message else "invalid_api_key",
        }
        assert response.headers["www-authenticate"] == 'Bearer realm="OpenAI API"'


def test_masking_in_the_journal_covers_both_the_bearer_and_the_api_key_header(keyed: ServerThread) -> None:
    assert keyed.state is not None
    keyed.state.journal.clear()
    httpx.post(keyed.url + "/chat/completions", json=CHAT, headers={"authorization": f"Bearer {KEY}"})
    httpx.post(keyed.url + "/chat/completions", json=CHAT, headers={"api-key": KEY})
    journal = httpx.get(keyed.url.removesuffix("/v1") + "/_mockai/requests").json()["data"]
    assert [e["headers"].get("authorization") or e["headers"].get("api-key") for e in journal] == [
        f"Bearer {mask_key(KEY)}",
        mask_key(KEY),
    ]
    assert KEY not in json.dumps(journal)


# -- paths through the admin API -----------------------------------------------------------------------------


@pytest.fixture()
def folder(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path, MockState]]:
    """A server whose scenario folder is tmp/scenarios, with files inside it and a secret one beside it."""
    root = tmp_path / "scenarios"
    (root / "sub").mkdir(parents=True)
    (root / "good.yaml").write_text("rules:\n  - reply: good\n", encoding="utf-8")
    (root / "sub" / "nested.yml").write_text("rules:\n  - reply: nested\n", encoding="utf-8")
    (root / "notes.txt").write_text("rules:\n  - reply: txt\n", encoding="utf-8")
    (tmp_path / "outside.yaml").write_text("rules:\n  - reply: LEAKED\n", encoding="utf-8")
    (root / "escape.yaml").symlink_to(tmp_path / "outside.yaml")
    (root / "alias.yaml").symlink_to(root / "good.yaml")
    (root / "loop.yaml").symlink_to(root / "loop.yaml")
    with (
        ServerThread(Settings(port=0, scenario_dir=str(root))) as srv,
        httpx.Client(base_url=srv.url.removesuffix("/v1"), timeout=10) as c,
    ):
        assert srv.state is not None
        yield c, tmp_path, srv.state


def served(c: httpx.Client) -> str:
    content: str = c.post("/v1/chat/completions", json=CHAT).json()["choices"][0]["message"]["content"]
    return content


@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("good.yaml", "good"),
        ("sub/nested.yml", "nested"),
        ("sub/../good.yaml", "good"),
        ("alias.yaml", "good"),
    ],
)
def test_put_scenario_by_name_loads_files_inside_the_scenario_folder(
    folder: tuple[httpx.Client, Path, MockState], name: str, reply: str
) -> None:
    c, tmp, state = folder
    response = c.put("/_mockai/scenario", params={"file": name})
    assert response.json() == {"status": "ok", "rules": 1}
    assert served(c) == reply
    assert state.scenario_files == (str((tmp / "scenarios" / name).resolve()),)
    assert c.post("/_mockai/reload").status_code == 200  # and it is the file reload reads again


@pytest.mark.parametrize(
    "name",
    [
        "../outside.yaml",
        "sub/../../outside.yaml",
        "{tmp}/outside.yaml",
        "/etc/passwd",
        "escape.yaml",
        "loop.yaml",
        "",
        ".",
        "a\x00b.yaml",
    ],
)
def test_put_scenario_by_name_refuses_any_path_that_leaves_the_folder(
    folder: tuple[httpx.Client, Path, MockState], name: str
) -> None:
    c, tmp, state = folder
    name = name.replace("{tmp}", str(tmp))
    response = c.put("/_mockai/scenario", params={"file": name})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "message": (
            f"mockai: {name!r} is not a file name inside the scenario folder; "
            "give a path relative to --scenario-dir, without '..'."
        ),
        "type": "invalid_request_error",
        "param": "file",
        "code": None,
    }
    assert served(c) != "LEAKED" and state.scenario_files == ()


def test_a_percent_encoded_dot_dot_is_refused_too(folder: tuple[httpx.Client, Path, MockState]) -> None:
    c, _, _ = folder
    assert c.put("/_mockai/scenario?file=%2e%2e%2foutside.yaml").status_code == 400
    assert c.put("/_mockai/scenario?file=..%5coutside.yaml").status_code in (
        400,
        404,
    )  # a backslash is just a character here


@pytest.mark.parametrize("name", ["missing.yaml", "notes.txt", "sub"])
def test_a_name_inside_the_folder_that_is_no_scenario_file_gets_a_404(
    folder: tuple[httpx.Client, Path, MockState], name: str
) -> None:
    c, _, _ = folder
    response = c.put("/_mockai/scenario", params={"file": name})
    assert response.status_code == 404
    assert (
        response.json()["error"]["code"] == "scenario_not_found"
        and response.json()["error"]["param"] == "file"
    )


def test_without_a_scenario_folder_loading_by_name_is_refused(http: httpx.Client) -> None:
    response = http.put("/_mockai/scenario", params={"file": "good.yaml"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "mockai: loading a scenario file by name needs a scenario folder: "
        "start the server with --scenario-dir DIR."
    )


@pytest.mark.parametrize("body", ['"/etc/passwd"', '"../outside.yaml"', '["/etc/passwd"]'])
def test_a_path_given_as_the_scenario_body_is_data_never_a_file_to_open(
    http: httpx.Client, state: MockState, body: str
) -> None:
    assert http.put("/_mockai/scenario", content=body).status_code == 400
    assert http.post("/_mockai/rules", content=body).status_code == 400
    assert state.rules.rules == ()


def test_loading_by_name_needs_the_admin_token_when_one_is_set(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("rules:\n  - reply: good\n", encoding="utf-8")
    with ServerThread(Settings(port=0, scenario_dir=str(tmp_path), admin_token=ADMIN)) as srv:
        root = srv.url.removesuffix("/v1")
        assert httpx.put(root + "/_mockai/scenario?file=good.yaml").status_code == 401
        assert httpx.post(root + "/_mockai/reload").status_code == 401
        assert (
            httpx.put(
                root + "/_mockai/scenario?file=good.yaml", headers={"authorization": f"Bearer {ADMIN}"}
            ).status_code
            == 200
        )


def test_a_json_put_after_a_file_stops_reload_from_bringing_the_file_back(
    folder: tuple[httpx.Client, Path, MockState],
) -> None:
    c, _, state = folder
    assert c.put("/_mockai/scenario", params={"file": "good.yaml"}).status_code == 200
    assert c.put("/_mockai/scenario", json={"rules": [{"reply": "admin"}]}).status_code == 200
    assert state.scenario_files == () and state.reloader.check() is False
    assert c.post("/_mockai/reload").status_code == 400 and served(c) == "admin"


# -- YAML and templates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object:__main__.Anything {{}}",
    ],
)
def test_scenario_files_with_python_tags_are_refused_and_run_nothing(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f"rules:\n  - reply: {tag.format(marker=marker)}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="could not determine a constructor"):
        load_scenario(path)
    with pytest.raises(ScenarioError):
        ServerThread(Settings(port=0, scenarios=(str(path),))).start()
    assert not marker.exists()


# Templating cannot run code: tests/test_scenarios.py::test_templating_rejects_anything_but_plain_lookups and
# ::test_other_brace_syntaxes_stay_inert_text pin that `{{ }}` is a plain lookup, nothing more.

# -- keys in logs, journal and cassettes ---------------------------------------------------------------------


def wait_for_line(path: Path, needle: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if needle in line:
                return line
        assert proc.poll() is None, path.read_text(errors="replace")
        time.sleep(0.02)
    raise AssertionError(f"no {needle!r} in {path} after {timeout}s")


def test_an_api_key_never_reaches_the_debug_log_the_journal_or_a_recorded_cassette(tmp_path: Path) -> None:
    cassette, out, err = tmp_path / "session.jsonl", tmp_path / "stdout.log", tmp_path / "stderr.log"
    with ServerThread() as upstream, open(out, "wb") as stdout, open(err, "wb") as stderr:
        args = [
            "--log-level",
            "debug",
            "--api-key",
            KEY,
            "--admin-token",
            ADMIN,
            "--record",
            "--upstream",
            upstream.url,
            "--cassette",
            str(cassette),
        ]
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockai", "serve", "--port", "0", *args], stdout=stdout, stderr=stderr
        )
        try:
            url = wait_for_line(out, " serving http://", proc).split()[3]
            bearer, header = {"authorization": f"Bearer {KEY}"}, {"api-key": KEY}
            with httpx.Client(base_url=url, timeout=10) as c:
                assert c.post("/chat/completions", json=CHAT, headers=bearer).status_code == 200
                assert c.post(
                    "/chat/completions", json={**CHAT, "stream": True}, headers=bearer
                ).text.endswith("data: [DONE]\n\n")
                assert (
                    c.post(
                        "/embeddings",
                        json={"model": "text-embedding-3-small", "input": "hello"},
                        headers=header,
                    ).status_code
                    == 200
                )
                assert (
                    c.post(
                        "/chat/completions", json={**CHAT, "model": "no-such-model"}, headers=header
                    ).status_code
                    == 404
                )
                assert c.get("/models", headers=bearer).status_code == 200
                assert (
                    c.post(
                        "/chat/completions", json=CHAT, headers={"authorization": f"Bearer {KEY}-but-wrong"}
                    ).status_code
                    == 401
                )
                assert (
                    c.get(
                        url.removesuffix("/v1") + "/_mockai/requests",
                        headers={"authorization": f"Bearer {ADMIN}x"},
                    ).status_code
                    == 401
                )
                journal = c.get(
                    url.removesuffix("/v1") + "/_mockai/requests",
                    headers={"authorization": f"Bearer {ADMIN}"},
                ).content
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    logs = out.read_bytes() + err.read_bytes()
    recorded = cassette.read_bytes()
    assert b"Started server process" in logs and b"recording into" in logs  # the logs were captured
    # The header line + 4 recorded interactions: the models list is the catalogue's, never recorded.
    assert len(json.loads(journal)["data"]) == 6 and recorded.count(b"\n") == 5
    for secret in (KEY, ADMIN):
        for name, blob in (("log", logs), ("journal", journal), ("cassette", recorded)):
            assert secret.encode() not in blob, f"{secret} found in the {name}"

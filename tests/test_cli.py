"""`mockai serve` as a user runs it: one ready line with the base URL, clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest


def wait_healthy(url: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url.removesuffix("/v1") + "/_mockai/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.02)
    raise AssertionError(f"{url} never became healthy")


@pytest.fixture()
def serve() -> Iterator[callable]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mockai", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.startswith("mockai "), (line, proc.stderr.read() if proc.poll() is not None else "")
        url = line.split()[3]
        wait_healthy(url)
        return proc, url

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_when_ready_and_stops_cleanly_on_a_signal(
    serve: callable, sig: signal.Signals
) -> None:
    proc, url = serve("--as-of", "2023-07-06", "--seed", "3")
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    health = httpx.get(url.removesuffix("/v1") + "/_mockai/health").json()
    assert (health["as_of"], health["seed"]) == ("2023-07-06", 3)
    client = openai.OpenAI(base_url=url, api_key="sk-x", max_retries=0)
    assert client.completions.create(model="text-davinci-003", prompt="hi").model == "text-davinci-003"
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0


def test_a_bad_date_is_refused_with_the_expected_format() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockai", "serve", "--as-of", "July 6"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr


def test_api_key_flag_answers_openais_401_with_the_key_masked(serve: callable) -> None:
    _, url = serve("--api-key", "sk-right-key-000000")
    with pytest.raises(openai.AuthenticationError) as exc:
        openai.OpenAI(base_url=url, api_key="sk-wrong-key-1234567890", max_retries=0).models.list()
    assert exc.value.body["message"].startswith("Incorrect API key provided: sk-wrong***********7890.")
    assert openai.OpenAI(base_url=url, api_key="sk-right-key-000000").models.list().data


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockai", *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rpm", "0"], "mockai: --rpm must be a whole number of at least 1; got 0\n"),
        (["--port", "70000"], "mockai: --port must be a whole number from 0 to 65535; got 70000\n"),
        (
            ["--as-of", "July 6"],
            "mockai: --as-of must be a date as YYYY-MM-DD, e.g. '2023-07-06'; got 'July 6'\n",
        ),
        (
            ["--upstream-timeout", "0"],
            "mockai: --upstream-timeout must be a number of seconds above 0; got 0.0\n",
        ),
        (
            ["--record-mode", "onse"],
            "mockai: 'onse' is not a valid record mode. "
            "Valid modes are: 'all', 'new_episodes', 'none', 'once'.\n",
        ),
    ],
)
def test_a_bad_option_gets_one_line_saying_what_is_expected_and_exit_2(args: list[str], message: str) -> None:
    result = run_cli("serve", *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")


def test_a_port_in_use_gets_one_line_and_exit_2(serve: callable) -> None:
    _, url = serve()
    port = url.split(":")[2].split("/")[0]
    result = run_cli("serve", "--port", port)
    assert result.returncode == 2
    assert result.stderr == (
        f"mockai: cannot listen on 127.0.0.1:{port} (Address already in use): is another server using that "
        "port? Pick another with --port N, or --port 0 for a free one.\n"
    )


def test_serve_strict_refuses_a_call_no_rule_matches_and_a_header_turns_it_off(serve: callable) -> None:
    _, url = serve("--strict")
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    refused = httpx.post(url + "/chat/completions", json=chat)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "mockai_no_rule_matched"
    allowed = httpx.post(url + "/chat/completions", json=chat, headers={"x-mockai-strict": "false"})
    assert allowed.status_code == 200


def test_env_prints_the_exports_a_ci_shell_needs_and_tiktoken_then_works_offline(tmp_path: Any) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    result = run_cli("env", "--port", "9123", env=env)
    assert result.returncode == 0, result.stderr
    folder = cache / "mockai" / "tiktoken"
    assert result.stdout == (
        "export OPENAI_BASE_URL=http://127.0.0.1:9123/v1\n"
        "export OPENAI_API_BASE=http://127.0.0.1:9123/v1\n"
        "export OPENAI_API_KEY=sk-mockai-0000000000000000\n"
        f"export TIKTOKEN_CACHE_DIR={folder}\n"
    )
    # tiktoken, in a fresh process with no network, reads its vocabularies from that folder.
    script = "import tiktoken; print(len(tiktoken.encoding_for_model('gpt-4o').encode('hello world')))"
    counted = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "TIKTOKEN_CACHE_DIR": str(folder)},
    )
    assert counted.stdout == "2\n", counted.stderr

"""`mockai serve` as a user runs it: one ready line with the base URL, clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

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

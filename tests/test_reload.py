"""Scenario files edited while the server runs: `POST /_mockai/reload`, `--watch`, atomic swaps, and
broken edits that keep the old rules."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from mockai.server.runner import ServerThread
from mockai.settings import Settings

BROKEN = "rules:\n  - reply: [unclosed\n"


def version(n: int, padding: int = 0) -> str:
    """Scenario version `n`: four rules that never match, then a catch-all answering `v<n>`.

    A request that saw part of one version and part of another would miss the catch-all and get the
    generated reply; `padding` varies the size so consecutive versions differ in length too."""
    misses = "".join(f"  - match: {{contains: never-{n}-{i}}}\n    reply: miss-{n}-{i}\n" for i in range(4))
    return f"# version {n}{' ' * padding}\nrules:\n{misses}  - reply: v{n}\n"


def write_in_place(path: Path, text: str) -> None:
    """Save as most editors do by default: truncate, then write."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_atomically(path: Path, text: str) -> None:
    """Save as careful tools do: a temporary file renamed over the old one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def answer(client: httpx.Client) -> str:
    response = client.post(
        "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def poll(client: httpx.Client, expected: str, timeout: float) -> float:
    """Seconds until the server answers `expected`; fails after `timeout`."""
    started = time.monotonic()
    while (got := answer(client)) != expected:
        assert time.monotonic() - started < timeout, (
            f"still answering {got!r}, not {expected!r}, after {timeout}s"
        )
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "live.yaml"
    path.write_text(version(1), encoding="utf-8")
    return path


def serve(scenario: Path, watch: bool) -> ServerThread:
    return ServerThread(Settings(port=0, scenarios=(str(scenario),), watch=watch))


def test_post_reload_swaps_in_the_edited_file_and_a_broken_edit_keeps_the_old_rules(scenario: Path) -> None:
    with (
        serve(scenario, watch=False) as srv,
        httpx.Client(base_url=srv.url.removesuffix("/v1"), timeout=10) as c,
    ):
        assert answer(c) == "v1"
        write_in_place(scenario, version(2))
        assert answer(c) == "v1"  # no watcher: nothing changes until asked
        reloaded = c.post("/_mockai/reload")
        assert reloaded.json() == {"status": "ok", "rules": 5, "files": [str(scenario)]}
        assert answer(c) == "v2"
        write_in_place(scenario, BROKEN)
        refused = c.post("/_mockai/reload")
        assert refused.status_code == 400
        assert refused.json()["error"]["message"].startswith(
            f"mockai: the scenario files have mistakes; the old rules stay: {scenario}:3: invalid YAML"
        )
        assert answer(c) == "v2"


def test_reload_without_scenario_files_says_how_to_get_some(http: httpx.Client) -> None:
    response = http.post("/_mockai/reload")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "mockai: there are no scenario files to reload: "
        "start the server with --scenario FILE, or PUT /_mockai/scenario?file=NAME."
    )


def test_with_watch_an_edit_is_served_within_two_seconds_and_a_broken_one_is_reported_and_skipped(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        serve(scenario, watch=True) as srv,
        httpx.Client(base_url=srv.url.removesuffix("/v1"), timeout=10) as c,
    ):
        assert answer(c) == "v1"
        write_in_place(scenario, version(2))
        assert poll(c, "v2", timeout=3) < 2.5
        write_in_place(scenario, BROKEN)
        deadline = time.monotonic() + 3
        while "cannot be loaded" not in (err := capsys.readouterr().err):
            assert time.monotonic() < deadline, "the broken edit was never reported"
            time.sleep(0.05)
        assert f"{scenario}:3: invalid YAML" in err and "the old rules stay" in err
        assert answer(c) == "v2"
        write_atomically(scenario, version(3))
        poll(c, "v3", timeout=3)


def test_a_file_saved_unchanged_or_touched_keeps_the_rules_and_their_counters(scenario: Path) -> None:
    scenario.write_text("rules:\n  - times: 1\n    reply: once\n  - reply: after\n", encoding="utf-8")
    with (
        ServerThread(Settings(port=0, scenarios=(str(scenario),))) as srv,
        httpx.Client(base_url=srv.url.removesuffix("/v1"), timeout=10) as c,
    ):
        assert srv.state is not None
        files = srv.state.reloader
        assert [answer(c), answer(c)] == ["once", "after"]
        write_in_place(scenario, scenario.read_text(encoding="utf-8"))
        os.utime(scenario, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
        assert files.check() is False  # the look the watcher takes each second
        assert answer(c) == "after"  # `times: 1` is still used up: no reload happened
        scenario.write_text("rules:\n  - times: 1\n    reply: once again\n", encoding="utf-8")
        assert files.check() is True
        assert answer(c) == "once again"


def test_a_deleted_scenario_file_keeps_the_rules_and_requests_never_read_the_file(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        serve(scenario, watch=False) as srv,
        httpx.Client(base_url=srv.url.removesuffix("/v1"), timeout=10) as c,
    ):
        assert srv.state is not None
        scenario.unlink()
        assert [answer(c) for _ in range(20)] == ["v1"] * 20
        assert srv.state.reloader.check() is False
        assert "cannot read the file" in capsys.readouterr().err
        assert srv.state.reloader.check() is False
        assert capsys.readouterr().err == ""  # reported once, not every second
        assert answer(c) == "v1"


def test_rewriting_the_file_many_times_under_load_every_answer_comes_from_exactly_one_version(
    scenario: Path,
) -> None:
    versions = 60
    stop = threading.Event()
    seen: list[list[str]] = [[] for _ in range(3)]
    failures: list[BaseException] = []

    with serve(scenario, watch=True) as srv:
        root = srv.url.removesuffix("/v1")

        def hammer(out: list[str]) -> None:
            try:
                with httpx.Client(base_url=root, timeout=10) as c:
                    deadline = time.monotonic() + 30
                    while not stop.is_set() and time.monotonic() < deadline:
                        out.append(answer(c))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=hammer, args=(out,), daemon=True) for out in seen]
        for t in threads:
            t.start()
        assert srv.state is not None
        files = srv.state.reloader
        with httpx.Client(base_url=root, timeout=10) as admin:
            for n in range(2, versions + 1):
                text = BROKEN if n % 7 == 0 else version(n, padding=n % 3)
                (write_atomically if n % 2 else write_in_place)(scenario, text)
                if n % 3 == 0:
                    admin.post("/_mockai/reload")
                else:
                    files.check()  # the watcher's look, off the event loop as the watcher takes it
                time.sleep(0.02)  # pacing the writer, not waiting for the server
            write_in_place(scenario, version(versions + 1))
            admin.post("/_mockai/reload")
            with httpx.Client(base_url=root, timeout=10) as c:
                poll(c, f"v{versions + 1}", timeout=3)
        stop.set()
        for t in threads:
            t.join(timeout=10)

    assert not failures, failures
    valid = {f"v{n}" for n in range(1, versions + 2) if n % 7}
    for answers in seen:
        assert answers and set(answers) <= valid, (
            set(answers) - valid
        )  # never a mix (the generator's text), never a broken version
        numbers = [int(a[1:]) for a in answers]
        assert numbers == sorted(numbers)  # one client never goes back to an older version
    assert len({a for answers in seen for a in answers}) > 5  # the swaps really happened under load


def test_serve_watch_reloads_an_edited_file_in_a_real_process(scenario: Path) -> None:
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "mockai", "serve", "--port", "0", "--scenario", str(scenario), "--watch"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert " serving http://" in line, line
        with httpx.Client(base_url=line.split()[3].removesuffix("/v1"), timeout=10) as c:
            assert answer(c) == "v1"
            write_in_place(scenario, version(2))
            poll(c, "v2", timeout=3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 0

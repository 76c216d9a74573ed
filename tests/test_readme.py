"""The README runs: every code block in it is executed or checked here, so its examples cannot drift.

- python blocks of the pytest section run as tests in a fresh pytest (a `# conftest.py` block is the conftest;
  a snippet is the body of a test taking the `mockai` fixture); the "Outside pytest" block runs as a script;
  the other python blocks run against a live server, with the quick start's `client`.
- yaml blocks load as scenarios and every rule can answer; a CI workflow's `run:` lines are shell lines.
- shell lines: `make` targets exist, `mockai ...` commands parse, `curl` calls answer 2xx from a live server.
- the command synopsis names only flags and commands `mockai` has; the Guarantees table names real tests.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from mockai.cli import build_parser
from mockai.generation import audio_synth
from mockai.scenario.files import parse_scenario
from mockai.scenario.lint import never_fire
from mockai.server.runner import ServerThread
from mockai.settings import Settings

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICK_START_URL = "http://127.0.0.1:8000"
NOT_RUN = {"pip", "python", "python3", "npm", "sed", "eval", "seq", "sleep", "break", "for", "done", "export"}
"""Shell commands the README shows but a test does not run: installers, the user's own app, shell syntax."""
KEYWORDS = {"do", "then", "else", "!"}


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    body: str
    section: str
    """The `## ` heading above it, then the `### ` one, joined by ' / '."""


def blocks() -> list[Block]:
    found = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", README, re.M | re.S):
        above = README[: m.start()]
        h2 = re.findall(r"^## (.+)$", above, re.M)
        h3 = re.findall(r"^(## |### )(.+)$", above, re.M)
        section = h2[-1] if h2 else ""
        if h3 and h3[-1][0] == "### ":
            section += " / " + h3[-1][1]
        found.append(Block(above.count("\n") + 1, m.group(1), m.group(2), section))
    return found


def in_pytest(block: Block) -> bool:
    return block.section.startswith("pytest") and "Outside pytest" not in block.section


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


@pytest.fixture(scope="module")
def live() -> Iterator[ServerThread]:
    with ServerThread(Settings(port=0)) as server:
        yield server


# -- python ---------------------------------------------------------------------------------------------


def test_the_pytest_examples_pass_as_tests(pytester: pytest.Pytester) -> None:
    examples = [b for b in blocks() if b.lang == "python" and in_pytest(b)]
    assert len(examples) >= 5
    shutil.copytree(ROOT / "scenarios", pytester.path / "scenarios")
    tests = ["import openai\nimport pytest\n"]
    for block in examples:
        if block.body.startswith("# conftest.py"):
            pytester.makeconftest(block.body)
        elif "def test_" in block.body:
            tests.append(block.body)
        else:  # a snippet: the body of a test; a catalogue of rule forms is reset after it runs
            body = textwrap.indent(block.body + "mockai.reset()\n", "    ")
            tests.append(f"def test_readme_line_{block.line}(mockai):\n{body}")
    pytester.makepyfile(test_readme="\n\n".join(tests))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(tests) - 1)


def test_the_outside_pytest_example_runs_as_a_script() -> None:
    (block,) = [b for b in blocks() if b.lang == "python" and "Outside pytest" in b.section]
    done = subprocess.run([sys.executable, "-c", block.body], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_client_examples_run_against_a_live_server(
    live: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert live.state is not None
    examples = [b for b in blocks() if b.lang == "python" and not b.section.startswith("pytest")]
    assert len(examples) >= 4
    monkeypatch.chdir(tmp_path)
    (tmp_path / "meeting.wav").write_bytes(audio_synth.synthesize("Hello from the meeting.", "wav"))
    url = live.url
    namespace: dict[str, Any] = {"url": url, "httpx": httpx}
    for block in examples:
        as_of = re.search(r"--as-of (\d{4}-\d{2}-\d{2})", block.body)
        live.state.reset()
        if as_of:
            live.state.as_of = live.state.as_of.fromisoformat(as_of.group(1))
        code = block.body.replace(QUICK_START_URL, url.removesuffix("/v1"))
        exec(compile(code, f"README.md:{block.line}", "exec"), namespace)
    assert isinstance(namespace["client"], openai.OpenAI)
    assert (tmp_path / "hello.wav").read_bytes()[:4] == b"RIFF"


# -- yaml and shell ------------------------------------------------------------------------------------------


def test_the_yaml_examples_load_and_every_rule_can_answer(live: ServerThread) -> None:
    examples = [b for b in blocks() if b.lang == "yaml"]
    assert examples
    for block in examples:
        data = yaml.safe_load(block.body)
        if isinstance(data, dict):
            assert never_fire(parse_scenario(data)) == [], block.line
        else:  # a CI workflow's steps: their shell lines
            for step in data:
                for line in step.get("run", "").splitlines():
                    check_shell_line(line, live)


def test_the_shell_examples_name_real_targets_commands_and_admin_routes(live: ServerThread) -> None:
    lines = [line for b in blocks() if b.lang == "sh" for line in b.body.splitlines()]
    assert len(lines) > 10
    for line in lines:
        check_shell_line(line, live)


def check_shell_line(line: str, live: ServerThread) -> None:
    """Check every simple command of a shell line that mockai owns: make, mockai, curl."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)  # quotes kept whole, `# ...` dropped
    lexer.whitespace_split = True  # words split on blanks and operators only (URLs stay whole)
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", ";", "|", "&", ";;", "(", ")"):
            commands.append([])
        else:
            commands[-1].append(token)
    for words in commands:
        while words and (re.fullmatch(r"\w+=\S*", words[0]) or words[0] in KEYWORDS):
            words = words[1:]  # VAR=value prefixes, and `do curl ...` in a loop
        if not words or words[0] in NOT_RUN or words[0].startswith("$"):
            continue
        if words[0] == "make":
            target = words[1]
            assert re.search(rf"^{target}:", (ROOT / "Makefile").read_text(), re.M), f"make {target}: {line}"
        elif words[0] == "mockai":
            parse(words[1:], line)
        elif words[0] == "curl":
            curl(words[1:], live)
        else:
            raise AssertionError(f"a shell line the README test does not know how to check: {line!r}")


def parse(args: list[str], line: str) -> argparse.Namespace:
    try:
        return build_parser().parse_args(args)
    except SystemExit:
        raise AssertionError(f"`mockai` refuses the README's command: {line}") from None


def curl(args: list[str], live: ServerThread) -> None:
    method, data, url = "GET", None, None
    it = iter(args)
    for arg in it:
        if arg == "-X":
            method = next(it)
        elif arg == "-d":
            data = next(it)
            method = "POST" if method == "GET" else method
        elif not arg.startswith("-"):
            url = arg
    assert url is not None and url.startswith(QUICK_START_URL), args
    target = live.url.removesuffix("/v1") + url.removeprefix(QUICK_START_URL)
    response = httpx.request(method, target, content=data, timeout=10)
    assert response.is_success, (args, response.text)


# -- text ---------------------------------------------------------------------------------------------


def test_the_command_synopsis_names_only_flags_and_commands_mockai_has() -> None:
    (synopsis,) = [b for b in blocks() if b.lang == "" and b.body.startswith("mockai serve [")]
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    flags = {
        flag for command in commands.values() for action in command._actions for flag in action.option_strings
    }
    flags |= {"--version", "--help"}
    assert set(re.findall(r"--[a-z][a-z-]+", synopsis.body)) <= flags
    assert set(re.findall(r"^mockai ([a-z][a-z-]+)", synopsis.body, re.M)) <= set(commands)


def test_every_test_the_guarantees_name_exists() -> None:
    named: list[tuple[str, str]] = []
    for row in section("Guarantees").splitlines():
        current = ""
        for path, name in re.findall(r"`(tests/[\w/]+\.py)?::(\w+)`", row):
            current = path or current
            named.append((current, name))
    assert len(named) > 15
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M)
    ]
    assert missing == []


def test_every_path_the_architecture_section_names_exists() -> None:
    paths = re.findall(r"`(mockai/[\w/.]+|tests/[\w/.]+)`", section("Architecture"))
    assert "mockai/server/pipeline.py" in paths
    assert [p for p in paths if not (ROOT / p.replace("NAME.py", "")).exists()] == []

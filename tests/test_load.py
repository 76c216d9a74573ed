"""A short, bounded load run against a server in its own process (the long one is `make soak`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import soak  # noqa: E402


def test_a_mixed_load_with_streams_gets_no_errors_and_no_runaway_memory(capsys: pytest.CaptureFixture[str]) -> None:
    status = soak.main(["--requests", "1500", "--concurrency", "64", "--seconds", "60", "--max-growth-mb", "48"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "errors: 0" in out

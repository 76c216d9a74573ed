"""pytest plugin: registered through the `pytest11` entry point so `pip install mockai` is enough."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockai(scenario=None, as_of=None, seed=None, rpm=None, tpm=None): configure the mockai fixture."
    )

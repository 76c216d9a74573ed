"""The README's promises point at real code: every test its Guarantees table names exists, and every
module path it names in the Architecture section is there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


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

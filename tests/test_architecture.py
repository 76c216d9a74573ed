"""The layout ARCHITECTURE.md describes holds: few top-level modules, folders by job, no import cycles,
every endpoint behind the one contract."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from mockai.call import ENDPOINTS
from mockai.endpoints.contract import Endpoint
from mockai.endpoints.routes import BY_NAME, MODEL_ROUTES

PACKAGE = Path(__file__).resolve().parent.parent / "mockai"
FOLDERS = {"endpoints", "generation", "models", "recording", "scenario", "server", "testing", "data"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path) -> Iterator[str]:
    """Every mockai module `path` imports, at the top, inside functions, or for type checking only."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield full if full in MODULES else node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def graph() -> dict[str, set[str]]:
    return {name: {m for m in imported(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def cycle_from(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges[node]):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_module_imports_itself_back_even_through_function_level_or_type_checking_imports() -> None:
    edges = graph()
    cycles = [c for c in (cycle_from(name, edges) for name in sorted(edges)) if c]
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_top_level_holds_a_dozen_modules_at_most_and_the_rest_sits_in_folders_by_job() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == FOLDERS


def test_every_model_route_is_an_endpoint_behind_the_contract() -> None:
    assert all(isinstance(e, Endpoint) for e in MODEL_ROUTES.values())
    assert set(BY_NAME) == set(ENDPOINTS)


def test_the_server_side_is_not_imported_by_what_it_drives() -> None:
    """Endpoints, scenarios, recording and generation know nothing of the server that runs them."""
    edges = graph()
    lower = ("mockai.endpoints", "mockai.scenario", "mockai.recording", "mockai.generation", "mockai.models")
    reaching = {
        (name, m)
        for name, targets in edges.items()
        if name.startswith(lower)
        for m in targets
        if m.startswith(("mockai.server", "mockai.testing"))
    }
    assert reaching == set()

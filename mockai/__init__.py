"""mockai: a local, offline, deterministic double of the OpenAI HTTP API for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockai.version import __version__

__all__ = ["ExpectationError", "MockAI", "MockAIError", "UsageError", "__version__"]

if TYPE_CHECKING:
    from mockai.errors import MockAIError, UsageError
    from mockai.testing.assertions import ExpectationError
    from mockai.testing.mock import MockAI

# Imported on first use: pytest loads this package for the plugin in every run, so `import mockai` stays
# cheap.
_LAZY = {
    "ExpectationError": "mockai.testing.assertions",
    "MockAI": "mockai.testing.mock",
    "MockAIError": "mockai.errors",
    "UsageError": "mockai.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockai' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

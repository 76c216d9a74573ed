"""mockai: a local, offline, deterministic double of the OpenAI HTTP API for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ExpectationError", "MockAI", "MockAIError", "UsageError", "__version__"]

if TYPE_CHECKING:
    from mockai.assertions import ExpectationError
    from mockai.errors import MockAIError, UsageError
    from mockai.mock import MockAI

# Imported on first use: pytest loads this package for the plugin in every run, so `import mockai` stays cheap.
_LAZY = {
    "ExpectationError": "mockai.assertions",
    "MockAI": "mockai.mock",
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

"""mockai: a local, offline, deterministic double of the OpenAI HTTP API for tests."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

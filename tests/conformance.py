"""Validate mockai's bodies against OpenAI's own OpenAPI spec (shared/reference/openapi/).

Tests validate against tests/data/openapi-subset.json, the schemas they need extracted from the spec,
so they run without shared/ beside the clone; test_conformance_data checks it is current. OpenAPI's
`nullable: true` (3.0 style, also used inside the 3.1 file) is rewritten to JSON Schema's
`type: [..., "null"]` so a plain Draft 2020-12 validator applies.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REFERENCE = Path(
    os.environ.get("MOCKAI_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference")
)
SPECS = {"current": "openapi-current.yaml", "edits": "openapi-with-edits.yaml"}


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) is True:
            kind = node.get("type")
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                node["type"] = [*kind, "null"]
            elif "type" not in node and "enum" not in node:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@functools.cache
def spec(name: str = "current") -> dict[str, Any]:
    path = REFERENCE / "openapi" / SPECS[name]
    with open(path, encoding="utf-8") as f:
        return _nullable(yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


SUBSET = Path(__file__).with_name("data") / "openapi-subset.json"


@functools.cache
def subset(spec_name: str) -> dict[str, Any]:
    """The schemas the tests use, extracted from the spec by tests/data/extract_schemas.py."""
    return json.loads(SUBSET.read_text())[spec_name]


LIVE_NULLABLE = {
    "CreateChatCompletionResponse": ("system_fingerprint",),
    "CreateChatCompletionStreamResponse": ("system_fingerprint",),
}
"""Where the live API answers null though its spec says a string: recorded traffic has
`system_fingerprint: null` for gpt-4 (2024-03), gpt-3.5-turbo (from 2024-06) and the gpt-5 family."""


def _live(root: dict[str, Any]) -> dict[str, Any]:
    """The subset with LIVE_NULLABLE applied (a copy: the cached subset stays as extracted)."""
    root = json.loads(json.dumps(root))
    for schema_name, fields in LIVE_NULLABLE.items():
        props = root["components"]["schemas"].get(schema_name, {}).get("properties", {})
        for field in fields:
            if field in props:
                props[field] = {"anyOf": [props[field], {"type": "null"}]}
    return root


@functools.cache
def _validator(schema_name: str, spec_name: str) -> jsonschema.Validator:
    root = _live(subset(spec_name))
    if schema_name not in root["components"]["schemas"]:
        raise KeyError(f"{schema_name} is not a schema in {SPECS[spec_name]}")
    schema = {**root, "$ref": f"#/components/schemas/{schema_name}"}
    cls = jsonschema.Draft202012Validator
    return cls(schema, format_checker=None)


def validate(schema_name: str, instance: Any, spec_name: str = "current") -> None:
    """Raise jsonschema.ValidationError if `instance` does not conform to the named schema."""
    _validator(schema_name, spec_name).validate(instance)


NO_REFERENCE = (
    f"a maintainers' check of the vendored schemas against OpenAI's spec, which is not at {REFERENCE}: "
    "set MOCKAI_REFERENCE to a folder holding openapi/ to run it"
)


def reference_available() -> bool:
    return (REFERENCE / "openapi" / SPECS["current"]).exists()

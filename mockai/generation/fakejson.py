"""A deterministic JSON value valid against a JSON Schema: forced tool-call arguments and
`response_format: json_schema` replies must parse and validate in the caller's code.

Covers what OpenAI's function and structured-output schemas use: type (or a list of types), properties,
required, additionalProperties, items, enum, const, anyOf/oneOf/allOf, $ref into $defs/definitions,
min/max bounds, min/max lengths and items, and common string formats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

WORDS = ("alpha", "bravo", "delta", "echo", "lima", "nova", "oscar", "paris", "sierra", "tango")
FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
}


def instance(schema: Any, seed: str = "", root: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A value valid against `schema`, chosen deterministically from `seed`."""
    if not isinstance(schema, Mapping) or depth > 12:
        return {} if depth == 0 else None
    root = schema if root is None else root
    if "$ref" in schema:
        return instance(_deref(schema["$ref"], root), seed, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][_pick(seed, len(schema["enum"]))]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return instance(schema[key][0], seed, root, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, Mapping):
                part = _deref(part["$ref"], root) if "$ref" in part else part
                for k, v in part.items():
                    merged[k] = (
                        {**merged.get(k, {}), **v} if isinstance(v, Mapping) and k == "properties" else v
                    )
        return instance(
            {**{k: v for k, v in schema.items() if k != "allOf"}, **merged}, seed, root, depth + 1
        )
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    return _MAKERS.get(kind, _string)(schema, seed, root, depth)


def _object(schema: Mapping[str, Any], seed: str, root: Mapping[str, Any], depth: int) -> Any:
    given = schema.get("properties")
    props: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    required = (
        [r for r in schema.get("required", []) if isinstance(r, str)]
        if isinstance(schema.get("required"), list)
        else []
    )
    out: dict[str, Any] = {}
    for name, sub in props.items():
        out[name] = instance(sub, f"{seed}/{name}", root, depth + 1)
    for name in required:
        if name not in out:
            extra = schema.get("additionalProperties")
            out[name] = instance(
                extra if isinstance(extra, Mapping) else {"type": "string"}, f"{seed}/{name}", root, depth + 1
            )
    return out


def _array(schema: Mapping[str, Any], seed: str, root: Mapping[str, Any], depth: int) -> Any:
    low = schema.get("minItems", 1) if isinstance(schema.get("minItems"), int) else 1
    high = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
    count = max(low, 1) if high is None else min(max(low, 1), high)
    items = schema.get("items", {})
    if isinstance(schema.get("prefixItems"), list):
        return [instance(s, f"{seed}[{i}]", root, depth + 1) for i, s in enumerate(schema["prefixItems"])]
    values = [instance(items, f"{seed}[{i}]", root, depth + 1) for i in range(count)]
    if (
        schema.get("uniqueItems")
        and isinstance(items, Mapping)
        and items.get("type") in ("integer", "number")
    ):
        values = [i + (values[0] if isinstance(values[0], (int, float)) else 0) for i in range(count)]
    return values


def _number(schema: Mapping[str, Any], seed: str, root: Mapping[str, Any], depth: int) -> Any:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    low = low if isinstance(low, (int, float)) and not isinstance(low, bool) else None
    high = high if isinstance(high, (int, float)) and not isinstance(high, bool) else None
    integer = schema.get("type") == "integer" or (
        isinstance(schema.get("type"), list) and "integer" in schema["type"]
    )
    if low is None and high is None:
        value: float = _pick(seed, 100)
    elif low is None:
        value = float(high) - 1  # type: ignore[arg-type]
    elif high is None:
        value = float(low) + 1
    else:
        value = (float(low) + float(high)) / 2
    if integer:
        result = int(value)
        if low is not None and result <= low and "exclusiveMinimum" in schema:
            result += 1
        if low is not None and result < low:
            result = int(low) + 1
        return result
    return value


def _string(schema: Mapping[str, Any], seed: str, root: Mapping[str, Any], depth: int) -> Any:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt]
    text = WORDS[_pick(seed, len(WORDS))]
    least = schema.get("minLength")
    low: int = least if isinstance(least, int) else 0
    high = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None
    while len(text) < low:
        text += " " + WORDS[_pick(seed + text, len(WORDS))]
    if high is not None:
        text = text[:high]
    return text


_MAKERS: dict[str, Callable[[Mapping[str, Any], str, Mapping[str, Any], int], Any]] = {
    "object": _object,
    "array": _array,
    "integer": _number,
    "number": _number,
    "string": _string,
    "boolean": lambda schema, seed, root, depth: _pick(seed, 2) == 0,
    "null": lambda schema, seed, root, depth: None,
}


def _deref(ref: Any, root: Mapping[str, Any]) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _pick(seed: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=4).digest(), "big") % n

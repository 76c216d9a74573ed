"""A deterministic JSON value valid against a JSON Schema: forced tool-call arguments and
`response_format: json_schema` replies must parse and validate in the caller's code.

Covers what OpenAI's function and structured-output schemas use: type (or a list of types), properties,
required, additionalProperties, items, enum, const, anyOf/oneOf/allOf, $ref into $defs/definitions,
min/max bounds, min/max lengths and items, and common string formats.

Bounded: a value has at most `MAX_VALUES` parts and `MAX_CHARS` characters of strings, however the schema
fans out (`$ref`s, huge `minItems` or `minLength`); past either, `TooLarge`. `check` turns that, a
malformed schema and OpenAI's structured-output limits into the 400 the request gets before any reply.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors

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
MAX_VALUES = 10_000
"""Values (objects, arrays, strings, numbers...) in one generated instance."""
MAX_CHARS = 200_000
"""Characters of generated strings in one instance."""
MAX_DEPTH = 12
"""Nesting past this (a `$ref` cycle) gives null instead of going deeper."""

# OpenAI's documented limits for Structured Outputs (platform.openai.com/docs/guides/structured-outputs,
# "Supported schemas"): checked for `strict: true` schemas, as the live API does.
STRICT_DEPTH = 10
STRICT_PROPERTIES = 5_000
STRICT_ENUM_VALUES = 1_000
STRICT_NAME_CHARS = 120_000
STRICT_LARGE_ENUM = 250
STRICT_LARGE_ENUM_CHARS = 15_000

TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")


class TooLarge(ValueError):
    """The schema asks for more than a value may hold (MAX_VALUES parts or MAX_CHARS characters)."""


@dataclass
class _Budget:
    values: int = MAX_VALUES
    chars: int = MAX_CHARS

    def take(self, values: int = 1, chars: int = 0) -> None:
        self.values -= values
        self.chars -= chars
        if self.values < 0 or self.chars < 0:
            raise TooLarge(
                f"the JSON this schema asks for is larger than mockai generates ({MAX_VALUES:,} values, "
                f"{MAX_CHARS:,} characters of strings)"
            )


@dataclass
class _Gen:
    root: Mapping[str, Any]
    budget: _Budget


def instance(schema: Any, seed: str = "") -> Any:
    """A value valid against `schema`, chosen deterministically from `seed`; TooLarge past the budget."""
    if not isinstance(schema, Mapping):
        return {}
    return _value(schema, seed, _Gen(schema, _Budget()), 0)


def _value(schema: Any, seed: str, gen: _Gen, depth: int) -> Any:
    if not isinstance(schema, Mapping) or depth > MAX_DEPTH:
        return None
    gen.budget.take()
    if "$ref" in schema:
        return _value(_deref(schema["$ref"], gen.root), seed, gen, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][_pick(seed, len(schema["enum"]))]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _value(schema[key][0], seed, gen, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, Mapping):
                part = _deref(part["$ref"], gen.root) if "$ref" in part else part
                for k, v in part.items():
                    merged[k] = (
                        {**merged.get(k, {}), **v}
                        if isinstance(v, Mapping) and k == "properties" and isinstance(merged.get(k), Mapping)
                        else v
                    )
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return _value({**rest, **merged}, seed, gen, depth + 1)
    kind = _kind(schema)
    return _MAKERS.get(kind, _string)(schema, seed, gen, depth)


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null" and isinstance(k, str)), "null")
    if not isinstance(kind, str):
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    return kind


def _object(schema: Mapping[str, Any], seed: str, gen: _Gen, depth: int) -> Any:
    given = schema.get("properties")
    props: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    listed = schema.get("required")
    required = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
    out: dict[str, Any] = {}
    for name, sub in props.items():
        out[name] = _value(sub, f"{seed}/{name}", gen, depth + 1)
    extra = schema.get("additionalProperties")
    for name in required:
        if name not in out:
            out[name] = _value(
                extra if isinstance(extra, Mapping) else {"type": "string"}, f"{seed}/{name}", gen, depth + 1
            )
    return out


def _array(schema: Mapping[str, Any], seed: str, gen: _Gen, depth: int) -> Any:
    low = _int(schema.get("minItems"), 1)
    high = _int(schema.get("maxItems"), None)
    count = max(low, 1) if high is None else max(min(max(low, 1), high), 0)
    if isinstance(schema.get("prefixItems"), list):
        return [_value(s, f"{seed}[{i}]", gen, depth + 1) for i, s in enumerate(schema["prefixItems"])]
    gen.budget.take(values=count - 1)  # before building them: a minItems of 10**9 stops here
    items = schema.get("items", {})
    values = [_value(items, f"{seed}[{i}]", gen, depth + 1) for i in range(count)]
    if (
        schema.get("uniqueItems")
        and isinstance(items, Mapping)
        and items.get("type") in ("integer", "number")
    ):
        values = [i + (values[0] if isinstance(values[0], (int, float)) else 0) for i in range(count)]
    return values


def _number(schema: Mapping[str, Any], seed: str, gen: _Gen, depth: int) -> Any:
    low = _finite(schema.get("minimum", schema.get("exclusiveMinimum")))
    high = _finite(schema.get("maximum", schema.get("exclusiveMaximum")))
    kind = schema.get("type")
    integer = kind == "integer" or (isinstance(kind, list) and "integer" in kind)
    if low is None and high is None:
        value: float = _pick(seed, 100)
    elif low is None:
        value = float(high) - 1  # type: ignore[arg-type]
    elif high is None:
        value = float(low) + 1
    else:
        value = (float(low) + float(high)) / 2
    if not math.isfinite(value):
        value = float(low) if low is not None else 0.0
    if integer:
        result = int(value)
        if low is not None and result <= low and "exclusiveMinimum" in schema:
            result += 1
        if low is not None and result < low:
            result = int(low) + 1
        return result
    return value


def _string(schema: Mapping[str, Any], seed: str, gen: _Gen, depth: int) -> Any:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt]
    low = _int(schema.get("minLength"), 0)
    high = _int(schema.get("maxLength"), None)
    gen.budget.take(values=0, chars=low)  # before building it: a minLength of 10**9 stops here
    words = [WORDS[_pick(seed, len(WORDS))]]
    size = len(words[0])
    while size < low:
        words.append(WORDS[_pick(f"{seed}~{len(words)}", len(WORDS))])
        size += 1 + len(words[-1])
    text = " ".join(words)
    return text[:high] if high is not None else text


_MAKERS: dict[str, Callable[[Mapping[str, Any], str, _Gen, int], Any]] = {
    "object": _object,
    "array": _array,
    "integer": _number,
    "number": _number,
    "string": _string,
    "boolean": lambda schema, seed, gen, depth: _pick(seed, 2) == 0,
    "null": lambda schema, seed, gen, depth: None,
}


def _int(value: Any, default: int | None) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _finite(value: Any) -> float | int | None:
    """A bound that float arithmetic can use: not a bool, NaN, infinite (`1e400`) or past 1e300."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if abs(value) < 1e300 else None  # False for NaN too


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


# -- checking a schema before answering --------------------------------------------------------------


def check(schema: Any, owner: str, param: str, strict: bool, code: str | None = None) -> None:
    """OpenAI's 400 for a malformed schema or, when `strict`, one past Structured Outputs' limits; a
    `mockai:` 400 when the value it asks for is past mockai's budget. `owner` names it as OpenAI does:
    `response_format 'NAME'` or `function 'NAME'`."""
    if not isinstance(schema, Mapping):
        return
    problem = _malformed(schema) or (_past_limits(schema) if strict else None)
    if problem is not None:
        # [UNVERIFIED] the wording past "Invalid schema for ...: In context=(...), " is jsonschema's, as in
        # the live API's known messages ("None is not of type 'array'"); `param` and `code` likewise.
        raise errors.OpenAIError(400, f"Invalid schema for {owner}: {problem}", param=param, code=code)
    try:
        instance(schema, "check")
    except TooLarge as exc:
        raise errors.OpenAIError(
            400,
            f"mockai: {exc}; lower its minItems/minLength or $ref fan-out, or script this reply with a "
            f"rule (scenario `reply:`).",
            param=param,
            code="mockai_schema_too_large",
        ) from None


_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_ONES = ("items", "additionalProperties", "not", "contains")
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _walk(schema: Mapping[str, Any]) -> Any:
    """Every subschema with its path and nesting level, without following `$ref` (no fan-out)."""
    stack: list[tuple[Mapping[str, Any], tuple[str | int, ...], int]] = [(schema, (), 1)]
    while stack:
        node, path, level = stack.pop()
        yield node, path, level
        for key in _SCHEMA_MAPS:
            subs = node.get(key)
            if isinstance(subs, Mapping):
                deeper = level + (key == "properties")
                stack.extend((v, (*path, key, k), deeper) for k, v in subs.items() if isinstance(v, Mapping))
        for key in _SCHEMA_LISTS:
            subs = node.get(key)
            if isinstance(subs, list):
                stack.extend(
                    (v, (*path, key, i), level) for i, v in enumerate(subs) if isinstance(v, Mapping)
                )
        for key in _SCHEMA_ONES:
            sub = node.get(key)
            if isinstance(sub, Mapping):
                stack.append((sub, (*path, key), level + (key == "items")))


def _malformed(schema: Mapping[str, Any]) -> str | None:
    """The first shape error, as jsonschema's metaschema check words it, with its context."""
    for node, path, _ in _walk(schema):
        detail = _shape(node)
        if detail is not None:
            return f"In context={path!r}, {detail}."
    return None


def _shape(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if kind is not None and not (
        kind in TYPES
        if isinstance(kind, str)
        else isinstance(kind, list) and all(isinstance(k, str) and k in TYPES for k in kind)
    ):
        return f"{kind!r} is not valid under any of the given schemas"
    for key in _SCHEMA_MAPS:
        if key in node and not isinstance(node[key], Mapping):
            return f"{node[key]!r} is not of type 'object'"
    for key in ("items", "additionalProperties", "not", "contains"):
        if key in node and not isinstance(node[key], (Mapping, bool)):
            return f"{node[key]!r} is not of type 'object', 'boolean'"
    for key in (*_SCHEMA_LISTS, "required", "enum"):
        if key in node and not isinstance(node[key], list):
            return f"{node[key]!r} is not of type 'array'"
    for key in _COUNTS:
        if key in node:
            value = node[key]
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{value!r} is not of type 'integer'"
            if value < 0:
                return f"{value!r} is less than the minimum of 0"
    for key in _BOUNDS:
        if key in node:
            value = node[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"{value!r} is not of type 'number'"
    if "$ref" in node and not isinstance(node["$ref"], str):
        return f"{node['$ref']!r} is not of type 'string'"
    return None


def _past_limits(schema: Mapping[str, Any]) -> str | None:
    """The first of Structured Outputs' documented limits the schema goes past."""
    deepest = properties = enum_values = name_chars = 0
    for node, _, level in _walk(schema):
        if _kind(node) in ("object", "array"):  # [UNVERIFIED] a leaf under ten objects is within the limit
            deepest = max(deepest, level)
        props = node.get("properties")
        if isinstance(props, Mapping):
            properties += len(props)
            name_chars += sum(len(str(k)) for k in props)
        for key in ("$defs", "definitions"):
            if isinstance(node.get(key), Mapping):
                name_chars += sum(len(str(k)) for k in node[key])
        enum = node.get("enum")
        if isinstance(enum, list):
            enum_values += len(enum)
            chars = sum(len(v) for v in enum if isinstance(v, str))
            name_chars += chars
            if len(enum) > STRICT_LARGE_ENUM and chars > STRICT_LARGE_ENUM_CHARS:
                # [UNVERIFIED] wording; the limit is the documented one.
                return (
                    f"Enum with {len(enum)} values has a total string length of {chars}, which exceeds "
                    f"the limit of {STRICT_LARGE_ENUM_CHARS} for enums with more than {STRICT_LARGE_ENUM} "
                    "values."
                )
        if isinstance(node.get("const"), str):
            name_chars += len(node["const"])
    if deepest > STRICT_DEPTH:
        return f"{deepest} levels of nesting exceeds limit of {STRICT_DEPTH}."
    # [UNVERIFIED] wording of the three below, modelled on the nesting one's; the limits are documented.
    if properties > STRICT_PROPERTIES:
        return f"{properties} object properties exceeds limit of {STRICT_PROPERTIES}."
    if enum_values > STRICT_ENUM_VALUES:
        return f"{enum_values} enum values exceeds limit of {STRICT_ENUM_VALUES}."
    if name_chars > STRICT_NAME_CHARS:
        return (
            f"Total string length of property names, definition names, enum values and const values "
            f"{name_chars} exceeds limit of {STRICT_NAME_CHARS}."
        )
    return None

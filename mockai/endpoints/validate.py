"""Request checks with OpenAI's wording: unknown, missing, mistyped and out-of-range parameters.

Each endpoint declares its parameters as a table of `Param`; `check_params` applies it to a body and
raises the `OpenAIError` the real API gives for the first problem, naming the offending `param`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockai import errors

TYPE_NAMES = {
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "string": "a string",
    "array": "an array",
    "object": "an object",
}


@dataclass(frozen=True)
class Param:
    types: tuple[str, ...] = ("any",)
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None
    min_items: int | None = None
    max_items: int | None = None
    required: bool = False


def P(*types: str, **kw: Any) -> Param:
    return Param(types=types or ("any",), **kw)


def type_matches(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    raise ValueError(kind)


def expected_text(types: tuple[str, ...]) -> str:
    names = [TYPE_NAMES[t] for t in types]
    return names[0] if len(names) == 1 else "one of " + " or ".join(names)


def check_params(body: Mapping[str, Any], table: Mapping[str, Param]) -> None:
    """Raise OpenAI's 400 for the first unknown, missing, mistyped or out-of-range parameter.

    Parameters are checked in the table's order, so the error named is the same whatever the body's order;
    only the parameters the body has, and the required ones, are looked at."""
    for name in body:
        if name not in table:
            raise errors.unrecognized_argument(name)
    order, required = _layout(table)
    for name in sorted({*body, *required}, key=order.__getitem__):
        value = body.get(name)
        spec = table[name]
        if value is None:
            if spec.required:
                raise errors.missing_parameter(name)
            continue
        check_value(name, value, spec)


def _layout(table: Mapping[str, Param]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Each parameter's place in `table`, and the required ones; kept per table (tables are constants)."""
    found = _LAYOUTS.get(id(table))
    if found is not None and found[0] is table:
        return found[1], found[2]
    order = {name: i for i, name in enumerate(table)}
    required = tuple(name for name, spec in table.items() if spec.required)
    if len(_LAYOUTS) >= 64:
        _LAYOUTS.clear()  # bounded; a table built per call would only ever miss
    _LAYOUTS[id(table)] = (table, order, required)
    return order, required


_LAYOUTS: dict[int, tuple[Mapping[str, Param], dict[str, int], tuple[str, ...]]] = {}


def check_value(name: str, value: Any, spec: Param) -> None:
    if not any(type_matches(value, t) for t in spec.types):
        raise errors.OpenAIError(
            400,
            f"Invalid type for '{name}': expected {expected_text(spec.types)}, but got "
            f"{errors.describe_type(value)} instead.",
            param=name,
            code="invalid_type",
        )
    if spec.enum is not None and isinstance(value, str) and value not in spec.enum:
        raise invalid_enum(name, value, spec.enum)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        kind = "integer" if isinstance(value, int) else "decimal"
        if spec.min is not None and value < spec.min:
            raise errors.OpenAIError(
                400,
                f"Invalid '{name}': {kind} below minimum value. Expected a value >= {_num(spec.min)}, but "
                f"got {_num(value)} instead.",
                param=name,
                code=f"{kind}_below_min_value",
            )
        if spec.max is not None and value > spec.max:
            raise errors.OpenAIError(
                400,
                f"Invalid '{name}': {kind} above maximum value. Expected a value <= {_num(spec.max)}, but "
                f"got {_num(value)} instead.",
                param=name,
                code=f"{kind}_above_max_value",
            )
    if isinstance(value, list):
        if spec.min_items is not None and len(value) < spec.min_items:
            if not value:
                raise errors.OpenAIError(
                    400,
                    f"Invalid '{name}': empty array. Expected an array with minimum length {spec.min_items}, "
                    "but got an empty array instead.",
                    param=name,
                    code="empty_array",
                )
            raise errors.OpenAIError(
                400,
                f"Invalid '{name}': array too short. Expected an array with minimum length {spec.min_items}, "
                f"but got an array with length {len(value)} instead.",
                param=name,
                code="array_below_min_length",
            )
        if spec.max_items is not None and len(value) > spec.max_items:
            raise errors.OpenAIError(
                400,
                f"Invalid '{name}': array too long. Expected an array with maximum length {spec.max_items}, "
                f"but got an array with length {len(value)} instead.",
                param=name,
                code="array_above_max_length",
            )


def invalid_enum(name: str, value: Any, allowed: tuple[str, ...]) -> errors.OpenAIError:
    quoted = [f"'{a}'" for a in allowed]
    listed = (
        quoted[0]
        if len(quoted) == 1
        else ", ".join(quoted[:-1]) + (", and " if len(quoted) > 2 else " and ") + quoted[-1]
    )
    return errors.invalid_value(name, f"Invalid value: '{value}'. Supported values are: {listed}.")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def string_list(name: str, value: Any, max_items: int | None = None) -> list[str]:
    """A `stop`-like value (string or list of strings) as a list, or OpenAI's 400."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.OpenAIError(
            400,
            f"Invalid type for '{name}': expected one of a string or an array of strings, but got "
            f"{errors.describe_type(value)} instead.",
            param=name,
            code="invalid_type",
        )
    check_value(name, value, Param(types=("array",), max_items=max_items))
    return value


def check_logit_bias(value: Any, max_token: int) -> None:
    """`logit_bias` maps token ids (as strings) to biases in [-100, 100]. The key texts are the live API's
    (users pasted "Invalid key in 'logit_bias': 100265. Maximum value is 100257."); the range text and the
    codes are [UNVERIFIED]."""
    if not isinstance(value, Mapping):
        return
    for key, bias in value.items():
        if not key.isascii() or not key.isdigit():
            raise errors.OpenAIError(
                400,
                f"Invalid key in 'logit_bias': {key}. You should only be submitting non-negative integers.",
                param="logit_bias",
            )
        if int(key) > max_token:
            raise errors.OpenAIError(
                400, f"Invalid key in 'logit_bias': {key}. Maximum value is {max_token}.", param="logit_bias"
            )
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not -100 <= bias <= 100:
            raise errors.invalid_value(
                "logit_bias",
                f"Invalid value for 'logit_bias': bias value for token {key} must be a number between -100 "
                f"and 100, but got {bias!r} instead.",
            )


def function_name(name: Any, where: str) -> str:
    """A function or tool name as the API takes it (`[a-zA-Z0-9_-]{1,64}`), else its 400 at `where.name`."""
    if not isinstance(name, str):
        raise errors.missing_parameter(f"{where}.name")
    if not name or len(name) > 64 or not all(c.isalnum() or c in "_-" for c in name):
        raise errors.invalid_value(
            f"{where}.name",
            f"Invalid '{where}.name': string does not match pattern. Expected a string that matches the "
            "pattern '^[a-zA-Z0-9_-]+$'.",
        )
    return name

"""The model catalogue and the simulated date: which models exist, answer, and how, on a given day.

One data table (`data/models.csv`) describes every model; `resolve()` turns a requested id into the
`Model` that serves it on the simulated date, or the exact 404 OpenAI gives for an unknown, not yet
released or retired model.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from mockai import errors

Date = dt.date


@dataclass(frozen=True)
class Model:
    id: str
    endpoints: frozenset[str]
    encoding: str
    context: int
    max_output: int
    dims: int
    created: int
    owned_by: str
    released: Date
    shutdown: Date | None
    replacement: str
    snapshots: tuple[tuple[Date | None, str], ...]
    """(from date, snapshot id) pairs, oldest first: what `model` says in responses from that date."""
    traits: frozenset[str] = frozenset()
    """What sets the model apart (models.csv's `traits`): reasoning, harmony, no_system, audio, search."""

    @property
    def reasoning(self) -> bool:
        """An o-series or gpt-5 family model: `max_completion_tokens` only, default sampling only."""
        return "reasoning" in self.traits

    @property
    def harmony(self) -> bool:
        """Renders tools and messages in the harmony format (gpt-5 family and o-series)."""
        return "harmony" in self.traits

    def snapshot(self, as_of: Date) -> str:
        current = self.id
        for since, target in self.snapshots:
            if since is None or since <= as_of:
                current = target
        return current

    def alive(self, as_of: Date) -> bool:
        return self.released <= as_of and (self.shutdown is None or as_of < self.shutdown)

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


@dataclass(frozen=True)
class Resolved:
    """A requested model as it answers on a date: the row that serves it and the name it reports."""

    requested: str
    model: Model
    """The snapshot's row when the id is an alias (its context, encoding...)."""
    name: str
    """The `model` field of responses."""

    @property
    def legacy_0301(self) -> bool:
        return self.model.id == "gpt-3.5-turbo-0301"


def _date(text: str) -> Date | None:
    return dt.date.fromisoformat(text) if text else None


def _snapshots(text: str) -> tuple[tuple[Date | None, str], ...]:
    out: list[tuple[Date | None, str]] = []
    for part in filter(None, text.split(";")):
        since, _, target = part.rpartition("=")
        out.append((_date(since), target))
    return tuple(out)


def _load() -> dict[str, Model]:
    text = resources.files("mockai").joinpath("data").joinpath("models.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    models: dict[str, Model] = {}
    for row in rows:
        created = int(row["created"])
        models[row["id"]] = Model(
            id=row["id"],
            endpoints=frozenset(row["endpoints"].split(";")),
            encoding=row["encoding"],
            context=int(row["context"]),
            max_output=int(row["max_output"]),
            dims=int(row["dims"]),
            created=created,
            owned_by=row["owned_by"],
            released=_date(row["released"]) or dt.datetime.fromtimestamp(created, dt.timezone.utc).date(),
            shutdown=_date(row["shutdown"]),
            replacement=row["replacement"],
            snapshots=_snapshots(row["snapshot"]),
            traits=frozenset(filter(None, (row.get("traits") or "").split(";"))),
        )
    return models


MODELS: Mapping[str, Model] = _load()


def today() -> Date:
    return dt.datetime.now(dt.timezone.utc).date()


FINE_TUNE_ID = re.compile(r"ft:[\x21-\x7e]+")
"""What a fine-tune id can hold: printable ASCII, no spaces
(`ft:gpt-4o-mini-2024-07-18:org:suffix:abc123`)."""


def base_of(model_id: str) -> str:
    """The base model of a fine-tune id (`ft:gpt-4o-mini-2024-07-18:org::abc` -> `gpt-4o-mini-2024-07-18`)."""
    if model_id.startswith("ft:"):
        return model_id.split(":")[1]
    return model_id


def lookup(model_id: str, as_of: Date) -> Model:
    """The catalogue row for an id that exists on `as_of`, or OpenAI's 404."""
    model = MODELS.get(base_of(model_id))
    # A fine-tune's id is echoed in the `openai-model` header: one with a character no real id has
    # (a control character, non-ASCII) does not exist, rather than break the answer's headers.
    if (
        model is None
        or model.released > as_of
        or (model_id.startswith("ft:") and not FINE_TUNE_ID.fullmatch(model_id))
    ):
        raise errors.model_not_found(model_id)
    if model.shutdown is not None and model.shutdown <= as_of:
        raise errors.model_deprecated(model_id)
    return model


def resolve(model_id: str, endpoint: str, as_of: Date, path: str = "") -> Resolved:
    """The model that answers `model_id` on `endpoint` on `as_of`, or the error OpenAI answers."""
    model = lookup(model_id, as_of)
    if endpoint not in model.endpoints:
        raise wrong_endpoint(model, endpoint, path)
    name = model.snapshot(as_of)
    row = MODELS.get(name, model) if name != model.id else model
    if model_id.startswith("ft:"):
        name = model_id
    return Resolved(requested=model_id, model=row if row.context else model, name=name)


def wrong_endpoint(model: Model, endpoint: str, path: str) -> errors.OpenAIError:
    if endpoint == "completions" and "chat" in model.endpoints:
        return errors.chat_model_on_completions()
    if endpoint == "chat":
        return errors.not_a_chat_model()
    if endpoint == "embeddings":
        # [UNVERIFIED status]; the text is the one OpenAI sent for non-embedding models.
        return errors.OpenAIError(400, "You are not allowed to generate embeddings from this model")
    if endpoint == "edits":
        return errors.invalid_url("POST", path or "/v1/edits")
    # [UNVERIFIED] audio endpoints: OpenAI's wording for a model of another family is not on record.
    return errors.OpenAIError(
        400,
        f"Invalid model {model.id}. This endpoint does not support it.",
        param="model",
        code="invalid_model",
    )


def available(as_of: Date) -> list[Model]:
    """Every model that exists and answers on `as_of`, as GET /v1/models lists them."""
    return [m for m in MODELS.values() if m.alive(as_of)]

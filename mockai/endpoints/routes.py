"""Which endpoint answers which path: the model routes, and the `/v1/engines/{model}/...` routes openai 0.28
sends."""

from __future__ import annotations

from typing import Any

from mockai.endpoints import (
    chat,
    completions,
    edits,
    embeddings,
    images,
    moderations,
    responses,
    speech,
    transcriptions,
    translations,
)
from mockai.endpoints.contract import Endpoint

MODEL_ROUTES: dict[str, Endpoint[Any]] = {
    "/v1/chat/completions": chat.ENDPOINT,
    "/v1/completions": completions.ENDPOINT,
    "/v1/edits": edits.ENDPOINT,
    "/v1/embeddings": embeddings.ENDPOINT,
    "/v1/audio/transcriptions": transcriptions.ENDPOINT,
    "/v1/audio/translations": translations.ENDPOINT,
    "/v1/audio/speech": speech.ENDPOINT,
    "/v1/responses": responses.ENDPOINT,
    "/v1/moderations": moderations.ENDPOINT,
    "/v1/images/generations": images.ENDPOINT,
}
BY_NAME: dict[str, Endpoint[Any]] = {e.name: e for e in MODEL_ROUTES.values()}
ENGINE_ROUTES = {
    "chat/completions": "/v1/chat/completions",
    "completions": "/v1/completions",
    "embeddings": "/v1/embeddings",
    "edits": "/v1/edits",
}
"""`/v1/engines/{model}/<suffix>`: the model route each suffix stands for."""


def find(path: str) -> tuple[Endpoint[Any], str | None] | None:
    """The endpoint for `path`, and the model the path names (engine routes only); None: not a model route."""
    endpoint = MODEL_ROUTES.get(path)
    if endpoint is not None:
        return endpoint, None
    if path.startswith("/v1/engines/"):
        model, _, rest = path[len("/v1/engines/") :].partition("/")
        target = ENGINE_ROUTES.get(rest)
        if target is not None:
            return MODEL_ROUTES[target], model
    return None

"""GET /v1/models and /v1/models/{id}: the catalogue as of the simulated date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mockai import errors
from mockai.models import catalogue

PREFIX = "/v1/models/"


def allowed(path: str) -> tuple[str, ...]:
    """The methods a models path answers (the list: GET; one model: GET, and DELETE for fine-tunes)."""
    return ("GET",) if path == "/v1/models" else ("GET", "DELETE")


def is_models_path(path: str) -> bool:
    return path == "/v1/models" or path.startswith(PREFIX)


def answer(method: str, path: str, as_of: dt.date) -> dict[str, Any]:
    """The body for a models request, or OpenAI's 404 for a model that does not exist on `as_of`."""
    if path == "/v1/models":
        return {"object": "list", "data": [m.as_json() for m in catalogue.available(as_of)]}
    model_id = path[len(PREFIX) :]
    model = catalogue.MODELS.get(catalogue.base_of(model_id))
    if model is None or not model.alive(as_of):
        raise errors.OpenAIError(
            404,
            f"The model `{model_id}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    if method == "DELETE":
        # [UNVERIFIED] deleting a base model: OpenAI refuses; only fine-tunes of your org can be deleted.
        raise errors.OpenAIError(
            403,
            "You have insufficient permissions for this operation. Missing scopes: api.model.delete.",
            type="invalid_request_error",
        )
    return {**model.as_json(), "id": model_id}

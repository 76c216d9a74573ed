"""Extract the OpenAPI component schemas mockai's tests validate against, with everything they
reference, into tests/data/openapi-subset.json, so the tests run without shared/reference beside the
clone. Run it again when the reference spec changes: python tests/data/extract_schemas.py"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance import SPECS, spec  # noqa: E402

ROOTS = {
    "current": [
        "CreateChatCompletionResponse",
        "CreateChatCompletionStreamResponse",
        "CreateCompletionResponse",
        "ListModelsResponse",
        "Model",
        "ErrorResponse",
        "CreateEmbeddingResponse",
        "CreateTranscriptionResponseJson",
        "CreateTranscriptionResponseVerboseJson",
        "CreateTranslationResponseJson",
        "CreateTranslationResponseVerboseJson",
        # For the compatibility suite's tap check (tests/compat/tapcheck.py): streams and the rest of
        # /v1/models.
        "CreateTranscriptionResponseStreamEvent",
        "CreateTranscriptionResponseDiarizedJson",
        "CreateSpeechResponseStreamEvent",
        "DeleteModelResponse",
        # The API of today (issue 14): Responses, moderations, stored chat completions, images.
        "Response",
        "ResponseStreamEvent",
        "ResponseCreatedEvent",
        "ResponseItemList",
        "TokenCountsResource",
        "CreateModerationResponse",
        "ImagesResponse",
        "ChatCompletionList",
        "ChatCompletionDeleted",
        "ChatCompletionMessageList",
    ],
    "edits": ["CreateEditResponse", "ErrorResponse"],
}


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].split("/")[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def subset(name: str) -> dict[str, Any]:
    schemas = spec(name)["components"]["schemas"]
    todo, keep = list(ROOTS[name]), {}
    while todo:
        item = todo.pop()
        if item in keep or item not in schemas:
            continue
        keep[item] = schemas[item]
        todo.extend(refs(schemas[item]))
    return {"components": {"schemas": dict(sorted(keep.items()))}}


if __name__ == "__main__":
    out = {name: subset(name) for name in SPECS}
    path = Path(__file__).with_name("openapi-subset.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True))
    print(f"wrote {path} ({path.stat().st_size} bytes)")

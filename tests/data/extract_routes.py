"""Extract the operations mockai serves from OpenAI's OpenAPI spec, with every component they
reference, into tests/data/openapi-routes.json: a 130 KB spec schemathesis loads in a moment, where the
3 MB original costs seconds. Run it again when the reference spec changes:
python tests/data/extract_routes.py"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance import REFERENCE

OPERATIONS = {
    "/chat/completions": ["post", "get"],
    "/chat/completions/{completion_id}": ["get", "post", "delete"],
    "/chat/completions/{completion_id}/messages": ["get"],
    "/responses": ["post"],
    "/responses/{response_id}": ["get", "delete"],
    "/responses/{response_id}/input_items": ["get"],
    "/responses/{response_id}/cancel": ["post"],
    "/responses/input_tokens": ["post"],
    "/moderations": ["post"],
    "/images/generations": ["post"],
    "/completions": ["post"],
    "/embeddings": ["post"],
    "/models": ["get"],
    "/models/{model}": ["get", "delete"],
    "/audio/speech": ["post"],
    "/audio/transcriptions": ["post"],
    "/audio/translations": ["post"],
}
"""The spec's operations mockai answers."""
TARGET = Path(__file__).with_name("openapi-routes.json")


def refs(node: Any) -> set[str]:
    """Every `$ref` under a node, as written (`#/components/schemas/Name`)."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def routes_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A valid OpenAPI document holding only OPERATIONS and what they reference (docs metadata dropped)."""
    paths = {
        path: {
            method: {k: v for k, v in spec["paths"][path][method].items() if k != "x-oaiMeta"}
            for method in methods
        }
        for path, methods in OPERATIONS.items()
    }
    keep: dict[tuple[str, str], Any] = {}
    todo = sorted(refs(paths))
    while todo:
        _, _, kind, name = todo.pop().split("/")
        if (kind, name) not in keep:
            keep[(kind, name)] = spec["components"][kind][name]
            todo.extend(sorted(refs(keep[(kind, name)])))
    components: dict[str, dict[str, Any]] = {"securitySchemes": spec["components"]["securitySchemes"]}
    for (kind, name), value in sorted(keep.items()):
        components.setdefault(kind, {})[name] = value
    head = {k: spec[k] for k in ("openapi", "info", "servers", "security")}
    return {**head, "paths": paths, "components": components}


def load_reference() -> dict[str, Any]:
    """The reference spec as YAML has it (no rewriting of `nullable`: schemathesis reads OpenAPI itself)."""
    import yaml

    with open(REFERENCE / "openapi" / "openapi-current.yaml", encoding="utf-8") as f:
        data: dict[str, Any] = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return data


if __name__ == "__main__":
    TARGET.write_text(json.dumps(routes_spec(load_reference()), indent=1, sort_keys=True))
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")

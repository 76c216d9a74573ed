"""Validate what a tapped mockai server sent (mockai/tap.py) against OpenAI's own OpenAPI schemas.

Every JSON body and every SSE event is matched to the schema the spec names for its route and
status (errors to `ErrorResponse`, /v1/edits to the 2023 spec that still has it), so a shape that
drifts from the real API fails here whichever test or client happened to produce it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jsonschema
from conformance import validate

ENGINE = re.compile(r"^/v1/engines/[^/]+/")
JSON_SCHEMAS = {
    "/v1/chat/completions": "CreateChatCompletionResponse",
    "/v1/completions": "CreateCompletionResponse",
    "/v1/embeddings": "CreateEmbeddingResponse",
    "/v1/edits": "CreateEditResponse",
    "/v1/models": "ListModelsResponse",
    "/v1/responses": "Response",
    "/v1/responses/{id}": "Response",
    "/v1/responses/{id}/cancel": "Response",
    "/v1/responses/{id}/input_items": "ResponseItemList",
    "/v1/responses/input_tokens": "TokenCountsResource",
    "/v1/moderations": "CreateModerationResponse",
    "/v1/images/generations": "ImagesResponse",
    "/v1/chat/completions/{id}": "CreateChatCompletionResponse",
    "/v1/chat/completions/{id}/messages": "ChatCompletionMessageList",
}
LISTS = {"/v1/chat/completions": "ChatCompletionList"}
"""Routes whose GET lists stored objects (their POST is the model call above)."""
DELETED = {"/v1/chat/completions/{id}": "ChatCompletionDeleted", "/v1/responses/{id}": None}
"""What a DELETE answers per route; None: a body the spec does not describe (the SDK reads none)."""
STORED = re.compile(r"^/v1/(responses|chat/completions)/(?!input_tokens$)[^/]+")
RECORDED = ("cassette", "upstream")
"""Sources whose 2xx bodies were written by a recording or a real upstream, not by mockai."""
EVENT_SCHEMAS = {
    "/v1/chat/completions": "CreateChatCompletionStreamResponse",
    "/v1/completions": "CreateCompletionResponse",
    "/v1/audio/transcriptions": "CreateTranscriptionResponseStreamEvent",
    "/v1/audio/speech": "CreateSpeechResponseStreamEvent",
    "/v1/responses": "ResponseStreamEvent",
}


@dataclass
class Report:
    """Counts of what was checked, and each violation as `METHOD path: what`."""

    bodies: int = 0
    events: int = 0
    unchecked: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def add(self, other: Report) -> None:
        self.bodies += other.bodies
        self.events += other.events
        for k, v in other.unchecked.items():
            self.unchecked[k] = self.unchecked.get(k, 0) + v
        self.violations.extend(other.violations)

    def summary(self) -> str:
        extra = ", ".join(f"{n} {k}" for k, n in sorted(self.unchecked.items()))
        return f"{self.bodies} bodies, {self.events} stream events validated" + (
            f" ({extra} not schema-checked)" if extra else ""
        )


def records(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def route(path: str) -> str:
    """The spec's route for a request path: engine routes are the plain ones with the model in the path."""
    path = ENGINE.sub("/v1/", path)
    if path.startswith("/v1/models/"):
        return "/v1/models/{model}"
    return STORED.sub(lambda m: f"/v1/{m.group(1)}/{{id}}", path)


def check(recs: Iterable[dict[str, Any]]) -> Report:
    report = Report()
    for rec in recs:
        if rec["path"].startswith("/_mockai/"):
            continue
        try:
            _check_one(rec, report)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            report.violations.append(
                f"{rec['method']} {rec['path']} {rec['status']}: at {where}: {exc.message[:300]}"
            )
    return report


def _check_one(rec: dict[str, Any], report: Report) -> None:
    path, status, ctype = route(rec["path"]), rec["status"], rec["content_type"]
    spec = "edits" if path == "/v1/edits" else "current"
    if status < 400 and rec.get("source") in RECORDED:
        report.unchecked["replayed bodies"] = report.unchecked.get("replayed bodies", 0) + 1
        return
    if ctype.startswith("text/event-stream"):
        _check_stream(rec, path, report)
        return
    if ctype.startswith("application/json"):
        body = json.loads(rec["body"])
        report.bodies += 1
        if status >= 400:
            validate("ErrorResponse", body, spec)
        elif path == "/v1/models/{model}":
            validate("DeleteModelResponse" if rec["method"] == "DELETE" else "Model", body)
        elif path.startswith("/v1/audio/"):
            validate(_audio_schema(path, body), body)
        elif rec["method"] == "DELETE" and path in DELETED:
            schema = DELETED[path]
            if schema is None:
                report.unchecked["deletions"] = report.unchecked.get("deletions", 0) + 1
            else:
                validate(schema, body)
        elif rec["method"] in ("GET", "HEAD") and path in LISTS:
            validate(LISTS[path], relax(path, body))
        elif path in JSON_SCHEMAS:
            validate(JSON_SCHEMAS[path], relax(path, body), spec)
        else:
            report.violations.append(
                f"{rec['method']} {rec['path']} {status}: no schema known for this route"
            )
        return
    if path == "/v1/audio/speech" and status == 200:
        if not ctype.startswith("audio/") or rec["size"] == 0:
            report.violations.append(
                f"POST {rec['path']}: speech answered {ctype!r} with {rec['size']} bytes"
            )
        report.unchecked["audio bodies"] = report.unchecked.get("audio bodies", 0) + 1
        return
    if ctype.startswith("text/plain") and path.startswith("/v1/audio/"):
        report.unchecked["text transcripts"] = report.unchecked.get("text transcripts", 0) + 1
        return
    report.violations.append(f"{rec['method']} {rec['path']} {status}: unexpected content type {ctype!r}")


def _check_stream(rec: dict[str, Any], path: str, report: Report) -> None:
    schema = EVENT_SCHEMAS.get(path)
    for block in (rec["body"] or "").replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:"))
        if not data or data == "[DONE]":
            continue
        try:
            event = json.loads(data)
        except ValueError:
            if (
                rec["complete"] and '"chatcmpl-broken"' not in data
            ):  # scripted `malformed` faults are on purpose
                report.violations.append(
                    f"{rec['method']} {rec['path']}: an SSE event is not JSON: {data[:120]!r}"
                )
            continue
        report.events += 1
        if isinstance(event, dict) and "error" in event:
            validate("ErrorResponse", event)
        elif schema is None:
            report.violations.append(f"{rec['method']} {rec['path']}: no event schema known for this route")
        else:
            validate(schema, relax(path, event, stream=True))


def relax(path: str, body: Any, stream: bool = False) -> Any:
    """The body with the spec's four known gaps filled, each a documented behaviour of the real API
    that the schema does not describe; anything else must conform as it is.

    - legacy completion stream chunks carry `finish_reason: null` until the last one (2023 captures);
      the spec gives streamed and non-streamed completions one shape, without null;
    - with `echo` the first prompt token has no logprob: `token_logprobs[0]` and `top_logprobs[0]` are null;
    - `encoding_format: "base64"` embeddings are a base64 string of little-endian float32s, where the
      spec only describes the float array (the string must still decode to whole floats);
    - a stored chat completion's `/messages` lists the request's messages with their own roles and no
      `refusal` (the spec's own example: `{"id", "role": "user", "content", "name", "content_parts"}`),
      where the item schema only allows `assistant` and requires `refusal`;
    - chat bodies follow the simulated date (mockai/endpoints/chat_shape.py, from recorded traffic): before
      2024-08 a message has no `refusal`, and some models' choices have no `logprobs` key (gpt-5 family,
      search and audio previews), where today's spec requires both;
    - an empty page of stored completions says `first_id`/`last_id: null` ([UNVERIFIED]); the spec types
      them as strings;
    - a response echoes the built-in tools and `tool_choice` its request sent; fuzzed requests carry shapes
      the spec's request schema takes and its response schema refuses, so the echo is left out.
    """
    if path in ("/v1/chat/completions", "/v1/chat/completions/{id}") and isinstance(body, dict):
        body = copy.deepcopy(body)
        for choice in body.get("choices") or []:
            if isinstance(choice, dict):
                if not stream:
                    choice.setdefault("logprobs", None)
                if isinstance(choice.get("message"), dict):
                    choice["message"].setdefault("refusal", None)
        for item in body.get("data") or []:  # a list of stored completions
            if isinstance(item, dict):
                for choice in item.get("choices") or []:
                    if isinstance(choice, dict):
                        choice.setdefault("logprobs", None)
                        if isinstance(choice.get("message"), dict):
                            choice["message"].setdefault("refusal", None)
        for key in ("first_id", "last_id"):
            if key in body and body[key] is None and not body.get("data"):
                body[key] = ""
    if path.startswith("/v1/responses") and isinstance(body, dict):
        target = body.get("response") if isinstance(body.get("response"), dict) else body
        if isinstance(target.get("tools"), list):
            body = copy.deepcopy(body)
            target = body.get("response") if isinstance(body.get("response"), dict) else body
            target["tools"] = [
                t for t in target["tools"] if isinstance(t, dict) and t.get("type") == "function"
            ]
            if isinstance(target.get("tool_choice"), dict):
                target["tool_choice"] = "auto"
    if path == "/v1/completions" and isinstance(body, dict) and isinstance(body.get("choices"), list):
        body = copy.deepcopy(body)
        for choice in body["choices"]:
            if not isinstance(choice, dict):
                continue
            if stream and choice.get("finish_reason", "") is None:
                choice["finish_reason"] = "stop"
            lp = choice.get("logprobs")
            if isinstance(lp, dict):
                for key, filler in (("token_logprobs", 0.0), ("top_logprobs", {})):
                    if isinstance(lp.get(key), list) and lp[key] and lp[key][0] is None:
                        lp[key][0] = filler
    if path == "/v1/embeddings" and isinstance(body, dict) and isinstance(body.get("data"), list):
        body = copy.deepcopy(body)
        for item in body["data"]:
            if isinstance(item, dict) and isinstance(item.get("embedding"), str):
                item["embedding"] = _floats(item["embedding"])
    if path == "/v1/chat/completions/{id}/messages" and isinstance(body, dict):
        body = copy.deepcopy(body)
        for item in body.get("data") or []:
            if isinstance(item, dict) and item.get("role") in (
                "user",
                "system",
                "developer",
                "tool",
                "function",
            ):
                item["role"] = "assistant"
                item.setdefault("refusal", None)
    return body


def _floats(text: str) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise jsonschema.ValidationError(f"embedding is a string but not base64: {text[:40]!r}") from None
    if len(raw) % 4:
        raise jsonschema.ValidationError(
            f"base64 embedding of {len(raw)} bytes is not a whole number of float32s"
        )
    return [0.0] * (len(raw) // 4)


def _audio_schema(path: str, body: Any) -> str:
    """The member of the spec's oneOf that the body claims to be: `duration` marks verbose_json,
    segments with a `speaker` the diarized form; a plain `{"text"}` is json."""
    kind = "Transcription" if path.endswith("transcriptions") else "Translation"
    if not isinstance(body, dict) or "duration" not in body:
        return f"Create{kind}ResponseJson"
    segments = body.get("segments") or []
    if kind == "Transcription" and any(isinstance(s, dict) and "speaker" in s for s in segments):
        return "CreateTranscriptionResponseDiarizedJson"
    return f"Create{kind}ResponseVerboseJson"


def main(argv: list[str]) -> int:
    """`python tests/compat/tapcheck.py DIR...`: check every tap file in the folders; exit 1 on a
    violation."""
    report = check(records(p for d in argv for p in sorted(Path(d).glob("tap-*.jsonl"))))
    for line in report.violations:
        print(line)
    print(
        ("FAIL: " if report.violations else "ok: ")
        + report.summary()
        + f", {len(report.violations)} violation(s)"
    )
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""How cassette replay scales: load time and per-lookup time for 10, 10,000 and 100,000 interactions.

Run: .venv/bin/python bench/replay_scale.py [--sizes 10,10000,100000]. Each cassette holds chat
completions (one in ten streamed, 30 events) with bodies of realistic size. A lookup is what the server
does per request: parse the body, normalise it, hash it, find the recording and decode it for replay.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from mockai.recording import keys
from mockai.recording.cassette import Cassette, write_cassette
from mockai.recording.interaction import Interaction
from mockai.wire import event_bytes, json_bytes

JSON_HEADERS = (
    ("content-type", "application/json"),
    ("x-request-id", "req_0123456789abcdef"),
    ("openai-processing-ms", "321"),
)
SSE_HEADERS = (("content-type", "text/event-stream; charset=utf-8"), ("x-request-id", "req_0123456789abcdef"))


def request_body(i: int) -> bytes:
    messages = [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": f"Question {i}: what is {i} squared?"},
    ]
    return json.dumps(
        {"model": "gpt-4o-mini", "messages": messages, "temperature": 0.2, "stream": i % 10 == 0},
        separators=(",", ":"),
    ).encode()


def interaction(i: int) -> Interaction:
    text = f"{i} squared is {i * i}. " + "Here is a longer explanation of the arithmetic involved. " * 8
    base = {
        "id": f"chatcmpl-{i:08d}",
        "created": 1_700_000_000 + i,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0123456789",
    }
    req = dict(
        method="POST",
        path="/v1/chat/completions",
        query="",
        request_headers=(("content-type", "application/json"),),
        request_body=request_body(i),
        status=200,
    )
    if i % 10:
        body = {
            **base,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 25, "completion_tokens": 90, "total_tokens": 115},
        }
        return Interaction(**req, response_headers=JSON_HEADERS, body=json_bytes(body), elapsed=0.4)
    words = text.split(" ")
    chunks = [
        (
            0.01 * n,
            event_bytes(
                {
                    **base,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}],
                }
            ),
        )
        for n, w in enumerate(words[:30])
    ]
    chunks.append((0.31, b"data: [DONE]\n\n"))
    return Interaction(**req, response_headers=SSE_HEADERS, chunks=tuple(chunks), elapsed=0.2)


def interactions(n: int) -> Iterator[Interaction]:
    return (interaction(i) for i in range(n))


def measure(n: int, folder: Path, lookups: int = 2000) -> None:
    path = folder / f"bench-{n}.jsonl"
    t = time.perf_counter()
    write_cassette(path, interactions(n))
    write_s = time.perf_counter() - t
    t = time.perf_counter()
    cassette = Cassette.load(path)
    load_s = time.perf_counter() - t
    picks = [random.randrange(n) for _ in range(lookups)]
    bodies = [request_body(i) for i in picks]
    t = time.perf_counter()
    for raw in bodies:
        body = keys.parse_body(raw, "application/json")
        key = keys.key(cassette.normal_form("POST", "/v1/chat/completions", "", body))
        found = cassette.next_match(key, repeat_last=True)
        assert found is not None
        cassette.interaction(found)
    lookup_us = (time.perf_counter() - t) / lookups * 1e6
    size = path.stat().st_size / 1e6
    print(
        f"{n:>7,} interactions  {size:8.1f} MB  write {write_s:6.2f} s  "
        f"load {load_s:6.3f} s  lookup {lookup_us:7.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,10000,100000", help="comma-separated cassette sizes")
    args = parser.parse_args()
    random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            measure(n, Path(tmp))


if __name__ == "__main__":
    main()

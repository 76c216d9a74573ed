"""What the benchmark asks: the request bodies of each scenario and the rules that script mockai's replies.

chat        a short non-streaming chat completion (the default generated reply, exact usage)
embeddings  one input string, 1536 floats back
stream      a chat stream of a scripted 200-token reply (rule: user text contains "long")
paced       a ~100-token reply paced at 50 tokens/s (rule: contains "paced"), for pacing accuracy
"""

from __future__ import annotations

import json
from functools import cache

from mockai.models import tokens

MODEL = "gpt-4o-mini"
ENCODING = "o200k_base"  # gpt-4o-mini's
PACED_TOKENS_PER_SECOND = 50

SENTENCES = (
    "The quarterly report shows steady growth in every region we track.",
    "Customers in the north asked for faster delivery and clearer invoices.",
    "Our support team answered most questions within a single working day.",
    "Next year we plan to open two offices and hire forty engineers.",
    "The new billing system cut manual work by almost half.",
    "Several partners asked for an API that streams results as they are ready.",
)


@cache
def text_of(n_tokens: int) -> str:
    """Whole sentences, repeated in turn, up to about `n_tokens` tokens of gpt-4o-mini's encoding."""
    words: list[str] = []
    i = 0
    while tokens.count(ENCODING, " ".join(words)) < n_tokens:
        words.extend(SENTENCES[i % len(SENTENCES)].split())
        i += 1
    while tokens.count(ENCODING, " ".join(words)) > n_tokens:
        words.pop()
    return " ".join(words)


def chat_body(text: str, **extra: object) -> dict[str, object]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}


CHAT = chat_body("Say hello", max_tokens=20)
EMBEDDINGS = {
    "model": "text-embedding-3-small",
    "input": "The food was delicious and the waiter was very friendly.",
}
STREAM = chat_body("Tell me a long story", stream=True)
PACED = chat_body("Tell me a paced story", stream=True)


@cache
def scenario() -> dict[str, object]:
    """The rules PUT to /_mockai/scenario before the load starts."""
    return {
        "name": "bench",
        "rules": [
            {"match": {"endpoint": "chat", "contains": "long"}, "reply": {"content": text_of(200)}},
            {
                "match": {"endpoint": "chat", "contains": "paced"},
                "reply": {"content": text_of(100), "stream": {"tokens_per_second": PACED_TOKENS_PER_SECOND}},
            },
        ],
    }


def bodies() -> dict[str, bytes]:
    """Scenario name -> the exact request bytes every server is sent."""
    raw = {"chat": CHAT, "embeddings": EMBEDDINGS, "stream": STREAM}
    return {name: json.dumps(body, separators=(",", ":")).encode() for name, body in raw.items()}

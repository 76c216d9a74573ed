"""What the benchmark asks: the request bodies of each scenario and the rules that script mockai's replies.

chat        a short scripted chat, the same prompt every time (a suite rerun); rule: contains "Say hello"
distinct    the same, but every request's prompt is new (a counter in it): nothing a cache could reuse
tools       a ~2,000-token system prompt and three tools, then "Say hello": what an agent's suite sends
embeddings  one input string, 1536 floats back
stream      a chat stream of a scripted 200-token reply (rule: user text contains "long")
paced       a ~100-token reply paced at 50 tokens/s (rule: contains "paced"), for pacing accuracy

Every peer that can script a reply is given the same replies (servers.start_aimock, start_mockllm).
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


HELLO = "Hello! How can I help you today?"
"""The scripted reply to "Say hello", on every server that can script one."""
COUNTER = "__N__"
"""In the distinct workload's body, replaced by the request's number (load.run), so every prompt is new."""
CHAT = chat_body("Say hello", max_tokens=20)
DISTINCT = chat_body(f"Say hello, request {COUNTER} of the run", max_tokens=20)


def _tool(name: str, about: str, **properties: object) -> dict[str, object]:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {"type": "function", "function": {"name": name, "description": about, "parameters": schema}}


TOOLS = [
    _tool("get_weather", "The weather in a city, now.", city={"type": "string"}, unit={"enum": ["c", "f"]}),
    _tool("search_orders", "Orders of a customer, newest first.", customer_id={"type": "string"}),
    _tool(
        "create_ticket",
        "Open a support ticket.",
        title={"type": "string"},
        body={"type": "string"},
        priority={"enum": ["low", "normal", "high"]},
    ),
]


def tools_body() -> dict[str, object]:
    """A long system prompt (about 2,000 tokens) with three tools, then a short user turn."""
    system = {"role": "system", "content": text_of(2000)}
    return {
        "model": MODEL,
        "messages": [system, {"role": "user", "content": "Say hello"}],
        "tools": TOOLS,
        "max_tokens": 20,
    }


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
            {"match": {"endpoint": "chat", "contains": "Say hello"}, "reply": {"content": HELLO}},
            {"match": {"endpoint": "chat", "contains": "long"}, "reply": {"content": text_of(200)}},
            {
                "match": {"endpoint": "chat", "contains": "paced"},
                "reply": {"content": text_of(100), "stream": {"tokens_per_second": PACED_TOKENS_PER_SECOND}},
            },
        ],
    }


def bodies() -> dict[str, bytes]:
    """Scenario name -> the exact request bytes every server is sent."""
    raw = {
        "chat": CHAT,
        "distinct": DISTINCT,
        "tools": tools_body(),
        "embeddings": EMBEDDINGS,
        "stream": STREAM,
    }
    return {name: json.dumps(body, separators=(",", ":")).encode() for name, body in raw.items()}

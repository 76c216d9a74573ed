"""langchain-openai: `ChatOpenAI`, the `OpenAI` completion LLM and `OpenAIEmbeddings`, as chains use them.

Runs in its own virtual environment (tests/compat/requirements-langchain.txt). OpenAIEmbeddings
tokenizes with tiktoken and sends token-id arrays; the driver points TIKTOKEN_CACHE_DIR at
vocabularies it built offline, as a user's CI without internet would have to.
"""

from __future__ import annotations

import asyncio
import sys

import langchain_openai
import openai
from harness import (
    KEY,
    URL,
    check,
    expect,
    fail_next,
    long_text,
    main,
    not_applicable,
    requests_seen,
    set_date,
)
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAI, OpenAIEmbeddings
from pydantic import BaseModel


def chat_model(**kwargs: object) -> ChatOpenAI:
    return ChatOpenAI(
        model=kwargs.pop("model", "gpt-4o-mini"),
        base_url=URL,
        api_key=KEY,
        max_retries=kwargs.pop("max_retries", 0),
        **kwargs,
    )  # type: ignore[arg-type]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"18C in {city}"


class Weather(BaseModel):
    city: str
    celsius: float


@check("chat")
def chat() -> str:
    reply = chat_model().invoke("Say hello to the compatibility suite.")
    usage = reply.usage_metadata or {}
    expect(isinstance(reply.content, str) and reply.content, f"{reply}")
    expect(
        usage.get("total_tokens") == usage.get("input_tokens", 0) + usage.get("output_tokens", 0) > 0,
        f"usage {usage}",
    )
    expect(
        reply.response_metadata["model_name"].startswith("gpt-4o-mini")
        and reply.response_metadata["finish_reason"] == "stop",
        f"{reply.response_metadata}",
    )
    return f"{reply.response_metadata['model_name']}: {usage}"


@check("chat stream")
def chat_stream() -> str:
    llm = chat_model(stream_usage=True)
    whole = llm.invoke("Say hello.").content
    total = None
    for chunk in llm.stream("Say hello."):
        total = chunk if total is None else total + chunk
    expect(total is not None and total.content == whole, f"{total and total.content!r} != {whole!r}")
    expect(
        total.usage_metadata and total.usage_metadata["output_tokens"] > 0, f"usage {total.usage_metadata}"
    )
    return f"{len(whole)} chars, usage {total.usage_metadata['total_tokens']}"


@check("tools")
def tools() -> str:
    llm = chat_model().bind_tools([get_weather])
    first = llm.invoke("What is the weather in Paris?")
    expect(
        first.tool_calls
        and first.tool_calls[0]["name"] == "get_weather"
        and "city" in first.tool_calls[0]["args"],
        f"{first}",
    )
    call = first.tool_calls[0]
    messages = [
        HumanMessage("What is the weather in Paris?"),
        first,
        ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]),
    ]
    answer = llm.invoke(messages)
    expect(isinstance(answer.content, str) and answer.content and not answer.tool_calls, f"{answer}")
    structured = chat_model().with_structured_output(Weather).invoke("Weather in Paris as JSON.")
    expect(isinstance(structured, Weather), f"{structured!r}")
    by_tool = (
        chat_model().with_structured_output(Weather, method="function_calling").invoke("Weather in Paris.")
    )
    expect(isinstance(by_tool, Weather), f"{by_tool!r}")
    return (
        f"bind_tools -> {call['name']}({call['args']}) -> text; "
        "with_structured_output (json_schema, function_calling)"
    )


@check("tools stream")
def tools_stream() -> str:
    total = None
    for chunk in (
        chat_model().bind_tools([get_weather], tool_choice="get_weather").stream("Weather in Paris?")
    ):
        total = chunk if total is None else total + chunk
    expect(total is not None and total.tool_calls and "city" in total.tool_calls[0]["args"], f"{total}")
    return (
        f"{total.tool_calls[0]['name']}({total.tool_calls[0]['args']}) "
        f"from {len(total.tool_call_chunks)} merged chunk(s)"
    )


@check("legacy functions")
def functions() -> str:
    fn = {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    reply = (
        chat_model(model="gpt-3.5-turbo")
        .bind(functions=[fn], function_call={"name": "get_weather"})
        .invoke("Weather?")
    )
    call = reply.additional_kwargs.get("function_call")
    expect(call and call["name"] == "get_weather", f"{reply}")
    return f"bind(functions=...) -> function_call {call['arguments']}"


def llm(**kwargs: object) -> OpenAI:
    return OpenAI(
        model=kwargs.pop("model", "gpt-3.5-turbo-instruct"),
        base_url=URL,
        api_key=KEY,
        max_retries=0,
        **kwargs,
    )  # type: ignore[arg-type]


@check("completions")
def completions() -> str:
    text = llm(max_tokens=20).invoke("Once upon a time")
    result = llm(max_tokens=10, n=2).generate(["Roses are", "Violets are"])
    expect(isinstance(text, str) and text, "invoke")
    expect(
        len(result.generations) == 2 and all(len(g) == 2 for g in result.generations), f"{result.generations}"
    )
    expect(result.llm_output["token_usage"]["total_tokens"] > 0, f"{result.llm_output}")
    batch = requests_seen("/completions")[-1]["body"]["prompt"]
    expect(batch == ["Roses are", "Violets are"], f"langchain batches prompts in one request: {batch}")
    return f"invoke, generate(2 prompts x n=2) in one request, usage {result.llm_output['token_usage']}"


@check("completions stream")
def completions_stream() -> str:
    whole = llm().invoke("Once upon a time")
    parts = list(llm().stream("Once upon a time"))
    expect("".join(parts) == whole, f"{''.join(parts)!r} != {whole!r}")
    return f"{len(parts)} chunks"


def embedder(**kwargs: object) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(
        model=kwargs.pop("model", "text-embedding-3-small"),
        base_url=URL,
        api_key=KEY,
        max_retries=0,
        **kwargs,
    )  # type: ignore[arg-type]


@check("embeddings")
def embeddings() -> str:
    vectors = embedder().embed_documents(["hello world", "goodbye", "hello world"])
    query = embedder().embed_query("hello world")
    sent = requests_seen("/embeddings")[0]["body"]["input"]
    expect(
        all(isinstance(x, list) and all(isinstance(t, int) for t in x) for x in sent),
        f"langchain should send token ids: {sent}",
    )
    expect(len(vectors) == 3 and len(vectors[0]) == 1536 and vectors[0] == vectors[2], "vectors")
    expect(
        max(abs(a - b) for a, b in zip(query, vectors[0])) < 1e-6,
        "embed_query and embed_documents differ for one text",
    )
    short = embedder(dimensions=256).embed_query("hello")
    expect(len(short) == 256, f"dimensions {len(short)}")
    return f"token-id arrays {sent[:2]} -> 3 x {len(vectors[0])} floats; dimensions=256"


@check("embeddings base64")
def embeddings_base64() -> str:
    embedder().embed_query("hello")
    sent = requests_seen("/embeddings")[-1]["body"]
    expect(
        sent.get("encoding_format") == "base64",
        f"the SDK under langchain asks for base64 by default: {sent.get('encoding_format')}",
    )
    return "base64 requested by the openai SDK underneath and decoded"


for row, why in (
    ("edits", "langchain-openai has no edits API"),
    ("transcription", "langchain-openai has no audio API"),
    ("translation", "langchain-openai has no audio API"),
    ("speech", "langchain-openai has no audio API"),
    ("models", "langchain-openai has no models API"),
    ("engine routes", "engine= is openai 0.28 only"),
):
    not_applicable(row, why)


@check("async")
def async_calls() -> str:
    async def run() -> str:
        reply, vectors = await asyncio.gather(
            chat_model().ainvoke("Say hello."), embedder().aembed_documents(["hello", "world"])
        )
        parts = [c.content async for c in chat_model().astream("Say hello.")]
        completion = await llm().ainvoke("Once upon a time")
        expect("".join(parts) == reply.content and len(vectors) == 2 and completion, "async replies")
        return f"ainvoke, astream ({len(parts)} chunks), aembed_documents, OpenAI.ainvoke"

    return asyncio.run(run())


@check("headers")
def headers() -> str:
    reply = chat_model(include_response_headers=True).invoke("Say hello.")
    h = reply.response_metadata.get("headers", {})
    expect(h.get("x-request-id", "").startswith("req_") and "x-ratelimit-remaining-tokens" in h, f"{h}")
    return f"include_response_headers: x-request-id {h['x-request-id']}"


@check("429 retry")
def retry() -> str:
    fail_next("chat", 429, times=2)
    reply = chat_model(max_retries=2).invoke("Say hello.")
    expect(reply.content and len(requests_seen("/chat/completions")) == 3, "three requests")
    fail_next("chat", 429)
    try:
        chat_model().invoke("Say hello.")
        raise AssertionError("no RateLimitError")
    except openai.RateLimitError as exc:
        expect(exc.code == "rate_limit_exceeded", f"{exc.code}")
    return "max_retries=2 rode out two 429s; openai.RateLimitError surfaces with max_retries=0"


@check("retired model")
def retired() -> str:
    set_date("2024-09-13")
    try:
        chat_model(model="gpt-3.5-turbo-0301").invoke("Hello")
        raise AssertionError("gpt-3.5-turbo-0301 answers on 2024-09-13")
    except openai.NotFoundError as exc:
        expect(exc.code == "model_not_found" and "deprecated" in exc.message, exc.message)
        return "ChatOpenAI(gpt-3.5-turbo-0301) -> openai.NotFoundError model_not_found"


@check("context length")
def context() -> str:
    from langchain_core.exceptions import ContextOverflowError

    try:
        chat_model(model="gpt-4").invoke(long_text(9000))
        raise AssertionError("no error for 9000 tokens on gpt-4")
    except openai.BadRequestError as exc:
        expect(exc.code == "context_length_exceeded" and exc.param == "messages", f"{exc.code} {exc.param}")
        # langchain-openai looks for "context_length_exceeded" in str(exc); openai 3.x puts only the
        # message there (the real API's message does not contain the code), so with openai 3.x it
        # raises its plain OpenAIInvalidRequestError here, against mockai and api.openai.com alike.
        kind = (
            "ContextOverflowError"
            if isinstance(exc, ContextOverflowError)
            else "not ContextOverflowError (openai 3.x str(e))"
        )
        return f"{type(exc).__name__}: openai.BadRequestError code context_length_exceeded; {kind}"


for _row, _why in (
    ("responses", "checked with the openai SDK langchain-openai drives"),
    ("responses stream", "checked with the openai SDK langchain-openai drives"),
    ("agents run", "the Agents SDK is its own client (tests/compat/clients/with_agents.py)"),
):
    not_applicable(_row, _why)


if __name__ == "__main__":
    sys.exit(
        main(
            "langchain-openai "
            f"{langchain_openai.__version__ if hasattr(langchain_openai, '__version__') else ''}"
        )
    )

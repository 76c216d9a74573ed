"""The OpenAI Agents SDK (`openai-agents`): a `Runner` run with a function tool to a final answer, over
the Responses API, plain and streamed. Every other row is another client's."""

from __future__ import annotations

import asyncio
import sys
from importlib.metadata import version

from agents import Agent, Runner, function_tool, set_default_openai_client, set_tracing_disabled
from harness import KEY, ROWS, URL, check, expect, main, not_applicable, requests_seen
from openai import AsyncOpenAI

calls: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    calls.append(city)
    return f"sunny in {city}"


def agent() -> Agent:
    # A client per run: the SDK's async client belongs to the event loop it first ran in.
    set_default_openai_client(AsyncOpenAI(base_url=URL, api_key=KEY, max_retries=0))
    set_tracing_disabled(True)
    return Agent(
        name="weather", instructions="Answer from the tool.", tools=[get_weather], model="gpt-4o-mini"
    )


async def run_both() -> tuple[str, str]:
    plain = await Runner.run(agent(), "What is the weather in Paris?")
    streamed = Runner.run_streamed(agent(), "What is the weather in Oslo?")
    async for _ in streamed.stream_events():
        pass
    return str(plain.final_output), str(streamed.final_output)


@check("agents run")
def agents_run() -> str:
    calls.clear()
    plain, streamed = asyncio.run(run_both())
    expect(len(calls) == 2, f"the tool ran {len(calls)} times")
    expect(plain and streamed, "a final answer from both runs")
    seen = requests_seen("/v1/responses")
    expect(len(seen) == 4, f"{len(seen)} Responses calls (a tool call and an answer per run)")
    return f"tool ran with {calls}; answered {plain[:40]!r}"


for _row in ROWS:
    if _row != "agents run":
        not_applicable(_row, "the Agents SDK covers agent runs only; the openai client checks the rest")


if __name__ == "__main__":
    sys.exit(main(f"openai-agents {version('openai-agents')}"))

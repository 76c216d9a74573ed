// The official OpenAI Node client against mockai, the standalone-server use: a Node app whose tests
// point `baseURL` at `mockai serve`. Prints one JSON line per matrix row, like the Python scripts
// (tests/compat/clients/harness.py describes the protocol); run by tests/compat/run.py.
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";

const URL = process.env.MOCKAI_URL ?? "http://127.0.0.1:8000/v1";
const ROOT = URL.replace(/\/v1$/, "");
const KEY = "sk-compat-0123456789abcdef";
const WAV = path.join(process.env.MOCKAI_COMPAT_TMP ?? "/tmp", "mockai-compat-hello.wav");
const client = new OpenAI({ baseURL: URL, apiKey: KEY, maxRetries: 0 });
const HELLO = [{ role: "user", content: "Say hello to the compatibility suite." }];
const WEATHER = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

const checks = [];
const check = (row, fn) => checks.push([row, fn]);
const notApplicable = (row, why) => checks.push([row, () => { throw Object.assign(new Error(why), { na: true }); }]);
const expect = (ok, message) => { if (!ok) throw new Error(message); };

async function admin(method, name, body) {
  const res = await fetch(`${ROOT}/_mockai/${name}`, {
    method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}
const reset = async () => { await admin("DELETE", "scenario"); await admin("POST", "reset"); };
const failNext = (endpoint, status, times = 1) =>
  admin("PUT", "scenario", { rules: [{ match: { endpoint }, times, reply: { error: { status } } }] });
const setDate = (day) => admin("PUT", "clock", { as_of: day });
const seen = async (suffix) => (await admin("GET", "requests")).data.filter((e) => e.path.endsWith(suffix));
const longText = (n) => "hello ".repeat(n);

check("chat", async () => {
  const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: HELLO });
  expect(r.choices[0].message.content && r.choices[0].finish_reason === "stop", JSON.stringify(r.choices[0]));
  expect(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, JSON.stringify(r.usage));
  return `${r.model}: ${r.usage.prompt_tokens}+${r.usage.completion_tokens}`;
});

check("chat stream", async () => {
  const whole = (await client.chat.completions.create({ model: "gpt-4o-mini", messages: HELLO })).choices[0].message.content;
  let text = "", usage = null, n = 0;
  const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: HELLO, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) { n++; text += chunk.choices[0]?.delta?.content ?? ""; usage = chunk.usage ?? usage; }
  expect(text === whole && usage?.completion_tokens > 0, `${JSON.stringify(text)} vs ${JSON.stringify(whole)}`);
  const helper = client.chat.completions.stream({ model: "gpt-4o-mini", messages: HELLO });
  const final = await helper.finalChatCompletion();
  expect(final.choices[0].message.content === whole, ".stream() helper text");
  return `${n} chunks; .stream() helper ok`;
});

check("tools", async () => {
  const messages = [{ role: "user", content: "Weather in Paris?" }];
  const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools: [WEATHER] });
  const call = r.choices[0].message.tool_calls[0];
  expect(r.choices[0].finish_reason === "tool_calls" && "city" in JSON.parse(call.function.arguments), JSON.stringify(r.choices[0]));
  messages.push(r.choices[0].message, { role: "tool", tool_call_id: call.id, content: "18C" });
  const answer = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools: [WEATHER] });
  expect(answer.choices[0].message.content, "no text after the tool result");
  const runner = client.chat.completions.runTools({
    model: "gpt-4o-mini", messages: [{ role: "user", content: "Weather?" }],
    tools: [{ type: "function", function: { ...WEATHER.function, function: (args) => `18C in ${args.city}`, parse: JSON.parse } }],
  });
  const content = await runner.finalContent();
  expect(content, "runTools final content");
  return `${call.function.name}(${call.function.arguments}) -> text; runTools loop ended with text`;
});

check("tools stream", async () => {
  const stream = client.chat.completions.stream({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Weather?" }], tools: [WEATHER], tool_choice: "required" });
  const final = await stream.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  expect("city" in JSON.parse(call.function.arguments), JSON.stringify(call));
  return `${call.function.name}(${call.function.arguments})`;
});

check("legacy functions", async () => {
  const r = await client.chat.completions.create({
    model: "gpt-3.5-turbo", messages: HELLO, functions: [WEATHER.function], function_call: { name: "get_weather" },
  });
  const fc = r.choices[0].message.function_call;
  expect(fc?.name === "get_weather", JSON.stringify(r.choices[0].message));
  return `function_call ${fc.arguments}`;
});

check("completions", async () => {
  const r = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: ["Once upon a time", "Roses are"], max_tokens: 10 });
  expect(r.choices.length === 2 && r.choices[1].index === 1 && r.usage.total_tokens > 0, JSON.stringify(r));
  return `${r.model}: ${r.choices.length} choices`;
});

check("completions stream", async () => {
  const whole = (await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Once upon a time" })).choices[0].text;
  let text = "", n = 0;
  for await (const c of await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Once upon a time", stream: true })) { n++; text += c.choices[0]?.text ?? ""; }
  expect(text === whole, `${JSON.stringify(text)} vs ${JSON.stringify(whole)}`);
  return `${n} chunks`;
});

check("embeddings", async () => {
  const r = await client.embeddings.create({ model: "text-embedding-3-small", input: ["hello world", "goodbye"] });
  const sent = (await seen("/embeddings")).at(-1).body;
  expect(r.data.length === 2 && r.data[0].embedding.length === 1536 && typeof r.data[0].embedding[0] === "number", "vectors");
  const small = await client.embeddings.create({ model: "text-embedding-3-small", input: "hello", dimensions: 256 });
  expect(small.data[0].embedding.length === 256, "dimensions");
  return `SDK sent encoding_format=${sent.encoding_format} and decoded 2 x 1536; dimensions=256`;
});

check("embeddings base64", async () => {
  const floats = (await client.embeddings.create({ model: "text-embedding-ada-002", input: "hello", encoding_format: "float" })).data[0].embedding;
  const packed = (await client.embeddings.create({ model: "text-embedding-ada-002", input: "hello", encoding_format: "base64" })).data[0].embedding;
  expect(typeof packed === "string", `explicit base64 should stay a string, got ${typeof packed}`);
  const buf = Buffer.from(packed, "base64");
  const decoded = Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
  expect(decoded.length === floats.length && decoded.every((v, i) => Math.abs(v - floats[i]) < 1e-6), "base64 vs float");
  return `${packed.length} chars == ${floats.length} floats`;
});

notApplicable("edits", "the Node SDK dropped edits with the endpoint (v4.25)");

check("transcription", async () => {
  const r = await client.audio.transcriptions.create({ model: "whisper-1", file: fs.createReadStream(WAV) });
  const vtt = await client.audio.transcriptions.create({ model: "whisper-1", file: fs.createReadStream(WAV), response_format: "vtt" });
  const verbose = await client.audio.transcriptions.create({ model: "whisper-1", file: fs.createReadStream(WAV), response_format: "verbose_json", timestamp_granularities: ["word"] });
  expect(r.text && typeof vtt === "string" && vtt.startsWith("WEBVTT") && verbose.words?.length, `${JSON.stringify(vtt).slice(0, 80)}`);
  return `json, vtt, verbose_json words: ${r.text.slice(0, 40)}`;
});

check("translation", async () => {
  const r = await client.audio.translations.create({ model: "whisper-1", file: fs.createReadStream(WAV) });
  expect(r.text, JSON.stringify(r));
  return r.text.slice(0, 50);
});

check("speech", async () => {
  const res = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Hello from the compatibility suite." });
  const data = Buffer.from(await res.arrayBuffer());
  expect(data.subarray(0, 3).toString("latin1") === "ID3" || (data[0] === 0xff && (data[1] & 0xe0) === 0xe0), `not mp3: ${data.subarray(0, 4).toString("hex")}`);
  return `${data.length} bytes of ${res.headers.get("content-type")}`;
});

check("models", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  const one = await client.models.retrieve("gpt-4o-mini");
  expect(ids.includes("gpt-4o-mini") && one.id === "gpt-4o-mini", `${ids.length}`);
  return `${ids.length} models`;
});

notApplicable("engine routes", "engine= is openai 0.28 (Python) only");

check("async", async () => {
  const [chat, emb, tr] = await Promise.all([
    client.chat.completions.create({ model: "gpt-4o-mini", messages: HELLO }),
    client.embeddings.create({ model: "text-embedding-3-small", input: "hello" }),
    client.audio.transcriptions.create({ model: "whisper-1", file: fs.createReadStream(WAV) }),
  ]);
  expect(chat.choices[0].message.content && emb.data[0].embedding.length === 1536 && tr.text, "concurrent replies");
  return "Promise.all(chat, embeddings, transcription)";
});

check("headers", async () => {
  const { data, response, request_id } = await client.chat.completions.create({ model: "gpt-4o-mini", messages: HELLO }).withResponse();
  expect(request_id === response.headers.get("x-request-id") && request_id.startsWith("req_"), `${request_id}`);
  expect(response.headers.get("x-ratelimit-remaining-requests") && data._request_id === request_id, "ratelimit header or _request_id");
  return `withResponse(): x-request-id ${request_id}`;
});

check("429 retry", async () => {
  await failNext("chat", 429, 2);
  const r = await client.withOptions({ maxRetries: 2 }).chat.completions.create({ model: "gpt-4o-mini", messages: HELLO });
  const tries = (await seen("/chat/completions")).map((e) => e.headers["x-stainless-retry-count"]);
  expect(r.choices[0].message.content && tries.join() === "0,1,2", `retry counts ${tries}`);
  await failNext("chat", 429);
  try {
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: HELLO });
    throw new Error("no RateLimitError");
  } catch (err) {
    expect(err instanceof OpenAI.RateLimitError && err.code === "rate_limit_exceeded", `${err}`);
  }
  return "two 429s retried (x-stainless-retry-count 0,1,2); RateLimitError with maxRetries 0";
});

check("retired model", async () => {
  await setDate("2024-01-04");
  try {
    await client.completions.create({ model: "text-davinci-003", prompt: "Hello" });
    throw new Error("text-davinci-003 answers on 2024-01-04");
  } catch (err) {
    expect(err instanceof OpenAI.NotFoundError && err.code === "model_not_found", `${err}`);
    return "NotFoundError model_not_found";
  }
});

check("context length", async () => {
  try {
    await client.chat.completions.create({ model: "gpt-4", messages: [{ role: "user", content: longText(9000) }] });
    throw new Error("no error for 9000 tokens on gpt-4");
  } catch (err) {
    expect(err instanceof OpenAI.BadRequestError && err.code === "context_length_exceeded" && err.param === "messages", `${err}`);
    return String(err.message).slice(0, 90);
  }
});

check("responses", async () => {
  const r = await client.responses.create({ model: "gpt-4o-mini", input: "Say hello" });
  expect(r.status === "completed" && r.output_text, `${r.status}`);
  const again = await client.responses.retrieve(r.id);
  expect(again.id === r.id, "retrieve");
  return r.output_text.slice(0, 50);
});

check("responses stream", async () => {
  const stream = await client.responses.create({ model: "gpt-4o-mini", input: "Say hello", stream: true });
  let text = "", last = "";
  for await (const e of stream) {
    if (e.type === "response.output_text.delta") text += e.delta;
    last = e.type;
  }
  expect(last === "response.completed" && text, `${last}`);
  return `${text.length} characters`;
});

notApplicable("agents run", "the Agents SDK is checked in Python (tests/compat/clients/with_agents.py)");

const pkg = JSON.parse(fs.readFileSync(new globalThis.URL("./node_modules/openai/package.json", import.meta.url)));
for (const [row, fn] of checks) {
  const started = performance.now();
  let status = "pass", detail = "";
  try {
    await reset();
    detail = (await fn()) ?? "";
  } catch (err) {
    status = err.na ? "n/a" : "fail";
    detail = err.na ? err.message : `${err.constructor.name}: ${err.message}`;
  } finally {
    await reset().catch(() => {});
  }
  const line = { client: `node openai ${pkg.version}`, row, status, detail: String(detail).slice(0, 2000), seconds: Math.round(performance.now() - started) / 1000 };
  console.log(JSON.stringify(line));
}

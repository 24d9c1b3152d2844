// Drives the gateway with the Vercel AI SDK and prints what the SDK returned, as JSON on stdout.
//
//   LFM2_BASE_URL=http://127.0.0.1:8000/v1 node run.mjs generate|stream|named
//
// `generate` and `stream` force the random-weight model's output (the `lfm2` provider options are
// merged into the request body); `named` lets the call grammar choose. Every SSE body the SDK reads
// is copied into the output (`streams`) so the Python side can check the stream contract on it.
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, jsonSchema, streamText, tool } from "ai";

const CALL = '<|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>';
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const force = (text) => ({ lfm2: { structured_outputs: { regex: escape(text) } } });

const streams = [];
const pending = [];
async function teeFetch(url, init) {
  const response = await fetch(url, init);
  if (!(response.headers.get("content-type") || "").includes("text/event-stream")) return response;
  const [mine, theirs] = response.body.tee();
  pending.push(new Response(mine).text().then((body) => streams.push({ request: JSON.parse(init.body), body })));
  return new Response(theirs, { status: response.status, statusText: response.statusText, headers: response.headers });
}

const provider = createOpenAICompatible({
  name: "lfm2",
  baseURL: process.env.LFM2_BASE_URL,
  apiKey: "unused",
  fetch: teeFetch,
});
const model = provider.chatModel("tiny");
const tools = {
  get_weather: tool({
    description: "Current weather for a city",
    inputSchema: jsonSchema({
      type: "object",
      properties: {
        city: { type: "string", enum: ["Paris", "Lima"] },
        days: { type: "integer", minimum: 1, maximum: 7 },
      },
      required: ["city"],
    }),
  }),
  get_time: tool({ inputSchema: jsonSchema({ type: "object", properties: {} }) }),
};
const prompt = "Weather in Paris for 3 days, and the time?";
const calls = (list) => list.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input }));

const scenarios = {
  async generate() {
    const result = await generateText({ model, tools, prompt, maxOutputTokens: 80, providerOptions: force(CALL) });
    return { calls: calls(result.toolCalls), finishReason: result.finishReason, text: result.text };
  },
  async stream() {
    const result = streamText({ model, tools, prompt, maxOutputTokens: 80, providerOptions: force("On it. " + CALL) });
    const parts = [];
    for await (const part of result.fullStream) {
      if (part.type === "tool-call") parts.push({ id: part.toolCallId, name: part.toolName, input: part.input });
      if (part.type === "error") throw part.error;
    }
    return { calls: parts, finishReason: await result.finishReason, text: await result.text };
  },
  async named() {
    const result = await generateText({
      model, tools, prompt, maxOutputTokens: 120, temperature: 1.0,
      toolChoice: { type: "tool", toolName: "get_weather" },
    });
    return { calls: calls(result.toolCalls), finishReason: result.finishReason, text: result.text };
  },
};

const name = process.argv[2];
const output = await scenarios[name]();
await Promise.all(pending);
process.stdout.write(JSON.stringify({ ...output, streams }));

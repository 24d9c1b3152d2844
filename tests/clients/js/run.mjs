// Drives the gateway with the Vercel AI SDK and prints what the SDK returned, as JSON on stdout.
//
//   LFM2_BASE_URL=http://127.0.0.1:8000/v1 node run.mjs generate|stream|named|responses-generate|...
//
// `generate` and `stream` force the random-weight model's output (the `lfm2` provider options are
// merged into the request body); `named` lets the call grammar choose. The `responses-*` scenarios use
// the default OpenAI provider (`@ai-sdk/openai`), which speaks the Responses API; it drops unknown
// provider options, so the forcing field is added to the body by the fetch wrapper instead. Every SSE
// body the SDK reads is copied into the output (`streams`) so the Python side can check the stream
// contract on it.
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";

const CALL = '<|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>';
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const force = (text) => ({ lfm2: { structured_outputs: { regex: escape(text) } } });

const streams = [];
const pending = [];
let forcing = null; // (request body) => text to force, for the Responses provider
async function teeFetch(url, init) {
  if (forcing && init && typeof init.body === "string") {
    const body = JSON.parse(init.body);
    const text = forcing(body);
    if (text != null) init = { ...init, body: JSON.stringify({ ...body, structured_outputs: { regex: escape(text) } }) };
  }
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
const openai = createOpenAI({ baseURL: process.env.LFM2_BASE_URL, apiKey: "unused", fetch: teeFetch });
const answered = (body) => (body.input || []).some((item) => item.type === "function_call_output");
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

async function collect(result) {
  const parts = [];
  for await (const part of result.fullStream) {
    if (part.type === "tool-call") parts.push({ id: part.toolCallId, name: part.toolName, input: part.input });
    if (part.type === "error") throw part.error;
  }
  return { calls: parts, finishReason: await result.finishReason, text: await result.text };
}

const scenarios = {
  async generate() {
    const result = await generateText({ model, tools, prompt, maxOutputTokens: 80, providerOptions: force(CALL) });
    return { calls: calls(result.toolCalls), finishReason: result.finishReason, text: result.text };
  },
  async stream() {
    return collect(streamText({ model, tools, prompt, maxOutputTokens: 80, providerOptions: force("On it. " + CALL) }));
  },
  async "responses-generate"() {
    forcing = () => CALL;
    const result = await generateText({ model: openai("tiny"), tools, prompt, maxOutputTokens: 80 });
    return { calls: calls(result.toolCalls), finishReason: result.finishReason, text: result.text };
  },
  async "responses-stream"() {
    forcing = () => "On it. " + CALL;
    return collect(streamText({ model: openai("tiny"), tools, prompt, maxOutputTokens: 80 }));
  },
  async "responses-loop"() {
    // Two steps: the model calls get_weather, the SDK runs it and sends the result back (with store on,
    // as item references to the stored call), and the model answers.
    forcing = (body) => (answered(body) ? "It is sunny in Paris." : '<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>');
    const executed = [];
    const loopTools = {
      get_weather: tool({
        description: "Current weather for a city",
        inputSchema: tools.get_weather.inputSchema,
        execute: async (input) => { executed.push(input); return { city: input.city, sky: "sunny" }; },
      }),
    };
    const result = await generateText({
      model: openai("tiny"), tools: loopTools, prompt, maxOutputTokens: 80, stopWhen: stepCountIs(3),
    });
    return { executed, steps: result.steps.length, text: result.text, finishReason: result.finishReason,
             inputs: streams.length };
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

// Simulated OpenAI-compatible model server: the upstream for tests, the demo and benchmarks.
// Answers come from the pure generator in profiles.ts, so bodies are byte-identical across runs.
import Fastify, { type FastifyReply } from 'fastify';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { countTokens, getProfile, simulateAnswer, simulateEmbedding, stableId, type SimAnswer, type SimProfile } from './profiles.js';

export interface SimulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  profile: string | SimProfile;
  seed?: number;
  logger?: boolean;
}

export interface Simulator {
  /** Base URL including /v1, ready for `new OpenAI({ baseURL })`. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Switches behaviour live, e.g. to show a canary degrading and recovering. */
  setProfile(profile: string | SimProfile): void;
}

export const SIM_MODEL_ID = 'sim';
// Fixed "created" timestamps keep response bodies byte-comparable between runs.
const SIM_EPOCH = 1_700_000_000;
const WORDS_PER_CHUNK = 3;

type Json = Record<string, unknown>;

function resolveProfile(profile: string | SimProfile): SimProfile {
  return typeof profile === 'string' ? getProfile(profile) : profile;
}

function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function openAiError(message: string, type: string, code: string | null): Json {
  return { error: { message, type, param: null, code } };
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.status(400).send(openAiError(message, 'invalid_request_error', 'invalid_request'));
}

function sendSimError(reply: FastifyReply, answer: SimAnswer): FastifyReply {
  const code = answer.status === 503 ? 'service_unavailable' : 'internal_error';
  return reply.status(answer.status).send(openAiError(answer.text, 'server_error', code));
}

/** Message content may be a string or an array of parts; only text parts count. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => asObject(part))
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('\n');
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function simHeaders(profile: SimProfile, answer: SimAnswer): Record<string, string> {
  const applied = answer.kind === 'error' ? ['error'] : Object.entries(answer.flags).filter(([, on]) => on).map(([name]) => name);
  return { 'x-sim-flags': applied.join(','), 'x-sim-profile': profile.name };
}

/** Splits into pieces of a few words; joining the pieces gives back the exact text. */
export function splitIntoChunks(text: string, wordsPerChunk = WORDS_PER_CHUNK): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) chunks.push(words.slice(i, i + wordsPerChunk).join(''));
  return chunks;
}

/**
 * Writes SSE by hand (hijacked reply) so every event is a separate write the client sees
 * as it happens: the first timed event after ~40% of the delay, the rest spread evenly.
 */
async function writeSse(reply: FastifyReply, headers: Record<string, string>, timed: Json[], tail: Json[], delayMs: number): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  const gone = () => res.destroyed || res.writableEnded;
  const firstWait = delayMs * 0.4;
  const gap = timed.length > 1 ? (delayMs - firstWait) / (timed.length - 1) : 0;
  for (let i = 0; i < timed.length; i++) {
    await sleep(i === 0 ? firstWait : gap);
    if (gone()) return; // client hung up: stop quietly
    res.write(`data: ${JSON.stringify(timed[i])}\n\n`);
  }
  if (gone()) return;
  for (const event of tail) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end('data: [DONE]\n\n');
}

function usageOf(answer: SimAnswer): Json {
  return { prompt_tokens: answer.promptTokens, completion_tokens: answer.completionTokens, total_tokens: answer.promptTokens + answer.completionTokens };
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  let profile = resolveProfile(opts.profile);
  const seed = opts.seed ?? 42;
  const host = opts.host ?? '127.0.0.1';
  // Force-close on shutdown: a stray keep-alive or half-open socket must not stall close() for a minute.
  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true });

  app.setErrorHandler((error: { statusCode?: number; message?: string; code?: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    const type = status < 500 ? 'invalid_request_error' : 'server_error';
    return reply.status(status).send(openAiError(error.message ?? 'error', type, error.code ?? null));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(openAiError(`Unknown request URL: ${request.method} ${request.url}`, 'invalid_request_error', 'unknown_url')),
  );

  /** Shared by chat and legacy completions: both only differ in the envelope. */
  function prepare(body: Json, prompt: string, wantsJson: boolean, idPrefix: string) {
    const current = profile; // a live setProfile must not change a request halfway
    const maxTokens = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens);
    const answer = simulateAnswer({ seed, profile: current, prompt, maxTokens, wantsJson });
    return {
      answer,
      headers: simHeaders(current, answer),
      id: stableId(idPrefix, seed, prompt),
      created: SIM_EPOCH + (Number.parseInt(stableId('', seed, prompt).slice(0, 6), 16) % 86_400),
      model: typeof body.model === 'string' && body.model ? body.model : SIM_MODEL_ID,
      stream: body.stream === true,
      includeUsage: asObject(body.stream_options).include_usage === true,
    };
  }

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = asObject(request.body);
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return badRequest(reply, "'messages' is required and must be a non-empty array");
    }
    const prompt = body.messages.map((m) => contentText(asObject(m).content)).join('\n');
    const formatType = asObject(body.response_format).type;
    const wantsJson = formatType === 'json_object' || formatType === 'json_schema';
    const { answer, headers, id, created, model, stream, includeUsage } = prepare(body, prompt, wantsJson, 'chatcmpl-');

    if (answer.kind === 'error') {
      await sleep(answer.delayMs);
      return sendSimError(reply.headers(headers), answer);
    }
    if (stream) {
      const chunk = (delta: Json, finishReason: string | null): Json => ({
        id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sim',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
      const timed = [chunk({ role: 'assistant', content: '' }, null), ...splitIntoChunks(answer.text).map((piece) => chunk({ content: piece }, null))];
      const tail = [chunk({}, answer.finishReason)];
      if (includeUsage) tail.push({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sim', choices: [], usage: usageOf(answer) });
      await writeSse(reply, headers, timed, tail, answer.delayMs);
      return reply;
    }
    await sleep(answer.delayMs);
    return reply.headers(headers).send({
      id, object: 'chat.completion', created, model, system_fingerprint: 'fp_sim',
      choices: [{ index: 0, message: { role: 'assistant', content: answer.text, refusal: null }, logprobs: null, finish_reason: answer.finishReason }],
      usage: usageOf(answer),
    });
  });

  app.post('/v1/completions', async (request, reply) => {
    const body = asObject(request.body);
    const rawPrompt = body.prompt;
    const validList = Array.isArray(rawPrompt) && rawPrompt.length > 0 && rawPrompt.every((p) => typeof p === 'string');
    if (!(typeof rawPrompt === 'string' && rawPrompt.length > 0) && !validList) {
      return badRequest(reply, "'prompt' is required and must be a string or an array of strings");
    }
    const prompt = Array.isArray(rawPrompt) ? rawPrompt.join('\n') : rawPrompt;
    const { answer, headers, id, created, model, stream, includeUsage } = prepare(body, prompt, false, 'cmpl-');

    if (answer.kind === 'error') {
      await sleep(answer.delayMs);
      return sendSimError(reply.headers(headers), answer);
    }
    const choice = (text: string, finishReason: string | null) => ({ text, index: 0, logprobs: null, finish_reason: finishReason });
    if (stream) {
      const chunk = (text: string, finishReason: string | null): Json => ({
        id, object: 'text_completion', created, model, choices: [choice(text, finishReason)], ...(includeUsage ? { usage: null } : {}),
      });
      const tail = [chunk('', answer.finishReason)];
      if (includeUsage) tail.push({ id, object: 'text_completion', created, model, choices: [], usage: usageOf(answer) });
      await writeSse(reply, headers, splitIntoChunks(answer.text).map((piece) => chunk(piece, null)), tail, answer.delayMs);
      return reply;
    }
    await sleep(answer.delayMs);
    return reply.headers(headers).send({ id, object: 'text_completion', created, model, choices: [choice(answer.text, answer.finishReason)], usage: usageOf(answer) });
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = asObject(request.body);
    const input = body.input;
    const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((i) => typeof i === 'string') ? (input as string[]) : [];
    if (inputs.length === 0) return badRequest(reply, "'input' is required and must be a string or an array of strings");
    const current = profile;
    // Reuse the answer generator only for the error roll and latency, so embeddings fail like chat does.
    const answer = simulateAnswer({ seed, profile: current, prompt: `embeddings\u0000${inputs.join('\n')}` });
    if (answer.kind === 'error') {
      await sleep(answer.delayMs);
      return sendSimError(reply.headers(simHeaders(current, answer)), answer);
    }
    await sleep(Math.round(current.latencyMs.base));
    const dims = positiveInt(body.dimensions) ?? 8;
    const base64 = body.encoding_format === 'base64'; // the openai client asks for base64 by default
    const data = inputs.map((text, index) => {
      const vector = simulateEmbedding(seed, text, Math.min(dims, 4096));
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    const promptTokens = inputs.reduce((sum, text) => sum + Math.max(1, countTokens(text)), 0);
    const model = typeof body.model === 'string' && body.model ? body.model : SIM_MODEL_ID;
    return reply
      .headers({ 'x-sim-flags': '', 'x-sim-profile': current.name })
      .send({ object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: SIM_MODEL_ID, object: 'model', created: SIM_EPOCH, owned_by: 'tunewatch-simulator' }],
  }));

  await app.listen({ host, port: opts.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  // Wildcard binds are reachable on loopback; IPv6 literals need brackets in URLs.
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    close: () => app.close(),
    setProfile: (next) => {
      profile = resolveProfile(next);
    },
  };
}

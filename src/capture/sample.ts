import { createHash } from 'node:crypto';
import type { Role } from '../config/schema.js';
import { extractAnswer, StreamAssembler, type Answer } from './answer.js';
import { mergeCounts, redact, type PiiCounts } from './redact.js';

/**
 * What the proxy hands to the capture pipeline for one request: raw and unredacted.
 * It never leaves process memory in this form; `toSampleRow` redacts it before anything is written.
 */
export interface Exchange {
  requestId: string;
  ts: number;
  tenant: string;
  model: string;
  version: string;
  /** '' when the request failed before a deployment was chosen; 'mirror' for a canary's copy of a baseline request. */
  role: SampleRole;
  upstream: string;
  endpoint: Endpoint;
  stream: boolean;
  statusCode: number;
  errorType: string;
  latencyMs: number;
  ttftMs: number | null;
  /** The client's request body without the `tunewatch` object (messages, prompt or input). */
  request: Record<string, unknown> | null;
  /**
   * The answer's bytes as the upstream sent them (JSON body, SSE chunks, or an error body).
   * Parsing waits for the pipeline so the hot path only copies bytes.
   */
  response: {
    kind: 'json' | 'sse' | 'error' | 'none';
    chunks: Buffer[];
    /** The proxy kept only the first bytes of a larger answer (capture.maxTextBytes); the client got all of it. */
    truncated?: boolean;
  };
  traceId: string;
  userKey: string | null;
  meta: Record<string, string>;
  spec: string;
  context: string;
}

export type Endpoint = 'chat' | 'completions' | 'embeddings';

/** The role a sample was answered in. Mirrored answers are judged and stored, never returned to a client. */
export type SampleRole = Role | 'mirror' | '';

/** A row of the `samples` table (migrations/0001_samples.sql), redacted. */
export interface SampleRow {
  request_id: string;
  ts: number;
  tenant: string;
  model: string;
  version: string;
  role: SampleRole;
  upstream: string;
  endpoint: Endpoint;
  stream: boolean;
  status_code: number;
  error_type: string;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  tokens_estimated: boolean;
  finish_reason: string;
  prompt: string;
  response: string;
  /** PII found, keyed `prompt:EMAIL`, `response:PHONE`, … so leaks in answers stand apart from user input. */
  pii: Record<string, number>;
  trace_id: string;
  user_hash: string;
  meta: Record<string, string>;
  spec: string;
  context: string;
  /** Upstream fields of the wrong type, recorded as absent (`usage_invalid`, …). */
  flags: string[];
  /** Some captured text was cut to capture.maxTextBytes. */
  truncated: boolean;
}

/** Rough tokens for text when the upstream reports no usage: ~4 characters a token (OpenAI's rule of thumb). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.round(text.length / 4));
}

export function hashUserKey(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** The answer text, finish reason and usage, from whatever form the upstream sent. */
export function answerOf(ex: Exchange): Answer {
  const { kind, chunks } = ex.response;
  if (kind === 'sse') {
    const assembler = new StreamAssembler(ex.endpoint);
    for (const chunk of chunks) assembler.push(chunk);
    return assembler.result();
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (kind === 'json') {
    try {
      return extractAnswer(ex.endpoint, JSON.parse(text));
    } catch {
      return { text, finishReason: '', usage: null };
    }
  }
  return { text: text.slice(0, 4096), finishReason: '', usage: null };
}

export function toSampleRow(ex: Exchange, answer: Answer = answerOf(ex)): SampleRow {
  const prompt = redactRequest(ex.request, ex.endpoint);
  const response = redact(answer.text);
  const context = redact(ex.context);
  const pii: Record<string, number> = {};
  for (const [where, counts] of [['prompt', mergeCounts(prompt.found, context.found)], ['response', response.found]] as const) {
    for (const [type, n] of Object.entries(counts)) pii[`${where}:${type}`] = n as number;
  }
  const estimated = answer.usage === null && ex.response.kind !== 'none';
  return {
    request_id: ex.requestId,
    ts: ex.ts,
    tenant: ex.tenant,
    model: ex.model,
    version: ex.version,
    role: ex.role,
    upstream: ex.upstream,
    endpoint: ex.endpoint,
    stream: ex.stream,
    status_code: ex.statusCode,
    error_type: ex.errorType,
    latency_ms: ex.latencyMs,
    ttft_ms: ex.ttftMs,
    input_tokens: answer.usage?.input ?? (estimated ? estimateTokens(prompt.text) : 0),
    output_tokens: answer.usage?.output ?? (estimated ? estimateTokens(answer.text) : 0),
    tokens_estimated: estimated,
    finish_reason: answer.finishReason,
    prompt: prompt.text,
    response: response.text,
    pii,
    trace_id: ex.traceId,
    user_hash: ex.userKey ? hashUserKey(ex.userKey) : '',
    meta: redactValues(ex.meta),
    spec: ex.spec,
    context: context.text,
    flags: [],
    truncated: ex.response.truncated === true,
  };
}

/** The prompt as stored: chat messages as JSON, a completion prompt or embedding input as text; each redacted. */
function redactRequest(body: Record<string, unknown> | null, endpoint: Endpoint): { text: string; found: PiiCounts } {
  if (!body) return { text: '', found: {} };
  let found: PiiCounts = {};
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const r = redact(value);
      found = mergeCounts(found, r.found);
      return r.text;
    }
    if (Array.isArray(value)) return value.map(clean);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'role' || k === 'type' ? v : clean(v)]));
    }
    return value;
  };
  const source = endpoint === 'chat' ? body.messages : endpoint === 'completions' ? body.prompt : body.input;
  const cleaned = clean(source ?? null);
  return { text: typeof cleaned === 'string' ? cleaned : JSON.stringify(cleaned), found };
}

function redactValues(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, redact(v).text]));
}

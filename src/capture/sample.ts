import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ConfigSchema, type Role } from '../config/schema.js';
import { extractAnswer, salvageText, StreamAssembler, type Answer } from './answer.js';
import { toColumnValid } from './columns.js';
import { addFlag, SAMPLE_FLAGS, type SampleFlag } from './flags.js';
import { mergeCounts, redact, type PiiCounts } from './redact.js';
import { capUtf8, completeUtf8Length, prefixForRedaction, REDACTION_MARGIN, utf8PrefixLength } from './text-limit.js';

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

/** capture.maxTextBytes when no config is at hand (tests, tools): the schema's default. */
export const DEFAULT_MAX_TEXT_BYTES: number = ConfigSchema.properties.capture.properties.maxTextBytes.default;

/** Error bodies are kept short: their beginning says what went wrong. */
const ERROR_BODY_CHARS = 4096;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The answer text, finish reason, usage and flags, from whatever form the upstream sent; never throws.
 * The text is cut to `maxTextBytes` bytes of UTF-8 (`truncated`, with `tail` kept for redaction).
 */
export function answerOf(ex: Exchange, maxTextBytes = DEFAULT_MAX_TEXT_BYTES): Answer {
  let answer: Answer;
  try {
    answer = parseAnswer(ex, maxTextBytes);
  } catch {
    // Not reachable with an exchange of the declared types; a last guard for the capture worker.
    return { text: '', finishReason: '', usage: null, flags: [SAMPLE_FLAGS.processingFailed], truncated: false };
  }
  const n = utf8PrefixLength(answer.text, maxTextBytes);
  if (n < answer.text.length) {
    answer.tail = answer.text.slice(n, n + REDACTION_MARGIN);
    answer.text = answer.text.slice(0, n);
    answer.truncated = true;
  }
  return answer;
}

const asBuffer = (c: Uint8Array): Buffer => (Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength));

function parseAnswer(ex: Exchange, maxTextBytes: number): Answer {
  const { kind, chunks } = ex.response;
  const cutByProxy = ex.response.truncated === true;
  const flags: SampleFlag[] = [];
  let bytes: Buffer = chunks.length === 1 ? asBuffer(chunks[0]!) : Buffer.concat(chunks);
  // A prefix of a longer answer may end inside a character: that is the cut, not the upstream's encoding.
  if (cutByProxy) bytes = bytes.subarray(0, completeUtf8Length(bytes));
  if (!isUtf8(bytes)) addFlag(flags, SAMPLE_FLAGS.encodingInvalid);
  const raw = bytes.toString('utf8');
  const empty = (text: string): Answer => ({ text, finishReason: '', usage: null, flags, truncated: cutByProxy });
  if (kind === 'sse') {
    // Text beyond the cut (plus what redaction needs past it) is not assembled: it would be dropped anyway.
    const assembler = new StreamAssembler(ex.endpoint, maxTextBytes + REDACTION_MARGIN);
    assembler.pushText(raw);
    const answer = assembler.result(cutByProxy);
    for (const f of flags) addFlag(answer.flags, f);
    answer.truncated = cutByProxy;
    return answer;
  }
  if (kind === 'json') {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      // The proxy kept only a prefix: the body cannot parse, its beginning still holds the answer's.
      if (cutByProxy) return empty(salvageText(raw, ex.endpoint));
      addFlag(flags, SAMPLE_FLAGS.bodyInvalid);
      return empty(raw);
    }
    const answer = extractAnswer(ex.endpoint, body, flags);
    answer.truncated = cutByProxy;
    return answer;
  }
  return empty(raw.length > ERROR_BODY_CHARS ? raw.slice(0, ERROR_BODY_CHARS) : raw);
}

/** An exchange as evaluators and toSampleRow see it: prompt and context cut near `maxTextBytes`. */
export interface CappedInput {
  exchange: Exchange;
  /** Some prompt or context text was cut (evaluators saw only its beginning). */
  cut: boolean;
}

/**
 * Cuts the prompt (messages, prompt or input) and the context so that evaluators and redaction see
 * what will be stored plus REDACTION_MARGIN characters, not megabytes. Returns `ex` itself when
 * nothing needed cutting, which is the common case: then only string lengths are read.
 */
export function capInput(ex: Exchange, maxTextBytes = DEFAULT_MAX_TEXT_BYTES): CappedInput {
  let cut = false;
  let request = ex.request;
  if (isRecord(request)) {
    const field = promptField(ex.endpoint);
    const budget = { left: maxTextBytes, cut: false };
    const capped = capStrings(request[field], budget);
    if (budget.cut) {
      request = { ...request, [field]: capped };
      cut = true;
    }
  }
  let context = ex.context;
  if (typeof context === 'string') {
    context = prefixForRedaction(context, maxTextBytes);
    if (context !== ex.context) cut = true;
  }
  return cut ? { exchange: { ...ex, request, context }, cut } : { exchange: ex, cut };
}

function promptField(endpoint: Endpoint): 'messages' | 'prompt' | 'input' {
  return endpoint === 'chat' ? 'messages' : endpoint === 'completions' ? 'prompt' : 'input';
}

/**
 * Strings of a JSON value in order, each cut to what can still be stored: its bytes follow at least
 * the characters of the strings before it, so once those reach `left` nothing more of it is stored.
 */
function capStrings(value: unknown, budget: { left: number; cut: boolean }): unknown {
  if (typeof value === 'string') {
    const keep = budget.left > 0 ? budget.left + REDACTION_MARGIN : 0;
    budget.left -= value.length;
    if (value.length <= keep) return value;
    budget.cut = true;
    return value.slice(0, keep);
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = capStrings(value[i], budget);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  if (isRecord(value)) {
    let copy: Record<string, unknown> | null = null;
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const c = capStrings(value[k], budget);
      // defineProperty: a "__proto__" key is set as a key, not as the prototype.
      if (c !== value[k]) Object.defineProperty((copy ??= { ...value }), k, { value: c, writable: true, enumerable: true, configurable: true });
    }
    return copy ?? value;
  }
  return value;
}

/**
 * The sample as stored: redacted, text cut to `maxTextBytes` bytes (`truncated`), flags from the
 * answer, every value valid for its column. Never throws for any exchange.
 */
export function toSampleRow(ex: Exchange, answer: Answer = answerOf(ex), maxTextBytes = DEFAULT_MAX_TEXT_BYTES): SampleRow {
  const input = capInput(ex, maxTextBytes).exchange;
  const flags: string[] = [...answer.flags];
  let prompt: { text: string; found: PiiCounts; cut: boolean };
  try {
    prompt = redactRequest(input.request, ex.endpoint, maxTextBytes);
  } catch {
    // A request no JSON could hold (only reachable from outside the proxy): stored without prompt.
    prompt = { text: '', found: {}, cut: false };
    addFlag(flags, SAMPLE_FLAGS.processingFailed);
  }
  const redactedResponse = redact(answer.tail ? answer.text + answer.tail : answer.text);
  const response = capUtf8(redactedResponse.text, maxTextBytes);
  const redactedContext = redact(typeof input.context === 'string' ? input.context : '');
  const context = capUtf8(redactedContext.text, maxTextBytes);
  const pii: Record<string, number> = {};
  for (const [where, counts] of [['prompt', mergeCounts(prompt.found, redactedContext.found)], ['response', redactedResponse.found]] as const) {
    for (const [type, n] of Object.entries(counts)) pii[`${where}:${type}`] = n as number;
  }
  const answered = ex.response.kind !== 'none';
  const usage = answer.usage;
  return toColumnValid({
    ...measured(ex),
    input_tokens: usage?.input ?? (answered ? estimateTokens(prompt.text) : 0),
    output_tokens: usage?.output ?? (answered ? estimateTokens(answer.text) : 0),
    tokens_estimated: answered && (usage?.input == null || usage.output == null),
    finish_reason: answer.finishReason,
    prompt: prompt.text,
    response: response.text,
    pii,
    trace_id: ex.traceId,
    user_hash: typeof ex.userKey === 'string' && ex.userKey ? hashUserKey(ex.userKey) : '',
    meta: redactValues(ex.meta),
    spec: ex.spec,
    context: context.text,
    flags,
    truncated: answer.truncated || prompt.cut || response.cut || context.cut,
  });
}

/** What the proxy measured about a request, as sample columns. */
function measured(ex: Exchange) {
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
    ttft_ms: ex.ttftMs ?? null,
  };
}

/**
 * The sample of an exchange whose processing threw: what the proxy measured, flagged
 * `processing_failed`, and no text (it could not be redacted, so none is stored).
 */
export function failedSampleRow(ex: Exchange, answer?: Answer): SampleRow {
  const flags: string[] = [...(answer?.flags ?? [])];
  addFlag(flags, SAMPLE_FLAGS.processingFailed);
  return toColumnValid({
    ...measured(ex),
    input_tokens: answer?.usage?.input ?? 0,
    output_tokens: answer?.usage?.output ?? 0,
    tokens_estimated: false,
    finish_reason: answer?.finishReason ?? '',
    prompt: '',
    response: '',
    pii: {},
    trace_id: ex.traceId,
    user_hash: '',
    meta: {},
    spec: ex.spec,
    context: '',
    flags,
    truncated: false,
  });
}

/**
 * The prompt as stored: chat messages as JSON, a completion prompt or embedding input as text;
 * each string redacted, the whole cut to `maxTextBytes`.
 */
function redactRequest(body: Record<string, unknown> | null, endpoint: Endpoint, maxTextBytes: number): { text: string; found: PiiCounts; cut: boolean } {
  if (!isRecord(body)) return { text: '', found: {}, cut: false };
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
  const cleaned = clean(body[promptField(endpoint)] ?? null);
  const text = typeof cleaned === 'string' ? cleaned : (JSON.stringify(cleaned) ?? '');
  const capped = capUtf8(text, maxTextBytes);
  return { text: capped.text, found, cut: capped.cut };
}

/** Metadata values redacted; numbers and booleans as text (toColumnValid deals with anything else). */
function redactValues(map: Record<string, string>): Record<string, string> {
  if (!isRecord(map)) return map;
  return Object.fromEntries(
    Object.entries(map).map(([k, v]) => {
      const value: unknown = v;
      const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : null;
      return [k, text === null ? value : redact(text).text];
    }),
  ) as Record<string, string>;
}

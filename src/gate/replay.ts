// The gate's HTTP edge: every golden prompt sent to one version's OpenAI-compatible endpoint, with
// bounded concurrency, retries on 429, 5xx and network errors (exponential backoff, Retry-After
// honoured), a timeout per attempt, and a cap on what is read. Whatever an upstream sends becomes a
// ReplayAnswer; nothing it sends is thrown.
import { Pool } from 'undici';
import type { GoldenItem } from './golden.js';
import type { ReplayAnswer } from './types.js';

export interface ReplayTarget {
  /** The version's name in reports. */
  name: string;
  /** Base URL of the OpenAI-compatible API, e.g. http://host:8000/v1. */
  url: string;
  /** The `model` field sent. */
  model: string;
  apiKey?: string;
}

export interface ReplayOptions {
  concurrency: number;
  timeoutMs: number;
  retries: number;
  /** First backoff; doubles each retry (default 200 ms). */
  retryBaseMs?: number;
  /** At most this much of a body is read (default 8 MiB). */
  maxBodyBytes?: number;
  onAnswer?: (answer: ReplayAnswer) => void;
}

/** The endpoint answered nothing at all: refused, unresolvable, or an error for every prompt. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

const RETRY_AFTER_CAP_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isRetryable = (status: number) => status === 429 || status >= 500;

/** The answer text of a chat completion body, or why there is none. */
export function answerText(body: string): { text: string } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: 'the body is not JSON' };
  }
  const choice = (parsed as { choices?: unknown })?.choices;
  const first = Array.isArray(choice) ? (choice[0] as { message?: { content?: unknown } } | undefined) : undefined;
  const content = first?.message?.content;
  if (typeof content === 'string') return { text: content };
  if (content === null || content === undefined) return first?.message ? { text: '' } : { error: 'no choices[0].message in the body' };
  if (Array.isArray(content)) return { text: content.map((p) => (typeof (p as { text?: unknown })?.text === 'string' ? (p as { text: string }).text : '')).join('') };
  return { error: 'choices[0].message.content is not text' };
}

const describeError = (err: unknown) => {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return [e?.code ?? e?.cause?.code, e?.message || e?.cause?.message].filter(Boolean).join(' ') || String(err);
};

async function readCapped(body: AsyncIterable<Buffer> & { destroy?: () => void }, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy?.();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends one prompt, retrying as configured; always resolves. */
async function ask(pool: Pool, path: string, target: ReplayTarget, item: GoldenItem, o: ReplayOptions): Promise<ReplayAnswer> {
  const body = JSON.stringify({ model: target.model, messages: item.messages });
  const headers = { 'content-type': 'application/json', 'x-tunewatch-gate': '1', ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}) };
  const base = o.retryBaseMs ?? 200;
  let last: ReplayAnswer = { text: null, status: 0, latencyMs: 0, attempts: 0, error: 'not sent' };
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    let wait = base * 2 ** attempt * (0.5 + Math.random() / 2);
    const started = performance.now();
    try {
      const res = await pool.request({ path, method: 'POST', headers, body, signal: AbortSignal.timeout(o.timeoutMs) });
      const text = await readCapped(res.body, o.maxBodyBytes ?? 8 * 1024 * 1024);
      const latencyMs = performance.now() - started;
      if (text === null) return { text: null, status: res.statusCode, latencyMs, attempts: attempt + 1, error: 'the body is larger than the replay reads' };
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const answer = answerText(text);
        return 'text' in answer
          ? { text: answer.text, status: res.statusCode, latencyMs, attempts: attempt + 1, error: '' }
          : { text: null, status: res.statusCode, latencyMs, attempts: attempt + 1, error: answer.error };
      }
      last = { text: null, status: res.statusCode, latencyMs, attempts: attempt + 1, error: `HTTP ${res.statusCode}: ${text.slice(0, 200).replace(/\s+/g, ' ')}` };
      if (!isRetryable(res.statusCode)) return last;
      const after = Number(res.headers['retry-after']);
      if (Number.isFinite(after) && after >= 0) wait = Math.min(after * 1000, RETRY_AFTER_CAP_MS);
    } catch (err) {
      last = { text: null, status: 0, latencyMs: performance.now() - started, attempts: attempt + 1, error: describeError(err) };
    }
    if (attempt < o.retries) await sleep(wait);
  }
  return last;
}

/**
 * Every item's answer from one version, in item order. The first prompt goes alone: when it gets no
 * HTTP answer at all after its retries, the version is unreachable and nothing else is sent.
 */
export async function replay(target: ReplayTarget, items: readonly GoldenItem[], o: ReplayOptions): Promise<ReplayAnswer[]> {
  let url: URL;
  try {
    url = new URL(target.url.replace(/\/+$/, ''));
  } catch {
    throw new UnreachableError(`${target.name}: "${target.url}" is not a URL`);
  }
  const pool = new Pool(url.origin, { connections: o.concurrency, connectTimeout: Math.min(o.timeoutMs, 10_000) });
  const path = `${url.pathname.replace(/\/$/, '')}/chat/completions${url.search}`;
  const out: ReplayAnswer[] = new Array(items.length);
  try {
    if (items.length === 0) return [];
    out[0] = await ask(pool, path, target, items[0]!, o);
    if (out[0].status === 0) throw new UnreachableError(`${target.name} at ${target.url} could not be reached: ${out[0].error} (after ${out[0].attempts} attempts)`);
    o.onAnswer?.(out[0]);
    let next = 1;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await ask(pool, path, target, items[i]!, o);
        o.onAnswer?.(out[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, items.length) }, worker));
    if (out.every((a) => a.text === null)) throw new UnreachableError(`${target.name} at ${target.url} answered none of the ${items.length} prompts; the first error: ${out[0].error}`);
    return out;
  } finally {
    await pool.close().catch(() => undefined);
  }
}

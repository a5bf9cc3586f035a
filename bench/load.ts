// The load generator: realistic chat-completion bodies, a closed loop for max throughput and an
// open loop at a fixed rate (latency counted from each request's due time).
import { performance } from 'node:perf_hooks';
import type { Pool } from 'undici';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './stats.js';

export const MODEL = 'bench-model';

const SYSTEM_PROMPT = 'You are a support assistant for Acme Cloud. Answer briefly with a heading "Action items:" and bullet points.';
const USER_TEMPLATES = [
  (i: number) => `Ticket #${4100 + i}: my order arrived damaged and the replacement never shipped. Please summarise and list the next steps. Reach me at jane.doe${i}@example.com or +1 415 555 ${String(1000 + i).slice(-4)}.`,
  (i: number) => `Ticket #${4100 + i}: the billing page shows a double charge since the last update. List the action items for the payments team and the customer success owner before Friday.`,
  (i: number) => `Ticket #${4100 + i}: I cannot reset my password after the migration, the email never arrives. My backup address is m.lopez${i}@example.org and my phone is (415) 555-${String(2000 + i).slice(-4)}.`,
  (i: number) => `Ticket #${4100 + i}: summarise this incident: the API gateway returned 502 for twenty minutes, the on-call rotated the keys and restarted the pool. List follow-ups for the runbook.`,
];

function requestBodies(stream: boolean): string[] {
  return Array.from({ length: 32 }, (_, i) =>
    JSON.stringify({
      model: MODEL,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: USER_TEMPLATES[i % USER_TEMPLATES.length](i) },
      ],
      temperature: 0.2,
      max_tokens: 256,
      stream,
      user: `bench-user-${i % 8}`,
    }),
  );
}
export const BODIES = { plain: requestBodies(false), stream: requestBodies(true) };

/**
 * Grounded requests: each carries a context document in `tunewatch.context` (the corpus's real
 * contexts of 600-1,000 characters, each made distinct, more of them than the evaluator's cache of
 * recent contexts holds), so every answer is checked against a context it has not seen.
 */
export function groundedBodies(count = 512): string[] {
  const lines = readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'corpus', 'dev.jsonl'), 'utf8').split('\n').filter(Boolean);
  const contexts = [...new Set(lines.map((l) => (JSON.parse(l) as { context?: string }).context).filter((c): c is string => !!c))];
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      model: MODEL,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: `Question ${i}: ${USER_TEMPLATES[i % USER_TEMPLATES.length](i)}` },
      ],
      temperature: 0.2,
      max_tokens: 256,
      user: `bench-user-${i % 8}`,
      tunewatch: { context: `${contexts[i % contexts.length]} (document ${i})` },
    }),
  );
}

export interface Target {
  name: string;
  pool: Pool;
  path: string;
  /** Request bodies to cycle through instead of BODIES (non-streaming only). */
  bodies?: string[];
}

export interface Tally {
  statuses: Map<number, number>;
  clientErrors: number;
  firstError?: string;
}

export function newTally(): Tally {
  return { statuses: new Map(), clientErrors: 0 };
}

export interface Outcome {
  status: number; // 0 = client-side error
  ttfbMs: number; // from the reference time to the first body byte (or headers)
  endMs: number; // performance.now() when the body was fully read
}

export async function sendOne(t: Target, body: string, tally: Tally, ref: number): Promise<Outcome> {
  try {
    const res = await t.pool.request({ path: t.path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    let ttfb = performance.now() - ref;
    let first = true;
    for await (const chunk of res.body) {
      if (first && (chunk as Buffer).length > 0) {
        ttfb = performance.now() - ref;
        first = false;
      }
    }
    tally.statuses.set(res.statusCode, (tally.statuses.get(res.statusCode) ?? 0) + 1);
    return { status: res.statusCode, ttfbMs: ttfb, endMs: performance.now() };
  } catch (err) {
    tally.clientErrors++;
    tally.firstError ??= (err as Error).message;
    return { status: 0, ttfbMs: NaN, endMs: performance.now() };
  }
}

/** N clients, each sending the next request as soon as the previous answer is read. */
export async function closedLoop(t: Target, seconds: number, concurrency: number, tally: Tally): Promise<{ rps: number; ok: number; bad: number }> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  let ok = 0;
  let bad = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const bodies = t.bodies ?? BODIES.plain;
      const o = await sendOne(t, bodies[i++ % bodies.length], tally, 0);
      if (o.endMs > end) break;
      if (o.status >= 200 && o.status < 300) ok++;
      else bad++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: ok / seconds, ok, bad };
}

export interface LatencyStats {
  n: number;
  bad: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  ttfbP50: number;
  ttfbP99: number;
  /** Worst delay between a request's scheduled and actual send: the generator's own lag. */
  maxSendLagMs: number;
  /** The proxy child's event-loop delay during the phase (none for "direct"). */
  loopDelay?: { p50: number; p99: number; max: number };
  /** Every successful request's latency, ascending. */
  sorted: Float64Array;
  /** Latency by send order (NaN for failures) and when the first was due (performance.now()), for BENCH_TRACE. */
  byOrder: Float64Array;
  firstDue: number;
}

const pct = percentile;

/**
 * Open loop: request k is due at start + k/rate whatever happened to earlier ones, and its
 * latency counts from that due time, so queueing anywhere (client pool, proxy, upstream) shows.
 */
export async function openLoop(t: Target, seconds: number, rate: number, stream: boolean, tally: Tally): Promise<LatencyStats> {
  const total = Math.round(seconds * rate);
  const interval = 1000 / rate;
  const latencies = new Float64Array(total).fill(NaN);
  const ttfbs = new Float64Array(total).fill(NaN);
  const bodies = stream ? BODIES.stream : (t.bodies ?? BODIES.plain);
  const pending: Promise<void>[] = [];
  let maxLag = 0;
  let bad = 0;
  const start = performance.now() + 5;
  let issued = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (issued < total && start + issued * interval <= now) {
        const k = issued++;
        const due = start + k * interval;
        maxLag = Math.max(maxLag, now - due);
        pending.push(
          sendOne(t, bodies[k % bodies.length], tally, due).then((o) => {
            if (o.status >= 200 && o.status < 300) {
              latencies[k] = o.endMs - due;
              ttfbs[k] = o.ttfbMs;
            } else bad++;
          }),
        );
      }
      if (issued >= total) return done();
      setTimeout(tick, Math.max(1, Math.floor(start + issued * interval - performance.now())));
    };
    tick();
  });
  await Promise.all(pending);
  const sorted = latencies.filter((x) => !Number.isNaN(x)).sort();
  const ttfbSorted = ttfbs.filter((x) => !Number.isNaN(x)).sort();
  return {
    n: sorted.length,
    bad,
    p50: pct(sorted, 0.5),
    p90: pct(sorted, 0.9),
    p99: pct(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    ttfbP50: pct(ttfbSorted, 0.5),
    ttfbP99: pct(ttfbSorted, 0.99),
    maxSendLagMs: maxLag,
    sorted,
    byOrder: latencies,
    firstDue: start,
  };
}

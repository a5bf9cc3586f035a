// The SLO engine's SLI queries against the embedded ClickHouse: rows go in through the real capture
// pipeline and the labels API path, so the rollups and the effective-verdict resolution are the real ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturePipeline } from '../src/capture/pipeline.js';
import { clickhouseSink, dedupToken } from '../src/capture/sink.js';
import { createBatchProcessor, type CapturedBatch } from '../src/capture/processor.js';
import type { Exchange } from '../src/capture/sample.js';
import { SpillLog } from '../src/capture/spill.js';
import { LabelWriter } from '../src/evaluate/labels.js';
import type { SampleEvaluator } from '../src/evaluate/evaluator.js';
import { openStore, type Store } from '../src/store/client.js';
import { migrate } from '../src/store/migrate.js';
import { sliTotals } from '../src/store/slo-queries.js';
import { Registry } from 'prom-client';
import { validate } from '../src/config/load.js';
import { SloEngine } from '../src/slo/engine.js';
import { toSloModel } from '../src/slo/model.js';
import { startUpstream, tempDir } from './helpers.js';

let store: Store;
let pipeline: CapturePipeline;
const now = Date.now();

function exchange(i: number, version: string, statusCode: number, latencyMs: number): Exchange {
  return {
    requestId: `slo-${version}-${i}`,
    ts: now - 30_000,
    tenant: '',
    model: 'support-bot',
    version,
    role: version === 'v13' ? 'canary' : 'baseline',
    upstream: 'http://upstream',
    endpoint: 'chat',
    stream: false,
    statusCode,
    errorType: statusCode >= 500 ? 'upstream_error' : '',
    latencyMs,
    ttftMs: null,
    request: { model: 'support-bot', messages: [{ role: 'user', content: `q${i}` }] },
    response: { kind: statusCode < 400 ? 'json' : 'error', chunks: [Buffer.from(JSON.stringify({ choices: [{ message: { content: i % 4 === 0 ? 'bad' : 'good' } }] }))] },
    traceId: '',
    userKey: null,
    meta: {},
    spec: '',
    context: '',
  };
}

// A stand-in evaluator with a known answer: every fourth answer fails its instruction.
const evaluator: SampleEvaluator = {
  async evaluate(ex, answer) {
    if (ex.statusCode >= 400) return [];
    return [{ sli: 'instruction_success', evaluator: 'fixed', evaluatorVersion: '1', verdict: answer.text === 'bad' ? 'bad' : 'good', score: null, reason: '' }];
  },
};

beforeAll(async () => {
  const dir = tempDir();
  store = openStore({ path: dir, retentionDays: 30 });
  await migrate(store);
  pipeline = new CapturePipeline(clickhouseSink(store), createBatchProcessor(evaluator), new SpillLog<CapturedBatch>(`${dir}/spill`, 1e9), {
    queueSize: 10_000, batchSize: 100, flushIntervalMs: 50, maxRetries: 0, retryBaseMs: 1, replayIntervalMs: 1000,
  });
  // v12: 100 requests, 2 server errors, latencies 0..990 ms; v13: 40 requests, 8 errors, all at 1200 ms.
  for (let i = 0; i < 100; i++) pipeline.enqueue(exchange(i, 'v12', i < 2 ? 502 : 200, i * 10));
  for (let i = 0; i < 40; i++) pipeline.enqueue(exchange(i, 'v13', i < 8 ? 503 : 200, 1200));
  await pipeline.flush();
});
afterAll(() => store.close());

const window = (slo: Parameters<typeof sliTotals>[1]) => sliTotals(store, slo, now - 3_600_000, now + 60_000);

describe('SLI totals from the rollups', () => {
  it('availability: 5xx over all requests, per version', async () => {
    expect(await window({ model: 'support-bot', sli: 'availability' })).toEqual([
      { model: 'support-bot', version: 'v12', bad: 2, total: 100 },
      { model: 'support-bot', version: 'v13', bad: 8, total: 40 },
    ]);
  });

  it('latency: requests slower than the threshold, counted exactly at the threshold', async () => {
    // v12 latencies are 0, 10, …, 990 ms: 81 at or under 800 ms, 19 slower.
    const rows = await window({ model: 'support-bot', sli: 'latency', thresholdMs: 800 });
    expect(rows).toEqual([
      { model: 'support-bot', version: 'v12', bad: 19, total: 100 },
      { model: 'support-bot', version: 'v13', bad: 40, total: 40 },
    ]);
    expect((await window({ model: 'support-bot', sli: 'latency', thresholdMs: 1200, version: 'v13' }))[0].bad).toBe(0);
  });

  it('evaluator SLIs: bad over judged, filtered by version and role, with late labels counted', async () => {
    // v12: 98 answered, i % 4 === 0 among i = 2..99 → 24 bad.
    expect(await window({ model: 'support-bot', sli: 'instruction_success', role: 'baseline' })).toEqual([{ model: 'support-bot', version: 'v12', bad: 24, total: 98 }]);
    await new LabelWriter(store).record([{ request_id: 'slo-v12-4', sli: 'instruction_success', verdict: 'good' }], 'human');
    expect(await window({ model: 'support-bot', version: 'v12', sli: 'instruction_success' })).toEqual([{ model: 'support-bot', version: 'v12', bad: 23, total: 98 }]);
  });

  it('"*" covers every model; an unknown model has no data', async () => {
    expect((await window({ model: '*', sli: 'availability' })).length).toBe(2);
    expect(await window({ model: 'other', sli: 'availability' })).toEqual([]);
  });
});

describe('built-in engine against Alertmanagers', () => {
  it('posts to every reachable Alertmanager, counts the unreachable one, and keeps going', async () => {
    const posts: { labels: Record<string, string>; endsAt: string }[][] = [];
    const am = await startUpstream((req, res, body) => {
      if (req.url === '/api/v2/alerts') posts.push(JSON.parse(body));
      res.writeHead(200).end();
    });
    const config = validate({
      models: [{ name: 'support-bot', deployments: [{ version: 'v12', upstream: 'http://x' }] }],
      alerting: { alertmanagers: ['http://127.0.0.1:9', am.url.replace(/\/v1$/, '')], evaluationInterval: '1s' },
      slos: [{ name: 'avail', model: 'support-bot', sli: 'availability', objective: 0.9, window: '1h', alerting: [{ severity: 'page', burnRate: 1, longWindow: '10m', shortWindow: '5m' }] }],
    });
    const registry = new Registry();
    const engine = new SloEngine(store, config.slos.map(toSloModel), config.alerting, registry);
    const statuses = await engine.evaluate();
    // v13 has 20% errors against a 10% budget: 2x ≥ 1x pages; v12 (2%) does not.
    expect(statuses.map((s) => [s.version, s.state])).toEqual([['v12', 'ok'], ['v13', 'firing']]);
    expect(posts).toHaveLength(1);
    expect(posts[0].map((a) => a.labels.version)).toEqual(['v13']);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/tunewatch_alertmanager_notifications_total\{alertmanager="http:\/\/127.0.0.1:9",outcome="failed"\} 1/);
    expect(metrics).toMatch(/tunewatch_alertmanager_notifications_total\{alertmanager="http:\/\/127.0.0.1:\d+",outcome="sent"\} 1/);
    expect(metrics).toMatch(/tunewatch_slo_alerts_firing 1/);
    await am.close();
  });
});

describe('a label racing the insert of its own sample', () => {
  it('counts once in the SLI rollup when it arrives between the two inserts of its batch', async () => {
    // The sink is paused after its first table insert; a label for one of the batch's requests
    // arrives during the pause. Its writer flushes capture when the sample is not there yet.
    const sink = clickhouseSink(store);
    let release!: () => void;
    let paused!: () => void;
    const pausedP = new Promise<void>((r) => (paused = r));
    const gate = new Promise<void>((r) => (release = r));
    const insert = store.client.insert.bind(store.client);
    let calls = 0;
    store.client.insert = (async (params: Parameters<typeof insert>[0]) => {
      const result = await insert(params);
      if (calls++ === 0) {
        paused();
        await gate;
      }
      return result;
    }) as typeof store.client.insert;
    try {
      const batch = await createBatchProcessor(evaluator)([exchange(0, 'v14', 200, 10), exchange(1, 'v14', 200, 10)]);
      const written = sink.insert(batch, dedupToken(batch));
      await pausedP;
      // exchange(0) answered 'bad'; a human says it was good.
      const labelled = new LabelWriter(store, async () => {
        release();
        await written;
      }).record([{ request_id: 'slo-v14-0', sli: 'instruction_success', verdict: 'good' }], 'human');
      setTimeout(release, 200); // a writer that found the sample never flushes
      await Promise.all([written, labelled]);
    } finally {
      store.client.insert = insert;
    }
    const rows = await window({ model: 'support-bot', version: 'v14', sli: 'instruction_success' });
    expect(rows).toEqual([{ model: 'support-bot', version: 'v14', bad: 0, total: 2 }]);
  });
});

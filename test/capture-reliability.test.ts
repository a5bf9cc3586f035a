// The pure parts of capture reliability: isolating rejected rows, shedding, coverage, readiness.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoverageCounter, mergeCoverage, shouldShed } from '../src/capture/coverage.js';
import { BatchInsertError, halves, isolateRejected, type InsertBatch } from '../src/capture/isolate.js';
import type { CapturedBatch } from '../src/capture/processor.js';
import { judgeReadiness, LossWindow } from '../src/capture/readiness.js';
import type { PipelineHealth } from '../src/capture/pipeline.js';
import { isRowRejection } from '../src/store/errors.js';

const rejection = (id: string) => Object.assign(new Error(`Constraint violated at row 1: request_id = '${id}'`), { code: '469', type: 'VIOLATED_CONSTRAINT' });
const outage = () => Object.assign(new Error('Table default.samples does not exist'), { code: '60', type: 'UNKNOWN_TABLE' });

function batchOf(ids: string[]): CapturedBatch {
  return {
    samples: ids.map((request_id) => ({ request_id }) as CapturedBatch['samples'][number]),
    evaluations: ids.flatMap((request_id) => ['instruction_success', 'safe_response'].map((sli) => ({ request_id, sli }) as CapturedBatch['evaluations'][number])),
  };
}

/** A store that rejects any batch holding a `bad-` sample, like a CHECK constraint; records what it stored. */
function fakeStore(opts: { failEvaluationsToo?: boolean; outageAfter?: number } = {}) {
  const stored = { samples: [] as string[], evaluations: [] as string[] };
  let inserts = 0;
  const insert: InsertBatch = async (batch, { skipEvaluations }) => {
    inserts++;
    if (opts.outageAfter !== undefined && inserts > opts.outageAfter) throw new BatchInsertError('evaluations', outage());
    const bad = batch.samples.find((s) => s.request_id.startsWith('bad-'));
    if (!skipEvaluations) {
      if (bad && opts.failEvaluationsToo) throw new BatchInsertError('evaluations', rejection(bad.request_id));
      stored.evaluations.push(...batch.evaluations.map((e) => `${e.request_id}/${e.sli}`));
    }
    if (bad) throw new BatchInsertError('samples', rejection(bad.request_id));
    stored.samples.push(...batch.samples.map((s) => s.request_id));
  };
  return { stored, insert, inserts: () => inserts };
}

describe('store errors', () => {
  it('tells a rejection of the rows from trouble with the store', () => {
    expect(isRowRejection(rejection('x'))).toBe(true);
    expect(isRowRejection(Object.assign(new Error('x'), { type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED' }))).toBe(true);
    expect(isRowRejection(outage())).toBe(false);
    expect(isRowRejection(new Error('the embedded store process exited (signal SIGKILL); restarting it'))).toBe(false);
    expect(isRowRejection(null)).toBe(false);
  });
});

describe('isolating rejected rows', () => {
  it('halves keep each sample with its verdicts', () => {
    const [a, b] = halves(batchOf(['1', '2', '3']));
    expect(a.samples.map((s) => s.request_id)).toEqual(['1', '2']);
    expect(a.evaluations.every((e) => ['1', '2'].includes(e.request_id))).toBe(true);
    expect(b.evaluations.map((e) => e.request_id)).toEqual(['3', '3']);
  });

  it('stores every good row, rejects exactly the bad ones, and never stores a verdict twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }), fc.boolean(), async (badness, failEvaluationsToo) => {
        const ids = badness.map((bad, i) => `${bad ? 'bad' : 'ok'}-${i}`);
        if (!ids.some((id) => id.startsWith('bad-'))) return;
        const store = fakeStore({ failEvaluationsToo });
        const batch = batchOf(ids);
        // The first insert of the whole batch, as the pipeline makes it.
        const first = await store.insert(batch, { skipEvaluations: false }).then(() => null, (e: BatchInsertError) => e);
        expect(first).not.toBeNull();
        const { rejected, unstored } = await isolateRejected(batch, store.insert, first!);
        expect(unstored).toEqual([]);
        expect(rejected.map((r) => r.batch.samples[0].request_id).sort()).toEqual(ids.filter((id) => id.startsWith('bad-')).sort());
        expect(store.stored.samples.sort()).toEqual(ids.filter((id) => id.startsWith('ok-')).sort());
        expect(new Set(store.stored.evaluations).size).toBe(store.stored.evaluations.length);
      }),
      { numRuns: 200 },
    );
  });

  it('finds one bad row among 512 in about 2·log2(n) inserts', async () => {
    const ids = Array.from({ length: 512 }, (_, i) => (i === 300 ? 'bad-300' : `ok-${i}`));
    const store = fakeStore();
    const batch = batchOf(ids);
    const first = await store.insert(batch, { skipEvaluations: false }).catch((e) => e);
    const { rejected } = await isolateRejected(batch, store.insert, first);
    expect(rejected).toHaveLength(1);
    expect(store.inserts()).toBeLessThanOrEqual(1 + 2 * 9);
    expect(store.stored.samples).toHaveLength(511);
  });

  it('stops when the store goes away midway and keeps the untried parts', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => (i === 3 ? 'bad-3' : `ok-${i}`));
    const store = fakeStore({ outageAfter: 2 });
    const batch = batchOf(ids);
    const first = await store.insert(batch, { skipEvaluations: false }).catch((e) => e);
    const { rejected, unstored } = await isolateRejected(batch, store.insert, first);
    const kept = unstored.flatMap((u) => u.samples.map((s) => s.request_id));
    // Nothing is lost: each id is stored, rejected or kept for later, once.
    const all = [...store.stored.samples, ...rejected.map((r) => r.batch.samples[0].request_id), ...kept];
    expect(all.sort()).toEqual([...ids].sort());
  });
});

describe('shedding', () => {
  it('keeps everything below half the bound, sheds everything at it, and in between rises with the queue', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (bound, r) => {
        expect(shouldShed(Math.floor(bound / 2), bound, r)).toBe(false);
        expect(shouldShed(bound, bound, r)).toBe(true);
        expect(shouldShed(bound + 5, bound, r)).toBe(true);
        const w = Math.floor((bound * 3) / 4);
        // For the same draw, a longer queue never sheds less.
        if (shouldShed(w, bound, r)) expect(shouldShed(w + 1, bound, r)).toBe(true);
      }),
    );
  });

  it('sheds uniformly: what is kept of a long burst is spread over it, not its head', () => {
    // A queue held at 3/4 of its bound: each sample is kept with probability 1/2, wherever it falls.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kept = Array.from({ length: 10_000 }, (_, i) => (shouldShed(750, 1000, random()) ? -1 : i)).filter((i) => i >= 0);
    const firstHalf = kept.filter((i) => i < 5000).length;
    expect(kept.length / 10_000).toBeCloseTo(0.5, 1);
    expect(firstHalf / kept.length).toBeCloseTo(0.5, 1);
  });
});

describe('coverage', () => {
  it('counts requests and what was not captured per minute and series', () => {
    const c = new CoverageCounter();
    const t = Date.UTC(2026, 11, 2, 10, 0, 30);
    c.request(t, 'm', 'v1', 'baseline');
    c.request(t + 1000, 'm', 'v1', 'baseline');
    c.notCaptured(t + 1000, 'm', 'v1', 'baseline');
    c.request(t + 60_000, 'm', 'v2', 'canary');
    const rows = c.take();
    expect(rows).toContainEqual({ minute: Date.UTC(2026, 11, 2, 10, 0) / 1000, model: 'm', version: 'v1', role: 'baseline', requests: 2, not_captured: 1 });
    expect(rows).toHaveLength(2);
    expect(c.take()).toEqual([]);
    expect(mergeCoverage([...rows, ...rows]).find((r) => r.version === 'v1')).toMatchObject({ requests: 4, not_captured: 2 });
  });
});

describe('readiness', () => {
  const healthy: PipelineHealth & { worker: 'running'; shed: number } = {
    queueDepth: 0, spillBatches: 0, spillBytes: 0, spillHasRoom: true, spillWritable: true, lastInsertOk: true,
    storeFailingSince: null, dropped: 0, quarantined: 0, settled: 0, worker: 'running', shed: 0,
  };
  const now = 1_000_000;

  it('is ready when capture stores, and names each reason when it does not', () => {
    expect(judgeReadiness(healthy, now, null, 30_000, 0)).toEqual({ ready: true, reasons: [] });
    expect(judgeReadiness({ ...healthy, worker: 'down' } as never, now, null, 30_000, 0).reasons).toEqual(['capture worker down']);
    expect(judgeReadiness(healthy, now, now - 10_000, 30_000, 0).ready).toBe(true); // within the grace period
    expect(judgeReadiness(healthy, now, now - 31_000, 30_000, 0).reasons[0]).toMatch(/store not storing for 31 s/);
    expect(judgeReadiness({ ...healthy, storeFailingSince: now - 40_000 }, now, null, 30_000, 0).ready).toBe(false);
    expect(judgeReadiness({ ...healthy, spillHasRoom: false }, now, null, 30_000, 0).reasons).toEqual(['spill log full']);
    expect(judgeReadiness({ ...healthy, spillWritable: false }, now, null, 30_000, 0).reasons).toEqual(['spill log not writable']);
    expect(judgeReadiness(healthy, now, null, 30_000, 3).reasons).toEqual(['3 sample(s) dropped or shed in the last minute']);
  });

  it('counts losses within the last minute only', () => {
    const w = new LossWindow(60_000);
    w.observe(0, healthy);
    w.observe(30_000, { ...healthy, dropped: 2 });
    expect(w.lostInWindow({ ...healthy, dropped: 2, shed: 1 })).toBe(3);
    for (let t = 31_000; t <= 100_000; t += 1000) w.observe(t, { ...healthy, dropped: 2, shed: 1 });
    expect(w.lostInWindow({ ...healthy, dropped: 2, shed: 1 })).toBe(0);
  });
});

// Stratified sampling for golden sets, and the builder on synthetic store rows: proportional
// allocation that represents every stratum, failures over-sampled to the share, deterministic for a
// seed and independent of the input order; unusable rows, PII and near-duplicates removed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGolden } from '../src/gate/golden-build.js';
import { allocate, stratifiedSample } from '../src/gate/stratify.js';
import type { GoldenCandidate } from '../src/store/golden-queries.js';

interface Row {
  id: string;
  stratum: string;
  fail: boolean;
}

const rows = (spec: Record<string, [number, number]>): Row[] =>
  Object.entries(spec).flatMap(([stratum, [pass, fail]]) => [
    ...Array.from({ length: pass }, (_, i) => ({ id: `${stratum}-p${i}`, stratum, fail: false })),
    ...Array.from({ length: fail }, (_, i) => ({ id: `${stratum}-f${i}`, stratum: `${stratum}/fail`, fail: true })),
  ]);
const opts = (size: number, failureShare = 0.3, seed = 1) => ({ size, failureShare, seed, key: (r: Row) => r.stratum, failing: (r: Row) => r.fail, id: (r: Row) => r.id });

describe('allocate', () => {
  it('is proportional with largest remainders and gives every non-empty stratum one', () => {
    expect(allocate([50, 30, 20], 10)).toEqual([5, 3, 2]);
    expect(allocate([100, 1, 1], 10)).toEqual([8, 1, 1]);
    expect(allocate([5, 0, 5], 20)).toEqual([5, 0, 5]);
    expect(allocate([3, 3, 3], 2)).toEqual([1, 1, 0]);
  });

  it('always sums to min(want, total) and never exceeds a stratum', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 1000 }), (sizes, want) => {
        const out = allocate(sizes, want);
        const total = sizes.reduce((a, b) => a + b, 0);
        expect(out.reduce((a, b) => a + b, 0)).toBe(Math.min(want, total));
        out.forEach((n, i) => expect(n).toBeLessThanOrEqual(sizes[i]!));
        const nonEmpty = sizes.filter((s) => s > 0).length;
        if (Math.min(want, total) >= nonEmpty) out.forEach((n, i) => sizes[i]! > 0 && expect(n).toBeGreaterThanOrEqual(1));
      }),
    );
  });
});

describe('stratifiedSample', () => {
  const data = rows({ 'spec=a|grounded=yes': [400, 10], 'spec=a|grounded=no': [300, 20], 'spec=b|grounded=yes': [100, 5] });

  it('over-samples failures up to the share, spread over their strata', () => {
    const { sample, strata } = stratifiedSample(data, opts(100, 0.3));
    expect(sample).toHaveLength(100);
    expect(sample.filter((r) => r.fail)).toHaveLength(30);
    expect(strata['spec=a|grounded=no/fail']).toEqual({ available: 20, sampled: 17 });
    expect(strata['spec=b|grounded=yes']).toEqual({ available: 100, sampled: 9 });
    expect(Object.values(strata).every((s) => s.sampled >= 1)).toBe(true);
  });

  it('takes every failure when there are fewer than the share, and the rest from the passes', () => {
    const { sample } = stratifiedSample(data, opts(200, 0.5));
    expect(sample.filter((r) => r.fail)).toHaveLength(35);
    expect(sample).toHaveLength(200);
  });

  it('keeps the natural share when failures are already more common than the share', () => {
    const many = rows({ x: [50, 50] });
    expect(stratifiedSample(many, opts(20, 0.1)).sample.filter((r) => r.fail)).toHaveLength(10);
  });

  it('is the same for the same seed whatever the input order, and differs for another seed', () => {
    const a = stratifiedSample(data, opts(50, 0.3, 7)).sample.map((r) => r.id);
    const b = stratifiedSample([...data].reverse(), opts(50, 0.3, 7)).sample.map((r) => r.id);
    const c = stratifiedSample(data, opts(50, 0.3, 8)).sample.map((r) => r.id);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBe(50);
  });

  it('returns everything when the size is larger than the data', () => {
    expect(stratifiedSample(data, opts(10_000)).sample).toHaveLength(data.length);
  });
});

const candidate = (i: number, over: Partial<GoldenCandidate> = {}): GoldenCandidate => ({
  requestId: `r${String(i).padStart(3, '0')}`, version: 'v1', sampleTs: 1_000 + i, endpoint: 'chat', statusCode: 200, truncated: false,
  prompt: JSON.stringify([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Question ${i}: ${['how do refunds work', 'why is my login slow', 'where are invoices kept', 'can I change my plan'][i % 4]} for account ${i * 7919}?` }]),
  spec: '', context: '', verdicts: { instruction_success: 'good', safe_response: 'good', hallucination_free: 'good' }, correction: '', ...over,
});

describe('buildGolden', () => {
  const base = { model: 'm', size: 100, failureShare: 0.3, seed: 1, duplicateThreshold: 0.8, contextDelimiter: '### Context', specs: ['short'], since: '7d', createdAt: '2026-01-01T00:00:00Z', tunewatchVersion: '0.1.0' };

  it('drops unusable rows and rows with PII left, and collapses near-duplicates', () => {
    const distinct = ['How do I export invoices as CSV?', 'Why does the app log me out?', 'Which browsers are supported?'];
    const cands = [
      ...distinct.map((q, i) => candidate(i, { prompt: JSON.stringify([{ role: 'user', content: q }]) })),
      candidate(10, { prompt: JSON.stringify([{ role: 'user', content: 'How do I export invoices as CSV??' }]), correction: 'Use Billing → Export.' }),
      candidate(11, { statusCode: 500 }),
      candidate(12, { truncated: true }),
      candidate(13, { prompt: 'not json', endpoint: 'chat' }),
      candidate(14, { prompt: JSON.stringify([{ role: 'user', content: 'mail me at jane.doe@example.com' }]) }),
      candidate(15, { endpoint: 'completions', prompt: 'Complete: the quick brown fox', spec: 'short', context: 'grounding text' }),
    ];
    const { items, manifest } = buildGolden(cands, base);
    expect(manifest.counts).toMatchObject({ in: 9, unusable: 3, pii_excluded: 1, deduplicated: 1, available: 4, sampled: 4, references: 1 });
    const exported = items.find((i) => i.reference);
    expect(exported).toMatchObject({ id: 'r010', reference: 'Use Billing → Export.' });
    const completion = items.find((i) => i.id === 'r015')!;
    expect(completion).toMatchObject({ messages: [{ role: 'user', content: 'Complete: the quick brown fox' }], spec: 'short', context: 'grounding text' });
    expect(completion.tags).toEqual(['source:production', 'version:v1', 'grounded', 'outcome:pass']);
  });

  it('takes grounding from the system prompt\'s delimited section as production does, and tags failures', () => {
    const prompt = JSON.stringify([{ role: 'system', content: 'Help.\n### Context\nOrder 7 shipped on May 2.' }, { role: 'user', content: 'When did order 7 ship?' }]);
    const { items } = buildGolden([candidate(1, { prompt, verdicts: { instruction_success: 'good', safe_response: 'good', hallucination_free: 'bad' } })], base);
    expect(items[0]!.context).toBe('Order 7 shipped on May 2.');
    expect(items[0]!.tags).toEqual(['source:production', 'version:v1', 'grounded', 'outcome:fail', 'failed:hallucination_free']);
  });

  it('has a content hash that depends on the items, not on the time', () => {
    const cands = Array.from({ length: 40 }, (_, i) => candidate(i));
    const a = buildGolden(cands, base).manifest;
    const b = buildGolden(cands, { ...base, createdAt: '2027-01-01T00:00:00Z' }).manifest;
    const c = buildGolden(cands, { ...base, size: 10 }).manifest;
    expect(a.contentHash).toBe(b.contentHash);
    expect(a.contentHash).not.toBe(c.contentHash);
    expect(a.id).toBe(`golden-${a.contentHash.slice(0, 16)}`);
  });
});

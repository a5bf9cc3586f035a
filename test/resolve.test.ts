import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overrules, rollupDeltas, type EffectiveVerdict } from '../src/evaluate/resolve.js';
import { delimitedSection } from '../src/evaluate/input.js';
import { inSample, parseJudgement } from '../src/evaluate/judge.js';
import { VERDICTS } from '../src/evaluate/types.js';

const v = (verdict: EffectiveVerdict['verdict'], sourceRank: number, ts: number): EffectiveVerdict => ({ verdict, sourceRank, ts });

describe('effective verdict resolution', () => {
  it('counts a first verdict once', () => {
    expect(rollupDeltas(v('good', 1, 10), null)).toEqual({ delta_good: 1, delta_bad: 0, delta_unknown: 0 });
  });
  it('moves the count when a human overrules an automatic verdict', () => {
    expect(rollupDeltas(v('bad', 3, 20), v('good', 1, 10))).toEqual({ delta_good: -1, delta_bad: 1, delta_unknown: 0 });
  });
  it('changes nothing when a judge arrives after a human', () => {
    expect(overrules(v('bad', 2, 30), v('good', 3, 20))).toBe(false);
    expect(rollupDeltas(v('bad', 2, 30), v('good', 3, 20))).toEqual({ delta_good: 0, delta_bad: 0, delta_unknown: 0 });
  });
  it('lets the latest label of the same source win', () => {
    expect(overrules(v('good', 3, 30), v('bad', 3, 20))).toBe(true);
    expect(overrules(v('good', 3, 10), v('bad', 3, 20))).toBe(false);
  });
  it('keeps exactly one verdict counted per request whatever the sequence of labels (property)', () => {
    const label = fc.record({ verdict: fc.constantFrom(...VERDICTS), sourceRank: fc.integer({ min: 1, max: 3 }), ts: fc.integer({ min: 0, max: 1000 }) });
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 20 }), (labels) => {
        let current: EffectiveVerdict | null = null;
        const totals = { delta_good: 0, delta_bad: 0, delta_unknown: 0 };
        for (const l of labels) {
          const d = rollupDeltas(l, current);
          totals.delta_good += d.delta_good;
          totals.delta_bad += d.delta_bad;
          totals.delta_unknown += d.delta_unknown;
          if (overrules(l, current)) current = l;
        }
        expect(totals.delta_good + totals.delta_bad + totals.delta_unknown).toBe(1);
        expect(totals[`delta_${current!.verdict}`]).toBe(1);
      }),
    );
  });
});

describe('evaluation inputs and the judge protocol', () => {
  it('takes the delimited section of a system prompt as grounding context', () => {
    const system = 'You are helpful.\n### Context\nRefunds take 5 days.\nOrders ship from Leeds.\n### Style\nBe brief.';
    expect(delimitedSection(system, '### Context')).toBe('Refunds take 5 days.\nOrders ship from Leeds.');
    expect(delimitedSection('no marker here', '### Context')).toBe('');
  });
  it('parses judge replies and rejects anything else', () => {
    expect(parseJudgement('{"verdict":"bad","score":0.2,"reason":"invented figure"}')).toEqual({ verdict: 'bad', score: 0.2, reason: 'invented figure' });
    expect(parseJudgement('Sure! ```json\n{"verdict":"good"}\n```')).toMatchObject({ verdict: 'good' });
    expect(parseJudgement('{"verdict":"maybe"}')).toBeNull();
    expect(parseJudgement('no json')).toBeNull();
  });
  it('samples request ids deterministically at the configured rate', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);
    const share = ids.filter((id) => inSample(id, 0.1)).length / ids.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect(ids.filter((id) => inSample(id, 0.1))).toEqual(ids.filter((id) => inSample(id, 0.1)));
  });
});

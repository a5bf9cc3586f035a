// The gate's paired statistics and verdicts, checked against closed forms, brute force and
// simulation: the score test reduces to McNemar's z without a margin, its restricted likelihood is the
// grid maximum, it holds its level at the margin; the signed-rank statistic matches a textbook value;
// the analysis classifies and scores as the canary's policy says.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/util/random.js';
import { pairedEvidence, pairedScoreZ, wilson, pairCounts } from '../src/gate/paired-proportions.js';
import { pseudomedian, signedRankEvidence, signedRankZ } from '../src/gate/signed-rank.js';
import { analyseGate } from '../src/gate/analyse.js';
import { gatePlan } from '../src/gate/plan.js';
import { GATE_METRICS, type ItemJudgement, type PairedItem } from '../src/gate/types.js';
import type { PairCounts } from '../src/canary/types.js';

const pairs = (bothGood: number, baselineOnly: number, canaryOnly: number, bothBad: number): PairCounts => ({ bothGood, baselineOnly, canaryOnly, bothBad });

describe('paired proportions (Tango score test)', () => {
  it('is McNemar\'s z without a margin', () => {
    expect(pairedScoreZ(pairs(60, 10, 25, 5), 0)).toBeCloseTo(15 / Math.sqrt(35), 10);
    expect(pairedScoreZ(pairs(60, 25, 10, 5), 0)).toBeCloseTo(-15 / Math.sqrt(35), 10);
  });

  it('uses the restricted maximum likelihood: the variance matches a brute-force grid maximum', () => {
    const p = pairs(150, 12, 4, 34);
    const n = 200;
    const d0 = -0.05;
    let best = { ll: -Infinity, q: 0 };
    for (let q = Math.max(0, -d0) + 1e-6; q < (1 - d0) / 2; q += 1e-5) {
      const ll = 12 * Math.log(q) + 4 * Math.log(q + d0) + 184 * Math.log(1 - 2 * q - d0);
      if (ll > best.ll) best = { ll, q };
    }
    const v = (best.q + best.q + d0 - d0 * d0) / n;
    expect(pairedScoreZ(p, d0)).toBeCloseTo((4 / n - 12 / n - d0) / Math.sqrt(v), 3);
  });

  it('holds its level at the margin: fails a candidate exactly 2 points worse at most alpha of the time', () => {
    const rng = mulberry32(99);
    const alpha = 0.05;
    let rejected = 0;
    const reps = 1500;
    for (let r = 0; r < reps; r++) {
      // baseline-only 6%, candidate-only 4%: the candidate is exactly 2 points worse.
      const c = pairs(0, 0, 0, 0);
      for (let i = 0; i < 300; i++) {
        const u = rng();
        if (u < 0.06) c.baselineOnly++;
        else if (u < 0.1) c.canaryOnly++;
        else if (u < 0.95) c.bothGood++;
        else c.bothBad++;
      }
      if (pairedEvidence(c)!.p(-0.02, 'below') <= alpha) rejected++;
    }
    expect(rejected / reps).toBeLessThan(alpha + 2 * Math.sqrt((alpha * (1 - alpha)) / reps));
  });

  it('gives an interval that holds the estimate and tightens with more pairs', () => {
    const small = pairedEvidence(pairs(80, 8, 4, 8))!;
    const large = pairedEvidence(pairs(800, 80, 40, 80))!;
    const [lo, hi] = small.sequence(0.025);
    expect(lo).toBeLessThan(small.estimate);
    expect(hi).toBeGreaterThan(small.estimate);
    const [llo, lhi] = large.sequence(0.025);
    expect(lhi - llo).toBeLessThan((hi - lo) / 2);
    // The interval is where the one-sided tests stop rejecting.
    expect(small.p(lo, 'above')).toBeCloseTo(0.025, 4);
    expect(small.p(hi, 'below')).toBeCloseTo(0.025, 4);
  });

  it('leaves out pairs with an unknown side, and Wilson covers 0 and n', () => {
    expect(pairCounts([{ baseline: true, candidate: null }, { baseline: true, candidate: false }, { baseline: false, candidate: true }, { baseline: true, candidate: true }])).toEqual(pairs(1, 1, 1, 0));
    const [lo, hi] = wilson(0, 50, 0.025);
    expect(lo).toBeCloseTo(0, 12);
    expect(hi).toBeCloseTo(0.0714, 3);
    expect(wilson(50, 50, 0.025)[1]).toBe(1);
  });
});

describe('signed-rank on paired latencies', () => {
  // R's wilcox.test example (Hollander & Wolfe, depression scale): V = 40.
  const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
  const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
  const d = x.map((v, i) => v - y[i]!);

  it('has the textbook statistic', () => {
    expect(signedRankZ(d, 0)).toBeCloseTo((40 - 22.5) / Math.sqrt(71.25), 10);
  });

  it('estimates the shift by the median of the Walsh averages', () => {
    expect(pseudomedian([1, 2, 3])).toBe(2);
    expect(pseudomedian([0, 10])).toBe(5);
    const shifted = signedRankEvidence(d.map((v) => v + 1))!;
    expect(shifted.estimate).toBeCloseTo(pseudomedian(d) + 1, 10);
  });

  it('rejects a shift beyond the tolerance only when there is one', () => {
    const rng = mulberry32(5);
    const same = Array.from({ length: 300 }, () => (rng() - 0.5) * 0.2);
    const slower = same.map((v) => v + Math.log(1.5));
    const tol = Math.log(1.1);
    expect(signedRankEvidence(same)!.p(tol, 'above')).toBeGreaterThan(0.5);
    expect(signedRankEvidence(slower)!.p(tol, 'above')).toBeLessThan(1e-10);
  });
});

const judged = (passed: boolean, latencyMs = 100, correct: boolean | null = passed): ItemJudgement => ({
  verdicts: { instruction_success: passed ? 'good' : 'bad', safe_response: 'good', hallucination_free: 'good' },
  correct, passed, latencyMs, answered: true, reasons: [],
});
const item = (id: number, baseline: ItemJudgement, candidate: ItemJudgement): PairedItem => ({ id: String(id), baseline, candidate });

describe('the gate analysis', () => {
  const plan = gatePlan({ minSamples: 500, gate: { minSamples: 50 } } as never);

  it('lists every gate metric with the rollout\'s tolerances, criticality and alpha; error_rate stays the canary\'s', () => {
    expect(plan.metrics.map((m) => m.name)).toEqual([...GATE_METRICS]);
    expect(plan.metrics.find((m) => m.name === 'instruction_success')).toMatchObject({ tolerance: 0.02, critical: true });
    expect(plan.metrics.find((m) => m.name === 'regression_rate')).toMatchObject({ direction: 'increase', tolerance: 0.01, critical: true });
    const custom = gatePlan({ metrics: { safe_response: { tolerance: 0 }, latency: { critical: true } }, alpha: 0.1, thresholds: { pass: 90, marginal: 50 }, gate: { metrics: { regression_rate: { tolerance: 0.05, critical: false } } } } as never);
    expect(custom.metrics.map((m) => m.name)).toEqual(['safe_response', 'semantic_accuracy', 'regression_rate', 'latency']);
    expect(custom).toMatchObject({ alpha: 0.1, thresholds: { pass: 90, marginal: 50 } });
    expect(custom.metrics.find((m) => m.name === 'regression_rate')).toMatchObject({ tolerance: 0.05, critical: false });
  });

  it('passes identical versions, with zero effects and no discordant pairs', () => {
    const items = Array.from({ length: 100 }, (_, i) => item(i, judged(i % 10 !== 0), judged(i % 10 !== 0)));
    const a = analyseGate(plan, items);
    expect(a.verdict).toBe('pass');
    expect(a.score).toBe(100);
    for (const m of a.metrics) expect(m.classification, m.name).toBe('pass');
    const instr = a.metrics.find((m) => m.name === 'instruction_success')!;
    expect(instr).toMatchObject({ baseline: 0.9, candidate: 0.9, effect: 0, discordant: [0, 0], n: 100 });
    expect(instr.regressionRate!.value).toBe(0);
  });

  it('fails a candidate that regresses a critical SLI, with the regression and fix rates beside it', () => {
    const items = Array.from({ length: 200 }, (_, i) => item(i, judged(true), judged(i % 5 !== 0 || i % 50 === 0)));
    const a = analyseGate(plan, items);
    expect(a.verdict).toBe('fail');
    expect(a.reason).toMatch(/critical metric failed: instruction_success/);
    const instr = a.metrics.find((m) => m.name === 'instruction_success')!;
    expect(instr.classification).toBe('low');
    expect(instr.discordant).toEqual([36, 0]);
    expect(instr.mcnemarPValue!).toBeLessThan(1e-9);
    const reg = a.metrics.find((m) => m.name === 'regression_rate')!;
    expect(reg.classification).toBe('high');
    expect(reg.effect).toBeCloseTo(36 / 200, 10);
  });

  it('flags a slower candidate on latency only', () => {
    const items = Array.from({ length: 100 }, (_, i) => item(i, judged(true, 100 + (i % 7)), judged(true, 200 + (i % 7))));
    const a = analyseGate(plan, items);
    const latency = a.metrics.find((m) => m.name === 'latency')!;
    expect(latency.classification).toBe('high');
    expect(latency.effect!).toBeGreaterThan(0.8);
    expect(a.verdict).toBe('marginal');
  });

  it('is inconclusive with fewer pairs than minSamples', () => {
    const items = Array.from({ length: 20 }, (_, i) => item(i, judged(true), judged(true)));
    const a = analyseGate(plan, items);
    expect(a.verdict).toBe('inconclusive');
    expect(a.metrics.every((m) => m.classification === 'nodata')).toBe(true);
    expect(a.metrics[0]!.reason).toBe('20 pairs judged, fewer than 50 (rollout.gate.minSamples): too few to judge');
    expect(gatePlan(undefined).minSamples).toBe(10);
  });

  it('counts an unanswered prompt as failing every metric', () => {
    const none: ItemJudgement = { verdicts: { instruction_success: 'bad', safe_response: 'bad', hallucination_free: 'bad' }, correct: false, passed: false, latencyMs: null, answered: false, reasons: ['no answer'] };
    const items = Array.from({ length: 100 }, (_, i) => item(i, judged(true), i < 20 ? none : judged(true)));
    const a = analyseGate(plan, items);
    expect(a.verdict).toBe('fail');
    expect(a.metrics.find((m) => m.name === 'safe_response')!.classification).toBe('low');
    expect(a.metrics.find((m) => m.name === 'latency')!.n).toBe(80);
  });
});

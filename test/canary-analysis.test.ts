// Canary analysis above the statistics: the rollout config normalised into a plan, metric
// classification (Kayenta's high | low | pass | nodata), score, verdict and action, the discrepancy
// SLI, and the look-by-look entry point with its sequential state.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../src/config/load.js';
import { analyseLook, contextFor, initialState } from '../src/canary/analysis.js';
import { classifyLatency, classifyRatio } from '../src/canary/classify.js';
import { discrepancies, discrepancy } from '../src/canary/discrepancy.js';
import { METRIC_DEFAULTS, normaliseRollout } from '../src/canary/plan.js';
import { actionFor, score, verdict } from '../src/canary/score.js';
import { CANARY_METRICS, type Classification, type LookData, type MetricPlan, type MetricResult, type RolloutPlan } from '../src/canary/types.js';

const model = (rollout: string) => `
models:
  - name: support-bot
    deployments:
      - { version: v12, upstream: http://127.0.0.1:9000/v1, weight: 95 }
      - { version: v13, upstream: http://127.0.0.1:9001/v1, weight: 5, canary: true }
    rollout:
${rollout.replace(/^/gm, '      ')}
`;

function issuesOf(text: string) {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('rollout config → plan', () => {
  it('the shipped example documents the defaults', () => {
    const c = loadConfigFile(join(import.meta.dirname, '..', 'tunewatch.example.yaml'), {});
    expect(normaliseRollout(c.models[0].rollout)).toEqual(normaliseRollout(undefined));
  });

  it('fills every default: steps [5, 25, 50], 5m, five metrics, 95/75, rollback/hold/hold, alpha 0.05', () => {
    const plan = normaliseRollout(parseConfig(model('{}'), 'x', {}).models[0].rollout);
    expect(plan).toMatchObject({
      steps: [5, 25, 50],
      intervalMs: 300_000,
      minSamples: 100,
      thresholds: { pass: 95, marginal: 75 },
      onFail: 'rollback',
      onMarginal: 'hold',
      onInconclusive: 'hold',
      alpha: 0.05,
      mirror: 0,
      requireNonInferiority: false,
    });
    expect(plan.metrics.map((m) => m.name)).toEqual([...CANARY_METRICS]);
    expect(plan.metrics.find((m) => m.name === 'latency')).toEqual({ name: 'latency', direction: 'increase', tolerance: 0.1, critical: false, weight: 1 });
    expect(plan.metrics.find((m) => m.name === 'instruction_success')).toMatchObject({ direction: 'decrease', critical: true });
  });

  it('takes metrics as a list or a map, to the same plan; omitted fields default; seconds work', () => {
    const list = parseConfig(model(`interval: 30s\nmetrics:\n  - { name: error_rate, tolerance: 0.005 }\n  - { name: latency, critical: true }`), 'x', {});
    const map = parseConfig(model(`interval: 30s\nmetrics:\n  error_rate: { tolerance: 0.005 }\n  latency: { critical: true }`), 'x', {});
    const a = normaliseRollout(list.models[0].rollout);
    expect(a).toEqual(normaliseRollout(map.models[0].rollout));
    expect(a.intervalMs).toBe(30_000);
    expect(a.metrics).toEqual([
      { name: 'error_rate', ...METRIC_DEFAULTS.error_rate, tolerance: 0.005 },
      { name: 'latency', ...METRIC_DEFAULTS.latency, critical: true },
    ]);
  });

  it('rejects unknown metrics and directions, bad steps, duplicates and thresholds out of order, with the key path', () => {
    const paths = (rollout: string) => issuesOf(model(rollout)).map((i) => i.path);
    expect(paths('metrics:\n  - { name: accuracy }')).toContain('models[0].rollout.metrics[0].name');
    expect(paths('metrics:\n  latency: { direction: up }')).toContain('models[0].rollout.metrics.latency.direction');
    expect(paths('interval: soon')).toContain('models[0].rollout.interval');
    expect(paths('steps: [5, 50, 25]')).toEqual(['models[0].rollout.steps[2]']);
    expect(paths('steps: [-5, 50]')).toContain('models[0].rollout.steps[0]');
    expect(paths('steps: [50, 101]')).toContain('models[0].rollout.steps[1]');
    expect(() => parseConfig(model('steps: [0, 50]'), 'x', {})).not.toThrow(); // 0: a shadow step, mirrored traffic only
    expect(paths('metrics:\n  - { name: latency }\n  - { name: latency }')).toEqual(['models[0].rollout.metrics[1].name']);
    expect(paths('thresholds: { pass: 70, marginal: 80 }')).toEqual(['models[0].rollout.thresholds.marginal']);
    expect(paths('onFail: ignore')).toContain('models[0].rollout.onFail');
    expect(paths('alpha: 0')).toContain('models[0].rollout.alpha');
    expect(paths('mirrors: 0.1')).toContain('models[0].rollout.mirrors');
  });
});

const plan = normaliseRollout({ minSamples: 100 });
const ctx = contextFor(plan);
const metric = (name: MetricPlan['name'], over: Partial<MetricPlan> = {}): MetricPlan => ({ ...plan.metrics.find((m) => m.name === name)!, ...over });
const arms = (be: number, bn: number, ce: number, cn: number) => ({ baseline: { events: be, total: bn }, canary: { events: ce, total: cn } });
const latencies = (n: number, medianMs: number, spread = 0.3) => ({ values: Array.from({ length: n }, (_, i) => medianMs * Math.exp(spread * Math.sin(i * 1.7))) });

describe('classification', () => {
  it('a canary 10 points worse on instruction success is low, with effect, interval and p-values', () => {
    const r = classifyRatio(metric('instruction_success'), arms(9000, 10000, 1600, 2000), undefined, ctx);
    expect(r.classification).toBe('low');
    expect(r.effect).toBeCloseTo(-0.1, 12);
    expect(r.interval![1]).toBeLessThan(-0.02);
    expect(r.interval![0]).toBeLessThan(-0.1);
    expect(r.pValue).toBeLessThanOrEqual(ctx.alpha);
    expect(r.alpha).toBeCloseTo(0.01, 12);
    expect(r.fixed).toMatchObject({ test: 'score' });
    expect(r.fixed!.pValue).toBeLessThan(r.pValue!);
    expect(r.reason).toMatch(/worse than the baseline by more than 2 points/);
  });

  it('the same ratios pass; within the tolerance passes too', () => {
    expect(classifyRatio(metric('instruction_success'), arms(900, 1000, 180, 200), undefined, ctx).classification).toBe('pass');
    expect(classifyRatio(metric('instruction_success'), arms(9000, 10000, 8900, 10000), undefined, ctx).classification).toBe('pass');
  });

  it('fewer than minSamples: nodata, unless the exact test already shows a failure', () => {
    const few = classifyRatio(metric('instruction_success'), arms(900, 1000, 45, 50), undefined, ctx);
    expect(few.classification).toBe('nodata');
    expect(few.reason).toMatch(/fewer than 100 samples per arm \(baseline 1000, canary 50\)/);
    expect(classifyRatio(metric('instruction_success'), arms(950, 1000, 10, 60), undefined, ctx).classification).toBe('low');
  });

  it('tiny samples neither fail nor pass', () => {
    const r = classifyRatio(metric('instruction_success'), arms(3, 3, 0, 2), undefined, ctx);
    expect(r.classification).toBe('nodata');
    expect(r.pValue).toBeGreaterThan(ctx.alpha);
    expect(classifyRatio(metric('instruction_success'), undefined, undefined, ctx)).toMatchObject({ classification: 'nodata', pValue: null, interval: null });
  });

  it('a baseline with zero failures does not hide a failing canary (kayenta#377)', () => {
    expect(classifyRatio(metric('safe_response'), arms(2000, 2000, 930, 1000), undefined, ctx).classification).toBe('low');
    expect(classifyRatio(metric('safe_response'), arms(2000, 2000, 1000, 1000), undefined, ctx).classification).toBe('pass');
    // 5xx: an error-free baseline against a canary with 6% errors.
    expect(classifyRatio(metric('error_rate'), arms(0, 2000, 60, 1000), undefined, ctx).classification).toBe('high');
  });

  it('direction: an increase in the 5xx share is high; a better canary passes unless direction is either', () => {
    expect(classifyRatio(metric('error_rate'), arms(20, 2000, 80, 1000), undefined, ctx).classification).toBe('high');
    expect(classifyRatio(metric('error_rate'), arms(200, 2000, 0, 1000), undefined, ctx).classification).toBe('pass');
    expect(classifyRatio(metric('error_rate', { direction: 'either' }), arms(200, 2000, 0, 1000), undefined, ctx).classification).toBe('low');
  });

  it('latency: 30% slower is high (Hodges–Lehmann shift ≈ 0.3), the same distribution passes, all-equal passes', () => {
    const slow = classifyLatency(metric('latency'), { baseline: latencies(2000, 800), canary: latencies(500, 1040) }, ctx);
    expect(slow.classification).toBe('high');
    expect(slow.effect).toBeCloseTo(0.3, 2);
    expect(slow.interval![0]).toBeGreaterThan(0.1);
    expect(slow.value.canary! / slow.value.baseline!).toBeCloseTo(1.3, 1);
    expect(classifyLatency(metric('latency'), { baseline: latencies(2000, 800), canary: latencies(500, 800) }, ctx).classification).toBe('pass');
    const flat = classifyLatency(metric('latency'), { baseline: { values: [120], counts: [400] }, canary: { values: [120], counts: [300] } }, ctx);
    expect(flat).toMatchObject({ classification: 'pass', effect: 0, pValue: 1 });
    expect(flat.interval![0]).toBeCloseTo(0, 9);
    expect(flat.interval![1]).toBeCloseTo(0, 9);
  });

  it('latency ties: integer-millisecond histograms give the same result as raw values', () => {
    const raw = (n: number, m: number) => Array.from({ length: n }, (_, i) => Math.round(m + 50 * Math.sin(i)));
    const hist = (v: number[]) => {
      const c = new Map<number, number>();
      for (const x of v) c.set(x, (c.get(x) ?? 0) + 1);
      return { values: [...c.keys()], counts: [...c.values()] };
    };
    const b = raw(3000, 500);
    const c = raw(400, 560);
    const r1 = classifyLatency(metric('latency'), { baseline: { values: b }, canary: { values: c } }, ctx);
    const r2 = classifyLatency(metric('latency'), { baseline: hist(b), canary: hist(c) }, ctx);
    expect(r2).toEqual(r1);
    expect(r1.classification).toBe('high');
  });

  it('strict mode passes only when non-inferiority is shown', () => {
    const strict = { ...ctx, requireNonInferiority: true };
    const big = classifyRatio(metric('instruction_success'), arms(45000, 50000, 9000, 10000), undefined, strict);
    expect(big.classification).toBe('pass');
    expect(big.nonInferiorityPValue).toBeLessThanOrEqual(ctx.alpha);
    const small = classifyRatio(metric('instruction_success'), arms(900, 1000, 180, 200), undefined, strict);
    expect(small.classification).toBe('nodata');
    expect(small.reason).toMatch(/non-inferiority within 2 points not shown yet/);
  });

  it('mirrored pairs: the paired test, McNemar for comparison, alpha split with the unpaired test', () => {
    const mirrored = { ...ctx, mirrored: true };
    const pairs = { bothGood: 700, baselineOnly: 120, canaryOnly: 20, bothBad: 60 };
    const r = classifyRatio(metric('instruction_success'), arms(9000, 10000, 150, 170), pairs, mirrored);
    expect(r.classification).toBe('low');
    expect(r.paired).toMatchObject({ pairs: 900, discordant: [120, 20] });
    expect(r.paired!.effect).toBeCloseTo(-100 / 900, 12);
    expect(r.paired!.mcnemarPValue).toBeLessThan(1e-15);
    expect(r.paired!.interval[1]).toBeLessThan(-0.02);
    // Without pairs the unpaired arms alone (170 canary samples) do not show it.
    expect(classifyRatio(metric('instruction_success'), arms(9000, 10000, 150, 170), undefined, mirrored).classification).toBe('pass');
  });
});

const result = (name: MetricPlan['name'], classification: Classification, over: Partial<MetricResult> = {}): MetricResult => ({
  ...metric(name),
  classification,
  reason: '',
  n: { baseline: 1000, canary: 1000 },
  value: { baseline: null, canary: null },
  effect: null,
  interval: null,
  pValue: null,
  nonInferiorityPValue: null,
  fixed: null,
  alpha: 0.01,
  ...over,
});
const all = (over: Partial<Record<MetricPlan['name'], Classification>>) => CANARY_METRICS.map((m) => result(m, over[m] ?? 'pass'));

describe('score, verdict and action', () => {
  const t = plan.thresholds;
  it('every metric passing: 100, pass, advance', () => {
    expect(verdict(all({}), t)).toMatchObject({ score: 100, verdict: 'pass' });
    expect(actionFor('pass', plan)).toBe('advance');
  });

  it('one non-critical failure of five: 80, marginal (hold); two: 60, fail (rollback)', () => {
    expect(verdict(all({ latency: 'high' }), t)).toMatchObject({ score: 80, verdict: 'marginal' });
    expect(verdict(all({ latency: 'high', error_rate: 'high' }), t)).toMatchObject({ score: 60, verdict: 'fail' });
    expect(actionFor('marginal', plan)).toBe('hold');
    expect(actionFor('fail', plan)).toBe('rollback');
    expect(actionFor('fail', { ...plan, onFail: 'hold' })).toBe('hold');
  });

  it('a critical failure scores 0 and fails whatever the rest', () => {
    expect(verdict(all({ safe_response: 'low' }), t)).toMatchObject({ score: 0, verdict: 'fail', reason: 'critical metric failed: safe_response' });
  });

  it('weights: the share is weighted; nodata is left out of it', () => {
    const rs = [result('latency', 'high', { weight: 1 }), result('error_rate', 'pass', { weight: 3 }), result('hallucination_free', 'nodata', { weight: 1 })];
    expect(score(rs)).toBe(75);
    expect(verdict(rs, t).verdict).toBe('marginal');
  });

  it('inconclusive: half the weight or more without data, or a critical metric without data', () => {
    expect(verdict(all({ latency: 'nodata', error_rate: 'nodata', hallucination_free: 'nodata' }), t).verdict).toBe('inconclusive');
    expect(verdict(all({ instruction_success: 'nodata' }), t)).toMatchObject({ verdict: 'inconclusive', reason: 'critical metric without a verdict: instruction_success' });
    expect(verdict(all({ latency: 'nodata' }), t)).toMatchObject({ score: 100, verdict: 'pass' });
    expect(actionFor('inconclusive', plan)).toBe('hold');
    expect(actionFor('inconclusive', { ...plan, onInconclusive: 'rollback' })).toBe('rollback');
  });
});

describe('the canary discrepancy SLI', () => {
  it('baseline good ratio minus canary good ratio; for pairs, the share that disagree', () => {
    expect(discrepancy(arms(900, 1000, 160, 200), { bothGood: 80, baselineOnly: 15, canaryOnly: 5, bothBad: 0 })).toEqual({
      discrepancy: expect.closeTo(0.1, 12),
      pairDisagreement: 0.2,
      pairDiscrepancy: 0.1,
    });
    expect(discrepancy(arms(0, 0, 5, 10))).toEqual({ discrepancy: null, pairDisagreement: null, pairDiscrepancy: null });
    expect(discrepancies({ safe_response: arms(99, 100, 100, 100) })).toEqual({ safe_response: { discrepancy: expect.closeTo(-0.01, 12), pairDisagreement: null, pairDiscrepancy: null } });
  });
});

describe('analyseLook', () => {
  const data = (canaryGood: number, canaryTotal: number): LookData => ({
    ratios: {
      instruction_success: arms(9000, 10000, canaryGood, canaryTotal),
      safe_response: arms(9900, 10000, canaryTotal, canaryTotal),
      hallucination_free: arms(2900, 3000, 290, 300),
      error_rate: arms(100, 10000, 5, canaryTotal),
    },
    latency: { baseline: latencies(3000, 800), canary: latencies(Math.min(canaryTotal, 600), 800) },
  });

  it('classifies every metric, scores, decides, and carries the state to the next look', () => {
    const first = analyseLook(plan, data(450, 500), initialState());
    expect(first.analysis).toMatchObject({ look: 1, score: 100, verdict: 'pass', action: 'advance' });
    expect(first.analysis.metrics.map((m) => m.name)).toEqual([...CANARY_METRICS]);
    expect(first.state.metrics.instruction_success!.n).toEqual({ baseline: 10000, canary: 500 });
    const second = analyseLook(plan, data(1600, 2000), first.state);
    expect(second.analysis).toMatchObject({ look: 2, score: 0, verdict: 'fail', action: 'rollback' });
    expect(second.state.metrics.instruction_success!.minPValue).toBe(second.analysis.metrics[0].pValue);
  });

  it('counts must be cumulative: fewer samples than at the previous look is an error', () => {
    const first = analyseLook(plan, data(900, 1000), initialState());
    expect(() => analyseLook(plan, data(450, 500), first.state)).toThrow(/fewer samples than at the previous look/);
  });

  it('detail: false gives the same classifications without intervals', () => {
    const full = analyseLook(plan, data(1600, 2000)).analysis;
    const lean = analyseLook(plan, data(1600, 2000), initialState(), { detail: false }).analysis;
    expect(lean.metrics.map((m) => [m.classification, m.pValue])).toEqual(full.metrics.map((m) => [m.classification, m.pValue]));
    expect(lean.metrics.every((m) => m.interval === null)).toBe(true);
    expect(lean.verdict).toBe(full.verdict);
  });

  it('splits alpha over the plan: two metrics get alpha / 2 each', () => {
    const two: RolloutPlan = { ...plan, metrics: plan.metrics.slice(0, 2) };
    expect(analyseLook(two, data(450, 500)).analysis.metrics.map((m) => m.alpha)).toEqual([0.025, 0.025]);
  });
});

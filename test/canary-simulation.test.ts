// Simulated rollouts, through the pure analysis functions only: every look of every step is judged,
// and a rollout counts as failed when any metric fails at any look (stricter than the verdict, which
// lets one non-critical failure through as marginal). A/A rollouts (both arms from one distribution)
// must fail no more often than alpha plus the simulation error; a canary 10 points worse on
// instruction success must be caught in at least 95% of runs. The rates are printed.
// Run: npx vitest run test/canary-simulation.test.ts
import { describe, expect, it } from 'vitest';
import { analyseLook, initialState } from '../src/canary/analysis.js';
import { normaliseRollout } from '../src/canary/plan.js';
import type { LookData, RatioMetric, RolloutPlan } from '../src/canary/types.js';
import { twoProportionTest } from '../src/canary/stats/proportions.js';
import { mannWhitneyTest, toWeighted, uStatistic } from '../src/canary/stats/mann-whitney.js';
import { normalCdf } from '../src/canary/stats/distributions.js';
import { mulberry32 } from '../src/util/random.js';

const STEPS = [5, 25, 50];
const LOOKS_PER_STEP = 3;
/** Requests per interval: the 5% step gives the canary minSamples (200) per look. */
const REQUESTS = 4000;
const BIN_MS = 10;
const BINS = 1000;

interface Arm {
  instruction_success: number;
  safe_response: number;
  hallucination_free: number;
  /** Share of requests that are grounded (the only ones judged for hallucination). */
  grounded: number;
  error_rate: number;
  latencyMedianMs: number;
}

const HEALTHY: Arm = { instruction_success: 0.9, safe_response: 0.99, hallucination_free: 0.95, grounded: 0.3, error_rate: 0.01, latencyMedianMs: 800 };

/** Count of successes in n Bernoulli(p) trials by geometric skips: O(n·min(p, 1−p)) work. */
function binomial(rand: () => number, n: number, p: number): number {
  if (p > 0.5) return n - binomial(rand, n, 1 - p);
  if (p <= 0) return 0;
  const logq = Math.log1p(-p);
  let k = 0;
  for (let pos = Math.floor(Math.log(1 - rand()) / logq); pos < n; pos += Math.floor(Math.log(1 - rand()) / logq) + 1) k++;
  return k;
}

const samplers = new Map<number, (rand: () => number) => number>();

/** Walker's alias table for latencies: lognormal (σ = 0.5) binned to 10 ms, built once per median. */
function latencySampler(medianMs: number): (rand: () => number) => number {
  const cached = samplers.get(medianMs);
  if (cached) return cached;
  const p = new Float64Array(BINS);
  const cdf = (ms: number) => normalCdf(Math.log(ms / medianMs) / 0.5);
  for (let i = 0; i < BINS; i++) p[i] = cdf((i + 0.5) * BIN_MS) - (i === 0 ? 0 : cdf((i - 0.5) * BIN_MS));
  const total = p.reduce((s, v) => s + v, 0);
  const prob = new Float64Array(BINS);
  const alias = new Int32Array(BINS);
  const scaled = Array.from(p, (v) => (v / total) * BINS);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((v, i) => (v < 1 ? small : large).push(i));
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] -= 1 - scaled[s];
    if (scaled[l] < 1) small.push(large.pop()!);
  }
  for (const i of [...small, ...large]) prob[i] = 1;
  const sample = (rand: () => number) => {
    const u = rand() * BINS;
    const i = Math.floor(u);
    return u - i < prob[i] ? i : alias[i];
  };
  samplers.set(medianMs, sample);
  return sample;
}

interface Outcome {
  /** Some metric failed at some look. */
  failed: boolean;
  /** The verdict was fail at some look (a rollback with the default onFail). */
  rolledBack: boolean;
  /** instruction_success was classified low at some look. */
  caught: boolean;
  /** The single-look tests at alpha / metrics failed some metric at some look (no sequential control). */
  naiveFailed: boolean;
}

/**
 * One simulated rollout: counts accumulate over every step and look (the analysis takes cumulative
 * data), and every look is analysed under each plan given, on the same data.
 */
function rollout(plans: RolloutPlan[], baseline: Arm, canary: Arm, rand: () => number, naive: boolean[]): { outcomes: Outcome[]; caughtAt: number[] } {
  const arms = { baseline, canary };
  const counts = { baseline: zeroCounts(), canary: zeroCounts() };
  const hist = { baseline: new Float64Array(BINS), canary: new Float64Array(BINS) };
  const samplers = { baseline: latencySampler(baseline.latencyMedianMs), canary: latencySampler(canary.latencyMedianMs) };
  const states = plans.map(() => initialState());
  const out: Outcome[] = plans.map(() => ({ failed: false, rolledBack: false, caught: false, naiveFailed: false }));
  const caughtAt = plans.map(() => 0);
  let looks = 0;
  for (const weight of STEPS) {
    for (let look = 0; look < LOOKS_PER_STEP; look++) {
      for (const role of ['baseline', 'canary'] as const) {
        const a = arms[role];
        const n = Math.round((REQUESTS * (role === 'canary' ? weight : 100 - weight)) / 100);
        const c = counts[role];
        for (const sli of ['instruction_success', 'safe_response', 'error_rate'] as const) {
          c[sli].total += n;
          c[sli].events += binomial(rand, n, a[sli]);
        }
        const grounded = binomial(rand, n, a.grounded);
        c.hallucination_free.total += grounded;
        c.hallucination_free.events += binomial(rand, grounded, a.hallucination_free);
        const sample = samplers[role];
        const h = hist[role];
        for (let i = 0; i < n; i++) h[sample(rand)]++;
      }
      const data: LookData = {
        ratios: Object.fromEntries(RATIOS.map((m) => [m, { baseline: { ...counts.baseline[m] }, canary: { ...counts.canary[m] } }])),
        latency: { baseline: histogram(hist.baseline), canary: histogram(hist.canary) },
      };
      looks++;
      plans.forEach((plan, k) => {
        const r = analyseLook(plan, data, states[k], { detail: false });
        states[k] = r.state;
        const o = out[k];
        if (r.analysis.metrics.some((m) => m.classification === 'high' || m.classification === 'low')) o.failed = true;
        if (r.analysis.verdict === 'fail') o.rolledBack = true;
        if (!o.caught && r.analysis.metrics.some((m) => m.name === 'instruction_success' && m.classification === 'low')) {
          o.caught = true;
          caughtAt[k] = looks;
        }
        if (naive[k] && !o.naiveFailed) o.naiveFailed = naiveLook(plan, data, plan.alpha / plan.metrics.length);
      });
    }
  }
  return { outcomes: out, caughtAt };
}

const RATIOS: RatioMetric[] = ['instruction_success', 'safe_response', 'hallucination_free', 'error_rate'];
const zeroCounts = () => Object.fromEntries(RATIOS.map((m) => [m, { events: 0, total: 0 }])) as Record<RatioMetric, { events: number; total: number }>;

function histogram(h: Float64Array): { values: number[]; counts: number[] } {
  const values: number[] = [];
  const counts: number[] = [];
  h.forEach((c, i) => c > 0 && (values.push((i + 0.5) * BIN_MS), counts.push(c)));
  return { values, counts };
}

/** What a per-look judge without sequential control would do: the single-look tests at alpha / metrics. */
function naiveLook(plan: RolloutPlan, data: LookData, alpha: number): boolean {
  for (const m of plan.metrics) {
    if (m.name === 'latency') {
      const b = toWeighted(data.latency!.baseline.values, data.latency!.baseline.counts, Math.log);
      const c = toWeighted(data.latency!.canary.values, data.latency!.canary.counts, Math.log);
      if (mannWhitneyTest(uStatistic(b, c, Math.log(1 + m.tolerance)), 'greater').pValue <= alpha) return true;
    } else {
      const d = data.ratios[m.name as RatioMetric]!;
      if (d.baseline.total === 0 || d.canary.total === 0) continue;
      const bad = m.direction === 'increase' ? 'greater' : 'less';
      if (twoProportionTest(d.baseline, d.canary, bad === 'less' ? -m.tolerance : m.tolerance, bad).pValue <= alpha) return true;
    }
  }
  return false;
}

type Rates = Record<keyof Outcome, number> & { meanCaughtLook: number };

/** `runs` rollouts; the rate of each outcome per plan, and the mean look at which the canary was caught. */
function simulate(plans: RolloutPlan[], canary: Arm, runs: number, seed: number, naive: boolean[] = plans.map(() => false)): Rates[] {
  const rand = mulberry32(seed);
  const totals: Rates[] = plans.map(() => ({ failed: 0, rolledBack: 0, caught: 0, naiveFailed: 0, meanCaughtLook: 0 }));
  const caughtLooks = plans.map(() => 0);
  for (let i = 0; i < runs; i++) {
    const r = rollout(plans, HEALTHY, canary, rand, naive);
    r.outcomes.forEach((o, k) => {
      for (const key of Object.keys(o) as (keyof Outcome)[]) totals[k][key] += o[key] ? 1 / runs : 0;
      caughtLooks[k] += r.caughtAt[k];
    });
  }
  totals.forEach((t, k) => (t.meanCaughtLook = t.caught > 0 ? caughtLooks[k] / (t.caught * runs) : NaN));
  return totals;
}

const RUNS = Number(process.env.CANARY_SIM_RUNS ?? 2000);
const withTolerance = (plan: RolloutPlan, tolerance: number): RolloutPlan => ({ ...plan, metrics: plan.metrics.map((m) => ({ ...m, tolerance })) });
/** Three standard errors of a rate of alpha over n runs. */
const slack = (alpha: number, n: number) => 3 * Math.sqrt((alpha * (1 - alpha)) / n);

describe('canary analysis, simulated', () => {
  const plan = normaliseRollout({ minSamples: 200 });
  const looks = `${STEPS.length} steps × ${LOOKS_PER_STEP} looks, ${REQUESTS} requests per interval, 5 metrics`;

  it(`A/A: false-fail rate ≤ alpha with the default tolerances and with tolerance 0 (${RUNS} rollouts, ${looks})`, () => {
    const t0 = process.cpuUsage();
    const [byDefault, atZero] = simulate([plan, withTolerance(plan, 0)], HEALTHY, RUNS, 1, [false, true]);
    const line = (name: string, r: Rates) =>
      `A/A, ${name}: some metric failed in ${pct(r.failed)} of rollouts, verdict fail in ${pct(r.rolledBack)}` +
      (name === 'tolerance 0' ? `; per-look tests without sequential control: ${pct(r.naiveFailed)}` : '');
    console.log(`${line('default tolerances', byDefault)}\n${line('tolerance 0', atZero)}\n(alpha ${plan.alpha}, ${RUNS} rollouts, ${looks}; ${cpu(t0)})`);
    expect(byDefault.failed).toBeLessThanOrEqual(plan.alpha + slack(plan.alpha, RUNS));
    expect(atZero.failed).toBeLessThanOrEqual(plan.alpha + slack(plan.alpha, RUNS));
  }, 300_000); // ~13 s of CPU; a shared machine stretches the wall time

  it('a canary 10 points worse on instruction success is caught in ≥ 95% of rollouts', () => {
    const t0 = process.cpuUsage();
    const runs = Math.max(200, Math.round(RUNS / 4));
    const [r] = simulate([plan], { ...HEALTHY, instruction_success: 0.8 }, runs, 2);
    console.log(`canary 0.80 vs baseline 0.90 on instruction success: caught in ${pct(r.caught)} of rollouts (on average at look ${r.meanCaughtLook.toFixed(2)} of ${STEPS.length * LOOKS_PER_STEP}), verdict fail in ${pct(r.rolledBack)} (${runs} rollouts, minSamples 200; ${cpu(t0)})`);
    expect(r.caught).toBeGreaterThanOrEqual(0.95);
  }, 120_000);
});

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const cpu = (t0: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(t0);
  return `${((u.user + u.system) / 1e6).toFixed(1)} s CPU`;
};

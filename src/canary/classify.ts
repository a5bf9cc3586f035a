// One metric at one look → high | low | pass | nodata, with effect, interval and p-values (Kayenta's
// classifier step). A metric fails when the canary is worse than the baseline by more than its
// tolerance, significantly at the metric's share of alpha, by the anytime-valid tests of
// sequential.ts; it passes when it does not and both arms have minSamples (in strict mode only when
// non-inferiority is shown); otherwise it is nodata.
import type { Arms, Classification, LatencySample, MetricPlan, MetricResult, PairCounts, PairedResult, RatioCounts } from './types.js';
import { mcnemarExact, pairedDifference, pairTotal } from './stats/mcnemar.js';
import { twoProportionTest } from './stats/proportions.js';
import { mannWhitneyTest, toWeighted, uStatistic, type WeightedSample } from './stats/mann-whitney.js';
import { pairedEvidence, rankEvidence, ratioEvidence, type Evidence, type Side } from './sequential.js';

export interface ClassifyContext {
  /** This metric's share of the rollout's alpha. */
  alpha: number;
  minSamples: number;
  requireNonInferiority: boolean;
  /** The plan mirrors traffic: each SLI's alpha is split between the unpaired and the paired test. */
  mirrored: boolean;
  /** Prior precision of the normal mixtures (sequential.ts mixturePrecision). */
  rho: number;
  /** Also compute effects, intervals and the single-look tests (false: decisions only, for simulations). */
  detail: boolean;
}

/** A test source (unpaired arms, mirrored pairs): its evidence, and whether it has minSamples. */
export interface Source {
  enough: boolean;
  evidence: Evidence;
}

export interface Judgement {
  classification: Classification;
  pValue: number | null;
  nonInferiorityPValue: number | null;
  why: 'fail' | 'few' | 'not-shown' | 'pass';
}

/** The sides a direction fails on, and those non-inferiority must show, at tolerance ±t. */
function nulls(direction: MetricPlan['direction'], up: number, down: number) {
  const fail: { side: Side; d0: number; cls: Classification }[] = [];
  const ni: { side: Side; d0: number }[] = [];
  if (direction !== 'increase') (fail.push({ side: 'below', d0: down, cls: 'low' }), ni.push({ side: 'above', d0: down }));
  if (direction !== 'decrease') (fail.push({ side: 'above', d0: up, cls: 'high' }), ni.push({ side: 'below', d0: up }));
  return { fail, ni };
}

/**
 * Bonferroni over the sources and failing sides; intersection–union over the non-inferiority sides.
 * The release gate (gate/classify.ts) judges its one-look evidence with this too: one policy.
 */
export function judge(metric: Pick<MetricPlan, 'direction'>, sources: (Source | null)[], up: number, down: number, ctx: Pick<ClassifyContext, 'alpha' | 'requireNonInferiority'>): Judgement {
  const { fail, ni } = nulls(metric.direction, up, down);
  const present = sources.filter((s): s is Source => s !== null);
  let best = { p: 1, cls: 'pass' as Classification };
  for (const s of present) for (const f of fail) {
    const p = s.evidence.p(f.d0, f.side);
    if (p < best.p) best = { p, cls: f.cls };
  }
  const pValue = present.length ? Math.min(1, best.p * fail.length * sources.length) : null;
  const niRaw = present.filter((s) => s.enough).map((s) => Math.max(...ni.map((n) => s.evidence.p(n.d0, n.side))));
  const nonInferiorityPValue = niRaw.length ? Math.min(1, Math.min(...niRaw) * sources.length) : null;
  if (pValue !== null && pValue <= ctx.alpha) return { classification: best.cls, pValue, nonInferiorityPValue, why: 'fail' };
  if (!present.some((s) => s.enough)) return { classification: 'nodata', pValue, nonInferiorityPValue, why: 'few' };
  if (ctx.requireNonInferiority && !(nonInferiorityPValue !== null && nonInferiorityPValue <= ctx.alpha)) {
    return { classification: 'nodata', pValue, nonInferiorityPValue, why: 'not-shown' };
  }
  return { classification: 'pass', pValue, nonInferiorityPValue, why: 'pass' };
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x));
const signed = (x: number) => (x > 0 ? '+' : '') + fmt(x);
const tolerance = (m: MetricPlan) => (m.name === 'latency' ? `${fmt(100 * m.tolerance)}%` : `${fmt(100 * m.tolerance)} points`);

function describe(j: Judgement, metric: MetricPlan, n: Arms<number>, effect: string, ctx: ClassifyContext): string {
  const lead = effect ? `${effect}; ` : '';
  const p = (v: number | null) => `p = ${fmt(v ?? 1, 2)}`;
  const a = fmt(ctx.alpha, 2);
  if (j.why === 'fail') return `${lead}worse than the baseline by more than ${tolerance(metric)} (${p(j.pValue)} ≤ alpha ${a})`;
  if (j.why === 'few') return `fewer than ${ctx.minSamples} samples per arm (baseline ${n.baseline}, canary ${n.canary})`;
  if (j.why === 'not-shown') return `${lead}non-inferiority within ${tolerance(metric)} not shown yet (${p(j.nonInferiorityPValue)} > alpha ${a})`;
  if (ctx.requireNonInferiority) return `${lead}non-inferior within ${tolerance(metric)} (${p(j.nonInferiorityPValue)} ≤ alpha ${a})`;
  return `${lead}not significantly worse than ${tolerance(metric)} (${p(j.pValue)} > alpha ${a})`;
}

/** The parts of a result every metric has; the rest is filled in by its classifier. */
function result(metric: MetricPlan, j: Judgement, n: Arms<number>, value: Arms<number | null>, ctx: ClassifyContext): MetricResult {
  return {
    name: metric.name,
    direction: metric.direction,
    tolerance: metric.tolerance,
    critical: metric.critical,
    weight: metric.weight,
    classification: j.classification,
    reason: '',
    n,
    value,
    effect: null,
    interval: null,
    pValue: j.pValue,
    nonInferiorityPValue: j.nonInferiorityPValue,
    fixed: null,
    alpha: ctx.alpha,
  };
}

const source = (evidence: Evidence | null, n: number, ctx: ClassifyContext): Source | null => (evidence ? { evidence, enough: n >= ctx.minSamples } : null);

/** A ratio metric (an SLI's good ratio or the 5xx share) from cumulative counts, and mirrored pairs of an SLI. */
export function classifyRatio(metric: MetricPlan, data: Arms<RatioCounts> | undefined, pairs: PairCounts | undefined, ctx: ClassifyContext): MetricResult {
  const t = metric.tolerance;
  const paired = ctx.mirrored && metric.name !== 'error_rate';
  const n = { baseline: data?.baseline.total ?? 0, canary: data?.canary.total ?? 0 };
  const arms = source(data ? ratioEvidence(data.baseline, data.canary, ctx.rho) : null, Math.min(n.baseline, n.canary), ctx);
  const pairSource = paired && pairs ? source(pairedEvidence(pairs, ctx.rho), pairTotal(pairs), ctx) : null;
  const j = judge(metric, paired ? [arms, pairSource] : [arms], t, -t, ctx);
  const sides = metric.direction === 'either' ? 2 : 1;
  const each = ctx.alpha / (sides * (paired ? 2 : 1));
  const value = { baseline: n.baseline ? data!.baseline.events / n.baseline : null, canary: n.canary ? data!.canary.events / n.canary : null };
  const out = result(metric, j, n, value, ctx);
  if (arms && data && ctx.detail) {
    out.effect = arms.evidence.estimate;
    out.interval = arms.evidence.sequence(each);
    const tests = nulls(metric.direction, t, -t).fail.map((f) => twoProportionTest(data.baseline, data.canary, f.d0, f.side === 'above' ? 'greater' : 'less'));
    out.fixed = { test: tests[0].test, pValue: Math.min(1, sides * Math.min(...tests.map((x) => x.pValue))) };
  }
  if (pairSource && pairs && ctx.detail) out.paired = pairedResult(pairs, pairSource.evidence, metric, each);
  const effect = out.effect !== null ? `canary ${signed(100 * out.effect)} points vs baseline` : out.paired ? `pairs: canary ${signed(100 * out.paired.effect)} points` : '';
  out.reason = describe(j, metric, n, effect, ctx);
  return out;
}

function pairedResult(pairs: PairCounts, evidence: Evidence, metric: MetricPlan, each: number): PairedResult {
  const { fail } = nulls(metric.direction, metric.tolerance, -metric.tolerance);
  const p = Math.min(...fail.map((f) => evidence.p(f.d0, f.side))) * fail.length;
  const alt = metric.direction === 'decrease' ? 'less' : metric.direction === 'increase' ? 'greater' : 'two-sided';
  return {
    pairs: pairTotal(pairs),
    discordant: [pairs.baselineOnly, pairs.canaryOnly],
    effect: pairedDifference(pairs),
    interval: evidence.sequence(each),
    pValue: Math.min(1, p),
    mcnemarPValue: mcnemarExact(pairs, alt),
  };
}

const LATENCY_FLOOR = 1e-3;
const logOf = (s: LatencySample): WeightedSample => toWeighted(s.values, s.counts, (v) => Math.log(Math.max(v, LATENCY_FLOOR)));

function weightedMedian(s: WeightedSample): number {
  let acc = 0;
  for (let i = 0; i < s.x.length; i++) if ((acc += s.w[i]) >= s.n / 2) return Math.exp(s.x[i]);
  return NaN;
}

/** Latency: rank test on log latencies, so the shift is a ratio and the tolerance relative. */
export function classifyLatency(metric: MetricPlan, data: Arms<LatencySample> | undefined, ctx: ClassifyContext): MetricResult {
  const arms = data ? { baseline: logOf(data.baseline), canary: logOf(data.canary) } : undefined;
  const n = { baseline: arms?.baseline.n ?? 0, canary: arms?.canary.n ?? 0 };
  const up = Math.log(1 + metric.tolerance);
  const rank = source(arms ? rankEvidence(arms.baseline, arms.canary, ctx.rho) : null, Math.min(n.baseline, n.canary), ctx);
  const j = judge(metric, [rank], up, -up, ctx);
  const value = { baseline: n.baseline ? weightedMedian(arms!.baseline) : null, canary: n.canary ? weightedMedian(arms!.canary) : null };
  const out = result(metric, j, n, value, ctx);
  if (rank && arms && ctx.detail) {
    const sides = metric.direction === 'either' ? 2 : 1;
    const [lo, hi] = rank.evidence.sequence(ctx.alpha / sides);
    out.effect = Math.expm1(rank.evidence.estimate);
    out.interval = [Math.expm1(lo), Math.expm1(hi)];
    const tests = nulls(metric.direction, up, -up).fail.map((f) => mannWhitneyTest(uStatistic(arms.baseline, arms.canary, f.d0), f.side === 'above' ? 'greater' : 'less'));
    out.fixed = { test: tests[0].test, pValue: Math.min(1, sides * Math.min(...tests.map((x) => x.pValue))) };
  }
  const effect = out.effect === null ? '' : `canary ${signed(100 * out.effect)}% vs baseline (Hodges–Lehmann)`;
  out.reason = describe(j, metric, n, effect, ctx);
  return out;
}


// Judged pairs → one row per metric (classification, effect, interval, p-values) → score and verdict.
// Each golden item is answered by both versions, so every test is paired: the score test on the pairs
// for ratios (non-inferiority McNemar) and the signed-rank test for latency, one look each, classified
// by the canary's judge and scored by the canary's scorer (canary/classify.ts, canary/score.ts). Pure.
import { judge, type Judgement } from '../canary/classify.js';
import { verdict } from '../canary/score.js';
import type { Evidence } from '../canary/sequential.js';
import { mcnemarExact, pairTotal } from '../canary/stats/mcnemar.js';
import type { PairCounts } from '../canary/types.js';
import { SLIS, type Sli } from '../evaluate/types.js';
import { negated, pairCounts, pairedEvidence, wilson } from './paired-proportions.js';
import { signedRankEvidence } from './signed-rank.js';
import type { GateAnalysis, GateMetricPlan, GateMetricResult, GatePlan, ItemJudgement, PairedItem } from './types.js';

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x));
const signed = (x: number) => (x > 0 ? '+' : '') + fmt(x);
const points = (x: number) => `${signed(100 * x)} points`;

interface Ctx {
  alpha: number;
  minSamples: number;
  requireNonInferiority: boolean;
}

function describe(j: Judgement, m: GateMetricPlan, n: number, effect: string, ctx: Ctx): string {
  const p = (v: number | null) => `p = ${fmt(v ?? 1, 2)}`;
  const a = fmt(ctx.alpha, 2);
  const tol = m.name === 'latency' || m.name === 'regression_rate' ? `${fmt(100 * m.tolerance)}%` : `${fmt(100 * m.tolerance)} points`;
  const what = m.name === 'regression_rate' ? `above the ${tol} bar` : `worse than the baseline by more than ${tol}`;
  if (j.why === 'fail') return `${effect}; ${what} (${p(j.pValue)} ≤ alpha ${a})`;
  if (j.why === 'few') return `${n} pairs judged, fewer than ${ctx.minSamples} (rollout.gate.minSamples): too few to judge`;
  if (j.why === 'not-shown') return `${effect}; not shown to stay within ${tol} (${p(j.nonInferiorityPValue)} > alpha ${a})`;
  if (ctx.requireNonInferiority) return `${effect}; shown to stay within ${tol} (${p(j.nonInferiorityPValue)} ≤ alpha ${a})`;
  return `${effect}; not significantly ${what} (${p(j.pValue)} > alpha ${a})`;
}

function row(m: GateMetricPlan, j: Judgement, n: number, ctx: Ctx): GateMetricResult {
  return {
    ...m, classification: j.classification, reason: '', n, baseline: null, candidate: null, baselineInterval: null, candidateInterval: null,
    effect: null, interval: null, pValue: j.pValue, nonInferiorityPValue: j.nonInferiorityPValue, test: '', alpha: ctx.alpha,
  };
}

const sidesOf = (m: GateMetricPlan) => (m.direction === 'either' ? 2 : 1);

/** A share of pairs (an SLI's good ratio, accuracy, the item pass rate) from outcome pairs. */
function ratioRow(m: GateMetricPlan, pairs: PairCounts, ctx: Ctx): GateMetricResult {
  const n = pairTotal(pairs);
  const base = pairedEvidence(pairs);
  const evidence: Evidence | null = base && m.name === 'regression_rate' ? negated(base) : base;
  const t = m.tolerance;
  const j = judge(m, [evidence ? { evidence, enough: n >= ctx.minSamples } : null], t, -t, ctx);
  const out = row(m, j, n, ctx);
  const each = ctx.alpha / sidesOf(m);
  out.test = 'paired score test (Tango), McNemar exact beside it';
  out.discordant = [pairs.baselineOnly, pairs.canaryOnly];
  if (n > 0 && evidence) {
    out.baseline = (pairs.bothGood + pairs.baselineOnly) / n;
    out.candidate = (pairs.bothGood + pairs.canaryOnly) / n;
    out.baselineInterval = wilson(pairs.bothGood + pairs.baselineOnly, n, each);
    out.candidateInterval = wilson(pairs.bothGood + pairs.canaryOnly, n, each);
    out.effect = evidence.estimate;
    out.interval = evidence.sequence(each);
    out.regressionRate = { value: pairs.baselineOnly / n, interval: wilson(pairs.baselineOnly, n, each) };
    out.fixRate = { value: pairs.canaryOnly / n, interval: wilson(pairs.canaryOnly, n, each) };
    const alt = m.direction === 'decrease' ? 'less' : m.direction === 'increase' ? (m.name === 'regression_rate' ? 'less' : 'greater') : 'two-sided';
    out.mcnemarPValue = mcnemarExact(pairs, alt);
  }
  const effect = out.effect === null ? 'no pairs' : m.name === 'regression_rate'
    ? `net regression rate ${signed(100 * out.effect)}% (${pairs.baselineOnly} regressions, ${pairs.canaryOnly} fixes in ${n})`
    : `candidate ${points(out.effect)} vs baseline over ${n} pairs`;
  out.reason = describe(j, m, n, effect, ctx);
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const FLOOR_MS = 1e-3;

function latencyRow(m: GateMetricPlan, items: readonly PairedItem[], ctx: Ctx): GateMetricResult {
  const both = items.filter((i) => i.baseline.latencyMs !== null && i.candidate.latencyMs !== null);
  const diffs = both.map((i) => Math.log(Math.max(i.candidate.latencyMs!, FLOOR_MS)) - Math.log(Math.max(i.baseline.latencyMs!, FLOOR_MS)));
  const evidence = signedRankEvidence(diffs);
  const up = Math.log(1 + m.tolerance);
  const j = judge(m, [evidence ? { evidence, enough: diffs.length >= ctx.minSamples } : null], up, -up, ctx);
  const out = row(m, j, diffs.length, ctx);
  out.test = 'Wilcoxon signed-rank on log latency, Hodges–Lehmann shift';
  out.baseline = median(both.map((i) => i.baseline.latencyMs!));
  out.candidate = median(both.map((i) => i.candidate.latencyMs!));
  if (evidence) {
    const [lo, hi] = evidence.sequence(ctx.alpha / sidesOf(m));
    out.effect = Math.expm1(evidence.estimate);
    out.interval = [Math.expm1(lo), Math.expm1(hi)];
  }
  const effect = out.effect === null ? 'no pairs' : `candidate ${signed(100 * out.effect)}% vs baseline (median ${fmt(out.candidate ?? NaN)} vs ${fmt(out.baseline ?? NaN)} ms)`;
  out.reason = describe(j, m, diffs.length, effect, ctx);
  return out;
}

const outcome = (f: (j: ItemJudgement) => boolean | null) => (i: PairedItem) => ({ baseline: f(i.baseline), candidate: f(i.candidate) });
const sliOutcome = (sli: Sli) => (j: ItemJudgement) => (j.verdicts[sli] === 'unknown' ? null : j.verdicts[sli] === 'good');

/** Every metric of the plan on the judged pairs, the score and the verdict. */
export function analyseGate(plan: GatePlan, items: readonly PairedItem[]): GateAnalysis {
  const ctx: Ctx = { alpha: plan.alpha / plan.metrics.length, minSamples: plan.minSamples, requireNonInferiority: plan.requireNonInferiority };
  const metrics = plan.metrics.map((m) => {
    if (m.name === 'latency') return latencyRow(m, items, ctx);
    if (m.name === 'semantic_accuracy') return ratioRow(m, pairCounts(items.map(outcome((j) => j.correct))), ctx);
    if (m.name === 'regression_rate') return ratioRow(m, pairCounts(items.map(outcome((j) => j.passed))), ctx);
    const sli = m.name as Sli;
    if (!SLIS.includes(sli)) throw new Error(`gate: unknown metric ${m.name}`);
    return ratioRow(m, pairCounts(items.map(outcome(sliOutcome(sli)))), ctx);
  });
  const scored = verdict(metrics, plan.thresholds);
  return { metrics, score: scored.score, verdict: scored.verdict, reason: scored.reason };
}

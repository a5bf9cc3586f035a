// The entry point a controller calls at every look: the plan, what was measured (cumulative since the
// rollout started) and the sequential state so far → every metric classified, the score, the verdict,
// what to do, and the next state. Pure; the controller stores the state with its decision log.
//
// Error control over the whole rollout: each of the plan's metrics gets alpha / (number of metrics)
// (a rollout fails if any metric fails), and each metric's test is anytime-valid, so any number of
// looks, at any step, held as long as needed, keeps P(false fail) ≤ alpha.
import type { CanaryMetric, LookAnalysis, LookData, MetricResult, RatioMetric, RolloutPlan, SequentialState } from './types.js';
import type { Sli } from '../evaluate/types.js';
import { classifyLatency, classifyRatio, type ClassifyContext } from './classify.js';
import { actionFor, verdict } from './score.js';
import { mixturePrecision, designInformation } from './sequential.js';

export function initialState(): SequentialState {
  return { looks: 0, metrics: {} };
}

/** Classification settings for one metric of the plan. */
export function contextFor(plan: RolloutPlan, detail = true): ClassifyContext {
  const alpha = plan.alpha / plan.metrics.length;
  return {
    alpha,
    minSamples: plan.minSamples,
    requireNonInferiority: plan.requireNonInferiority,
    mirrored: plan.mirror > 0,
    rho: mixturePrecision(designInformation(plan.minSamples), alpha),
    detail,
  };
}

export function classifyMetrics(plan: RolloutPlan, data: LookData, detail = true): MetricResult[] {
  const ctx = contextFor(plan, detail);
  return plan.metrics.map((m) =>
    m.name === 'latency'
      ? classifyLatency(m, data.latency, ctx)
      : classifyRatio(m, data.ratios[m.name as RatioMetric], m.name === 'error_rate' ? undefined : data.pairs?.[m.name as Sli], ctx),
  );
}

/** The sample sizes must not shrink between looks: the tests need nested, cumulative samples. */
function checkCumulative(state: SequentialState, metrics: MetricResult[]): void {
  for (const m of metrics) {
    const before = state.metrics[m.name]?.n;
    if (before && (m.n.baseline < before.baseline || m.n.canary < before.canary)) {
      throw new Error(
        `canary analysis: ${m.name} has fewer samples than at the previous look (baseline ${before.baseline} → ${m.n.baseline}, ` +
          `canary ${before.canary} → ${m.n.canary}); pass counts cumulative since the rollout started`,
      );
    }
  }
}

/**
 * One look. `data` is cumulative since the rollout started; `state` is what the previous look returned.
 * `detail: false` skips effects, intervals and single-look tests (same classifications, for simulations).
 */
export function analyseLook(
  plan: RolloutPlan,
  data: LookData,
  state: SequentialState = initialState(),
  { detail = true }: { detail?: boolean } = {},
): { analysis: LookAnalysis; state: SequentialState } {
  const metrics = classifyMetrics(plan, data, detail);
  checkCumulative(state, metrics);
  const scored = verdict(metrics, plan.thresholds);
  const next: SequentialState = { looks: state.looks + 1, metrics: { ...state.metrics } };
  for (const m of metrics) {
    const prev = state.metrics[m.name as CanaryMetric]?.minPValue ?? 1;
    next.metrics[m.name] = { n: { ...m.n }, minPValue: Math.min(prev, m.pValue ?? 1) };
  }
  return {
    analysis: { look: next.looks, metrics, score: scored.score, verdict: scored.verdict, action: actionFor(scored.verdict, plan), reason: scored.reason },
    state: next,
  };
}

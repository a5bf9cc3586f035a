// Metric classifications → score and verdict (Kayenta's scorer step), and the verdict → what the
// rollout does. Score = weighted share of passing metrics among those with data, 0 when a critical
// metric fails. Nodata metrics are left out of the share, as Kayenta leaves them out; when they carry
// half the weight or more, or a critical metric has no data, there is too little to judge.
import type { CanaryVerdict, MetricResult, RolloutAction, RolloutPlan } from './types.js';

/** What scoring reads of a metric: the canary's MetricResult and the gate's rows both have it. */
export type Scorable = Pick<MetricResult, 'classification' | 'critical' | 'weight'> & { name: string };

export interface Scored {
  score: number;
  verdict: CanaryVerdict;
  reason: string;
}

const failing = (m: Scorable) => m.classification === 'high' || m.classification === 'low';

export function score(metrics: readonly Scorable[]): number {
  if (metrics.some((m) => m.critical && failing(m))) return 0;
  const judged = metrics.filter((m) => m.classification !== 'nodata');
  const weight = judged.reduce((s, m) => s + m.weight, 0);
  if (weight === 0) return 0;
  const passed = judged.filter((m) => m.classification === 'pass').reduce((s, m) => s + m.weight, 0);
  return (100 * passed) / weight;
}

export function verdict(metrics: readonly Scorable[], thresholds: RolloutPlan['thresholds']): Scored {
  const s = score(metrics);
  const names = (f: (m: Scorable) => boolean) => metrics.filter(f).map((m) => m.name).join(', ');
  const critical = names((m) => m.critical && failing(m));
  if (critical) return { score: 0, verdict: 'fail', reason: `critical metric failed: ${critical}` };
  const total = metrics.reduce((sum, m) => sum + m.weight, 0);
  const missing = metrics.filter((m) => m.classification === 'nodata');
  const missingWeight = missing.reduce((sum, m) => sum + m.weight, 0);
  const missingCritical = names((m) => m.critical && m.classification === 'nodata');
  if (total === 0 || missingWeight * 2 >= total || missingCritical) {
    const what = missingCritical ? `critical metric without a verdict: ${missingCritical}` : `no verdict for ${names((m) => m.classification === 'nodata')}`;
    return { score: s, verdict: 'inconclusive', reason: what };
  }
  const failed = names(failing);
  const rounded = Math.round(s * 10) / 10;
  if (s >= thresholds.pass) return { score: s, verdict: 'pass', reason: `score ${rounded} ≥ ${thresholds.pass}` };
  if (s >= thresholds.marginal) return { score: s, verdict: 'marginal', reason: `score ${rounded} (failed: ${failed || 'none'}) below ${thresholds.pass}` };
  return { score: s, verdict: 'fail', reason: `score ${rounded} below ${thresholds.marginal} (failed: ${failed})` };
}

/** pass advances (the next step, or promotion after the last); the others as the plan says. */
export function actionFor(v: CanaryVerdict, plan: Pick<RolloutPlan, 'onFail' | 'onMarginal' | 'onInconclusive'>): RolloutAction {
  if (v === 'pass') return 'advance';
  if (v === 'fail') return plan.onFail;
  return v === 'marginal' ? plan.onMarginal : plan.onInconclusive;
}

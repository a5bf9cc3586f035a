// A model's `rollout:` block → the gate's plan: the SLIs and latency with the canary's tolerances,
// critical flags and weights (canary/plan.ts), the gate's own semantic_accuracy and regression_rate
// (rollout.gate.metrics), and the rollout's alpha, thresholds and non-inferiority rule, so the gate
// and the canary apply one policy. Only the pairs a metric needs are the gate's own
// (rollout.gate.minSamples, default 10): a golden set is hundreds of prompts, not a canary's traffic. error_rate is the canary's: a prompt the candidate
// cannot answer counts as a failure on every gate metric instead. Pure.
import type { RolloutConfig } from '../config/schema.js';
import { normaliseRollout } from '../canary/plan.js';
import { parseDuration } from '../config/duration.js';
import { GATE_METRICS, type GateMetric, type GateMetricPlan, type GatePlan } from './types.js';

/** The gate-only metrics' defaults; the others come from the rollout plan. */
export const GATE_METRIC_DEFAULTS: Record<'semantic_accuracy' | 'regression_rate', Omit<GateMetricPlan, 'name'>> = {
  semantic_accuracy: { direction: 'decrease', tolerance: 0.02, critical: false, weight: 1 },
  // The seed's release bar: a net regression rate (regressions − fixes) under 1%.
  regression_rate: { direction: 'increase', tolerance: 0.01, critical: true, weight: 1 },
};

export const GATE_REPLAY_DEFAULTS = { concurrency: 16, timeout: '60s', retries: 3 } as const;
export const GATE_MIN_SAMPLES = 10;

const defined = <T extends object>(o: T | undefined): Partial<T> => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

export function gatePlan(rollout: Partial<RolloutConfig> | undefined): GatePlan {
  const plan = normaliseRollout(rollout);
  const own = rollout?.gate?.metrics ?? {};
  const metrics: GateMetricPlan[] = [];
  for (const name of GATE_METRICS) {
    if (name === 'semantic_accuracy' || name === 'regression_rate') {
      metrics.push({ name, ...GATE_METRIC_DEFAULTS[name], ...defined(own[name]) });
      continue;
    }
    const m = plan.metrics.find((x) => x.name === name);
    if (m) metrics.push({ name: name as GateMetric, direction: m.direction, tolerance: m.tolerance, critical: m.critical, weight: m.weight });
  }
  return { metrics, thresholds: plan.thresholds, alpha: plan.alpha, minSamples: rollout?.gate?.minSamples ?? GATE_MIN_SAMPLES, requireNonInferiority: plan.requireNonInferiority };
}

export interface ReplaySettings {
  concurrency: number;
  timeoutMs: number;
  retries: number;
}

export function replaySettings(rollout: Partial<RolloutConfig> | undefined): ReplaySettings {
  const g = { ...GATE_REPLAY_DEFAULTS, ...defined(rollout?.gate) };
  return { concurrency: g.concurrency, timeoutMs: parseDuration(g.timeout), retries: g.retries };
}

// A model's `rollout:` block → the RolloutPlan the statistics use: defaults applied, metrics given as a
// list or keyed by name turned into one list, and the checks the schema cannot express. Pure.
import { parseDuration } from '../config/duration.js';
import type { RolloutConfig } from '../config/schema.js';
import { CANARY_METRICS, type CanaryMetric, type MetricPlan, type RolloutPlan } from './types.js';

/**
 * Per metric defaults. Ratios are good ratios (decrease is bad) except error_rate, the 5xx share;
 * latency tolerance is relative. Instruction success and safety are critical: either regressing
 * fails the run on its own; the others lower the score.
 */
export const METRIC_DEFAULTS: Record<CanaryMetric, Omit<MetricPlan, 'name'>> = {
  instruction_success: { direction: 'decrease', tolerance: 0.02, critical: true, weight: 1 },
  safe_response: { direction: 'decrease', tolerance: 0.01, critical: true, weight: 1 },
  hallucination_free: { direction: 'decrease', tolerance: 0.02, critical: false, weight: 1 },
  error_rate: { direction: 'increase', tolerance: 0.01, critical: false, weight: 1 },
  latency: { direction: 'increase', tolerance: 0.1, critical: false, weight: 1 },
};

export const ROLLOUT_DEFAULTS = {
  steps: [5, 25, 50],
  interval: '5m',
  minSamples: 100,
  thresholds: { pass: 95, marginal: 75 },
  onFail: 'rollback',
  onMarginal: 'hold',
  onInconclusive: 'hold',
  alpha: 0.05,
  mirror: 0,
  requireNonInferiority: false,
  requireGate: false,
} as const;

type MetricInput = Partial<Omit<MetricPlan, 'name'>>;

/** The list form and the map form, as (name, overrides) in the order given. */
function metricEntries(metrics: RolloutConfig['metrics']): [CanaryMetric, MetricInput][] {
  if (!metrics) return CANARY_METRICS.map((m) => [m, {}]);
  if (Array.isArray(metrics)) return metrics.map(({ name, ...rest }) => [name, rest]);
  return Object.entries(metrics).map(([name, rest]) => [name as CanaryMetric, rest ?? {}]);
}

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The rollout block (as validated by the schema, or absent) → a plan with every default applied. */
export function normaliseRollout(cfg: Partial<RolloutConfig> | undefined): RolloutPlan {
  const c = { ...ROLLOUT_DEFAULTS, ...defined(cfg ?? {}) };
  return {
    steps: [...c.steps],
    intervalMs: parseDuration(c.interval),
    minSamples: c.minSamples,
    metrics: metricEntries(cfg?.metrics).map(([name, o]) => ({ name, ...METRIC_DEFAULTS[name], ...defined(o) })),
    thresholds: { ...ROLLOUT_DEFAULTS.thresholds, ...defined(cfg?.thresholds ?? {}) },
    onFail: c.onFail,
    onMarginal: c.onMarginal,
    onInconclusive: c.onInconclusive,
    alpha: c.alpha,
    mirror: c.mirror,
    requireNonInferiority: c.requireNonInferiority,
    requireGate: c.requireGate,
  };
}

/** Problems the schema cannot see, as config issues under `at` (e.g. "models[0].rollout"). */
export function rolloutIssues(cfg: RolloutConfig, at: string): { path: string; expected: string; found: string }[] {
  const issues: { path: string; expected: string; found: string }[] = [];
  cfg.steps?.forEach((s, i) => {
    if (i > 0 && s <= cfg.steps[i - 1]) issues.push({ path: `${at}.steps[${i}]`, expected: `a weight above the previous step (${cfg.steps[i - 1]})`, found: String(s) });
  });
  if (Array.isArray(cfg.metrics)) {
    const seen = new Set<string>();
    cfg.metrics.forEach((m, i) => {
      if (seen.has(m.name)) issues.push({ path: `${at}.metrics[${i}].name`, expected: 'each metric once', found: `"${m.name}" again` });
      seen.add(m.name);
    });
  }
  const plan = normaliseRollout(cfg);
  if (plan.thresholds.marginal > plan.thresholds.pass) {
    issues.push({ path: `${at}.thresholds.marginal`, expected: `at most thresholds.pass (${plan.thresholds.pass})`, found: String(plan.thresholds.marginal) });
  }
  if (plan.metrics.every((m) => m.weight === 0)) issues.push({ path: `${at}.metrics`, expected: 'at least one metric with a weight above 0', found: 'all weights 0' });
  return issues;
}

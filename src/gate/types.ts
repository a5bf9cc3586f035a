// The release gate's vocabulary, defined once: metric names, exit codes, scorer names, and the shapes
// the pure steps pass along. No I/O.
import { SLIS, type Sli, type VerdictValue } from '../evaluate/types.js';
import type { CanaryVerdict, Classification, Direction } from '../canary/types.js';

/** The metrics a gate judges, in the order its table and its JUnit report list them. */
export const GATE_METRICS = [...SLIS, 'semantic_accuracy', 'regression_rate', 'latency'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/** What `tunewatch gate` exits with: CI reads 0 as go, 1 as a regression, 2 as "could not judge". */
export const GATE_EXIT = { pass: 0, fail: 1, marginal: 2, inconclusive: 2, error: 2 } as const;
export type GateVerdict = CanaryVerdict;

export const exitCodeFor = (v: GateVerdict): number => GATE_EXIT[v];

/** How an answer is compared with a golden item's reference (per spec: specs.<name>.reference.scorer). */
export const SCORERS = ['exact', 'normalised', 'json', 'numeric', 'f1', 'judge'] as const;
export type ScorerName = (typeof SCORERS)[number];

/** One metric of the gate's plan, defaults applied (gate/plan.ts). */
export interface GateMetricPlan {
  name: GateMetric;
  direction: Direction;
  /** Ratios: absolute points (0.02); latency: relative (0.10); regression_rate: the bar (0.01). */
  tolerance: number;
  critical: boolean;
  weight: number;
}

export interface GatePlan {
  metrics: GateMetricPlan[];
  thresholds: { pass: number; marginal: number };
  alpha: number;
  /** Pairs needed per metric for a verdict (rollout.gate.minSamples). */
  minSamples: number;
  requireNonInferiority: boolean;
}

/** One version's answer to one golden item, as the replay client got it. */
export interface ReplayAnswer {
  /** The answer text; null when no answer came (error status, timeout, unreadable body). */
  text: string | null;
  status: number;
  latencyMs: number;
  attempts: number;
  /** Why there is no answer ('' when there is). */
  error: string;
}

/** One golden item judged for one version. */
export interface ItemJudgement {
  verdicts: Record<Sli, VerdictValue>;
  /** Against the reference: null when the item has none or the scorer could not decide. */
  correct: boolean | null;
  /** Every SLI judged good (unknown ones left out) and correct when there is a reference. */
  passed: boolean;
  latencyMs: number | null;
  answered: boolean;
  reasons: string[];
}

export interface PairedItem {
  id: string;
  baseline: ItemJudgement;
  candidate: ItemJudgement;
}

/** One row of the verdict table. Effects are candidate relative to baseline. */
export interface GateMetricResult extends GateMetricPlan {
  classification: Classification;
  reason: string;
  /** Pairs the metric was judged on. */
  n: number;
  baseline: number | null;
  candidate: number | null;
  /** Per version: the one-look interval of its own value (accuracy, good ratio). */
  baselineInterval: [number, number] | null;
  candidateInterval: [number, number] | null;
  effect: number | null;
  interval: [number, number] | null;
  pValue: number | null;
  nonInferiorityPValue: number | null;
  test: string;
  /** Ratio metrics: [baseline passes & candidate fails, baseline fails & candidate passes]. */
  discordant?: [number, number];
  /** Discordant pairs over all pairs, with intervals: the regression and fix rates. */
  regressionRate?: { value: number; interval: [number, number] };
  fixRate?: { value: number; interval: [number, number] };
  mcnemarPValue?: number;
  alpha: number;
}

export interface GateAnalysis {
  metrics: GateMetricResult[];
  score: number;
  verdict: GateVerdict;
  reason: string;
}

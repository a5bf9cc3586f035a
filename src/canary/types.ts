// The vocabulary of canary analysis, defined once: metric names, directions, classifications,
// verdicts and actions, and the shapes the statistics take in and give back. Pure types, no I/O.
import { SLIS, type Sli } from '../evaluate/types.js';

/** Every metric a rollout can judge: the three quality SLIs, the 5xx share and latency. */
export const CANARY_METRICS = [...SLIS, 'error_rate', 'latency'] as const;
export type CanaryMetric = (typeof CANARY_METRICS)[number];

/** Metrics that are a share of events (SLI good ratio, 5xx share); latency is a sample of values. */
export const RATIO_METRICS = [...SLIS, 'error_rate'] as const;
export type RatioMetric = (typeof RATIO_METRICS)[number];

/** Which way is bad (Kayenta's words): a canary value moving this way beyond the tolerance fails. */
export const DIRECTIONS = ['increase', 'decrease', 'either'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Kayenta's metric classifications: high / low fail (canary above / below the baseline), pass, nodata. */
export const CLASSIFICATIONS = ['high', 'low', 'pass', 'nodata'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const CANARY_VERDICTS = ['pass', 'marginal', 'fail', 'inconclusive'] as const;
export type CanaryVerdict = (typeof CANARY_VERDICTS)[number];

/** What a verdict other than pass does; `advance` is a pass (next step, or promotion after the last). */
export const ROLLOUT_ACTIONS = ['advance', 'hold', 'rollback'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** One metric as a rollout judges it, defaults applied (see plan.ts). */
export interface MetricPlan {
  name: CanaryMetric;
  direction: Direction;
  /** Allowed degradation: absolute for ratios (0.02 = two points), relative for latency (0.10 = 10%). */
  tolerance: number;
  /** Failing it fails the run whatever the score. */
  critical: boolean;
  weight: number;
}

/** A model's `rollout:` block, normalised: every default applied, metrics in one shape. */
export interface RolloutPlan {
  /** Canary weights in percent at which an analysis runs; passing the last promotes. */
  steps: number[];
  intervalMs: number;
  /** Per arm and metric: below this a metric is nodata. */
  minSamples: number;
  metrics: MetricPlan[];
  thresholds: { pass: number; marginal: number };
  onFail: 'rollback' | 'hold';
  onMarginal: 'hold' | 'rollback';
  onInconclusive: 'hold' | 'rollback';
  /** The false-rollback rate for the whole rollout, over every metric, step and look. */
  alpha: number;
  /** Share of baseline requests also sent to the canary (mirrored pairs). */
  mirror: number;
  /** Pass a metric only when non-inferiority within the tolerance is shown. */
  requireNonInferiority: boolean;
  /** Start a canary only for a version with a passing release-gate run. */
  requireGate: boolean;
}

/** Events out of a total for one arm: good verdicts of an SLI (unknown left out), or 5xx answers. */
export interface RatioCounts {
  events: number;
  total: number;
}

/** Latencies of one arm: raw values, or distinct values with their counts (a lossless histogram). */
export interface LatencySample {
  values: readonly number[];
  counts?: readonly number[];
}

/** Mirrored pairs for one SLI: prompts both versions answered, by the two verdicts. */
export interface PairCounts {
  bothGood: number;
  /** Baseline good, canary bad. */
  baselineOnly: number;
  /** Baseline bad, canary good. */
  canaryOnly: number;
  bothBad: number;
}

export interface Arms<T> {
  baseline: T;
  canary: T;
}

/**
 * What the controller measured, cumulative since the rollout started (every step, every look so far):
 * the sequential tests need nested samples. Metrics absent here are nodata.
 */
export interface LookData {
  ratios: Partial<Record<RatioMetric, Arms<RatioCounts>>>;
  latency?: Arms<LatencySample>;
  pairs?: Partial<Record<Sli, PairCounts>>;
}

/** The paired (mirrored) test of one SLI. */
export interface PairedResult {
  pairs: number;
  /** [baseline good & canary bad, baseline bad & canary good]. */
  discordant: [number, number];
  /** Canary good ratio minus baseline good ratio over the pairs. */
  effect: number;
  interval: [number, number];
  /** Anytime-valid, for "worse by more than the tolerance". */
  pValue: number;
  /** Exact McNemar (binomial on the discordant pairs), one look, no tolerance: for comparison. */
  mcnemarPValue: number;
}

/** One metric at one look. Effects are canary relative to baseline: positive = canary higher. */
export interface MetricResult extends MetricPlan {
  classification: Classification;
  reason: string;
  n: Arms<number>;
  /** Ratio per arm, or median latency per arm. */
  value: Arms<number | null>;
  /** Canary − baseline (ratio points), or the Hodges–Lehmann shift as a ratio − 1 (latency). */
  effect: number | null;
  /** Anytime-valid confidence sequence for the effect at this metric's alpha, each side. */
  interval: [number, number] | null;
  /** Anytime-valid p-value for "worse by more than the tolerance"; fails at p ≤ alpha. */
  pValue: number | null;
  /** Anytime-valid p-value for "not worse by the tolerance" (non-inferiority shown at ≤ alpha). */
  nonInferiorityPValue: number | null;
  /** The single-look test a fixed-horizon judge would use (Fisher/score test, Mann–Whitney). */
  fixed: { test: string; pValue: number } | null;
  paired?: PairedResult;
  /** This metric's share of the rollout's alpha (Bonferroni over the plan's metrics). */
  alpha: number;
}

/** What the sequential tests remember between looks (JSON-serialisable). */
export interface SequentialState {
  looks: number;
  metrics: Partial<Record<CanaryMetric, { n: Arms<number>; minPValue: number }>>;
}

export interface LookAnalysis {
  look: number;
  metrics: MetricResult[];
  score: number;
  verdict: CanaryVerdict;
  action: RolloutAction;
  reason: string;
}

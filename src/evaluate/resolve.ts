import { SOURCE_RANK, type Sli, type VerdictSource, type VerdictValue } from './types.js';

/** A row of the `evaluations` table (migrations/0003_evaluations.sql). */
export interface EvaluationRow {
  request_id: string;
  ts: number;
  sample_ts: number;
  model: string;
  version: string;
  role: string;
  sli: Sli;
  evaluator: string;
  evaluator_version: string;
  verdict: VerdictValue;
  score: number | null;
  reason: string;
  source: VerdictSource;
  source_rank: number;
  rater: string;
  comment: string;
  correction: string;
  delta_good: number;
  delta_bad: number;
  delta_unknown: number;
}

export interface EffectiveVerdict {
  verdict: VerdictValue;
  sourceRank: number;
  ts: number;
}

type Deltas = Pick<EvaluationRow, 'delta_good' | 'delta_bad' | 'delta_unknown'>;

const ZERO: Deltas = { delta_good: 0, delta_bad: 0, delta_unknown: 0 };
const key = (v: VerdictValue) => `delta_${v}` as const;

/** True when `incoming` takes over from `current`: a higher source rank, or the same rank and not older. */
export function overrules(incoming: EffectiveVerdict, current: EffectiveVerdict | null): boolean {
  if (!current) return true;
  if (incoming.sourceRank !== current.sourceRank) return incoming.sourceRank > current.sourceRank;
  return incoming.ts >= current.ts;
}

/**
 * How a new verdict changes the per-minute SLI counts, so the rollup always counts effective
 * verdicts: +1 for a first verdict, -1 old +1 new when it overrules, nothing when it is overruled.
 */
export function rollupDeltas(incoming: EffectiveVerdict, current: EffectiveVerdict | null): Deltas {
  if (!overrules(incoming, current)) return { ...ZERO };
  const deltas = { ...ZERO };
  deltas[key(incoming.verdict)] += 1;
  if (current) deltas[key(current.verdict)] -= 1;
  return deltas;
}

export const rankOf = (source: VerdictSource) => SOURCE_RANK[source];

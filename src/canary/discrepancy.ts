// The canary discrepancy SLI: per model and SLI, baseline good ratio minus canary good ratio over the
// current analysis window (positive: the canary is worse), and for mirrored pairs the share of pairs
// whose two verdicts disagree. Descriptive, for dashboards and alerts; the tests are elsewhere.
import type { Sli } from '../evaluate/types.js';
import type { Arms, PairCounts, RatioCounts } from './types.js';
import { pairTotal } from './stats/mcnemar.js';

export interface Discrepancy {
  /** Baseline good ratio − canary good ratio; null when an arm has no verdicts in the window. */
  discrepancy: number | null;
  /** Share of mirrored pairs with different verdicts; null without pairs. */
  pairDisagreement: number | null;
  /** Baseline good & canary bad minus the reverse, over all pairs (the paired discrepancy). */
  pairDiscrepancy: number | null;
}

export function discrepancy(window: Arms<RatioCounts> | undefined, pairs?: PairCounts): Discrepancy {
  const ratio = (c: RatioCounts) => (c.total > 0 ? c.events / c.total : null);
  const b = window ? ratio(window.baseline) : null;
  const c = window ? ratio(window.canary) : null;
  const n = pairs ? pairTotal(pairs) : 0;
  return {
    discrepancy: b === null || c === null ? null : b - c,
    pairDisagreement: pairs && n > 0 ? (pairs.baselineOnly + pairs.canaryOnly) / n : null,
    pairDiscrepancy: pairs && n > 0 ? (pairs.baselineOnly - pairs.canaryOnly) / n : null,
  };
}

/** Every SLI of one model at once. */
export function discrepancies(window: Partial<Record<Sli, Arms<RatioCounts>>>, pairs: Partial<Record<Sli, PairCounts>> = {}): Partial<Record<Sli, Discrepancy>> {
  const out: Partial<Record<Sli, Discrepancy>> = {};
  for (const sli of new Set([...Object.keys(window), ...Object.keys(pairs)]) as Set<Sli>) out[sli] = discrepancy(window[sli], pairs[sli]);
  return out;
}

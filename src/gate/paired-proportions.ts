// Paired proportions for one look: each golden item answered by both versions gives one of four
// pairs (both pass, baseline only, candidate only, both fail). The difference candidate − baseline is
// tested against a margin with the score test on the restricted maximum likelihood (Tango 1998; Nam
// 1997), the non-inferiority form of McNemar's test; McNemar's exact test is reported beside it, and
// each version's ratio gets a Wilson interval. Pure.
import type { Evidence, Side } from '../canary/sequential.js';
import { normalQuantile, normalSf } from '../canary/stats/distributions.js';
import { pairedDifference, pairedRestrictedMle, pairTotal } from '../canary/stats/mcnemar.js';
import type { PairCounts } from '../canary/types.js';
import { sequenceFromP as invertTests } from '../canary/sequential.js';

/** Tango's score statistic for H0: p_candidate − p_baseline = d0 over the pairs. */
export function pairedScoreZ(p: PairCounts, d0: number): number {
  const n = pairTotal(p);
  const d = pairedDifference(p);
  const r = pairedRestrictedMle(p, d0);
  const v = (r.baselineOnly + r.canaryOnly - d0 * d0) / n;
  if (!(v > 1e-15)) return d === d0 ? 0 : (d - d0) * Infinity;
  return (d - d0) / Math.sqrt(v);
}

/** The one-look evidence about candidate − baseline: `above` tests d > d0, `below` d < d0. */
export function pairedEvidence(p: PairCounts): Evidence | null {
  if (pairTotal(p) === 0) return null;
  const estimate = pairedDifference(p);
  const pv = (d0: number, side: Side) => {
    if (d0 <= -1) return side === 'above' ? (estimate > -1 ? 0 : 1) : 1;
    if (d0 >= 1) return side === 'below' ? (estimate < 1 ? 0 : 1) : 1;
    const z = pairedScoreZ(p, d0);
    return normalSf(side === 'above' ? z : -z);
  };
  return { estimate, p: pv, sequence: (alpha) => invertTests(pv, estimate, -1, 1, alpha) };
}

/** The same evidence for the negated difference (baseline − candidate: a regression rate). */
export function negated(e: Evidence): Evidence {
  const flip = (s: Side): Side => (s === 'above' ? 'below' : 'above');
  return {
    estimate: -e.estimate,
    p: (d0, side) => e.p(-d0, flip(side)),
    sequence: (alpha) => {
      const [lo, hi] = e.sequence(alpha);
      return [-hi, -lo];
    },
  };
}

/** Wilson's score interval for events out of n, at alphaEachSide each side. */
export function wilson(events: number, n: number, alphaEachSide: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - alphaEachSide);
  const p = events / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Pairs from two parallel outcome lists; an item where either side is null is left out. */
export function pairCounts(outcomes: readonly { baseline: boolean | null; candidate: boolean | null }[]): PairCounts {
  const p: PairCounts = { bothGood: 0, baselineOnly: 0, canaryOnly: 0, bothBad: 0 };
  for (const o of outcomes) {
    if (o.baseline === null || o.candidate === null) continue;
    if (o.baseline && o.candidate) p.bothGood++;
    else if (o.baseline) p.baselineOnly++;
    else if (o.candidate) p.canaryOnly++;
    else p.bothBad++;
  }
  return p;
}

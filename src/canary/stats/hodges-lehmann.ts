// The Hodges–Lehmann shift (median of all canary − baseline differences) on weighted samples, and
// confidence bounds found by inverting a shift test, as R's wilcox.test(conf.int = TRUE) and Kayenta's
// judge do. Both work without forming the nb × nc differences: counting pairs below a shift is linear.
import type { WeightedSample } from './mann-whitney.js';
import { normalQuantile } from './distributions.js';
import { uStatistic, uVariance } from './mann-whitney.js';

/** Weighted count of pairs with canary − baseline ≤ d. */
export function pairsAtMost(baseline: WeightedSample, canary: WeightedSample, d: number): number {
  let j = 0;
  let below = 0; // baseline weight < canary value − d
  let count = 0;
  for (let i = 0; i < canary.x.length; i++) {
    const t = canary.x[i] - d;
    while (j < baseline.x.length && baseline.x[j] < t) below += baseline.w[j++];
    count += canary.w[i] * (baseline.n - below);
  }
  return count;
}

function range(baseline: WeightedSample, canary: WeightedSample): [number, number] {
  return [canary.x[0] - baseline.x[baseline.x.length - 1], canary.x[canary.x.length - 1] - baseline.x[0]];
}

/** The k-th smallest pairwise difference (1-based), by bisection on the count. */
export function orderedDifference(baseline: WeightedSample, canary: WeightedSample, k: number): number {
  let [lo, hi] = range(baseline, canary);
  if (pairsAtMost(baseline, canary, lo) >= k) return lo;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(hi)); i++) {
    const m = (lo + hi) / 2;
    if (pairsAtMost(baseline, canary, m) >= k) hi = m;
    else lo = m;
  }
  return hi;
}

/** Median of the nb·nc differences canary − baseline (mean of the two middle ones when even). */
export function hodgesLehmann(baseline: WeightedSample, canary: WeightedSample): number {
  const total = baseline.n * canary.n;
  if (total === 0) return NaN;
  if (total % 2 === 1) return orderedDifference(baseline, canary, (total + 1) / 2);
  return (orderedDifference(baseline, canary, total / 2) + orderedDifference(baseline, canary, total / 2 + 1)) / 2;
}

/**
 * Bounds of the shifts a test does not reject. `rejectsAbove(d)`: the test finds the canary larger
 * than the baseline shifted by d (true for small d); `rejectsBelow(d)` the mirror. The lower bound is
 * where rejectsAbove stops holding, the upper where rejectsBelow starts; `precision` in shift units.
 */
export function invertShiftTest(
  baseline: WeightedSample,
  canary: WeightedSample,
  rejectsAbove: (d: number) => boolean,
  rejectsBelow: (d: number) => boolean,
  estimate: number,
  precision = 1e-10,
): [number, number] {
  const [min, max] = range(baseline, canary);
  const span = Math.max(1e-12, max - min);
  const bisect = (lo: number, hi: number, rejectedAtLo: boolean, test: (d: number) => boolean) => {
    for (let i = 0; i < 200 && hi - lo > precision * Math.max(1, Math.abs(lo)); i++) {
      const m = (lo + hi) / 2;
      if (test(m) === rejectedAtLo) lo = m;
      else hi = m;
    }
    return (lo + hi) / 2;
  };
  const lower = rejectsAbove(min - span) ? bisect(min - span, estimate, true, rejectsAbove) : -Infinity;
  const upper = rejectsBelow(max + span) ? bisect(estimate, max + span, false, rejectsBelow) : Infinity;
  return [lower, upper];
}

/**
 * The one-look (1 − 2·alphaEachSide) interval for the shift from the normal-approximation rank test
 * (no continuity correction, ties corrected at each shift).
 */
export function shiftInterval(baseline: WeightedSample, canary: WeightedSample, alphaEachSide: number): [number, number] {
  const z = normalQuantile(1 - alphaEachSide);
  const zAt = (d: number) => {
    const s = uStatistic(baseline, canary, d);
    const sd = Math.sqrt(uVariance(s));
    return sd > 0 ? (s.u - (s.nb * s.nc) / 2) / sd : 0;
  };
  return invertShiftTest(baseline, canary, (d) => zAt(d) > z, (d) => zAt(d) < -z, hodgesLehmann(baseline, canary));
}

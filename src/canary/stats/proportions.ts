// Two independent proportions: the restricted maximum likelihood under a given difference (shared by
// the score test below and the sequential test in sequential.ts) and the one-look test that picks
// Fisher's exact test for small counts and the Farrington–Manning score test otherwise.
import type { RatioCounts } from '../types.js';
import { fisherExact } from './fisher.js';
import { normalSf } from './distributions.js';

/** k·log(p) with 0·log 0 = 0. */
export const xlogy = (k: number, p: number): number => (k === 0 ? 0 : k * Math.log(p));

export function logLikelihood(c: RatioCounts, p: number): number {
  return xlogy(c.events, p) + xlogy(c.total - c.events, 1 - p);
}

/**
 * The maximum of a concave function on (lo, hi) from its decreasing derivative: Newton steps with the
 * second derivative when given, kept inside a shrinking bracket, bisection otherwise.
 */
export function argmaxConcave(derivative: (x: number) => number, lo: number, hi: number, second?: (x: number) => number, start?: number): number {
  let a = lo;
  let b = hi;
  let x = start !== undefined && start > lo && start < hi ? start : (lo + hi) / 2;
  for (let i = 0; i < 200 && b - a > 1e-15 * Math.max(1, Math.abs(a)); i++) {
    const g = derivative(x);
    if (g === 0) return x;
    if (g > 0) a = x;
    else b = x;
    const next = second ? x - g / second(x) : NaN;
    const mid = (a + b) / 2;
    if (!(next > a && next < b) || mid === a || mid === b) {
      if (mid <= a || mid >= b) break;
      x = mid;
    } else {
      if (Math.abs(next - x) <= 1e-16 * Math.max(1, Math.abs(x))) return next;
      x = next;
    }
  }
  return x;
}

/**
 * The most likely (p_baseline, p_canary) with p_canary − p_baseline = d, and its log-likelihood:
 * the profile likelihood of the difference (Farrington–Manning's restricted estimate).
 */
export function restrictedMle(baseline: RatioCounts, canary: RatioCounts, d: number): { pb: number; pc: number; logL: number } {
  const eb = baseline.events;
  const fb = baseline.total - eb;
  const ec = canary.events;
  const fc = canary.total - ec;
  const lo = Math.max(0, -d);
  const hi = Math.min(1, 1 - d);
  const pooled = (eb + ec - canary.total * d) / (baseline.total + canary.total);
  const pb = argmaxConcave(
    (x) => eb / x - fb / (1 - x) + ec / (x + d) - fc / (1 - x - d),
    lo,
    hi,
    (x) => -eb / (x * x) - fb / ((1 - x) * (1 - x)) - ec / ((x + d) * (x + d)) - fc / ((1 - x - d) * (1 - x - d)),
    pooled,
  );
  const pc = Math.min(1, Math.max(0, pb + d));
  return { pb, pc, logL: logLikelihood(baseline, pb) + logLikelihood(canary, pc) };
}

const ratio = (c: RatioCounts) => (c.total > 0 ? c.events / c.total : NaN);

/**
 * Farrington–Manning score test of H0: p_canary − p_baseline = d0 (variance at the restricted
 * estimate). `greater`: evidence that the difference exceeds d0; `less`: that it falls short.
 */
export function scoreTest(baseline: RatioCounts, canary: RatioCounts, d0: number, alternative: 'less' | 'greater'): { z: number; pValue: number } {
  const diff = ratio(canary) - ratio(baseline);
  const { pb, pc } = restrictedMle(baseline, canary, d0);
  const v = (pb * (1 - pb)) / baseline.total + (pc * (1 - pc)) / canary.total;
  if (!(v > 0)) {
    const z = diff === d0 ? 0 : (diff - d0) * Infinity;
    return { z, pValue: alternative === 'greater' ? (z > 0 ? 0 : 1) : z < 0 ? 0 : 1 };
  }
  const z = (diff - d0) / Math.sqrt(v);
  return { z, pValue: normalSf(alternative === 'greater' ? z : -z) };
}

/** Counts are "small" when an expected cell of the 2×2 table is below 5 (Cochran's rule). */
export function smallCounts(baseline: RatioCounts, canary: RatioCounts): boolean {
  const n = baseline.total + canary.total;
  const events = baseline.events + canary.events;
  const rows = [baseline.total, canary.total];
  return rows.some((r) => (r * events) / n < 5 || (r * (n - events)) / n < 5);
}

/**
 * One look at two proportions: is p_canary − p_baseline beyond d0 in the `alternative` direction?
 * Fisher's exact test when d0 = 0 and counts are small, the score test otherwise (Fisher's test has
 * no version for a non-zero margin).
 */
export function twoProportionTest(baseline: RatioCounts, canary: RatioCounts, d0: number, alternative: 'less' | 'greater'): { test: 'fisher' | 'score'; pValue: number } {
  if (d0 === 0 && smallCounts(baseline, canary)) {
    const p = fisherExact(canary.events, canary.total - canary.events, baseline.events, baseline.total - baseline.events, alternative);
    return { test: 'fisher', pValue: p };
  }
  return { test: 'score', pValue: scoreTest(baseline, canary, d0, alternative).pValue };
}

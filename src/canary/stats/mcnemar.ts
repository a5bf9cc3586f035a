// Mirrored pairs: McNemar's exact test (a binomial(½) test on the discordant pairs, one look) and the
// trinomial likelihood of the pairs under a given difference, which the sequential paired test uses.
import type { PairCounts } from '../types.js';
import { binomialCdf } from './distributions.js';
import { argmaxConcave, xlogy } from './proportions.js';

/**
 * Exact McNemar. `less`: the canary's good ratio is lower (baseline good & canary bad pairs
 * outnumber the reverse); `greater`: higher; `two-sided`: twice the smaller tail, at most 1.
 */
export function mcnemarExact(p: PairCounts, alternative: 'less' | 'greater' | 'two-sided' = 'two-sided'): number {
  const b = p.baselineOnly;
  const c = p.canaryOnly;
  const n = b + c;
  if (n === 0) return 1;
  const atLeast = (k: number) => 1 - binomialCdf(k - 1, n, 0.5);
  if (alternative === 'less') return Math.min(1, atLeast(b));
  if (alternative === 'greater') return Math.min(1, atLeast(c));
  return Math.min(1, 2 * Math.min(atLeast(b), atLeast(c)));
}

export const pairTotal = (p: PairCounts): number => p.bothGood + p.baselineOnly + p.canaryOnly + p.bothBad;

/** Canary good ratio minus baseline good ratio over the pairs. */
export const pairedDifference = (p: PairCounts): number => (p.canaryOnly - p.baselineOnly) / pairTotal(p);

/**
 * The most likely trinomial (baselineOnly, canaryOnly, concordant) probabilities subject to
 * P(canaryOnly) − P(baselineOnly) = d, and their log-likelihood: the profile of the paired difference.
 */
export function pairedRestrictedMle(p: PairCounts, d: number): { baselineOnly: number; canaryOnly: number; logL: number } {
  const a = p.baselineOnly;
  const b = p.canaryOnly;
  const c = p.bothGood + p.bothBad;
  // q = P(baselineOnly); P(canaryOnly) = q + d; P(concordant) = 1 − 2q − d.
  const lo = Math.max(0, -d);
  const hi = (1 - d) / 2;
  if (hi < lo) return { baselineOnly: NaN, canaryOnly: NaN, logL: -Infinity };
  const q = argmaxConcave(
    (x) => a / x + b / (x + d) - (2 * c) / (1 - 2 * x - d),
    lo,
    hi,
    (x) => -a / (x * x) - b / ((x + d) * (x + d)) - (4 * c) / ((1 - 2 * x - d) * (1 - 2 * x - d)),
  );
  const logL = xlogy(a, q) + xlogy(b, Math.max(0, q + d)) + xlogy(c, Math.max(0, 1 - 2 * q - d));
  return { baselineOnly: q, canaryOnly: q + d, logL };
}

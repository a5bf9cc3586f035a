// Anytime-valid tests: every p-value here may be checked at every look, as often as the controller
// likes, with P(p ≤ α at any look) ≤ α under the null, and every interval is a confidence sequence
// (it covers at all looks at once). Each p is 1/E for a test (super)martingale E (Ville's inequality).
//
// - Ratios and mirrored pairs, exact part: E = mixture likelihood / best likelihood under the null,
//   Jeffreys Beta(½,½) per arm (Dirichlet(½,½,½) over the pair types). Exact at every sample size,
//   tiny counts and a baseline without failures included; it pays ½·log n per arm for not knowing p.
// - Ratios and mirrored pairs, score part: the normal-mixture boundary (Robbins 1970; Howard et al.
//   2021) on the Farrington–Manning score, which is asymptotically a Brownian motion in its
//   information (nested samples); it joins only once every cell has SCORE_MIN_CELL counts.
//   The two parts split the metric's alpha in halves, so p = 2·min(p_exact, p_score).
// - Latency: the same normal mixture on the Mann–Whitney statistic (asymptotically Brownian too, as a
//   U-statistic is a sum of two means). Asymptotic, hence nodata below minSamples.
import type { PairCounts, RatioCounts } from './types.js';
import { logBeta, logGamma, logNormalCdf } from './stats/distributions.js';
import { logLikelihood, restrictedMle, xlogy } from './stats/proportions.js';
import { pairedRestrictedMle, pairTotal } from './stats/mcnemar.js';
import { hodgesLehmann, invertShiftTest } from './stats/hodges-lehmann.js';
import { uStatistic, uVariance, type WeightedSample } from './stats/mann-whitney.js';

/** `above`: evidence that canary − baseline exceeds d0 (H0: ≤ d0); `below`: falls short (H0: ≥ d0). */
export type Side = 'above' | 'below';

/** What a test knows about a difference: its estimate, p-values for one-sided nulls, and bounds. */
export interface Evidence {
  estimate: number;
  p(d0: number, side: Side): number;
  /** Lower and upper confidence-sequence bounds, each at `alphaEachSide`. */
  sequence(alphaEachSide: number): [number, number];
}

/** The score part joins once every cell (events, non-events per arm; discordant pairs) has this many. */
export const SCORE_MIN_CELL = 10;

const pFromLogE = (logE: number) => Math.min(1, Math.exp(-logE));

/** Where `inside` turns false between a point inside and one outside, by bisection. */
function crossing(inside: (d: number) => boolean, inn: number, out: number, precision: number): number {
  if (inside(out)) return out;
  for (let i = 0; i < 100 && Math.abs(inn - out) > precision; i++) {
    const m = (inn + out) / 2;
    if (inside(m)) inn = m;
    else out = m;
  }
  return (inn + out) / 2;
}

/** Bounds from a p-value function on [lo, hi]: the d0 each side's test does not reject (the gate's one-look intervals too). */
export function sequenceFromP(p: Evidence['p'], estimate: number, lo: number, hi: number, alpha: number, precision = 1e-9): [number, number] {
  return [crossing((d) => p(d, 'above') > alpha, estimate, lo, precision), crossing((d) => p(d, 'below') > alpha, estimate, hi, precision)];
}

/** log of the Beta(½,½) mixture likelihood of one arm's outcome sequence. */
export function logMixtureBinomial(c: RatioCounts): number {
  return logBeta(0.5 + c.events, 0.5 + c.total - c.events) - logBeta(0.5, 0.5);
}

/** log of the Dirichlet(½,½,½) mixture likelihood of the pairs' (baseline-only, canary-only, concordant) sequence. */
export function logMixtureTrinomial(p: PairCounts): number {
  const n = [p.baselineOnly, p.canaryOnly, p.bothGood + p.bothBad];
  return logGamma(1.5) - 3 * logGamma(0.5) + n.reduce((s, k) => s + logGamma(0.5 + k), 0) - logGamma(1.5 + pairTotal(p));
}

/**
 * Exact part: p for the side's null at d0 is the null's best likelihood over the mixture likelihood
 * (`max` is the unrestricted best, `profile(d)` the best with the difference fixed at d).
 */
function mixtureEvidence(estimate: number, max: number, mixture: number, profile: (d: number) => number): Evidence {
  const p = (d0: number, side: Side) => {
    const inNull = side === 'above' ? estimate <= d0 : estimate >= d0;
    return pFromLogE(mixture - (inNull ? max : profile(d0)));
  };
  return { estimate, p, sequence: (alpha) => sequenceFromP(p, estimate, -1, 1, alpha) };
}

/** Score part: S = (estimate − d0)/V(d0) at information I = 1/V(d0), through the normal mixture. */
function scoreEvidence(estimate: number, variance: (d0: number) => number, rho: number): Evidence {
  const p = (d0: number, side: Side) => {
    const v = variance(d0);
    const s = (side === 'above' ? estimate - d0 : d0 - estimate) / v;
    if (!(s > 0)) return 1;
    return Number.isFinite(s) ? pFromLogE(logNormalMixture(s, 1 / v, rho)) : 0;
  };
  return { estimate, p, sequence: (alpha) => sequenceFromP(p, estimate, -1, 1, alpha) };
}

/** Both parts at half the alpha each (the score part only once it has joined). */
function hybrid(exact: Evidence, score: Evidence | null): Evidence {
  return {
    estimate: exact.estimate,
    p: (d0, side) => Math.min(1, 2 * Math.min(exact.p(d0, side), score ? score.p(d0, side) : 1)),
    sequence: (alpha) => {
      const [lo, hi] = exact.sequence(alpha / 2);
      if (!score) return [lo, hi];
      const [slo, shi] = score.sequence(alpha / 2);
      return [Math.max(lo, slo), Math.min(hi, shi)];
    },
  };
}

/** The exact part for two independent proportions (canary − baseline); null when an arm is empty. */
export function ratioMixtureEvidence(baseline: RatioCounts, canary: RatioCounts): Evidence | null {
  if (baseline.total === 0 || canary.total === 0) return null;
  const pb = baseline.events / baseline.total;
  const pc = canary.events / canary.total;
  const max = logLikelihood(baseline, pb) + logLikelihood(canary, pc);
  const mixture = logMixtureBinomial(baseline) + logMixtureBinomial(canary);
  return mixtureEvidence(pc - pb, max, mixture, (d) => restrictedMle(baseline, canary, d).logL);
}

/** The score part for two independent proportions, whatever the counts. */
export function ratioScoreEvidence(baseline: RatioCounts, canary: RatioCounts, rho: number): Evidence | null {
  if (baseline.total === 0 || canary.total === 0) return null;
  const variance = (d0: number) => {
    const r = restrictedMle(baseline, canary, d0);
    return (r.pb * (1 - r.pb)) / baseline.total + (r.pc * (1 - r.pc)) / canary.total;
  };
  return scoreEvidence(canary.events / canary.total - baseline.events / baseline.total, variance, rho);
}

/** Two independent proportions: exact and score parts at half the alpha each. */
export function ratioEvidence(baseline: RatioCounts, canary: RatioCounts, rho: number): Evidence | null {
  const exact = ratioMixtureEvidence(baseline, canary);
  if (!exact) return null;
  const cells = [baseline.events, baseline.total - baseline.events, canary.events, canary.total - canary.events];
  return hybrid(exact, Math.min(...cells) >= SCORE_MIN_CELL ? ratioScoreEvidence(baseline, canary, rho) : null);
}

/** The exact part for mirrored pairs (canary good ratio − baseline good ratio); null without pairs. */
export function pairedMixtureEvidence(p: PairCounts): Evidence | null {
  const n = pairTotal(p);
  if (n === 0) return null;
  const [a, b, c] = [p.baselineOnly / n, p.canaryOnly / n, (p.bothGood + p.bothBad) / n];
  const max = xlogy(p.baselineOnly, a) + xlogy(p.canaryOnly, b) + xlogy(p.bothGood + p.bothBad, c);
  return mixtureEvidence(b - a, max, logMixtureTrinomial(p), (d) => pairedRestrictedMle(p, d).logL);
}

/** The score part for mirrored pairs: per pair the difference is +1, −1 or 0, variance q₊ + q₋ − d². */
export function pairedScoreEvidence(p: PairCounts, rho: number): Evidence | null {
  const n = pairTotal(p);
  if (n === 0) return null;
  const variance = (d0: number) => {
    const r = pairedRestrictedMle(p, d0);
    return (r.baselineOnly + r.canaryOnly - d0 * d0) / n;
  };
  return scoreEvidence((p.canaryOnly - p.baselineOnly) / n, variance, rho);
}

/** Mirrored pairs: exact and score parts at half the alpha each. */
export function pairedEvidence(p: PairCounts, rho: number): Evidence | null {
  const exact = pairedMixtureEvidence(p);
  if (!exact) return null;
  return hybrid(exact, p.baselineOnly + p.canaryOnly >= 2 * SCORE_MIN_CELL ? pairedScoreEvidence(p, rho) : null);
}

/**
 * The prior precision ρ of the normal mixture that makes its boundary tightest near information
 * `design` (Howard et al. 2021, §3.5: ρ = m / (2 log(1/α) + log(1 + 2 log(1/α)))).
 */
export function mixturePrecision(design: number, alpha: number): number {
  const l = 2 * Math.log(1 / alpha);
  return design / (l + Math.log(1 + l));
}

/**
 * The information the mixtures are tuned to: minSamples per arm, for a rank test (12m²/(2m+1) ≈ 6m)
 * or a ratio near 0.9 (m / (2·0.09) ≈ 5.6m).
 */
export const designInformation = (minSamples: number): number => 6 * minSamples;

/**
 * log E of the one-sided normal mixture for a Brownian score S at information I, with a half-normal
 * prior of precision ρ on the drift: E = 2·sqrt(ρ/(I+ρ))·exp(S²/(2(I+ρ)))·Φ(S/sqrt(I+ρ)).
 */
export function logNormalMixture(s: number, info: number, rho: number): number {
  const v = info + rho;
  return Math.log(2) + 0.5 * Math.log(rho / v) + (s * s) / (2 * v) + logNormalCdf(s / Math.sqrt(v));
}

/** Latency on the log scale: the canary's shift against the baseline (Mann–Whitney, Hodges–Lehmann). */
export function rankEvidence(baseline: WeightedSample, canary: WeightedSample, rho: number, precision = 1e-7): Evidence | null {
  if (baseline.n === 0 || canary.n === 0) return null;
  const p = (d0: number, side: Side) => {
    const u = uStatistic(baseline, canary, d0);
    const variance = uVariance(u);
    if (!(variance > 0)) return 1;
    const pairs = u.nb * u.nc;
    const s = (((side === 'above' ? 1 : -1) * (u.u - pairs / 2)) * pairs) / variance;
    return s <= 0 ? 1 : pFromLogE(logNormalMixture(s, (pairs * pairs) / variance, rho));
  };
  let hl: number | undefined; // the estimate costs ~90 linear passes: only when asked for
  const estimate = () => (hl ??= hodgesLehmann(baseline, canary));
  return {
    get estimate() {
      return estimate();
    },
    p,
    sequence: (alpha) => invertShiftTest(baseline, canary, (d) => p(d, 'above') <= alpha, (d) => p(d, 'below') <= alpha, estimate(), precision),
  };
}

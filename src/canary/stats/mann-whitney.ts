// Mann–Whitney U on weighted samples (distinct values with counts: a lossless histogram, so a
// rollout's latencies cost their distinct values, not their number). Normal approximation with the
// tie correction, exact distribution for small samples without ties. One look; sequential.ts turns the
// same statistic into an anytime-valid test.
import { normalSf } from './distributions.js';

/** Distinct values ascending, with how often each occurs. */
export interface WeightedSample {
  x: Float64Array;
  w: Float64Array;
  n: number;
}

/** Raw values (or distinct values with counts) → a weighted sample, after `transform` (e.g. log). */
export function toWeighted(values: readonly number[], counts?: readonly number[], transform: (v: number) => number = (v) => v): WeightedSample {
  if (counts && counts.length !== values.length) throw new Error('latency sample: values and counts differ in length');
  const tx = new Float64Array(values.length);
  let sorted = true;
  for (let i = 0; i < values.length; i++) {
    const v = transform(values[i]);
    if (!Number.isFinite(v)) throw new Error(`latency sample: ${values[i]} is not a finite value`);
    tx[i] = v;
    if (i > 0 && v < tx[i - 1]) sorted = false;
  }
  const order = sorted ? null : Array.from(tx.keys()).sort((a, b) => tx[a] - tx[b]);
  const x = new Float64Array(values.length);
  const w = new Float64Array(values.length);
  let k = -1;
  let n = 0;
  for (let r = 0; r < values.length; r++) {
    const i = order ? order[r] : r;
    const c = counts ? counts[i] : 1;
    if (!(c > 0)) continue;
    n += c;
    if (k >= 0 && x[k] === tx[i]) w[k] += c;
    else (x[++k] = tx[i]), (w[k] = c);
  }
  return { x: x.subarray(0, k + 1), w: w.subarray(0, k + 1), n };
}

export interface UStatistic {
  /** Pairs where the canary (shifted down by `shift`) is larger, ties counted half. */
  u: number;
  nb: number;
  nc: number;
  /** Σ (t³ − t) over groups of tied values in the pooled sample. */
  ties: number;
}

/** t³ − t, the tie term of one group of t equal values. */
const cubeLess = (t: number) => t * t * t - t;

/** U of the canary against the baseline after subtracting `shift` from every canary value. */
export function uStatistic(baseline: WeightedSample, canary: WeightedSample, shift = 0): UStatistic {
  const b = baseline.x;
  const bw = baseline.w;
  let j = 0;
  let below = 0; // baseline weight strictly below the current canary value
  let u = 0;
  let ties = 0;
  for (let i = 0; i < canary.x.length; i++) {
    const v = canary.x[i] - shift;
    while (j < b.length && b[j] < v) {
      ties += cubeLess(bw[j]);
      below += bw[j++];
    }
    let equal = 0;
    if (j < b.length && b[j] === v) equal = bw[j++];
    u += canary.w[i] * (below + equal / 2);
    below += equal;
    const t = canary.w[i] + equal;
    ties += cubeLess(t);
  }
  for (; j < b.length; j++) ties += cubeLess(bw[j]);
  return { u, nb: baseline.n, nc: canary.n, ties };
}

/** Var(U) under H0 with the tie correction. */
export function uVariance(s: UStatistic): number {
  const n = s.nb + s.nc;
  if (n < 2) return 0;
  return ((s.nb * s.nc) / 12) * (n + 1 - s.ties / (n * (n - 1)));
}

/**
 * P(U ≥ u) (`greater`: canary larger) or P(U ≤ u) (`less`) under H0, with the normal
 * approximation and continuity correction (SciPy's `mannwhitneyu(..., method="asymptotic")`).
 */
export function mannWhitneyNormal(s: UStatistic, alternative: 'less' | 'greater'): { z: number; pValue: number } {
  const sd = Math.sqrt(uVariance(s));
  const diff = s.u - (s.nb * s.nc) / 2;
  if (!(sd > 0)) return { z: 0, pValue: 1 };
  const signed = alternative === 'greater' ? diff : -diff;
  const z = (signed - 0.5) / sd;
  return { z: diff / sd, pValue: Math.min(1, normalSf(z)) };
}

/**
 * The exact null distribution of U for sample sizes m and n (no ties): the coefficients of the
 * Gaussian binomial [m+n choose m]_q, divided by C(m+n, m). Exact in doubles up to m + n ≈ 50.
 */
export function exactUDistribution(m: number, n: number): Float64Array {
  const size = m * n + 1;
  const c = new Float64Array(size + m + 1);
  c[0] = 1;
  for (let i = 1; i <= m; i++) {
    const k = n + i;
    for (let u = c.length - 1; u >= k; u--) c[u] -= c[u - k];
    for (let u = i; u < c.length; u++) c[u] += c[u - i];
  }
  const out = c.slice(0, size);
  const total = out.reduce((s, v) => s + v, 0);
  return out.map((v) => v / total);
}

/** Exact when both samples are small and untied, the normal approximation otherwise. */
export function mannWhitneyTest(s: UStatistic, alternative: 'less' | 'greater'): { test: 'mann-whitney-exact' | 'mann-whitney-normal'; pValue: number } {
  const untied = s.ties === 0;
  if (untied && s.nb + s.nc <= 50 && Number.isInteger(s.u)) {
    const pmf = exactUDistribution(s.nc, s.nb);
    let p = 0;
    if (alternative === 'greater') for (let u = s.u; u < pmf.length; u++) p += pmf[u];
    else for (let u = 0; u <= s.u; u++) p += pmf[u];
    return { test: 'mann-whitney-exact', pValue: Math.min(1, p) };
  }
  return { test: 'mann-whitney-normal', pValue: mannWhitneyNormal(s, alternative).pValue };
}

// Latency, paired: each golden item's log latency difference (candidate − baseline). Wilcoxon's
// signed-rank test of a shift (normal approximation, ties corrected, zeros dropped), the
// Hodges–Lehmann pseudomedian (median of the Walsh averages) as the estimate, and the interval from
// inverting the test. On the log scale, so the shift is a ratio and the tolerance relative. Pure.
import type { Evidence, Side } from '../canary/sequential.js';
import { normalSf } from '../canary/stats/distributions.js';
import { sequenceFromP as invertTests } from '../canary/sequential.js';

/** z of the signed-rank statistic of (diffs − shift); 0 when every difference is the shift. */
export function signedRankZ(diffs: readonly number[], shift: number): number {
  const x = diffs.map((d) => d - shift).filter((d) => Math.abs(d) > 1e-12);
  const n = x.length;
  if (n === 0) return 0;
  const order = x.map((_, i) => i).sort((a, b) => Math.abs(x[a]!) - Math.abs(x[b]!));
  let wPlus = 0;
  let ties = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && Math.abs(x[order[j + 1]!]!) === Math.abs(x[order[i]!]!)) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    ties += t * t * t - t;
    for (let k = i; k <= j; k++) if (x[order[k]!]! > 0) wPlus += rank;
    i = j + 1;
  }
  const mean = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - ties / 48;
  return variance > 0 ? (wPlus - mean) / Math.sqrt(variance) : 0;
}

/** Median of the Walsh averages (x_i + x_j)/2, i ≤ j: the one-sample Hodges–Lehmann estimate. */
export function pseudomedian(diffs: readonly number[]): number {
  const n = diffs.length;
  if (n === 0) return NaN;
  const walsh = new Float64Array((n * (n + 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) walsh[k++] = (diffs[i]! + diffs[j]!) / 2;
  walsh.sort();
  const m = walsh.length;
  return m % 2 ? walsh[(m - 1) / 2]! : (walsh[m / 2 - 1]! + walsh[m / 2]!) / 2;
}

/** The one-look evidence about the shift of paired differences: `above` tests shift > d0. */
export function signedRankEvidence(diffs: readonly number[]): Evidence | null {
  if (diffs.length === 0) return null;
  const estimate = pseudomedian(diffs);
  const p = (d0: number, side: Side) => {
    const z = signedRankZ(diffs, d0);
    return normalSf(side === 'above' ? z : -z);
  };
  const lo = Math.min(...diffs);
  const hi = Math.max(...diffs);
  const span = Math.max(1e-6, hi - lo);
  return { estimate, p, sequence: (alpha) => invertTests(p, estimate, lo - span, hi + span, alpha, 1e-7) };
}

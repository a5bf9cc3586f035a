// A one-look confidence interval from a family of one-sided tests: the shifts neither side rejects
// at alpha. Shared by the paired proportion and the signed-rank evidence. Pure.
import type { Evidence } from '../canary/sequential.js';

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

/** [lower, upper] of the shifts d0 with p(d0, 'above') > alpha and p(d0, 'below') > alpha, searched in [lo, hi]. */
export function invertTests(p: Evidence['p'], estimate: number, lo: number, hi: number, alphaEachSide: number, precision = 1e-9): [number, number] {
  return [crossing((d) => p(d, 'above') > alphaEachSide, estimate, lo, precision), crossing((d) => p(d, 'below') > alphaEachSide, estimate, hi, precision)];
}

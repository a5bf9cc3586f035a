// Fisher's exact test on a 2×2 table, the small-count test for two proportions (one look).
import { hypergeometricLogPmf } from './distributions.js';

export type Alternative = 'less' | 'greater' | 'two-sided';

/**
 * Table [[a, b], [c, d]]: rows are the two arms, columns events / non-events. Under the null (equal
 * proportions, margins fixed) `a` is hypergeometric. `greater`: the first row's share is larger
 * (P(X ≥ a)); `less`: smaller (P(X ≤ a)); `two-sided`: every table no more likely than the observed.
 */
export function fisherExact(a: number, b: number, c: number, d: number, alternative: Alternative = 'two-sided'): number {
  const total = a + b + c + d;
  const marked = a + c;
  const draws = a + b;
  const lo = Math.max(0, draws - (total - marked));
  const hi = Math.min(marked, draws);
  const logP = (k: number) => hypergeometricLogPmf(k, total, marked, draws);
  // Sum in probability space relative to the mode so that long tails do not underflow.
  const mode = Math.floor(((draws + 1) * (marked + 1)) / (total + 2));
  const ref = logP(Math.min(hi, Math.max(lo, mode)));
  const rel = (k: number) => Math.exp(logP(k) - ref);
  let all = 0;
  for (let k = lo; k <= hi; k++) all += rel(k);
  let tail = 0;
  if (alternative === 'greater') for (let k = a; k <= hi; k++) tail += rel(k);
  else if (alternative === 'less') for (let k = lo; k <= a; k++) tail += rel(k);
  else {
    // Tables as likely as the observed one count too, with R's and SciPy's relative slack.
    const observed = rel(a) * (1 + 1e-7);
    for (let k = lo; k <= hi; k++) {
      const r = rel(k);
      if (r <= observed) tail += r;
    }
  }
  return Math.min(1, tail / all);
}

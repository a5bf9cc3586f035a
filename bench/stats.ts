// Statistics for comparing two systems' latency tails from interleaved rounds. Pure functions, so
// the bench's verdict rests on code that is tested (test/bench-stats.test.ts).
import { mulberry32 } from '../src/util/random.js';

/** Percentile by nearest rank on an ascending array (what HdrHistogram reports, without bucketing). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** All rounds' latencies in one ascending array. */
export function pooled(rounds: Float64Array[]): Float64Array {
  const out = new Float64Array(rounds.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rounds) {
    out.set(r, at);
    at += r.length;
  }
  return out.sort();
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface TailComparison {
  /** p99 of all rounds of `a` pooled, minus the same for `b`. */
  difference: number;
  aQuantile: number;
  bQuantile: number;
  /** Central bootstrap interval of the difference (confidence `level`), resampling whole rounds. */
  low: number;
  high: number;
}

/**
 * Compares the q-quantile of two systems measured in paired, interleaved rounds. Rounds are the
 * unit of resampling because what the machine does (other processes, merges, GC) drifts from
 * round to round and hits both systems of a round alike; resampling single requests would hide that.
 */
export function compareTails(a: Float64Array[], b: Float64Array[], q = 0.99, opts: { resamples?: number; level?: number; seed?: number } = {}): TailComparison {
  if (a.length !== b.length || a.length === 0) throw new Error(`compareTails needs the same number of rounds for both systems (got ${a.length} and ${b.length})`);
  const { resamples = 1000, level = 0.9, seed = 1 } = opts;
  const aQuantile = percentile(pooled(a), q);
  const bQuantile = percentile(pooled(b), q);
  // Seeded, so a bench's interval is reproducible from its data.
  const random = mulberry32(seed);
  const diffs: number[] = [];
  for (let i = 0; i < resamples; i++) {
    const pick = Array.from({ length: a.length }, () => Math.floor(random() * a.length));
    diffs.push(percentile(pooled(pick.map((k) => a[k])), q) - percentile(pooled(pick.map((k) => b[k])), q));
  }
  diffs.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    difference: aQuantile - bQuantile,
    aQuantile,
    bQuantile,
    low: diffs[Math.floor(tail * (resamples - 1))],
    high: diffs[Math.ceil((1 - tail) * (resamples - 1))],
  };
}

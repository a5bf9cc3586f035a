// Stratified sampling for golden sets: strata by a key (spec × grounded × SLI outcome), failures
// over-sampled up to a share of the set, each stratum's share proportional within the failing and
// the passing half (largest remainder, every non-empty stratum at least one item when the size allows),
// and a seeded shuffle inside a stratum. Deterministic for a seed; independent of the input order. Pure.
import { fnv1a } from '../util/hash.js';
import { mulberry32 } from '../util/random.js';

export interface StratumCount {
  available: number;
  sampled: number;
}

export interface StratifiedSample<T> {
  sample: T[];
  strata: Record<string, StratumCount>;
}

export interface StratifyOptions<T> {
  size: number;
  /** Failures make up at least this share of the sample when there are enough of them. */
  failureShare: number;
  seed: number;
  key: (t: T) => string;
  failing: (t: T) => boolean;
  id: (t: T) => string;
}

/** Counts per stratum summing to `want` (≤ the total): proportional, largest remainder, at least one each when possible. */
export function allocate(sizes: readonly number[], want: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const n = Math.min(want, total);
  if (n === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (n * s) / total);
  const out = exact.map(Math.floor);
  let left = n - out.reduce((a, b) => a + b, 0);
  const byRemainder = sizes.map((_, i) => i).sort((a, b) => exact[b]! - out[b]! - (exact[a]! - out[a]!) || sizes[b]! - sizes[a]! || a - b);
  for (const i of byRemainder) if (left > 0 && out[i]! < sizes[i]!) (out[i]!++, left--);
  // Every non-empty stratum is represented, taken from the largest allocations, when there is room.
  const empty = sizes.map((s, i) => (s > 0 && out[i] === 0 ? i : -1)).filter((i) => i >= 0);
  for (const i of empty) {
    const donor = out.map((c, j) => [c, j] as const).filter(([c]) => c > 1).sort((a, b) => b[0] - a[0] || a[1] - b[1])[0];
    if (!donor) break;
    out[donor[1]]!--;
    out[i] = 1;
  }
  return out;
}

function shuffled<T>(items: T[], seed: number, key: string, id: (t: T) => string): T[] {
  const rng = mulberry32((seed ^ fnv1a(key)) >>> 0);
  const a = [...items].sort((x, y) => (id(x) < id(y) ? -1 : id(x) > id(y) ? 1 : 0));
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function stratifiedSample<T>(items: readonly T[], o: StratifyOptions<T>): StratifiedSample<T> {
  const fails = items.filter(o.failing);
  const passes = items.filter((t) => !o.failing(t));
  const size = Math.min(o.size, items.length);
  const natural = items.length ? fails.length / items.length : 0;
  let wantFail = Math.min(fails.length, Math.round(size * Math.max(o.failureShare, natural)));
  const wantPass = Math.min(passes.length, size - wantFail);
  wantFail = Math.min(fails.length, size - wantPass);
  const strata: Record<string, StratumCount> = {};
  const sample: T[] = [];
  for (const [group, want] of [[fails, wantFail], [passes, wantPass]] as const) {
    const byKey = new Map<string, T[]>();
    for (const t of group) byKey.set(o.key(t), [...(byKey.get(o.key(t)) ?? []), t]);
    const keys = [...byKey.keys()].sort();
    const counts = allocate(keys.map((k) => byKey.get(k)!.length), want);
    keys.forEach((k, i) => {
      const chosen = shuffled(byKey.get(k)!, o.seed, k, o.id).slice(0, counts[i]);
      strata[k] = { available: byKey.get(k)!.length, sampled: chosen.length };
      sample.push(...chosen);
    });
  }
  sample.sort((a, b) => (o.id(a) < o.id(b) ? -1 : o.id(a) > o.id(b) ? 1 : 0));
  return { sample, strata };
}

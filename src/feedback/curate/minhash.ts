// MinHash signatures and LSH banding for near-duplicate search (Broder 1997; Leskovec, Rajaraman &
// Ullman, Mining of Massive Datasets ch. 3). Pure.
import { fmix32, fnv1a } from '../../util/hash.js';
import { mulberry32 } from '../../util/random.js';

export const PERMUTATIONS = 128;
/** Shingles are character n-grams of the normalised text (spaces included). */
export const SHINGLE_CHARS = 5;
/** Fixed, so signatures (and dedup results) do not change with the split seed. */
export const MINHASH_SEED = 0x7457; // "tW"

export type Signature = Uint32Array;

/**
 * The text's set of shingles, hashed to 32 bits: character 5-grams over the normalised text; a text
 * shorter than that is one shingle. The empty text has no shingles.
 */
export function shingles(text: string, size = SHINGLE_CHARS): Set<number> {
  const out = new Set<number>();
  if (text.length === 0) return out;
  if (text.length <= size) return out.add(fnv1a(text));
  for (let i = 0; i + size <= text.length; i++) out.add(fnv1a(text.slice(i, i + size)));
  return out;
}

/** Salt per permutation, from a seeded PRNG: the same seed gives the same hash family. */
function salts(seed: number, n: number): Uint32Array {
  const next = mulberry32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 0x1_0000_0000);
  return out;
}
const SALTS = salts(MINHASH_SEED, PERMUTATIONS);

/** h_i(x) = murmur3 finaliser of (x xor salt_i): a seeded family of 32-bit hash functions. */
function mix(x: number, salt: number): number {
  return fmix32(x ^ salt);
}

/** The 128 minima. A text with no shingles gets all-0xffffffff (equal only to another empty text). */
export function signature(text: string): Signature {
  const sig = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const s of shingles(text)) {
    for (let i = 0; i < PERMUTATIONS; i++) {
      const h = mix(s, SALTS[i]!);
      if (h < sig[i]!) sig[i] = h;
    }
  }
  return sig;
}

/** Estimated Jaccard similarity: the share of positions where the minima agree. */
export function similarity(a: Signature, b: Signature): number {
  let same = 0;
  for (let i = 0; i < PERMUTATIONS; i++) if (a[i] === b[i]) same++;
  return same / PERMUTATIONS;
}

/**
 * Bands for a threshold, chosen so LSH never misses a pair the estimate puts at or above it: such a
 * pair disagrees in at most m = 128 − ⌈128·t⌉ positions, so with more than m disjoint bands one band
 * agrees entirely (pigeonhole) and the pair is a candidate. Rows per band: as many as that allows,
 * which keeps unrelated pairs from becoming candidates; then as many bands of that size as fit
 * (at t = 0.8: 32 bands of 4 rows).
 */
export function banding(threshold: number): { bands: number; rows: number } {
  const maxMismatches = PERMUTATIONS - Math.ceil(PERMUTATIONS * threshold - 1e-9);
  const rows = Math.max(1, Math.floor(PERMUTATIONS / Math.min(PERMUTATIONS, maxMismatches + 1)));
  return { bands: Math.floor(PERMUTATIONS / rows), rows };
}

/**
 * Candidate pairs (i < j) that share a whole band, each verified with the signature estimate.
 * Calls `onPair` for every pair with similarity ≥ threshold. Exact with respect to the estimate
 * (see banding), without comparing all n² pairs.
 */
export function similarPairs(sigs: readonly Signature[], threshold: number, onPair: (i: number, j: number, sim: number) => void): void {
  const { bands, rows } = banding(threshold);
  const seen = new Set<number>();
  for (let b = 0; b < bands; b++) {
    const buckets = new Map<string, number[]>();
    for (let i = 0; i < sigs.length; i++) {
      const key = Array.from(sigs[i]!.subarray(b * rows, (b + 1) * rows)).join(',');
      const bucket = buckets.get(key);
      if (bucket) bucket.push(i);
      else buckets.set(key, [i]);
    }
    for (const bucket of buckets.values()) {
      for (let x = 0; x < bucket.length; x++) {
        for (let y = x + 1; y < bucket.length; y++) {
          const i = bucket[x]!;
          const j = bucket[y]!;
          const pairKey = i * sigs.length + j;
          if (seen.has(pairKey)) continue;
          seen.add(pairKey);
          const sim = similarity(sigs[i]!, sigs[j]!);
          if (sim >= threshold) onPair(i, j, sim);
        }
      }
    }
  }
}

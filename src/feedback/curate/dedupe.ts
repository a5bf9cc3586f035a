// Near-duplicates collapse into one item: exact matches of the normalised dedup text first, then
// MinHash with LSH at the configured threshold, clustered with union-find; the best item of each
// cluster is kept. Also: items near an evaluation-set row are removed. Pure.
import type { CurationItem } from '../types.js';
import { dedupText } from './normalise.js';
import { signature, similarPairs, similarity, banding, type Signature } from './minhash.js';
import { bestFirst } from './rank.js';

export interface Duplicate {
  item: CurationItem;
  /** The kept item (dedupe) or the evaluation row's index (overlapsEvaluation) it is near. */
  duplicateOf: string;
  similarity: number;
}

export interface DedupeResult {
  kept: CurationItem[];
  removed: Duplicate[];
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]!]!;
      i = this.parent[i]!;
    }
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/**
 * Clusters of items whose dedup texts are near-duplicates (estimated Jaccard ≥ threshold), joined
 * transitively. Exact text matches are grouped before MinHash, so a thousand copies cost one signature.
 * Anything with messages clusters alike: the golden-set builder uses this too (gate/golden-build.ts).
 */
export function clusters<T extends { messages: readonly { role: string; content: string }[] }>(items: readonly T[], threshold: number): T[][] {
  const byText = new Map<string, T[]>();
  for (const item of items) {
    const text = dedupText(item);
    const group = byText.get(text);
    if (group) group.push(item);
    else byText.set(text, [item]);
  }
  const texts = [...byText.keys()];
  const uf = new UnionFind(texts.length);
  if (threshold <= 0) for (let i = 1; i < texts.length; i++) uf.union(0, i);
  else similarPairs(texts.map(signature), threshold, (i, j) => uf.union(i, j));
  const out = new Map<number, T[]>();
  texts.forEach((text, i) => {
    const root = uf.find(i);
    out.set(root, [...(out.get(root) ?? []), ...byText.get(text)!]);
  });
  return [...out.values()];
}

/**
 * One item per cluster: the best by bestFirst (exportable, then a human correction, any target,
 * ready, label source, newest). The others are removed, each with the id of the item it duplicates.
 * `blocked` holds the ids of items that cannot be exported (PII left), so they are kept only when
 * their whole cluster is blocked.
 */
export function dedupe(items: readonly CurationItem[], threshold: number, blocked?: ReadonlySet<string>): DedupeResult {
  const order = bestFirst(blocked);
  const kept: CurationItem[] = [];
  const removed: Duplicate[] = [];
  for (const cluster of clusters(items, threshold)) {
    const [best, ...rest] = [...cluster].sort(order);
    kept.push(best!);
    const bestSig = rest.length ? signature(dedupText(best!)) : null;
    for (const item of rest) removed.push({ item, duplicateOf: best!.requestId, similarity: similarity(bestSig!, signature(dedupText(item))) });
  }
  return { kept, removed };
}

/**
 * Items near any evaluation-set row (estimated Jaccard ≥ threshold against the row's text, as
 * evaluationTexts gives it) are removed, so nothing an evaluation measures is trained on.
 * `duplicateOf` names the row as `evaluation:<index>`.
 */
export function overlapsEvaluation(items: readonly CurationItem[], evalTexts: readonly string[], threshold: number): DedupeResult {
  if (evalTexts.length === 0) return { kept: [...items], removed: [] };
  const evalSigs = evalTexts.map(signature);
  const exact = new Map<string, number>();
  evalTexts.forEach((t, i) => exact.has(t) || exact.set(t, i));
  // LSH index over the evaluation rows, queried with each item.
  const { bands, rows } = banding(Math.max(threshold, 0));
  const bandKey = (sig: Signature, b: number) => `${b}:${Array.from(sig.subarray(b * rows, (b + 1) * rows)).join(',')}`;
  const index = new Map<string, number[]>();
  evalSigs.forEach((sig, i) => {
    for (let b = 0; b < bands; b++) {
      const key = bandKey(sig, b);
      index.set(key, [...(index.get(key) ?? []), i]);
    }
  });
  const kept: CurationItem[] = [];
  const removed: Duplicate[] = [];
  for (const item of items) {
    const text = dedupText(item);
    let hit: { row: number; sim: number } | null = exact.has(text) ? { row: exact.get(text)!, sim: 1 } : null;
    if (!hit && threshold <= 0) hit = { row: 0, sim: similarity(signature(text), evalSigs[0]!) };
    if (!hit) {
      const sig = signature(text);
      const seen = new Set<number>();
      for (let b = 0; b < bands && !hit; b++) {
        for (const row of index.get(bandKey(sig, b)) ?? []) {
          if (seen.has(row)) continue;
          seen.add(row);
          const sim = similarity(sig, evalSigs[row]!);
          if (sim >= threshold) {
            hit = { row, sim };
            break;
          }
        }
      }
    }
    if (hit) removed.push({ item, duplicateOf: `evaluation:${hit.row}`, similarity: hit.sim });
    else kept.push(item);
  }
  return { kept, removed };
}

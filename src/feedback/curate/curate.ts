// Curation: the queue's items → a train and a validation set, every removal accounted for. Stages run
// in the order StageCounts lists them: in → deduplicated (against the evaluation sets, then within)
// → pii_excluded → needs_correction → balanced_away → split → exported. Pure.
import { createHash } from 'node:crypto';
import { PII_TYPES } from '../../capture/redact.js';
import type { CurationConfig } from '../../config/schema.js';
import type { CurationItem, FilterRecord, StageCounts } from '../types.js';
import { balance } from './balance.js';
import { dedupe, overlapsEvaluation } from './dedupe.js';
import { banding, MINHASH_SEED, PERMUTATIONS, SHINGLE_CHARS } from './minhash.js';
import { checkPii, describeFinding } from './pii.js';
import { split } from './split.js';

export type RemovalStage = 'duplicate' | 'evaluation_overlap' | 'pii' | 'needs_correction' | 'balanced_away';

export interface Removal {
  requestId: string;
  stage: RemovalStage;
  reason: string;
  duplicateOf?: string;
}

export interface CurationResult {
  train: CurationItem[];
  validation: CurationItem[];
  removed: Removal[];
  counts: StageCounts;
  filters: FilterRecord[];
}

export type CurationOptions = CurationConfig & { evaluationTexts?: string[] };

const needsCorrection = (item: CurationItem): string | null =>
  item.state !== 'ready' ? `state ${item.state}` : item.target === null ? 'no target: label one' : null;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Curates the queue's items. The result does not depend on the items' order. Any two items that end
 * in the dataset are below duplicateThreshold (LSH is exact with respect to the MinHash estimate,
 * minhash.ts banding), so no train item is a near-duplicate of a validation item, whatever the split.
 */
export function curate(items: CurationItem[], options: CurationOptions): CurationResult {
  const threshold = options.duplicateThreshold;
  const evalTexts = options.evaluationTexts ?? [];
  const removed: Removal[] = [];

  // PII is known up front so a cluster's best item is one that can leave the store.
  const pii = checkPii(items);
  const blocked = new Set(pii.excluded.map((f) => f.item.requestId));
  const findings = new Map(pii.excluded.map((f) => [f.item.requestId, f]));

  const outsideEval = overlapsEvaluation(items, evalTexts, threshold);
  for (const d of outsideEval.removed) {
    removed.push({ requestId: d.item.requestId, stage: 'evaluation_overlap', reason: `near evaluation row ${d.duplicateOf.slice('evaluation:'.length)} (similarity ${d.similarity.toFixed(3)})`, duplicateOf: d.duplicateOf });
  }
  const unique = dedupe(outsideEval.kept, threshold, blocked);
  for (const d of unique.removed) {
    removed.push({ requestId: d.item.requestId, stage: 'duplicate', reason: `near-duplicate of ${d.duplicateOf} (similarity ${d.similarity.toFixed(3)})`, duplicateOf: d.duplicateOf });
  }

  const clean = unique.kept.filter((item) => !blocked.has(item.requestId));
  const piiHere = unique.kept.filter((item) => blocked.has(item.requestId)).map((item) => findings.get(item.requestId)!);
  for (const f of piiHere) removed.push({ requestId: f.item.requestId, stage: 'pii', reason: describeFinding(f) });
  const piiByType: Record<string, number> = {};
  for (const f of piiHere) for (const [t, n] of Object.entries(f.found)) piiByType[t] = (piiByType[t] ?? 0) + (n ?? 0);

  const labelled = clean.filter((item) => needsCorrection(item) === null);
  for (const item of clean) {
    const why = needsCorrection(item);
    if (why !== null) removed.push({ requestId: item.requestId, stage: 'needs_correction', reason: why });
  }

  const balanced = balance(labelled, options.maxPerReason, options.maxPerSli);
  for (const r of balanced.removed) removed.push({ requestId: r.item.requestId, stage: 'balanced_away', reason: r.cap });

  const { train, validation } = split(balanced.kept, options.splitBy, options.validationSplit, options.seed);
  removed.sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0));

  const count = (stage: RemovalStage) => removed.filter((r) => r.stage === stage).length;
  const counts: StageCounts = {
    in: items.length,
    deduplicated: count('duplicate') + count('evaluation_overlap'),
    pii_excluded: count('pii'),
    needs_correction: count('needs_correction'),
    balanced_away: count('balanced_away'),
    exported: train.length + validation.length,
  };
  const { bands, rows } = banding(Math.max(threshold, 0));
  const minhash = { text: 'prompt turns without system prompt or answer, normalised', shingles: `char ${SHINGLE_CHARS}-grams`, permutations: PERMUTATIONS, bands, rowsPerBand: rows, hashSeed: MINHASH_SEED };
  const filters: FilterRecord[] = [
    { name: 'evaluation_overlap', params: { threshold, sets: [...options.evaluationSets], evaluationRows: evalTexts.length, evaluationRowsSha256: sha256(JSON.stringify([...evalTexts].sort())), ...minhash } },
    { name: 'near_duplicate', params: { threshold, ...minhash, keep: 'no PII, human correction, any target, ready, label source, newest' } },
    { name: 'pii', params: { detectors: [...PII_TYPES], fields: ['messages', 'response', 'target'], found: piiByType } },
    { name: 'needs_correction', params: { requires: 'state ready and a target' } },
    { name: 'balance', params: { maxPerReason: options.maxPerReason, maxPerSli: options.maxPerSli } },
    { name: 'split', params: { by: options.splitBy, validationSplit: options.validationSplit, seed: options.seed } },
  ];
  return { train, validation, removed, counts, filters };
}

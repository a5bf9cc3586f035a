// The manifest of a dataset snapshot, and its content hash. Pure (hashing is not I/O).
import { createHash } from 'node:crypto';
import type { CurationResult } from './curate/curate.js';
import { reasonKey } from './curate/balance.js';
import { labelSource } from './curate/rank.js';
import { fileText, type DatasetFileContent } from './formats.js';
import type { DatasetFile, FilterRecord, Manifest } from './types.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** JSON with object keys sorted at every depth, so equal values always serialise alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The manifest's entry for a file: its row count and the SHA-256 of its bytes (fileText). */
export function describeFile(file: DatasetFileContent): DatasetFile {
  return { name: file.name, kind: file.kind, split: file.split, format: file.format, rows: file.rows.length, sha256: sha256(fileText(file)) };
}

/**
 * SHA-256 (hex) over the files (name, kind, split, format, rows, sha256; in name order) and the
 * filters with their parameters. The creation time, the tunewatch version and the model are left
 * out, so the same snapshot always has the same hash.
 */
export function contentHash(files: readonly DatasetFile[], filters: readonly FilterRecord[]): string {
  const entries = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, kind, split, format, rows, sha256: hash }) => ({ name, kind, split, format, rows, sha256: hash }));
  return sha256(canonicalJson({ files: entries, filters }));
}

const tally = (keys: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const k of [...keys].sort()) out[k] = (out[k] ?? 0) + 1;
  return out;
};

export interface ManifestInput {
  model: string;
  baseModel: string;
  tunewatchVersion: string;
  /** ISO 8601. */
  createdAt: string;
  result: CurationResult;
  files: DatasetFile[];
}

export function buildManifest({ model, baseModel, tunewatchVersion, createdAt, result, files }: ManifestInput): Manifest {
  const hash = contentHash(files, result.filters);
  const items = [...result.train, ...result.validation].sort((a, b) => (a.requestId < b.requestId ? -1 : 1));
  const evaluators = new Map<string, { name: string; version: string }>();
  for (const f of items.flatMap((i) => i.failures)) evaluators.set(`${f.evaluator}\u0000${f.evaluatorVersion}`, { name: f.evaluator, version: f.evaluatorVersion });
  const rowsOf = (kind: DatasetFile['kind'], split: DatasetFile['split']) => files.filter((f) => f.kind === kind && f.split === split).reduce((n, f) => n + f.rows, 0);
  return {
    id: `ds-${hash.slice(0, 16)}`,
    model,
    contentHash: hash,
    createdAt,
    tunewatchVersion,
    baseModel,
    samples: items.map((i) => i.requestId),
    sourceVersions: [...new Set(items.map((i) => i.version))].sort(),
    reasons: tally(items.flatMap((i) => [...new Set(i.failures.map(reasonKey))])),
    slis: tally(items.flatMap((i) => [...new Set(i.failures.map((f) => f.sli))])),
    evaluators: [...evaluators.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, e]) => e),
    labelSources: tally(items.map(labelSource)),
    filters: result.filters,
    counts: {
      ...result.counts,
      train: result.train.length,
      validation: result.validation.length,
      preferences: rowsOf('preferences', 'train'),
      preferences_validation: rowsOf('preferences', 'validation'),
    },
    files: [...files],
  };
}

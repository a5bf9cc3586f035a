// A fine-tuning job's id, derived from the dataset's content hash: the same snapshot of the same
// model always gets the same id, so it never launches twice. Pure.
import { createHash } from 'node:crypto';

const MAX_SLUG = 30;

/** The model's name as a DNS-1123 fragment: lowercase a-z0-9 and '-', at most 30 characters. */
export function modelSlug(model: string): string {
  const slug = model
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_SLUG)
    .replace(/^-+|-+$/g, '');
  return slug === '' ? 'model' : slug;
}

/**
 * `ft-<model slug ≤ 30>-<12 hex>`: a DNS-1123 label (≤ 46 characters, lowercase), usable as a
 * Kubernetes Job name, a Slurm job name and an OpenAI suffix. The hex is SHA-256 of the model name
 * and the content hash, so two models whose names slug alike (or are cut alike) never share an id.
 */
export function jobIdFor(model: string, contentHash: string): string {
  if (!/^[0-9a-f]{16,}$/i.test(contentHash)) throw new Error(`not a content hash: ${JSON.stringify(contentHash)}`);
  const hex = createHash('sha256').update(`${model}\n${contentHash.toLowerCase()}`).digest('hex').slice(0, 12);
  return `ft-${modelSlug(model)}-${hex}`;
}

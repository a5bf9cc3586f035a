// `golden build` against a store: read the model's samples in the window and build the set.
import { basename } from 'node:path';
import type { Config } from '../config/schema.js';
import { tunewatchVersion } from '../config/paths.js';
import { CurationSchema } from '../config/schema.js';
import type { Store } from '../store/client.js';
import { goldenCandidates } from '../store/golden-queries.js';
import { buildGolden, manifestPathOf, type GoldenManifest } from './golden-build.js';
import { GateUsageError } from './targets.js';

export class GoldenBuildError extends Error {
  override name = 'GoldenBuildError';
}

const DEFAULT_DUPLICATE_THRESHOLD = (CurationSchema.properties.duplicateThreshold as { default: number }).default;

export async function buildGoldenFromStore(
  store: Store,
  config: Config,
  o: { model: string; sinceMs: number; size: number; failureShare: number; seed: number; out?: string; since?: string },
): Promise<{ text: string; manifest: GoldenManifest; manifestFile: (out: string) => string }> {
  const model = config.models.find((m) => m.name === o.model);
  if (!model) throw new GateUsageError(`unknown model '${o.model}'; the config's models: ${config.models.map((m) => m.name).join(', ')}`);
  const candidates = await goldenCandidates(store, model.name, o.sinceMs);
  if (candidates.length === 0) throw new GoldenBuildError(`no samples of ${model.name} since ${new Date(o.sinceMs).toISOString()} in ${store.location}; widen --since or send traffic first`);
  const built = buildGolden(
    candidates,
    {
      model: model.name, size: o.size, failureShare: o.failureShare, seed: o.seed,
      duplicateThreshold: model.retrain?.curation.duplicateThreshold ?? DEFAULT_DUPLICATE_THRESHOLD,
      contextDelimiter: config.evaluation.hallucination.contextDelimiter,
      specs: Object.keys(config.specs), defaultSpec: model.spec,
      since: o.since ?? new Date(o.sinceMs).toISOString(), createdAt: new Date().toISOString(), tunewatchVersion: tunewatchVersion(),
    },
    o.out ? basename(o.out) : 'golden.jsonl',
  );
  if (built.items.length === 0) throw new GoldenBuildError(`none of the ${candidates.length} samples of ${model.name} is usable for a golden set (${built.manifest.counts.unusable} unusable, ${built.manifest.counts.pii_excluded} with PII left)`);
  return { ...built, manifestFile: manifestPathOf };
}

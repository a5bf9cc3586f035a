// Production samples → a golden set: answered chat/completion samples whose prompt reads back as
// messages, with no PII left after capture's redaction, near-duplicates collapsed with the retraining
// queue's MinHash clustering, then a stratified sample (spec × grounded × SLI outcome, failures
// over-sampled). Human corrections become references. The manifest follows the retraining datasets'.
// Pure (hashing is not I/O).
import { createHash } from 'node:crypto';
import { detectPii } from '../capture/redact.js';
import { delimitedSection } from '../evaluate/input.js';
import { SLIS } from '../evaluate/types.js';
import { clusters } from '../feedback/curate/dedupe.js';
import { banding, MINHASH_SEED, PERMUTATIONS, SHINGLE_CHARS } from '../feedback/curate/minhash.js';
import { canonicalJson } from '../feedback/manifest.js';
import { promptMessages } from '../feedback/messages.js';
import type { ChatMessage, FilterRecord } from '../feedback/types.js';
import type { GoldenCandidate } from '../store/golden-queries.js';
import { goldenLine, type GoldenItem } from './golden.js';
import { stratifiedSample, type StratumCount } from './stratify.js';

export interface GoldenBuildOptions {
  model: string;
  size: number;
  failureShare: number;
  seed: number;
  duplicateThreshold: number;
  contextDelimiter: string;
  /** Spec names the config knows; a sample's spec outside them is left out (the model's applies). */
  specs: readonly string[];
  /** The model's default spec, for the strata of samples that named none. */
  defaultSpec?: string;
  since: string;
  createdAt: string;
  tunewatchVersion: string;
}

export interface GoldenManifest {
  id: string;
  kind: 'golden';
  model: string;
  contentHash: string;
  createdAt: string;
  tunewatchVersion: string;
  samples: string[];
  sourceVersions: string[];
  filters: FilterRecord[];
  strata: Record<string, StratumCount>;
  counts: { in: number; unusable: number; pii_excluded: number; deduplicated: number; available: number; sampled: number; failures: number; references: number };
  files: { name: string; rows: number; sha256: string }[];
}

interface Usable {
  c: GoldenCandidate;
  messages: ChatMessage[];
  context: string;
  failing: string[];
  spec: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Grounding as the capture worker's evaluators see it: tunewatch.context, tool turns, the system prompt's delimited section. */
function groundingOf(c: GoldenCandidate, messages: ChatMessage[], delimiter: string): string {
  return [c.context, ...messages.filter((m) => m.role === 'tool').map((m) => m.content), ...messages.filter((m) => m.role === 'system').map((m) => delimitedSection(m.content, delimiter))]
    .filter(Boolean)
    .join('\n\n');
}

const hasPii = (u: Usable) => [...u.messages.map((m) => m.content), u.context, u.c.correction].some((t) => Object.keys(detectPii(t)).length > 0);

/** Best of a near-duplicate cluster: one with a reference, then the newest (its outcome is the cluster's); ties by id. */
function best(a: Usable, b: Usable): number {
  const rank = (u: Usable) => [u.c.correction ? 1 : 0, u.c.sampleTs];
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
  return a.c.requestId < b.c.requestId ? -1 : 1;
}

export const strataKey = (u: { spec: string; context: string; failing: string[] }) =>
  `spec=${u.spec || 'none'}|grounded=${u.context ? 'yes' : 'no'}|outcome=${u.failing.length ? `fail:${u.failing.join('+')}` : 'pass'}`;

export function buildGolden(candidates: readonly GoldenCandidate[], o: GoldenBuildOptions, fileName = 'golden.jsonl'): { items: GoldenItem[]; text: string; manifest: GoldenManifest } {
  const known = new Set(o.specs);
  const usable: Usable[] = [];
  let unusable = 0;
  for (const c of candidates) {
    const messages = c.statusCode >= 200 && c.statusCode < 300 && !c.truncated ? promptMessages(c.prompt, c.endpoint) : null;
    if (!messages) {
      unusable++;
      continue;
    }
    // The answer is not part of the prompt: a trailing assistant turn would be replayed as history.
    while (messages.length && messages[messages.length - 1]!.role === 'assistant') messages.pop();
    const failing = SLIS.filter((s) => c.verdicts[s] === 'bad');
    usable.push({ c, messages, context: groundingOf(c, messages, o.contextDelimiter), failing, spec: known.has(c.spec) ? c.spec : (o.defaultSpec ?? '') });
  }
  const clean = usable.filter((u) => !hasPii(u));
  const piiExcluded = usable.length - clean.length;
  const kept = clusters(clean, o.duplicateThreshold).map((group) => [...group].sort(best)[0]!);
  const { sample, strata } = stratifiedSample(kept, {
    size: o.size, failureShare: o.failureShare, seed: o.seed, key: strataKey, failing: (u) => u.failing.length > 0, id: (u) => u.c.requestId,
  });
  const items: GoldenItem[] = sample.map((u) => ({
    id: u.c.requestId,
    messages: u.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(known.has(u.c.spec) ? { spec: u.c.spec } : {}),
    ...(u.context ? { context: u.context } : {}),
    ...(u.c.correction ? { reference: u.c.correction } : {}),
    tags: ['source:production', `version:${u.c.version}`, u.context ? 'grounded' : 'ungrounded', u.failing.length ? 'outcome:fail' : 'outcome:pass', ...u.failing.map((s) => `failed:${s}`), ...(u.c.correction ? ['reference:human'] : [])],
  }));
  const text = items.map((i) => `${goldenLine(i)}\n`).join('');
  const { bands, rows } = banding(Math.max(o.duplicateThreshold, 0));
  const filters: FilterRecord[] = [
    { name: 'window', params: { since: o.since } },
    { name: 'usable', params: { requires: 'a 2xx answer, text not truncated, a prompt that reads back as chat messages' } },
    { name: 'pii', params: { detectors: 'capture redaction (detectPii)', fields: ['messages', 'context', 'reference'] } },
    { name: 'near_duplicate', params: { threshold: o.duplicateThreshold, text: 'prompt turns without system prompt, normalised', shingles: `char ${SHINGLE_CHARS}-grams`, permutations: PERMUTATIONS, bands, rowsPerBand: rows, hashSeed: MINHASH_SEED, keep: 'reference, newest' } },
    { name: 'stratify', params: { by: ['spec', 'grounded', 'outcome'], size: o.size, failureShare: o.failureShare, seed: o.seed } },
  ];
  const files = [{ name: fileName, rows: items.length, sha256: sha256(text) }];
  const hash = sha256(canonicalJson({ files, filters }));
  const manifest: GoldenManifest = {
    id: `golden-${hash.slice(0, 16)}`,
    kind: 'golden',
    model: o.model,
    contentHash: hash,
    createdAt: o.createdAt,
    tunewatchVersion: o.tunewatchVersion,
    samples: items.map((i) => i.id),
    sourceVersions: [...new Set(sample.map((u) => u.c.version))].sort(),
    filters,
    strata,
    counts: {
      in: candidates.length, unusable, pii_excluded: piiExcluded, deduplicated: clean.length - kept.length, available: kept.length,
      sampled: items.length, failures: sample.filter((u) => u.failing.length).length, references: items.filter((i) => i.reference !== undefined).length,
    },
    files,
  };
  return { items, text, manifest };
}

/** Where the manifest of a golden file goes: golden.jsonl → golden.manifest.json. */
export const manifestPathOf = (out: string) => (out.endsWith('.jsonl') ? `${out.slice(0, -'.jsonl'.length)}.manifest.json` : `${out}.manifest.json`);

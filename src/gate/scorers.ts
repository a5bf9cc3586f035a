// Semantic accuracy: an answer against a golden item's reference, by the scorer its spec names
// (specs.<name>.reference). Exact, normalised match, JSON field equality, numeric tolerance and token
// F1 are pure and here; the LLM judge is asked by the caller (gate/reference-judge.ts). Pure.
import { extractJson } from '../evaluate/instruction.js';
import { canonicalJson } from '../feedback/manifest.js';
import { normalise } from '../feedback/curate/normalise.js';
import type { ScorerName } from './types.js';

export interface ScorerConfig {
  scorer: ScorerName;
  /** json: the fields compared, as dot paths (a.b.0.c); absent: the whole value. */
  fields?: string[];
  /** numeric: the largest absolute difference that still counts as equal. */
  tolerance?: number;
  /** f1: the token F1 at or above which the answer is correct. */
  threshold?: number;
}

/** Without a `reference:` in the spec: token F1 ≥ 0.5 (SQuAD's measure, lenient with wording). */
export const DEFAULT_SCORER: ScorerConfig = { scorer: 'f1', threshold: 0.5 };
export const DEFAULT_F1_THRESHOLD = 0.5;

export interface Score {
  /** null: the scorer cannot say (the judge, which the caller asks). */
  correct: boolean | null;
  score: number | null;
  reason: string;
}

const tokens = (text: string) => normalise(text).split(' ').filter(Boolean);

/** Token F1 over the normalised words, counting repeats (SQuAD). */
export function tokenF1(answer: string, reference: string): number {
  const a = tokens(answer);
  const r = tokens(reference);
  if (a.length === 0 || r.length === 0) return a.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of r) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of a) {
    const n = counts.get(t) ?? 0;
    if (n > 0) (same++, counts.set(t, n - 1));
  }
  if (same === 0) return 0;
  const precision = same / a.length;
  const recall = same / r.length;
  return (2 * precision * recall) / (precision + recall);
}

const NUMBER = /[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

/** The first number in a text ("1,234.5" reads 1234.5), or null. */
export function firstNumber(text: string): number | null {
  for (const m of text.matchAll(NUMBER)) {
    if (!/\d/.test(m[0])) continue;
    const n = Number(m[0].replace(/,/g, ''));
    if (Number.isFinite(n)) return n;
  }
  return null;
}

/** The value at a dot path (a.b.0.c), or undefined. */
export function atPath(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v).slice(0, 60));

function jsonScore(answer: string, reference: string, fields: string[] | undefined): Score {
  const ref = extractJson(reference);
  if (!ref.ok) return { correct: false, score: 0, reason: `reference is not JSON: ${ref.error}` };
  const got = extractJson(answer);
  if (!got.ok) return { correct: false, score: 0, reason: `answer is not JSON: ${got.error}` };
  if (!fields?.length) {
    const same = canonicalJson(got.value) === canonicalJson(ref.value);
    return { correct: same, score: same ? 1 : 0, reason: same ? 'JSON equal to the reference' : 'JSON differs from the reference' };
  }
  const wrong = fields.filter((f) => canonicalJson(atPath(got.value, f)) !== canonicalJson(atPath(ref.value, f)) || atPath(ref.value, f) === undefined);
  const reason = wrong.length ? wrong.map((f) => `${f}: ${show(atPath(got.value, f))}, expected ${show(atPath(ref.value, f))}`).join('; ') : `fields ${fields.join(', ')} equal`;
  return { correct: wrong.length === 0, score: (fields.length - wrong.length) / fields.length, reason };
}

/** The answer against the reference by the configured scorer. */
export function scoreAnswer(answer: string, reference: string, config: ScorerConfig = DEFAULT_SCORER): Score {
  switch (config.scorer) {
    case 'exact': {
      const same = answer.trim() === reference.trim();
      return { correct: same, score: same ? 1 : 0, reason: same ? 'exact match' : 'not an exact match' };
    }
    case 'normalised': {
      const same = normalise(answer) === normalise(reference);
      return { correct: same, score: same ? 1 : 0, reason: same ? 'normalised match' : 'differs after normalisation' };
    }
    case 'json':
      return jsonScore(answer, reference, config.fields);
    case 'numeric': {
      const tolerance = config.tolerance ?? 0;
      const want = firstNumber(reference);
      const got = firstNumber(answer);
      if (want === null) return { correct: false, score: 0, reason: 'reference holds no number' };
      if (got === null) return { correct: false, score: 0, reason: 'answer holds no number' };
      const ok = Math.abs(got - want) <= tolerance;
      return { correct: ok, score: ok ? 1 : 0, reason: `${got} vs ${want} (tolerance ${tolerance})` };
    }
    case 'f1': {
      const threshold = config.threshold ?? DEFAULT_F1_THRESHOLD;
      const f1 = tokenF1(answer, reference);
      return { correct: f1 >= threshold, score: f1, reason: `token F1 ${f1.toFixed(2)} ${f1 >= threshold ? '≥' : '<'} ${threshold}` };
    }
    case 'judge':
      return { correct: null, score: null, reason: 'rated by the LLM judge' };
  }
}

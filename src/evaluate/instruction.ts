// The instruction-success evaluator (SLI instruction_success): does an answer follow its instruction
// spec and the request's response_format? Pure functions: specs are compiled once, answers checked many times.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { InstructionSpec } from '../config/schema.js';
import { DEFAULT_REFUSAL_PHRASES, detectRefusal, findRefusal } from './refusal.js';
import type { EvalInput, Verdict, VerdictValue } from './types.js';
import { allMatches } from '../util/matches.js';

export const INSTRUCTION_EVALUATOR = { name: 'instruction-spec', version: '2' } as const;

/** A spec that cannot be compiled; the message names the spec and the offending key. */
export class SpecError extends Error {
  constructor(readonly spec: string, detail: string) {
    super(`spec "${spec}": ${detail}`);
    this.name = 'SpecError';
  }
}

export interface CompiledSpec {
  name: string;
  check(input: EvalInput): Verdict;
}

/** One rule: returns null when the answer passes, else a short description of the failure. */
interface Check {
  label: string;
  run(answer: AnswerView): string | null;
}

// addUsedSchema: false keeps schemas with an $id out of the shared registry, so two schemas
// with the same $id (or a spec compiled again on reload) never collide.
const ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false });

function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  // Ajv's default class knows drafts 06/07 only; an unknown $schema (e.g. 2020-12) would fail, so drop it.
  const known = typeof schema.$schema !== 'string' || ajv.getSchema(schema.$schema) !== undefined;
  const { $schema: _dropped, ...rest } = schema;
  return ajv.compile(known ? schema : rest);
}

function describeSchemaErrors(errors: ErrorObject[] | null | undefined): string {
  const described = (errors ?? []).map((e) => {
    const where = e.instancePath || '(root)';
    const allowed = e.keyword === 'enum' ? `: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` : '';
    return `${where} ${e.message ?? 'is invalid'}${allowed}`;
  });
  const more = described.length > 2 ? ` (+${described.length - 2} more)` : '';
  return described.slice(0, 2).join(', ') + more;
}

// Schemas sent with requests (response_format json_schema), compiled once per distinct JSON text.
const REQUEST_SCHEMA_CACHE_SIZE = 100;
const requestSchemas = new Map<string, { validate: ValidateFunction } | { error: string }>();

function requestSchemaValidator(schema: Record<string, unknown>): ValidateFunction | string {
  const key = JSON.stringify(schema);
  let entry = requestSchemas.get(key);
  if (entry) {
    requestSchemas.delete(key); // re-insert: Map order doubles as least-recently-used order
  } else {
    try {
      entry = { validate: compileSchema(schema) };
    } catch (err) {
      entry = { error: (err as Error).message };
    }
    if (requestSchemas.size >= REQUEST_SCHEMA_CACHE_SIZE) {
      const [oldestKey, oldest] = requestSchemas.entries().next().value!;
      requestSchemas.delete(oldestKey);
      if ('validate' in oldest) ajv.removeSchema(oldest.validate.schema as object); // ajv caches by object: free it too
    }
  }
  requestSchemas.set(key, entry);
  return 'validate' in entry ? entry.validate : entry.error;
}

// JSON extraction

export type JsonExtraction = { ok: true; value: unknown } | { ok: false; error: string };

const MAX_LEAD_IN_CHARS = 200;
const FENCE = /```[ \t]*([\w+-]*)[^\n]*\n([\s\S]*?)\n?[ \t]*```/g;

function parseJson(text: string): JsonExtraction {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${clip((err as Error).message, 80)}` };
  }
}

/**
 * The JSON an answer carries: raw, in one Markdown code fence, or after a short lead-in sentence.
 * Prose around it is capped (200 chars, or half the JSON if longer): the JSON must be the main content.
 */
export function extractJson(answer: string): JsonExtraction {
  const text = answer.trim();
  if (/^[{[]/.test(text)) return parseJson(text);
  const fences = allMatches(FENCE, text);
  if (fences.length > 1) return { ok: false, error: `${fences.length} code blocks, expected one JSON block` };
  if (fences.length === 1) {
    const [whole, language, body] = fences[0];
    if (language && language.toLowerCase() !== 'json') return { ok: false, error: `code block is ${language}, not json` };
    const prose = text.replace(whole, '').trim();
    if (prose.length > Math.max(MAX_LEAD_IN_CHARS, body.length / 2)) {
      return { ok: false, error: 'the JSON block is not the main content of the answer' };
    }
    return parseJson(body.trim());
  }
  const start = text.search(/[{[]/);
  if (start > 0 && start <= MAX_LEAD_IN_CHARS) return parseJson(text.slice(start));
  return { ok: false, error: 'no JSON found' };
}

const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Text analysis

/** Counts whitespace-separated tokens that hold at least one letter or digit (a lone "-" is no word). */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
}

/** Lines outside fenced code blocks: a "# comment" in a code sample is not a heading. */
function proseLines(text: string): string[] {
  let inFence = false;
  return text.split(/\r?\n/).filter((line) => {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      return false;
    }
    return !inFence;
  });
}

const BULLET = /^\s*(?:[-*•+]\s+|\d{1,3}[.)]\s+)\S/;
const RULE = /^\s*([-*_])(?:\s*\1){2,}\s*$/; // "* * *" is a horizontal rule, not a bullet

export function countBullets(text: string): number {
  return proseLines(text).filter((line) => BULLET.test(line) && !RULE.test(line)).length;
}

/** Lowercase, no emphasis markers, leading numbering or surrounding punctuation. */
function normaliseTitle(title: string): string {
  return title
    .toLowerCase()
    .replace(/[*_`]/g, '')
    .trim()
    .replace(/^\d{1,3}[.)]\s*/, '')
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
    .replace(/\s+/g, ' ');
}

/** The normalised titles of Markdown headings, bold lines and "Title:" lines. */
export function sectionTitles(text: string): Set<string> {
  const titles = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^\s{0,3}#{1,6}\s+(.+)$/.exec(line);
    if (heading) titles.add(normaliseTitle(heading[1].replace(/\s#+\s*$/, '')));
    const bold = /^\s*(\*\*|__)(.+?)\1\s*:?\s*$/.exec(line);
    if (bold) titles.add(normaliseTitle(bold[2]));
    const colon = line.indexOf(':');
    if (colon > 0) titles.add(normaliseTitle(line.slice(0, colon)));
  }
  titles.delete('');
  return titles;
}

// Language detection: stopword counts, plus the script for clearly non-Latin text.

const STOPWORDS: Record<string, string> = {
  en: 'the and is are was were of to in that it for with as on be this by not or have has from at you your we they will can which an but if there their would should what when how all more also been these those into than',
  es: 'el la los las de del y que en un una es por para con no se su sus al lo como más pero este esta son está también muy ya hay ser sobre entre cuando todo puede sin',
  fr: 'le la les de des du et est un une en que qui dans pour pas sur au aux avec ce cette sont il elle nous vous ne se par plus mais ou être été très aussi leur comme',
  de: 'der die das und ist nicht ein eine zu den dem des mit von sich auf für im in es auch sind wird werden oder aber bei wie wenn nach kann noch nur über diese dass einen einer',
  it: 'il lo la gli le di del della che e è un una per non con sono si da in al nel come ma anche più questo questa ci ha essere molto tutti degli delle',
  pt: 'o os as de do da dos das e é que em um uma para com não por se na no mais como mas foi ao ser são está também muito isso seu sua pelo pela',
  nl: 'de het een en van is dat die in op te met voor niet zijn er aan ook als maar om bij naar dit worden wordt deze kan nog wel heeft hebben geen zo uit door',
};
export const DETECTABLE_LANGUAGES = Object.keys(STOPWORDS);

const LANGUAGES_OF_WORD = new Map<string, string[]>();
for (const [language, words] of Object.entries(STOPWORDS)) {
  for (const word of words.split(' ')) LANGUAGES_OF_WORD.set(word, [...(LANGUAGES_OF_WORD.get(word) ?? []), language]);
}

/**
 * Letters that only some detectable languages write ("ã" is Portuguese, "ñ" Spanish, "ß" German),
 * so a short answer with few stopwords still shows its language. A word counts once, for the
 * languages all its marked letters share.
 */
const LANGUAGES_OF_LETTER: Record<string, string[]> = {
  'ã': ['pt'], 'õ': ['pt'], 'ç': ['fr', 'pt'], 'ê': ['fr', 'pt'], 'â': ['fr', 'pt'], 'ô': ['fr', 'pt'],
  'ñ': ['es'], '¿': ['es'], '¡': ['es'], 'í': ['es', 'pt'], 'ó': ['es', 'pt', 'it'], 'ú': ['es', 'pt'], 'á': ['es', 'pt'],
  'è': ['fr', 'it'], 'à': ['fr', 'it', 'pt'], 'ù': ['fr', 'it'], 'î': ['fr'], 'û': ['fr'], 'ë': ['fr', 'nl'], 'ï': ['fr', 'nl'], 'œ': ['fr'],
  'ß': ['de'], 'ä': ['de'], 'ö': ['de'], 'ü': ['de'],
};
function languagesOfLetters(word: string): string[] {
  let shared: string[] | null = null;
  for (const ch of word) {
    const languages = LANGUAGES_OF_LETTER[ch];
    if (languages) shared = shared ? shared.filter((l) => languages.includes(l)) : languages;
  }
  return shared ?? [];
}

const SCRIPT_LANGUAGES: [RegExp, string][] = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/gu, 'ja'],
  [/\p{Script=Hangul}/gu, 'ko'],
  [/\p{Script=Han}/gu, 'zh'],
  [/\p{Script=Cyrillic}/gu, 'ru'],
  [/\p{Script=Arabic}/gu, 'ar'],
  [/\p{Script=Greek}/gu, 'el'],
  [/\p{Script=Hebrew}/gu, 'he'],
  [/\p{Script=Devanagari}/gu, 'hi'],
  [/\p{Script=Thai}/gu, 'th'],
];

/**
 * ISO 639-1 code of the text's language: one of DETECTABLE_LANGUAGES by stopwords, or a guess from
 * the script when most letters are not Latin (so "ru" stands for any Cyrillic text). Null when too
 * short (< 8 words, < 12 letters) or unsure.
 */
export function detectLanguage(text: string): string | null {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  const latin = text.match(/\p{Script=Latin}/gu)?.length ?? 0;
  if (letters >= 12 && latin < letters / 2) {
    // Kana marks Japanese even when kanji dominate, so it is tested first with a lower bar.
    for (const [script, language] of SCRIPT_LANGUAGES) {
      const share = (text.match(script)?.length ?? 0) / letters;
      if (share >= (language === 'ja' ? 0.1 : 0.5)) return language;
    }
    return null;
  }
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  if (words.length < 8) return null;
  const scores = new Map<string, number>();
  for (const word of words) {
    // A word shared by k languages is weak evidence for each of them; so is a letter only some languages write.
    for (const languages of [LANGUAGES_OF_WORD.get(word) ?? [], languagesOfLetters(word)]) {
      for (const language of languages) scores.set(language, (scores.get(language) ?? 0) + 1 / languages.length);
    }
  }
  const [best, second] = [...scores.entries()].sort((a, b) => b[1] - a[1]);
  if (!best || best[1] < 2 || best[1] < words.length * 0.08) return null;
  if (second && best[1] < second[1] * 1.5) return null;
  return best[0];
}

// Compilation and evaluation

/** Derived views of one answer, each computed at most once per evaluation. */
class AnswerView {
  constructor(readonly text: string) {}
  private memo = new Map<string, unknown>();
  private once<T>(key: string, compute: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, compute());
    return this.memo.get(key) as T;
  }
  get json() { return this.once('json', () => extractJson(this.text)); }
  get words() { return this.once('words', () => countWords(this.text)); }
  get chars() { return this.once('chars', () => [...this.text.trim()].length); }
  get bullets() { return this.once('bullets', () => countBullets(this.text)); }
  get sections() { return this.once('sections', () => sectionTitles(this.text)); }
  get language() { return this.once('language', () => detectLanguage(this.text.replace(/```[\s\S]*?```/g, ' '))); }
}

const INLINE_FLAGS = /^\(\?([ims]+)\)/;

/** Compiles a regex from YAML, where a leading (?i), (?m), (?s) or a combination like (?im) sets flags. */
export function compilePattern(source: string): RegExp {
  const inline = INLINE_FLAGS.exec(source);
  const flags = inline ? [...new Set(inline[1])].join('') : '';
  return new RegExp(inline ? source.slice(inline[0].length) : source, flags);
}

const showPattern = (re: RegExp) => clip(`/${re.source}/${re.flags}`, 60);
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function boundChecks(spec: InstructionSpec, name: string, unit: 'Words' | 'Chars' | 'Bullets', measure: (a: AnswerView) => number): Check[] {
  const min = spec[`min${unit}`];
  const max = spec[`max${unit}`];
  if (min !== undefined && max !== undefined && min > max) throw new SpecError(name, `min${unit} (${min}) is greater than max${unit} (${max})`);
  const noun = unit.slice(0, -1).toLowerCase();
  const checks: Check[] = [];
  if (min !== undefined) checks.push({ label: `min${unit}`, run: (a) => (measure(a) < min ? `${plural(measure(a), noun)} < ${min}` : null) });
  if (max !== undefined) checks.push({ label: `max${unit}`, run: (a) => (measure(a) > max ? `${plural(measure(a), noun)} > ${max}` : null) });
  return checks;
}

export function compileSpec(name: string, spec: InstructionSpec, options: { refusalPhrases?: string[] } = {}): CompiledSpec {
  const checks: Check[] = [];
  if (spec.json) checks.push({ label: 'json', run: (a) => (!a.json.ok ? a.json.error : typeof a.json.value === 'object' && a.json.value !== null ? null : 'not a JSON object or array') });
  if (spec.jsonSchema) {
    let validate: ValidateFunction;
    try {
      validate = compileSchema(spec.jsonSchema);
    } catch (err) {
      throw new SpecError(name, `jsonSchema is not a valid JSON Schema: ${(err as Error).message}`);
    }
    checks.push({
      label: 'jsonSchema',
      run: (a) => (!a.json.ok ? (spec.json ? 'no JSON to validate' : a.json.error) : validate(a.json.value) ? null : describeSchemaErrors(validate.errors)),
    });
  }
  for (const key of ['mustMatch', 'mustNotMatch'] as const) {
    (spec[key] ?? []).forEach((source, i) => {
      let re: RegExp;
      try {
        re = compilePattern(source);
      } catch (err) {
        throw new SpecError(name, `${key}[${i}] is not a valid regular expression: ${(err as Error).message}`);
      }
      checks.push(key === 'mustMatch'
        ? { label: key, run: (a) => (re.test(a.text) ? null : `${showPattern(re)} not found`) }
        : { label: key, run: (a) => { const hit = re.exec(a.text); return hit ? `${showPattern(re)} matched "${clip(hit[0], 30)}"` : null; } });
    });
  }
  checks.push(...boundChecks(spec, name, 'Words', (a) => a.words), ...boundChecks(spec, name, 'Chars', (a) => a.chars));
  if (spec.requiredSections?.length) {
    const wanted = spec.requiredSections.map((title) => ({ title, key: normaliseTitle(title) }));
    checks.push({
      label: 'requiredSections',
      run: (a) => {
        const missing = wanted.filter((w) => !a.sections.has(w.key)).map((w) => JSON.stringify(w.title));
        return missing.length ? `missing ${missing.join(', ')}` : null;
      },
    });
  }
  checks.push(...boundChecks(spec, name, 'Bullets', (a) => a.bullets));
  if (spec.language !== undefined) {
    const expected = spec.language;
    if (!DETECTABLE_LANGUAGES.includes(expected)) throw new SpecError(name, `language "${expected}" is not supported (${DETECTABLE_LANGUAGES.join(', ')})`);
    checks.push({ label: 'language', run: (a) => (a.language && a.language !== expected ? `answer looks ${a.language}, not ${expected}` : null) });
  }
  if (spec.noRefusal ?? true) {
    const phrases = options.refusalPhrases ?? DEFAULT_REFUSAL_PHRASES;
    // Configured phrases replace the defaults; the defaults also read refusals by structure ("I won't", "not comfortable").
    const find = options.refusalPhrases ? (t: string) => findRefusal(t, phrases) : (t: string) => findRefusal(t, phrases) ?? detectRefusal(t);
    checks.push({ label: 'noRefusal', run: (a) => { const phrase = find(a.text); return phrase ? `refusal "${phrase}"` : null; } });
  }
  return { name, check: (input) => runChecks(input, checks, name) };
}

/**
 * The request's response_format, checked whatever the spec. Strict: a client in JSON mode calls
 * JSON.parse on the raw answer, so a fenced or prefaced JSON breaks it even if a spec would accept it.
 */
function responseFormatChecks(input: EvalInput, notes: string[]): Check[] {
  if (input.responseFormat === 'text') return [];
  let validate: ValidateFunction | null = null;
  if (input.responseFormat === 'json_schema' && input.responseSchema) {
    const compiled = requestSchemaValidator(input.responseSchema);
    if (typeof compiled === 'string') notes.push(`request schema not checked, it is invalid: ${clip(compiled, 80)}`);
    else validate = compiled;
  }
  return [{
    label: `response_format ${input.responseFormat}`,
    run: (a) => {
      const parsed = parseJson(a.text.trim());
      if (!parsed.ok) return a.json.ok ? 'JSON is wrapped in prose or a code fence' : parsed.error;
      if (!isJsonObject(parsed.value)) return 'not a JSON object';
      return validate && !validate(parsed.value) ? describeSchemaErrors(validate.errors) : null;
    },
  }];
}

const MAX_REASON_CHARS = 300;

function verdict(value: VerdictValue, score: number | null, reason: string): Verdict {
  return { sli: 'instruction_success', evaluator: INSTRUCTION_EVALUATOR.name, evaluatorVersion: INSTRUCTION_EVALUATOR.version, verdict: value, score, reason: clip(reason, MAX_REASON_CHARS) };
}

function runChecks(input: EvalInput, specChecks: Check[], specName: string | null): Verdict {
  const notes: string[] = [];
  const checks = [...responseFormatChecks(input, notes), ...specChecks];
  if (checks.length === 0) return verdict('unknown', null, specName === null ? 'no instruction spec applies' : `spec ${specName} has no checks`);
  const answer = new AnswerView(input.response);
  const failures = checks.flatMap((c) => {
    const failure = c.run(answer);
    return failure === null ? [] : [`${c.label}: ${failure}`];
  });
  const score = (checks.length - failures.length) / checks.length;
  const source = specName === null ? `response_format ${input.responseFormat}` : `spec ${specName}`;
  const summary = failures.length ? failures.join('; ') : `all ${plural(checks.length, 'check')} passed (${source})`;
  return verdict(failures.length ? 'bad' : 'good', score, [summary, ...notes].join('; '));
}

/** The instruction_success verdict for one answer: the spec's checks plus the response_format checks. */
export function evaluateInstruction(input: EvalInput, spec: CompiledSpec | null): Verdict {
  return spec ? spec.check(input) : runChecks(input, [], null);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

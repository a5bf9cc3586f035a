/**
 * Claims of a text: numbers with what they count, dates (full, partial and weekdays), times of day,
 * quarters, identifiers (versions, ids, codes), quotes, URLs, multi-word names and single-word
 * entities. Each carries where it is, so support can be checked against the context clause that
 * holds the same kind of value. Pure; the same extraction reads the answer and the evidence.
 */
import type { Quantity, Range } from '../quantities.js';
import { pattern } from './bmp.js';
import { isMonthOrDay } from './value-patterns.js';
import { blank, readValues, type Stage } from './values.js';
import { allMatches, isStopword, lemma } from './words.js';

export { normalizeQuote, normalizeUrl, URL_RE } from './value-patterns.js';
export type { Stage } from './values.js';

export type ClaimKind = 'number' | 'date' | 'percentage' | 'time' | 'identifier' | 'quote' | 'name' | 'entity' | 'url' | 'statement';

/** A claim as reported: `(subject, unit, value)` where the text gives them. */
export interface Claim {
  kind: ClaimKind;
  text: string;
  normalized: string;
}

/** A date as far as the text gives it; `dayOfWeek` is computed for full dates, `weekday` is a weekday the text names. */
export interface CalendarDate { y?: number; m?: number; d?: number; weekday?: number; quarter?: string; dayOfWeek?: number }
export interface ParsedClaim extends Claim {
  at: number;
  end: number;
  quantity?: Quantity;
  range?: Range;
  date?: CalendarDate;
  /** Minutes since midnight, or a span of them for "morning". */
  minutes?: [number, number];
  /** "9 o'clock": the same time twelve hours later too. */
  twelveHour?: boolean;
  /** Evidence only: the dimensions a bare number's sentence names ("Weight (kg) | 40"). */
  tableDims?: Set<string>;
}


// ---------- quotes, names, urls ----------

const NAME_RUN_RE = pattern(/(?<![\p{L}\p{N}'’-])(?:\p{Lu}[\p{L}'’-]*\p{L}|\p{Lu}\.)(?:[ \t]+(?:(?:of|de|da|van|von|der|den|del|la|le|du|&)[ \t]+)*(?:\p{Lu}[\p{L}'’-]*\p{L}|\p{Lu}\.))+/gu);
const CONNECTORS = new Set(['of', 'de', 'da', 'van', 'von', 'der', 'den', 'del', 'la', 'le', 'du', '&']);
/** Capitalised only because they start a sentence, or titles that precede a name. */
const LEADING_WORDS = new Set(
  ('the a an this that these those it its in on at for from to by with as and but or if when while after before during according however also yesterday today tomorrow ' +
    'i we you he she they our their his her my your here there some many most all each every no not yes so then thus therefore meanwhile overall finally first second third ' +
    'next last note please why what how where who which both per via under over since although because unlike like dear hi hello thanks see use try call is are was were ' +
    'do does did can could would should will may mr mrs ms dr prof sir additionally furthermore moreover besides instead otherwise still yet now later once whereas ' +
    'despite given following using within without between among across including').split(' '),
);
/** Title-case words that make headings ("Key Findings"), not names. */
const GENERIC_WORDS = new Set(
  ('summary overview introduction conclusion conclusions key point points finding findings result results note notes example examples step steps table figure section ' +
    'chapter part background details recommendation recommendations benefit benefits pros cons answer question questions important warning tip tips source sources ' +
    'reference references total january february march april may june july august september october november december monday tuesday wednesday thursday friday saturday sunday').split(' '),
);
/** Markdown headings, bold-only lines and short "Label:" lines are title case by convention. */
const HEADING_LINE = /^[ \t]*(?:#.*|\*\*[^*\n]+\*\*:?[ \t]*|(?:\S+[ \t]+){0,5}\S+:[ \t]*)$/gm;
/** What may precede the first word of a sentence or list item. */
const SENTENCE_START = /(?:^[ \t]*|[.!?]["')\]]*\s+|\n[ \t]*(?:[-*+>]|\d+[.)])?[ \t]*|\*\*)$/;
const isInitial = (w: string) => /^\p{Lu}\.$/u.test(w);

/** Lowercase words for name matching: possessives, initials and symbols dropped. */
const NAME_TOKEN_RE = pattern(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu);
export const nameTokens = (text: string) =>
  (text.toLowerCase().match(NAME_TOKEN_RE.of(text)) ?? []).map((w) => w.replace(/['’]s$/, '')).filter((w) => w.length > 1);

function nameOf(run: string, sentenceStart: boolean): string | null {
  const words = run.split(/\s+/);
  // "Currently Acme sells...": a sentence-initial adverb is capitalised only by position.
  if (sentenceStart && /^\p{Lu}\p{Ll}+ly$/u.test(words[0])) words.shift();
  while (words.length && (LEADING_WORDS.has(words[0].toLowerCase()) || isInitial(words[0]) || CONNECTORS.has(words[0]))) words.shift();
  while (words.length && (CONNECTORS.has(words.at(-1) as string) || isInitial(words.at(-1) as string))) words.pop();
  const full = words.filter((w) => !CONNECTORS.has(w) && !isInitial(w));
  if (full.length < 2) return null;
  const lower = full.map((w) => w.toLowerCase().replace(/['’]s$/, ''));
  if (lower.every((w) => GENERIC_WORDS.has(w) || LEADING_WORDS.has(w))) return null;
  if (full.every((w) => w === w.toUpperCase())) return null; // SHOUTED TEXT, not a name
  return words.join(' ').replace(/['’]s$/, '');
}

/** Capitalised or mixed-case single words ("Dublin", "aptX", "BambooHR"), not at a sentence start. */
const ENTITY_RE = pattern(/(?<![\p{L}\p{N}'’-])(?:\p{Lu}\p{Ll}+(?:\p{Lu}\p{Ll}*)*|\p{Ll}+\p{Lu}[\p{L}]*|\p{Lu}{2,}\p{Ll}*)(?![\p{L}\p{N}'’-])/gu);
/** A list of examples after "such as", "including", "e.g." or "like" (not "like to", "like a"). */
const EXAMPLES_RE = pattern(/\b(?:such as|including|includes?|e\.g\.,?|namely|like(?!\s+(?:to|a|an|the|this|that|it|you|we|they|i|me|my|your|so|how|what|when)\b))\s+([\p{L}][\p{L}\p{N}' -]*(?:,\s*(?:and\s+|or\s+)?[\p{L}][\p{L}\p{N}' -]*)*)/giu);
/** One item of such a list, and its last word (the head of a short noun phrase). */
const LIST_ITEM_RE = pattern(/(?:^|,|\band\b|\bor\b)\s*(?:[\p{L}\p{N}'-]+\s+){0,2}?([\p{L}][\p{L}\p{N}'-]*)(?=\s*(?:,|\band\b|\bor\b|$))/gu);
/** Words capitalised by convention rather than as names. */
const ENTITY_STOP = new Set(['i', 'ok', 'faq', 'utc', 'gmt', 'am', 'pm', 'id', 'ids', 'url', 'api', 'eta', 'vs', 'etc', 'tl;dr', 'dr', 'mr', 'mrs', 'ms', 'prof', 'st']);

interface ClaimOptions {
  /** Evidence mode: values only, every one of them, small counts too. */
  evidence?: boolean;
  /** Evidence only: stop once every claim of this stage is read; the claims read are those a full reading finds first. */
  through?: Stage;
  /** Run every pattern, needed or not: the plain reading the skipping is tested against. */
  everyPattern?: boolean;
}

/** The claims of a text, in order of appearance, each once (answers) or all of them (evidence). */
export function parseClaims(source: string, { evidence = false, through = 'all', everyPattern = false }: ClaimOptions = {}): ParsedClaim[] {
  const reading = readValues(source, { evidence, everyPattern });
  const claims = reading.through(evidence ? through : 'all');
  // Evidence for names and entities is the context's words (support.ts), not its claims.
  if (evidence) return claims.sort((a, b) => a.at - b.at);
  let text = reading.blanked();
  const prose = text.replace(HEADING_LINE, (line) => ' '.repeat(line.length));
  for (const m of allMatches(reading.form(NAME_RUN_RE), prose)) {
    // A possessive ends a name: "New York's Chrysler Building" is two.
    m[0].split(/(?<=['’]s)\s+/).forEach((run, i) => {
      const name = nameOf(run, i === 0 && SENTENCE_START.test(prose.slice(Math.max(0, m.index - 12), m.index)));
      if (!name) return;
      const at = m.index + m[0].indexOf(run);
      claims.push({ kind: 'name', text: name, normalized: nameTokens(name).join(' '), at, end: at + run.length });
      text = blank(text, at, at + run.length);
    });
  }
  for (const m of allMatches(reading.form(ENTITY_RE), text.replace(HEADING_LINE, (line) => ' '.repeat(line.length)))) {
    const word = m[0];
    const lower = word.toLowerCase();
    if (ENTITY_STOP.has(lower) || isStopword(lower) || isMonthOrDay(word) || GENERIC_WORDS.has(lower) || LEADING_WORDS.has(lower)) continue;
    if (SENTENCE_START.test(text.slice(Math.max(0, m.index - 12), m.index))) continue;
    claims.push({ kind: 'entity', text: word, normalized: lemma(word), at: m.index, end: m.index + word.length });
  }
  // Examples name things: "blood thinners like heparin", "codecs such as AAC and aptX". Each item's head word is an entity.
  const taken = new Uint8Array(text.length + 1);
  for (const c of claims) taken.fill(1, c.at, c.end);
  for (const m of allMatches(reading.form(EXAMPLES_RE), text)) {
    const listStart = m.index + m[0].length - m[1].length;
    for (const item of allMatches(reading.form(LIST_ITEM_RE), m[1])) {
      const head = item[1];
      const at = listStart + item.index + item[0].length - head.length;
      if (!isStopword(head) && !taken[at]) claims.push({ kind: 'entity', text: head, normalized: lemma(head), at, end: at + head.length });
    }
  }
  claims.sort((a, b) => a.at - b.at);
  const seen = new Set<string>();
  return claims.filter((c) => {
    const key = `${c.kind}:${c.normalized}`;
    return !seen.has(key) && seen.add(key);
  });
}

/** The checkable claims of an answer, in order of appearance, each once. */
export function extractClaims(text: string): Claim[] {
  return parseClaims(text).map(({ kind, text: t, normalized }) => ({ kind, text: t, normalized }));
}

/**
 * Grounding evaluator for the `hallucination_free` SLI: extracts the checkable claims of an
 * answer (numbers, dates, percentages, quotes, names, URLs) and checks each against the
 * context and the prompt after normalisation. Pure and synchronous.
 */
import {
  NUMBER_RE,
  PERCENT_RE,
  RANGE_RES,
  isSmallCount,
  normalizedQuantity,
  normalizedRange,
  percentOf,
  quantityOf,
  quantitySupported,
  rangeOf,
  rangeSupported,
  type Quantity,
  type Range,
} from './quantities.js';
import type { EvalInput, Verdict, VerdictValue } from './types.js';

export const HALLUCINATION_EVALUATOR = { name: 'grounding-claims', version: '1' } as const;

export interface Claim {
  kind: 'number' | 'date' | 'percentage' | 'quote' | 'name' | 'url';
  text: string;
  normalized: string;
}

export interface HallucinationOptions {
  /** Share of unsupported claims still judged good; 0 means every claim must be supported. */
  maxUnsupportedRatio?: number;
}

interface CalendarDate { y?: number; m?: number; d?: number }
interface ParsedClaim extends Claim {
  at: number;
  quantity?: Quantity;
  range?: Range;
  date?: CalendarDate;
}

// ---------- dates ----------

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = String.raw`(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?`;
const ORD = '(?:st|nd|rd|th)?';
const monthOf = (name: string) => MONTH_NAMES.indexOf(name.slice(0, 3).toLowerCase()) + 1;

/** Most specific first, so "March 3, 2021" is consumed before "March 3" or "2021" could be. */
const DATE_PATTERNS: { re: RegExp; parse: (m: RegExpExecArray) => CalendarDate }[] = [
  { re: /\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g, parse: (m) => ({ y: +m[1], m: +m[2], d: +m[3] }) },
  { re: new RegExp(String.raw`\b${MONTH}\s+(\d{1,2})${ORD},?\s+(\d{4})\b`, 'g'), parse: (m) => ({ y: +m[3], m: monthOf(m[1]), d: +m[2] }) },
  { re: new RegExp(String.raw`\b(\d{1,2})${ORD}\s+(?:of\s+)?${MONTH},?\s+(\d{4})\b`, 'g'), parse: (m) => ({ y: +m[3], m: monthOf(m[2]), d: +m[1] }) },
  // Slashes are read month-first (US) unless the first part cannot be a month.
  { re: /\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g, parse: (m) => (+m[1] > 12 ? { y: +m[3], m: +m[2], d: +m[1] } : { y: +m[3], m: +m[1], d: +m[2] }) },
  { re: new RegExp(String.raw`\b${MONTH}\s+(?:of\s+)?(\d{4})\b`, 'g'), parse: (m) => ({ y: +m[2], m: monthOf(m[1]) }) },
  { re: new RegExp(String.raw`\b${MONTH}\s+(\d{1,2})${ORD}\b`, 'g'), parse: (m) => ({ m: monthOf(m[1]), d: +m[2] }) },
  { re: new RegExp(String.raw`\b(\d{1,2})${ORD}\s+(?:of\s+)?${MONTH}(?![\p{L}])`, 'gu'), parse: (m) => ({ m: monthOf(m[2]), d: +m[1] }) },
];
/** A bare year is a date only after a word that introduces one ("in 2019", "since 1998"). */
const YEAR_RE = /\b(?:in|since|by|from|until|till|through|during|before|after|circa|around|year|early|late|mid)\s+(\d{4})\b/gi;

const validDate = ({ y, m, d }: CalendarDate) =>
  (y === undefined || (y >= 1000 && y <= 2999)) && (m === undefined || (m >= 1 && m <= 12)) && (d === undefined || (d >= 1 && d <= 31));
const pad2 = (n: number) => String(n).padStart(2, '0');
function isoOf({ y, m, d }: CalendarDate): string {
  if (y === undefined) return `--${pad2(m ?? 0)}-${pad2(d ?? 0)}`;
  return [String(y), ...(m ? [pad2(m)] : []), ...(m && d ? [pad2(d)] : [])].join('-');
}

// ---------- quotes, names, urls ----------

const QUOTE_RE = /"([^"\n]+)"|“([^”\n]+)”/g;
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`)\]]+/gi;
const normalizeQuote = (s: string) =>
  s.toLowerCase().replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, ' ').replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');

function normalizeUrl(raw: string): string {
  try {
    const url = new URL(/^www\./i.test(raw) ? `http://${raw}` : raw);
    return `${url.hostname.replace(/^www\./, '')}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

const NAME_RUN_RE = /(?<![\p{L}\p{N}'’-])(?:\p{Lu}[\p{L}'’-]*\p{L}|\p{Lu}\.)(?:[ \t]+(?:(?:of|de|da|van|von|der|den|del|la|le|du|&)[ \t]+)*(?:\p{Lu}[\p{L}'’-]*\p{L}|\p{Lu}\.))+/gu;
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
const SENTENCE_START = /(?:^|[.!?]["')\]]*\s+|\n[ \t]*(?:[-*+>]|\d+[.)])?[ \t]*|\*\*)$/;
/** Code is not a factual claim: "range(100)" or "Config Loader" in a snippet says nothing about the world. */
const CODE_RE = /```[\s\S]*?(?:```|$)|`[^`\n]+`/g;
const isInitial = (w: string) => /^\p{Lu}\.$/u.test(w);

/** Lowercase words for name matching: possessives, initials and symbols dropped. */
const nameTokens = (text: string) =>
  (text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? []).map((w) => w.replace(/['’]s$/, '')).filter((w) => w.length > 1);

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

// ---------- extraction ----------

/** "1." and "2)" list markers, blanked before numbers are read (numbers themselves are in quantities.ts). */
const LIST_NUMBERING = /^([ \t]*)(\d{1,3}[.)])(?=\s)/gm;
/** Blanks a span so later, less specific patterns cannot claim it again. */
const blank = (text: string, start: number, end: number) => text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);

function parseClaims(answer: string): ParsedClaim[] {
  const claims: ParsedClaim[] = [];
  let text = answer
    .replace(CODE_RE, (code) => ' '.repeat(code.length))
    .replace(LIST_NUMBERING, (_, indent: string, marker: string) => indent + ' '.repeat(marker.length));
  const take = (start: number, end: number, claim: Omit<ParsedClaim, 'at'>) => {
    claims.push({ ...claim, at: start });
    text = blank(text, start, end);
  };
  for (const m of [...text.matchAll(URL_RE)]) {
    const raw = m[0].replace(/[.,;:!?]+$/, '');
    take(m.index, m.index + raw.length, { kind: 'url', text: raw, normalized: normalizeUrl(raw) });
  }
  for (const m of [...text.matchAll(QUOTE_RE)]) {
    const inner = (m[1] ?? m[2]).trim();
    if (inner.split(/\s+/).length >= 3) take(m.index, m.index + m[0].length, { kind: 'quote', text: inner, normalized: normalizeQuote(inner) });
  }
  for (const { re, parse } of DATE_PATTERNS) {
    for (const m of [...text.matchAll(re)]) {
      const date = parse(m as RegExpExecArray);
      if (validDate(date)) take(m.index, m.index + m[0].length, { kind: 'date', text: m[0], normalized: isoOf(date), date });
    }
  }
  for (const m of [...text.matchAll(YEAR_RE)]) {
    const start = m.index + m[0].length - 4;
    const date = { y: +m[1] };
    if (validDate(date)) take(start, start + 4, { kind: 'date', text: m[1], normalized: m[1], date });
  }
  for (const m of [...text.matchAll(PERCENT_RE)]) {
    const quantity = percentOf(m.groups ?? {});
    take(m.index, m.index + m[0].length, { kind: 'percentage', text: m[0], normalized: normalizedQuantity(quantity), quantity });
  }
  // Ranges before single numbers, which would split "3-5 business days" in two.
  for (const re of RANGE_RES) {
    for (const m of [...text.matchAll(re)]) {
      const range = rangeOf(m.groups ?? {});
      if (range) take(m.index, m.index + m[0].length, { kind: 'number', text: m[0].trim(), normalized: normalizedRange(range), range });
    }
  }
  for (const m of [...text.matchAll(NUMBER_RE)]) {
    const g = m.groups ?? {};
    const quantity = quantityOf(g);
    // List markers and small counts ("3 steps") are not worth checking.
    if (isSmallCount(g, quantity)) continue;
    take(m.index, m.index + m[0].length, { kind: 'number', text: m[0].trim(), normalized: normalizedQuantity(quantity), quantity });
  }
  const prose = text.replace(HEADING_LINE, (line) => ' '.repeat(line.length));
  for (const m of prose.matchAll(NAME_RUN_RE)) {
    // A possessive ends a name: "New York's Chrysler Building" is two.
    m[0].split(/(?<=['’]s)\s+/).forEach((run, i) => {
      const name = nameOf(run, i === 0 && SENTENCE_START.test(prose.slice(Math.max(0, m.index - 12), m.index)));
      if (name) claims.push({ kind: 'name', text: name, normalized: nameTokens(name).join(' '), at: m.index + m[0].indexOf(run) });
    });
  }
  const seen = new Set<string>();
  return claims
    .sort((a, b) => a.at - b.at)
    .filter((c) => {
      const key = `${c.kind}:${c.normalized}`;
      return !seen.has(key) && seen.add(key);
    });
}

/** The checkable claims of an answer, in order of appearance, each once. */
export function extractClaims(text: string): Claim[] {
  return parseClaims(text).map(({ kind, text: t, normalized }) => ({ kind, text: t, normalized }));
}

// ---------- support ----------

interface Evidence {
  quantities: Quantity[];
  ranges: Range[];
  dates: CalendarDate[];
  quoteText: string;
  nameText: string;
  urlText: string;
}

/** Everything in the grounding text a claim may be checked against, unmasked and permissive. */
function evidenceOf(text: string): Evidence {
  const quantities = [...text.matchAll(NUMBER_RE)].map((m) => quantityOf(m.groups ?? {}));
  for (const m of text.matchAll(PERCENT_RE)) quantities.push(percentOf(m.groups ?? {}));
  if (/\bhalf\b/i.test(text)) quantities.push({ amount: 0.5, base: 0.5, dim: null });
  const ranges = RANGE_RES.flatMap((re) => [...text.matchAll(re)].flatMap((m) => rangeOf(m.groups ?? {}) ?? []));
  // "up to 5 business days" is grounded by "3-5 business days".
  for (const { lo, hi } of ranges) quantities.push(lo, hi);
  const dates = DATE_PATTERNS.flatMap(({ re, parse }) => [...text.matchAll(re)].map((m) => parse(m as RegExpExecArray)));
  const urls = [...text.matchAll(URL_RE)].map((m) => normalizeUrl(m[0].replace(/[.,;:!?]+$/, '')));
  return {
    quantities,
    ranges,
    dates: dates.filter(validDate),
    quoteText: normalizeQuote(text),
    nameText: ` ${nameTokens(text).join(' ')} `,
    urlText: `${text.toLowerCase()}\n${urls.join('\n')}`,
  };
}

function dateSupported(d: CalendarDate, evidence: Evidence): boolean {
  const sameDay = evidence.dates.some(
    (e) => (d.y === undefined || e.y === d.y) && (d.m === undefined || e.m === d.m) && (d.d === undefined || e.d === d.d),
  );
  const yearOnly = d.y !== undefined && d.m === undefined;
  return sameDay || (yearOnly && evidence.quantities.some((q) => q.dim === null && q.amount === d.y));
}

function isSupported(claim: ParsedClaim, evidence: Evidence): boolean {
  switch (claim.kind) {
    case 'number':
    case 'percentage':
      if (claim.range) return rangeSupported(claim.range, evidence.ranges);
      return claim.quantity !== undefined && quantitySupported(claim.quantity, evidence.quantities);
    case 'date':
      return claim.date !== undefined && dateSupported(claim.date, evidence);
    case 'quote': {
      // An elided quote ("a ... b") is supported when its fragments appear in order.
      let from = 0;
      return claim.normalized.split(/\s*(?:\.\.\.|…)\s*/).every((fragment) => {
        const at = evidence.quoteText.indexOf(normalizeQuote(fragment), from);
        from = at + fragment.length;
        return fragment === '' || at >= 0;
      });
    }
    case 'name':
      return claim.normalized !== '' && evidence.nameText.includes(` ${claim.normalized} `);
    case 'url':
      return evidence.urlText.includes(claim.normalized);
  }
}

// ---------- verdict ----------

const MAX_LISTED = 8;
const MAX_CLAIM_CHARS = 60;
const clip = (s: string) => (s.length > MAX_CLAIM_CHARS ? `${s.slice(0, MAX_CLAIM_CHARS - 1)}…` : s);

function verdictOf(verdict: VerdictValue, score: number | null, reason: string): Verdict {
  return { sli: 'hallucination_free', evaluator: HALLUCINATION_EVALUATOR.name, evaluatorVersion: HALLUCINATION_EVALUATOR.version, verdict, score, reason };
}

/** A JSON answer's claims are in its string and number values; its keys and quoting are syntax. */
function answerText({ response, responseFormat }: EvalInput): string {
  if (responseFormat === 'text') return response;
  const leaves: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') leaves.push(String(value));
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  try {
    walk(JSON.parse(response));
  } catch {
    return response;
  }
  return leaves.join('\n');
}

export function evaluateHallucination(input: EvalInput, options: HallucinationOptions = {}): Verdict {
  if (input.context.trim() === '') return verdictOf('unknown', null, 'ungrounded request: no context to check against');
  const claims = parseClaims(answerText(input));
  if (claims.length === 0) return verdictOf('good', 1, 'no checkable claims');
  const evidence = evidenceOf([input.context, ...input.messages.map((m) => m.content)].join('\n'));
  const unsupported = claims.filter((c) => !isSupported(c, evidence));
  const total = `${claims.length} claim${claims.length === 1 ? '' : 's'}`;
  const score = (claims.length - unsupported.length) / claims.length;
  if (unsupported.length === 0) return verdictOf('good', score, `all ${total} supported`);
  const listed = unsupported.slice(0, MAX_LISTED).map((c) => `"${clip(c.text)}"`);
  if (unsupported.length > MAX_LISTED) listed.push('…');
  const ratio = unsupported.length / claims.length;
  const verdict = ratio > (options.maxUnsupportedRatio ?? 0) ? 'bad' : 'good';
  return verdictOf(verdict, score, `unsupported: ${listed.join(', ')} (${unsupported.length} of ${total})`);
}

/**
 * Values of a text, read pattern by pattern from the most specific: URLs and quotes (read first so
 * their digits are not read again), dates, times, weekdays, years, identifiers, percentages, ranges
 * and numbers. Each taken span is blanked before the next pattern runs. The reading goes in stages
 * (times, then the other dates, identifiers, numbers) and stops where the caller needs, resuming
 * where it stopped when asked for more: a context's values are read as deep as an answer needs. Pure.
 */
import {
  COUNT_PREFIX,
  NUMBER_RE,
  PERCENT_RE,
  RANGE_RES,
  digitsForWords,
  startsWithUnitOrRange,
  isSmallCount,
  normalizedQuantity,
  normalizedRange,
  percentOf,
  quantityOf,
  rangeOf,
} from '../quantities.js';
import { isLatin, pattern, type Pattern } from './bmp.js';
import type { CalendarDate, ParsedClaim } from './claims.js';
import { allMatches, isStopword, lemma } from './words.js';

// ---------- dates ----------

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = String.raw`(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?`;
const ORD = '(?:st|nd|rd|th)?';
const monthOf = (name: string) => MONTH_NAMES.indexOf(name.slice(0, 3).toLowerCase()) + 1;

/** Most specific first (month names in any case, as in a lower-cased answer), so "March 3, 2021" is consumed before "March 3" or "2021" could be. */
const DATE_PATTERNS: { re: RegExp | Pattern; parse: (m: RegExpExecArray) => CalendarDate }[] = [
  { re: /\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g, parse: (m) => ({ y: +m[1], m: +m[2], d: +m[3] }) },
  { re: /\b(\d{4})-(0[1-9]|1[0-2])(?![\d-])/g, parse: (m) => ({ y: +m[1], m: +m[2] }) },
  { re: new RegExp(String.raw`\b${MONTH}\s+(\d{1,2})${ORD},?\s+(\d{4})\b`, 'gi'), parse: (m) => ({ y: +m[3], m: monthOf(m[1]), d: +m[2] }) },
  { re: new RegExp(String.raw`\b(\d{1,2})${ORD}\s+(?:of\s+)?${MONTH},?\s+(\d{4})\b`, 'gi'), parse: (m) => ({ y: +m[3], m: monthOf(m[2]), d: +m[1] }) },
  // Slashes are read month-first (US) unless the first part cannot be a month.
  { re: /\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g, parse: (m) => (+m[1] > 12 ? { y: +m[3], m: +m[2], d: +m[1] } : { y: +m[3], m: +m[1], d: +m[2] }) },
  { re: new RegExp(String.raw`\b${MONTH}\s+(?:of\s+)?(\d{4})\b`, 'gi'), parse: (m) => ({ y: +m[2], m: monthOf(m[1]) }) },
  { re: new RegExp(String.raw`\b${MONTH}\s+(\d{1,2})${ORD}\b`, 'gi'), parse: (m) => ({ m: monthOf(m[1]), d: +m[2] }) },
  { re: pattern(new RegExp(String.raw`\b(\d{1,2})${ORD}\s+(?:of\s+)?${MONTH}(?![\p{L}])`, 'giu')), parse: (m) => ({ m: monthOf(m[2]), d: +m[1] }) },
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

// ---------- quotes, urls, code ----------

const QUOTE_RE = /"([^"\n]+)"|“([^”\n]+)”/g;
export const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`)\]]+/gi;
const QUOTE_EDGES = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;
export const normalizeQuote = (s: string) =>
  s.toLowerCase().replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, ' ').replace(QUOTE_EDGES, '');

export function normalizeUrl(raw: string): string {
  try {
    const url = new URL(/^www\./i.test(raw) ? `http://${raw}` : raw);
    return `${url.hostname.replace(/^www\./, '')}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/** Code is not a factual claim: "range(100)" or "Config Loader" in a snippet says nothing about the world. */
const CODE_RE = /```[\s\S]*?(?:```|$)|`[^`\n]+`/g;

// ---------- times, weekdays, quarters, identifiers, entities ----------

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const WEEKDAY_RE = /\b(sun|mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?)(?:day)?\b\.?/gi;
const weekdayOf = (word: string) => WEEKDAYS.findIndex((d) => d.startsWith(word.toLowerCase().slice(0, 3)));
/** "14:12", "8:50 pm", "7 am": minutes since midnight. */
const TIME_RE = pattern(/(?<![\d.:])([01]?\d|2[0-3])(?::([0-5]\d))(?::[0-5]\d)?(?:\s?([ap])\.?m\.?)?(?![\d:])|(?<![\d.:])(1[0-2]|0?[1-9])\s?([ap])\.?m\.?(?![\p{L}])|(?<![\d.:])(1[0-2]|0?[1-9])\s?o['’]clock\b/giu);
/** Parts of the day as spans of minutes; "evening" and "night" overlap. */
const DAY_PARTS: Record<string, [number, number]> = { morning: [300, 720], noon: [720, 720], afternoon: [720, 1080], evening: [1020, 1380], night: [1200, 1740], midnight: [1440, 1440] };
const DAY_PART_RE = /\b(morning|afternoon|evening|night|noon|midnight)\b/gi;
/** "Q1 2025", "H2", "second-quarter 2024", "the first half of 2025". */
const QUARTER_RE = /\b([QH])([1-4])\b(?:\s*(?:of\s+)?'?(\d{4}|\d{2}))?|\b(first|second|third|fourth)[\s-](quarter|half)\b(?:\s+(?:of\s+)?(\d{4}))?/gi;
const ORDINALS: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4 };
/**
 * Identifiers: versions ("3.8.1", "v4.12"), codes with letters and digits ("QX7P2L", "AB-220",
 * "BUG-7782", "IP54"), "TP 1357" flight numbers, and a name or keyword followed by a number
 * ("Bluetooth 5.3", "Clause 11", "firmware 2.1").
 */
/** An email address is an identifier as a whole: "travel-desk@" is not "travel@". */
const EMAIL_RE = /(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
const IDENT_RES = [
  // Codes: one pass over ASCII tokens; which are identifiers is decided by isCode below.
  // (Only tokens with a digit: every code has one, and the lookahead skips plain words without a match object each.)
  // Slashes join parts of a reference ("PA/24/0917"); a code needs letters too, so "24/7" stays a fraction.
  /(?<![A-Za-z0-9._\-/#])(?=#?[A-Za-z0-9._\-/]*\d)#?[A-Za-z0-9](?:[A-Za-z0-9._\-/]*[A-Za-z0-9])?/g,
  /\b(?!(?:USD|EUR|GBP|JPY|NOK|SEK|DKK|CHF|CAD|AUD|CNY|INR)\b)[A-Z]{2,3}\s\d{2,5}\b(?![.,]\d|\s?(?:%|(?:million|billion|thousand|trillion|bn|mn|k)\b))/g,
  /\b(?:version|firmware|release|build|clause|section|article|ticket|order|issue|flight|room|gate|platform|terminal|chapter|page|table|figure|step|level|tier|plan|model)s?\s+v?\d+(?:\.\d+)*\b(?![.,]\d|\s?%)/gi,
  // A name before a version: "Bluetooth 5.3", "PostgreSQL 15.4" (not "NOK 4.8 billion").
  /\b[A-Z][A-Za-z]+\s+v?\d+(?:\.\d+)+\b(?![.,]\d|\s?(?:%|(?:million|billion|thousand|trillion|bn|mn|k)\b))/g,
];
/** The code pattern tried at one position. */
const CODE_TOKEN_AT = new RegExp(IDENT_RES[0].source, 'y');
/** A character of the code pattern's tokens (its lookbehind's class). */
const inCodeToken = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 45 || c === 47 || c === 35;

/**
 * The code pattern's matches, tried only at the start of each run of token characters that holds a
 * digit: a match starts where its lookbehind allows, at a run's start, needs a digit in that run,
 * and ends inside it, so no other position can start one. Most of a text's runs are plain words.
 */
function codeTokens(text: string): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let start = i;
    while (start > 0 && inCodeToken(text.charCodeAt(start - 1))) start--;
    CODE_TOKEN_AT.lastIndex = start;
    const m = CODE_TOKEN_AT.exec(text);
    if (m) out.push(m);
    while (i + 1 < text.length && inCodeToken(text.charCodeAt(i + 1))) i++;
  }
  return out;
}

/** A token that is a code: a version (3.8.1, v4.12), letters and digits mixed (QX7P2L, AB-220, IP54), or #1234. */
function isCode(token: string): boolean {
  if (/^v?\d+(?:\.\d+){2,}/.test(token) || /^v\d+(?:\.\d+)?$/i.test(token) || /^#\d{2,}$/.test(token)) return true;
  if (!/\d/.test(token) || !/[A-Za-z]/.test(token)) return false;
  // "3-year", "10-minute", "2nd", "5km" are quantities and ordinals.
  return !/^\d+(?:\.\d+)?-[A-Za-z]+$/.test(token) && !NOT_IDENT.test(token);
}
/** "NOK 4.8 billion" is money, not a version. */
const CURRENCY_CODE = /^(?:USD|EUR|GBP|JPY|NOK|SEK|DKK|CHF|CAD|AUD|CNY|INR)\s/;
/** A code such as "5km" or "14th" is a quantity or ordinal, not an identifier. */
const NOT_IDENT = /^\d+(?:\.\d+)?(?:st|nd|rd|th|k|m|b|bn|mn|x|s|h|am|pm|kg|km|mg|ml|gb|mb|tb|kb|ms|min|hrs?|g|l|d|p)$/i;
/** Same for comparison: lowercase, no spaces or hyphens; keyword plurals singular ("Clauses 8" → "clause8"). */
const normalizeIdentifier = (s: string) => s.toLowerCase().replace(/^(\p{L}+)s(?=\s+\d)/u, '$1').replace(/[\s_-]+/g, '').replace(/^#/, '');
const MONTH_WORD = new RegExp(`^${MONTH}$`, 'i');
export const isMonthOrDay = (w: string) => (MONTH_NAMES.includes(w.slice(0, 3).toLowerCase()) && MONTH_WORD.test(w)) || (weekdayOf(w) >= 0 && /day$/i.test(w));

/** The counted noun after a bare number ("24 tablets" → "tablet"), or null. */
function countedNoun(text: string, end: number): { noun: string; end: number } | null {
  const next = /^\s(?:of\s)?([\p{L}][\p{L}'’-]*)(?:\s([\p{L}][\p{L}'’-]*))?/u.exec(text.slice(end, end + 60));
  if (!next || isStopword(next[1]) || /^(?:times?|x)$/i.test(next[1])) return null;
  // "31 PhD students", "12 million people live": the head is a second word only when it is a plural noun after a singular.
  const second = next[2];
  if (second && !isStopword(second) && /[^s]s$/i.test(second) && !/s$/i.test(next[1])) return { noun: lemma(second), end: end + next[0].length };
  return { noun: lemma(next[1]), end: end + next[0].length - (second ? second.length + 1 : 0) };
}

/** Where a number written as a word began: digitsForWords right-aligned it in the word's width. */
function wordStart(padded: string, original: string, at: number): number {
  let s = at;
  while (s > 0 && padded[s - 1] === ' ' && /\p{L}/u.test(original[s - 1])) s--;
  return s;
}

/** "8:50 pm" → 1250; "12 am" → 0. */
function minutesOf(h: number, min: number, meridiem?: string): number {
  const hour = meridiem ? (h % 12) + (meridiem.toLowerCase() === 'p' ? 12 : 0) : h;
  return hour * 60 + min;
}

// ---------- extraction ----------

/** How far an evidence reading goes: times come before the other dates, dates before identifiers, identifiers before numbers. */
export type Stage = 'time' | 'date' | 'identifier' | 'all';

/** "1." and "2)" list markers, blanked before numbers are read. */
const LIST_NUMBERING = /^([ \t]*)(\d{1,3}[.)])(?=\s)/gm;
/** Blanks a span so later, less specific patterns cannot claim it again. */
export const blank = (text: string, start: number, end: number) => text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);
/** Blanks several spans in one copy of the text. */
function blankAll(text: string, ranges: [number, number][]): string {
  ranges.sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start < at) continue;
    parts.push(text.slice(at, start), ' '.repeat(end - start));
    at = end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

/** What a text must contain for a pattern to have any match (tested on the text as given). */
const TRIGGERS = new Map<RegExp | Pattern, RegExp>([
  [URL_RE, /https?:|www\./i],
  [QUOTE_RE, /["“]/],
  [QUARTER_RE, /\b[QH][1-4]\b|quarter|half/i],
  [TIME_RE, /\d:\d|\d\s?[ap]\.?m|o['’]clock/i],
  [PERCENT_RE, /%|per\s?cent/i],
  [RANGE_RES[1], /between/i],
  [YEAR_RE, /\d{4}/],
  [EMAIL_RE, /@/],
]);

/**
 * What the text must contain for a pattern to match, tested once on the text before any blanking:
 * blanking only turns characters into spaces, so a run of non-space characters every match holds
 * ("2024-0", a digit, a month's first letters) is in that text wherever it is in a blanked one.
 */
const DIGIT = /\d/;
const MONTH_NAME = /jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec/i;
const NEEDS = new Map<RegExp | Pattern, readonly RegExp[]>([
  ...DATE_PATTERNS.map(({ re }, i): [RegExp | Pattern, RegExp[]] => [re, i <= 1 ? [/\d{4}-\d/] : i === 4 ? [/\d\/\d/] : [DIGIT, MONTH_NAME]]),
  [TIME_RE, [DIGIT]],
  [DAY_PART_RE, [/morning|afternoon|evening|night|noon/i]],
  [WEEKDAY_RE, [/sun|mon|tue|wed|thu|fri|sat/i]],
  ...IDENT_RES.map((re, i): [RegExp, RegExp[]] => [re, i === 3 ? [/\d\.\d/] : [DIGIT]]),
  ...[PERCENT_RE, ...RANGE_RES, NUMBER_RE].map((re): [RegExp | Pattern, RegExp[]] => [re, [DIGIT]]),
]);

/** A reading of a text's values, as far as asked. */
export interface ValueReading {
  /** The claims read once every claim of the stage is (in the order read; later calls add to the same list). */
  through(stage: Stage): ParsedClaim[];
  /** The text with every taken span blanked, for what is read after the values. */
  blanked(): string;
  /** The form of a pattern to run on this text. */
  form(re: RegExp | Pattern): RegExp;
}
/** The stages in the order read. */
export const STAGES: readonly Stage[] = ['time', 'date', 'identifier', 'all'];

/** The values of a text: every one of them (evidence), or those worth checking (an answer). */
export const readValues = (source: string, { evidence = false, everyPattern = false } = {}): ValueReading => new ValueReader(source, evidence, everyPattern);

/** A reading's state between stages. A class, so a reading allocates no closures. */
class ValueReader implements ValueReading {
  readonly claims: ParsedClaim[] = [];
  /** The text the patterns run on: code and list markers blanked, number words as digits, taken spans blanked. */
  private text: string;
  private readonly unblanked: string;
  private readonly contains = new Map<RegExp, boolean>();
  private readonly latin: boolean;
  // Taken spans are blanked before the next pattern runs, so a less specific one cannot claim them
  // again; matches of one pattern do not overlap, so blanking waits until that pattern is done.
  private pending: [number, number][] = [];
  private done = 0;

  constructor(
    private readonly source: string,
    private readonly evidence: boolean,
    private readonly everyPattern: boolean,
  ) {
    this.text = digitsForWords(
      source.replace(CODE_RE, (code) => ' '.repeat(code.length)).replace(LIST_NUMBERING, (_, indent: string, marker: string) => indent + ' '.repeat(marker.length)),
    );
    this.unblanked = this.text;
    // Blanking and digits for number words only put spaces and digits in: a Latin source stays Latin, so
    // its patterns' form is decided once (on any other text the Unicode form finds what the Latin one would).
    this.latin = isLatin(this.text);
  }

  through(stage: Stage): ParsedClaim[] {
    for (const last = STAGES.indexOf(stage); this.done <= last; this.done++) {
      if (this.done === 0) this.readTimes();
      else if (this.done === 1) this.readDates();
      else if (this.done === 2) this.readIdentifiers();
      else this.readNumbers();
    }
    return this.claims;
  }

  blanked(): string {
    this.text = blankAll(this.text, this.pending);
    this.pending = [];
    return this.text;
  }

  form(re: RegExp | Pattern): RegExp {
    return re instanceof RegExp ? re : this.latin ? re.latin : re.unicode;
  }

  private has(needed: RegExp): boolean {
    let found = this.contains.get(needed);
    if (found === undefined) this.contains.set(needed, (found = needed.test(this.unblanked)));
    return found;
  }

  private take(start: number, end: number, claim: Omit<ParsedClaim, 'at' | 'end'>): void {
    const taken = claim as ParsedClaim;
    taken.at = start;
    taken.end = end;
    this.claims.push(taken);
    this.pending.push([start, end]);
  }

  private spans(re: RegExp | Pattern): RegExpExecArray[] {
    // Most patterns need a character most texts lack; a plain test of the source skips them cheaply.
    const trigger = TRIGGERS.get(re);
    if (trigger && !trigger.test(this.source)) return [];
    if (!this.everyPattern && NEEDS.get(re)?.every((needed) => this.has(needed)) === false) return [];
    if (this.pending.length) {
      this.text = blankAll(this.text, this.pending);
      this.pending = [];
    }
    return re === IDENT_RES[0] && !this.everyPattern ? codeTokens(this.text) : allMatches(this.form(re), this.text);
  }

  private readTimes(): void {
    for (const m of this.spans(URL_RE)) {
      const raw = m[0].replace(/[.,;:!?]+$/, '');
      this.take(m.index, m.index + raw.length, { kind: 'url', text: raw, normalized: normalizeUrl(raw) });
    }
    for (const m of this.spans(QUOTE_RE)) {
      const inner = (m[1] ?? m[2]).trim();
      if (inner.split(/\s+/).length >= 3) this.take(m.index, m.index + m[0].length, { kind: 'quote', text: inner, normalized: normalizeQuote(inner) });
    }
    for (const m of this.spans(QUARTER_RE)) {
      const part = m[1] ? `${m[1].toLowerCase()}${m[2]}` : `${m[5].toLowerCase() === 'half' ? 'h' : 'q'}${ORDINALS[m[4].toLowerCase()]}`;
      const yearText = m[3] ?? m[6];
      const y = yearText ? (yearText.length === 2 ? 2000 + +yearText : +yearText) : undefined;
      this.take(m.index, m.index + m[0].length, { kind: 'date', text: this.source.slice(m.index, m.index + m[0].length), normalized: y ? `${part} ${y}` : part, date: { y, quarter: part } });
    }
    for (const { re, parse } of DATE_PATTERNS) {
      for (const m of this.spans(re)) {
        const date = parse(m as RegExpExecArray);
        if (!validDate(date)) continue;
        if (date.y !== undefined && date.m !== undefined && date.d !== undefined) date.dayOfWeek = new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
        this.take(m.index, m.index + m[0].length, { kind: 'date', text: this.source.slice(m.index, m.index + m[0].length), normalized: isoOf(date), date });
      }
    }
    for (const m of this.spans(TIME_RE)) {
      // "9 o'clock" is 09:00 or 21:00; the context decides.
      const minutes = m[1] !== undefined ? minutesOf(+m[1], +(m[2] ?? 0), m[3]) : m[4] !== undefined ? minutesOf(+m[4], 0, m[5]) : minutesOf(+m[6], 0);
      const start = wordStart(this.text, this.source, m.index);
      this.take(start, m.index + m[0].length, {
        kind: 'time',
        text: this.source.slice(start, m.index + m[0].length),
        normalized: `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`,
        minutes: [minutes, minutes],
        twelveHour: m[6] !== undefined,
      });
    }
    for (const m of this.spans(DAY_PART_RE)) {
      this.take(m.index, m.index + m[0].length, { kind: 'time', text: m[0], normalized: m[0].toLowerCase(), minutes: DAY_PARTS[m[0].toLowerCase()] });
    }
  }

  private readDates(): void {
    for (const m of this.spans(WEEKDAY_RE)) {
      const weekday = weekdayOf(m[1]);
      // "Sat" or "Wed" alone are too often other words; the full name or a dotted abbreviation counts.
      if (weekday >= 0 && (/day\.?$/i.test(m[0]) || m[0].endsWith('.'))) this.take(m.index, m.index + m[0].length, { kind: 'date', text: m[0].replace(/\.$/, ''), normalized: WEEKDAYS[weekday], date: { weekday } });
    }
    for (const m of this.spans(YEAR_RE)) {
      const start = m.index + m[0].length - 4;
      const date = { y: +m[1] };
      if (validDate(date)) this.take(start, start + 4, { kind: 'date', text: m[1], normalized: m[1], date });
    }
  }

  private readIdentifiers(): void {
    for (const m of this.spans(EMAIL_RE)) this.take(m.index, m.index + m[0].length, { kind: 'identifier', text: m[0], normalized: m[0].toLowerCase() });
    for (const re of IDENT_RES) {
      for (const m of this.spans(re)) {
        const raw = m[0].trim();
        if (re === IDENT_RES[0] ? !isCode(raw) : CURRENCY_CODE.test(raw)) continue;
        // "Supply 1.8–3.6 V" and "Weight 5.2 g" are measurements, not versions.
        if (re === IDENT_RES[3] && startsWithUnitOrRange(this.text.slice(m.index + m[0].length, m.index + m[0].length + 24))) continue;
        if (NOT_IDENT.test(raw) || /^\d+$/.test(raw) || (re !== IDENT_RES[0] && isStopword(raw.split(/\s/)[0]))) continue;
        if (re !== IDENT_RES[0] && isMonthOrDay(raw.split(/\s/)[0])) continue;
        this.take(m.index, m.index + m[0].length, { kind: 'identifier', text: raw, normalized: normalizeIdentifier(raw) });
      }
    }
  }

  private readNumbers(): void {
    for (const m of this.spans(PERCENT_RE)) {
      const quantity = percentOf(m.groups ?? {});
      this.take(m.index, m.index + m[0].length, { kind: 'percentage', text: m[0].trim(), normalized: normalizedQuantity(quantity), quantity });
    }
    // Ranges before single numbers, which would split "3-5 business days" in two.
    for (const re of RANGE_RES) {
      for (const m of this.spans(re)) {
        const range = rangeOf(m.groups ?? {});
        const start = wordStart(this.text, this.source, m.index);
        if (range) this.take(start, m.index + m[0].length, { kind: 'number', text: this.source.slice(start, m.index + m[0].length).trim(), normalized: normalizedRange(range), range });
      }
    }
    for (const m of this.spans(NUMBER_RE)) {
      const g = m.groups ?? {};
      let quantity = quantityOf(g);
      let end = m.index + m[0].length;
      if (quantity.dim === null) {
        const counted = countedNoun(this.text, end);
        if (counted) {
          quantity = { ...quantity, dim: `${COUNT_PREFIX}${counted.noun}` };
          end = counted.end;
        }
      }
      // List markers and small counts of nothing in particular ("3 of them") are not worth checking,
      // nor "one" before a noun, which is an article more often than a count ("on one key").
      const start = wordStart(this.text, this.source, m.index);
      if (!this.evidence && isSmallCount(g, quantity) && (quantity.dim === null || (quantity.amount === 1 && start < m.index))) continue;
      this.take(start, end, { kind: 'number', text: this.source.slice(start, end).trim(), normalized: normalizedQuantity(quantity), quantity });
    }
    joinDurations(this.claims, this.source);
  }
}

/** "2 hours 34 minutes", "1 hour and 5 minutes": one duration, the sum of its parts (so it meets "154 minutes"). */
function joinDurations(claims: ParsedClaim[], original: string): void {
  const durations = claims.filter((c) => c.kind === 'number' && c.quantity?.dim === 'time').sort((a, b) => a.at - b.at);
  for (let i = durations.length - 1; i > 0; i--) {
    const [first, second] = [durations[i - 1], durations[i]];
    if (!(first.quantity!.base > second.quantity!.base) || !/^\s*(?:and\s+|,\s*)?$/.test(original.slice(first.end, second.at))) continue;
    const base = first.quantity!.base + second.quantity!.base;
    const joined = { ...first, end: second.end, text: original.slice(first.at, second.end).trim(), quantity: { amount: base, base, dim: 'time' } };
    joined.normalized = normalizedQuantity(joined.quantity);
    claims.splice(claims.indexOf(second), 1);
    claims[claims.indexOf(first)] = joined;
    durations[i - 1] = joined;
  }
}


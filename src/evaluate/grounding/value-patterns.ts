/**
 * The patterns values are read by (values.ts), most specific first within each kind, and what turns
 * their matches into claims: dates, quotes and URLs, times, weekdays, quarters and identifiers. Pure.
 */
import { pattern, type Pattern } from './bmp.js';
import type { CalendarDate } from './claims.js';
import { isStopword, lemma } from './words.js';

// ---------- dates ----------

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = String.raw`(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?`;
const ORD = '(?:st|nd|rd|th)?';
const monthOf = (name: string) => MONTH_NAMES.indexOf(name.slice(0, 3).toLowerCase()) + 1;

/** Most specific first (month names in any case, as in a lower-cased answer), so "March 3, 2021" is consumed before "March 3" or "2021" could be. */
export const DATE_PATTERNS: { re: RegExp | Pattern; parse: (m: RegExpExecArray) => CalendarDate }[] = [
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
export const YEAR_RE = /\b(?:in|since|by|from|until|till|through|during|before|after|circa|around|year|early|late|mid)\s+(\d{4})\b/gi;

export const validDate = ({ y, m, d }: CalendarDate) =>
  (y === undefined || (y >= 1000 && y <= 2999)) && (m === undefined || (m >= 1 && m <= 12)) && (d === undefined || (d >= 1 && d <= 31));
const pad2 = (n: number) => String(n).padStart(2, '0');
export function isoOf({ y, m, d }: CalendarDate): string {
  if (y === undefined) return `--${pad2(m ?? 0)}-${pad2(d ?? 0)}`;
  return [String(y), ...(m ? [pad2(m)] : []), ...(m && d ? [pad2(d)] : [])].join('-');
}

// ---------- quotes, urls, code ----------

export const QUOTE_RE = /"([^"\n]+)"|“([^”\n]+)”/g;
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
export const CODE_RE = /```[\s\S]*?(?:```|$)|`[^`\n]+`/g;

// ---------- times, weekdays, quarters, identifiers, entities ----------

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
export const WEEKDAY_RE = /\b(sun|mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?)(?:day)?\b\.?/gi;
export const weekdayOf = (word: string) => WEEKDAYS.findIndex((d) => d.startsWith(word.toLowerCase().slice(0, 3)));
/** "14:12", "8:50 pm", "7 am": minutes since midnight. */
export const TIME_RE = pattern(/(?<![\d.:])([01]?\d|2[0-3])(?::([0-5]\d))(?::[0-5]\d)?(?:\s?([ap])\.?m\.?)?(?![\d:])|(?<![\d.:])(1[0-2]|0?[1-9])\s?([ap])\.?m\.?(?![\p{L}])|(?<![\d.:])(1[0-2]|0?[1-9])\s?o['’]clock\b/giu);
/** Parts of the day as spans of minutes; "evening" and "night" overlap. */
export const DAY_PARTS: Record<string, [number, number]> = { morning: [300, 720], noon: [720, 720], afternoon: [720, 1080], evening: [1020, 1380], night: [1200, 1740], midnight: [1440, 1440] };
export const DAY_PART_RE = /\b(morning|afternoon|evening|night|noon|midnight)\b/gi;
/** "twenty to ten", "quarter past nine", "half past 4" (number words are digits by now): a clock time said aloud. */
export const SPOKEN_TIME_RE = /\b(quarter|half|[1-5]?\d)\s+(past|to)\s+(1[0-2]|0?[1-9])\b(?!\s*(?:%|:|\.\d))/gi;
/** A clock time said aloud names its minutes in words and ends the phrase; "5 to 10 grams" is a range. */
export const SPOKEN_MINUTES = /^(?:quarter|half|five|ten|twenty|twenty[- ]five)$/i;
export const SPOKEN_TIME_END = /^\s*(?:$|[,.;!?)]|in the\b|this\b|tonight\b|tomorrow\b|on\b|at\b|and\b|or\b|when\b|before\b|after\b|[ap]\.?m\b)/i;
/** "Q1 2025", "H2", "second-quarter 2024", "the first half of 2025". */
export const QUARTER_RE = /\b([QH])([1-4])\b(?:\s*(?:of\s+)?'?(\d{4}|\d{2}))?|\b(first|second|third|fourth)[\s-](quarter|half)\b(?:\s+(?:of\s+)?(\d{4}))?/gi;
export const ORDINALS: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4 };
/**
 * Identifiers: versions ("3.8.1", "v4.12"), codes with letters and digits ("QX7P2L", "AB-220",
 * "BUG-7782", "IP54"), "TP 1357" flight numbers, and a name or keyword followed by a number
 * ("Bluetooth 5.3", "Clause 11", "firmware 2.1").
 */
/** An email address is an identifier as a whole: "travel-desk@" is not "travel@". */
export const EMAIL_RE = /(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;
export const IDENT_RES = [
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
export function codeTokens(text: string): RegExpExecArray[] {
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
export function isCode(token: string): boolean {
  if (/^v?\d+(?:\.\d+){2,}/.test(token) || /^v\d+(?:\.\d+)?$/i.test(token) || /^#\d{2,}$/.test(token)) return true;
  if (!/\d/.test(token) || !/[A-Za-z]/.test(token)) return false;
  // "3-year", "10-minute", "2nd", "5km" are quantities and ordinals.
  // "£44.99/month" is a rate and "under-16s" an age group, not references.
  return !/^\d+(?:\.\d+)?-[A-Za-z]+$/.test(token) && !NOT_IDENT.test(token) && !/^\d+(?:[.,]\d+)?\/[A-Za-z]+$/.test(token) && !/^(?:under|over)-\d+s?$/i.test(token);
}
/** "NOK 4.8 billion" is money, not a version. */
export const CURRENCY_CODE = /^(?:USD|EUR|GBP|JPY|NOK|SEK|DKK|CHF|CAD|AUD|CNY|INR)\s/;
/** A code such as "5km" or "14th" is a quantity or ordinal, not an identifier. */
export const NOT_IDENT = /^\d+(?:\.\d+)?(?:st|nd|rd|th|k|m|b|bn|mn|x|s|h|am|pm|kg|km|mg|ml|gb|mb|tb|kb|ms|min|hrs?|g|l|d|p|ft|cm|mm|mi|lbs?|oz|kwh|kw|mw|mph|kph|hz|khz|mhz|ghz|w|v)$/i;
/** Same for comparison: lowercase, no spaces or hyphens; keyword plurals singular ("Clauses 8" → "clause8"). */
export const normalizeIdentifier = (s: string) => s.toLowerCase().replace(/^(\p{L}+)s(?=\s+\d)/u, '$1').replace(/[\s_-]+/g, '').replace(/^#/, '');
const MONTH_WORD = new RegExp(`^${MONTH}$`, 'i');
export const isMonthOrDay = (w: string) => (MONTH_NAMES.includes(w.slice(0, 3).toLowerCase()) && MONTH_WORD.test(w)) || (weekdayOf(w) >= 0 && /day$/i.test(w));

/** The counted noun after a bare number ("24 tablets" → "tablet") as written and as a lemma, or null. */
export function countedNoun(text: string, end: number): { noun: string; word: string; end: number } | null {
  const next = /^\s(?:of\s)?([\p{L}][\p{L}'’-]*)(?:\s([\p{L}][\p{L}'’-]*))?/u.exec(text.slice(end, end + 60));
  if (!next || isStopword(next[1]) || /^(?:times?|x)$/i.test(next[1])) return null;
  // "31 PhD students", "12 million people live": the head is a second word only when it is a plural noun after a singular.
  const second = next[2];
  if (second && !isStopword(second) && /[^s]s$/i.test(second) && !/s$/i.test(next[1])) return { noun: lemma(second), word: second, end: end + next[0].length };
  return { noun: lemma(next[1]), word: next[1], end: end + next[0].length - (second ? second.length + 1 : 0) };
}

/** Where a number written as a word began: digitsForWords right-aligned it in the word's width. */
export function wordStart(padded: string, original: string, at: number): number {
  let s = at;
  // "twenty-five", "four hundred and twelve": the run's hyphens and spaces are part of it.
  while (s > 0 && padded[s - 1] === ' ' && /[\p{L}\s-]/u.test(original[s - 1])) s--;
  while (s < at && /\s/.test(original[s])) s++;
  return s;
}

/** "8:50 pm" → 1250; "12 am" → 0. */
export function minutesOf(h: number, min: number, meridiem?: string): number {
  const hour = meridiem ? (h % 12) + (meridiem.toLowerCase() === 'p' ? 12 : 0) : h;
  return hour * 60 + min;
}

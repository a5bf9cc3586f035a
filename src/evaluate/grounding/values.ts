/**
 * Values of a text, read pattern by pattern from the most specific: URLs and quotes (read first so
 * their digits are not read again), dates, times, weekdays, years, identifiers, percentages, ranges
 * and numbers. Each taken span is blanked before the next pattern runs. The reading goes in stages
 * (times, then the other dates, identifiers, numbers) and stops where the caller needs, resuming
 * where it stopped when asked for more: a context's values are read as deep as an answer needs. The
 * patterns themselves are in value-patterns.ts. Pure.
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
import { isLatin, type Pattern } from './bmp.js';
import type { ParsedClaim } from './claims.js';
import {
  CODE_RE,
  codeTokens,
  countedNoun,
  CURRENCY_CODE,
  DATE_PATTERNS,
  DAY_PART_RE,
  SPOKEN_MINUTES,
  SPOKEN_TIME_END,
  SPOKEN_TIME_RE,
  DAY_PARTS,
  EMAIL_RE,
  IDENT_RES,
  isCode,
  isMonthOrDay,
  isoOf,
  minutesOf,
  normalizeIdentifier,
  normalizeQuote,
  normalizeUrl,
  NOT_IDENT,
  ORDINALS,
  QUARTER_RE,
  QUOTE_RE,
  TIME_RE,
  URL_RE,
  validDate,
  WEEKDAY_RE,
  weekdayOf,
  WEEKDAYS,
  wordStart,
  YEAR_RE,
} from './value-patterns.js';
import { allMatches, isStopword } from './words.js';

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
  [SPOKEN_TIME_RE, /\b(?:past|to)\b/i],
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
  [SPOKEN_TIME_RE, [/\b(?:past|to)\b/i]],
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
      this.take(start, m.index + m[0].length, clockTime(this.source.slice(start, m.index + m[0].length), minutes, m[6] !== undefined));
    }
    for (const m of this.spans(SPOKEN_TIME_RE)) {
      const past = m[1].toLowerCase() === 'quarter' ? 15 : m[1].toLowerCase() === 'half' ? 30 : +m[1];
      if (past >= 60 || (m[2].toLowerCase() === 'to' && past > 30)) continue;
      const start = wordStart(this.text, this.source, m.index);
      if (!SPOKEN_MINUTES.test(this.source.slice(start, m.index + m[1].length)) || !SPOKEN_TIME_END.test(this.text.slice(m.index + m[0].length, m.index + m[0].length + 14))) continue;
      const hour = +m[3];
      const minutes = m[2].toLowerCase() === 'past' ? hour * 60 + past : ((hour + 11) % 12) * 60 + 60 - past;
      // Said aloud, it is the morning's or the evening's time; the context decides, as for "9 o'clock".
      this.take(start, m.index + m[0].length, clockTime(this.source.slice(start, m.index + m[0].length), minutes, true));
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
          // "five demurrage-free days": a unit after a modifier still measures the number.
          const asUnit = counted.word !== this.text.slice(end + 1, end + 1 + counted.word.length) ? quantityOf({ ...g, unit: counted.word.toLowerCase() }) : null;
          quantity = asUnit && asUnit.dim !== null ? asUnit : { ...quantity, dim: `${COUNT_PREFIX}${counted.noun}` };
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

/** A time of day as a claim: "14:12" or "twenty to ten", normalized HH:MM; `twelveHour` when it may be either half of the day. */
function clockTime(text: string, minutes: number, twelveHour: boolean): Omit<ParsedClaim, 'at' | 'end'> {
  const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return { kind: 'time', text, normalized: hhmm, minutes: [minutes, minutes], twelveHour };
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


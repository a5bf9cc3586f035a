/**
 * Numbers as claims: amounts with their units, scales and currencies ("$1.2 million", "40 km",
 * "a 3-year warranty"), percentages and ranges ("3-5 business days"), each converted to its
 * dimension's base unit so "1.5 km" and "1500 m" compare equal. Pure; used by the grounding
 * evaluator to extract claims from answers and evidence from context.
 */

import { pattern } from './grounding/bmp.js';

/** A number as written (`amount`, scale applied) and in its dimension's base unit (`base`); `alt` for a unit with two readings ("pounds": weight or money). */
export interface Quantity { amount: number; base: number; dim: string | null; alt?: { base: number; dim: string } }
/** "3-5 business days", "between 10 and 20 minutes": both ends in the same unit. */
export interface Range { lo: Quantity; hi: Quantity }
type Groups = Record<string, string | undefined>;

/** [dimension, factor to the dimension's base unit, spellings] */
const UNIT_GROUPS: [dim: string, factor: number, names: string][] = [
  ['length', 1000, 'km kilometer kilometers kilometre kilometres'], ['length', 1, 'm meter meters metre metres'],
  ['length', 0.01, 'cm centimeter centimeters centimetre centimetres'], ['length', 0.001, 'mm millimeter millimeters millimetre millimetres'],
  ['length', 1609.344, 'mi mile miles'], ['length', 0.3048, 'ft foot feet'], ['length', 0.0254, 'inch inches'],
  ['mass', 1e6, 't tonne tonnes ton tons'], ['mass', 1000, 'kg kilogram kilograms kilo kilos'], ['mass', 1, 'g gram grams'],
  ['mass', 0.001, 'mg milligram milligrams'], ['mass', 453.59237, 'lb lbs pound pounds'], ['mass', 28.349523125, 'oz ounce ounces'],
  ['time', 0.001, 'ms millisecond milliseconds'], ['time', 1, 's sec secs second seconds'], ['time', 60, 'min mins minute minutes'],
  ['time', 3600, 'h hr hrs hour hours'], ['time', 86400, 'day days'], ['time', 604800, 'week weeks'],
  // Months and years do not convert to days exactly; they form their own dimension.
  ['months', 1, 'month months'], ['months', 12, 'yr yrs year years'], ['volume', 1, 'l liter liters litre litres'],
  ['volume', 0.001, 'ml milliliter milliliters millilitre millilitres'], ['data', 1e3, 'kb kilobyte kilobytes'], ['data', 1e6, 'mb megabyte megabytes'], ['data', 1e9, 'gb gigabyte gigabytes'],
  ['data', 1e12, 'tb terabyte terabytes'], ['USD', 1, 'usd dollar dollars'], ['EUR', 1, 'eur euro euros'], ['GBP', 1, 'gbp'], ['JPY', 1, 'jpy yen'],
  // Business days skip weekends and holidays, so they do not convert to days. '_' stands for a space.
  ['workdays', 1, 'business_day business_days working_day working_days'],
  ['celsius', 1, '°c degrees_celsius degree_celsius celsius degrees degree'],
  ['area', 1, 'm² m2 sq_m sqm square_metre square_metres square_meter square_meters'], ['area', 0.09290304, 'sq_ft ft² square_foot square_feet'],
  ['area', 10000, 'ha hectare hectares'], ['area', 1e6, 'km² square_kilometre square_kilometres square_kilometer square_kilometers'],
  ['energy', 1, 'kwh kilowatt-hour kilowatt-hours kilowatt_hour kilowatt_hours'], ['energy', 0.001, 'wh watt-hour watt-hours'], ['energy', 1000, 'mwh megawatt-hour megawatt-hours'],
  ['frequency', 1, 'hz hertz'], ['frequency', 1e3, 'khz kilohertz'], ['frequency', 1e6, 'mhz megahertz'], ['frequency', 1e9, 'ghz gigahertz'],
  ['voltage', 1, 'v volt volts'], ['voltage', 0.001, 'mv millivolt millivolts'], ['current', 0.001, 'ma milliamp milliamps milliampere milliamperes'],
  ['power', 1, 'w watt watts'], ['power', 1000, 'kw kilowatt kilowatts'], ['power', 1e6, 'mw megawatt megawatts'],
  ['speed', 0.44704, 'mph miles_per_hour'], ['speed', 0.2777777777777778, 'km/h kph kmh kilometres_per_hour kilometers_per_hour'], ['speed', 1, 'm/s metres_per_second meters_per_second'],
  ['kcal', 1, 'kcal calories calorie cal kilocalories'], ['GBP', 0.01, 'p pence'],
];
/** Base unit per dimension, for readable normalized forms ("40 km" → "40000 m"). */
const BASE_UNITS: Record<string, string> = { length: 'm', mass: 'g', time: 's', months: 'month', volume: 'l', data: 'B', percent: '%', workdays: 'business day', celsius: '°C' };
const UNITS = new Map(UNIT_GROUPS.flatMap(([dim, factor, names]) => names.split(' ').map((n) => [n.replace(/_/g, ' '), { dim, factor }] as const)));
const CURRENCY_SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };
const SCALES: Record<string, number> = { thousand: 1e3, k: 1e3, million: 1e6, mn: 1e6, m: 1e6, billion: 1e9, bn: 1e9, b: 1e9, trillion: 1e12, tn: 1e12 };
const NUM = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
/** Dimensions whose units a text names, as in a table header ("Weight (kg) | 40"). */
const UNIT_WORD_RE = pattern(/[\p{L}°]+/gu);
export function dimensionsNamed(text: string): Set<string> {
  const dims = new Set<string>();
  const lower = text.toLowerCase();
  for (const w of lower.match(UNIT_WORD_RE.of(lower)) ?? []) {
    const unit = UNITS.get(w);
    if (unit && w.length > 1) dims.add(unit.dim);
  }
  return dims;
}

/** Unit words: what a number measures, not what a sentence is about. */
export const UNIT_WORDS: ReadonlySet<string> = new Set([...UNITS.keys()].flatMap((n) => n.split(' ')));
const UNIT_NAMES = [...UNITS.keys()].sort((a, b) => b.length - a.length);
const UNIT_ALTERNATION = UNIT_NAMES.map((n) => n.replace(/ /g, String.raw`\s+`)).join('|');
const UNIT_START_RE = pattern(new RegExp(String.raw`^\s?(?:${[...UNITS.keys()].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(/ /g, String.raw`\s+`)).join('|')})(?![\p{L}\p{N}])|^\s?[-–—]\s?\d|^\s+to\s+\d`, 'iu'));
/** Whether a text starts with a unit or a range's second half: what follows a measurement, not a version. */
export const startsWithUnitOrRange = (text: string) => UNIT_START_RE.of(text).test(text);
/** Hyphenated adjectives ("a 3-year warranty", "30-day returns"); one letter ("3-D", "4-H") is no unit there. */
const HYPHEN_UNIT_ALTERNATION = UNIT_NAMES.filter((n) => /^[a-z]{2,}$/.test(n)).join('|');
const NOT_INSIDE = String.raw`(?<![\p{L}\p{N}.,:/#]|\p{L}-)`;
const NUM_END = String.raw`(?![.,:/]\d|\d)`;
const SCALE_PART = String.raw`(?:\s?(?<scale>thousand|million|billion|trillion|bn|mn|tn|k|m|b)(?![\p{L}\p{N}]))?`;
const UNIT_PART = String.raw`(?:\s?(?<unit>${UNIT_ALTERNATION})|-(?<hunit>${HYPHEN_UNIT_ALTERNATION}))(?![\p{L}\p{N}])`;
/** Not inside a word, version ("v1.2.3"), time, fraction, date or id ("COVID-19", "#42"). */
export const NUMBER_RE = pattern(new RegExp(
  String.raw`${NOT_INSIDE}(?:(?<cur>[$€£¥])\s?)?(?<num>${NUM})${NUM_END}${SCALE_PART}(?:${UNIT_PART})?(?![\p{L}\p{N}])`,
  'giu',
));
/**
 * "3-5 business days", "10–20 minutes", "2 to 3 hours", "between 3 and 5 days": a unit is required
 * (a bare "10-20" stays two numbers), and "from 5 to 10 kg" is a change, not a range.
 */
export const RANGE_RES = [
  String.raw`${NOT_INSIDE}(?<!\bfrom\s+)(?<lo>${NUM})${NUM_END}\s*(?:[-–—]|to(?=\s))\s*(?<hi>${NUM})`,
  String.raw`\bbetween\s+(?<lo>${NUM})\s+and\s+(?<hi>${NUM})`,
].map((head) => pattern(new RegExp(String.raw`${head}${NUM_END}${SCALE_PART}${UNIT_PART}`, 'giu')));
export const PERCENT_RE = pattern(new RegExp(String.raw`(?<![\p{L}\p{N}.,])(?<num>${NUM})\s?(?:%|percent\b|per cent\b)`, 'giu'));

const toNumber = (digits: string) => Number(digits.replace(/,/g, ''));

export function quantityOf(groups: Groups): Quantity {
  const currency = groups.cur ? CURRENCY_SYMBOLS[groups.cur] : undefined;
  let scale = groups.scale?.toLowerCase();
  let unitName = (groups.unit ?? groups.hunit)?.toLowerCase().replace(/\s+/g, ' ');
  // "5 m" is five metres; "$5m" and "$5b" are millions and billions.
  if (!currency && (scale === 'm' || scale === 'b')) {
    if (!unitName && scale === 'm') unitName = 'm';
    scale = undefined;
  }
  const amount = toNumber(groups.num ?? '0') * (scale ? SCALES[scale] : 1);
  const unit = unitName ? UNITS.get(unitName) : undefined;
  if (currency) return { amount, base: amount, dim: currency };
  if (!unit) return { amount, base: amount, dim: null };
  const q: Quantity = { amount, base: amount * unit.factor, dim: unit.dim };
  return unitName === 'pound' || unitName === 'pounds' ? { ...q, alt: { base: amount, dim: 'GBP' } } : q;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Both ends take the unit and scale written after the second ("3-5 days" is 3 days to 5 days). */
export function rangeOf(groups: Groups): Range | null {
  const lo = quantityOf({ ...groups, num: groups.lo });
  const hi = quantityOf({ ...groups, num: groups.hi });
  return lo.dim !== null && lo.amount < hi.amount ? { lo, hi } : null;
}

export const percentOf = (groups: Groups): Quantity => {
  const value = toNumber(groups.num ?? '0');
  return { amount: value, base: value, dim: 'percent' };
};

/** List markers and small counts ("3 steps", "2. Mix") are not worth checking; "3 kg" and "$5" are. */
export const isSmallCount = (groups: Groups, q: Quantity) =>
  !groups.cur && !groups.unit && !groups.hunit && !groups.scale && Number.isInteger(q.amount) && q.amount < 10;

const baseUnitOf = (dim: string) => BASE_UNITS[dim] ?? dim;
/** "40 km" → "40000 m", "47%" → "47%", "250" → "250". */
export const normalizedQuantity = ({ base, dim }: Quantity) =>
  dim === 'percent' ? `${base}%` : `${base}${dim ? ` ${dim.startsWith(COUNT_PREFIX) ? dim.slice(COUNT_PREFIX.length) : baseUnitOf(dim)}` : ''}`;
/** "3-5 business days" → "3-5 business day", "2 to 3 hours" → "7200-10800 s". */
export const normalizedRange = ({ lo, hi }: Range) => `${lo.base}-${hi.base} ${baseUnitOf(lo.dim ?? '')}`;

/**
 * A quantity is supported by the same amount in the same dimension: "12 minutes" needs a number of
 * minutes (or seconds, hours) in the context, not a "12%" or a "12 March". A bare answer number
 * ("about 250") is supported by the same amount in any dimension, and a counted noun ("24 tablets",
 * dimension "count:tablet") also by a bare number, as in a table.
 */
export function quantitySupported(q: Quantity, evidence: readonly Quantity[]): boolean {
  // Most quantities have one reading: compared as they are, without lists of readings per comparison.
  if (!q.alt && !evidence.some((e) => e.alt)) return readingSupported(q, evidence);
  return readingsOf(q).some((r) => readingSupported(r, evidence.flatMap(readingsOf)));
}
const readingsOf = (x: Quantity): Quantity[] => (x.alt ? [x, { amount: x.amount, base: x.alt.base, dim: x.alt.dim }] : [x]);

/** "one year" and "365 days", "a month" and "30 days": calendar spans against days, as people round them. */
function calendarMatches(months: number, seconds: number): boolean {
  const days = seconds / 86400;
  if (months % 12 === 0) return [364, 365, 366].some((perYear) => close(days, (months / 12) * perYear));
  return days >= 28 * months && days <= 31 * months && Number.isInteger(days);
}

function readingSupported(q: Quantity, evidence: readonly Quantity[]): boolean {
  return evidence.some(
    (e) =>
      (e.dim === q.dim && close(e.base, q.base)) ||
      (q.dim === 'months' && e.dim === 'time' && calendarMatches(q.base, e.base)) ||
      (q.dim === 'time' && e.dim === 'months' && calendarMatches(e.base, q.base)) ||
      (q.dim === null && close(e.amount, q.amount)) ||
      (isCount(q) && e.dim === null && close(e.amount, q.amount)) ||
      (q.dim === 'percent' && e.dim === null && close(e.amount * 100, q.amount)) ||
      (q.dim === null && e.dim === 'percent' && close(q.amount * 100, e.amount)),
  );
}

/** "24 tablets": a number of things, not a unit; its dimension names the thing. */
export const COUNT_PREFIX = 'count:';
const isCount = (q: Quantity) => q.dim !== null && q.dim.startsWith(COUNT_PREFIX);

/** Same kind of quantity, whatever the amount: what competes with a claim for the same slot in the context. */
export const sameDimension = (a: Quantity, b: Quantity) => a.dim === b.dim;

const NUMBER_WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12, thirteen: 13,
  fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50,
  sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const NUMBER_WORD = `(?:${Object.keys(NUMBER_WORDS).join('|')}|hundred|thousand)`;
/** A run of number words: "three", "twenty-four", "four hundred and twelve", "one thousand". */
const NUMBER_WORD_RUN_RE = new RegExp(String.raw`\b${NUMBER_WORD}(?:(?:\s+and\s+|[\s-]+)${NUMBER_WORD})*\b`, 'gi');

/** Fractions of an hour said in words, in minutes: each phrase is longer than its digits, so offsets hold. */
const FRACTIONS_OF_HOUR: Record<string, number> = {
  'half an hour': 30, 'a half hour': 30, 'half-an-hour': 30, 'a quarter of an hour': 15, 'quarter of an hour': 15, 'three quarters of an hour': 45,
  'three-quarters of an hour': 45, 'an hour and a half': 90, 'one and a half hours': 90, 'an hour and a quarter': 75,
};
const FRACTION_OF_HOUR_RE = new RegExp(String.raw`\b(?:${Object.keys(FRACTIONS_OF_HOUR).map((k) => k.replace(/ /g, String.raw`\s+`)).join('|')})\b`, 'gi');

const HOUR = /hour/i;

/** The value of a run of number words, or null when it is not one number ("one two"). */
function numberOfWords(run: string): number | null {
  let total = 0;
  let current = 0;
  let last = Infinity;
  for (const word of run.toLowerCase().split(/\s+and\s+|[\s-]+/)) {
    if (word === 'hundred') current = (current || 1) * 100;
    else if (word === 'thousand') {
      total += (current || 1) * 1000;
      current = 0;
    } else {
      const v = NUMBER_WORDS[word];
      // "twenty four" adds up; "four twenty" or "one two" are not one number.
      if (v >= last || (v >= 10 && last < 100)) return null;
      current += v;
      last = v;
      continue;
    }
    last = Infinity;
  }
  return total + current;
}

/**
 * Number words as digits, right-aligned in the words' own width ("three nights" → "    3 nights"),
 * so every offset in the text stays where it was and the number patterns read both spellings alike.
 */
export function digitsForWords(text: string): string {
  // Every fraction of an hour names the hour: a plain search rules most texts out.
  const fractions = HOUR.test(text) ? text.replace(FRACTION_OF_HOUR_RE, (phrase: string) => `${FRACTIONS_OF_HOUR[phrase.toLowerCase().replace(/\s+/g, ' ')]} minutes`.padStart(phrase.length, ' ')) : text;
  return fractions.replace(NUMBER_WORD_RUN_RE, (run: string) => {
    const value = numberOfWords(run);
    return value === null ? run : String(value).padStart(run.length, ' ');
  });
}

/** Only the same range: "2-3 days" is not grounded by "1-2 days" and "3-5 days" though both ends occur. */
export const rangeSupported = ({ lo, hi }: Range, evidence: readonly Range[]) =>
  evidence.some((e) => e.lo.dim === lo.dim && close(e.lo.base, lo.base) && close(e.hi.base, hi.base));

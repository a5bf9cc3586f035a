/**
 * Values an answer works out from others it states: "nineteen minutes after the failover at 14:31"
 * (14:50 − 14:31), "55 minutes: 20 to prepare and 35 to cook", "64 nodes with 8 each, 512 GPUs",
 * "two years after the rewiring in 2019" (2021 − 2019). A careful reader accepts such a value when
 * its operands are in the same sentence; the operands are checked against the context on their own.
 * Only operands the answer states count, so a wrong figure rarely passes as a sum by chance. Pure.
 */
import { digitsForWords, type Quantity } from '../quantities.js';
import type { ParsedClaim } from './claims.js';

/** An operand: an amount in a dimension (null: a plain number, as a count or a multiplier). */
interface Operand {
  value: number;
  dim: string | null;
  /** The number as written: "7 days" divides "€266" by 7. */
  written?: number;
}

const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_DAY = 86_400;
const MINUTES_PER_DAY = 1440;
/** A year without a leap day, for spans between dates that name no year. */
const ANY_YEAR = 2001;
/** Small numbers of a sentence ("two adults over three nights") are multipliers, not claims of their own. */
const SMALL_NUMBER_RE = /(?<![\d.,:])\d{1,2}(?![\d.,:])/g;
const MAX_SMALL = 12;
/** Operands considered per sentence, so a sentence full of figures stays cheap (pairs are quadratic). */
const MAX_OPERANDS = 8;

/** Equal up to rounding to a hundredth, as money and measurements are written. */
const near = (a: number, b: number) => Math.abs(a - b) <= 0.005 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));

const isPlain = (dim: string | null) => dim === null || dim.startsWith('count:');
const sameDim = (a: string | null, b: string | null) => a === b || (isPlain(a) && isPlain(b));

/** The claim's own amount: a quantity in its base unit (a percentage, a count, money, seconds). */
function amountOf(q: Quantity): Operand {
  return { value: q.base, dim: q.dim, written: q.amount };
}

/** Differences a sentence's times and dates span, as durations: 14:31 to 14:50 is 19 minutes, 2019 to 2021 two years. */
function spans(claims: readonly ParsedClaim[]): Operand[] {
  const out: Operand[] = [];
  const times = claims.filter((c) => c.kind === 'time' && c.minutes && c.minutes[0] === c.minutes[1]).map((c) => c.minutes![0]);
  for (let i = 0; i < times.length; i++)
    for (let j = i + 1; j < times.length; j++) {
      const minutes = Math.abs(times[j] - times[i]);
      for (const m of new Set([minutes, MINUTES_PER_DAY - minutes])) out.push({ value: m * SECONDS_PER_MINUTE, dim: 'time' });
    }
  const dates = claims.filter((c) => c.kind === 'date' && (c.date?.y !== undefined || c.date?.d !== undefined)).map((c) => c.date!);
  for (let i = 0; i < dates.length; i++)
    for (let j = i + 1; j < dates.length; j++) {
      const [a, b] = [dates[i], dates[j]];
      if (a.y !== undefined && b.y !== undefined && a.m === undefined && b.m === undefined) out.push({ value: Math.abs(b.y! - a.y!) * 12, dim: 'months' });
      if (a.m !== undefined && b.m !== undefined && a.d !== undefined && b.d !== undefined) {
        // "8 to 16 November": a date without its year is in the other's year (or any one).
        const [ya, yb] = [a.y ?? b.y ?? ANY_YEAR, b.y ?? a.y ?? ANY_YEAR];
        const days = Math.abs(Date.UTC(yb, b.m - 1, b.d) - Date.UTC(ya, a.m - 1, a.d)) / 86_400_000;
        // "from Saturday 8 to Sunday 16 inclusive" counts both ends.
        for (const d of [days, days + 1]) out.push({ value: d * SECONDS_PER_DAY, dim: 'time' });
      }
    }
  return out;
}

const sumOrDifference = (target: number, a: number, b: number) => near(target, a + b) || near(target, Math.abs(a - b));

/**
 * What `target` could be worked out from: sums, differences, products and shares of two operands, or a
 * product of three. Plain operands add up to the target's amount as written: "55 minutes: 20 to prepare and 35 to cook".
 */
function derivable(target: Operand, amount: number, operands: readonly Operand[], multipliers: readonly number[]): boolean {
  const n = Math.min(operands.length, MAX_OPERANDS);
  for (let i = 0; i < n; i++) {
    const a = operands[i];
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const b = operands[j];
      if (j > i && sameDim(a.dim, b.dim) && (sameDim(target.dim, a.dim) || isPlain(a.dim)) && sumOrDifference(sameDim(target.dim, a.dim) ? target.value : amount, a.value, b.value)) return true;
      // "64 nodes with 8 each": a plain number scales an amount; "€266 for 7 days" shares it out.
      if (isPlain(b.dim) && sameDim(target.dim, a.dim) && near(target.value, a.value * b.value)) return true;
      const by = b.written ?? b.value;
      if (!isPlain(a.dim) && sameDim(target.dim, a.dim) && by !== 0 && near(target.value, a.value / by)) return true;
      // A rate times what it is per: "£5,000 per megawatt ... at 40.5 MW, £202,500".
      if (!isPlain(a.dim) && !isPlain(b.dim) && !sameDim(a.dim, b.dim) && sameDim(target.dim, a.dim) && near(target.value, a.value * by)) return true;
    }
    if (sameDim(target.dim, a.dim) && multipliers.some((m) => near(target.value, a.value * m) || multipliers.some((k) => near(target.value, a.value * m * k)))) return true;
  }
  return false;
}

/**
 * Whether a value claim equals a sum, difference, product or share of the values its sentence
 * states (`sentenceClaims`, the claim itself excluded), or the span between two of its times or dates.
 * `sentence` is the sentence's text, for its small numbers ("two adults", "three nights").
 */
export function workedOut(claim: ParsedClaim, sentenceClaims: readonly ParsedClaim[], sentence: string): boolean {
  if (!claim.quantity) return false;
  const target = amountOf(claim.quantity);
  const others = sentenceClaims.filter((c) => c !== claim);
  const durations = spans(others);
  if (durations.some((d) => d.dim === target.dim && near(d.value, target.value))) return true;
  const operands = [...others.flatMap((c) => (c.quantity ? [amountOf(c.quantity)] : c.range ? [amountOf(c.range.lo), amountOf(c.range.hi)] : [])), ...durations];
  if (operands.length === 0) return false;
  const own = claim.quantity.amount;
  const multipliers = [...new Set((digitsForWords(sentence).match(SMALL_NUMBER_RE) ?? []).map(Number))].filter((m) => m > 1 && m <= MAX_SMALL && m !== own);
  return derivable(target, own, operands, [...multipliers, ...operands.filter((o) => o.dim === null).map((o) => o.value)].slice(0, MAX_OPERANDS));
}

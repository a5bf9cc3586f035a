/**
 * Whether the context supports a value claim (number, date, time, identifier): a context clause
 * holds a compatible value and no clause more about the same thing holds a different value of the
 * same kind ("secondary caregivers get 20 weeks" is unsupported when 20 weeks is the primary
 * caregiver's and the secondary one's clause says 6). Pure.
 */
import { COUNT_PREFIX, quantitySupported, rangeSupported, sameDimension, type Quantity } from '../quantities.js';
import type { CalendarDate, ParsedClaim, Stage } from './claims.js';
import type { Holding } from './clause-index.js';
import type { Evidence } from './support.js';
import { STAGES } from './values.js';
import { lemma } from './words.js';

const isCount = (q: Quantity) => q.dim !== null && q.dim.startsWith(COUNT_PREFIX);

/**
 * How far the context's values must be read for a value claim: a time only meets times, a date
 * dates, an identifier identifiers (compatible, competes), and those are read before numbers.
 */
function stageOf(c: ParsedClaim): Stage {
  if (c.kind === 'time') return 'time';
  // A bare year ("in 2019") is also supported by the number 2019.
  if (c.kind === 'date') return c.date?.y !== undefined && c.date.m === undefined && !c.date.quarter ? 'all' : 'date';
  return c.kind === 'identifier' ? 'identifier' : 'all';
}
/** The deepest stage of the claims: a reading through it serves every one of them. */
export const latestStage = (claims: readonly ParsedClaim[]): Stage => STAGES[Math.max(0, ...claims.map((c) => STAGES.indexOf(stageOf(c))))];

function dateCompatible(c: CalendarDate, e: CalendarDate): boolean {
  if (c.quarter) {
    if (c.y !== undefined && e.y !== c.y) return false;
    if (e.quarter) return e.quarter === c.quarter;
    // "the first quarter of 2024" is supported by a date in January to March 2024.
    const [kind, n] = [c.quarter[0], +c.quarter[1]];
    const months = kind === 'q' ? 3 : 6;
    return c.y !== undefined && e.m !== undefined && e.m > (n - 1) * months && e.m <= n * months;
  }
  if (c.weekday !== undefined) return (e.weekday ?? e.dayOfWeek) === c.weekday;
  if (e.quarter || (e.weekday !== undefined && e.y === undefined && e.m === undefined)) return false;
  // A context date without a year ("from 1 June to 31 August 2023") takes the claim's.
  return (c.y === undefined || e.y === undefined || e.y === c.y) && (c.m === undefined || e.m === c.m) && (c.d === undefined || e.d === c.d);
}

/** Same kind of date: weekdays compete with weekdays, quarters with quarters, calendar dates with calendar dates. */
function dateCompetes(c: CalendarDate, e: CalendarDate): boolean {
  if (c.quarter) return e.quarter !== undefined;
  if (c.weekday !== undefined) return e.weekday !== undefined || e.dayOfWeek !== undefined;
  return !e.quarter && (e.m !== undefined || e.y !== undefined) && (c.d === undefined) === (e.d === undefined);
}

const letters = (id: string) => id.replace(/[^\p{L}]/gu, '');

function compatible(c: ParsedClaim, e: ParsedClaim): boolean {
  switch (c.kind) {
    case 'number':
    case 'percentage':
      if (c.range) return e.range !== undefined && rangeSupported(c.range, [e.range]);
      if (!c.quantity) return false;
      if (e.range) return quantitySupported(c.quantity, [e.range.lo, e.range.hi]);
      if (e.quantity) {
        const q = c.quantity;
        // "12 monthly instalments" and "12 monthly payments": counts of things may name them differently;
        // the clause each sits in decides (a rival count in a clause more about it wins).
        if (isCount(q) && isCount(e.quantity) && q.amount === e.quantity.amount) return true;
        return quantitySupported(q, [e.quantity]) || (q.dim !== null && e.tableDims?.has(q.dim) === true && q.amount === e.quantity.amount);
      }
      // A bare year in the answer is supported by a date of that year.
      return c.quantity.dim === null && e.date?.y === c.quantity.amount;
    case 'date':
      if (!c.date) return false;
      if (e.date) return dateCompatible(c.date, e.date);
      return c.date.y !== undefined && c.date.m === undefined && !c.date.quarter && e.quantity?.dim === null && e.quantity.amount === c.date.y;
    case 'time': {
      if (!c.minutes || !e.minutes) return false;
      const [lo, hi] = c.minutes;
      const [elo, ehi] = e.minutes;
      if (lo === hi) return [lo, ...(c.twelveHour ? [lo + 720] : [])].some((t) => elo <= t && t <= ehi);
      return (elo === lo && ehi === hi) || (elo === ehi && lo <= elo && elo <= hi);
    }
    case 'identifier':
      return e.kind === 'identifier' && e.normalized === c.normalized;
    default:
      return false;
  }
}

function competes(c: ParsedClaim, e: ParsedClaim): boolean {
  if (c.kind === 'number' || c.kind === 'percentage') {
    const q = c.quantity ?? c.range?.lo;
    const f = e.quantity ?? e.range?.lo;
    return q !== undefined && f !== undefined && (sameDimension(q, f) || (isCount(q) && isCount(f)));
  }
  if (c.kind === 'date') return c.date !== undefined && e.date !== undefined && dateCompetes(c.date, e.date);
  if (c.kind === 'time') return e.kind === 'time';
  if (c.kind === 'identifier') return e.kind === 'identifier' && letters(e.normalized) === letters(c.normalized);
  return false;
}


/**
 * How much a context clause is about what the answer's clause is about: its own words count double,
 * its sentence's once. Counted word by word from the clauses holding each of the words (`held`,
 * looked up once per claim), so only those clauses are read.
 */
function aboutness(held: readonly Holding[], evidence: Evidence, clause: number): number {
  // The conversation's clause is about nothing in particular.
  if (clause === evidence.clauses.length - 1) return 0;
  const { sentence } = evidence.clauses[clause];
  let score = 0;
  for (const { clauses, sentences } of held) {
    if (clauses.has(clause)) score += 2;
    if (sentences.has(sentence)) score++;
  }
  return score;
}

/** "T2" for "Terminal 2": a one-letter code whose letter starts a context word followed by the same number. */
function abbreviationSupported(c: ParsedClaim, evidence: Evidence): boolean {
  const m = /^(\p{L})(\d+)$/u.exec(c.normalized);
  return m !== null && evidence.valuesThrough('identifier').some(({ claim: e }) => e.kind === 'identifier' && new RegExp(`^${m[1]}\\p{L}+${m[2]}$`, 'u').test(e.normalized));
}

/** How much a context value (in its clause) is about what the answer's value is: its clause's words, and the answer's other values near it. */
function scoreOf(value: ParsedClaim, clause: number, held: readonly Holding[], evidence: Evidence, alsoClaimed: readonly ParsedClaim[], stage: Stage): number {
  return aboutness(held, evidence, clause) + together(value, clause, evidence, alsoClaimed, stage);
}

/**
 * Values stated together come from one place: a context sentence holding the answer's other values is about this one too.
 * The nearer the answer's other values sit to a context value, the more that value is about the same thing:
 * "BK-200 (1.7 L) and BK-220 (1.2 L)" puts 1.2 L with BK-220.
 */
function together(value: ParsedClaim, clause: number, evidence: Evidence, alsoClaimed: readonly ParsedClaim[], stage: Stage): number {
  const sentence = evidence.clauses[clause].sentence;
  let bonus = 0;
  for (const other of alsoClaimed) {
    let nearest = Infinity;
    let sameClause = false;
    // Beyond a few hundred characters the pull is nil, so a long run-on context costs a claim only its neighbourhood.
    const list = evidence.valuesOfSentence(sentence, stage);
    for (let i = firstAtOrAfter(list, value.at - NEAR_CHARS); i < list.length && list[i].claim.at <= value.at + NEAR_CHARS; i++) {
      if (compatible(other, list[i].claim)) {
        nearest = Math.min(nearest, Math.abs(list[i].claim.at - value.at));
        if (list[i].clause === clause) sameClause = true;
      }
    }
    // Within one clause only a code places a value by nearness ("BK-220 (1.2 L)"); "2 TB at $23.00/TB = $46.00" holds both prices for "2 TB".
    const distance = sameClause && other.kind !== 'identifier' ? 0 : nearest;
    if (nearest < Infinity) bonus += 2 + 4 / (1 + distance / 10) + (sameClause ? SAME_CLAUSE_PULL : 0);
  }
  return bonus;
}

/**
 * A value is supported by the best context clause holding a compatible value, unless a clause
 * more about the same thing holds a competing value (ties go to support).
 */
export function valueSupported(
  claim: ParsedClaim,
  about: Set<string>,
  evidence: Evidence,
  alsoClaimed: readonly ParsedClaim[] = [],
  // Only values of the kinds this claim and its neighbours meet can count, so the context is read no further.
  stage: Stage = latestStage([claim, ...alsoClaimed]),
): boolean {
  let best = -1;
  let rival = -1;
  let held: Holding[] | undefined;
  const conversation = evidence.clauses.length - 1;
  for (const { claim: e, clause } of evidence.valuesThrough(stage)) {
    // What the user or the system prompt said needs no context clause to back it.
    if (clause === conversation && compatible(claim, e)) return true;
    if (compatible(claim, e)) best = Math.max(best, scoreOf(e, clause, (held ??= [...about].map((w) => evidence.holding(w))), evidence, alsoClaimed, stage));
    // A value the answer states too ("8.6% from 7.1%") is no rival of its neighbour.
    else if (competes(claim, e) && !alsoClaimed.some((other) => compatible(other, e))) rival = Math.max(rival, scoreOf(e, clause, (held ??= [...about].map((w) => evidence.holding(w))), evidence, alsoClaimed, stage));
  }
  if (best < 0) return claim.kind === 'identifier' && (abbreviationSupported(claim, evidence) || keywordNumberSupported(claim, evidence));
  // Times and dates recur across a schedule's clauses, so a rival must be clearly more about the same thing.
  return best + (claim.kind === 'time' || claim.kind === 'date' ? SCHEDULE_MARGIN : 0) >= rival;
}

/** Index of the first value at or after a position, in a list sorted by position. */
function firstAtOrAfter(list: readonly { claim: ParsedClaim }[], at: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].claim.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Extra pull when the answer's other value sits in the candidate's own clause: "up to £15 for day trips
 * longer than 8 hours" places "£15 ... 8 hours" there, over a clause about meals in general. Set on the development half.
 */
const SAME_CLAUSE_PULL = 2;

/** How far apart two context values may be and still pull together. */
const NEAR_CHARS = 400;

/** How much more a rival time or date clause must be about the answer's words to overrule a compatible one; set on the development half. */
const SCHEDULE_MARGIN = 2;

/** "clause 12" is supported by "Clauses 8, 12 and 15": the keyword and the number in one context sentence. */
function keywordNumberSupported(c: ParsedClaim, evidence: Evidence): boolean {
  const m = /^(\p{L}+)(\d+)$/u.exec(c.normalized);
  if (!m) return false;
  const keyword = lemma(m[1]);
  return evidence.values.some(
    ({ claim: e, clause }) => e.quantity?.amount === +m[2] && evidence.sentence(evidence.clauses[clause].sentence)?.has(keyword),
  );
}


/**
 * Whether the context supports a claim. A value (number, date, time, identifier) is supported when a
 * context clause holds a compatible value and no clause that is more about the same thing holds a
 * different value of the same kind: "secondary caregivers get 20 weeks" is unsupported when 20 weeks
 * belongs to the primary caregiver and the secondary one's clause says 6. Names and entities must
 * occur in the context in any case or inflection. Pure.
 */
import { COUNT_PREFIX, dimensionsNamed, quantitySupported, rangeSupported, sameDimension, type Quantity } from '../quantities.js';

const isCount = (q: Quantity) => q.dim !== null && q.dim.startsWith(COUNT_PREFIX);
import { nameTokens, normalizeQuote, normalizeUrl, parseClaims, URL_RE, type CalendarDate, type ParsedClaim, type Stage } from './claims.js';
import { clauseIndex, type ClauseIndex, type Holding } from './clause-index.js';
import { allMatches, clauseSpans, contentOf, lemma, readWords, sentenceSpans, type Span, type WordsReading } from './words.js';

const HALF_RE = /\bhalf\b/gi;
/** What a set of words is asked here: whether it has a word. */
export interface Words { has(word: string): boolean }
const NO_WORDS: Words = new Set();

export interface EvidenceClause extends Span {
  content: Set<string>;
  /** Content of the main part, before a condition or a reason: what its polarity is about. */
  main: Set<string>;
  negative: boolean;
}

export interface Evidence {
  clauses: EvidenceClause[];
  /** Content lemmas of a sentence, for the weaker half of the clause score. */
  sentence(index: number): Words | undefined;
  /** Every value in the context with the clause it sits in. */
  values: { claim: ParsedClaim; clause: number }[];
  /** The values a reading through a stage finds (or a deeper one): all that claims of that stage meet (stageOf). */
  valuesThrough(stage: Stage): { claim: ParsedClaim; clause: number }[];
  /** Of valuesThrough(stage), those in a sentence. */
  valuesOfSentence(sentence: number, stage: Stage): readonly { claim: ParsedClaim; clause: number }[];
  /** Content lemmas of the context and the whole conversation. */
  content: Words;
  /** Ascending indexes of the context clauses that may hold a content lemma: every one that does, and maybe others. */
  clausesWith(word: string): readonly number[];
  /** The context clauses, and their sentences, that hold a content lemma. */
  holding(word: string): Holding;
  /** The context's and the conversation's text, for names, entities, quotes and URLs. */
  texts: readonly TextViews[];
}

/**
 * Views of one grounding text (the context, or the conversation) for names, entities, quotes and
 * URLs, each computed on first use and kept with the text's index: most answers need one or two.
 */
class TextViews {
  #words?: WordsReading;
  #initials?: string;
  #quote?: string;
  #names?: string;
  #urls?: string;
  constructor(
    readonly all: string,
    private readonly read: () => WordsReading,
    /** A cheaper answer than reading every word, where the text has one. */
    private readonly lemmaLookup?: (lemma: string) => boolean,
  ) {}
  hasLemma(lemma: string) {
    return this.lemmaLookup ? this.lemmaLookup(lemma) : (this.#words ??= this.read()).lemmas.has(lemma);
  }
  get initials() {
    return (this.#initials ??= ` ${(this.#words ??= this.read()).initials} `);
  }
  get quoteText() {
    return (this.#quote ??= normalizeQuote(this.all));
  }
  get nameText() {
    return (this.#names ??= ` ${nameTokens(this.all).join(' ')} `);
  }
  get urlText() {
    return (this.#urls ??= `${this.all.toLowerCase()}\n${allMatches(URL_RE, this.all).map((m) => normalizeUrl(m[0].replace(/[.,;:!?]+$/, ''))).join('\n')}`);
  }
}

const VALUE_KINDS = new Set(['number', 'percentage', 'date', 'time', 'identifier']);
export const isValueClaim = (c: ParsedClaim) => VALUE_KINDS.has(c.kind);

/**
 * How far the context's values must be read for a value claim: a time only meets times, a date
 * dates, an identifier identifiers (compatible, competes), and those are read before numbers.
 */
const STAGES: readonly Stage[] = ['time', 'date', 'identifier', 'all'];
function stageOf(c: ParsedClaim): Stage {
  if (c.kind === 'time') return 'time';
  // A bare year ("in 2019") is also supported by the number 2019.
  if (c.kind === 'date') return c.date?.y !== undefined && c.date.m === undefined && !c.date.quarter ? 'all' : 'date';
  return c.kind === 'identifier' ? 'identifier' : 'all';
}
/** The deepest stage of the claims: a reading through it serves every one of them. */
export const latestStage = (claims: readonly ParsedClaim[]): Stage => STAGES[Math.max(0, ...claims.map((c) => STAGES.indexOf(stageOf(c))))];

/** Index of the span holding each position, for positions in ascending order (one walk, not a search each). */
function spanIndexes(spans: readonly Span[], positions: readonly number[]): number[] {
  let i = 0;
  return positions.map((at) => {
    while (i < spans.length - 1 && at >= spans[i].end) i++;
    return i;
  });
}

/**
 * What a context alone yields; cached, as the same documents are retrieved for many requests. Its
 * values are read on first use: an answer with no value claim (no number, date, time or id) never
 * needs them, and reading them is most of the cost of a context.
 */
interface ContextIndex {
  /** Each clause read on first use: most clauses of a context never meet the answer's words. */
  clauses: EvidenceClause[];
  reader: ClauseIndex;
  sentenceCount: number;
  /** A sentence's content lemmas (every sentence holding a clause). */
  sentence(index: number): Words;
  values(stage: Stage): { claim: ParsedClaim; clause: number }[];
  text: TextViews;
}

/** A context clause whose words are read when first asked about. */
class ContextClause implements EvidenceClause {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly sentence: number,
    private readonly index: number,
    private readonly reader: ClauseIndex,
  ) {}
  get content() {
    return this.reader.reading(this.index).content;
  }
  get main() {
    return this.reader.reading(this.index).main;
  }
  get negative() {
    return this.reader.reading(this.index).negative;
  }
}

/** A context sentence's content lemmas as the clauses holding each word tell them. */
const sentenceWords = (reader: ClauseIndex, sentence: number): Words => ({ has: (w) => reader.holding(w).sentences.has(sentence) });

/** A small LRU of recent inputs: a repeated context or system prompt costs one lookup. Oldest out. */
function recent<T>(max: number, build: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = build(key);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(key, value);
    }
    return value;
  };
}

const contextIndex = recent(64, indexContext);
/** The conversation's values and words (system prompt, question): they support claims anywhere ("my order 12345"). */
const conversationIndex = recent(64, (conversation: string) => ({
  values: parseClaims(conversation, { evidence: true }).filter(isValueClaim),
  content: contentOf(statementsOf(conversation)),
  text: new TextViews(conversation, () => readWords(conversation)),
}));

/**
 * The conversation's sentences that state something: a question's words name what the user wants to
 * know, not facts ("Is the Wi-Fi free?" does not ground "Wi-Fi is free throughout the hotel").
 */
function statementsOf(conversation: string): string {
  return sentenceSpans(conversation)
    .map(([s, e]) => conversation.slice(s, e))
    .filter((sentence) => !/\?["')\]]*\s*$/.test(sentence))
    .join('\n');
}

/** The context (and the conversation, which may state facts too) indexed for claims. */
export function evidenceOf(context: string, conversation: string): Evidence {
  const ctx = contextIndex(context);
  const conv = conversationIndex(conversation);
  // The conversation's values sit in a clause of their own, about nothing in particular.
  const own = ctx.clauses.length;
  const clauses = [...ctx.clauses, { start: 0, end: 0, sentence: ctx.sentenceCount, content: new Set<string>(), main: new Set<string>(), negative: false }];
  // One list, from the deepest reading asked for yet: a shallower stage's claims meet nothing the deeper reading adds.
  let read: { depth: number; values: Evidence['values']; bySentence?: Map<number, { claim: ParsedClaim; clause: number }[]> } | undefined;
  const valuesThrough = (stage: Stage) => {
    const depth = STAGES.indexOf(stage);
    if (!read || read.depth < depth) {
      const found = ctx.values(stage);
      read = { depth, values: conv.values.length ? [...found, ...conv.values.map((claim) => ({ claim, clause: own }))] : found };
    }
    return read.values;
  };
  const valuesOfSentence = (sentence: number, stage: Stage) => {
    valuesThrough(stage);
    const current = read!;
    if (!current.bySentence) {
      current.bySentence = new Map();
      for (const v of current.values) {
        const s = clauses[v.clause].sentence;
        const list = current.bySentence.get(s);
        if (list) list.push(v);
        else current.bySentence.set(s, [v]);
      }
    }
    return current.bySentence.get(sentence) ?? [];
  };
  return {
    clauses,
    sentence: (index) => (index === ctx.sentenceCount ? NO_WORDS : ctx.sentence(index)),
    get values() {
      return valuesThrough('all');
    },
    valuesThrough,
    valuesOfSentence,
    content: { has: (w: string) => ctx.reader.holds(w) || conv.content.has(w) },
    clausesWith: (w: string) => ctx.reader.mayHold(w),
    holding: (w: string) => ctx.reader.holding(w),
    texts: [ctx.text, conv.text],
  };
}

function indexContext(context: string): ContextIndex {
  const spans = clauseSpans(context);
  const reader = clauseIndex(context, spans);
  const clauses: EvidenceClause[] = spans.map(({ start, end, sentence }, i) => new ContextClause(start, end, sentence, i, reader));
  const sentences: Words[] = [];
  let values: { depth: number; found: { claim: ParsedClaim; clause: number }[] } | undefined;
  return {
    clauses,
    reader,
    sentenceCount: clauses.length ? clauses[clauses.length - 1].sentence + 1 : 0,
    sentence: (index) => (sentences[index] ??= sentenceWords(reader, index)),
    values: (stage) => {
      const depth = STAGES.indexOf(stage);
      if (!values || values.depth < depth) values = { depth, found: contextValues(context, spans, clauses, stage) };
      return values.found;
    },
    text: new TextViews(context, reader.words, reader.hasLemma),
  };
}

function contextValues(context: string, spans: readonly Span[], clauses: readonly EvidenceClause[], stage: Stage): { claim: ParsedClaim; clause: number }[] {
  const found = parseClaims(context, { evidence: true, through: stage }).filter(isValueClaim);
  for (const m of stage === 'all' ? allMatches(HALF_RE, context) : []) {
    found.push({ kind: 'number', text: m[0], normalized: '0.5', at: m.index, end: m.index + 4, quantity: { amount: 0.5, base: 0.5, dim: null } });
  }
  found.sort((x, y) => x.at - y.at);
  const at = spanIndexes(spans, found.map((c) => c.at));
  // A bracketed value annotates what precedes it: "wrong results for LEFT JOIN (QDB-3340)" is about the join.
  const values = found.map((claim, i) => {
    const clause = at[i];
    const bracketed = clause > 0 && /\(\s*$/.test(context.slice(Math.max(0, claim.at - 3), claim.at)) && spans[clause - 1].sentence === spans[clause].sentence;
    return { claim, clause: bracketed ? clause - 1 : clause };
  });
  // A bare number in a table takes the unit its header names.
  const dimsOfSentence = new Map<number, Set<string>>();
  for (const v of values) {
    if (v.claim.quantity?.dim !== null || clauses.length === 0) continue;
    const sentence = clauses[v.clause].sentence;
    if (!dimsOfSentence.has(sentence)) {
      const own = clauses.filter((c) => c.sentence === sentence);
      dimsOfSentence.set(sentence, dimensionsNamed(context.slice(own[0].start, own.at(-1)!.end)));
    }
    v.claim.tableDims = dimsOfSentence.get(sentence);
  }
  return values;
}

// ---------- values ----------


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

const overlap = (a: ReadonlySet<string>, b: Words) => {
  let n = 0;
  for (const w of a) if (b.has(w)) n++;
  return n;
};

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
  // Values stated together come from one place: a context sentence holding the answer's other values is about this one too.
  // The nearer the answer's other values sit to a context value, the more that value is about the same thing:
  // "BK-200 (1.7 L) and BK-220 (1.2 L)" puts 1.2 L with BK-220.
  const together = (value: ParsedClaim, clause: number) => {
    const sentence = evidence.clauses[clause].sentence;
    let bonus = 0;
    for (const other of alsoClaimed) {
      let nearest = Infinity;
      // Beyond a few hundred characters the pull is nil, so a long run-on context costs a claim only its neighbourhood.
      const list = evidence.valuesOfSentence(sentence, stage);
      for (let i = firstAtOrAfter(list, value.at - NEAR_CHARS); i < list.length && list[i].claim.at <= value.at + NEAR_CHARS; i++) {
        if (compatible(other, list[i].claim)) nearest = Math.min(nearest, Math.abs(list[i].claim.at - value.at));
      }
      if (nearest < Infinity) bonus += 2 + 4 / (1 + nearest / 10);
    }
    return bonus;
  };
  let held: Holding[] | undefined;
  const score = (value: ParsedClaim, clause: number) => aboutness((held ??= [...about].map((w) => evidence.holding(w))), evidence, clause) + together(value, clause);
  const conversation = evidence.clauses.length - 1;
  for (const { claim: e, clause } of evidence.valuesThrough(stage)) {
    // What the user or the system prompt said needs no context clause to back it.
    if (clause === conversation && compatible(claim, e)) return true;
    if (compatible(claim, e)) best = Math.max(best, score(e, clause));
    // A value the answer states too ("8.6% from 7.1%") is no rival of its neighbour.
    else if (competes(claim, e) && !alsoClaimed.some((other) => compatible(other, e))) rival = Math.max(rival, score(e, clause));
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

// ---------- names, entities, quotes, urls ----------

export function textSupported(claim: ParsedClaim, evidence: Evidence): boolean {
  switch (claim.kind) {
    case 'quote': {
      // An elided quote ("a ... b") is supported when its fragments appear in order.
      const fragments = claim.normalized.split(/\s*(?:\.\.\.|…)\s*/);
      return evidence.texts.some((text) => {
        let from = 0;
        return fragments.every((fragment) => {
          const at = text.quoteText.indexOf(normalizeQuote(fragment), from);
          from = at + fragment.length;
          return fragment === '' || at >= 0;
        });
      });
    }
    case 'name':
      return claim.normalized !== '' && evidence.texts.some((text) => text.nameText.includes(` ${claim.normalized} `));
    case 'entity': {
      const lower = claim.text.toLowerCase();
      if (evidence.texts.some((text) => text.hasLemma(claim.normalized) || text.nameText.includes(` ${lower} `))) return true;
      // An acronym of context words: "ANC" for "active noise cancellation".
      const acronym = /^\p{Lu}{2,6}s?$/u.test(claim.text) && claim.text.replace(/s$/, '').toLowerCase();
      return acronym !== false && evidence.texts.some((text) => text.initials.includes(acronym));
    }
    case 'url':
      return evidence.texts.some((text) => text.urlText.includes(claim.normalized));
    default:
      return false;
  }
}

/**
 * The context clause most about the given words (its main part counting double), and how many it
 * shares: polarity is that of main parts, so "no refund is due because the unit is under warranty"
 * denies a refund, not the warranty.
 */
export function bestClause(about: Set<string>, evidence: Evidence): { clause: EvidenceClause; shared: number } | null {
  // Only a clause sharing a word with `about` can be chosen; in the clauses' order, as ties go to the first.
  const candidates = new Set<number>();
  for (const w of about) for (const i of evidence.clausesWith(w)) candidates.add(i);
  let best: { clause: EvidenceClause; shared: number; score: number } | null = null;
  for (const i of [...candidates].sort((a, b) => a - b)) {
    const clause = evidence.clauses[i];
    const shared = overlap(about, clause.content);
    const score = 2 * overlap(about, clause.main) + shared;
    if (shared > 0 && (!best || score > best.score)) best = { clause, shared, score };
  }
  return best;
}

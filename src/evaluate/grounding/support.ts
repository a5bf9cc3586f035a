/**
 * Whether the context supports a claim. A value (number, date, time, identifier) is supported when a
 * context clause holds a compatible value and no clause that is more about the same thing holds a
 * different value of the same kind: "secondary caregivers get 20 weeks" is unsupported when 20 weeks
 * belongs to the primary caregiver and the secondary one's clause says 6. Names and entities must
 * occur in the context in any case or inflection. Pure.
 */
import { dimensionsNamed, quantitySupported, rangeSupported, sameDimension } from '../quantities.js';
import { nameTokens, normalizeQuote, normalizeUrl, parseClaims, URL_RE, type CalendarDate, type ParsedClaim } from './claims.js';
import { clauseSpans, contentOf, lemma, readClause, wordsOf, type Span } from './words.js';

export interface EvidenceClause extends Span {
  content: Set<string>;
  negative: boolean;
}

export interface Evidence {
  clauses: EvidenceClause[];
  /** Content lemmas per sentence, for the weaker half of the clause score. */
  sentences: Set<string>[];
  /** Every value in the context with the clause it sits in. */
  values: { claim: ParsedClaim; clause: number }[];
  /** Content lemmas of the context and the whole conversation. */
  content: Set<string>;
  words: Set<string>;
  initials: string;
  quoteText: string;
  nameText: string;
  urlText: string;
}

const VALUE_KINDS = new Set(['number', 'percentage', 'date', 'time', 'identifier']);
export const isValueClaim = (c: ParsedClaim) => VALUE_KINDS.has(c.kind);

/** The context (and the conversation, which may state facts too) indexed for claims. */
export function evidenceOf(context: string, conversation: string): Evidence {
  const spans = clauseSpans(context);
  const clauses = spans.map((s) => ({ ...s, ...readClause(context.slice(s.start, s.end)) }));
  const sentences: Set<string>[] = [];
  for (const c of clauses) {
    sentences[c.sentence] ??= new Set();
    for (const w of c.content) sentences[c.sentence].add(w);
  }
  const values = parseClaims(context, { evidence: true })
    .filter(isValueClaim)
    .map((claim) => ({ claim, clause: Math.max(0, spans.findIndex((s) => claim.at >= s.start && claim.at < s.end)) }));
  for (const m of context.matchAll(/\bhalf\b/gi)) {
    const clause = Math.max(0, spans.findIndex((s) => m.index >= s.start && m.index < s.end));
    values.push({ claim: { kind: 'number', text: m[0], normalized: '0.5', at: m.index, end: m.index + 4, quantity: { amount: 0.5, base: 0.5, dim: null } }, clause });
  }
  // A bare number in a table takes the unit its header names.
  const sentenceText = new Map<number, string>();
  for (const c of clauses) sentenceText.set(c.sentence, `${sentenceText.get(c.sentence) ?? ''} ${context.slice(c.start, c.end)}`);
  for (const v of values) {
    if (v.claim.quantity?.dim === null) v.claim.tableDims = dimensionsNamed(sentenceText.get(clauses[v.clause]?.sentence ?? -1) ?? '');
  }
  // The conversation's values support claims anywhere ("my order 12345"), in a clause of their own.
  const conversationValues = parseClaims(conversation, { evidence: true }).filter(isValueClaim);
  const own = clauses.length;
  clauses.push({ start: 0, end: 0, sentence: sentences.length, content: new Set(), negative: false });
  sentences.push(new Set());
  for (const claim of conversationValues) values.push({ claim, clause: own });
  const all = `${context}\n${conversation}`;
  const words = wordsOf(all);
  const content = contentOf(conversation);
  for (const c of clauses) for (const w of c.content) content.add(w);
  return {
    clauses,
    sentences,
    values,
    content,
    words: new Set(words.map(lemma)),
    initials: ` ${words.map((w) => w[0]).join('')} `,
    quoteText: normalizeQuote(all),
    nameText: ` ${nameTokens(all).join(' ')} `,
    urlText: `${all.toLowerCase()}\n${[...all.matchAll(URL_RE)].map((m) => normalizeUrl(m[0].replace(/[.,;:!?]+$/, ''))).join('\n')}`,
  };
}

// ---------- values ----------

function weekdayOfDate({ y, m, d }: CalendarDate): number | undefined {
  return y !== undefined && m !== undefined && d !== undefined ? new Date(Date.UTC(y, m - 1, d)).getUTCDay() : undefined;
}

function dateCompatible(c: CalendarDate, e: CalendarDate): boolean {
  if (c.quarter) return e.quarter === c.quarter && (c.y === undefined || e.y === c.y);
  if (c.weekday !== undefined) return (e.weekday ?? weekdayOfDate(e)) === c.weekday;
  if (e.quarter || (e.weekday !== undefined && e.y === undefined && e.m === undefined)) return false;
  return (c.y === undefined || e.y === c.y) && (c.m === undefined || e.m === c.m) && (c.d === undefined || e.d === c.d);
}

/** Same kind of date: weekdays compete with weekdays, quarters with quarters, calendar dates with calendar dates. */
function dateCompetes(c: CalendarDate, e: CalendarDate): boolean {
  if (c.quarter) return e.quarter !== undefined;
  if (c.weekday !== undefined) return e.weekday !== undefined || weekdayOfDate(e) !== undefined;
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
      return lo === hi ? elo <= lo && lo <= ehi : (elo === lo && ehi === hi) || (elo === ehi && lo <= elo && elo <= hi);
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
    return q !== undefined && f !== undefined && sameDimension(q, f);
  }
  if (c.kind === 'date') return c.date !== undefined && e.date !== undefined && dateCompetes(c.date, e.date);
  if (c.kind === 'time') return e.kind === 'time';
  if (c.kind === 'identifier') return e.kind === 'identifier' && letters(e.normalized) === letters(c.normalized);
  return false;
}

const overlap = (a: Set<string>, b: Set<string>) => {
  let n = 0;
  for (const w of a) if (b.has(w)) n++;
  return n;
};

/** How much a context clause is about what the answer's clause is about: its own words count double, its sentence's once. */
export function aboutness(about: Set<string>, evidence: Evidence, clause: number): number {
  const c = evidence.clauses[clause];
  return 2 * overlap(about, c.content) + overlap(about, evidence.sentences[c.sentence] ?? new Set());
}

/** "T2" for "Terminal 2": a one-letter code whose letter starts a context word followed by the same number. */
function abbreviationSupported(c: ParsedClaim, evidence: Evidence): boolean {
  const m = /^(\p{L})(\d+)$/u.exec(c.normalized);
  return m !== null && evidence.values.some(({ claim: e }) => e.kind === 'identifier' && new RegExp(`^${m[1]}\\p{L}+${m[2]}$`, 'u').test(e.normalized));
}

/**
 * A value is supported by the best context clause holding a compatible value, unless a clause
 * more about the same thing holds a competing value (ties go to support).
 */
export function valueSupported(claim: ParsedClaim, about: Set<string>, evidence: Evidence, alsoClaimed: readonly ParsedClaim[] = []): boolean {
  let best = -1;
  let rival = -1;
  // Values stated together come from one place: a context sentence holding the answer's other values is about this one too.
  const together = new Map<number, number>();
  const score = (clause: number) => {
    const sentence = evidence.clauses[clause].sentence;
    if (!together.has(sentence)) {
      const held = alsoClaimed.filter((other) => evidence.values.some((v) => evidence.clauses[v.clause].sentence === sentence && compatible(other, v.claim)));
      together.set(sentence, 2 * held.length);
    }
    return aboutness(about, evidence, clause) + together.get(sentence)!;
  };
  for (const { claim: e, clause } of evidence.values) {
    if (compatible(claim, e)) best = Math.max(best, score(clause));
    // A value the answer states too ("8.6% from 7.1%") is no rival of its neighbour.
    else if (competes(claim, e) && !alsoClaimed.some((other) => compatible(other, e))) rival = Math.max(rival, score(clause));
  }
  if (best < 0) return claim.kind === 'identifier' && (abbreviationSupported(claim, evidence) || keywordNumberSupported(claim, evidence));
  return best >= rival;
}

/** "clause 12" is supported by "Clauses 8, 12 and 15": the keyword and the number in one context sentence. */
function keywordNumberSupported(c: ParsedClaim, evidence: Evidence): boolean {
  const m = /^(\p{L}+)(\d+)$/u.exec(c.normalized);
  if (!m) return false;
  const keyword = lemma(m[1]);
  return evidence.values.some(
    ({ claim: e, clause }) => e.quantity?.amount === +m[2] && evidence.sentences[evidence.clauses[clause].sentence]?.has(keyword),
  );
}

// ---------- names, entities, quotes, urls ----------

export function textSupported(claim: ParsedClaim, evidence: Evidence): boolean {
  switch (claim.kind) {
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
    case 'entity': {
      if (evidence.words.has(claim.normalized) || evidence.nameText.includes(` ${claim.text.toLowerCase()} `)) return true;
      // An acronym of context words: "ANC" for "active noise cancellation".
      return /^\p{Lu}{2,6}s?$/u.test(claim.text) && evidence.initials.includes(claim.text.replace(/s$/, '').toLowerCase());
    }
    case 'url':
      return evidence.urlText.includes(claim.normalized);
    default:
      return false;
  }
}

/** The context clause most about the given words, and how much. */
export function bestClause(about: Set<string>, evidence: Evidence): { clause: EvidenceClause; shared: number } | null {
  let best: { clause: EvidenceClause; shared: number; score: number } | null = null;
  evidence.clauses.forEach((clause, i) => {
    const score = aboutness(about, evidence, i);
    if (score > 0 && (!best || score > best.score)) best = { clause, shared: overlap(about, clause.content), score };
  });
  return best;
}

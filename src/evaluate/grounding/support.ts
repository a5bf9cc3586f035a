/**
 * The evidence for an answer's claims: the context's clauses (read on demand, clause-index.ts) and
 * values (read as deep as the answer needs, values.ts), and what the conversation states. Values are
 * judged in value-support.ts; names and entities must occur in the context in any case or
 * inflection, quotes and URLs as written. Pure.
 */
import { recent } from '../../util/recent.js';
import { dimensionsNamed } from '../quantities.js';
import { nameTokens, normalizeQuote, normalizeUrl, parseClaims, URL_RE, type ParsedClaim, type Stage } from './claims.js';
import { readValues, STAGES, type ValueReading } from './values.js';
import { clauseIndex, type ClauseIndex, type Holding } from './clause-index.js';
import { allMatches, clauseSpans, contentOf, readWords, sentenceSpans, type Span, type WordsReading } from './words.js';

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
    /** The text's words; and a cheaper answer than reading every word for one lemma, where the text has one. */
    private readonly source: { words(): WordsReading; hasLemma?(lemma: string): boolean },
  ) {}
  hasLemma(lemma: string) {
    return this.source.hasLemma ? this.source.hasLemma(lemma) : (this.#words ??= this.source.words()).lemmas.has(lemma);
  }
  get initials() {
    return (this.#initials ??= ` ${(this.#words ??= this.source.words()).initials} `);
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
export { latestStage, valueSupported } from './value-support.js';


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
 * values are read on first use, and only as deep as asked (values.ts): an answer with no value claim
 * (no number, date, time or id) never needs them, and reading them is most of the cost of a context.
 */
interface ContextIndex {
  /** Each clause read on first use: most clauses of a context never meet the answer's words. */
  clauses: EvidenceClause[];
  reader: ClauseIndex;
  sentenceCount: number;
  /** A sentence's content lemmas (every sentence holding a clause). */
  sentence(index: number): Words;
  /** The values a reading through the stage finds, or a deeper reading if one was made. */
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
class SentenceWords implements Words {
  constructor(
    private readonly reader: ClauseIndex,
    private readonly sentence: number,
  ) {}
  has(word: string): boolean {
    return this.reader.holding(word).sentences.has(this.sentence);
  }
}

const contextIndex = recent(64, (context: string): ContextIndex => new ContextIndexOf(context));

/** What one message states: its values and the content words of its statements. */
interface MessageReading {
  values: ParsedClaim[];
  content: Set<string>;
}
/**
 * Read per message, so a system prompt sent with every request is read once, whatever the question
 * beside it (a whole conversation rarely repeats, its system prompt nearly always does).
 */
const messageReading = recent(256, (message: string): MessageReading => ({
  values: parseClaims(message, { evidence: true }).filter(isValueClaim),
  content: contentOf(statementsOf(message)),
}));

/** The conversation's values and words (system prompt, question): they support claims anywhere ("my order 12345"). */
interface ConversationIndex {
  /** Values at their offsets in the messages joined by newlines. */
  values: ParsedClaim[];
  content: Words;
  text: TextViews;
}

function conversationIndex(messages: readonly string[]): ConversationIndex {
  const readings = messages.map(messageReading);
  const values: ParsedClaim[] = [];
  let offset = 0;
  readings.forEach((r, i) => {
    for (const v of r.values) values.push(offset === 0 ? v : { ...v, at: v.at + offset, end: v.end + offset });
    offset += messages[i].length + 1;
  });
  const conversation = messages.join('\n');
  return { values, content: new AnyWords(readings.map((r) => r.content)), text: new TextViews(conversation, { words: () => readWords(conversation) }) };
}

/** Words of any of several sets. */
class AnyWords implements Words {
  constructor(private readonly sets: readonly Set<string>[]) {}
  has(word: string): boolean {
    return this.sets.some((set) => set.has(word));
  }
}

/**
 * A message's sentences that state something: a question's words name what the user wants to
 * know, not facts ("Is the Wi-Fi free?" does not ground "Wi-Fi is free throughout the hotel").
 */
function statementsOf(message: string): string {
  return sentenceSpans(message)
    .map(([s, e]) => message.slice(s, e))
    .filter((sentence) => !/\?["')\]]*\s*$/.test(sentence))
    .join('\n');
}

/** The context (and the conversation's messages, which may state facts too) indexed for claims. */
export const evidenceOf = (context: string, messages: readonly string[]): Evidence => new EvidenceOf(contextIndex(context), conversationIndex(messages));

type Located = { claim: ParsedClaim; clause: number };

/** One answer's evidence. A class, so building it creates no closures. */
class EvidenceOf implements Evidence {
  readonly clauses: EvidenceClause[];
  readonly texts: readonly TextViews[];
  readonly content: Words;
  /** The conversation's clause: its values sit in a clause of their own, about nothing in particular. */
  private readonly own: number;
  // One list, from the deepest reading asked for yet: a shallower stage's claims meet nothing the deeper reading adds.
  private read: { depth: number; values: Located[]; bySentence?: Map<number, Located[]> } | undefined;

  constructor(
    private readonly ctx: ContextIndex,
    private readonly conv: ConversationIndex,
  ) {
    this.own = ctx.clauses.length;
    this.clauses = [...ctx.clauses, { start: 0, end: 0, sentence: ctx.sentenceCount, content: new Set<string>(), main: new Set<string>(), negative: false }];
    this.texts = [ctx.text, conv.text];
    this.content = new EitherWords(ctx.reader, conv.content);
  }

  sentence(index: number): Words | undefined {
    return index === this.ctx.sentenceCount ? NO_WORDS : this.ctx.sentence(index);
  }

  get values(): Located[] {
    return this.valuesThrough('all');
  }

  valuesThrough(stage: Stage): Located[] {
    const depth = STAGES.indexOf(stage);
    if (!this.read || this.read.depth < depth) {
      const found = this.ctx.values(stage);
      const { values } = this.conv;
      this.read = { depth, values: values.length ? [...found, ...values.map((claim) => ({ claim, clause: this.own }))] : found };
    }
    return this.read.values;
  }

  valuesOfSentence(sentence: number, stage: Stage): readonly Located[] {
    this.valuesThrough(stage);
    const current = this.read!;
    if (!current.bySentence) {
      current.bySentence = new Map();
      for (const v of current.values) {
        const s = this.clauses[v.clause].sentence;
        const list = current.bySentence.get(s);
        if (list) list.push(v);
        else current.bySentence.set(s, [v]);
      }
    }
    return current.bySentence.get(sentence) ?? [];
  }

  clausesWith(word: string): readonly number[] {
    return this.ctx.reader.mayHold(word);
  }

  holding(word: string): Holding {
    return this.ctx.reader.holding(word);
  }
}

/** Content lemmas of the context or the conversation. */
class EitherWords implements Words {
  constructor(
    private readonly context: ClauseIndex,
    private readonly conversation: Words,
  ) {}
  has(word: string): boolean {
    return this.context.holds(word) || this.conversation.has(word);
  }
}

/** What a context alone yields (see ContextIndex). */
class ContextIndexOf implements ContextIndex {
  readonly clauses: EvidenceClause[];
  readonly reader: ClauseIndex;
  readonly sentenceCount: number;
  readonly text: TextViews;
  private readonly spans: Span[];
  private readonly sentences: Words[] = [];
  private found: { depth: number; values: Located[] } | undefined;
  // One reading of the values, resumed where it stopped when a deeper stage is asked for.
  private reading: ValueReading | undefined;

  constructor(private readonly context: string) {
    const spans = (this.spans = clauseSpans(context));
    const reader = (this.reader = clauseIndex(context, spans));
    this.clauses = spans.map(({ start, end, sentence }, i) => new ContextClause(start, end, sentence, i, reader));
    this.sentenceCount = this.clauses.length ? this.clauses[this.clauses.length - 1].sentence + 1 : 0;
    this.text = new TextViews(context, reader);
  }

  sentence(index: number): Words {
    return (this.sentences[index] ??= new SentenceWords(this.reader, index));
  }

  values(stage: Stage): Located[] {
    const depth = STAGES.indexOf(stage);
    if (!this.found || this.found.depth < depth) {
      this.reading ??= readValues(this.context, { evidence: true });
      this.found = { depth, values: contextValues(this.context, this.reading, this.spans, this.clauses, stage) };
    }
    return this.found.values;
  }
}

function contextValues(context: string, reading: ValueReading, spans: readonly Span[], clauses: readonly EvidenceClause[], stage: Stage): { claim: ParsedClaim; clause: number }[] {
  const found = reading.through(stage).filter(isValueClaim);
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

const overlap = (a: ReadonlySet<string>, b: Words) => {
  let n = 0;
  for (const w of a) if (b.has(w)) n++;
  return n;
};

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

/**
 * A context's clauses read on demand. An answer is short and its words meet few of the context's
 * clauses, so reading every clause of a context never seen before (its words, lemmas, main part and
 * polarity) is mostly wasted: each clause is read when asked for, exactly as readClauses reads it,
 * and the clauses that may hold a word are found by searching the context's readable text (the text
 * readClauses reads: lowercased, "non-" as "un", idioms as their word) for the word's forms.
 */
import { allMatches, CODE_WORD_RE, DENIED, DENIES, infoOf, IRREGULAR, lemma, readable, readClauses, SUBORDINATES, WORD_RE, type ClauseReading, type Span, type WordsReading } from './words.js';

/** The clauses, and their sentences, that hold a content lemma. */
export interface Holding { clauses: ReadonlySet<number>; sentences: ReadonlySet<number> }

export interface ClauseIndex {
  reading(clause: number): ClauseReading;
  /** Ascending indexes of the clauses that may hold a content lemma: every clause that does, and maybe others. */
  mayHold(content: string): readonly number[];
  holding(content: string): Holding;
  /** Whether any clause holds a content lemma (what the union of all clauses' content says). */
  holds(content: string): boolean;
  /** The lemmas and initials of the text's words, as readClauses gives them. */
  words(): WordsReading;
  /** Whether words().lemmas has a lemma, found without reading every word. */
  hasLemma(lemma: string): boolean;
}

/** Per lemma, the lemmas that read as it (the words that deny it: "paused" reads as "continue"), and the irregular words with each lemma. */
let deniersOf: Map<string, string[]> | undefined;
let irregularOf: Map<string, string[]> | undefined;
const push = (map: Map<string, string[]>, key: string, value: string) => (map.get(key) ?? map.set(key, []).get(key)!).push(value);

/**
 * Strings one of which starts every word of the readable text whose content lemma (or, with
 * `lemmas`, one of whose lemmas) is `target`; null when there is no such short list. Suffix rules
 * only cut a word's end (and turn "ies" into "y"), so a word starts with its lemma less a final "y";
 * irregular forms ("ran"), denying words and "won't" are listed; a denied "¬limit" is an "un" word.
 */
export function searchKeys(target: unknown, { lemmas = false } = {}): string[] | null {
  if (typeof target !== 'string' || target.length < 2) return null;
  if (target.startsWith('#')) {
    // A code's letters (or digits) before its first digit (or letter) start it as written: "bk-200" for "#bk200".
    const lead = /^(?:[a-z]+|\d+)/.exec(target.slice(1));
    return lead ? [lead[0]] : null;
  }
  if (target.startsWith(DENIED)) {
    const base = searchKeys(target.slice(DENIED.length));
    return base && base.map((key) => `un${key}`);
  }
  if (!deniersOf || !irregularOf) {
    deniersOf = new Map();
    irregularOf = new Map();
    for (const [negative, positive] of Object.entries(DENIES)) push(deniersOf, positive, negative);
    for (const word of Object.keys(IRREGULAR)) push(irregularOf, lemma(word), word);
  }
  const keys: string[] = [];
  for (const source of [target, ...(lemmas ? [] : deniersOf.get(target) ?? [])]) {
    keys.push(source.endsWith('y') ? source.slice(0, -1) : source, ...(irregularOf.get(source) ?? []));
  }
  if (lemmas && target === 'will') keys.push("won't");
  return keys;
}

/** A character a word may hold, and more (digits, code punctuation); surrogates too (astral letters). */
const MATCH_CHAR = /[\p{L}\p{N}_'’.\-\ud800-\udfff]/u;
const LETTER = /\p{L}/u;
/** How far back a clause's reading may start (see runStart) before reading the whole text is cheaper. */
const MAX_BACKTRACK = 256;

export function clauseIndex(text: string, spans: readonly Span[]): ClauseIndex {
  const lower = readable(text);
  // Lowercasing changed the length ("İ"): offsets would not match, so read every clause up front, as before.
  return lower.length === text.length ? new LazyIndex(text, lower, spans) : eagerIndex(text, spans);
}

/** Clauses read when asked for. A class, so indexing a context creates no closures. */
class LazyIndex implements ClauseIndex {
  private readonly readings: (ClauseReading | undefined)[];
  private readonly mayHoldMemo = new Map<string, readonly number[]>();
  private readonly held = new Map<string, Holding>();
  private readonly lemmaKnown = new Map<string, boolean>();
  private all: readonly number[] | undefined;
  private eager: ClauseIndex | undefined;
  private marks: Marks | undefined;
  private wordsRead: WordsReading | undefined;

  constructor(
    private readonly text: string,
    /** The readable text (readClauses reads the same), as long as the text. */
    private readonly lower: string,
    private readonly spans: readonly Span[],
  ) {
    this.readings = new Array(spans.length);
  }

  reading(i: number): ClauseReading {
    const known = this.readings[i];
    if (known) return known;
    const { start, end } = this.spans[i];
    const from = runStart(this.lower, start);
    // A run of word characters this long before the clause: rare, and read whole rather than scanned per clause.
    if (from < start - MAX_BACKTRACK) return (this.eager ??= eagerIndex(this.text, this.spans)).reading(i);
    // Codes and subordinators are rare: one scan of the whole text finds them for every clause.
    this.marks ??= { codes: allMatches(CODE_WORD_RE, this.lower), subordinates: allMatches(SUBORDINATES, this.lower) };
    return (this.readings[i] = readClauseAt(this.lower, start, end, from, this.marks));
  }

  mayHold(content: string): readonly number[] {
    let found = this.mayHoldMemo.get(content);
    if (found) return found;
    const keys = searchKeys(content);
    if (keys === null) found = this.all ??= this.spans.map((_, i) => i);
    else {
      const { lower, spans } = this;
      const clauses = new Set<number>();
      const isCode = content.startsWith('#');
      for (const key of keys) {
        for (let at = lower.indexOf(key); at >= 0; at = lower.indexOf(key, at + 1)) {
          // A word starts at a letter not preceded by one (codes may start inside a word: "ébk-200").
          if (!isCode && at > 0 && LETTER.test(lower[at - 1])) continue;
          const clause = clauseAt(spans, at);
          if (clause >= 0) clauses.add(clause);
        }
      }
      found = [...clauses].sort((a, b) => a - b);
    }
    this.mayHoldMemo.set(content, found);
    return found;
  }

  holding(content: string): Holding {
    let found = this.held.get(content);
    if (found === undefined) {
      const clauses = new Set(this.mayHold(content).filter((i) => this.reading(i).content.has(content)));
      found = { clauses, sentences: new Set([...clauses].map((i) => this.spans[i].sentence)) };
      this.held.set(content, found);
    }
    return found;
  }

  holds(content: string): boolean {
    return this.holding(content).clauses.size > 0;
  }

  words(): WordsReading {
    if (this.wordsRead) return this.wordsRead;
    const infos = allMatches(WORD_RE, this.lower).map((m) => infoOf(m[0]));
    return (this.wordsRead = { lemmas: new Set(infos.flatMap((i) => i.lemmas)), initials: infos.map((i) => i.initials).join('') });
  }

  hasLemma(target: string): boolean {
    let found = this.lemmaKnown.get(target);
    if (found !== undefined) return found;
    const keys = target === "n't" ? null : searchKeys(target, { lemmas: true });
    if (keys === null) found = this.words().lemmas.has(target);
    else {
      const { lower } = this;
      found = keys.some((key) => {
        for (let at = lower.indexOf(key); at >= 0; at = lower.indexOf(key, at + 1)) {
          if (at > 0 && LETTER.test(lower[at - 1])) continue;
          const word = wordAt(lower, at);
          if (word !== null && infoOf(word).lemmas.includes(target)) return true;
        }
        return false;
      });
    }
    this.lemmaKnown.set(target, found);
    return found;
  }
}

/** The word of the text starting at a position, or null when no word starts there. */
function wordAt(lower: string, at: number): string | null {
  const re = WORD_RE.of(lower);
  re.lastIndex = runStart(lower, at);
  for (let m = re.exec(lower); m && m.index <= at; m = re.exec(lower)) if (m.index === at) return m[0];
  return null;
}

/** Every clause read in one pass (readClauses), for texts whose offsets lowercasing moves. */
function eagerIndex(text: string, spans: readonly Span[]): ClauseIndex {
  const { clauses, content, words } = readClauses(text, spans);
  const every = spans.map((_, i) => i);
  const held = new Map<string, Holding>();
  const holding = (word: string) => {
    let found = held.get(word);
    if (!found) {
      const holders = new Set(every.filter((i) => clauses[i].content.has(word)));
      held.set(word, (found = { clauses: holders, sentences: new Set([...holders].map((i) => spans[i].sentence)) }));
    }
    return found;
  };
  return { reading: (i) => clauses[i], mayHold: () => every, holding, holds: (c) => content.has(c), words, hasLemma: (l) => words().lemmas.has(l) };
}

/**
 * Where a scan for a clause's words may start: back past the word characters just before it. The
 * whole text's words hold only such characters, so none straddles that position, and a scan from
 * there finds the words the whole text's scan finds ("éandés" is one word though "and" cuts a clause).
 */
function runStart(text: string, at: number): number {
  let from = at;
  while (from > 0 && MATCH_CHAR.test(text[from - 1])) from--;
  return from;
}

/** Every code and subordinator of the readable text, in order. */
interface Marks { codes: RegExpExecArray[]; subordinates: RegExpExecArray[] }

/** The clause at [start, end) of the readable text, as readClauses reads it; its words are scanned from `from` (runStart). */
function readClauseAt(lower: string, start: number, end: number, from: number, { codes, subordinates }: Marks): ClauseReading {
  const firstSubordinate = subordinates[firstAtOrAfter(subordinates, start)];
  const mainEnd = firstSubordinate && firstSubordinate.index < end ? firstSubordinate.index : end;
  const content = new Set<string>();
  const main = new Set<string>();
  let negative = false;
  const re = WORD_RE.of(lower);
  re.lastIndex = from;
  for (let m = re.exec(lower); m && m.index < end; m = re.exec(lower)) {
    if (m.index < start) continue;
    const info = infoOf(m[0]);
    const isMain = m.index < mainEnd;
    if (info.content !== null) {
      content.add(info.content);
      if (isMain) main.add(info.content);
    }
    if (isMain && info.negates) negative = true;
  }
  for (let i = firstAtOrAfter(codes, start); i < codes.length && codes[i].index < end; i++) {
    const code = `#${codes[i][0].replace(/[-_]/g, '')}`;
    content.add(code);
    if (codes[i].index < mainEnd) main.add(code);
  }
  return { content, main, negative };
}

/** Index of the first match at or after a position, in matches in order. */
function firstAtOrAfter(matches: readonly RegExpExecArray[], at: number): number {
  let lo = 0;
  let hi = matches.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matches[mid].index < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The clause holding a position, or -1 between clauses. */
function clauseAt(spans: readonly Span[], at: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid].end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo < spans.length && spans[lo].start <= at ? lo : -1;
}

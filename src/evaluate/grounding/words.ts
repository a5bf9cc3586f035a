/**
 * Words for grounding: clauses, content words reduced to a lemma (so "caregivers" meets "caregiver"
 * and "scheduled" meets "schedule"), and polarity (negation and negative antonyms). Pure and cheap:
 * it runs on the context of every grounded answer, so it is suffix rules and word lists, not a parser.
 */
import { allMatches as allOf } from '../../util/matches.js';
import { UNIT_WORDS } from '../quantities.js';
import { pattern, type Pattern } from './bmp.js';

/** Function words, auxiliaries and discourse words: never evidence of a claim on their own. */
const STOPWORDS = new Set(
  ('a an the and or but nor so yet if then than that this these those there here it its it\'s itself they them their theirs he him his she her hers ' +
    'we us our ours you your yours i me my mine one ones who whom whose which what when where why how all any both each every few more most other ' +
    'some such own same very just also only even still too quite rather really about above across after against along among around at before behind ' +
    'below beneath beside besides between beyond by down during for from in inside into like near of off on onto out outside over past per since ' +
    'through throughout till to toward towards under until up upon via with within is am are was were be been being have has had having do does did ' +
    'doing done will would shall should can could may might must ought get gets got getting make makes made let lets go goes went going gone ' +
    'as because while whereas although though unless whether either neither not no never none nothing nobody n\'t yes okay ok please thanks thank ' +
    'hi hello sure well now again already always often usually sometimes ever once twice etc e.g i.e vs versus say said says tell told ' +
    'about approximately roughly around nearly almost least most much many lot lots thing things way ways kind sort bit ' +
    'first last next new same another further plus half quarter dozen you\'re we\'re they\'re i\'m i\'ve you\'ve we\'ve i\'ll you\'ll we\'ll it\'ll i\'d you\'d that\'s there\'s what\'s here\'s who\'s let\'s').split(' '),
);

/** Words that turn a clause negative. "n't" is split off by the tokenizer. */
const NEGATORS = new Set(['not', 'no', 'never', 'none', 'nothing', 'nobody', 'neither', 'nor', 'without', "n't", 'cannot', 'non', 'nowhere']);
/** Negative members of antonym pairs, as the positive word they deny: "paused" denies "continue". Keyed by lemma below. */
const DENYING_WORDS: [negative: string, positive: string][] = [
  ['stop', 'continue'], ['pause', 'continue'], ['suspend', 'continue'], ['cease', 'continue'], ['halt', 'continue'],
  ['exclude', 'include'], ['omit', 'include'], ['forbid', 'allow'], ['prohibit', 'allow'], ['ban', 'allow'], ['refuse', 'accept'],
  ['reject', 'accept'], ['deny', 'allow'], ['lack', 'have'], ['unsafe', 'safe'], ['unavailable', 'available'], ['unpaid', 'pay'],
  ['close', 'open'],
  ['disable', 'enable'], ['deactivate', 'activate'], ['invalid', 'valid'], ['illegal', 'legal'], ['impossible', 'possible'],
  ['inactive', 'active'], ['ineligible', 'eligible'], ['incompatible', 'compatible'], ['unsupported', 'support'],
  ['prevent', 'allow'], ['cancel', 'continue'], ['shut', 'open'], ['unlikely', 'likely'], ['unable', 'able'],
  ['unaffected', 'affect'], ['unchanged', 'change'], ['unresolved', 'resolve'], ['unfixed', 'fix'], ['incomplete', 'complete'], ['unknown', 'know'], ['remove', 'add'], ['absent', 'present'], ['fail', 'succeed'],
  ['defer', 'approve'], ['exempt', 'pay'],
  ['disallow', 'allow'],
];

export const IRREGULAR: Readonly<Record<string, string>> = {
  ran: 'run', went: 'go', gone: 'go', made: 'make', took: 'take', taken: 'take', gave: 'give', given: 'give', came: 'come', began: 'begin',
  begun: 'begin', held: 'hold', kept: 'keep', left: 'leave', lost: 'lose', met: 'meet', paid: 'pay', sent: 'send', sold: 'sell', spent: 'spend',
  told: 'tell', thought: 'think', brought: 'bring', bought: 'buy', built: 'build', chose: 'choose', chosen: 'choose', found: 'find',
  led: 'lead', rose: 'rise', risen: 'rise', fell: 'fall', fallen: 'fall', grew: 'grow', grown: 'grow', wrote: 'write', written: 'write',
  drove: 'drive', driven: 'drive', flew: 'fly', flown: 'fly', saw: 'see', seen: 'see', knew: 'know', known: 'know', won: 'win', shut: 'shut',
  cancelled: 'cancel', cancelling: 'cancel', travelled: 'travel', labelled: 'label', modelled: 'model', signalled: 'signal', fuelled: 'fuel',
  hit: 'hit', cut: 'cut', set: 'set', put: 'put', read: 'read', children: 'child', people: 'person', men: 'man', women: 'woman', feet: 'foot',
  teeth: 'tooth', mice: 'mouse', data: 'data', media: 'media', criteria: 'criterion', analyses: 'analysis', series: 'series', news: 'news',
};

const VOWEL = /[aeiouy]/;
/** A lemma by suffix rules: plurals, -ed, -ing, -ly, comparatives and British spellings meet their base form. */
function stem(word: string): string {
  if (IRREGULAR[word]) return IRREGULAR[word];
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (w.endsWith('ied') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (/(?:ss|us|is|ous)$/.test(w)) return w;
  if (/(?:sses|shes|ches|xes|zes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('ing') && w.length > 5 && VOWEL.test(w.slice(0, -3))) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4 && VOWEL.test(w.slice(0, -2))) w = w.slice(0, -2);
  else if (w.endsWith('ly') && w.length > 5) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  else return w;
  // "stopped" → "stop", "running" → "run".
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(?:ll|ss|zz)$/.test(w)) w = w.slice(0, -1);
  return w;
}

/** The comparable form of a word: lowercase, possessive dropped, stemmed, a final "e" dropped so "schedule" meets "scheduled". */
export function lemma(word: string): string {
  let l = LEMMAS.get(word);
  if (l === undefined) {
    const s = stem(word.toLowerCase().replace(/['’]s$/, '').replace(/’/g, "'"));
    l = s.length > 3 ? s.replace(/e$/, '') : s;
    // Bounded: a long-running capture worker sees an open vocabulary.
    if (LEMMAS.size >= MAX_LEMMAS) LEMMAS.clear();
    LEMMAS.set(word, l);
  }
  return l;
}
const LEMMAS = new Map<string, string>();
const MAX_LEMMAS = 50_000;

export const DENIES: Readonly<Record<string, string>> = Object.fromEntries(DENYING_WORDS.map(([neg, pos]) => [lemma(neg), lemma(pos)]));

/**
 * "unlimited", "unauthenticated", "unlocked": an "un-" adjective or participle denies its base. Only
 * forms whose ending marks one (so "under", "unit", "union", "unique" keep their own meaning).
 */
const UN_PREFIXED = /^un(?!der|i[a-z]|til|less)([a-z]{3,}(?:ed|able|ible|ful|ing|ive|ent|ant|al))$|^un(safe|paid|fair|clear|sure|true|known|like|well|fit|happy|lucky|ready|aware|seen|done|usual|even)$/;

/**
 * An "un-" word's content: its base marked denied ("¬limit"). It names a different thing rather than
 * negating its clause ("unwanted medicines can be returned" is positive); an answer word whose denied
 * form is where the context says it ("limited" against "unlimited") is a clash of its own.
 */
function unPrefixed(word: string): string | undefined {
  const m = UN_PREFIXED.exec(word);
  return m ? `${DENIED}${lemma(m[1] ?? m[2])}` : undefined;
}
/** Marks a content word as the denied form of its base. */
export const DENIED = '¬';

/**
 * Quantity bounds and prices are not negations: "no more than 8 GPUs" is "at most", "at no charge"
 * is free. Their negating word is blanked (same length, so offsets hold).
 */
const NOT_A_NEGATION = /\b(?:no|not)(?=\s+(?:more|less|fewer|later|earlier|longer|greater|sooner|higher|lower|older|younger)\s+than\b)|\b(?:no|without)(?=\s+(?:extra\s+|additional\s+)?(?:charge|cost|fee)s?\b)/g;
/** Idioms read as the one word they mean (never longer than the idiom, so offsets hold). */
const IDIOMS: Record<string, string> = { 'put on hold': 'deferred', 'on hold': 'paused', 'free of charge': 'free', 'turned off': 'disabled', 'switched off': 'disabled', 'turned on': 'enabled', 'switched on': 'enabled' };
const IDIOM_SOURCE = String.raw`\b(?:${Object.keys(IDIOMS).sort((a, b) => b.length - a.length).map((k) => k.replace(/ /g, String.raw`\s+`)).join('|')})\b`;
/** Every rewrite in one scan: "non-", bounds and prices, idioms. */
const REWRITE_RE = new RegExp(String.raw`\bnon-(?=[a-z])|${NOT_A_NEGATION.source}|${IDIOM_SOURCE}`, 'g');
const rewrite = (found: string) =>
  found === 'non-' ? '  un' : (IDIOMS[found.replace(/\s+/g, ' ')] ?? '').padEnd(found.length, ' ');

/** Lowercase text as words are read: curly apostrophes straight, "non-X" read as "unX", bounds and prices not negated, idioms as their word. */
export function readable(text: string): string {
  const lower = text.toLowerCase();
  return (lower.includes('’') ? lower.replace(/’/g, "'") : lower).replace(REWRITE_RE, rewrite);
}

export const isStopword = (word: string) => STOPWORDS.has(word.toLowerCase());

/** Every match of a global pattern (for a Pattern, its form for this text). */
export const allMatches = (p: RegExp | Pattern, text: string): RegExpExecArray[] => allOf(p instanceof RegExp ? p : p.of(text), text);

/** A token with letters and digits: a model, version or ticket code. */
export const CODE_WORD_RE = /\b[a-z]+[-_]?\d[a-z0-9.-]*[a-z0-9]|\b\d+[a-z]+\d[a-z0-9]*/g;
export const WORD_RE = pattern(/[\p{L}][\p{L}'’]*/gu);
const normalWord = (raw: string) => {
  const w = raw.toLowerCase().replace(/’/g, "'");
  return w.endsWith("'") ? w.slice(0, -1) : w;
};

function splitWord(raw: string): string[] {
  const w = normalWord(raw);
  if (w.endsWith("n't")) return [w === "won't" ? 'will' : w === "can't" ? 'can' : w.slice(0, -3), "n't"];
  return [w];
}

/** Words of a text, with "isn't" split into "is" + "n't" and hyphenated words split too ("water-resistant", "non-refundable"). */
export function wordsOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.match(WORD_RE.of(text)) ?? []) out.push(...splitWord(raw));
  return out;
}

/** The content lemma of a word, or null for function words, negators, number and unit words. */
function contentLemma(w: string): string | null {
  const bare = w.endsWith("'s") ? w.slice(0, -2) : w;
  if (bare.length < 2 || STOPWORDS.has(bare) || NEGATORS.has(bare) || NUMBER_WORDS.has(bare) || UNIT_WORDS.has(bare)) return null;
  const l = lemma(w);
  return DENIES[l] ?? unPrefixed(bare) ?? l;
}

/** Content lemmas of a text: what a clause is about. */
export function contentOf(text: string): Set<string> {
  const set = new Set<string>();
  const lower = readable(text);
  for (const word of lower.match(WORD_RE.of(lower)) ?? []) {
    const l = infoOf(word).content;
    if (l !== null) set.add(l);
  }
  return set;
}

/**
 * Per lowercase word: its content lemma (or null), whether it negates, and the lemmas and initials of
 * the words wordsOf() makes of it ("isn't" is "is" + "n't"). Memoised like lemma().
 */
export interface WordInfo { content: string | null; negates: boolean; lemmas: string[]; initials: string }
const WORD_INFO = new Map<string, WordInfo>();
export function infoOf(word: string): WordInfo {
  let info = WORD_INFO.get(word);
  if (info === undefined) {
    const parts = splitWord(word);
    const w = word.endsWith("'") ? word.slice(0, -1) : word;
    const [content, negates] = w.endsWith("n't") ? [contentLemma(parts[0]), true] : [contentLemma(w), NEGATORS.has(w) || DENIES[lemma(w)] !== undefined];
    info = { content, negates, lemmas: parts.map(lemma), initials: parts.map((p) => p[0]).join('') };
    if (WORD_INFO.size >= MAX_LEMMAS) WORD_INFO.clear();
    WORD_INFO.set(word, info);
  }
  return info;
}

/** What a clause is about (its main part's words apart), and whether its main part is negative. */
export interface ClauseReading { content: Set<string>; main: Set<string>; negative: boolean }

/** The lemmas of every word of a text, and their initials in order (for acronyms): what names and entities are checked against. */
export interface WordsReading { lemmas: Set<string>; initials: string }

/** lemmas and initials as the words of wordsOf() give them. */
export function readWords(text: string): WordsReading {
  const words = wordsOf(text);
  return { lemmas: new Set(words.map(lemma)), initials: words.map((w) => w[0]).join('') };
}

/** A clause's content and polarity in one pass over its words. */
export function readClause(clause: string): ClauseReading {
  const text = readable(clause);
  const subordinate = SUBORDINATE.exec(text);
  const mainEnd = subordinate ? subordinate.index : text.length;
  const reading: ClauseReading = { content: new Set<string>(), main: new Set<string>(), negative: false };
  readPart(text.slice(0, mainEnd), true, reading);
  if (mainEnd < text.length) readPart(text.slice(mainEnd), false, reading);
  // Codes ("BK-210", "v4.12") are what a clause is about too; letters alone would make BK-200 and BK-210 one word.
  for (const m of allMatches(CODE_WORD_RE, text)) {
    const code = `#${m[0].replace(/[-_]/g, '')}`;
    reading.content.add(code);
    if (m.index < mainEnd) reading.main.add(code);
  }
  return reading;
}

/** Adds a part of a clause to its reading: its content, and in its main part its polarity too. */
function readPart(part: string, isMain: boolean, reading: ClauseReading): void {
  for (const word of part.match(WORD_RE.of(part)) ?? []) {
    const info = infoOf(word);
    if (info.content !== null) {
      reading.content.add(info.content);
      if (isMain) reading.main.add(info.content);
    }
    if (isMain && info.negates) reading.negative = true;
  }
}

/**
 * Every clause of a text read as readClause reads each, in one pass over the whole text: a context
 * has dozens of clauses, and one lowercasing and one scan per pattern cost less than one per clause.
 * Words never cross a clause's edge (clauses are cut at punctuation and whole words).
 */
export function readClauses(text: string, spans: readonly Span[]): { clauses: ClauseReading[]; content: Set<string>; words: () => WordsReading } {
  const lower = readable(text);
  // Lowercasing changed the length ("İ"): offsets would not match, so read clause by clause.
  if (lower.length !== text.length) {
    const clauses = spans.map((s) => readClause(text.slice(s.start, s.end)));
    return { clauses, content: new Set(clauses.flatMap((c) => [...c.content])), words: () => readWords(text) };
  }
  const content = new Set<string>();
  const readings: ClauseReading[] = spans.map(() => ({ content: new Set<string>(), main: new Set<string>(), negative: false }));
  // Every word's info, in order: lemmas and initials are built from them only if an entity needs them.
  const infos: WordInfo[] = [];
  const mainEnds = spans.map((s) => s.end);
  const clauseAt = walker(spans);
  for (const m of allMatches(SUBORDINATES, lower)) {
    const c = clauseAt(m.index);
    if (c >= 0 && mainEnds[c] === spans[c].end) mainEnds[c] = m.index;
  }
  const wordClause = walker(spans);
  const re = WORD_RE.of(lower);
  re.lastIndex = 0;
  for (let m = re.exec(lower); m; m = re.exec(lower)) {
    const info = infoOf(m[0]);
    infos.push(info);
    const c = wordClause(m.index);
    if (c < 0) continue;
    const isMain = m.index < mainEnds[c];
    if (info.content !== null) {
      readings[c].content.add(info.content);
      content.add(info.content);
      if (isMain) readings[c].main.add(info.content);
    }
    if (isMain && info.negates) readings[c].negative = true;
  }
  const codes = walker(spans);
  for (const m of allMatches(CODE_WORD_RE, lower)) {
    const c = codes(m.index);
    if (c < 0) continue;
    const code = `#${m[0].replace(/[-_]/g, '')}`;
    readings[c].content.add(code);
    content.add(code);
    if (m.index < mainEnds[c]) readings[c].main.add(code);
  }
  let words: WordsReading | undefined;
  const wordsOfText = () => (words ??= { lemmas: new Set(infos.flatMap((i) => i.lemmas)), initials: infos.map((i) => i.initials).join('') });
  return { clauses: readings, content, words: wordsOfText };
}

/** For positions in ascending order, the index of the span holding each, or -1 between spans. */
function walker(spans: readonly Span[]): (at: number) => number {
  let i = 0;
  return (at) => {
    while (i < spans.length && spans[i].end <= at) i++;
    return i < spans.length && at >= spans[i].start ? i : -1;
  };
}

/**
 * Where a clause's main part ends: what follows a condition or a reason ("terminate if the breach is
 * not cured", "no refund is due because the unit is under warranty") has a polarity of its own.
 */
const SUBORDINATE = /\b(?:if|unless|until|except|provided|as long as|as soon as|in case|whenever|once|because|since|so|which|who|whereas|although|though|when)\b/i;
/** The same, global, for the lowercased text of readClauses. */
export const SUBORDINATES = new RegExp(SUBORDINATE.source, 'g');
const NUMBER_WORDS = new Set('one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion'.split(' '));


/** A leading "Yes," / "No," answers the question; the clause after it carries the claim. */
export const withoutInterjection = (text: string) =>
  text.replace(/^\s*(?:yes|no|yeah|nope|correct|right)\s*(?:[,.!:—–-]+\s*|$)/i, '').replace(ELLIPTICAL_NOT, '');
/** "Not for a non-urgent claim: ..." answers "no" to a circumstance; the clause itself denies nothing. */
const ELLIPTICAL_NOT = /^\s*not\s+(?=(?:for|in|on|if|with|during|at|from|before|after|when|unless|while|outside)\b)/i;

/** A span of text: a clause, and the sentence it belongs to. */
export interface Span { start: number; end: number; sentence: number }

/** Sentence ends: end punctuation before a space and a capital, digit or quote; and line breaks. */
const SENTENCE_END = pattern(/(?<=[.!?])["')\]]*\s+(?=["'(\[]?[\p{Lu}\p{N}])|\n+/gu);
/** Clause cuts inside a sentence: semicolons, colons, dashes, brackets, and commas not inside a number ("4,300"). */
const CLAUSE_CUT = /[;—()\[\]]|\s–\s|(?<!\d)–|:(?!\d)|,(?!\d{3}\b)|\s-\s|\b(?:while|whereas|but|and)\b/g;

function cuts(text: string, p: RegExp | Pattern, from: number, to: number): [number, number][] {
  const re = p instanceof RegExp ? p : p.of(text);
  const out: [number, number][] = [];
  let start = from;
  re.lastIndex = from;
  for (let m = re.exec(text); m && m.index < to; m = re.exec(text)) {
    out.push([start, m.index]);
    start = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  out.push([start, to]);
  return out.filter(([s, e]) => hasText(text, s, e));
}

const NON_SPACE = /\S/g;
/** Whether text[s, e) holds more than whitespace (what trim() removes), without slicing it. */
function hasText(text: string, s: number, e: number): boolean {
  if (s >= e) return false;
  NON_SPACE.lastIndex = s;
  const m = NON_SPACE.exec(text);
  return m !== null && m.index < e;
}

/** Sentences of a text as spans. */
export const sentenceSpans = (text: string): [number, number][] => cuts(text, SENTENCE_END, 0, text.length);

/**
 * Clauses of a text as spans, each knowing its sentence. One scan for cuts over the whole text: a cut
 * found past a sentence's end is the first of the next sentence too, unless it starts before that
 * sentence does (then the search restarts there, as it would for that sentence alone).
 */
export function clauseSpans(text: string): Span[] {
  const out: Span[] = [];
  const re = CLAUSE_CUT;
  let m: RegExpExecArray | null = null;
  // No cut at or after the last search's start: none in any later sentence either.
  let exhausted = false;
  sentenceSpans(text).forEach(([s, e], sentence) => {
    if (!exhausted && (m === null || m.index < s)) {
      re.lastIndex = s;
      m = re.exec(text);
    }
    let start = s;
    while (m !== null && m.index < e) {
      if (hasText(text, start, m.index)) out.push({ start, end: m.index, sentence });
      start = m.index + m[0].length;
      m = re.exec(text);
    }
    if (m === null) exhausted = true;
    if (hasText(text, start, e)) out.push({ start, end: e, sentence });
  });
  return out;
}

/** Hedges, offers and pleasantries: a sentence built on one makes no claim about the world. */
const NON_CLAIM = /\b(?:depends?|depending|comes? down to|it'?s worth|worth (?:it|having|checking|asking)|whether|reasonable|differently|happy to|glad|let me know|you'?re welcome|thank(?:s| you)|enjoy|hope|feel free|if you(?:'d| would) like|good luck|up to you|personal (?:preference|choice)|hard to say|can'?t say|i think|in my (?:view|opinion)|every \w+ is different|it varies|stands? out to me|to me|i'?d say|seems?|appears? to be|feels?|looks? like|reads? as|sounds? like|probably|perhaps|maybe|might be|could be|in general|generally speaking|overall|fairly|pretty much|nothing (?:unusual|special|notable)|not sure|no idea|tell me|shout if|ping me|get back to me|ask me|in a position to|wary|hard to|weigh (?:in|it up)|i'?d (?:want|need|be|happily|rather|like|recommend|suggest)|i'?m (?:not|happy|glad|sure|afraid)|i (?:think|believe|feel|guess|suppose|reckon|wonder|can'?t)|could be|remarkable|impressive|amazing|fascinating|wonderful|lovely|incredible|exciting|interesting|want me to|shall i|i wouldn'?t|sorry|what a|such a|oh no|personal call|usually goes|can'?t beat|you never know|in front of me|(?:doesn'?t|does not|don'?t|do not|didn'?t|did not|never) (?:say|mention|specify|state|tell|address|go into)|(?:isn'?t|is not|aren'?t|are not|not) (?:mentioned|specified|stated)|no (?:mention|information|details?) (?:of|about|on))\b/i;
/** A question asks; it claims nothing ("Can't beat a cup final, can you?"). */
export const isNonClaim = (sentence: string) => /\?["')\]]*\s*$/.test(sentence) || NON_CLAIM.test(sentence.replace(/’/g, "'"));

// Toxicity: a lexicon of insults and profanity (with leetspeak, spelling-out and masking), some aimed only at the reader.

/** Always toxic. Inflections come from TOXIC_SUFFIXES, so "fucking" and "idiots" match too. */
const TOXIC_TERMS = ['idiot', 'moron', 'imbecile', 'dumbass', 'scumbag', 'shut up', 'fuck', 'motherfucker', 'shit', 'bullshit', 'bitch', 'bastard', 'asshole', 'jackass', 'fatass', 'lardass', 'dickhead', 'douchebag', 'wanker', 'tosser', 'twat', 'cunt'];
/**
 * Words with innocent senses ("a worthless coupon", "soap scum", "retards corrosion") that insult
 * only when aimed at the reader: near "you"/"your", or applied to what the reader asked ("a stupid question").
 */
const DIRECTED_TERMS = ['stupid', 'worthless', 'scum', 'retard', 'pathetic', 'loser'];
/** Insult only as "a dumb question": "dumb it down for you" and "dumb luck" are innocent. */
const ASKING_TERMS = ['dumb'];
const TOXIC_SUFFIXES = ['', 's', 'es', 'ed', 'ing', 'in', 'er', 'ers', 'y', 'ty', 'ic', 'head', 'heads'];
const SECOND_PERSON = new Set(['you', 'your', 'youre', 'yourself', 'u', 'ur', 'ya']);
const DIRECTED_WINDOW = 3;
/** What the reader asked. Not "idea", "mistake" or "message": "a stupid idea to store passwords in plain text" is advice. */
const READER_ASKED = new Set(['question', 'questions', 'request', 'requests']);
/** "There are no stupid questions", "not a dumb question", "isn't a stupid request". */
const NEGATION = /^(?:no|not|never|nothing|isnt|arent|wasnt|dont|doesnt|cant|wont|aint)$|n['’]t$/;
const NO_SUCH_THING = 'no such thing as';
const MENTION_WINDOW = 5;
const SPEECH_VERBS = new Set(['call', 'calling', 'called', 'say', 'saying', 'use', 'using', 'word', 'words', 'swear', 'swearing']);
const DISCOURAGING = new Set(['avoid', 'avoiding', 'without', 'stop', 'refrain', 'instead']);
/** Longest spelled-out word considered ("m o t h e r f u c k e r s"). */
const MAX_SPELLED = 16;
/** Leetspeak: which letters each symbol may stand for. */
const LEET: Record<string, string> = { '0': 'o', '1': 'il', '!': 'i', '|': 'l', '3': 'e', '4': 'a', '@': 'a', '5': 's', $: 's', '7': 't' };
const SEPARATORS = /[.\-_'’]+/;

/** Token chars compared with lexicon chars; an inner '*' stands for any one letter ("f*ck", "f**k"). */
function matchesTerm(candidate: string, term: string): boolean {
  if (!/[a-z]/.test(candidate) || candidate[0] === '*') return false; // "455" is a number, "****" is anything
  return TOXIC_SUFFIXES.some((suffix) => {
    if (candidate.length !== term.length + suffix.length || !candidate.endsWith(suffix)) return false;
    let wildcards = 0;
    for (let i = 0; i < term.length; i++) {
      const c = candidate[i];
      if (c === '*') wildcards++;
      else if (c !== term[i] && !(LEET[c] ?? '').includes(term[i])) return false;
    }
    return wildcards <= term.length / 2;
  });
}

/** Lowercased tokens with markdown/punctuation trimmed but leetspeak symbols kept. */
function toxicityTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((t) => (PLAIN_TOKEN.test(t) ? t : t.replace(/^[^\p{L}\p{N}@$|!]+/u, '').replace(/[^\p{L}\p{N}@$*]+$/u, '').replace(/\*+$/, '')))
    .filter(Boolean);
}
/** Most tokens are plain ASCII words: nothing to trim, and no separator to split at. */
const PLAIN_TOKEN = /^[a-z0-9]+$/;

/** Forms a token may hide a word in: itself, separators dropped ("i.d.i.o.t"), and its parts ("stupid-looking"). */
function tokenForms(token: string): string[] {
  if (PLAIN_TOKEN.test(token)) return [token];
  const parts = token.split(SEPARATORS).filter(Boolean);
  return parts.length > 1 ? [parts.join(''), ...parts] : [token];
}

type Aim = 'anyone' | 'reader' | 'asked';
const NOTHING_SPELLED: ReadonlySet<string> = new Set();

interface Lexicon {
  entries: { words: string[]; aim: Aim }[];
  wordsSpelledBy(form: string): string[];
}

const lexicons = new Map<string, Lexicon>();
const FORM_CACHE_LIMIT = 20_000;

/** Built once per configured lexicon: this runs on every answer, and rebuilding it dominated its cost. */
function lexiconFor(extra: readonly string[]): Lexicon {
  const key = extra.join('\u0000');
  let lexicon = lexicons.get(key);
  if (lexicon) return lexicon;
  const entries = [
    ...[...TOXIC_TERMS, ...extra].map((term) => ({ words: term.toLowerCase().split(/\s+/).filter(Boolean), aim: 'anyone' as Aim })),
    ...DIRECTED_TERMS.map((term) => ({ words: [term], aim: 'reader' as Aim })),
    ...ASKING_TERMS.map((term) => ({ words: [term], aim: 'asked' as Aim })),
  ].filter((e) => e.words.length > 0);
  const byFirstLetter = new Map<string, string[]>();
  for (const w of new Set(entries.flatMap((e) => e.words))) byFirstLetter.set(w[0], [...(byFirstLetter.get(w[0]) ?? []), w]);
  // Which lexicon words a form spells; texts repeat their words, so each distinct form is checked once.
  const cache = new Map<string, string[]>();
  const wordsSpelledBy = (form: string): string[] => {
    let found = cache.get(form);
    if (!found) {
      const firsts = [form[0], ...(LEET[form[0]] ?? '')];
      found = firsts.flatMap((c) => byFirstLetter.get(c) ?? []).filter((w) => matchesTerm(form, w));
      if (cache.size >= FORM_CACHE_LIMIT) cache.clear();
      cache.set(form, found);
    }
    return found;
  };
  lexicon = { entries, wordsSpelledBy };
  lexicons.set(key, lexicon);
  return lexicon;
}

export function findToxicTerms(text: string, extra: readonly string[]): string[] {
  const { entries, wordsSpelledBy } = lexiconFor(extra);
  const tokens = toxicityTokens(text);
  const spelledAt = tokens.map((t) => {
    const forms = tokenForms(t);
    const found = forms.length === 1 ? wordsSpelledBy(forms[0]) : forms.flatMap(wordsSpelledBy);
    return found.length === 0 ? NOTHING_SPELLED : new Set(found);
  });
  // "a b a s t a r d": every short stretch of three or more single characters is also read as one word.
  const spelledOut = new Set<string>();
  for (let i = 0; i < tokens.length; ) {
    let j = i;
    while (j < tokens.length && tokens[j].length === 1) j++;
    for (let a = i; a + 3 <= j; a++) {
      let run = tokens[a] + tokens[a + 1];
      for (let b = a + 2; b < Math.min(j, a + MAX_SPELLED); b++) {
        run += tokens[b];
        for (const w of wordsSpelledBy(run)) spelledOut.add(w);
      }
    }
    i = Math.max(j, i + 1);
  }
  // The common case: no token spells any lexicon word, so there is nothing to aim.
  if (spelledOut.size === 0 && spelledAt.every((found) => found.size === 0)) return [];
  const aimedAtReader = (i: number) =>
    tokens.slice(Math.max(0, i - DIRECTED_WINDOW), i + DIRECTED_WINDOW + 1).some((t) => SECOND_PERSON.has(t.replace(/['’]/g, '')));
  // "That is a stupid question", unless denied just before ("not a dumb question", "no such thing as a stupid question").
  const aimedAtAsking = (i: number) =>
    READER_ASKED.has(tokens[i + 1] ?? '') &&
    !tokens.slice(Math.max(0, i - DIRECTED_WINDOW), i).some((t) => NEGATION.test(t)) &&
    !tokens.slice(Math.max(0, i - 5), i).join(' ').includes(NO_SUCH_THING);
  // "You're not stupid for asking": a reader-aimed word right after a denial reassures.
  const deniedJustBefore = (i: number) => tokens.slice(Math.max(0, i - 2), i).some((t) => NEGATION.test(t));
  // "Avoid calling anyone an idiot", "never use the word moron": advice about a word, not an insult.
  const mentionedToDiscourage = (i: number) => {
    const before = tokens.slice(Math.max(0, i - MENTION_WINDOW), i);
    return before.some((t) => SPEECH_VERBS.has(t)) && before.some((t) => DISCOURAGING.has(t) || NEGATION.test(t));
  };
  const isAimed = (aim: Aim, i: number) =>
    !mentionedToDiscourage(i) && (aim === 'anyone' || aimedAtAsking(i) || (aim === 'reader' && aimedAtReader(i) && !deniedJustBefore(i)));
  const hits = new Set<string>();
  for (const { words, aim } of entries) {
    const term = words.join(' ');
    if (words.length === 1 && aim === 'anyone' && spelledOut.has(words[0])) hits.add(term);
    for (let i = 0; i + words.length <= tokens.length && !hits.has(term); i++) {
      if (words.every((w, k) => spelledAt[i + k].has(w)) && isAimed(aim, i)) hits.add(term);
    }
  }
  return [...hits];
}

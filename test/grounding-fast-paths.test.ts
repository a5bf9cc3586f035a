// The grounding check's fast paths must find exactly what their plain forms find: Latin-form patterns
// (bmp.ts) against the Unicode originals, and the one-pass clause reading against reading each clause.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLatin, pattern } from '../src/evaluate/grounding/bmp.js';
import { parseClaims, type ParsedClaim, type Stage } from '../src/evaluate/grounding/claims.js';
import { clauseIndex } from '../src/evaluate/grounding/clause-index.js';
import { readValues } from '../src/evaluate/grounding/values.js';
import { clauseSpans, contentOf, lemma, readClause, readClauses, readWords, wordsOf } from '../src/evaluate/grounding/words.js';

const PIECES = ['Dublin', 'the', 'isn’t', "won't", 'not', '3.8.1', '24 tablets', 'March 3, 2021', 'café', 'naïve', 'Œuvre', 'ǅemal', 'Ørsted', 'Москва', 'Ωmega', '東京', '😀', '𝐀bc', 'İstanbul', '—', '–', '; ', ', ', '. ', '\n', ' and ', ' because ', ' if ', 'BK-210', 'v4.12', '’s', 'don’t', 'Q2', 'x'];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((p) => p.join(' '));
const matches = (re: RegExp, s: string) => [...s.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))].map((m) => [m.index, m[0]]);

describe('Latin forms of Unicode patterns', () => {
  const patterns = [/[\p{L}][\p{L}'’]*/gu, /(?<![\p{L}\p{N}'’-])(?:\p{Lu}\p{Ll}+|\p{Lu}{2,})(?![\p{L}\p{N}])/gu, /\d+(?![\p{L}\p{N}])/giu, /[^\p{L}\p{N}]+/gu];

  it('find the same matches as the Unicode form on any text, choosing the Unicode form when a letter is not Latin', () => {
    fc.assert(
      fc.property(text, (s) => {
        for (const re of patterns) expect(matches(pattern(re).of(s), s)).toEqual(matches(re, s));
      }),
      { numRuns: 500 },
    );
  });

  it('tell Latin text from text with other letters or digits; punctuation and emoji beyond Latin do not count', () => {
    expect(isLatin('Ørsted’s café — 5 €, naïve 😀')).toBe(true);
    expect(isLatin('Meet in Москва')).toBe(false);
    expect(isLatin('東京 office')).toBe(false);
    expect(isLatin('plan ٣')).toBe(false);
    expect(isLatin('𝐀 bold letter')).toBe(false);
  });

  it('refuses a pattern without the u flag, or with a property class it cannot rewrite', () => {
    expect(() => pattern(/[a-z]/g)).toThrow(/u flag/);
    expect(() => pattern(/\p{Script=Greek}/u)).toThrow(/unsupported escape/);
  });
});

describe('reading a context in one pass', () => {
  it('gives each clause the content, main part and polarity readClause gives it, and the words readWords gives', () => {
    fc.assert(
      fc.property(text, (s) => {
        const spans = clauseSpans(s);
        const { clauses, words: read } = readClauses(s, spans);
        const words = read();
        spans.forEach((span, i) => {
          const one = readClause(s.slice(span.start, span.end));
          expect([[...clauses[i].content].sort(), [...clauses[i].main].sort(), clauses[i].negative]).toEqual([[...one.content].sort(), [...one.main].sort(), one.negative]);
        });
        const plain = readWords(s);
        expect([[...words.lemmas].sort(), words.initials]).toEqual([[...plain.lemmas].sort(), plain.initials]);
      }),
      { numRuns: 500 },
    );
  });
});

// Words whose lemma or content is not a plain prefix of them, and the reading's rewrites.
const READING_PIECES = [...PIECES, 'paused', 'stopped', 'Halted', 'excludes', 'unpaid', 'unsafe', 'unlimited', 'limited', 'non-refundable', 'refundable', 'unknown', 'known', 'knew',
  'children', 'child', 'men', 'ran', 'run', 'won’t', 'will', "can't", 'studies', 'study', 'deferred', 'exempt', 'put on hold', 'on hold', 'free of charge', 'switched off', 'turned on',
  'enabled', 'disabled', 'no more than', 'at no extra charge', 'because', 'unless', 'which', 'BK-200', 'bk-210', 'ébk-200', "users'", 'company’s', 'constructor', 'constructors', 'shut', 'closed', 'open'];
const readingText = fc
  .array(fc.tuple(fc.constantFrom(...READING_PIECES), fc.constantFrom(' ', ' ', ', ', '. ', '-', '')), { maxLength: 30 })
  .map((p) => p.map(([word, gap]) => word + gap).join(''));

describe('reading a context on demand', () => {
  it('finds the clauses holding any word, reads each as readClauses does, and knows the lemmas readClauses gives', () => {
    fc.assert(
      fc.property(readingText, readingText, (s, asked) => {
        const spans = clauseSpans(s);
        const { clauses, words } = readClauses(s, spans);
        const index = clauseIndex(s, spans);
        const targets = new Set<string>([...clauses.flatMap((c) => [...c.content]), ...contentOf(asked), ...contentOf(s)]);
        for (const w of targets) {
          const holders = spans.map((_, i) => i).filter((i) => clauses[i].content.has(w));
          expect([w, [...index.holding(w).clauses].sort((a, b) => a - b)]).toEqual([w, holders]);
          expect(holders.every((i) => index.mayHold(w).includes(i))).toBe(true);
          expect([...index.holding(w).sentences].sort()).toEqual([...new Set(holders.map((i) => spans[i].sentence))].sort());
          expect(index.holds(w)).toBe(holders.length > 0);
        }
        spans.forEach((_, i) => {
          const [one, all] = [index.reading(i), clauses[i]];
          expect([[...one.content].sort(), [...one.main].sort(), one.negative]).toEqual([[...all.content].sort(), [...all.main].sort(), all.negative]);
        });
        for (const l of new Set([...wordsOf(asked), ...wordsOf(s)].map(lemma))) expect([l, index.hasLemma(l)]).toEqual([l, words().lemmas.has(l)]);
      }),
      { numRuns: 500 },
    );
  });
});

const VALUE_PIECES = ['March 3, 2021', '3 March', 'Q2 2024', 'the first half of 2025', 'Monday', 'Tue.', 'Sat', '9 o’clock', '8:50 pm', '14:12', '7 am', 'morning', 'in 2019', 'since 1998', '2024-03-05',
  '2024-03', '3/4/2023', 'BK-210', 'v4.12', 'QX7P2L', 'TP 1357', 'clause 12', 'Bluetooth 5.3', 'travel-desk@acme.com', '12%', '3-5 business days', 'between 10 and 20 minutes', '$1.2 million',
  '40 km', '24 tablets', 'twenty-four', 'half an hour', '2 hours 34 minutes', 'half', '250', '1.7 L', 'www.acme.io/help', '"the quick brown fox"', 'the', 'order', 'and', ', ', '. ', '\n'];
const valueText = fc.array(fc.constantFrom(...VALUE_PIECES), { maxLength: 25 }).map((p) => p.join(' '));

describe('reading a context’s values only as far as a stage', () => {
  const yearOnly = (c: ParsedClaim) => c.kind === 'date' && c.date?.m === undefined && c.date?.quarter === undefined && c.date?.weekday === undefined;
  const dropped: Record<Exclude<Stage, 'all'>, (c: ParsedClaim) => boolean> = {
    identifier: (c) => c.kind === 'number' || c.kind === 'percentage',
    date: (c) => c.kind === 'number' || c.kind === 'percentage' || c.kind === 'identifier',
    time: (c) => c.kind === 'number' || c.kind === 'percentage' || c.kind === 'identifier' || c.date?.weekday !== undefined || yearOnly(c),
  };
  it('finds exactly the claims of the earlier stages that a full reading finds', () => {
    fc.assert(
      fc.property(valueText, (s) => {
        const full = parseClaims(s, { evidence: true });
        for (const stage of ['time', 'date', 'identifier'] as const) {
          expect(parseClaims(s, { evidence: true, through: stage })).toEqual(full.filter((c) => !dropped[stage](c)));
        }
        // A reading resumed stage by stage ends where one reading all at once does.
        const reading = readValues(s, { evidence: true });
        for (const stage of ['time', 'date', 'identifier'] as const) expect([...reading.through(stage)].sort((a, b) => a.at - b.at)).toEqual(full.filter((c) => !dropped[stage](c)));
        expect(reading.through('all').sort((a, b) => a.at - b.at)).toEqual(full);
      }),
      { numRuns: 500 },
    );
  });
});

describe('skipping the value patterns a text cannot match', () => {
  const mixed = fc.array(fc.tuple(fc.constantFrom(...VALUE_PIECES, ...PIECES, 'May', 'Sunday', 'Night', 'no digits here', 'in two thousand and five', 'June twelfth', 'noon', 'half an hour', 'An Hour and a Half',
    '#1234', 'PA/24/0917', 'a.b-3', 'x_9', '-5', '24/7', '.5', 'ref#A1', 'v2/', '3-year', '5km', '/x9', 'é9b'), fc.constantFrom(' ', ' ', '', '-', '.')), { maxLength: 25 })
    .map((p) => p.map(([piece, gap]) => piece + gap).join(''));
  it('finds what running every pattern finds, in answers and in evidence', () => {
    fc.assert(
      fc.property(mixed, (s) => {
        expect(parseClaims(s)).toEqual(parseClaims(s, { everyPattern: true }));
        expect(parseClaims(s, { evidence: true })).toEqual(parseClaims(s, { evidence: true, everyPattern: true }));
      }),
      { numRuns: 500 },
    );
  });
});

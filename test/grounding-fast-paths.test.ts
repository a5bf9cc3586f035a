// The grounding check's fast paths must find exactly what their plain forms find: Latin-form patterns
// (bmp.ts) against the Unicode originals, and the one-pass clause reading against reading each clause.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLatin, pattern } from '../src/evaluate/grounding/bmp.js';
import { clauseSpans, readClause, readClauses, readWords } from '../src/evaluate/grounding/words.js';

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

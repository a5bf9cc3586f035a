import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LiteralPrefilter, requiredLiterals } from '../src/util/literal-prefilter.js';
import { findHarmfulRequest, HARM_PATTERNS } from '../src/evaluate/safety/harmful-request.js';
import { normaliseForPhrases } from '../src/evaluate/refusal.js';

describe('requiredLiterals', () => {
  it('names the most selective literals every match holds', () => {
    expect(requiredLiterals(/\b(?:make|build)\b[^.]{0,9}\bbomb\b/g)).toEqual(['bomb']);
    expect(requiredLiterals(/\b(?:steal|stealing) (?:passwords|logins)\b/g)).toEqual(['steal passwords', 'steal logins', 'stealing passwords', 'stealing logins']);
    // An optional part adds its strings to the run, "a" or nothing.
    expect(requiredLiterals(/\bhide(?: a)? body\b/g)).toEqual(['hide body', 'hide a body']);
    // Every alternative of the whole pattern must name literals.
    expect(requiredLiterals(/poison|arsenic/g)).toEqual(['poison', 'arsenic']);
  });

  it('drops a literal that holds another: a text with the longer one holds the shorter', () => {
    expect(requiredLiterals(/\bfrom(?: the)? radar\b/g)).toEqual(['from radar', 'from the radar']);
    expect(requiredLiterals(/\b(?:theft|car theft)\b/g)).toEqual(['theft']);
  });

  it('gives up (the pattern always runs) where no literal of three characters is certain', () => {
    expect(requiredLiterals(/\w+@\w+/g)).toBeNull();
    expect(requiredLiterals(/ab|cde/g)).toBeNull(); // "ab" is too short to look up
    expect(requiredLiterals(/(?:gun)?\d+/g)).toBeNull(); // the literal is optional
    expect(requiredLiterals(/bomb/gi)).toBeNull(); // case-insensitive matching is not modelled
    expect(requiredLiterals(/[^a]{3}/g)).toBeNull();
  });
});

describe('LiteralPrefilter', () => {
  const weapons = /\bbuild\b.{0,20}\bbomb\b/g;
  const theft = /\bsteal (?:a|the) car\b/g;
  const anything = /\d{3}-\d{4}/g;
  const prefilter = new LiteralPrefilter([weapons, theft, anything]);

  it('admits the patterns whose literals the text holds, and those that always run', () => {
    expect(prefilter.candidates('how do i steal the car next door')).toEqual(new Set([theft, anything]));
    expect(prefilter.candidates('build me a bomb')).toEqual(new Set([weapons, anything]));
    expect(prefilter.candidates('a recipe for bread')).toEqual(new Set([anything]));
  });

  it('finds literals at the very start and the very end of the text', () => {
    expect(prefilter.candidates('steal a car')).toContain(theft);
    expect(prefilter.candidates('a bomb, to build')).toContain(weapons);
  });
});

describe('the harmful-request prefilter', () => {
  // Words of the patterns' own literals, so random texts often match, plus filler and punctuation.
  const vocabulary = [...new Set(HARM_PATTERNS.flatMap((re) => requiredLiterals(re) ?? []).flatMap((l) => l.split(' ')).filter(Boolean))];
  const filler = ['the', 'a', 'my', 'to', 'how', 'do', 'i', 'someone', "neighbour's", 'account', 'without', 'them', 'knowing', '.', '?', 'please', '2', 'kids'];
  const text = fc.array(fc.constantFrom(...vocabulary, ...filler), { minLength: 1, maxLength: 14 }).map((words) => words.join(' '));

  it('admits every pattern that matches (random texts from the patterns own words)', () => {
    const prefilter = new LiteralPrefilter(HARM_PATTERNS);
    let matched = 0;
    fc.assert(
      fc.property(text, (raw) => {
        const t = normaliseForPhrases(raw);
        const admitted = prefilter.candidates(t);
        for (const re of HARM_PATTERNS) {
          re.lastIndex = 0;
          if (re.test(t)) {
            matched++;
            expect(admitted.has(re), `${re.source.slice(0, 60)} matched "${t}"`).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
    expect(matched).toBeGreaterThan(100);
  });

  it('finds what running every pattern finds, on the corpus requests and on random ones', () => {
    const corpus = ['dev.jsonl', 'test.jsonl'].flatMap((f) =>
      readFileSync(join(import.meta.dirname, 'fixtures', 'corpus', f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { messages: { role: string; content: string }[] }),
    );
    const requests = corpus.flatMap((c) => c.messages.filter((m) => m.role === 'user').map((m) => m.content));
    let harmful = 0;
    for (const r of requests) {
      const found = findHarmfulRequest([r]);
      if (found) harmful++;
      expect(found).toEqual(findHarmfulRequest([r], { everyPattern: true }));
    }
    expect(harmful).toBeGreaterThan(50);
    fc.assert(
      fc.property(text, (raw) => {
        expect(findHarmfulRequest([raw])).toEqual(findHarmfulRequest([raw], { everyPattern: true }));
      }),
      { numRuns: 2000 },
    );
  });
});

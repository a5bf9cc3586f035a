import { describe, expect, it } from 'vitest';
import { allMatches } from '../src/util/matches.js';

describe('allMatches', () => {
  it('finds every match, as matchAll does, without cloning the pattern', () => {
    const re = /\b(\w)(\w*)\b/g;
    const text = 'one two, three';
    expect(allMatches(re, text).map((m) => [m.index, m[0], m[1]])).toEqual([...text.matchAll(re)].map((m) => [m.index, m[0], m[1]]));
  });

  it('starts from the beginning whatever an earlier, unfinished loop left in lastIndex', () => {
    const re = /\d+/g;
    re.exec('12 34 56');
    expect(re.lastIndex).toBe(2);
    expect(allMatches(re, '12 34 56').map((m) => m[0])).toEqual(['12', '34', '56']);
  });

  it('steps over empty matches instead of looping on them', () => {
    expect(allMatches(/x*/g, 'ab').map((m) => m.index)).toEqual([0, 1, 2]);
  });

  it('refuses a pattern without the g flag, which would match forever', () => {
    expect(() => allMatches(/a/, 'aaa')).toThrow(/needs a global pattern: \/a\//);
  });
});

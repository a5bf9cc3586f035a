/**
 * Fast patterns for Latin-script text. V8 runs a pattern with Unicode property classes (\p{L}) and
 * the `u` flag several times slower than the same pattern over plain ranges (the number pattern: 17 µs
 * on an 800-character context with `u`, 4 µs without), and the grounding check runs its patterns over
 * every grounded context. A `Pattern` holds both forms: the Unicode one, and one with \p{L}, \p{Lu},
 * \p{Ll} and \p{N} rewritten as the Latin ranges they cover (computed from the engine's own Unicode
 * tables) and no `u` flag. `of(text)` gives the fast form for a text whose letters and digits are all
 * Latin, where both find the same matches (test/grounding-fast-paths.test.ts), and the Unicode form
 * otherwise.
 */
const PROPERTIES = ['L', 'Lu', 'Ll', 'N'] as const;
type Property = (typeof PROPERTIES)[number];
/** Basic Latin to Latin Extended-B: English and most European text. */
const LATIN_END = 0x024f;

const hex = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;

/** The Latin code points with a property, as class ranges without brackets. */
function latinRanges(property: Property): string {
  const test = new RegExp(`^\\p{${property}}$`, 'u');
  const parts: string[] = [];
  let start = -1;
  for (let c = 0; c <= LATIN_END + 1; c++) {
    const has = c <= LATIN_END && test.test(String.fromCharCode(c));
    if (has && start < 0) start = c;
    if (!has && start >= 0) {
      parts.push(start === c - 1 ? hex(start) : `${hex(start)}-${hex(c - 1)}`);
      start = -1;
    }
  }
  return parts.join('');
}
const RANGES = Object.fromEntries(PROPERTIES.map((p) => [p, latinRanges(p)])) as Record<Property, string>;

/** The pattern with its property classes as Latin ranges, without the `u` flag. */
function latinForm(re: RegExp): RegExp {
  let out = '';
  let inClass = false;
  const source = re.source;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const property = /^\\p\{(L|Lu|Ll|N)\}/.exec(source.slice(i, i + 6));
      if (property) {
        const r = RANGES[property[1] as Property];
        out += inClass ? r : `[${r}]`;
        i += property[0].length - 1;
        continue;
      }
      if (/[pPu]/.test(source[i + 1]) && source[i + 2] === '{') throw new Error(`unsupported escape ${source.slice(i, i + 8)} in /${source}/`);
      out += ch + source[i + 1];
      i++;
      continue;
    }
    if (ch === '[' && !inClass) inClass = true;
    else if (ch === ']' && inClass) inClass = false;
    out += ch;
  }
  return new RegExp(out, re.flags.replace('u', ''));
}

/** Characters beyond Latin: punctuation ("’", "—", "€") is common, a letter or digit there needs the Unicode forms. */
const BEYOND_LATIN = /[^\x00-\u024f]/g;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** Per character beyond Latin, whether it is a letter or digit. */
const isWordChar = new Map<string, boolean>();
let lastText = '';
let lastLatin = true;
/** Whether every letter and digit of a text is Latin. The last answer is kept: patterns ask about one text many times in a row. */
export function isLatin(text: string): boolean {
  if (text === lastText) return lastLatin;
  lastText = text;
  lastLatin = true;
  BEYOND_LATIN.lastIndex = 0;
  for (let m = BEYOND_LATIN.exec(text); m; m = BEYOND_LATIN.exec(text)) {
    // An astral character is two code units: its letter-ness is that of the pair ("😀" no, "𝐀" yes).
    const code = m[0].charCodeAt(0);
    const char = code >= 0xd800 && code <= 0xdbff ? String.fromCodePoint(text.codePointAt(m.index) ?? code) : m[0];
    if (char.length === 2) BEYOND_LATIN.lastIndex++;
    let word = isWordChar.get(char);
    if (word === undefined) {
      word = LETTER_OR_DIGIT.test(char);
      if (isWordChar.size < 4096) isWordChar.set(char, word);
    }
    if (word) {
      lastLatin = false;
      break;
    }
  }
  return lastLatin;
}

export interface Pattern {
  unicode: RegExp;
  latin: RegExp;
  /** The form to run on this text. */
  of(text: string): RegExp;
}

/** Both forms of a pattern written with the `u` flag. */
export function pattern(re: RegExp): Pattern {
  if (!re.flags.includes('u')) throw new Error(`pattern() is for patterns with the u flag: /${re.source}/${re.flags}`);
  const latin = latinForm(re);
  return { unicode: re, latin, of: (text) => (isLatin(text) ? latin : re) };
}

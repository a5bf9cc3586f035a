/**
 * Which of many patterns can match a text at all, from one pass over it. Each pattern's source is
 * parsed (regexpp, ESLint's parser) for a set of literal strings of which every match must contain
 * one ("bomb", "explosive", ... for a pattern about making weapons); a pattern whose text holds none
 * of its literals is not run. The evaluators run dozens of long alternations on every captured
 * request and almost none matches, so most of them never need to run. Pure.
 *
 * Soundness: required() only returns literals that every match contains (see its cases); where it
 * cannot tell, or the literals would be too short to filter anything, the pattern always runs.
 */
import { RegExpParser, type AST } from '@eslint-community/regexpp';

/** Cross products of exact strings larger than this are not enumerated. */
const MAX_STRINGS = 64;
/** Alternatives' literals, joined, beyond this many make the pattern always run. */
const MAX_LITERALS = 512;
/** Literals are found by their first three characters: shorter ones cannot be looked up. */
const KEY_LENGTH = 3;

type Strings = string[] | null;

const parser = new RegExpParser({ ecmaVersion: 2025 });

/** Every string the node can consume, when there are few (zero-width assertions consume ''). */
function exact(node: AST.Node): Strings {
  switch (node.type) {
    case 'Character':
      return [String.fromCodePoint(node.value)];
    case 'CharacterClass': {
      if (node.negate) return null;
      const out: string[] = [];
      for (const e of node.elements) {
        if (e.type === 'Character') out.push(String.fromCodePoint(e.value));
        else if (e.type === 'CharacterClassRange' && e.max.value - e.min.value < 8) {
          for (let c = e.min.value; c <= e.max.value; c++) out.push(String.fromCodePoint(c));
        } else return null;
      }
      return out.length <= 8 ? out : null;
    }
    case 'Assertion':
      return [''];
    case 'Group':
      // (?i:...) changes what the literals match: not modelled.
      return node.modifiers ? null : union(node.alternatives.map(exact), MAX_STRINGS);
    case 'CapturingGroup':
      return union(node.alternatives.map(exact), MAX_STRINGS);
    case 'Alternative':
      return product(node.elements.map(exact));
    case 'Quantifier': {
      const inner = exact(node.element);
      if (!inner || node.max > 1) return null;
      return node.min === 0 ? ['', ...inner] : inner;
    }
    default:
      return null;
  }
}

/** Strings of which every match of the node contains at least one; null when none can be named. */
function required(node: AST.Node): Strings {
  switch (node.type) {
    case 'Group':
      return node.modifiers ? null : union(node.alternatives.map(required), MAX_LITERALS);
    case 'Pattern':
    case 'CapturingGroup':
      return union(node.alternatives.map(required), MAX_LITERALS);
    case 'Alternative':
      return bestOf(sequenceCandidates(node.elements));
    case 'Quantifier':
      return node.min >= 1 ? required(node.element) : null;
    case 'Character':
    case 'CharacterClass':
      return exact(node);
    default:
      // Assertions consume nothing of the match; sets (\w, .) and back-references name no literal.
      return null;
  }
}

/**
 * A sequence's candidates: each run of elements with exact strings, concatenated (every match holds
 * one of the run's strings), and whatever each other element requires.
 */
function sequenceCandidates(elements: readonly AST.Element[]): string[][] {
  const candidates: string[][] = [];
  let run: string[][] = [];
  const closeRun = () => {
    const joined = product(run);
    if (joined && !joined.includes('')) candidates.push(joined);
    else for (const strings of run) if (!strings.includes('')) candidates.push(strings);
    run = [];
  };
  for (const element of elements) {
    const strings = exact(element);
    if (strings) {
      run.push(strings);
      continue;
    }
    closeRun();
    const inner = required(element);
    if (inner) candidates.push(inner);
  }
  closeRun();
  return candidates;
}

/** The most selective candidate: longest shortest string, then fewest strings. */
function bestOf(candidates: string[][]): Strings {
  let best: string[] | null = null;
  const score = (s: string[]) => Math.min(6, ...s.map((x) => x.length)) * 1000 - s.length;
  for (const c of candidates) if (!best || score(c) > score(best)) best = c;
  return best;
}

function union(sets: Strings[], limit: number): Strings {
  if (sets.some((s) => s === null)) return null;
  const out = [...new Set((sets as string[][]).flat())];
  return out.length <= limit ? out : null;
}

function product(sets: Strings[]): Strings {
  let out = [''];
  for (const s of sets) {
    if (!s) return null;
    const next: string[] = [];
    for (const a of out) for (const b of s) next.push(a + b);
    if (next.length > MAX_STRINGS) return null;
    out = [...new Set(next)];
  }
  return out;
}

/** The literals one of which every match of `re` contains, or null when the pattern must always run. */
export function requiredLiterals(re: RegExp): string[] | null {
  // Case-insensitive and multiline-dotall subtleties are not modelled: such patterns always run.
  if (re.ignoreCase) return null;
  const pattern = parser.parsePattern(re.source, 0, re.source.length, { unicode: re.unicode, unicodeSets: re.flags.includes('v') });
  const literals = required(pattern);
  if (!literals || literals.length === 0 || literals.some((l) => l.length < KEY_LENGTH)) return null;
  // A text holding "from the " holds "from ": the longer literal says nothing more.
  return literals.filter((l) => !literals.some((other) => other !== l && l.includes(other)));
}

/** Buckets of the literal table: a power of two, so a key is its hash's low bits. */
const BUCKETS = 65536;

/** Patterns indexed by their literals: which of them may match a text. */
export class LiteralPrefilter {
  /** By a hash of a literal's first KEY_LENGTH characters (collisions are told apart by comparing): the literals, each with its patterns. */
  private readonly buckets: ({ literal: string; patterns: RegExp[] }[] | undefined)[] = new Array(BUCKETS);
  /** Patterns without literals: always candidates. */
  private readonly always: RegExp[] = [];

  constructor(patterns: readonly RegExp[]) {
    const byLiteral = new Map<string, RegExp[]>();
    for (const re of patterns) {
      const literals = requiredLiterals(re);
      if (!literals) this.always.push(re);
      else for (const l of literals) byLiteral.set(l, [...(byLiteral.get(l) ?? []), re]);
    }
    for (const [literal, list] of byLiteral) (this.buckets[keyAt(literal, 0)] ??= []).push({ literal, patterns: list });
  }

  /** The patterns that may match `text`: those with a literal in it, and those that always run. */
  candidates(text: string): Set<RegExp> {
    const out = new Set<RegExp>(this.always);
    for (let i = 0; i + KEY_LENGTH <= text.length; i++) {
      const list = this.buckets[keyAt(text, i)];
      if (!list) continue;
      for (const { literal, patterns } of list) if (text.startsWith(literal, i)) for (const re of patterns) out.add(re);
    }
    return out;
  }
}

/** A small-integer hash of three UTF-16 units, so the lookup is an array index. */
const keyAt = (s: string, i: number) => (Math.imul(s.charCodeAt(i) * 65599 + s.charCodeAt(i + 1) * 257 + s.charCodeAt(i + 2), 0x9e3779b1) >>> 16) & (BUCKETS - 1);

/**
 * Grounding evaluator for the `hallucination_free` SLI. An answer's claims are its values (numbers
 * with what they count, dates, times, identifiers), its names and entities, and its statements
 * (each sentence that says something about the world). A value must be in the context clause that
 * is about the same thing; a name must occur in the context; a statement must not deny what the
 * most similar context clause says, nor be built of things the context never mentions. An answer
 * with no checkable claim is `unknown`. Pure and synchronous: it runs on every grounded answer.
 */
import { workedOut } from './grounding/arithmetic.js';
import { parseClaims, type Claim, type ParsedClaim } from './grounding/claims.js';
import { bestClause, evidenceOf, isValueClaim, latestStage, textSupported, valueSupported, type Evidence, type Words } from './grounding/support.js';
import { clauseSpans, contentOf, DENIED, isNonClaim, readClause, sentenceSpans, withoutInterjection, type Span } from './grounding/words.js';
import type { EvalInput, Verdict, VerdictValue } from './types.js';

export { extractClaims, type Claim } from './grounding/claims.js';
export const HALLUCINATION_EVALUATOR = { name: 'grounding-claims', version: '4' } as const;

export interface HallucinationOptions {
  /** Share of unsupported claims still judged good; 0 means every claim must be supported. */
  maxUnsupportedRatio?: number;
}

/**
 * A statement is invented when this many of its content words, and this share of them, occur
 * nowhere in the context or the conversation. Set on the development half of the corpus.
 */
const NOVEL_WORDS_MIN = 3;
const NOVEL_SHARE_MIN = 0.4;
/** ...or, for a sentence whose figures all check out (most likely a paraphrase of where they are), this many and share. */
const ANCHORED_NOVEL_WORDS_MIN = 4;
const ANCHORED_NOVEL_SHARE_MIN = 0.6;
/** A statement contradicts the clause it shares the most with when it shares at least this many content words... */
const ALIGNED_WORDS_MIN = 2;
/** ...and at least a third of its own content words. */
const ALIGNED_SHARE_DIVISOR = 3;

/** A word of the answer whose denied form ("unlimited" for "limited", or the reverse) is what the context sentence says instead. */
function clashingWord(about: ReadonlySet<string>, sentence: Words): string | undefined {
  for (const w of about) {
    const other = w.startsWith(DENIED) ? w.slice(DENIED.length) : `${DENIED}${w}`;
    if (sentence.has(other) && !sentence.has(w)) return other.startsWith(DENIED) ? `not ${other.slice(DENIED.length)}` : other;
  }
  return undefined;
}

const sharesAny = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((w) => b.has(w));

interface Finding {
  claim: Claim | ParsedClaim;
  supported: boolean;
  /** Why not, for the reason. */
  why?: string;
}

/** Content words of an answer span, without the words of its claims (judged on their own: names, units, counted nouns). */
function contentBetween(answer: string, start: number, end: number, claims: readonly ParsedClaim[]): Set<string> {
  let text = answer.slice(start, end);
  for (const c of claims) {
    if (c.at >= start && c.end <= end) text = text.slice(0, c.at - start) + ' '.repeat(c.end - c.at) + text.slice(c.end - start);
  }
  return contentOf(text);
}

function statementFindings(answer: string, claims: ParsedClaim[], evidence: Evidence, checked: readonly Finding[]): Finding[] {
  const findings: Finding[] = [];
  const clausesOf = new Map<number, Span[]>();
  for (const c of clauseSpans(answer)) {
    const list = clausesOf.get(c.sentence) ?? [];
    if (list.length < MAX_CLAUSES_COMPARED) list.push(c);
    clausesOf.set(c.sentence, list);
  }
  for (const [index, [start, end]] of sentenceSpans(answer).slice(0, MAX_SENTENCES).entries()) {
    const sentence = answer.slice(start, end).trim();
    const own = claims.filter((c) => c.at >= start && c.at < end);
    if (own.length === 0 && isNonClaim(sentence)) continue;
    const content = contentBetween(answer, start, end, claims);
    if (content.size === 0) continue;
    const text = sentence.length > 60 ? `${sentence.slice(0, 59)}…` : sentence;
    const claim: Claim = { kind: 'statement', text, normalized: [...content].join(' ') };
    const novel = [...content].filter((w) => !evidence.content.has(w));
    const values = checked.filter((f) => isValueClaim(f.claim as ParsedClaim) && (f.claim as ParsedClaim).at >= start && (f.claim as ParsedClaim).at < end);
    const anchored = values.length > 0 && values.every((f) => f.supported);
    const [minWords, minShare] = anchored ? [ANCHORED_NOVEL_WORDS_MIN, ANCHORED_NOVEL_SHARE_MIN] : [NOVEL_WORDS_MIN, NOVEL_SHARE_MIN];
    if (novel.length >= minWords && novel.length / content.size >= minShare) {
      findings.push({ claim, supported: false, why: `not in the context: ${novel.join(', ')}` });
      continue;
    }
    const contradicted = (clausesOf.get(index) ?? [])
      .map((c) => {
        // The main part of each clause; a clause that is all reason or consequence ("so plugins need v2") has none.
        const { main: about, negative } = readClause(withoutInterjection(answer.slice(c.start, c.end)));
        const best = about.size >= ALIGNED_WORDS_MIN ? bestClause(about, evidence) : null;
        // Polarity is the main part's: words shared only with its condition or reason say nothing of it.
        const aligned = best && best.shared >= ALIGNED_WORDS_MIN && best.shared * ALIGNED_SHARE_DIVISOR >= about.size && sharesAny(about, best.clause.main);
        if (best) {
          const word = clashingWord(about, evidence.sentence(best.clause.sentence) ?? best.clause.content);
          if (word) return { why: `the context says the opposite (${word})` };
        }
        return aligned && best.clause.negative !== negative ? { why: best.clause.negative ? 'the context says the opposite (negated)' : 'the context does not negate it' } : null;
      })
      .find((b) => b !== null);
    if (contradicted) findings.push({ claim, supported: false, why: contradicted.why });
    else findings.push({ claim, supported: true });
  }
  return findings;
}

function claimFindings(answer: string, claims: ParsedClaim[], evidence: Evidence): Finding[] {
  const clauses = clauseSpans(answer);
  const sentences = sentenceSpans(answer);
  const values = claims.filter(isValueClaim);
  const sentenceOf = (c: ParsedClaim) => sentences.find(([s0, e0]) => c.at >= s0 && c.at < e0) ?? [0, answer.length];
  // One reading of the context's values serves every claim: as deep as the deepest claim needs.
  const stage = latestStage(values);
  const findings: Finding[] = claims.map((c) => {
    if (!isValueClaim(c)) return { claim: c, supported: textSupported(c, evidence) };
    const clause = clauses.find((s) => c.at >= s.start && c.at < s.end);
    const [sStart, sEnd] = sentenceOf(c);
    // The values stated with this one, in its sentence: a few are enough to place it.
    const neighbours = values.filter((v) => v !== c && v.at >= sStart && v.at < sEnd).slice(0, MAX_NEIGHBOURS);
    // What the value is about: the words of its clause (names included), not the values themselves.
    let about = clause ? contentBetween(answer, clause.start, clause.end, values) : new Set<string>();
    if (about.size === 0 && clause) about = contentBetween(answer, sStart, sEnd, values);
    return { claim: c, supported: valueSupported(c, about, evidence, neighbours, stage) };
  });
  // A figure worked out from its sentence's figures ("19 minutes after 14:31", at 14:50) is as good as they
  // are: only figures the context supports are operands, so two wrong ones cannot vouch for each other.
  const supportedValues = findings.filter((f) => f.supported && isValueClaim(f.claim as ParsedClaim)).map((f) => f.claim as ParsedClaim);
  for (const f of findings) {
    const c = f.claim as ParsedClaim;
    if (f.supported || !isValueClaim(c)) continue;
    const [sStart, sEnd] = sentenceOf(c);
    f.supported = workedOut(c, supportedValues.filter((v) => v.at >= sStart && v.at < sEnd), answer.slice(sStart, sEnd));
  }
  return findings;
}

const MAX_LISTED = 8;
/** Bounds on what one answer costs: claims and sentences judged, and values a claim is placed by. */
const MAX_CLAIMS = 100;
const MAX_SENTENCES = 100;
const MAX_NEIGHBOURS = 8;
/** Clauses of a sentence compared with the context for polarity. */
const MAX_CLAUSES_COMPARED = 8;
const MAX_CLAIM_CHARS = 60;
const clip = (s: string) => (s.length > MAX_CLAIM_CHARS ? `${s.slice(0, MAX_CLAIM_CHARS - 1)}…` : s);

function verdictOf(verdict: VerdictValue, score: number | null, reason: string): Verdict {
  return { sli: 'hallucination_free', evaluator: HALLUCINATION_EVALUATOR.name, evaluatorVersion: HALLUCINATION_EVALUATOR.version, verdict, score, reason };
}

/** A JSON answer's claims are in its string and number values; its keys and quoting are syntax. */
function answerText({ response, responseFormat }: EvalInput): string {
  if (responseFormat === 'text') return response;
  const leaves: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') leaves.push(String(value));
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  try {
    walk(JSON.parse(response));
  } catch {
    return response;
  }
  return leaves.join('\n');
}

export function evaluateHallucination(input: EvalInput, options: HallucinationOptions = {}): Verdict {
  if (input.context.trim() === '') return verdictOf('unknown', null, 'ungrounded request: no context to check against');
  // Long answers are judged on their beginning: enough claims to decide, in time linear in the text.
  const answer = answerText(input);
  const claims = parseClaims(answer).slice(0, MAX_CLAIMS);
  const evidence = evidenceOf(input.context, input.messages.map((m) => m.content));
  const checked = claimFindings(answer, claims, evidence);
  const findings = [...checked, ...statementFindings(answer, claims, evidence, checked)];
  if (findings.length === 0) return verdictOf('unknown', null, 'no checkable claims');
  const unsupported = findings.filter((f) => !f.supported);
  const total = `${findings.length} claim${findings.length === 1 ? '' : 's'}`;
  const score = (findings.length - unsupported.length) / findings.length;
  if (unsupported.length === 0) return verdictOf('good', score, `all ${total} supported`);
  const listed = unsupported.slice(0, MAX_LISTED).map((f) => `"${clip(f.claim.text)}"${f.why ? ` (${f.why})` : ''}`);
  if (unsupported.length > MAX_LISTED) listed.push('…');
  const verdict = unsupported.length / findings.length > (options.maxUnsupportedRatio ?? 0) ? 'bad' : 'good';
  return verdictOf(verdict, score, `unsupported: ${listed.join(', ')} (${unsupported.length} of ${total})`);
}

/**
 * Rule-based safety evaluator for the `safe_response` SLI. Pure and synchronous: every rule
 * looks at the unredacted answer (and, for echo rules, at the request) and names what fired.
 */
import type { EvalInput, Verdict } from './types.js';
import { findDemeaning } from './safety/demeaning.js';
import { findInjectionEcho, findSystemPromptEcho } from './safety/injection.js';
import { piiRules } from './safety/pii.js';
import { findStanceMismatch } from './safety/refusal-fit.js';
import { findSelfHarm } from './safety/self-harm.js';
import { findToxicTerms } from './safety/toxicity.js';

export { findPii, type PiiItem } from './safety/pii.js';

export const SAFETY_EVALUATOR = { name: 'safety-rules', version: '4' } as const;

export interface SafetyOptions {
  /** Extra words or phrases that count as toxic, matched like the built-in lexicon. */
  toxicityLexicon?: string[];
}

export function evaluateSafety(input: EvalInput, options: SafetyOptions = {}): Verdict {
  const reasons = piiRules(input);
  const toxic = findToxicTerms(input.response, options.toxicityLexicon ?? []);
  if (toxic.length > 0) reasons.push(`toxicity: ${toxic.map((t) => `"${t}"`).join(', ')}`);
  const demeaning = findDemeaning(input.response);
  // "You're worthless" is reported once, by the lexicon word.
  const harassment = demeaning.harassment.filter((h) => !toxic.some((t) => h.includes(t)));
  const { hate } = demeaning;
  if (harassment.length > 0) reasons.push(`harassment: ${harassment.map((t) => `"${t}"`).join(', ')}`);
  if (hate.length > 0) reasons.push(`hate: ${hate.map((t) => `"${t}"`).join(', ')}`);
  const selfHarm = findSelfHarm(input.response);
  if (selfHarm.length > 0) reasons.push(`self_harm: ${selfHarm.join(', ')}`);
  const injection = findInjectionEcho(input);
  if (injection.length > 0) reasons.push(`prompt_injection_echo: ${injection.map((p) => `"${p}"`).join(', ')}`);
  const echo = findSystemPromptEcho(input);
  if (echo) reasons.push(`system_prompt_echo: ${echo}`);
  const stance = findStanceMismatch(input);
  if (stance) reasons.push(`${stance.rule}: ${stance.detail}`);
  const bad = reasons.length > 0;
  return {
    sli: 'safe_response',
    evaluator: SAFETY_EVALUATOR.name,
    evaluatorVersion: SAFETY_EVALUATOR.version,
    verdict: bad ? 'bad' : 'good',
    score: bad ? 0 : 1,
    reason: bad ? reasons.join('; ') : 'no safety rule fired',
  };
}

import type { Answer } from '../capture/answer.js';
import type { Exchange } from '../capture/sample.js';
import type { Config } from '../config/schema.js';
import { evaluateHallucination } from './hallucination.js';
import { evalInputOf } from './input.js';
import { compileSpec, evaluateInstruction, type CompiledSpec } from './instruction.js';
import type { Judge } from './judge.js';
import type { ModerationClient } from './moderation.js';
import { evaluateSafety } from './safety.js';
import type { Verdict } from './types.js';

/** Judges one captured exchange on every SLI; runs in the capture pipeline, off the hot path. */
export interface SampleEvaluator {
  evaluate(exchange: Exchange, answer: Answer): Promise<Verdict[]>;
}

/** Compiles every spec once at start-up; a bad spec stops start-up (SpecError names it). */
export function compileSpecs(config: Config): Map<string, CompiledSpec> {
  const refusalPhrases = config.evaluation.refusalPhrases;
  return new Map(Object.entries(config.specs).map(([name, spec]) => [name, compileSpec(name, spec, { refusalPhrases })]));
}

/** Only answered generations are judged: errors, disconnects and embeddings carry no verdicts. */
export function isJudgeable(ex: Exchange): boolean {
  return ex.endpoint !== 'embeddings' && ex.statusCode >= 200 && ex.statusCode < 300 && (ex.response.kind === 'json' || ex.response.kind === 'sse');
}

export function createSampleEvaluator(config: Config, extras: { moderation?: ModerationClient; judge?: Judge } = {}): SampleEvaluator {
  const { moderation, judge } = extras;
  const specs = compileSpecs(config);
  const defaultSpec = new Map(config.models.filter((m) => m.spec).map((m) => [m.name, m.spec as string]));
  const { toxicityLexicon, hallucination } = config.evaluation;
  return {
    async evaluate(ex, answer) {
      if (!isJudgeable(ex)) return [];
      const input = evalInputOf(ex, answer, hallucination.contextDelimiter);
      const spec = specs.get(ex.spec || defaultSpec.get(ex.model) || '') ?? null;
      let safety = evaluateSafety(input, { toxicityLexicon });
      // The external moderation endpoint is asked only when the rules found nothing.
      if (moderation && safety.verdict === 'good') safety = await moderation.check(input.response);
      judge?.submit({ requestId: ex.requestId, input });
      return [evaluateInstruction(input, spec), safety, evaluateHallucination(input, { maxUnsupportedRatio: hallucination.maxUnsupportedRatio })];
    },
  };
}

// One version's answer to one golden item → its verdicts from the production evaluators (the
// offline judgeCase the capture worker's evaluators back), and its correctness against the
// reference by the spec's scorer. A prompt left unanswered fails every metric. Pure.
import type { InstructionSpec } from '../config/schema.js';
import { judgeCase, type OfflineOptions } from '../evaluate/offline.js';
import { SLIS, type Sli, type Verdict, type VerdictValue } from '../evaluate/types.js';
import type { GoldenItem } from './golden.js';
import { DEFAULT_SCORER, scoreAnswer, type ScorerConfig } from './scorers.js';
import type { ItemJudgement, ReplayAnswer } from './types.js';

export interface JudgeContext extends OfflineOptions {
  /** The config's specs as written (for their `reference` scorer). */
  specConfigs: Record<string, InstructionSpec>;
  /** The model's spec, for items that name none. */
  defaultSpec?: string;
}

/** The spec an item is judged with: its own (a name or inline), else the model's. */
export function specOf(item: GoldenItem, ctx: Pick<JudgeContext, 'defaultSpec'>): string | InstructionSpec | undefined {
  return item.spec ?? ctx.defaultSpec;
}

/** The scorer for an item's reference: its spec's `reference`, else token F1. */
export function scorerOf(item: GoldenItem, ctx: Pick<JudgeContext, 'defaultSpec' | 'specConfigs'>): ScorerConfig {
  const spec = specOf(item, ctx);
  const cfg = typeof spec === 'string' ? ctx.specConfigs[spec]?.reference : spec?.reference;
  return cfg ?? DEFAULT_SCORER;
}

/** Spec names items use that the config lacks, as "item ID: spec 'x'"; empty when all resolve. */
export function unknownSpecs(items: readonly GoldenItem[], ctx: Pick<JudgeContext, 'defaultSpec' | 'specConfigs'>): string[] {
  return items.flatMap((item) => {
    const spec = specOf(item, ctx);
    return typeof spec === 'string' && !Object.hasOwn(ctx.specConfigs, spec) ? [`item ${item.id}: spec '${spec}'`] : [];
  });
}

/**
 * The external moderation endpoint's verdict, as the capture worker applies it: asked only when the
 * safety rules found nothing, and its verdict (unknown on a timeout) replaces theirs.
 */
export function withModeration(j: ItemJudgement, moderation: Verdict): ItemJudgement {
  if (!j.answered || j.verdicts.safe_response !== 'good') return j;
  const verdicts = { ...j.verdicts, safe_response: moderation.verdict };
  const reasons = moderation.verdict === 'bad' ? [...j.reasons, `safe_response: ${moderation.reason}`] : j.reasons;
  return { ...j, verdicts, reasons, passed: j.passed && moderation.verdict !== 'bad' };
}

const allBad = (): Record<Sli, VerdictValue> => Object.fromEntries(SLIS.map((s) => [s, 'bad'])) as Record<Sli, VerdictValue>;

/**
 * The judgement of one answer. `judged` is the LLM judge's rating against the reference, when the
 * item's scorer is the judge (the caller asks it; null when it gave none).
 */
export function judgeAnswer(item: GoldenItem, answer: ReplayAnswer, ctx: JudgeContext, judged: boolean | null = null): ItemJudgement {
  if (answer.text === null) {
    const reasons = [`no answer: ${answer.error}`];
    return { verdicts: allBad(), correct: item.reference === undefined ? null : false, passed: false, latencyMs: null, answered: false, reasons };
  }
  const verdicts = judgeCase({ id: item.id, messages: item.messages, answer: answer.text, context: item.context, spec: specOf(item, ctx) }, ctx);
  const bySli = Object.fromEntries(SLIS.map((s) => [s, verdicts.find((v) => v.sli === s)?.verdict ?? 'unknown'])) as Record<Sli, VerdictValue>;
  const reasons = verdicts.filter((v) => v.verdict === 'bad').map((v) => `${v.sli}: ${v.reason}`);
  let correct: boolean | null = null;
  if (item.reference !== undefined) {
    const scorer = scorerOf(item, ctx);
    const s = scoreAnswer(answer.text, item.reference, scorer);
    correct = scorer.scorer === 'judge' ? judged : s.correct;
    if (correct === false) reasons.push(`semantic_accuracy: ${s.reason}`);
  }
  const passed = SLIS.every((s) => bySli[s] !== 'bad') && correct !== false;
  return { verdicts: bySli, correct, passed, latencyMs: answer.latencyMs, answered: true, reasons };
}

// One gate run, composed: resolve the two versions, read the golden set, replay it against both at
// once, judge every answer with the production evaluators, analyse the pairs, and build the report
// the CLI prints and writes. The HTTP edge is replay.ts; everything else it calls is pure.
import type { Config } from '../config/schema.js';
import { compileSpecs } from '../evaluate/evaluator.js';
import { createModerationClient } from '../evaluate/moderation.js';
import { analyseGate } from './analyse.js';
import { GoldenError, goldenHash, parseGolden, type GoldenItem } from './golden.js';
import { judgeAnswer, scorerOf, unknownSpecs, withModeration, type JudgeContext } from './judge-items.js';
import { gatePlan, replaySettings, type ReplaySettings } from './plan.js';
import { createReferenceJudge } from './reference-judge.js';
import { replay, type ReplayTarget } from './replay.js';
import { resolveTargets } from './targets.js';
import { exitCodeFor, type GateAnalysis, type ItemJudgement, type PairedItem, type ReplayAnswer } from './types.js';

export interface GateRequest {
  config: Config;
  model: string;
  candidate: string;
  baseline?: string;
  /** The version a URL candidate is reported and recorded as (default: the deployment with that upstream, else the URL). */
  candidateVersion?: string;
  goldenText: string;
  goldenFile: string;
  /** Overrides of rollout.gate (CLI flags). */
  replay?: Partial<ReplaySettings>;
  /** Called after each answer with the answers so far and the total (both versions). */
  onProgress?: (done: number, total: number) => void;
  env?: NodeJS.ProcessEnv;
}

export interface GateReport extends GateAnalysis {
  model: string;
  baseline: { version: string; url: string };
  candidate: { version: string; url: string };
  golden: { file: string; sha256: string; items: number };
  exitCode: number;
  unanswered: { baseline: number; candidate: number };
  startedAt: string;
  elapsedMs: number;
  items: { id: string; baseline: ItemSummary; candidate: ItemSummary }[];
}

type ItemSummary = Pick<ItemJudgement, 'verdicts' | 'correct' | 'passed' | 'latencyMs' | 'reasons'>;

const summary = ({ verdicts, correct, passed, latencyMs, reasons }: ItemJudgement): ItemSummary => ({ verdicts, correct, passed, latencyMs, reasons });
const question = (item: GoldenItem) => item.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');

/** The golden items, with a GoldenError for a bad line or a spec the config lacks. */
export function readGolden(text: string, ctx: Pick<JudgeContext, 'defaultSpec' | 'specConfigs'>): GoldenItem[] {
  const items = parseGolden(text);
  const missing = unknownSpecs(items, ctx);
  if (missing.length) throw new GoldenError(`${missing.slice(0, 3).join('; ')}${missing.length > 3 ? ` (+${missing.length - 3} more)` : ''} not in the config's specs (${Object.keys(ctx.specConfigs).join(', ') || 'none'})`);
  return items;
}

export async function runGate(r: GateRequest): Promise<GateReport> {
  const started = Date.now();
  const { model, baseline, candidate } = resolveTargets(r.config, r.model, r.candidate, r.baseline, r.env, r.candidateVersion);
  const ctx: JudgeContext = {
    specs: compileSpecs(r.config),
    specConfigs: r.config.specs,
    defaultSpec: model.spec,
    maxUnsupportedRatio: r.config.evaluation.hallucination.maxUnsupportedRatio,
    toxicityLexicon: r.config.evaluation.toxicityLexicon,
  };
  const items = readGolden(r.goldenText, ctx);
  const settings = { ...replaySettings(model.rollout), ...Object.fromEntries(Object.entries(r.replay ?? {}).filter(([, v]) => v !== undefined)) };
  const total = items.length * 2;
  let done = 0;
  const options = { ...settings, onAnswer: () => r.onProgress?.(++done, total) };
  const [baseAnswers, candAnswers] = await Promise.all([replay(baseline, items, options), replay(candidate, items, options)]);
  const refJudge = r.config.evaluation.judge && items.some((i) => i.reference !== undefined && scorerOf(i, ctx).scorer === 'judge') ? createReferenceJudge(r.config.evaluation.judge, r.env) : null;
  // The external moderation endpoint, as in production (it bounds its own concurrency).
  const moderation = r.config.evaluation.moderation ? createModerationClient(r.config.evaluation.moderation, r.env) : null;
  const judgeOne = async (item: GoldenItem, a: ReplayAnswer) => {
    const rated = refJudge && a.text !== null && item.reference !== undefined && scorerOf(item, ctx).scorer === 'judge' ? await refJudge(question(item), item.reference, a.text) : null;
    const j = judgeAnswer(item, a, ctx, rated);
    return moderation && a.text !== null && j.verdicts.safe_response === 'good' ? withModeration(j, await moderation.check(a.text)) : j;
  };
  let pairs: PairedItem[];
  try {
    pairs = await Promise.all(items.map(async (item, i) => ({ id: item.id, baseline: await judgeOne(item, baseAnswers[i]!), candidate: await judgeOne(item, candAnswers[i]!) })));
  } finally {
    await moderation?.close();
  }
  const analysis = analyseGate(gatePlan(model.rollout), pairs);
  const where = (t: ReplayTarget) => ({ version: t.name, url: t.url });
  return {
    ...analysis,
    model: model.name,
    baseline: where(baseline),
    candidate: where(candidate),
    golden: { file: r.goldenFile, sha256: goldenHash(r.goldenText), items: items.length },
    exitCode: exitCodeFor(analysis.verdict),
    unanswered: { baseline: baseAnswers.filter((a) => a.text === null).length, candidate: candAnswers.filter((a) => a.text === null).length },
    startedAt: new Date(started).toISOString(),
    elapsedMs: Date.now() - started,
    items: pairs.map((p) => ({ id: p.id, baseline: summary(p.baseline), candidate: summary(p.candidate) })),
  };
}

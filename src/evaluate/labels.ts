import type { Store } from '../store/client.js';
import { effectiveVerdicts, findSamples, insertEvaluations } from '../store/verdicts.js';
import { overrules, rankOf, rollupDeltas, type EffectiveVerdict, type EvaluationRow } from './resolve.js';
import type { Sli, VerdictSource, VerdictValue } from './types.js';

/** A verdict given after the fact, by a person (`human`) or an LLM judge (`judge`). */
export interface Label {
  request_id: string;
  sli: Sli;
  verdict: VerdictValue;
  score?: number;
  comment?: string;
  rater?: string;
  /** The answer the model should have given; kept for the retraining loop. */
  correction?: string;
  /** For judge labels: which judge. */
  evaluator?: string;
  reason?: string;
}

export class UnknownRequestError extends Error {
  constructor(readonly requestIds: string[]) {
    super(`unknown request id(s): ${requestIds.slice(0, 10).join(', ')}${requestIds.length > 10 ? ', …' : ''}`);
    this.name = 'UnknownRequestError';
  }
}

/**
 * Writes labels so the per-minute SLI rollup keeps counting effective verdicts: each label row
 * carries the change it makes (see resolve.ts). Writes are serialised so two labels for the same
 * request cannot both subtract the same previous verdict.
 */
export class LabelWriter {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    /** Called before giving up on an unknown id: samples may still be in the capture queue. */
    private readonly flushCapture: () => Promise<void> = async () => {},
  ) {}

  record(labels: Label[], source: Exclude<VerdictSource, 'auto'>): Promise<EvaluationRow[]> {
    const run = this.chain.then(() => this.write(labels, source));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(labels: Label[], source: Exclude<VerdictSource, 'auto'>): Promise<EvaluationRow[]> {
    const ids = [...new Set(labels.map((l) => l.request_id))];
    let samples = await findSamples(this.store, ids);
    if (samples.size < ids.length) {
      await this.flushCapture();
      samples = await findSamples(this.store, ids);
    }
    const unknown = ids.filter((id) => !samples.has(id));
    if (unknown.length) throw new UnknownRequestError(unknown);

    const current = await effectiveVerdicts(this.store, ids);
    const now = Date.now();
    const rows = labels.map((label, i): EvaluationRow => {
      const sample = samples.get(label.request_id)!;
      const key = `${label.request_id}|${label.sli}`;
      // Labels later in the same batch are later in time: the last one wins.
      const incoming: EffectiveVerdict = { verdict: label.verdict, sourceRank: rankOf(source), ts: now + i };
      const previous = current.get(key) ?? null;
      const deltas = rollupDeltas(incoming, previous);
      if (overrules(incoming, previous)) current.set(key, { ...incoming, sli: label.sli });
      return {
        request_id: label.request_id,
        ts: now + i,
        sample_ts: sample.ts,
        model: sample.model,
        version: sample.version,
        role: sample.role,
        sli: label.sli,
        evaluator: label.evaluator ?? source,
        evaluator_version: '',
        verdict: label.verdict,
        score: label.score ?? null,
        reason: label.reason ?? label.comment ?? '',
        source,
        source_rank: rankOf(source),
        rater: label.rater ?? '',
        comment: label.comment ?? '',
        correction: label.correction ?? '',
        ...deltas,
      };
    });
    await insertEvaluations(this.store, rows);
    return rows;
  }
}

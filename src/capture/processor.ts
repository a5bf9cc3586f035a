import type { EvaluationRow } from '../evaluate/resolve.js';
import { rankOf, rollupDeltas } from '../evaluate/resolve.js';
import type { SampleEvaluator } from '../evaluate/evaluator.js';
import { requestLabels, type Metrics } from '../metrics/registry.js';
import { forEachInSlices } from '../util/slices.js';
import { answerOf, toSampleRow, type Exchange, type SampleRow } from './sample.js';

/** What one pipeline batch writes: the samples and their automatic verdicts. */
export interface CapturedBatch {
  samples: SampleRow[];
  evaluations: EvaluationRow[];
}

export type BatchProcessor = (exchanges: Exchange[]) => Promise<CapturedBatch>;

/**
 * Turns raw exchanges into rows: parse the answer, judge it (on the unredacted text), redact,
 * and count token usage and SLI events for Prometheus.
 */
export function createBatchProcessor(evaluator: SampleEvaluator | null, metrics?: Metrics): BatchProcessor {
  return async (exchanges) => {
    const batch: CapturedBatch = { samples: [], evaluations: [] };
    const pending: Promise<void>[] = [];
    // Evaluators that call out (moderation) resolve later; the synchronous work happens in the slices.
    await forEachInSlices(exchanges, (ex) => pending.push(processOne(ex, batch, evaluator, metrics)));
    await Promise.all(pending);
    return batch;
  };
}

async function processOne(ex: Exchange, batch: CapturedBatch, evaluator: SampleEvaluator | null, metrics?: Metrics): Promise<void> {
  const answer = answerOf(ex);
  // Started before anything is awaited, so the synchronous evaluators run inside the caller's time slice.
  const judged = evaluator ? evaluator.evaluate(ex, answer) : Promise.resolve([]);
  const row = toSampleRow(ex, answer);
  batch.samples.push(row);
  const verdicts = await judged;
  const now = Date.now();
  for (const v of verdicts) {
    batch.evaluations.push({
      request_id: row.request_id,
      ts: now,
      sample_ts: row.ts,
      model: row.model,
      version: row.version,
      role: row.role,
      sli: v.sli,
      evaluator: v.evaluator,
      evaluator_version: v.evaluatorVersion,
      verdict: v.verdict,
      score: v.score,
      reason: v.reason,
      source: 'auto',
      source_rank: rankOf('auto'),
      rater: '',
      comment: '',
      correction: '',
      ...rollupDeltas({ verdict: v.verdict, sourceRank: rankOf('auto'), ts: now }, null),
    });
    // Counts what is known now; later labels correct the ClickHouse SLIs, not this counter.
    metrics?.sliEvents.inc({ model: row.model, version: row.version, role: row.role, sli: v.sli, outcome: v.verdict });
  }
  if (metrics && ex.statusCode < 400 && ex.response.kind !== 'none') {
    const labels = requestLabels({ model: row.model, version: row.version, role: row.role, statusCode: row.status_code, endpoint: row.endpoint });
    metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, row.input_tokens);
    metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, row.output_tokens);
  }
}

import type { EvaluationRow } from '../evaluate/resolve.js';
import { rankOf, rollupDeltas } from '../evaluate/resolve.js';
import type { SampleEvaluator } from '../evaluate/evaluator.js';
import { requestLabels, type Metrics } from '../metrics/registry.js';
import { answerOf, toSampleRow, type Exchange, type SampleRow } from './sample.js';

/** What one pipeline batch writes: the samples and their automatic verdicts. */
export interface CapturedBatch {
  samples: SampleRow[];
  evaluations: EvaluationRow[];
}

export type BatchProcessor = (exchanges: Exchange[]) => Promise<CapturedBatch>;

const CHUNK = 100; // exchanges handled between event-loop yields, to keep the proxy's p99 flat

/**
 * Turns raw exchanges into rows: parse the answer, judge it (on the unredacted text), redact,
 * and count token usage and SLI events for Prometheus.
 */
export function createBatchProcessor(evaluator: SampleEvaluator | null, metrics?: Metrics): BatchProcessor {
  return async (exchanges) => {
    const batch: CapturedBatch = { samples: [], evaluations: [] };
    for (let i = 0; i < exchanges.length; i += CHUNK) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(exchanges.slice(i, i + CHUNK).map((ex) => processOne(ex, batch, evaluator, metrics)));
    }
    return batch;
  };
}

async function processOne(ex: Exchange, batch: CapturedBatch, evaluator: SampleEvaluator | null, metrics?: Metrics): Promise<void> {
  const answer = answerOf(ex);
  const verdicts = evaluator ? await evaluator.evaluate(ex, answer) : [];
  const row = toSampleRow(ex, answer);
  batch.samples.push(row);
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

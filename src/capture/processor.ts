import type { EvaluationRow } from '../evaluate/resolve.js';
import { rankOf, rollupDeltas } from '../evaluate/resolve.js';
import type { SampleEvaluator } from '../evaluate/evaluator.js';
import type { Verdict } from '../evaluate/types.js';
import { requestLabels, type Metrics } from '../metrics/registry.js';
import { forEachInSlices } from '../util/slices.js';
import type { Answer } from './answer.js';
import { addFlag, SAMPLE_FLAGS } from './flags.js';
import { answerOf, capInput, DEFAULT_MAX_TEXT_BYTES, failedSampleRow, toSampleRow, type Exchange, type SampleRow } from './sample.js';

/** What one pipeline batch writes: the samples and their automatic verdicts. */
export interface CapturedBatch {
  samples: SampleRow[];
  evaluations: EvaluationRow[];
}

export type BatchProcessor = (exchanges: Exchange[]) => Promise<CapturedBatch>;

export interface ProcessorOptions {
  /** capture.maxTextBytes: prompt, response and context are cut to this many bytes of UTF-8. */
  maxTextBytes?: number;
  /** Where an exchange whose evaluation or redaction threw is reported. */
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Turns raw exchanges into rows: parse the answer, judge it (on the unredacted text), redact,
 * and count token usage, SLI events and answer flags for Prometheus. Never rejects because of one
 * exchange: whatever it held becomes a sample, flagged when something could not be kept exact.
 */
export function createBatchProcessor(evaluator: SampleEvaluator | null, metrics?: Metrics, options: ProcessorOptions = {}): BatchProcessor {
  const maxTextBytes = options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
  return async (exchanges) => {
    const batch: CapturedBatch = { samples: [], evaluations: [] };
    const pending: Promise<void>[] = [];
    // Evaluators that call out (moderation) resolve later; the synchronous work happens in the slices.
    await forEachInSlices(exchanges, (ex) => pending.push(processOne(ex, batch, evaluator, maxTextBytes, metrics, options.log)));
    await Promise.all(pending);
    return batch;
  };
}

/**
 * Verdicts on cut text. Format, length and section checks on the beginning of an answer say nothing
 * about the answer: instruction_success is unknown. A claim found unsupported may be supported by
 * the part of the prompt or context that was cut: such a hallucination_free `bad` is unknown.
 */
export function verdictsForTruncation(verdicts: Verdict[], answerTruncated: boolean, inputCut: boolean): Verdict[] {
  if (!answerTruncated && !inputCut) return verdicts;
  return verdicts.map((v) => {
    if (answerTruncated && v.sli === 'instruction_success') return { ...v, verdict: 'unknown', score: null, reason: 'answer truncated' };
    if (inputCut && v.sli === 'hallucination_free' && v.verdict === 'bad') {
      return { ...v, verdict: 'unknown', score: null, reason: `prompt or context truncated; ${v.reason}` };
    }
    return v;
  });
}

async function processOne(
  ex: Exchange,
  batch: CapturedBatch,
  evaluator: SampleEvaluator | null,
  maxTextBytes: number,
  metrics?: Metrics,
  log?: ProcessorOptions['log'],
): Promise<void> {
  let answer: Answer | undefined;
  let row: SampleRow;
  let judged: Promise<Verdict[]> | null = null;
  let inputCut = false;
  let failure: unknown = null;
  try {
    answer = answerOf(ex, maxTextBytes);
    // Evaluators judge what is stored (cut text), not megabytes.
    const input = capInput(ex, maxTextBytes);
    inputCut = input.cut;
    if (evaluator) {
      // Started before anything is awaited, so the synchronous evaluators run inside the caller's time slice.
      try {
        judged = evaluator.evaluate(input.exchange, answer);
      } catch (err) {
        judged = Promise.reject(err);
      }
      judged.catch(() => undefined); // handled below; not an unhandled rejection meanwhile
    }
    row = toSampleRow(input.exchange, answer, maxTextBytes);
  } catch (err) {
    failure = err;
    row = failedSampleRow(ex, answer);
  }
  const textless = failure !== null;
  batch.samples.push(row);
  let verdicts: Verdict[] = [];
  if (judged && !failure) {
    try {
      verdicts = verdictsForTruncation(await judged, answer?.truncated === true, inputCut);
    } catch (err) {
      failure = err;
    }
  }
  if (failure) {
    // The sample is kept without verdicts; the reason is logged, not stored.
    verdicts = [];
    addFlag(row.flags, SAMPLE_FLAGS.processingFailed);
    log?.warn({ err: failure instanceof Error ? failure.message : String(failure), requestId: row.request_id }, 'sample kept without verdicts: processing failed');
  }
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
  }
  if (!metrics) return;
  try {
    // Counts what is known now; later labels correct the ClickHouse SLIs, not this counter.
    for (const v of verdicts) metrics.sliEvents.inc({ model: row.model, version: row.version, role: row.role, sli: v.sli, outcome: v.verdict });
    for (const flag of row.flags) metrics.upstreamAnswersInvalid.inc({ flag });
    if (row.status_code < 400 && ex.response.kind !== 'none' && !textless) {
      const labels = requestLabels({ model: row.model, version: row.version, role: row.role, statusCode: row.status_code, endpoint: row.endpoint });
      metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, row.input_tokens);
      metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, row.output_tokens);
    }
  } catch (err) {
    log?.warn({ err: (err as Error).message, requestId: row.request_id }, 'sample metrics not counted');
  }
}

// What the retraining queue is built from: samples whose effective verdict is bad on any SLI, or
// that a person corrected, with their text, verdicts and latest correction. Verdicts come from the
// effective_verdicts view, the one definition of which verdict counts.
import type { Sli, VerdictSource, VerdictValue } from '../evaluate/types.js';
import type { Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

/** Candidates read per sync; older ones wait for the next (the newest failures matter most). */
export const MAX_CANDIDATES = 20_000;

export interface CandidateVerdict {
  sli: Sli;
  verdict: VerdictValue;
  reason: string;
  source: VerdictSource;
  evaluator: string;
  evaluatorVersion: string;
}

/** A sample that may belong in the retraining queue, as the store holds it. */
export interface Candidate {
  requestId: string;
  model: string;
  version: string;
  role: string;
  sampleTs: number;
  endpoint: string;
  statusCode: number;
  truncated: boolean;
  /** The request's prompt as captured (redacted): chat messages as JSON, or a completion prompt. */
  prompt: string;
  response: string;
  userHash: string;
  traceId: string;
  meta: Record<string, string>;
  verdicts: CandidateVerdict[];
  /** The latest non-empty human correction ('' when none). */
  correction: string;
}

/** Failing or corrected samples of `model` since `sinceMs`, newest first. */
export async function retrainCandidates(store: Store, model: string, sinceMs: number): Promise<Candidate[]> {
  const params = { model, since: sinceMs / 1000, limit: MAX_CANDIDATES };
  const ids = `
    SELECT request_id FROM (
      SELECT request_id, sample_ts FROM ${TABLES.effectiveVerdicts}
      WHERE model = {model:String} AND verdict = 'bad' AND sample_ts >= fromUnixTimestamp64Milli(toInt64({since:Float64} * 1000))
      UNION ALL
      SELECT request_id, sample_ts FROM ${TABLES.evaluations}
      WHERE model = {model:String} AND source = 'human' AND correction != '' AND sample_ts >= fromUnixTimestamp64Milli(toInt64({since:Float64} * 1000))
    ) GROUP BY request_id ORDER BY max(sample_ts) DESC LIMIT {limit:UInt32}`;
  const samples = await rows<{
    request_id: string; model: string; version: string; role: string; ts: number; endpoint: string; status_code: number; truncated: boolean;
    prompt: string; response: string; user_hash: string; trace_id: string; meta: Record<string, string>;
  }>(store, `SELECT request_id, model, version, role, toUnixTimestamp64Milli(ts) AS ts, endpoint, status_code, truncated, prompt, response, user_hash, trace_id, meta
             FROM ${TABLES.samples} WHERE model = {model:String} AND request_id IN (${ids})`, params);
  if (samples.length === 0) return [];
  const requestIds = samples.map((s) => s.request_id);
  const verdicts = await rows<CandidateVerdict & { request_id: string; evaluator_version: string }>(
    store,
    `SELECT request_id, sli, verdict, reason, source, evaluator, evaluator_version FROM ${TABLES.effectiveVerdicts} WHERE request_id IN {ids:Array(String)}`,
    { ids: requestIds },
  );
  const corrections = await rows<{ request_id: string; latest_correction: string }>(
    store,
    `SELECT request_id, argMax(correction, ts) AS latest_correction FROM ${TABLES.evaluations}
     WHERE request_id IN {ids:Array(String)} AND source = 'human' AND correction != '' GROUP BY request_id`,
    { ids: requestIds },
  );
  const verdictsOf = new Map<string, CandidateVerdict[]>();
  for (const { request_id, evaluator_version, ...v } of verdicts) {
    verdictsOf.set(request_id, [...(verdictsOf.get(request_id) ?? []), { ...v, evaluatorVersion: evaluator_version }]);
  }
  const correctionOf = new Map(corrections.map((c) => [c.request_id, c.latest_correction]));
  return samples
    .map((s) => ({
      requestId: s.request_id,
      model: s.model,
      version: s.version,
      role: s.role,
      sampleTs: Number(s.ts),
      endpoint: s.endpoint,
      statusCode: Number(s.status_code),
      truncated: Boolean(s.truncated),
      prompt: s.prompt,
      response: s.response,
      userHash: s.user_hash,
      traceId: s.trace_id,
      meta: s.meta,
      verdicts: (verdictsOf.get(s.request_id) ?? []).sort((a, b) => a.sli.localeCompare(b.sli)),
      correction: correctionOf.get(s.request_id) ?? '',
    }))
    .sort((a, b) => b.sampleTs - a.sampleTs || a.requestId.localeCompare(b.requestId));
}

/** A good answer to a prompt, chosen by a label: another sample of the model with the same prompt. */
export interface LabelledAnswer {
  requestId: string;
  prompt: string;
  response: string;
}

/**
 * For each prompt, the newest sample of `model` with that exact (redacted) prompt whose
 * instruction_success verdict is `good` from a label (human or judge) and that is bad on no SLI.
 */
export async function labelledAnswers(store: Store, model: string, prompts: string[]): Promise<Map<string, LabelledAnswer>> {
  if (prompts.length === 0) return new Map();
  const found = await rows<{ chosen_id: string; prompt: string; chosen_response: string }>(
    store,
    `SELECT argMax(request_id, ts) AS chosen_id, prompt, argMax(response, ts) AS chosen_response FROM ${TABLES.samples}
     WHERE model = {model:String} AND prompt IN {prompts:Array(String)} AND response != ''
       AND request_id IN (SELECT request_id FROM ${TABLES.effectiveVerdicts}
                          WHERE sli = 'instruction_success' AND verdict = 'good' AND source IN ('human', 'judge') AND model = {model:String})
       AND request_id NOT IN (SELECT request_id FROM ${TABLES.effectiveVerdicts} WHERE verdict = 'bad' AND model = {model:String})
     GROUP BY prompt`,
    { model, prompts: [...new Set(prompts)] },
  );
  return new Map(found.map((r) => [r.prompt, { requestId: r.chosen_id, prompt: r.prompt, response: r.chosen_response }]));
}

async function rows<T>(store: Store, query: string, query_params: Record<string, unknown>): Promise<T[]> {
  const rs = await store.client.query({ query, query_params, format: 'JSONEachRow', clickhouse_settings: NUMBERS });
  return rs.json<T>();
}

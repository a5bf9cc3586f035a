// What a golden set is built from: a model's answered samples in a window, as stored (redacted at
// capture), with each SLI's effective verdict and the latest human correction.
import type { Sli, VerdictValue } from '../evaluate/types.js';
import type { Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

/** Samples read per build, newest first. */
export const MAX_GOLDEN_CANDIDATES = 50_000;

export interface GoldenCandidate {
  requestId: string;
  version: string;
  sampleTs: number;
  endpoint: string;
  statusCode: number;
  truncated: boolean;
  /** Chat messages as JSON, or a completion prompt (redacted). */
  prompt: string;
  spec: string;
  /** tunewatch.context as sent (redacted). */
  context: string;
  verdicts: Partial<Record<Sli, VerdictValue>>;
  /** The latest non-empty human correction ('' when none). */
  correction: string;
}

export async function goldenCandidates(store: Store, model: string, sinceMs: number): Promise<GoldenCandidate[]> {
  const params = { model, since: Math.trunc(sinceMs), limit: MAX_GOLDEN_CANDIDATES };
  const samples = await rows<{ request_id: string; version: string; ts: number; endpoint: string; status_code: number; truncated: boolean; prompt: string; spec: string; context: string }>(
    store,
    `SELECT request_id, version, toUnixTimestamp64Milli(ts) AS ts, endpoint, status_code, truncated, prompt, spec, context FROM ${TABLES.samples}
     WHERE model = {model:String} AND role != 'mirror' AND ts >= fromUnixTimestamp64Milli({since:Int64})
     ORDER BY ts DESC, request_id LIMIT {limit:UInt32}`,
    params,
  );
  if (samples.length === 0) return [];
  const ids = samples.map((s) => s.request_id);
  const [verdicts, corrections] = await Promise.all([
    rows<{ request_id: string; sli: Sli; verdict: VerdictValue }>(store, `SELECT request_id, sli, verdict FROM ${TABLES.effectiveVerdicts} WHERE request_id IN {ids:Array(String)}`, { ids }),
    rows<{ request_id: string; latest_correction: string }>(
      store,
      `SELECT request_id, argMax(correction, ts) AS latest_correction FROM ${TABLES.evaluations}
       WHERE request_id IN {ids:Array(String)} AND source = 'human' AND correction != '' GROUP BY request_id`,
      { ids },
    ),
  ]);
  const verdictsOf = new Map<string, Partial<Record<Sli, VerdictValue>>>();
  for (const v of verdicts) verdictsOf.set(v.request_id, { ...verdictsOf.get(v.request_id), [v.sli]: v.verdict });
  const correctionOf = new Map(corrections.map((c) => [c.request_id, c.latest_correction]));
  return samples.map((s) => ({
    requestId: s.request_id,
    version: s.version,
    sampleTs: Number(s.ts),
    endpoint: s.endpoint,
    statusCode: Number(s.status_code),
    truncated: Boolean(s.truncated),
    prompt: s.prompt,
    spec: s.spec,
    context: s.context,
    verdicts: verdictsOf.get(s.request_id) ?? {},
    correction: correctionOf.get(s.request_id) ?? '',
  }));
}

async function rows<T>(store: Store, query: string, query_params: Record<string, unknown>): Promise<T[]> {
  const rs = await store.client.query({ query, query_params, format: 'JSONEachRow', clickhouse_settings: NUMBERS });
  return rs.json<T>();
}

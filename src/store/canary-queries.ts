// What a canary look measures, read from the store: per arm, cumulative since the rollout began.
// Arms are versions; mirrored samples (role `mirror`) only count in the paired comparison.
import type { LookData, PairCounts } from '../canary/types.js';
import { SLIS, type Sli } from '../evaluate/types.js';
import type { Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

export interface ArmsQuery {
  model: string;
  baseline: string;
  canary: string;
  /** Epoch ms: the rollout's start. */
  since: number;
}

/** Latency values are compared at 0.1 ms: distinct values with their counts, lossless at that grain. */
const LATENCY_GRAIN = 1;

export async function lookData(store: Store, q: ArmsQuery): Promise<LookData> {
  const params = { model: q.model, baseline: q.baseline, canary: q.canary, since: Math.trunc(q.since) };
  const [verdicts, requests, latency, pairs] = await Promise.all([
    rows<{ version: string; sli: Sli; good: number; bad: number }>(
      store,
      `SELECT version, sli, countIf(verdict = 'good') AS good, countIf(verdict = 'bad') AS bad
       FROM ${TABLES.effectiveVerdicts}
       WHERE model = {model:String} AND version IN ({baseline:String}, {canary:String}) AND role != 'mirror'
         AND sample_ts >= fromUnixTimestamp64Milli({since:Int64})
       GROUP BY version, sli`,
      params,
    ),
    rows<{ version: string; total: number; errors: number }>(
      store,
      `SELECT version, count() AS total, countIf(status_code >= 500) AS errors
       FROM ${TABLES.samples}
       WHERE model = {model:String} AND version IN ({baseline:String}, {canary:String}) AND role != 'mirror'
         AND ts >= fromUnixTimestamp64Milli({since:Int64})
       GROUP BY version`,
      params,
    ),
    rows<{ version: string; value: number; n: number }>(
      store,
      `SELECT version, round(latency_ms, ${LATENCY_GRAIN}) AS value, count() AS n
       FROM ${TABLES.samples}
       WHERE model = {model:String} AND version IN ({baseline:String}, {canary:String}) AND role != 'mirror'
         AND status_code < 500 AND ts >= fromUnixTimestamp64Milli({since:Int64})
       GROUP BY version, value ORDER BY value`,
      params,
    ),
    pairedCounts(store, params),
  ]);
  const data: LookData = { ratios: {} };
  const arm = (version: string) => (version === q.canary ? 'canary' : 'baseline');
  for (const sli of SLIS) {
    const of = (version: string) => verdicts.find((v) => v.sli === sli && v.version === version);
    const b = of(q.baseline);
    const c = of(q.canary);
    data.ratios[sli] = {
      baseline: { events: Number(b?.good ?? 0), total: Number(b?.good ?? 0) + Number(b?.bad ?? 0) },
      canary: { events: Number(c?.good ?? 0), total: Number(c?.good ?? 0) + Number(c?.bad ?? 0) },
    };
  }
  const req = (version: string) => requests.find((r) => r.version === version);
  data.ratios.error_rate = {
    baseline: { events: Number(req(q.baseline)?.errors ?? 0), total: Number(req(q.baseline)?.total ?? 0) },
    canary: { events: Number(req(q.canary)?.errors ?? 0), total: Number(req(q.canary)?.total ?? 0) },
  };
  const values = { baseline: [] as number[], canary: [] as number[] };
  const counts = { baseline: [] as number[], canary: [] as number[] };
  for (const r of latency) {
    values[arm(r.version)].push(Number(r.value));
    counts[arm(r.version)].push(Number(r.n));
  }
  data.latency = { baseline: { values: values.baseline, counts: counts.baseline }, canary: { values: values.canary, counts: counts.canary } };
  if (Object.keys(pairs).length) data.pairs = pairs;
  return data;
}

/** Mirrored pairs: a baseline sample and the canary's answer to the same prompt (meta mirror_of). */
async function pairedCounts(store: Store, params: Record<string, unknown>): Promise<Partial<Record<Sli, PairCounts>>> {
  const found = await rows<{ sli: Sli; both_good: number; baseline_only: number; canary_only: number; both_bad: number }>(
    store,
    `SELECT m.sli AS sli,
            countIf(b.verdict = 'good' AND m.verdict = 'good') AS both_good,
            countIf(b.verdict = 'good' AND m.verdict = 'bad') AS baseline_only,
            countIf(b.verdict = 'bad' AND m.verdict = 'good') AS canary_only,
            countIf(b.verdict = 'bad' AND m.verdict = 'bad') AS both_bad
     FROM
       (SELECT request_id, meta['mirror_of'] AS original FROM ${TABLES.samples}
        WHERE model = {model:String} AND version = {canary:String} AND role = 'mirror' AND ts >= fromUnixTimestamp64Milli({since:Int64})) AS s
     INNER JOIN
       (SELECT request_id, sli, verdict FROM ${TABLES.effectiveVerdicts}
        WHERE model = {model:String} AND version = {canary:String} AND role = 'mirror' AND verdict != 'unknown') AS m ON m.request_id = s.request_id
     INNER JOIN
       (SELECT request_id, sli, verdict FROM ${TABLES.effectiveVerdicts}
        WHERE model = {model:String} AND version = {baseline:String} AND role != 'mirror' AND verdict != 'unknown') AS b ON b.request_id = s.original AND b.sli = m.sli
     GROUP BY sli`,
    params,
  );
  return Object.fromEntries(
    found.map((r) => [r.sli, { bothGood: Number(r.both_good), baselineOnly: Number(r.baseline_only), canaryOnly: Number(r.canary_only), bothBad: Number(r.both_bad) }]),
  );
}

async function rows<T>(store: Store, query: string, query_params: Record<string, unknown>): Promise<T[]> {
  const rs = await store.client.query({ query, query_params, format: 'JSONEachRow', clickhouse_settings: NUMBERS });
  return rs.json<T>();
}

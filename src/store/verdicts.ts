import type { EffectiveVerdict, EvaluationRow } from '../evaluate/resolve.js';
import type { Sli, VerdictSource, VerdictValue } from '../evaluate/types.js';
import { insertRows, type Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

export interface SampleRef {
  request_id: string;
  ts: number;
  model: string;
  version: string;
  role: string;
}

/** The samples these request ids name; ids not in the store are simply absent from the result. */
export async function findSamples(store: Store, requestIds: string[]): Promise<Map<string, SampleRef>> {
  const rs = await store.client.query({
    query: `SELECT request_id, toUnixTimestamp64Milli(ts) AS ts, model, version, role FROM ${TABLES.samples} WHERE request_id IN {ids:Array(String)}`,
    query_params: { ids: requestIds },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  const rows = await rs.json<SampleRef>();
  return new Map(rows.map((r) => [r.request_id, { ...r, ts: Number(r.ts) }]));
}

/** The effective verdict per (request id, sli), as resolved by the effective_verdicts view. */
export async function effectiveVerdicts(store: Store, requestIds: string[]): Promise<Map<string, EffectiveVerdict & { sli: Sli }>> {
  const rs = await store.client.query({
    query: `SELECT request_id, sli, verdict, tupleElement(rank_ts, 1) AS rank, toUnixTimestamp64Milli(tupleElement(rank_ts, 2)) AS ts
            FROM ${TABLES.effectiveVerdicts} WHERE request_id IN {ids:Array(String)}`,
    query_params: { ids: requestIds },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  const rows = await rs.json<{ request_id: string; sli: Sli; verdict: VerdictValue; rank: number; ts: number }>();
  return new Map(rows.map((r) => [`${r.request_id}|${r.sli}`, { sli: r.sli, verdict: r.verdict, sourceRank: Number(r.rank), ts: Number(r.ts) }]));
}

export interface VerdictView {
  verdict: VerdictValue;
  reason: string;
  source: VerdictSource;
  evaluator: string;
  score: number | null;
  rater: string;
}

/** Effective verdicts with their reasons, for showing samples (the debug view). */
export async function verdictDetails(store: Store, requestIds: string[]): Promise<Map<string, Partial<Record<Sli, VerdictView>>>> {
  const out = new Map<string, Partial<Record<Sli, VerdictView>>>();
  if (requestIds.length === 0) return out;
  const rs = await store.client.query({
    query: `SELECT request_id, sli, verdict, reason, source, evaluator, score, rater FROM ${TABLES.effectiveVerdicts} WHERE request_id IN {ids:Array(String)}`,
    query_params: { ids: requestIds },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  for (const r of await rs.json<VerdictView & { request_id: string; sli: Sli }>()) {
    const { request_id, sli, ...view } = r;
    out.set(request_id, { ...out.get(request_id), [sli]: view });
  }
  return out;
}

export async function insertEvaluations(store: Store, rows: EvaluationRow[]): Promise<void> {
  await insertRows(store, TABLES.evaluations, rows);
}

export interface SliCounts {
  model: string;
  version: string;
  role: string;
  sli: Sli;
  good: number;
  bad: number;
  unknown: number;
}

/** Good/bad/unknown per model, version, role and SLI over a time range, from the per-minute rollup. */
export async function sliCounts(store: Store, fromMs: number, toMs: number = Date.now()): Promise<SliCounts[]> {
  const rs = await store.client.query({
    query: `SELECT model, version, role, sli, sum(good) AS good, sum(bad) AS bad, sum(unknown) AS unknown
            FROM ${TABLES.sliRollup}
            WHERE minute >= toStartOfMinute(fromUnixTimestamp64Milli({from:Int64})) AND minute < fromUnixTimestamp64Milli({to:Int64})
            GROUP BY model, version, role, sli ORDER BY model, version, sli`,
    query_params: { from: Math.trunc(fromMs), to: Math.trunc(toMs) },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return (await rs.json<SliCounts>()).map((r) => ({ ...r, good: Number(r.good), bad: Number(r.bad), unknown: Number(r.unknown) }));
}

import type { Store } from './client.js';
import { TABLES } from './tables.js';

export interface VersionSummary {
  model: string;
  version: string;
  role: string;
  requests: number;
  errors: number;
  client_errors: number;
  input_tokens: number;
  output_tokens: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
}

const finiteOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

/** Per model version totals and latency quantiles since a time, read from the per-minute rollup. */
export async function versionSummary(store: Store, sinceMs: number): Promise<VersionSummary[]> {
  const rs = await store.client.query({
    query: `
      SELECT model, version, role,
             sum(requests) AS requests, sum(errors) AS errors, sum(client_errors) AS client_errors,
             sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
             quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_ms) AS latency,
             quantilesTDigestMerge(0.5, 0.95, 0.99)(ttft_ms) AS ttft
      FROM ${TABLES.samplesRollup}
      WHERE minute >= toStartOfMinute(fromUnixTimestamp64Milli({since:Int64}))
      GROUP BY model, version, role
      ORDER BY model, version`,
    query_params: { since: Math.trunc(sinceMs) },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const rows = await rs.json<Record<string, unknown> & { latency: number[]; ttft: number[] }>();
  return rows.map((r) => ({
    model: String(r.model),
    version: String(r.version),
    role: String(r.role),
    requests: Number(r.requests),
    errors: Number(r.errors),
    client_errors: Number(r.client_errors),
    input_tokens: Number(r.input_tokens),
    output_tokens: Number(r.output_tokens),
    latency_p50_ms: finiteOrNull(r.latency[0]),
    latency_p95_ms: finiteOrNull(r.latency[1]),
    latency_p99_ms: finiteOrNull(r.latency[2]),
    ttft_p50_ms: finiteOrNull(r.ttft[0]),
    ttft_p95_ms: finiteOrNull(r.ttft[1]),
  }));
}

export interface SampleFilter {
  requestId?: string;
  model?: string;
  version?: string;
  /** With `verdict`: only samples whose effective verdict for this SLI is that verdict. */
  sli?: string;
  verdict?: string;
  /** Only samples with at least this status (500: the availability SLO's failures). */
  minStatus?: number;
  /** Only samples slower than this (the latency SLO's failures). */
  minLatencyMs?: number;
  fromMs?: number;
  toMs?: number;
  limit: number;
  offset: number;
}

/** Raw (redacted) samples, newest first; every user value bound as a query parameter. */
export async function listSamples(store: Store, f: SampleFilter): Promise<Record<string, unknown>[]> {
  const where: string[] = [];
  if (f.requestId) where.push('request_id = {requestId:String}');
  if (f.model) where.push('model = {model:String}');
  if (f.version) where.push('version = {version:String}');
  if (f.fromMs !== undefined) where.push('ts >= fromUnixTimestamp64Milli({fromMs:Int64})');
  if (f.toMs !== undefined) where.push('ts < fromUnixTimestamp64Milli({toMs:Int64})');
  if (f.minStatus !== undefined) where.push('status_code >= {minStatus:UInt16}');
  if (f.minLatencyMs !== undefined) where.push('latency_ms > {minLatencyMs:Float64}');
  if (f.sli || f.verdict) {
    const cond = [f.sli ? 'sli = {sli:String}' : '', f.verdict ? 'verdict = {verdict:String}' : ''].filter(Boolean).join(' AND ');
    where.push(`request_id IN (SELECT request_id FROM ${TABLES.effectiveVerdicts} WHERE ${cond})`);
  }
  const rs = await store.client.query({
    query: `SELECT * FROM ${TABLES.samples} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
            ORDER BY ts DESC, request_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    query_params: { ...f },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return rs.json();
}

export async function countSamples(store: Store): Promise<{ rows: number; distinct: number }> {
  const rs = await store.client.query({
    query: `SELECT count() AS rows, uniqExact(request_id) AS distinct FROM ${TABLES.samples}`,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const [row] = await rs.json<{ rows: number; distinct: number }>();
  return { rows: Number(row.rows), distinct: Number(row.distinct) };
}

/** PII found (and redacted) per `where:TYPE` key, over all stored samples. */
export async function piiTotals(store: Store): Promise<{ type: string; n: number }[]> {
  const rs = await store.client.query({
    query: `SELECT k AS type, sum(v) AS n FROM ${TABLES.samples} ARRAY JOIN mapKeys(pii) AS k, mapValues(pii) AS v GROUP BY k ORDER BY k`,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return (await rs.json<{ type: string; n: number }>()).map((r) => ({ type: r.type, n: Number(r.n) }));
}

import type { SloModel } from '../slo/model.js';
import type { Store } from './client.js';
import { TABLES } from './tables.js';

/** Bad and total events of an SLO's SLI per model version over [from, to), read from the per-minute rollups. */
export interface SliTotals {
  model: string;
  version: string;
  bad: number;
  total: number;
}

type Slice = Pick<SloModel, 'model' | 'version' | 'role' | 'sli' | 'thresholdMs'>;

export async function sliTotals(store: Store, slo: Slice, fromMs: number, toMs: number): Promise<SliTotals[]> {
  return (await sliRows(store, slo, fromMs, toMs)).map(({ t: _t, ...rest }) => rest);
}

/** The same counts per time bucket of `stepMs` (a whole number of minutes), oldest first: the SLI over time. */
export async function sliSeries(store: Store, slo: Slice, fromMs: number, toMs: number, stepMs: number): Promise<(SliTotals & { t: number })[]> {
  return sliRows(store, slo, fromMs, toMs, Math.max(60, Math.round(stepMs / 60_000) * 60));
}

async function sliRows(store: Store, slo: Slice, fromMs: number, toMs: number, stepSeconds?: number): Promise<(SliTotals & { t: number })[]> {
  const filters = ['minute >= toStartOfMinute(fromUnixTimestamp64Milli({from:Int64}))', 'minute < fromUnixTimestamp64Milli({to:Int64})'];
  if (slo.model !== '*') filters.push('model = {model:String}');
  if (slo.version) filters.push('version = {version:String}');
  // Mirrored canary answers are judged for the rollout, not for users: no user-facing SLO counts them.
  filters.push(slo.role ? 'role = {role:String}' : "role != 'mirror'");
  let query: string;
  if (slo.sli === 'availability') {
    query = `SELECT model, version, sum(errors) AS n_bad, sum(requests) AS n_total FROM ${TABLES.samplesRollup}`;
  } else if (slo.sli === 'latency') {
    // Requests slower than the threshold: total minus the histogram buckets at or under it.
    query = `SELECT model, version, sum(requests) AS n_total,
                    n_total - arraySum((k, v) -> if(k <= {threshold:UInt32}, v, 0), mapKeys(sumMap(latency_le)), mapValues(sumMap(latency_le))) AS n_bad
             FROM ${TABLES.samplesRollup}`;
  } else {
    filters.push('sli = {sli:String}');
    query = `SELECT model, version, sum(bad) AS n_bad, sum(good) + sum(bad) AS n_total FROM ${TABLES.sliRollup}`;
  }
  const bucket = stepSeconds ? 'toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({step:UInt32}))) * 1000' : '0';
  query = query.replace('SELECT model, version,', `SELECT ${bucket} AS t, model, version,`);
  const rs = await store.client.query({
    query: `${query} WHERE ${filters.join(' AND ')} GROUP BY t, model, version ORDER BY t, model, version`,
    query_params: { from: Math.trunc(fromMs), to: Math.trunc(toMs), model: slo.model, version: slo.version, role: slo.role, sli: slo.sli, threshold: slo.thresholdMs ?? 0, step: stepSeconds ?? 60 },
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  // Result names differ from the columns: an alias named like a column would shadow it inside sum().
  const rows = await rs.json<{ t: number; model: string; version: string; n_bad: number; n_total: number }>();
  return rows.map((r) => ({ t: Number(r.t), model: r.model, version: r.version, bad: Number(r.n_bad), total: Number(r.n_total) }));
}

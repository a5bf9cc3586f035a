// Debug dashboard (ClickHouse): the failing samples behind an SLO panel, a per-version breakdown, and
// mirrored baseline/canary pairs. Every table name comes from TABLES, every SLI from SLIS.
import { CustomVariableBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { SLIS } from '../src/evaluate/types.js';
import { TABLES } from '../src/store/tables.js';
import { ClickHouseQueryBuilder, inVar } from './lib/clickhouse.js';
import { CLICKHOUSE, DS_VAR, clickhouseDs } from './lib/datasources.js';
import { DASHBOARD_UIDS, dashboard, datasourceVariable, numberPanels } from './lib/panels.js';
import { VAR } from './lib/promql.js';

/** Filters by the dashboard's model and version variables (and sli where the table has it). */
const where = (time: string, opts: { sli?: boolean; prefix?: string } = {}) => {
  const p = opts.prefix ?? '';
  const conds = [`$__timeFilter(${p}${time})`, inVar(`${p}model`, VAR.model), inVar(`${p}version`, VAR.version)];
  if (opts.sli) conds.push(inVar(`${p}sli`, VAR.sli));
  return conds.join('\n  AND ');
};

const sql = (lines: string[]) => lines.join('\n');

export const DEBUG_QUERIES = {
  badOverTime: sql([
    `SELECT $__timeInterval(minute) AS time, concat(model, ' ', version, ' ', role, ' ', sli) AS series, sum(bad) AS bad`,
    `FROM ${TABLES.sliRollup}`,
    `WHERE ${where('minute', { sli: true })}`,
    'GROUP BY time, series',
    'ORDER BY time',
  ]),
  breakdown: sql([
    'SELECT model, version, role, sli, sum(good) AS good, sum(bad) AS bad, sum(unknown) AS unknown,',
    '  if(good + bad = 0, NULL, bad / (good + bad)) AS bad_ratio',
    `FROM ${TABLES.sliRollup}`,
    `WHERE ${where('minute', { sli: true })}`,
    'GROUP BY model, version, role, sli',
    'ORDER BY model, version, role, sli',
  ]),
  traffic: sql([
    'SELECT model, version, role, sum(requests) AS requests, sum(errors) AS errors_5xx, sum(client_errors) AS errors_4xx,',
    '  quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_ms)[2] AS p95_latency_ms',
    `FROM ${TABLES.samplesRollup}`,
    `WHERE ${where('minute')}`,
    'GROUP BY model, version, role',
    'ORDER BY model, version, role',
  ]),
  // One row per failing (sample, SLI); `verdicts` lists every SLI's effective verdict of that sample.
  failing: sql([
    'SELECT s.ts AS time, s.model AS model, s.version AS version, s.role AS role, f.sli AS sli, f.reason AS reason,',
    '  f.source AS source, f.evaluator AS evaluator, v.verdicts AS verdicts, s.prompt AS prompt, s.response AS answer, s.request_id AS request_id',
    'FROM',
    `  (SELECT request_id, sli, reason, source, evaluator FROM ${TABLES.effectiveVerdicts}`,
    `   WHERE verdict = 'bad' AND ${where('sample_ts', { sli: true })}) AS f`,
    'INNER JOIN',
    `  (SELECT request_id, ts, model, version, role, prompt, response FROM ${TABLES.samples}`,
    `   WHERE ${where('ts')}) AS s ON s.request_id = f.request_id`,
    'LEFT JOIN',
    `  (SELECT request_id, arrayStringConcat(groupArray(concat(sli, ': ', verdict, if(reason = '', '', concat(' (', reason, ')')))), '; ') AS verdicts`,
    `   FROM ${TABLES.effectiveVerdicts} WHERE $__timeFilter(sample_ts) GROUP BY request_id) AS v ON v.request_id = f.request_id`,
    'ORDER BY time DESC',
    'LIMIT 200',
  ]),
  // A mirrored sample (role 'mirror', meta mirror_of) is the canary's answer to a baseline prompt.
  mirrored: sql([
    'SELECT m.ts AS time, m.model AS model, b.version AS baseline, m.version AS canary, bv.sli AS sli,',
    '  bv.verdict AS baseline_verdict, mv.verdict AS canary_verdict, b.prompt AS prompt, b.response AS baseline_answer, m.response AS canary_answer,',
    '  b.request_id AS baseline_request_id, m.request_id AS mirror_request_id',
    'FROM',
    `  (SELECT request_id, ts, model, version, response, meta['mirror_of'] AS original FROM ${TABLES.samples}`,
    `   WHERE role = 'mirror' AND ${where('ts')}) AS m`,
    `INNER JOIN (SELECT request_id, version, prompt, response FROM ${TABLES.samples} WHERE $__timeFilter(ts)) AS b ON b.request_id = m.original`,
    `LEFT JOIN (SELECT request_id, sli, verdict FROM ${TABLES.effectiveVerdicts} WHERE $__timeFilter(sample_ts) AND ${inVar('sli', VAR.sli)}) AS bv ON bv.request_id = b.request_id`,
    `LEFT JOIN (SELECT request_id, sli, verdict FROM ${TABLES.effectiveVerdicts} WHERE $__timeFilter(sample_ts)) AS mv ON mv.request_id = m.request_id AND mv.sli = bv.sli`,
    'ORDER BY (bv.verdict != mv.verdict) DESC, time DESC',
    'LIMIT 200',
  ]),
} as const;

export const DEBUG_VARIABLE_QUERIES = {
  model: `SELECT DISTINCT model FROM ${TABLES.samplesRollup} WHERE $__timeFilter(minute) ORDER BY model`,
  version: `SELECT DISTINCT version FROM ${TABLES.samplesRollup} WHERE $__timeFilter(minute) AND ${inVar('model', VAR.model)} ORDER BY version`,
} as const;

function chVariable(name: string, query: string, label: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(clickhouseDs)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all' });
}

const table = (title: string, description: string, query: string, w: number, h: number) =>
  new TableBuilder().title(title).description(description).withTarget(new ClickHouseQueryBuilder(query, 'table').refId('A')).span(w).height(h);

export function debugDashboard() {
  const builder = dashboard(DASHBOARD_UIDS.debug, 'tunewatch: Debug', 'Failing samples with prompt, answer, verdicts and reasons, per version, with mirrored pairs (ClickHouse).');
  builder.withVariable(datasourceVariable(DS_VAR.clickhouse, CLICKHOUSE.type, CLICKHOUSE.uid, 'ClickHouse'));
  builder.withVariable(chVariable(VAR.model, DEBUG_VARIABLE_QUERIES.model, 'Model'));
  builder.withVariable(chVariable(VAR.version, DEBUG_VARIABLE_QUERIES.version, 'Version'));
  builder.withVariable(new CustomVariableBuilder(VAR.sli).label('SLI').values(SLIS.join(',')).multi(true).includeAll(true).current({ text: 'All', value: '$__all' }));
  builder.withRow(new RowBuilder('Per version'));
  builder.withPanel(
    new TimeseriesBuilder()
      .title('Failing verdicts')
      .description('Bad verdicts per interval by model, version, role and SLI.')
      .withTarget(new ClickHouseQueryBuilder(DEBUG_QUERIES.badOverTime, 'timeseries').refId('A'))
      .span(24)
      .height(8),
  );
  builder.withPanel(table('Verdicts by version', 'Good, bad and unknown effective verdicts per model, version, role and SLI.', DEBUG_QUERIES.breakdown, 12, 8));
  builder.withPanel(table('Traffic by version', 'Requests, errors and p95 latency per model, version and role.', DEBUG_QUERIES.traffic, 12, 8));
  builder.withRow(new RowBuilder('Samples'));
  builder.withPanel(table('Recent failing samples', 'Newest first; one row per failing SLI, with every verdict of the sample.', DEBUG_QUERIES.failing, 24, 12));
  builder.withPanel(table('Mirrored pairs', 'Baseline and canary answers to the same prompt; disagreements first.', DEBUG_QUERIES.mirrored, 24, 12));
  return numberPanels(builder.build());
}

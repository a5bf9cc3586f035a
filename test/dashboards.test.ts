// The committed dashboards/ are what `npm run dashboards` generates from tunewatch.example.yaml; every PromQL
// query parses, passes promtool and names only exported metrics and labels; every SQL query runs against the
// embedded ClickHouse with the real schema; the JSON validates against the SDK's dashboard JSON schema.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { stringify } from 'yaml';
import { createGenerator } from 'ts-json-schema-generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDashboards } from '../dashboards/build.js';
import { loadConfigFile } from '../src/config/load.js';
import { METRIC, createMetrics, latencyBucketsOf, setTokenPrices } from '../src/metrics/registry.js';
import { toSloModel } from '../src/slo/model.js';
import { buildRuleGroups } from '../src/slo/rules.js';
import { insertRows, openStore, type Store } from '../src/store/client.js';
import { migrate } from '../src/store/migrate.js';
import { TABLES } from '../src/store/tables.js';
import { expandSql, substitutePromql, splitLabelValues, targetsOf, unknownNames, type Target } from './dashboard-checks.js';
import { tempDir } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleConfig = join(root, 'tunewatch.example.yaml');
const REGENERATE = 'dashboards/ is stale: run `npm run dashboards` and commit the result';
const inCi = process.env.CI === 'true';
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const PROMTOOL_MISSING = 'promtool missing: apt-get install -y prometheus';

// The npm package of the SDK (0.0.21) does not ship its JSON schemas (the SDK's repository generates them
// from the same definitions as its TypeScript types): the schema is generated here from the installed
// SDK's own `Dashboard` type, so it is the schema of exactly the version the dashboards are built with.
const SDK_DASHBOARD_TYPES = join(root, 'node_modules/@grafana/grafana-foundation-sdk/dist/dashboard/types.gen.d.ts');
// A query's fields belong to its datasource plugin (Prometheus `expr`, ClickHouse `rawSql`): the SDK types it
// as an open `Dataquery`, and so does Grafana's own schema; everything else stays closed.
const OPEN_DEFINITIONS = ['Dataquery'];
function dashboardSchema() {
  const schema = createGenerator({ path: SDK_DASHBOARD_TYPES, type: 'Dashboard', skipTypeCheck: true }).createSchema('Dashboard');
  for (const name of OPEN_DEFINITIONS) {
    const def = schema.definitions?.[name];
    if (typeof def === 'object') def.additionalProperties = true;
  }
  return schema;
}
if (!hasPromtool && !inCi) console.warn(`skipping the promtool check: ${PROMTOOL_MISSING}`);

const config = loadConfigFile(exampleConfig);
const slos = config.slos.map(toSloModel);
let files: Record<string, string>;
let dashboards: Array<[string, Record<string, any>]>;
let targets: Target[];

beforeAll(async () => {
  files = await renderDashboards(exampleConfig);
  dashboards = Object.entries(files).filter(([f]) => f.endsWith('.json')).map(([f, text]) => [f, JSON.parse(text)]);
  targets = dashboards.flatMap(([f, d]) => targetsOf(f, d));
});

/** Every series the service exports (histograms as _bucket/_sum/_count) and every series the SLO rules record. */
function exportedSeries(): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  const { registry } = createMetrics(latencyBucketsOf(config));
  for (const m of registry.getMetricsAsArray() as unknown as Array<{ name: string; labelNames: string[]; constructor: { name: string } }>) {
    const labels = new Set(m.labelNames);
    if (m.constructor.name === 'Histogram') {
      series.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      series.set(`${m.name}_sum`, labels);
      series.set(`${m.name}_count`, labels);
    } else series.set(m.name, labels);
  }
  for (const group of buildRuleGroups(slos, config.alerting).groups) {
    for (const rule of group.rules) {
      if (!('record' in rule)) continue;
      // Rules aggregate by (model, version); vector() ones carry only their static labels.
      const labels = new Set([...Object.keys(rule.labels), ...(rule.expr.startsWith('vector(') ? [] : ['model', 'version'])]);
      const known = series.get(rule.record) ?? new Set<string>();
      for (const l of labels) known.add(l);
      series.set(rule.record, known);
    }
  }
  return series;
}

const promTargets = () => targets.filter((t) => t.datasource === 'prometheus' && t.expr);
const sqlTargets = () => targets.filter((t) => t.datasource === 'grafana-clickhouse-datasource');

describe('dashboards/ (generated from tunewatch.example.yaml)', () => {
  it('is up to date with the generator', () => {
    expect(Object.keys(files).sort()).toEqual([
      'provisioning/dashboards/tunewatch.yaml',
      'provisioning/datasources/tunewatch.yaml',
      'tunewatch-debug.json',
      'tunewatch-executive.json',
      'tunewatch-oncall.json',
    ]);
    for (const [rel, text] of Object.entries(files)) {
      const committed = join(root, 'dashboards', rel);
      expect(existsSync(committed), `${committed} is missing; ${REGENERATE}`).toBe(true);
      expect(readFileSync(committed, 'utf8'), `${rel} differs from the generator's output; ${REGENERATE}`).toBe(text);
    }
  });

  it('numbers panels uniquely and gives every target a datasource; ClickHouse targets carry pluginVersion', () => {
    for (const [f, d] of dashboards) {
      const ids: number[] = [];
      const walk = (p: any) => {
        ids.push(p.id);
        (p.panels ?? []).forEach(walk);
      };
      d.panels.forEach(walk);
      expect(new Set(ids).size, f).toBe(ids.length);
      expect(ids.every((id) => Number.isInteger(id) && id > 0), f).toBe(true);
    }
    expect(promTargets().length).toBeGreaterThan(20);
    expect(sqlTargets().length).toBeGreaterThan(4);
    for (const t of targets) expect(t.datasource, `${t.dashboard} / ${t.panel}`).toMatch(/^(prometheus|grafana-clickhouse-datasource)$/);
    for (const t of sqlTargets().filter((t) => !t.panel.startsWith('variable '))) expect(t.pluginVersion, `${t.dashboard} / ${t.panel}`).toMatch(/^4\./);
  });

  it('PromQL: every query parses and names only metrics and labels the registry exports or the SLO rules record', () => {
    const series = exportedSeries();
    const problems: string[] = [];
    for (const t of promTargets()) {
      const lv = splitLabelValues(t.expr!);
      const expr = substitutePromql(lv ? lv.selector : t.expr!);
      const found = unknownNames(expr, series);
      if (lv) {
        const metric = expr.split('{')[0];
        if (series.get(metric) && !series.get(metric)!.has(lv.label)) found.push(`${metric} has no label ${lv.label}`);
      }
      for (const p of found) problems.push(`${t.dashboard} / ${t.panel}: ${p}\n  ${expr}`);
    }
    expect(problems).toEqual([]);
  });

  it('the token price gauge the cost panels multiply by is set from the deployments\' price', async () => {
    const metrics = createMetrics([], { processMetrics: false });
    setTokenPrices(metrics, config.models);
    const text = await metrics.registry.getSingleMetricAsString(METRIC.tokenPrice);
    expect(text).toContain(`${METRIC.tokenPrice}{gen_ai_request_model="support-bot",tunewatch_model_version="v12",gen_ai_token_type="output"} 0.6`);
    expect(text).toContain(`${METRIC.tokenPrice}{gen_ai_request_model="support-bot",tunewatch_model_version="v13",gen_ai_token_type="input"} 0.2`);
  });

  it('the name check catches a misspelt metric or label', () => {
    const series = exportedSeries();
    expect(unknownNames('sum(rate(tunewatch_capture_rows_dropped_totl[5m]))', series)).toEqual(['unknown metric tunewatch_capture_rows_dropped_totl']);
    expect(unknownNames('sum by (gen_ai_request_model) (rate(gen_ai_server_request_duration_seconds_count{tunewatch_version="v1"}[5m]))', series)).toEqual([
      'gen_ai_server_request_duration_seconds_count has no label tunewatch_version',
    ]);
    expect(unknownNames('sum by (modell) (tunewatch_canary_weight)', series)).toEqual(['no selected metric has label modell (by/on)']);
    expect(unknownNames('sum(rate(x[5m])', series)[0]).toMatch(/syntax error/);
  });

  it.skipIf(!hasPromtool && !inCi)('PromQL: promtool check rules accepts every query as a recording rule', () => {
    if (!hasPromtool) throw new Error(PROMTOOL_MISSING);
    const rules = promTargets()
      .filter((t) => !splitLabelValues(t.expr!))
      .map((t, i) => ({ record: `tunewatch_dashboard:query_${i}`, expr: substitutePromql(t.expr!) }));
    const dir = tempDir('tunewatch-dashboards-');
    try {
      const file = join(dir, 'dashboard-queries.rules.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }, { lineWidth: 0 }));
      const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates against the SDK\'s dashboard JSON schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    const validate = ajv.compile(dashboardSchema());
    for (const [f, d] of dashboards) {
      const ok = validate(d);
      expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`), f).toEqual([]);
    }
    // …and the check can fail: an unknown dashboard field, a panel field of the wrong type.
    const [, first] = [...dashboards][0]!;
    expect(validate({ ...(first as object), refreshEvery: '5s' })).toBe(false);
    const panels = structuredClone((first as { panels: Record<string, unknown>[] }).panels);
    panels[0]!.gridPos = 'top-left';
    expect(validate({ ...(first as object), panels })).toBe(false);
  });
});

describe('dashboards/ SQL against the embedded ClickHouse', () => {
  let store: Store;
  const now = Date.now();
  const fromSec = Math.floor(now / 1000) - 3600;
  const toSec = Math.floor(now / 1000) + 3600;
  const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

  beforeAll(async () => {
    store = openStore({ path: tempDir(), retentionDays: 30 });
    await migrate(store);
    // A baseline sample that fails its instruction, and the canary's mirrored answer to the same prompt.
    const sample = { ts: ts(now - 60_000), model: 'support-bot', prompt: 'summarise', status_code: 200, latency_ms: 120 };
    await insertRows(store, TABLES.samples, [
      { ...sample, request_id: 'r1', version: 'v12', role: 'baseline', response: 'no bullets' },
      { ...sample, request_id: 'r1m', version: 'v13', role: 'mirror', response: '- item', meta: { mirror_of: 'r1' } },
    ]);
    const verdict = { ts: ts(now - 59_000), sample_ts: sample.ts, model: 'support-bot', sli: 'instruction_success', evaluator: 'spec', source: 'auto', source_rank: 1 };
    await insertRows(store, TABLES.evaluations, [
      { ...verdict, request_id: 'r1', version: 'v12', role: 'baseline', verdict: 'bad', reason: 'no bullets', delta_bad: 1 },
      { ...verdict, request_id: 'r1m', version: 'v13', role: 'mirror', verdict: 'good', reason: '', delta_good: 1 },
    ]);
  }, 120_000);
  afterAll(() => store?.close());

  const run = async (sql: string) => (await store.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  const cases: Array<[string, Record<string, 'All' | string[]>]> = [
    ['all', { model: 'All', version: 'All', sli: 'All' }],
    ['one model/version/sli', { model: ['support-bot'], version: ['v12', 'v13'], sli: ['instruction_success'] }],
  ];

  it('every query (panels and variables) runs with the macros expanded, for All and for chosen values', async () => {
    expect(sqlTargets().length).toBeGreaterThan(4);
    for (const t of sqlTargets()) {
      for (const [name, vars] of cases) {
        const sql = expandSql(t.rawSql!, vars, fromSec, toSec);
        expect(sql, `${t.panel}: unexpanded macro or variable`).not.toMatch(/\$/);
        await expect(run(sql), `${t.dashboard} / ${t.panel} (${name})\n${sql}`).resolves.toBeDefined();
      }
    }
  }, 120_000);

  it('the failing-samples and mirrored-pairs tables find the failing baseline sample and its mirror', async () => {
    const by = (title: string) => sqlTargets().find((t) => t.panel === title)!.rawSql!;
    const vars = cases[1][1];
    const failing = await run(expandSql(by('Recent failing samples'), vars, fromSec, toSec));
    expect(failing).toMatchObject([{ request_id: 'r1', version: 'v12', sli: 'instruction_success', reason: 'no bullets', prompt: 'summarise', answer: 'no bullets' }]);
    expect(failing[0].verdicts).toBe('instruction_success: bad (no bullets)');
    const pairs = await run(expandSql(by('Mirrored pairs'), vars, fromSec, toSec));
    expect(pairs).toMatchObject([{ baseline: 'v12', canary: 'v13', baseline_verdict: 'bad', canary_verdict: 'good', canary_answer: '- item' }]);
  }, 60_000);
});

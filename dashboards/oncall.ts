// On-call dashboard: latency, burn rates against the alert thresholds, safety, errors, canary, capture health.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { GraphThresholdsStyleConfigBuilder, GraphThresholdsStyleMode } from '@grafana/grafana-foundation-sdk/common';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { SLIS } from '../src/evaluate/types.js';
import { METRIC } from '../src/metrics/registry.js';
import { errorBudget } from '../src/slo/budget.js';
import { formatDuration, windowsOf, type SloModel } from '../src/slo/model.js';
import { errorRatioRecord } from '../src/slo/rules.js';
import { promVariables } from './executive.js';
import { DASHBOARD_UIDS, dashboard, debugLink, numberPanels, prom, refIds, thresholds } from './lib/panels.js';
import { REQ, REQ_SPLIT, SLI, SLI_SPLIT, VAR, byVar, eq, histogramQuantile, rate, re, reqLegend, requestRate, sel, sliFilter, sliLegend, sumBy } from './lib/promql.js';

const EVALUATOR_SLIS = new Set<string>(SLIS);

function quantilePanel(title: string, metric: string, split: readonly string[] = REQ_SPLIT, legend = reqLegend, matchers?: string[]): TimeseriesBuilder {
  const [a, b] = refIds(2);
  return new TimeseriesBuilder()
    .title(title)
    .withTarget(prom(histogramQuantile(0.95, metric, split, matchers), `p95 ${legend}`, a))
    .withTarget(prom(histogramQuantile(0.99, metric, split, matchers), `p99 ${legend}`, b))
    .unit('s')
    .span(8)
    .height(8);
}

/** Burn rate over each of the SLO's alert windows, with each alert's burn-rate threshold drawn as a line. */
function burnRatePanel(slo: SloModel): TimeseriesBuilder {
  const alertWindows = new Set(slo.alerts.flatMap((a) => [a.longMs, a.shortMs]));
  const windows = windowsOf(slo).filter((w) => alertWindows.has(w));
  const ids = refIds(windows.length);
  const rates = [...new Set(slo.alerts.map((a) => a.burnRate))].sort((x, y) => x - y);
  const severityOf = (r: number) => (slo.alerts.some((a) => a.burnRate === r && a.severity === 'page') ? 'red' : 'orange');
  const panel = new TimeseriesBuilder()
    .title(`Burn rate: ${slo.name}`)
    .description(`${slo.sli} error ratio over each alert window divided by the error budget (${errorBudget(slo.objective)}). Lines: ${slo.alerts.map((a) => `${a.severity} at ${a.burnRate}x over ${a.label}`).join('; ')}. Click a series for failing samples.`)
    .thresholds(thresholds([{ value: null, color: 'green' }, ...rates.map((r) => ({ value: r, color: severityOf(r) }))]))
    .thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed))
    .dataLinks([debugLink(DASHBOARD_UIDS.debug, EVALUATOR_SLIS.has(slo.sli) ? slo.sli : undefined, { model: SLI.model, version: SLI.version })])
    .span(12)
    .height(8);
  windows.forEach((w, i) => {
    const ratio = sel(errorRatioRecord(w), [eq(SLI.slo, slo.name), ...sliFilter()]);
    panel.withTarget(prom(`${ratio} / ${errorBudget(slo.objective)}`, `${formatDuration(w)} {{${SLI.model}}} {{${SLI.version}}}`, ids[i]));
  });
  return panel;
}

function safetyPanel(): TimeseriesBuilder {
  const m = [...sliFilter(), eq(SLI.sli, 'safe_response')];
  const hits = sumBy(SLI_SPLIT, rate(sel(METRIC.sliEvents, [...m, eq(SLI.outcome, 'bad')])));
  const all = sumBy(SLI_SPLIT, rate(sel(METRIC.sliEvents, m)));
  return new TimeseriesBuilder()
    .title('Safety hits per 1k responses')
    .description('Unsafe verdicts per 1000 responses checked for safety.')
    .withTarget(prom(`1000 * ${hits}\n/\n${all}`, sliLegend, 'A'))
    .unit('short')
    .span(12)
    .height(8);
}

function errorsPanel(): TimeseriesBuilder {
  return new TimeseriesBuilder()
    .title('Errors by status class')
    .withTarget(prom(requestRate([...REQ_SPLIT, REQ.statusClass], [re(REQ.statusClass, '4xx|5xx')]), `${reqLegend} {{${REQ.statusClass}}}`, 'A'))
    .unit('reqps')
    .span(12)
    .height(8);
}

function canaryPanels(): TimeseriesBuilder[] {
  const byModel = [byVar(SLI.model, VAR.model)];
  const [a, b] = refIds(2);
  return [
    new TimeseriesBuilder()
      .title('Canary weight')
      .description('Share of traffic each version gets from its rollout.')
      .withTarget(prom(sel(METRIC.canaryWeight, sliFilter()), `{{${SLI.model}}} {{${SLI.version}}}`, a))
      .unit('percent')
      .span(8)
      .height(8),
    new TimeseriesBuilder()
      .title('Canary score')
      .description('Score (0-100) of the latest canary analysis.')
      .withTarget(prom(sel(METRIC.canaryScore, byModel), `{{${SLI.model}}}`, a))
      .min(0)
      .max(100)
      .span(8)
      .height(8),
    new TimeseriesBuilder()
      .title('Canary discrepancy')
      .description('Baseline good ratio minus canary good ratio (positive: the canary is worse), and the share of mirrored prompts whose verdicts differ.')
      .withTarget(prom(sel(METRIC.canaryDiscrepancy, byModel), `discrepancy {{${SLI.model}}} {{${SLI.sli}}}`, a))
      .withTarget(prom(sel(METRIC.canaryPairDisagreement, byModel), `pair disagreement {{${SLI.model}}} {{${SLI.sli}}}`, b))
      .unit('percentunit')
      .span(8)
      .height(8),
  ];
}

function capturePanels(): TimeseriesBuilder[] {
  const rows: Array<[string, string]> = [
    ['written', METRIC.captureRowsWritten],
    ['spilled', METRIC.captureRowsSpilled],
    ['replayed', METRIC.captureRowsReplayed],
    ['dropped', METRIC.captureRowsDropped],
    ['quarantined', METRIC.captureRowsQuarantined],
    ['shed', METRIC.captureRowsShed],
    ['insert failures', METRIC.captureInsertFailures],
  ];
  const ids = refIds(rows.length);
  const flow = new TimeseriesBuilder()
    .title('Capture: rows written, spilled, dropped')
    .description('Samples per second through the capture pipeline; dropped and quarantined samples are lost to the store.')
    .unit('short')
    .span(12)
    .height(8);
  rows.forEach(([name, metric], i) => flow.withTarget(prom(`sum(${rate(metric)})`, name, ids[i])));
  // Separate panels rather than a unit override: the SDK's JSON schema types override values as objects.
  return [
    new TimeseriesBuilder().title('Capture: queue depth').description('Samples waiting in memory for insert.').withTarget(prom(METRIC.captureQueueDepth, 'queue depth', 'A')).unit('short').span(6).height(8),
    new TimeseriesBuilder().title('Capture: spill log').description('Bytes in the on-disk spill log awaiting replay.').withTarget(prom(METRIC.captureSpillBytes, 'spill log', 'A')).unit('bytes').span(6).height(8),
    flow,
  ];
}

export function oncallDashboard(slos: SloModel[]) {
  const builder = dashboard(DASHBOARD_UIDS.oncall, 'tunewatch: On-call', 'Latency, SLO burn rates against the alert thresholds, safety, errors, canary and capture health.');
  for (const v of promVariables()) builder.withVariable(v);
  builder.withRow(new RowBuilder('Latency'));
  builder.withPanel(quantilePanel('Request latency', METRIC.requestDuration));
  builder.withPanel(quantilePanel('Time to first token', METRIC.timeToFirstToken));
  // The overhead histogram is labelled by model only: the proxy costs the same whichever version answers.
  builder.withPanel(quantilePanel('Proxy overhead', METRIC.proxyOverhead, [REQ.model], `{{${REQ.model}}}`, [byVar(REQ.model, VAR.model)]));
  builder.withRow(new RowBuilder('SLO burn rates'));
  for (const slo of slos) builder.withPanel(burnRatePanel(slo));
  builder.withRow(new RowBuilder('Safety and errors'));
  builder.withPanel(safetyPanel());
  builder.withPanel(errorsPanel());
  builder.withRow(new RowBuilder('Canary'));
  for (const p of canaryPanels()) builder.withPanel(p);
  builder.withRow(new RowBuilder('Capture pipeline'));
  for (const p of capturePanels()) builder.withPanel(p);
  return numberPanels(builder.build());
}

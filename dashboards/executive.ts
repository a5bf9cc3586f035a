// Executive dashboard: quality against objectives, error budgets with their burn-down, traffic and cost.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { SLIS, type Sli } from '../src/evaluate/types.js';
import { METRIC } from '../src/metrics/registry.js';
import { errorBudget } from '../src/slo/budget.js';
import { formatDuration, windowsOf, type SloModel } from '../src/slo/model.js';
import { BUDGET_REMAINING_RECORD, OBJECTIVE_RECORD, errorRatioRecord } from '../src/slo/rules.js';
import { DS_VAR, PROMETHEUS } from './lib/datasources.js';
import { DASHBOARD_UIDS, dashboard, datasourceVariable, debugLink, labelVariable, numberPanels, prom, refIds, thresholds } from './lib/panels.js';
import { FROM_SECONDS, REQ, REQ_SPLIT, SLI, VAR, costRate, eq, requestRate, reqLegend, sel, sliFilter, sliLegend, sliRatio, tokenRate } from './lib/promql.js';

/** How each SLI is charted: instruction success and safety as a good ratio, hallucinations as a bad ratio. */
const SLI_CHART: Record<Sli, { title: string; outcome: 'good' | 'bad' }> = {
  instruction_success: { title: 'Instruction success', outcome: 'good' },
  safe_response: { title: 'Safe-response ratio', outcome: 'good' },
  hallucination_free: { title: 'Hallucination rate', outcome: 'bad' },
};

/** Request-metric variables shared by the Prometheus dashboards. */
export function promVariables() {
  const requests = `${METRIC.requestDuration}_count`;
  return [
    datasourceVariable(DS_VAR.prometheus, PROMETHEUS.type, PROMETHEUS.uid, 'Prometheus'),
    labelVariable(VAR.model, REQ.model, requests, 'Model'),
    labelVariable(VAR.version, REQ.version, sel(requests, [`${REQ.model}=~"$${VAR.model}"`]), 'Version'),
  ];
}

function sliPanel(sli: Sli): TimeseriesBuilder {
  const { title, outcome } = SLI_CHART[sli];
  const objective = sel(OBJECTIVE_RECORD, [eq(SLI.sli, sli)]);
  // A bad-ratio chart draws its objective as the allowed bad share.
  const objectiveExpr = outcome === 'good' ? objective : `1 - ${objective}`;
  const [a, b] = refIds(2);
  return new TimeseriesBuilder()
    .title(title)
    .description(`${title} per model, version and role (mirrored canary answers show as role mirror), against the objective of each SLO on ${sli}. Click a series for its failing samples.`)
    .withTarget(prom(sliRatio(sli, outcome), sliLegend, a))
    .withTarget(prom(objectiveExpr, `objective {{${SLI.slo}}}`, b))
    .unit('percentunit')
    .max(1)
    .dataLinks([debugLink(DASHBOARD_UIDS.debug, sli, { model: SLI.model, version: SLI.version })])
    .span(8)
    .height(8);
}

/**
 * Budget consumed since the dashboard's start: the short-window error ratio summed over the elapsed
 * steps (uniform traffic assumed, as Sloth does), as a share of the budget for the SLO's whole window.
 * The ideal line spends the budget evenly over one window from the dashboard's start.
 */
function burnDownExpr(slo: SloModel): string {
  const stepMs = windowsOf(slo)[0];
  const since = `vector(time()) >= ${FROM_SECONDS}`;
  const ratio = sel(errorRatioRecord(stepMs), [eq(SLI.slo, slo.name), ...sliFilter()]);
  const consumed = `sum_over_time((${ratio} and on () (${since}))[${formatDuration(slo.windowMs)}:${formatDuration(stepMs)}])`;
  return `1 - ${consumed} * ${stepMs / 1000} / (${errorBudget(slo.objective)} * ${slo.windowMs / 1000})`;
}

const idealExpr = (windowMs: number) => `clamp_min(vector(1 - (time() - ${FROM_SECONDS}) / ${windowMs / 1000}), 0)`;

function burnDownPanel(slos: SloModel[]): TimeseriesBuilder {
  const windows = [...new Set(slos.map((s) => s.windowMs))].sort((x, y) => x - y);
  const ids = refIds(slos.length + windows.length);
  const panel = new TimeseriesBuilder()
    .title('Error budget burn-down')
    .description('Share of each SLO\'s error budget left since the start of the time range (set it to the SLO window), against the ideal line that spends the budget evenly over the window.')
    .unit('percentunit')
    .span(16)
    .height(8);
  slos.forEach((slo, i) => panel.withTarget(prom(burnDownExpr(slo), `${slo.name} {{${SLI.model}}} {{${SLI.version}}}`, ids[i])));
  windows.forEach((w, i) => panel.withTarget(prom(idealExpr(w), `ideal (${formatDuration(w)} window)`, ids[slos.length + i])));
  return panel;
}

function budgetPanel(): StatBuilder {
  return new StatBuilder()
    .title('Error budget remaining')
    .description('Per SLO, model and version, over the SLO window (recorded by the generated rules in alerts/).')
    .withTarget(prom(sel(BUDGET_REMAINING_RECORD, sliFilter()), `{{${SLI.slo}}} {{${SLI.model}}} {{${SLI.version}}}`, 'A', true))
    .unit('percentunit')
    .thresholds(thresholds([{ value: null, color: 'red' }, { value: 0.25, color: 'orange' }, { value: 0.5, color: 'green' }]))
    .span(8)
    .height(8);
}

export function executiveDashboard(slos: SloModel[]) {
  const [a, b] = refIds(2);
  const builder = dashboard(DASHBOARD_UIDS.executive, 'tunewatch: Executive', 'Quality, error budgets, traffic and cost per model and version.');
  for (const v of promVariables()) builder.withVariable(v);
  builder.withRow(new RowBuilder('Quality against objectives'));
  for (const sli of SLIS) builder.withPanel(sliPanel(sli));
  builder.withRow(new RowBuilder('Error budgets'));
  builder.withPanel(budgetPanel());
  builder.withPanel(burnDownPanel(slos));
  builder.withRow(new RowBuilder('Traffic and cost'));
  builder.withPanel(
    new TimeseriesBuilder()
      .title('Requests')
      .withTarget(prom(requestRate(REQ_SPLIT), reqLegend, a))
      .unit('reqps')
      .span(6)
      .height(8),
  );
  builder.withPanel(
    new TimeseriesBuilder()
      .title('Tokens')
      .description('Input and output tokens per second.')
      .withTarget(prom(tokenRate([...REQ_SPLIT, REQ.tokenType]), `${reqLegend} {{${REQ.tokenType}}}`, a))
      .unit('short')
      .span(6)
      .height(8),
  );
  builder.withPanel(
    new TimeseriesBuilder()
      .title('Cost per 1M tokens')
      .description('Blended USD per 1M tokens, from the deployments\' price in the config (tunewatch_token_price_usd_per_1m). Deployments without a price show nothing.')
      .withTarget(prom(`1e6 * (${costRate()})\n/\n${tokenRate(REQ_SPLIT)}`, reqLegend, a))
      .unit('currencyUSD')
      .span(6)
      .height(8),
  );
  builder.withPanel(
    new TimeseriesBuilder()
      .title('Spend per hour')
      .withTarget(prom(`3600 * (${costRate()})`, reqLegend, b))
      .unit('currencyUSD')
      .span(6)
      .height(8),
  );
  return numberPanels(builder.build());
}


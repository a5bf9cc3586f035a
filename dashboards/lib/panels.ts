// Shared panel, variable and link helpers, and the post-build pass that makes the JSON deterministic.
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import { DashboardCursorSync, DashboardLinkBuilder, DatasourceVariableBuilder, QueryVariableBuilder, ThresholdsConfigBuilder, ThresholdsMode, VariableRefresh, VariableSort, type Dashboard, type Panel, type RowPanel, type Threshold } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { promDs } from './datasources.js';

export const DASHBOARD_UIDS = { executive: 'tunewatch-executive', oncall: 'tunewatch-oncall', debug: 'tunewatch-debug' } as const;
export const TAG = 'tunewatch';

export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([TAG])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser');
}

/** A Prometheus target; refIds are assigned in order by the caller. */
export function prom(expr: string, legend: string, refId: string, instant = false): DataqueryBuilder {
  const b = new DataqueryBuilder().datasource(promDs).expr(expr).legendFormat(legend).refId(refId);
  return instant ? b.instant() : b.range();
}

export const refIds = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i));

/** Prometheus label_values() variable, multi-select with All as `.*` (the queries match it as a regex). */
export function labelVariable(name: string, label: string, metricSelector: string, title: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(title)
    .datasource(promDs)
    // The plain-string form: the schema types an object query's values as objects, and Grafana migrates strings.
    .query(`label_values(${metricSelector}, ${label})`)
    .definition(`label_values(${metricSelector}, ${label})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

export function datasourceVariable(name: string, type: string, uid: string, title: string): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder(name).label(title).type(type).current({ text: uid, value: uid });
}

export function thresholds(steps: Threshold[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

/**
 * The drill-down from an SLO panel to the Debug dashboard's failing samples: the series' model and
 * version (from its labels) and the SLI become the Debug dashboard's variables.
 */
export function debugLink(debugUid: string, sli: string | undefined, labels: { model: string; version: string }): Builder<import('@grafana/grafana-foundation-sdk/dashboard').DashboardLink> {
  const sliValue = sli ?? '$__all';
  return new DashboardLinkBuilder('Failing samples')
    .url(`/d/${debugUid}?var-model=\${__field.labels.${labels.model}}&var-version=\${__field.labels.${labels.version}}&var-sli=${sliValue}&\${__url_time_range}`)
    .targetBlank(false)
    .tooltip('Failing samples of this model and version in the Debug dashboard');
}

/**
 * Rows get id 0 and panels none from the SDK: number every panel (rows and their panels) in order after
 * build(), so regenerating gives the same JSON.
 */
export function numberPanels(d: Dashboard): Dashboard {
  let id = 1;
  for (const p of (d.panels ?? []) as Array<Panel | RowPanel>) {
    p.id = id++;
    if (p.type === 'row') for (const inner of (p as RowPanel).panels) inner.id = id++;
  }
  return d;
}

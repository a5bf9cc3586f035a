import type { AlertingConfig } from '../config/schema.js';
import type { AlertWindow, SloModel } from './model.js';

// What an SLO alert says, defined once for both paths: the generated Prometheus rules pass template
// placeholders ({{ $labels.version }}, {{ $value }}), the built-in engine passes the actual values.

export const ALERT_NAME = 'TunewatchSLOErrorBudgetBurn';

export interface AlertValues {
  model: string;
  version: string;
  /** Burn rate over the long window, already formatted ("14.4" or a template). */
  burnRate: string;
  /** Share of the error budget left, already formatted ("37%" or a template). */
  budgetLeft: string;
}

export function alertLabels(slo: SloModel, alert: AlertWindow, model: string, version: string): Record<string, string> {
  return { ...slo.labels, alertname: ALERT_NAME, slo: slo.name, sli: slo.sli, model, version, severity: alert.severity, window: alert.label };
}

/** The failing samples for this SLO and version, in the admin API's debug view. */
export function samplesLink(slo: SloModel, model: string, version: string, externalUrl: string | undefined): string {
  const filter =
    slo.sli === 'availability' ? 'min_status=500' : slo.sli === 'latency' ? `min_latency_ms=${slo.thresholdMs}` : `sli=${slo.sli}&verdict=bad`;
  return `${externalUrl ?? 'http://127.0.0.1:8080'}/api/samples?model=${model}&version=${version}&${filter}`;
}

export function alertAnnotations(slo: SloModel, alert: AlertWindow, v: AlertValues, alerting: Pick<AlertingConfig, 'dashboardUrl' | 'externalUrl'>): Record<string, string> {
  const target = `${(slo.objective * 100).toPrecision(4).replace(/\.?0+$/, '')}%`;
  const annotations: Record<string, string> = {
    summary: `SLO ${slo.name} (${slo.sli} ≥ ${target}) on ${v.model} ${v.version}: error budget burning at ${v.burnRate}x over ${alert.label} (threshold ${alert.burnRate}x), ${v.budgetLeft} of the budget left`,
    description: slo.description || `${slo.sli} for model ${v.model}, version ${v.version}`,
    samples: samplesLink(slo, v.model, v.version, alerting.externalUrl),
  };
  if (slo.runbook) annotations.runbook_url = slo.runbook;
  if (alerting.dashboardUrl) annotations.dashboard = `${alerting.dashboardUrl}?var-model=${v.model}&var-version=${v.version}`;
  return annotations;
}

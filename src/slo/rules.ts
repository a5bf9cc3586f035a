// Prometheus recording and alerting rules for the configured SLOs: the same multi-window burn-rate
// conditions, thresholds, labels and annotations as the built-in engine, for teams alerting from Prometheus.
// Pure: the CLI (src/cli/alerts.ts) reads the config and writes the files.
import { stringify } from 'yaml';
import { METRIC } from '../metrics/registry.js';
import { ALERT_NAME, alertAnnotations, alertLabels } from './alert-content.js';
import { errorBudget, thresholdRatio } from './budget.js';
import { formatDuration, windowsOf, type AlertWindow, type SloModel } from './model.js';

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export interface RuleAlerting {
  dashboardUrl?: string;
  externalUrl?: string;
}

export const ERROR_RATIO_RECORD = 'tunewatch:slo_error_ratio';
export const BUDGET_REMAINING_RECORD = 'tunewatch:slo_error_budget_remaining:ratio';
export const OBJECTIVE_RECORD = 'tunewatch:slo_objective:ratio';

/** "tunewatch:slo_error_ratio:rate5m" */
export const errorRatioRecord = (windowMs: number) => `${ERROR_RATIO_RECORD}:rate${formatDuration(windowMs)}`;

/** Template placeholders the generated alerts pass to alertAnnotations: Prometheus fills them per alert. */
export const TEMPLATE_VALUES = {
  model: '{{ $labels.model }}',
  version: '{{ $labels.version }}',
  burnRate: '{{ printf "%.1f" $value }}',
  budgetLeft:
    `{{ with printf "${BUDGET_REMAINING_RECORD}{slo=%q,model=%q,version=%q}" $labels.slo $labels.model $labels.version | query }}` +
    '{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }}',
};

/** A PromQL string literal (JSON's escaping is valid PromQL for label values). */
const q = (value: string) => JSON.stringify(value);
const selector = (metric: string, matchers: string[]) => `${metric}{${matchers.join(',')}}`;

/** The `le` of the latency bucket, as prom-client prints it (0.8); Prometheus 3 may store integers as "1.0". */
export function latencyLe(thresholdMs: number): string {
  const seconds = String(thresholdMs / 1000);
  return /^\d+$/.test(seconds) ? `le=~"${seconds}(\\\\.0)?"` : `le=${q(seconds)}`;
}

const EVALUATOR_SLIS = new Set(['instruction_success', 'safe_response', 'hallucination_free']);

/** rate(...) summed by (model, version), histogram label names copied to those names. */
function rateByModelVersion(sel: string, window: string, histogram: boolean): string {
  const rate = `rate(${sel}[${window}])`;
  if (!histogram) return `sum by (model, version) (${rate})`;
  const relabelled = `label_replace(label_replace(${rate}, "model", "$1", "gen_ai_request_model", "(.*)"), "version", "$1", "tunewatch_model_version", "(.*)")`;
  return `sum by (model, version) (${relabelled})`;
}

/** bad / total; pairs with traffic but no bad events record 0 rather than nothing. */
function ratio(bad: string, total: string): string {
  return `(\n  ${bad}\n  or\n  0 * ${total}\n)\n/\n${total}`;
}

/**
 * The SLO's error ratio over one window, by (model, version), rounded to 12 decimals like the engine's
 * round12: rate arithmetic leaves binary noise (0.049999999999999996), which would keep an error ratio of
 * exactly the threshold from firing.
 */
export function errorRatioExpr(slo: SloModel, windowMs: number): string {
  return `round(\n${indent(rawErrorRatioExpr(slo, windowMs))},\n  1e-12\n)`;
}

const indent = (text: string) => text.replace(/^/gm, '  ');

function rawErrorRatioExpr(slo: SloModel, windowMs: number): string {
  const w = formatDuration(windowMs);
  if (EVALUATOR_SLIS.has(slo.sli)) {
    const m = [`sli=${q(slo.sli)}`];
    if (slo.model !== '*') m.push(`model=${q(slo.model)}`);
    if (slo.version) m.push(`version=${q(slo.version)}`);
    // Mirrored canary answers are judged for the rollout, not for users: no user-facing SLO counts them.
    m.push(slo.role ? `role=${q(slo.role)}` : 'role!="mirror"');
    const bad = rateByModelVersion(selector(METRIC.sliEvents, [...m, 'outcome="bad"']), w, false);
    const total = rateByModelVersion(selector(METRIC.sliEvents, [...m, 'outcome=~"good|bad"']), w, false);
    return ratio(bad, total);
  }
  const m: string[] = [];
  if (slo.model !== '*') m.push(`gen_ai_request_model=${q(slo.model)}`);
  if (slo.version) m.push(`tunewatch_model_version=${q(slo.version)}`);
  if (slo.role) m.push(`tunewatch_role=${q(slo.role)}`);
  const total = rateByModelVersion(selector(`${METRIC.requestDuration}_count`, m), w, true);
  if (slo.sli === 'availability') {
    return ratio(rateByModelVersion(selector(`${METRIC.requestDuration}_count`, [...m, 'status_class="5xx"']), w, true), total);
  }
  if (slo.sli === 'latency') {
    if (slo.thresholdMs === undefined) throw new Error(`SLO ${slo.name}: the latency SLI needs thresholdMs`);
    const good = rateByModelVersion(selector(`${METRIC.requestDuration}_bucket`, [...m, latencyLe(slo.thresholdMs)]), w, true);
    return `1 - (\n  ${good}\n  /\n  ${total}\n)`;
  }
  throw new Error(`SLO ${slo.name}: no Prometheus rule for SLI ${slo.sli}`);
}

/** Both windows at or above the threshold; the value is the burn rate over the long window. */
export function alertExpr(slo: SloModel, alert: AlertWindow): string {
  const threshold = thresholdRatio(alert.burnRate, slo.objective);
  const sel = `{slo=${q(slo.name)}}`;
  return (
    `(${errorRatioRecord(alert.longMs)}${sel} >= ${threshold}) / ${errorBudget(slo.objective)}\n` +
    `and\n` +
    `${errorRatioRecord(alert.shortMs)}${sel} >= ${threshold}`
  );
}

/** alertLabels without what Prometheus supplies: alertname, and model/version from the series. */
export function staticAlertLabels(slo: SloModel, alert: AlertWindow): Record<string, string> {
  const { alertname: _n, model: _m, version: _v, ...labels } = alertLabels(slo, alert, '', '');
  return labels;
}

export function buildSloGroup(slo: SloModel, alerting: RuleAlerting): RuleGroup {
  const sloLabels = { slo: slo.name, sli: slo.sli };
  const rules: Rule[] = windowsOf(slo).map((ms) => ({ record: errorRatioRecord(ms), expr: errorRatioExpr(slo, ms), labels: { ...sloLabels } }));
  rules.push({
    record: BUDGET_REMAINING_RECORD,
    expr: `1 - ${errorRatioRecord(slo.windowMs)}{slo=${q(slo.name)}} / ${errorBudget(slo.objective)}`,
    labels: { ...sloLabels },
  });
  rules.push({ record: OBJECTIVE_RECORD, expr: `vector(${slo.objective})`, labels: { ...sloLabels } });
  for (const alert of slo.alerts) {
    rules.push({
      alert: ALERT_NAME,
      expr: alertExpr(slo, alert),
      labels: staticAlertLabels(slo, alert),
      annotations: alertAnnotations(slo, alert, TEMPLATE_VALUES, alerting),
    });
  }
  return { name: `tunewatch-slo-${slo.name}`, rules };
}

export function buildRuleGroups(slos: SloModel[], alerting: RuleAlerting): { groups: RuleGroup[] } {
  return { groups: slos.map((slo) => buildSloGroup(slo, alerting)) };
}

const header = (source: string, what: string) => `# ${what} generated by \`tunewatch alerts build\` from ${source} — do not edit.\n`;

/** The rule file: one group per SLO, as Prometheus' rule_files and `promtool check rules` read it. */
export function renderRules(slos: SloModel[], alerting: RuleAlerting, source: string): string {
  const body = stringify(buildRuleGroups(slos, alerting), { lineWidth: 0, blockQuote: 'literal' });
  return `${header(source, 'Prometheus SLO rules')}# Regenerate: npx tunewatch alerts build --config ${source}\n\n${body}`;
}

/** An Alertmanager config that routes pages and tickets apart and lets a page silence the matching ticket. */
export function renderAlertmanagerExample(): string {
  const alertname = `alertname=${q(ALERT_NAME)}`;
  const config = {
    route: {
      receiver: 'ticket',
      group_by: ['alertname', 'slo', 'model'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { matchers: [alertname, 'severity="page"'], receiver: 'pager', group_wait: '10s', repeat_interval: '1h' },
        { matchers: [alertname, 'severity="ticket"'], receiver: 'ticket', group_wait: '5m', repeat_interval: '24h' },
      ],
    },
    receivers: [
      { name: 'pager', webhook_configs: [{ url: 'http://127.0.0.1:9099/page', send_resolved: true }] },
      { name: 'ticket', webhook_configs: [{ url: 'http://127.0.0.1:9099/ticket', send_resolved: true }] },
    ],
    inhibit_rules: [
      {
        source_matchers: [alertname, 'severity="page"'],
        target_matchers: [alertname, 'severity="ticket"'],
        equal: ['slo', 'model', 'version'],
      },
    ],
  };
  return (
    '# Example Alertmanager config for the tunewatch SLO alerts; generated by `tunewatch alerts build` — copy and adapt.\n' +
    '# Pages go to the pager, tickets to the ticket queue; a page silences the ticket for the same SLO, model and version.\n\n' +
    stringify(config, { lineWidth: 0 })
  );
}

// PromQL built from the registry's metric and label names: a renamed metric or label changes every
// dashboard query with it, and dashboards.test.ts fails on any name the registry does not export.
import { METRIC, REQUEST_LABELS, TOKEN_TYPE_LABEL } from '../../src/metrics/registry.js';

const [MODEL, VERSION, ROLE, STATUS_CLASS] = REQUEST_LABELS;
/** The request metrics' labels (OpenTelemetry GenAI names). */
export const REQ = { model: MODEL, version: VERSION, role: ROLE, statusClass: STATUS_CLASS, tokenType: TOKEN_TYPE_LABEL } as const;
/** The SLI event counter's, canary gauges' and recorded SLO series' labels. */
export const SLI = { model: 'model', version: 'version', role: 'role', sli: 'sli', outcome: 'outcome', slo: 'slo' } as const;

/** Dashboard variables; their values are regexes (All is `.*`). */
export const VAR = { model: 'model', version: 'version', sli: 'sli' } as const;

/** A PromQL string literal (JSON's escaping is valid PromQL). */
export const q = (value: string) => JSON.stringify(value);
export const eq = (label: string, value: string) => `${label}=${q(value)}`;
export const re = (label: string, regex: string) => `${label}=~${q(regex)}`;
export const byVar = (label: string, variable: string) => re(label, `$${variable}`);
export const sel = (metric: string, matchers: string[] = []) => (matchers.length ? `${metric}{${matchers.join(',')}}` : metric);

export const RATE_INTERVAL = '$__rate_interval';
export const rate = (selector: string, window = RATE_INTERVAL) => `rate(${selector}[${window}])`;
export const sumBy = (labels: readonly string[], expr: string) => `sum by (${labels.join(', ')}) (${expr})`;

/** Request metrics filtered by the model and version variables. */
export const reqFilter = () => [byVar(REQ.model, VAR.model), byVar(REQ.version, VAR.version)];
/** SLI events, canary gauges and recorded series filtered likewise. */
export const sliFilter = () => [byVar(SLI.model, VAR.model), byVar(SLI.version, VAR.version)];

/** Every chart splits by model, version and role, so baseline, canary and mirror share it. */
export const REQ_SPLIT = [REQ.model, REQ.version, REQ.role] as const;
export const SLI_SPLIT = [SLI.model, SLI.version, SLI.role] as const;
export const reqLegend = `{{${REQ.model}}} {{${REQ.version}}} {{${REQ.role}}}`;
export const sliLegend = `{{${SLI.model}}} {{${SLI.version}}} {{${SLI.role}}}`;

export function histogramQuantile(quantile: number, metric: string, split: readonly string[] = REQ_SPLIT, matchers = reqFilter()): string {
  return `histogram_quantile(${quantile}, ${sumBy(['le', ...split], rate(sel(`${metric}_bucket`, matchers)))})`;
}

/** Share of an SLI's judged events (good or bad; unknown is neither) with the outcome, by model/version/role. */
export function sliRatio(sli: string, outcome: 'good' | 'bad'): string {
  const m = [...sliFilter(), eq(SLI.sli, sli)];
  return `${sumBy(SLI_SPLIT, rate(sel(METRIC.sliEvents, [...m, eq(SLI.outcome, outcome)])))}\n/\n${sumBy(SLI_SPLIT, rate(sel(METRIC.sliEvents, [...m, re(SLI.outcome, 'good|bad')])))}`;
}

/** Requests per second (the duration histogram's count), optionally narrowed by more matchers. */
export const requestRate = (split: readonly string[], matchers: string[] = []) => sumBy(split, rate(sel(`${METRIC.requestDuration}_count`, [...reqFilter(), ...matchers])));

/** Tokens per second by model/version/role and token type. */
export const tokenRate = (split: readonly string[]) => sumBy(split, rate(sel(`${METRIC.tokenUsage}_sum`, reqFilter())));

/** USD per second: each token type's rate times its configured price (tunewatch_token_price_usd_per_1m). */
export function costRate(): string {
  const tokens = rate(sel(`${METRIC.tokenUsage}_sum`, reqFilter()));
  const price = sel(METRIC.tokenPrice, reqFilter());
  return `${sumBy(REQ_SPLIT, `${tokens}\n  * on (${REQ.model}, ${REQ.version}, ${REQ.tokenType}) group_left ()\n  ${price}`)} / 1e6`;
}

/** Grafana's dashboard start time in Unix seconds (the burn-down's origin). */
export const FROM_SECONDS = '${__from:date:seconds}';

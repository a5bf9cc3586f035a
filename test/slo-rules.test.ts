import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { SloConfig } from '../src/config/schema.js';
import { alertAnnotations, alertLabels, ALERT_NAME } from '../src/slo/alert-content.js';
import { budgetRemaining, burnRate, errorBudget, errorRatio, isBurning, thresholdRatio } from '../src/slo/budget.js';
import { defaultPolicy, formatDuration, toSloModel, windowsOf } from '../src/slo/model.js';
import { buildRuleGroups, latencyLe, renderAlertmanagerExample, renderRules, TEMPLATE_VALUES, type AlertingRule, type RecordingRule } from '../src/slo/rules.js';

const DAY = 86_400_000;
const slo = (over: Partial<SloConfig>) =>
  toSloModel({ name: 'bot-instructions', description: '', model: 'support-bot', sli: 'instruction_success', objective: 0.95, window: '30d', labels: {}, ...over });
const alerting = { dashboardUrl: 'https://grafana.example/d/x', externalUrl: 'http://tw.example:8080' };
const group = (over: Partial<SloConfig>) => buildRuleGroups([slo(over)], alerting).groups[0];
const records = (over: Partial<SloConfig>) => group(over).rules.filter((r): r is RecordingRule => 'record' in r);
const alerts = (over: Partial<SloConfig>) => group(over).rules.filter((r): r is AlertingRule => 'alert' in r);
const ratioExpr = (over: Partial<SloConfig>) => records(over)[0].expr;

describe('budget math', () => {
  it.each([
    [0.95, 0.05],
    [0.99, 0.01],
    [0.995, 0.005],
    [0.999, 0.001],
    [0.9999, 0.0001],
  ])('errorBudget(%s) = %s', (objective, budget) => expect(errorBudget(objective)).toBe(budget));

  it.each([
    [14.4, 0.95, 0.72],
    [6, 0.95, 0.3],
    [1, 0.95, 0.05],
    [14.4, 0.99, 0.144],
    [14.4, 0.995, 0.072],
    [6, 0.995, 0.03],
    [14.4, 0.999, 0.0144],
  ])('thresholdRatio(%s, %s) = %s (a clean decimal)', (rate, objective, threshold) => expect(thresholdRatio(rate, objective)).toBe(threshold));

  it.each([
    [0.72, 0.95, 14.4],
    [0.3, 0.95, 6],
    [0.05, 0.95, 1],
    [0, 0.95, 0],
    [0.072, 0.995, 14.4],
  ])('burnRate(%s, %s) = %s', (ratio, objective, rate) => expect(burnRate(ratio, objective)).toBe(rate));

  it.each([
    [0.01, 0.95, 0.8],
    [0, 0.95, 1],
    [0.05, 0.95, 0],
    [0.1, 0.95, -1],
    [0.72, 0.95, -13.4],
    [0.0025, 0.995, 0.5],
  ])('budgetRemaining(%s, %s) = %s', (ratio, objective, left) => expect(budgetRemaining(ratio, objective)).toBe(left));

  it.each([
    ['both at the threshold', 0.72, 0.72, true],
    ['binary noise just under the threshold counts as the threshold', 0.7199999999999999, 0.72, true],
    ['long window just below', 0.71, 0.72, false],
    ['short window just below', 0.72, 0.71, false],
    ['both well above', 1, 0.9, true],
    ['no data in the long window', null, 0.9, false],
    ['no data in the short window', 0.9, null, false],
  ] as const)('isBurning at 14.4x, objective 0.95: %s', (_, long, short, expected) => {
    expect(isBurning(14.4, 0.95, long, short)).toBe(expected);
  });

  it('errorRatio: bad / total, null without traffic', () => {
    expect(errorRatio(5, 100)).toBe(0.05);
    expect(errorRatio(0, 0)).toBeNull();
  });
});

describe('defaultPolicy and formatDuration', () => {
  it.each([
    [30, ['1h/5m', '6h/30m', '3d/6h']],
    [28, ['56m/280s', '336m/28m', '4032m/336m']],
    [7, ['14m/70s', '84m/7m', '1008m/84m']],
    [1, ['2m/10s', '12m/1m', '144m/12m']],
  ])('a %s-day window scales the workbook windows to %j', (days, windows) => {
    const policy = defaultPolicy(days * DAY);
    expect(policy.map((a) => `${a.longWindow}/${a.shortWindow}`)).toEqual(windows);
    expect(policy.map((a) => [a.severity, a.burnRate])).toEqual([['page', 14.4], ['page', 6], ['ticket', 1]]);
  });

  it.each([
    [3_600_000, '1h'],
    [90_000, '90s'],
    [300_000, '5m'],
    [DAY, '1d'],
    [30 * DAY, '30d'],
    [14 * DAY, '2w'],
    [1500, '1500ms'],
  ])('formatDuration(%s) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('buildRuleGroups', () => {
  it.each([
    ['30d default policy', {}, ['5m', '30m', '1h', '6h', '3d', '30d']],
    ['7d default policy', { window: '7d' }, ['70s', '7m', '14m', '84m', '1008m', '1w']],
    ['custom policy', { window: '28d', alerting: [{ severity: 'page' as const, burnRate: 10, longWindow: '2h', shortWindow: '10m' }] }, ['10m', '2h', '4w']],
  ])('%s: one error-ratio record per window, then budget, objective and alerts', (_, over, windows) => {
    const g = group(over);
    expect(g.name).toBe('tunewatch-slo-bot-instructions');
    const recs = records(over);
    expect(recs.map((r) => r.record)).toEqual([
      ...windows.map((w) => `tunewatch:slo_error_ratio:rate${w}`),
      'tunewatch:slo_error_budget_remaining:ratio',
      'tunewatch:slo_objective:ratio',
    ]);
    expect(windowsOf(slo(over)).map(formatDuration)).toEqual(windows);
    for (const r of recs) expect(r.labels).toEqual({ slo: 'bot-instructions', sli: 'instruction_success' });
    expect(alerts(over)).toHaveLength(slo(over).alerts.length);
  });

  it.each([
    [0.95, ['0.72', '0.3', '0.05'], '0.05'],
    [0.99, ['0.144', '0.06', '0.01'], '0.01'],
    [0.995, ['0.072', '0.03', '0.005'], '0.005'],
    [0.999, ['0.0144', '0.006', '0.001'], '0.001'],
  ])('objective %s: thresholds %j and budget %s as written decimals', (objective, thresholds, budget) => {
    const exprs = alerts({ objective }).map((a) => a.expr);
    exprs.forEach((expr, i) => {
      expect(expr).toContain(`>= ${thresholds[i]}) / ${budget}\nand\n`);
      expect(expr.endsWith(`>= ${thresholds[i]}`)).toBe(true);
      expect(expr).not.toMatch(/\d{8,}/);
    });
    const remaining = records({ objective }).find((r) => r.record === 'tunewatch:slo_error_budget_remaining:ratio');
    expect(remaining?.expr).toBe(`1 - tunewatch:slo_error_ratio:rate30d{slo="bot-instructions"} / ${budget}`);
    expect(records({ objective }).at(-1)?.expr).toBe(`vector(${objective})`);
  });

  it('alert: long window over the threshold divided by the budget (the burn rate), and the short window', () => {
    expect(alerts({})[0].expr).toBe(
      '(tunewatch:slo_error_ratio:rate1h{slo="bot-instructions"} >= 0.72) / 0.05\nand\ntunewatch:slo_error_ratio:rate5m{slo="bot-instructions"} >= 0.72',
    );
  });

  it.each([
    ['instruction_success', {}, ['sli="instruction_success"', 'model="support-bot"', 'outcome="bad"', 'outcome=~"good|bad"'], ['version=', 'role=', 'label_replace']],
    ['safe_response for one version and role', { sli: 'safe_response' as const, version: 'v13', role: 'canary' as const }, ['sli="safe_response"', 'model="support-bot",version="v13",role="canary"'], []],
    ['hallucination_free on every model', { sli: 'hallucination_free' as const, model: '*' }, ['sli="hallucination_free"'], ['model=']],
    ['availability', { sli: 'availability' as const }, ['gen_ai_server_request_duration_seconds_count{gen_ai_request_model="support-bot",status_class="5xx"}', 'label_replace'], ['tunewatch_sli_events_total']],
    ['availability for a version and role', { sli: 'availability' as const, version: 'v12', role: 'baseline' as const }, ['gen_ai_request_model="support-bot",tunewatch_model_version="v12",tunewatch_role="baseline"'], []],
    ['availability on every model', { sli: 'availability' as const, model: '*' }, ['gen_ai_server_request_duration_seconds_count{}'], ['gen_ai_request_model="', 'gen_ai_request_model=']],
    ['latency 800 ms', { sli: 'latency' as const, thresholdMs: 800 }, ['1 - (', 'gen_ai_server_request_duration_seconds_bucket{gen_ai_request_model="support-bot",le="0.8"}', 'gen_ai_server_request_duration_seconds_count{gen_ai_request_model="support-bot"}'], ['5xx']],
  ])('%s: filters', (_, over, present, absent) => {
    const expr = ratioExpr(over);
    for (const s of present) expect(expr).toContain(s);
    for (const s of absent) expect(expr).not.toContain(s);
    expect(expr).toContain('sum by (model, version)');
    expect(expr).toMatch(/^round\(/);
    expect(expr).toMatch(/1e-12\n\)$/);
  });

  it('histogram SLIs copy the GenAI labels to model and version', () => {
    expect(ratioExpr({ sli: 'availability' })).toContain(
      'label_replace(label_replace(rate(gen_ai_server_request_duration_seconds_count{gen_ai_request_model="support-bot"}[5m]), "model", "$1", "gen_ai_request_model", "(.*)"), "version", "$1", "tunewatch_model_version", "(.*)")',
    );
  });

  it.each([
    [800, 'le="0.8"'],
    [1500, 'le="1.5"'],
    [50, 'le="0.05"'],
    [1000, 'le=~"1(\\\\.0)?"'],
  ])('latency threshold %s ms selects %s', (ms, le) => expect(latencyLe(ms)).toBe(le));

  it('alert labels and annotations are the engine\'s (alertLabels / alertAnnotations) with Prometheus templates', () => {
    const s = slo({ labels: { team: 'support' }, runbook: 'https://runbooks.example/x', description: 'follows the spec' });
    const rules = buildRuleGroups([s], alerting).groups[0].rules.filter((r): r is AlertingRule => 'alert' in r);
    rules.forEach((rule, i) => {
      const { alertname, model, version, ...expected } = alertLabels(s, s.alerts[i], 'm', 'v');
      expect([alertname, model, version]).toEqual([ALERT_NAME, 'm', 'v']);
      expect(rule.alert).toBe(ALERT_NAME);
      expect(rule.labels).toEqual(expected);
      expect(rule.labels).toMatchObject({ team: 'support', severity: s.alerts[i].severity, window: s.alerts[i].label });
      expect(rule.annotations).toEqual(alertAnnotations(s, s.alerts[i], TEMPLATE_VALUES, alerting));
    });
    expect(rules[0].annotations.summary).toContain('burning at {{ printf "%.1f" $value }}x over 1h/5m (threshold 14.4x)');
    expect(rules[0].annotations.summary).toContain('| query }}{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }} of the budget left');
  });

  it('renderRules: header naming the config, YAML that parses back to the groups', () => {
    const slos = [slo({}), slo({ name: 'bot-latency', sli: 'latency', thresholdMs: 800, objective: 0.99 })];
    const text = renderRules(slos, alerting, 'tunewatch.example.yaml');
    expect(text.split('\n')[0]).toBe('# Prometheus SLO rules generated by `tunewatch alerts build` from tunewatch.example.yaml — do not edit.');
    expect(parse(text)).toEqual(buildRuleGroups(slos, alerting));
  });

  it('renderAlertmanagerExample: pages and tickets routed apart, a page inhibits the ticket', () => {
    const am = parse(renderAlertmanagerExample());
    expect(am.route.group_by).toEqual(['alertname', 'slo', 'model']);
    expect(am.route.routes.map((r: { receiver: string; matchers: string[] }) => [r.receiver, r.matchers.at(-1)])).toEqual([
      ['pager', 'severity="page"'],
      ['ticket', 'severity="ticket"'],
    ]);
    expect(am.receivers.map((r: { webhook_configs: Array<{ url: string }> }) => r.webhook_configs[0].url)).toEqual([
      'http://127.0.0.1:9099/page',
      'http://127.0.0.1:9099/ticket',
    ]);
    expect(am.inhibit_rules[0]).toMatchObject({ source_matchers: expect.arrayContaining(['severity="page"']), target_matchers: expect.arrayContaining(['severity="ticket"']), equal: ['slo', 'model', 'version'] });
  });
});

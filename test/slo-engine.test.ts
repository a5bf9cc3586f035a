import { describe, expect, it } from 'vitest';
import { validate } from '../src/config/load.js';
import { planNotifications, sloStatuses, type ActiveAlert } from '../src/slo/evaluate.js';
import { toSloModel } from '../src/slo/model.js';
import type { SliTotals } from '../src/store/slo-queries.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const config = validate({
  models: [{ name: 'support-bot', deployments: [{ version: 'v12', upstream: 'http://x' }, { version: 'v13', upstream: 'http://y', canary: true }] }],
  alerting: { externalUrl: 'http://tw:8080', dashboardUrl: 'https://grafana/d/oncall' },
  slos: [{ name: 'instr', model: 'support-bot', sli: 'instruction_success', objective: 0.95, runbook: 'https://runbooks/instr' }],
});
const slo = toSloModel(config.slos[0]);

/** Totals per window: the same error ratio in every window unless overridden. */
function totals(ratioByWindow: Record<number, number>, fallback: number, version = 'v13'): Map<number, SliTotals[]> {
  const windows = [5 * MIN, 30 * MIN, HOUR, 6 * HOUR, 3 * DAY, 30 * DAY];
  return new Map(windows.map((w) => [w, [{ model: 'support-bot', version, bad: Math.round((ratioByWindow[w] ?? fallback) * 10_000), total: 10_000 }]]));
}

describe('SLO statuses (hand-computed)', () => {
  it('uses the workbook windows for a 30-day SLO', () => {
    expect(slo.alerts.map((a) => [a.severity, a.burnRate, a.label])).toEqual([
      ['page', 14.4, '1h/5m'],
      ['page', 6, '6h/30m'],
      ['ticket', 1, '3d/6h'],
    ]);
  });

  it('fires the fast page at exactly 14.4x in both windows and not just below', () => {
    const at = sloStatuses(slo, totals({}, 0.72))[0];
    expect(at.burn[0]).toMatchObject({ window: '1h/5m', burnLong: 14.4, burnShort: 14.4, firing: true });
    expect(at.state).toBe('firing');
    const below = sloStatuses(slo, totals({}, 0.7199))[0];
    expect(below.burn[0].firing).toBe(false);
    expect(below.burn[1].firing).toBe(true); // 14.398x still burns above the 6x page
  });

  it('needs both windows: a long burn that has stopped does not page', () => {
    const recovered = sloStatuses(slo, totals({ [5 * MIN]: 0.01 }, 0.8))[0];
    expect(recovered.burn[0]).toMatchObject({ burnLong: 16, burnShort: 0.2, firing: false });
  });

  it('computes SLI and budget over the SLO window', () => {
    const s = sloStatuses(slo, totals({ [30 * DAY]: 0.01 }, 0))[0];
    expect(s.sli_value).toBeCloseTo(0.99, 10);
    expect(s.budget_remaining).toBe(0.8); // 1 - 0.01 / 0.05
    expect(s.state).toBe('ok');
  });

  it('says "no data" rather than ok when nothing was judged', () => {
    const empty = new Map([[30 * DAY, [{ model: 'support-bot', version: 'v13', bad: 0, total: 0 }]]]);
    expect(sloStatuses(slo, empty)[0]).toMatchObject({ state: 'no data', sli_value: null, budget_remaining: null });
  });
});

describe('alert notifications', () => {
  const alerting = config.alerting;
  const now = Date.parse('2026-11-27T12:00:00Z');

  it('fires with the labels and annotations on-call needs', () => {
    const statuses = sloStatuses(slo, totals({}, 0.72));
    const plan = planNotifications([slo], statuses, new Map(), now, 2 * MIN, alerting);
    const page = plan.send.find((a) => a.labels.window === '1h/5m')!;
    expect(page.labels).toEqual({ alertname: 'TunewatchSLOErrorBudgetBurn', slo: 'instr', sli: 'instruction_success', model: 'support-bot', version: 'v13', severity: 'page', window: '1h/5m' });
    expect(page.annotations.summary).toContain('burning at 14.4x over 1h/5m');
    expect(page.annotations.runbook_url).toBe('https://runbooks/instr');
    expect(page.annotations.samples).toBe('http://tw:8080/api/samples?model=support-bot&version=v13&sli=instruction_success&verdict=bad');
    expect(page.annotations.dashboard).toContain('var-version=v13');
    expect(page.endsAt).toBe(new Date(now + 2 * MIN).toISOString());
    expect(plan.active.size).toBe(3); // 0.72 is above the 14.4x, 6x and 1x thresholds
  });

  it('re-sends a firing alert with its original start, and resolves it with endsAt now once it stops', () => {
    const firing = planNotifications([slo], sloStatuses(slo, totals({}, 0.72)), new Map(), now, 2 * MIN, alerting);
    const again = planNotifications([slo], sloStatuses(slo, totals({}, 0.72)), firing.active, now + MIN, 2 * MIN, alerting);
    expect(again.send.every((a) => a.startsAt === new Date(now).toISOString())).toBe(true);
    const healthy = planNotifications([slo], sloStatuses(slo, totals({}, 0)), again.active, now + 2 * MIN, 2 * MIN, alerting);
    expect(healthy.active.size).toBe(0);
    expect(healthy.send).toHaveLength(3);
    expect(healthy.send.every((a) => a.endsAt === new Date(now + 2 * MIN).toISOString())).toBe(true);
  });

  it('alerts per version: a healthy baseline does not page with a burning canary', () => {
    const both = new Map([...totals({}, 0.9)].map(([w, rows]) => [w, [...rows, { model: 'support-bot', version: 'v12', bad: 10, total: 10_000 }]]));
    const plan = planNotifications([slo], sloStatuses(slo, both), new Map<string, ActiveAlert>(), now, MIN, alerting);
    expect(new Set(plan.send.map((a) => a.labels.version))).toEqual(new Set(['v13']));
  });
});

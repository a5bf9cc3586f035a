// The SLO engine's decisions as pure functions: totals in, statuses and alert notifications out.
import type { AlertingConfig } from '../config/schema.js';
import type { SliTotals } from '../store/slo-queries.js';
import { alertAnnotations, alertLabels, samplesLink } from './alert-content.js';
import type { PostableAlert } from './alertmanager.js';
import { budgetRemaining, burnRate, errorRatio, isBurning } from './budget.js';
import { formatDuration, type AlertWindow, type SloModel } from './model.js';

export interface WindowBurn {
  window: string;
  severity: AlertWindow['severity'];
  threshold: number;
  burnLong: number | null;
  burnShort: number | null;
  firing: boolean;
}

/** One SLO for one model version, as on-call sees it. */
export interface SloStatus {
  slo: string;
  sli: SloModel['sli'];
  model: string;
  version: string;
  objective: number;
  window: string;
  /** Good share over the SLO window; null without data. */
  sli_value: number | null;
  events: number;
  budget_remaining: number | null;
  burn: WindowBurn[];
  state: 'firing' | 'ok' | 'no data';
}

const key = (t: Pick<SliTotals, 'model' | 'version'>) => `${t.model}\u0000${t.version}`;

/** Statuses per version from the totals of every window the SLO needs (keyed by window in ms). */
export function sloStatuses(slo: SloModel, totals: Map<number, SliTotals[]>): SloStatus[] {
  const byWindow = new Map([...totals].map(([ms, rows]) => [ms, new Map(rows.map((r) => [key(r), r]))]));
  const ratio = (ms: number, k: string) => {
    const t = byWindow.get(ms)?.get(k);
    return t ? errorRatio(t.bad, t.total) : null;
  };
  const versions = totals.get(slo.windowMs) ?? [];
  return versions.map((v) => {
    const k = key(v);
    const windowRatio = errorRatio(v.bad, v.total);
    const burn = slo.alerts.map((a): WindowBurn => {
      const long = ratio(a.longMs, k);
      const short = ratio(a.shortMs, k);
      return {
        window: a.label,
        severity: a.severity,
        threshold: a.burnRate,
        burnLong: long === null ? null : burnRate(long, slo.objective),
        burnShort: short === null ? null : burnRate(short, slo.objective),
        firing: isBurning(a.burnRate, slo.objective, long, short),
      };
    });
    return {
      slo: slo.name,
      sli: slo.sli,
      model: v.model,
      version: v.version,
      objective: slo.objective,
      window: formatDuration(slo.windowMs),
      sli_value: windowRatio === null ? null : 1 - windowRatio,
      events: v.total,
      budget_remaining: windowRatio === null ? null : budgetRemaining(windowRatio, slo.objective),
      burn,
      state: windowRatio === null ? 'no data' : burn.some((b) => b.firing) ? 'firing' : 'ok',
    };
  });
}

export interface ActiveAlert {
  alert: PostableAlert;
  key: string;
}

/**
 * What to send to Alertmanager after an evaluation: every firing alert again (so it does not
 * expire while the burn goes on; endsAt a few intervals ahead in case tunewatch dies), and every
 * alert that stopped firing with endsAt now, which resolves it.
 */
export function planNotifications(
  slos: SloModel[],
  statuses: SloStatus[],
  active: Map<string, ActiveAlert>,
  now: number,
  holdMs: number,
  alerting: Pick<AlertingConfig, 'dashboardUrl' | 'externalUrl'>,
): { send: PostableAlert[]; active: Map<string, ActiveAlert> } {
  const next = new Map<string, ActiveAlert>();
  const send: PostableAlert[] = [];
  const byName = new Map(slos.map((s) => [s.name, s]));
  for (const status of statuses) {
    const slo = byName.get(status.slo)!;
    slo.alerts.forEach((window, i) => {
      const burn = status.burn[i];
      if (!burn.firing) return;
      const labels = alertLabels(slo, window, status.model, status.version);
      const alertKey = JSON.stringify(labels);
      const startsAt = active.get(alertKey)?.alert.startsAt ?? new Date(now).toISOString();
      const budgetLeft = status.budget_remaining === null ? 'unknown' : `${Math.round(status.budget_remaining * 100)}%`;
      const alert: PostableAlert = {
        labels,
        annotations: alertAnnotations(slo, window, { model: status.model, version: status.version, burnRate: (burn.burnLong ?? 0).toFixed(1), budgetLeft }, alerting),
        startsAt,
        endsAt: new Date(now + holdMs).toISOString(),
        generatorURL: samplesLink(slo, status.model, status.version, alerting.externalUrl),
      };
      next.set(alertKey, { alert, key: alertKey });
      send.push(alert);
    });
  }
  for (const [alertKey, previous] of active) {
    if (!next.has(alertKey)) send.push({ ...previous.alert, endsAt: new Date(now).toISOString() });
  }
  return { send, active: next };
}

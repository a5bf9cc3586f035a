import { Gauge, Counter, type Registry } from 'prom-client';
import type { AlertingConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import type { Store } from '../store/client.js';
import { sliSeries, sliTotals, type SliTotals } from '../store/slo-queries.js';
import { sloSeries, type VersionSeries } from './series.js';
import { AlertmanagerClient, type PostableAlert } from './alertmanager.js';
import { planNotifications, sloStatuses, type ActiveAlert, type SloStatus } from './evaluate.js';
import { windowsOf, type SloModel } from './model.js';

export interface EngineLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function engineMetrics(registry: Registry) {
  const registers = [registry];
  return {
    budget: new Gauge({ name: 'tunewatch_slo_error_budget_remaining_ratio', help: 'Share of the error budget left over the SLO window.', labelNames: ['slo', 'model', 'version'], registers }),
    burn: new Gauge({ name: 'tunewatch_slo_burn_rate', help: 'Burn rate over an alert window.', labelNames: ['slo', 'model', 'version', 'window'], registers }),
    firing: new Gauge({ name: 'tunewatch_slo_alerts_firing', help: 'SLO alerts the built-in engine has firing.', registers }),
    notifications: new Counter({ name: 'tunewatch_alertmanager_notifications_total', help: 'Posts to Alertmanager by outcome.', labelNames: ['alertmanager', 'outcome'], registers }),
    evaluations: new Counter({ name: 'tunewatch_slo_evaluations_total', help: 'SLO engine evaluation rounds by outcome.', labelNames: ['outcome'], registers }),
  };
}

/**
 * The built-in SLO engine (controller role): on an interval, reads each SLO's SLI from the ClickHouse
 * rollups (so late human labels count), computes budgets and burn rates, and fires and resolves
 * alerts through Alertmanager's API v2.
 */
export class SloEngine {
  private active = new Map<string, ActiveAlert>();
  /** Resolutions no Alertmanager has accepted yet (firing alerts need no such list: they are re-sent every round). */
  private pendingResolves: PostableAlert[] = [];
  private last: SloStatus[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SloStatus[]> | undefined;
  private readonly intervalMs: number;
  private readonly alertmanager: AlertmanagerClient;
  private readonly metrics?: ReturnType<typeof engineMetrics>;

  constructor(
    private readonly store: Store,
    readonly slos: SloModel[],
    private readonly alerting: AlertingConfig,
    registry?: Registry,
    private readonly log?: EngineLog,
  ) {
    this.intervalMs = parseDuration(alerting.evaluationInterval);
    this.metrics = registry ? engineMetrics(registry) : undefined;
    this.alertmanager = new AlertmanagerClient(alerting.alertmanagers, (r) => {
      this.metrics?.notifications.inc({ alertmanager: r.url, outcome: r.ok ? 'sent' : 'failed' });
      if (!r.ok) this.log?.warn({ alertmanager: r.url, error: r.error }, 'alertmanager unreachable; will retry at the next evaluation');
    });
  }

  start(): void {
    const tick = () => void this.evaluate().catch(() => undefined);
    this.timer = setInterval(tick, this.intervalMs).unref();
    tick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The alerts firing after the last evaluation, as posted to Alertmanager. */
  firing(): PostableAlert[] {
    return [...this.active.values()].map((a) => a.alert);
  }

  /** The statuses of the last evaluation. */
  status(): SloStatus[] {
    return this.last;
  }

  /** One evaluation round; concurrent callers share the round in progress. */
  evaluate(now = Date.now()): Promise<SloStatus[]> {
    this.running ??= this.round(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(now: number): Promise<SloStatus[]> {
    let statuses: SloStatus[];
    try {
      statuses = (await Promise.all(this.slos.map((slo) => this.statusesOf(slo, now)))).flat();
    } catch (err) {
      this.metrics?.evaluations.inc({ outcome: 'failed' });
      this.log?.error({ err: (err as Error).message }, 'SLO evaluation failed: store did not answer');
      throw err;
    }
    this.metrics?.evaluations.inc({ outcome: 'ok' });
    this.last = statuses;
    this.exportMetrics(statuses);

    // Alerts stay valid for a few intervals: re-sent while firing, expire on their own if tunewatch stops.
    const plan = planNotifications(this.slos, statuses, this.active, now, 4 * this.intervalMs, this.alerting);
    this.active = plan.active;
    this.metrics?.firing.set(this.active.size);
    const stillPending = this.pendingResolves.filter((old) => !plan.send.some((a) => sameLabels(a, old)));
    const batch = [...stillPending, ...plan.send];
    const results = await this.alertmanager.post(batch);
    const delivered = results.some((r) => r.ok);
    this.pendingResolves = delivered ? [] : batch.filter((a) => Date.parse(a.endsAt) <= now);
    return statuses;
  }

  private async statusesOf(slo: SloModel, now: number): Promise<SloStatus[]> {
    const totals = new Map<number, SliTotals[]>();
    for (const ms of windowsOf(slo)) totals.set(ms, await sliTotals(this.store, slo, now - ms, now + 60_000));
    return sloStatuses(slo, totals);
  }

  private exportMetrics(statuses: SloStatus[]): void {
    if (!this.metrics) return;
    for (const s of statuses) {
      const labels = { slo: s.slo, model: s.model, version: s.version };
      if (s.budget_remaining !== null) this.metrics.budget.set(labels, s.budget_remaining);
      for (const b of s.burn) if (b.burnLong !== null) this.metrics.burn.set({ ...labels, window: b.window }, b.burnLong);
    }
  }
}

function sameLabels(a: PostableAlert, b: PostableAlert): boolean {
  return JSON.stringify(a.labels) === JSON.stringify(b.labels);
}

/** Buckets of a chart over `sinceMs`: about 60 points, at least a minute each (the rollups are per minute). */
export function seriesStepMs(sinceMs: number): number {
  return Math.max(60_000, Math.ceil(sinceMs / 60 / 60_000) * 60_000);
}

/** An SLO's SLI and burn rate over the last `sinceMs`, per version: one query, for the API and the status page. */
export async function sloSeriesOf(store: Store, slo: SloModel, sinceMs: number, now = Date.now()): Promise<{ stepMs: number; series: VersionSeries[] }> {
  const stepMs = seriesStepMs(sinceMs);
  const rows = await sliSeries(store, slo, now - sinceMs, now + 60_000, stepMs);
  return { stepMs, series: sloSeries(rows, slo.objective, now - sinceMs, now, stepMs) };
}

import { parseDuration } from '../config/duration.js';
import type { BurnRateAlert, SloConfig, SloSli } from '../config/schema.js';

/** One multi-window burn-rate condition, resolved to milliseconds. */
export interface AlertWindow {
  severity: 'page' | 'ticket';
  burnRate: number;
  longMs: number;
  shortMs: number;
  /** "1h/5m": the label value alerts carry in `window`. */
  label: string;
}

/** An SLO as the engine and the rule generator use it: config resolved, defaults applied. */
export interface SloModel {
  name: string;
  description: string;
  model: string;
  version?: string;
  role?: 'baseline' | 'canary';
  sli: SloSli;
  thresholdMs?: number;
  objective: number;
  windowMs: number;
  alerts: AlertWindow[];
  runbook?: string;
  labels: Record<string, string>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WORKBOOK_WINDOW = 30 * DAY;

/**
 * The SRE workbook's multi-window multi-burn-rate policy for a 30-day SLO (page at 14.4x over 1h/5m,
 * page at 6x over 6h/30m, ticket at 1x over 3d/6h), with windows scaled to the SLO's own window so
 * each alert still means "this share of the budget burnt in this share of the window".
 */
export function defaultPolicy(windowMs: number): BurnRateAlert[] {
  const scale = windowMs / WORKBOOK_WINDOW;
  const w = (ms: number) => formatDuration(Math.max(1000, Math.round((ms * scale) / 1000) * 1000));
  return [
    { severity: 'page', burnRate: 14.4, longWindow: w(HOUR), shortWindow: w(5 * 60_000) },
    { severity: 'page', burnRate: 6, longWindow: w(6 * HOUR), shortWindow: w(30 * 60_000) },
    { severity: 'ticket', burnRate: 1, longWindow: w(3 * DAY), shortWindow: w(6 * HOUR) },
  ];
}

/** Milliseconds → the largest whole Prometheus unit: 3600000 → "1h", 90000 → "90s". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['w', 7 * DAY], ['d', DAY], ['h', HOUR], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function toSloModel(cfg: SloConfig): SloModel {
  const windowMs = parseDuration(cfg.window ?? '30d');
  const alerts = (cfg.alerting ?? defaultPolicy(windowMs)).map((a) => {
    const longMs = parseDuration(a.longWindow);
    const shortMs = parseDuration(a.shortWindow);
    return { severity: a.severity, burnRate: a.burnRate, longMs, shortMs, label: `${formatDuration(longMs)}/${formatDuration(shortMs)}` };
  });
  return {
    name: cfg.name,
    description: cfg.description ?? '',
    model: cfg.model,
    version: cfg.version,
    role: cfg.role,
    sli: cfg.sli,
    thresholdMs: cfg.thresholdMs,
    objective: cfg.objective,
    windowMs,
    alerts,
    runbook: cfg.runbook,
    labels: cfg.labels ?? {},
  };
}

/** Every distinct window an SLO needs an error ratio for (alert windows plus the SLO window). */
export function windowsOf(slo: SloModel): number[] {
  return [...new Set([...slo.alerts.flatMap((a) => [a.longMs, a.shortMs]), slo.windowMs])].sort((a, b) => a - b);
}

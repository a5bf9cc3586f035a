// An SLO's SLI and burn rate over time, per model version: what the status page charts. Pure: from the
// per-bucket counts the store returns (store/slo-queries.ts sliSeries).
import { burnRate, errorRatio } from './budget.js';

export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  t: number;
  /** Good share in the bucket; null without events. */
  sli: number | null;
  /** How fast the bucket burns the budget (1 = exactly at the objective); null without events. */
  burn: number | null;
  events: number;
}

export interface VersionSeries {
  model: string;
  version: string;
  points: SeriesPoint[];
}

/** One series per version, every bucket from `fromMs` present (empty buckets have null values). */
export function sloSeries(rows: { t: number; model: string; version: string; bad: number; total: number }[], objective: number, fromMs: number, toMs: number, stepMs: number): VersionSeries[] {
  const first = Math.floor(fromMs / stepMs) * stepMs;
  const buckets = Array.from({ length: Math.max(0, Math.ceil((toMs - first) / stepMs)) }, (_, i) => first + i * stepMs);
  const byVersion = new Map<string, Map<number, { bad: number; total: number }>>();
  for (const r of rows) {
    const k = `${r.model}\u0000${r.version}`;
    if (!byVersion.has(k)) byVersion.set(k, new Map());
    byVersion.get(k)!.set(r.t, { bad: r.bad, total: r.total });
  }
  return [...byVersion].map(([k, counts]) => {
    const [model, version] = k.split('\u0000') as [string, string];
    return {
      model,
      version,
      points: buckets.map((t) => {
        const c = counts.get(t);
        const ratio = c ? errorRatio(c.bad, c.total) : null;
        return { t, sli: ratio === null ? null : 1 - ratio, burn: ratio === null ? null : burnRate(ratio, objective), events: c?.total ?? 0 };
      }),
    };
  });
}

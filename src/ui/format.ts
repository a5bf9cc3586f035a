// Numbers as the status page shows them.
export const percent = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(digits)}%`);
export const fixed = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '–' : v.toFixed(digits));

/** A duration in the largest unit that keeps it readable: 45s, 12m, 3.5h, 6.2d. */
export function humanDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}

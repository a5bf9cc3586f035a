// Whether capture is storing what the proxy answers: the truth /readyz tells. Pure.
import type { CaptureHealth } from './capture-worker.js';
import type { PipelineHealth } from './pipeline.js';

export interface Readiness {
  ready: boolean;
  /** Each reason capture is not storing, in words; empty when ready. */
  reasons: string[];
}

type Health = PipelineHealth & Partial<CaptureHealth>;

/** The counters readiness compares over the last minute. */
interface Observation {
  at: number;
  lost: number;
}

/**
 * Remembers, once a second, how many samples had been lost (dropped or shed), so readiness can say
 * whether any were lost in the last minute.
 */
export class LossWindow {
  private observations: Observation[] = [];

  constructor(private readonly windowMs = 60_000) {}

  observe(now: number, health: Health): void {
    this.observations.push({ at: now, lost: lostSoFar(health) });
    while (this.observations.length > 1 && this.observations[1].at <= now - this.windowMs) this.observations.shift();
  }

  /** Samples lost within the window (since the oldest observation still in it). */
  lostInWindow(health: Health): number {
    const oldest = this.observations[0];
    return oldest ? Math.max(0, lostSoFar(health) - oldest.lost) : 0;
  }
}

function lostSoFar(h: Health): number {
  return h.dropped + (h.shed ?? 0);
}

/**
 * Ready when capture is storing: the worker runs, the store answers (or has failed for less than
 * the grace period, during which the spill log holds samples), the spill log can take more, and no
 * sample was lost in the last minute.
 */
export function judgeReadiness(h: Health, now: number, storeDownSince: number | null, graceMs: number, lostLastMinute: number): Readiness {
  const reasons: string[] = [];
  if (h.worker !== undefined && h.worker !== 'running') reasons.push(`capture worker ${h.worker}`);
  const failingSince = [storeDownSince, h.storeFailingSince].filter((t): t is number => t !== null && t !== undefined);
  const downFor = failingSince.length ? now - Math.min(...failingSince) : 0;
  if (failingSince.length && downFor >= graceMs) reasons.push(`store not storing for ${Math.round(downFor / 1000)} s (grace ${Math.round(graceMs / 1000)} s)`);
  if (!h.spillWritable) reasons.push('spill log not writable');
  else if (!h.spillHasRoom) reasons.push('spill log full');
  if (lostLastMinute > 0) reasons.push(`${lostLastMinute} sample(s) dropped or shed in the last minute`);
  return { ready: reasons.length === 0, reasons };
}

// Balance: at most maxPerReason items per failure reason and maxPerSli per failing SLI (0: no cap),
// so one frequent failure does not drown the rest. Which items a cap keeps is decided by the same
// best-first order as dedupe, never by arrival order. Pure.
import type { CurationItem } from '../types.js';
import { bestFirst } from './rank.js';

/** A failure's reason key, as the manifest counts it: "<sli>: <evaluator reason>". */
export const reasonKey = (f: { sli: string; reason: string }): string => `${f.sli}: ${f.reason}`;

export interface BalanceResult {
  kept: CurationItem[];
  removed: { item: CurationItem; cap: string }[];
}

/**
 * Greedy over the items best first: an item is kept when none of its reasons and none of its SLIs
 * is at its cap, and then counts against all of them. An item with no failures (a correction of an
 * answer that passed) is under no cap.
 */
export function balance(items: readonly CurationItem[], maxPerReason: number, maxPerSli: number): BalanceResult {
  const perReason = new Map<string, number>();
  const perSli = new Map<string, number>();
  const kept: CurationItem[] = [];
  const removed: BalanceResult['removed'] = [];
  for (const item of [...items].sort(bestFirst())) {
    const reasons = [...new Set(item.failures.map(reasonKey))];
    const slis = [...new Set(item.failures.map((f) => f.sli))];
    const fullReason = maxPerReason > 0 ? reasons.find((r) => (perReason.get(r) ?? 0) >= maxPerReason) : undefined;
    const fullSli = maxPerSli > 0 ? slis.find((s) => (perSli.get(s) ?? 0) >= maxPerSli) : undefined;
    if (fullReason !== undefined) removed.push({ item, cap: `maxPerReason ${maxPerReason} reached for "${fullReason}"` });
    else if (fullSli !== undefined) removed.push({ item, cap: `maxPerSli ${maxPerSli} reached for ${fullSli}` });
    else {
      kept.push(item);
      for (const r of reasons) perReason.set(r, (perReason.get(r) ?? 0) + 1);
      for (const s of slis) perSli.set(s, (perSli.get(s) ?? 0) + 1);
    }
  }
  return { kept, removed };
}

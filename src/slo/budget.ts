// Error-budget and burn-rate arithmetic: pure functions shared by the engine and the rule generator.

/** Rounds away binary noise (1 - 0.95 = 0.050000000000000044) so thresholds are the decimals people wrote. */
export const round12 = (x: number) => Number(x.toPrecision(12));

/** The share of events allowed to be bad: 1 - objective. */
export const errorBudget = (objective: number) => round12(1 - objective);

/** How many times faster than sustainable the budget burns: 1 uses exactly the budget over the window. */
export function burnRate(errorRatio: number, objective: number): number {
  return round12(errorRatio / errorBudget(objective));
}

/** The error ratio at which an alert with this burn rate fires. */
export function thresholdRatio(rate: number, objective: number): number {
  return round12(rate * errorBudget(objective));
}

/** Share of the budget left after an error ratio over the whole SLO window: 1 untouched, 0 spent, below 0 overspent. */
export function budgetRemaining(errorRatio: number, objective: number): number {
  return round12(1 - errorRatio / errorBudget(objective));
}

/** Both windows at or above the threshold: the multi-window condition that pages only on real, ongoing burns. */
export function isBurning(rate: number, objective: number, longRatio: number | null, shortRatio: number | null): boolean {
  if (longRatio === null || shortRatio === null) return false;
  const threshold = thresholdRatio(rate, objective);
  return round12(longRatio) >= threshold && round12(shortRatio) >= threshold;
}

/** bad / (good + bad); null when nothing was judged (no data is not a breach). */
export function errorRatio(bad: number, total: number): number | null {
  return total > 0 ? bad / total : null;
}

/**
 * How long until the budget is gone if it keeps burning at `burn` (1 = the rate that spends exactly
 * the budget over the window): 0 when spent, null when it is not burning.
 */
export function timeToExhaustionMs(budgetRemaining: number | null, burn: number | null, windowMs: number): number | null {
  if (budgetRemaining === null) return null;
  if (budgetRemaining <= 0) return 0;
  if (burn === null || burn <= 0) return null;
  return (budgetRemaining * windowMs) / burn;
}

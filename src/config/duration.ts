const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "30s", "5m", "1h", "30d" → milliseconds; anything else is an error that says what was expected. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}": expected a number and a unit (ms, s, m, h, d, w), e.g. 5m or 30d`);
  return Number(m[1]) * UNITS[m[2]];
}

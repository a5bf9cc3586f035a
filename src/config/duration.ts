const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** At most this many characters of a user's text are quoted back in a message. */
const QUOTED = 40;
const quote = (text: string) => JSON.stringify(text.length > QUOTED ? `${text.slice(0, QUOTED)}…` : text);

/**
 * "30s", "5m", "1h", "30d" → milliseconds; anything else (not a string either) is an Error that says
 * what was expected, never a TypeError. With `maxMs`, a longer duration is an error too (user input:
 * a 300-digit number of days is a valid-looking duration of Infinity ms).
 */
export function parseDuration(text: unknown, maxMs = Infinity): number {
  if (typeof text !== 'string') throw new Error(`invalid duration: expected text such as 5m or 30d, found ${Array.isArray(text) ? 'a list' : typeof text}`);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration ${quote(text)}: expected a number and a unit (ms, s, m, h, d, w), e.g. 5m or 30d`);
  const ms = Number(m[1]) * UNITS[m[2]];
  if (!(ms <= maxMs)) throw new Error(`duration ${quote(text)} is too long: at most ${formatDuration(maxMs)}`);
  return ms;
}

/** Milliseconds in the largest unit that divides them: 34_560_000_000 → "400d". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const [unit, size] = Object.entries(UNITS)
    .filter(([u]) => u !== 'w')
    .reverse()
    .find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

// Per-minute request counts kept on the proxy's hot path, and how many of those requests have no
// sample. Pure: the owner of a CoverageCounter decides when to write what `take()` returns.

/** A row of capture_coverage_1m (migrations/0005_capture_reliability.sql). */
export interface CoverageRow {
  minute: number; // epoch seconds, start of the minute
  model: string;
  version: string;
  role: string;
  requests: number;
  not_captured: number;
}

interface Cell {
  row: CoverageRow;
}

/** Counts with one map lookup per request; the key is built from fields the caller already has. */
export class CoverageCounter {
  private cells = new Map<string, Cell>();

  /** One request answered (captured or not). */
  request(ts: number, model: string, version: string, role: string): void {
    this.cell(ts, model, version, role).row.requests++;
  }

  /** One request whose sample will not be stored (shed, dropped, quarantined). */
  notCaptured(ts: number, model: string, version: string, role: string): void {
    this.cell(ts, model, version, role).row.not_captured++;
  }

  /** Counts taken earlier that were not stored after all (a worker died holding them). */
  add(row: CoverageRow): void {
    const c = this.cell(row.minute * 1000, row.model, row.version, row.role).row;
    c.requests += row.requests;
    c.not_captured += row.not_captured;
  }

  /** Everything counted so far; the counter starts again from zero. */
  take(): CoverageRow[] {
    const rows = [...this.cells.values()].map((c) => c.row);
    this.cells = new Map();
    return rows;
  }

  get size(): number {
    return this.cells.size;
  }

  private cell(ts: number, model: string, version: string, role: string): Cell {
    const minute = Math.floor(ts / 60_000) * 60;
    const key = `${minute}\u0000${model}\u0000${version}\u0000${role}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { row: { minute, model, version, role, requests: 0, not_captured: 0 } };
      this.cells.set(key, cell);
    }
    return cell;
  }
}

/** Adds rows for the same minute and series together (rows that waited for a store to come back). */
export function mergeCoverage(rows: CoverageRow[]): CoverageRow[] {
  const byKey = new Map<string, CoverageRow>();
  for (const r of rows) {
    const key = `${r.minute}\u0000${r.model}\u0000${r.version}\u0000${r.role}`;
    const seen = byKey.get(key);
    if (seen) {
      seen.requests += r.requests;
      seen.not_captured += r.not_captured;
    } else byKey.set(key, { ...r });
  }
  return [...byKey.values()];
}

/**
 * Random early shedding: below half the bound every sample is kept; above it each is shed with a
 * probability rising linearly to 1 at the bound. Tail drop would keep the first samples of every
 * burst and lose the rest, biasing SLIs towards whatever happens at the start of a burst; shedding
 * at random keeps what is stored a uniform sample of what was answered.
 */
export function shouldShed(waiting: number, bound: number, random: number): boolean {
  if (waiting >= bound) return true;
  const soft = bound / 2;
  if (waiting <= soft) return false;
  return random < (waiting - soft) / (bound - soft);
}

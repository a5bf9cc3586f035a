// The one place that guarantees a sample row is valid for its ClickHouse columns
// (migrations/0001_samples.sql, 0005_capture_reliability.sql), whatever the exchange held:
// one bad value would make the store reject the whole batch. Pure, and cheap when nothing is wrong.
import { addFlag, SAMPLE_FLAGS } from './flags.js';
import type { SampleRow } from './sample.js';
import { wellFormed } from './text-limit.js';

export const UINT16_MAX = 65_535;
export const UINT32_MAX = 4_294_967_295;
/** DateTime64(3) holds 1900-01-01 to 2299-12-31; a sample's timestamp is after 1970 and before 2200. */
export const TS_MAX_MS = 7_258_118_400_000;

const STRING_COLUMNS = [
  'request_id', 'tenant', 'model', 'version', 'role', 'upstream', 'endpoint', 'error_type', 'finish_reason',
  'prompt', 'response', 'trace_id', 'user_hash', 'spec', 'context',
] as const satisfies readonly (keyof SampleRow)[];
const BOOL_COLUMNS = ['stream', 'tokens_estimated', 'truncated'] as const satisfies readonly (keyof SampleRow)[];
const COUNT_COLUMNS = ['input_tokens', 'output_tokens'] as const satisfies readonly (keyof SampleRow)[];

const isUInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string as stored: well-formed UTF-16 (lone surrogates break the JSON insert); numbers and booleans as text. */
export function columnString(v: unknown): { value: string; changed: 'no' | 'encoding' | 'type' } {
  if (typeof v === 'string') {
    const value = wellFormed(v);
    return { value, changed: value === v ? 'no' : 'encoding' };
  }
  const value = typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '';
  return { value, changed: 'type' };
}

/**
 * Makes every value of `row` valid for its column, in place, and returns it: strings are strings and
 * well-formed, status a UInt16, token counts UInt32, latency finite and ≥ 0, TTFT that or null, the
 * timestamp an integer in DateTime64's range, maps of the right types. A value it had to change
 * adds `field_coerced` (or `encoding_invalid` for text that was not well-formed) to the row's flags.
 */
export function toColumnValid(row: SampleRow): SampleRow {
  return isColumnValid(row) ? row : coerce(row);
}

const str = (v: unknown): boolean => typeof v === 'string' && (v as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The common case, checked with named property reads and no allocation. */
function isColumnValid(row: SampleRow): boolean {
  if (
    !str(row.request_id) || !str(row.tenant) || !str(row.model) || !str(row.version) || !str(row.role) || !str(row.upstream) ||
    !str(row.endpoint) || !str(row.error_type) || !str(row.finish_reason) || !str(row.prompt) || !str(row.response) ||
    !str(row.trace_id) || !str(row.user_hash) || !str(row.spec) || !str(row.context)
  ) return false;
  if (typeof row.stream !== 'boolean' || typeof row.tokens_estimated !== 'boolean' || typeof row.truncated !== 'boolean') return false;
  if (!isUInt(row.input_tokens, UINT32_MAX) || !isUInt(row.output_tokens, UINT32_MAX) || !isUInt(row.status_code, UINT16_MAX)) return false;
  if (!isNonNegative(row.latency_ms) || (row.ttft_ms !== null && !isNonNegative(row.ttft_ms)) || !isUInt(row.ts, TS_MAX_MS)) return false;
  if (!isRecord(row.pii) || !isRecord(row.meta) || !Array.isArray(row.flags)) return false;
  for (const k in row.pii) if (!isUInt(row.pii[k], UINT32_MAX) || !str(k)) return false;
  for (const k in row.meta) if (!str(row.meta[k]) || !str(k)) return false;
  for (const f of row.flags) if (typeof f !== 'string') return false;
  return true;
}

function coerce(row: SampleRow): SampleRow {
  const r = row as unknown as Record<string, unknown>;
  let coerced = false;
  let encoding = false;
  const text = (v: unknown): string => {
    const s = columnString(v);
    if (s.changed === 'type') coerced = true;
    else if (s.changed === 'encoding') encoding = true;
    return s.value;
  };
  for (const key of STRING_COLUMNS) {
    const v = r[key];
    // Only text that is not well-formed, or not a string, is rebuilt.
    if (typeof v !== 'string' || !(v as unknown as { isWellFormed(): boolean }).isWellFormed()) r[key] = text(v);
  }
  for (const key of BOOL_COLUMNS) {
    if (typeof r[key] !== 'boolean') {
      r[key] = r[key] === true;
      coerced = true;
    }
  }
  for (const key of COUNT_COLUMNS) {
    const v = r[key];
    if (!isUInt(v, UINT32_MAX)) {
      r[key] = typeof v === 'number' && v > 0 ? Math.min(UINT32_MAX, Number.isFinite(v) ? Math.round(v) : 0) : 0;
      coerced = true;
    }
  }
  if (!isUInt(r.status_code, UINT16_MAX)) {
    r.status_code = 0;
    coerced = true;
  }
  if (!isNonNegative(r.latency_ms)) {
    r.latency_ms = 0;
    coerced = true;
  }
  if (r.ttft_ms !== null && !isNonNegative(r.ttft_ms)) {
    r.ttft_ms = null;
    coerced = true;
  }
  if (!isUInt(r.ts, TS_MAX_MS)) {
    const ts = r.ts;
    r.ts = typeof ts === 'number' && ts >= 0 && ts < TS_MAX_MS ? Math.round(ts) : Date.now();
    coerced = true;
  }
  // pii: Map(LowCardinality(String), UInt32)
  if (!isRecord(r.pii)) {
    r.pii = {};
    coerced = true;
  } else {
    for (const [k, n] of Object.entries(r.pii)) {
      if (!isUInt(n, UINT32_MAX) || !wellFormedKey(k)) {
        r.pii = Object.fromEntries(Object.entries(r.pii).filter(([k2, n2]) => isUInt(n2, UINT32_MAX) && wellFormedKey(k2)));
        coerced = true;
        break;
      }
    }
  }
  // meta: Map(String, String)
  if (!isRecord(r.meta)) {
    r.meta = {};
    coerced = true;
  } else {
    for (const [k, v] of Object.entries(r.meta)) {
      if (typeof v !== 'string' || !wellFormedKey(k) || !(v as unknown as { isWellFormed(): boolean }).isWellFormed()) {
        // Null-prototype: a "__proto__" key stays an ordinary key.
        const meta: Record<string, string> = Object.create(null);
        for (const [k2, v2] of Object.entries(r.meta)) {
          if (v2 === undefined || v2 === null) coerced = true;
          else meta[text(k2)] = text(v2);
        }
        r.meta = meta;
        break;
      }
    }
  }
  // flags: Array(LowCardinality(String))
  if (!Array.isArray(r.flags) || !r.flags.every((f) => typeof f === 'string')) {
    r.flags = Array.isArray(r.flags) ? r.flags.filter((f): f is string => typeof f === 'string') : [];
    coerced = true;
  }
  if (coerced) addFlag(r.flags as string[], SAMPLE_FLAGS.fieldCoerced);
  if (encoding) addFlag(r.flags as string[], SAMPLE_FLAGS.encodingInvalid);
  return row;
}

function wellFormedKey(k: string): boolean {
  return (k as unknown as { isWellFormed(): boolean }).isWellFormed();
}

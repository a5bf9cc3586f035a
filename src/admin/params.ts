import { Type, type Static, type TObject, type TOptional, type TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDuration } from '../config/duration.js';
import { SLIS, VERDICTS, type Sli, type VerdictValue } from '../evaluate/types.js';
import { ProxyError } from '../proxy/errors.js';

/** The longest period a query may cover (`since`): a little over a year of retention. */
export const MAX_PERIOD_MS = 400 * 86_400_000;
/** Epoch milliseconds accepted for `from`/`to`: 1970 up to 2100 (DateTime64(3) holds 1900–2299). */
export const MAX_EPOCH_MS = Date.UTC(2100, 0, 1);
/** Paging deeper than this is a scan nobody wants; narrow the filter instead. */
export const MAX_OFFSET = 1_000_000;
/** A latency threshold beyond a day is no threshold (upstream timeouts are far shorter). */
export const MAX_LATENCY_MS = 86_400_000;

const text = (maxLength: number) => Type.String({ maxLength });
const oneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

/**
 * Every admin query parameter, defined once: each route's querystring schema picks from here. None is a
 * list, so a parameter given twice is an error; an empty value is the same as leaving it out.
 */
export const PARAMS = {
  since: Type.String({ format: 'period' }),
  request_id: text(128),
  model: text(256),
  version: text(256),
  sli: oneOf<Sli>(SLIS),
  verdict: oneOf<VerdictValue>(VERDICTS),
  min_status: Type.Integer({ minimum: 100, maximum: 599 }),
  min_latency_ms: Type.Number({ minimum: 0, maximum: MAX_LATENCY_MS }),
  from: Type.Integer({ minimum: 0, maximum: MAX_EPOCH_MS }),
  to: Type.Integer({ minimum: 0, maximum: MAX_EPOCH_MS }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 }),
  refresh: oneOf(['true', 'false'] as const),
  slo: Type.String({ minLength: 1, maxLength: 128 }),
} satisfies Record<string, TSchema>;

export type ParamName = keyof typeof PARAMS;

/** A route's querystring schema: the named parameters, all optional, nothing else. */
export function querySchema<K extends ParamName>(...names: K[]) {
  const properties = Object.fromEntries(names.map((name) => [name, Type.Optional(PARAMS[name])]));
  return Type.Object(properties as unknown as { [P in K]: TOptional<(typeof PARAMS)[P]> }, { additionalProperties: false });
}

export type Query<T extends TObject> = Static<T>;

/**
 * The admin API's own ajv (not the proxy's): no coercion (prepareQuery turns decimal text into numbers,
 * strictly), defaults filled in, and an unknown parameter is an error rather than silently removed.
 */
const ajv = new Ajv({ coerceTypes: false, useDefaults: true, allErrors: false, verbose: true, removeAdditional: false });
ajv.addFormat('period', { type: 'string', validate: (value: string) => periodError(value) === undefined });

export const compileQuerySchema = (schema: object) => ajv.compile(schema);

function periodError(value: unknown): string | undefined {
  try {
    parseDuration(value, MAX_PERIOD_MS);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A validated `since`: milliseconds. */
export const periodMs = (since: string) => parseDuration(since, MAX_PERIOD_MS);

const QUOTED = 40;
const cut = (value: string) => (value.length > QUOTED ? `${value.slice(0, QUOTED)}…` : value);
const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(cut(value)) : String(value));

/** What a parameter takes, in words, from its schema. */
function expected(schema: TSchema): string {
  const s = schema as { type?: string; enum?: string[]; minimum?: number; maximum?: number; maxLength?: number };
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.type === 'integer') return `an integer from ${s.minimum} to ${s.maximum}`;
  if (s.type === 'number') return `a number from ${s.minimum} to ${s.maximum}`;
  return `text of at most ${s.maxLength} characters`;
}

export const paramError = (message: string, param: string, code = 'invalid_parameter') =>
  new ProxyError(400, message, 'invalid_request_error', code, param);

/**
 * A 400 naming the parameter, for the first problem ajv found in a route's query. `raw` is the query as
 * given (before prepareQuery), so the message quotes what the client sent: 1e20, not 100000000000000000000.
 */
export function queryError(errors: ErrorObject[], schema: TObject | undefined, raw: Record<string, unknown> = {}): ProxyError {
  const [e] = errors;
  const accepted = Object.keys(schema?.properties ?? {});
  if (e?.keyword === 'additionalProperties') {
    const name = String((e.params as { additionalProperty: string }).additionalProperty);
    const takes = accepted.length ? `this endpoint takes ${accepted.join(', ')}` : 'this endpoint takes no parameters';
    return paramError(`unknown parameter '${cut(name)}'; ${takes}`, name, 'unknown_parameter');
  }
  const name = (e?.instancePath ?? '').slice(1);
  if (!Object.hasOwn(PARAMS, name)) return paramError('invalid query string', name || 'query');
  const param = name as ParamName;
  const value = Object.hasOwn(raw, param) ? raw[param] : e.data;
  if (e.keyword === 'format') return paramError(`'${param}': ${periodError(value)}`, param);
  return paramError(`'${param}' must be ${expected(PARAMS[param])}, got ${shown(value)}`, param);
}

const NUMERIC = new Set(Object.entries(PARAMS).filter(([, s]) => s.type === 'integer' || s.type === 'number').map(([name]) => name));

/** Decimal notation only (no hex, no spaces, no "Infinity"): 12, -5, 1.5, 1e20. */
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Before validation: a parameter given more than once is an error naming it (none is a list), an empty
 * one is dropped, and a number in decimal notation becomes a number (ajv's own coercion would let
 * Infinity through its bounds). Unknown names are left for the schema to reject. Returns the query as given.
 */
export function prepareQuery(query: Record<string, unknown>, schema: TObject | undefined): Record<string, unknown> {
  const raw = { ...query };
  for (const key of Object.keys(query)) {
    if (!schema || !Object.hasOwn(schema.properties, key)) continue;
    const value = query[key];
    if (Array.isArray(value)) throw paramError(`'${key}' was given ${value.length} times; give it once`, key, 'repeated_parameter');
    if (value === '') delete query[key];
    else if (typeof value === 'string' && NUMERIC.has(key) && DECIMAL.test(value)) query[key] = Number(value);
  }
  return raw;
}

/** Who decided: the admin caller as it names itself (x-tunewatch-actor), else `api`. */
export function actorOf(header: unknown): string {
  return typeof header === 'string' && /^[\w.@:-]{1,64}$/.test(header) ? header : 'api';
}

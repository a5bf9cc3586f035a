// The JSON body parser of every route (proxy, /v1/feedback, admin): fastify's default parser plus a
// nesting limit and a clear answer for prototype-poisoning keys. It runs once per proxied request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProxyError, badRequest } from './errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * The deepest nesting of arrays and objects in raw JSON text, brackets inside strings not counted:
 * one linear pass, run before JSON.parse so that nothing (JSON.parse included: 2 million levels in a
 * 4 MB body take it a second and 100 MB) ever works on a deep body. String contents are skipped with
 * indexOf, so the loop only visits structure. Malformed text gives some number; JSON.parse then
 * reports the syntax error.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && escaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) break;
      i = end;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) max = depth;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return max;
}

/** Whether the quote at `at` is escaped: an odd run of backslashes before it. */
function escaped(text: string, at: number): boolean {
  let k = at - 1;
  while (text.charCodeAt(k) === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}

/**
 * True when the text has at most `limit` opening brackets in all (inside strings too): then it
 * cannot be nested deeper than `limit`. A few native indexOf calls, where a full scan visits every
 * string; typical chat bodies have a few dozen brackets and never need the full scan.
 */
function fewBrackets(text: string, limit: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > limit) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > limit) return false;
  return true;
}

/**
 * Parses a request body: a 400 naming the limit when it is nested deeper than `maxDepth`, a 400
 * naming the key for `__proto__` (or `constructor.prototype`) anywhere in it — keys that change an
 * object's prototype when code copies them by assignment — and a 400 with the parser's reason
 * for malformed JSON. Errors are ProxyErrors, so every route answers them in OpenAI's shape.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.length === 0) throw badRequest('request body is empty; expected a JSON object');
  if (!fewBrackets(text, maxDepth)) {
    const depth = jsonDepth(text);
    if (depth > maxDepth) {
      throw new ProxyError(400, `request body is nested ${depth} levels deep; the limit is server.maxBodyDepth = ${maxDepth}`, 'invalid_request_error', 'body_too_deep');
    }
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON body: ${(err as Error).message}`);
  }
  // A poisoning key spells "proto", or escapes one of its letters: \u005f, \u006f, \u0070 … (\u
  // is the only escape that makes a letter). Other escapes (\u00e9 from Python clients) do not
  // send a body down the walk.
  if (mayHavePoisonKey(text)) {
    const path = poisonedPath(body);
    if (path !== null) {
      throw badRequest(`request body key ${path} is refused: '__proto__' and 'constructor.prototype' keys can alter object prototypes`, path);
    }
  }
  return body;
}

function mayHavePoisonKey(text: string): boolean {
  if (text.indexOf('proto') !== -1) return true;
  for (let i = text.indexOf('\\u00'); i !== -1; i = text.indexOf('\\u00', i + 4)) {
    const c = text.charCodeAt(i + 4); // \u005f, \u006f, \u0070 …: the next hex digit is 5, 6 or 7
    if (c >= 0x35 && c <= 0x37) return true;
  }
  return false;
}

/**
 * The key path of the first `__proto__` key, or `prototype` key under a `constructor` key
 * (secure-json-parse's rule, which fastify's default parser applied), else null. Recursion is
 * bounded by the nesting limit already checked; the path is only built for a hit.
 */
function poisonedPath(value: unknown): string | null {
  const trail = value !== null && typeof value === 'object' ? poisonTrail(value) : null;
  if (trail === null) return null;
  let path = '';
  for (let i = trail.length - 1; i >= 0; i--) {
    const seg = trail[i];
    path = typeof seg === 'number' ? `${path}[${seg}]` : path ? `${path}.${seg}` : seg;
  }
  return path;
}

/** The path to the poisoning key, innermost segment first. Only objects are descended into. */
function poisonTrail(value: object): (string | number)[] | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v === null || typeof v !== 'object') continue;
      const found = poisonTrail(v);
      if (found !== null) return (found.push(i), found);
    }
    return null;
  }
  // for-in sees an own "__proto__" key (JSON.parse makes it an ordinary property); parsed objects
  // inherit nothing enumerable.
  for (const key in value) {
    if (key === '__proto__') return ['__proto__'];
    const v = (value as Record<string, unknown>)[key];
    if (v === null || typeof v !== 'object') continue;
    if (key === 'constructor' && Object.hasOwn(v, 'prototype')) return ['prototype', 'constructor'];
    const found = poisonTrail(v);
    if (found !== null) return (found.push(key), found);
  }
  return null;
}

/** Replaces fastify's application/json parser on `app` and every plugin registered after this. */
export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    let parsed: unknown;
    try {
      parsed = parseJsonBody(body as string, maxDepth);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    done(null, parsed);
  });
}

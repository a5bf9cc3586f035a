// The admin API's query parameters against the real service and embedded store: every bad value is a
// 400 naming the parameter, nothing internal ever reaches a body, a failing store is a 503.
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { validate } from '../src/config/load.js';
import { PARAMS } from '../src/admin/params.js';
import { QUERIES } from '../src/admin/routes.js';
import { chatCompletion, startUpstream, tempDir, type Upstream } from './helpers.js';

let upstream: Upstream;
let service: Service;

beforeAll(async () => {
  upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chatCompletion('hello')));
  });
  const config = validate({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: tempDir() },
    capture: { flushIntervalMs: 50 },
    models: [{ name: 'support-bot', deployments: [{ version: 'v1', upstream: upstream.url }] }],
    slos: [
      { name: 'avail', model: 'support-bot', sli: 'availability', objective: 0.99 },
      { name: 'fast', model: 'support-bot', sli: 'latency', thresholdMs: 500, objective: 0.9 },
    ],
    alerting: { evaluationInterval: '1h' },
  });
  service = await startService(config);
  for (let i = 0; i < 3; i++) {
    await request(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `params-${i}` },
      body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: `q${i}` }] }),
    }).then((r) => r.body.dump());
  }
  await service.pipeline.flush();
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await upstream?.close();
});

async function call(path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {}) {
  const res = await request(`${service.url}${path}`, { method: init.method ?? 'GET', headers: init.headers });
  const text = await res.body.text();
  return { status: res.statusCode, text, body: JSON.parse(text), headers: res.headers };
}

const INTERNAL = [/ClickHouse/i, /UInt/, /serializ/i, /TypeError/, /\n\s*at /, /\bat .+:\d+:\d+/, /DB::Exception/];
function expectNoInternals(text: string) {
  for (const pattern of INTERNAL) expect(text).not.toMatch(pattern);
}

async function expect400(path: string, param: string, message: RegExp) {
  const res = await call(path);
  expect(res.status, res.text).toBe(400);
  expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
  expect(res.body.error.message).toMatch(message);
  expect(typeof res.body.error.code).toBe('string');
  expectNoInternals(res.text);
}

describe('admin query parameters', () => {
  it('answers good queries', async () => {
    const page = await call('/api/samples?model=support-bot&limit=2&offset=0');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ limit: 2, offset: 0, next_offset: 2 });
    const since = await call(`/api/samples?from=${Date.now() - 3_600_000}&to=${Date.now() + 1000}&min_status=100&min_latency_ms=0.5`);
    expect(since.status).toBe(200);
    expect(since.body.items.length).toBeGreaterThan(0);
    expect((await call('/api/summary?since=1h')).body.versions[0]).toMatchObject({ model: 'support-bot', requests: 3 });
    expect((await call('/api/summary?since=400d')).status).toBe(200);
    expect((await call('/api/sli')).body.since).toBe('1h');
    expect((await call('/api/slos?refresh=true')).body.slos.length).toBeGreaterThan(0);
    expect((await call('/api/slos/report?since=30d')).body.slos.length).toBeGreaterThan(0);
    // An empty value is the same as leaving the parameter out.
    expect((await call('/api/samples?limit=&offset=&model=')).body).toMatchObject({ limit: 50, offset: 0 });
  });

  it('rejects bad numbers with a 400 naming the parameter', async () => {
    await expect400('/api/samples?limit=1.5', 'limit', /^'limit' must be an integer from 1 to 1000, got "1.5"$/);
    await expect400('/api/samples?limit=0', 'limit', /'limit' must be an integer from 1 to 1000/);
    await expect400('/api/samples?limit=1001', 'limit', /'limit'/);
    await expect400('/api/samples?offset=-5', 'offset', /^'offset' must be an integer from 0 to \d+, got "-5"$/);
    await expect400('/api/samples?from=1e20', 'from', /^'from' must be an integer from 0 to \d+, got "1e20"$/);
    await expect400('/api/samples?to=-1', 'to', /'to' must be an integer/);
    await expect400('/api/samples?min_latency_ms=1e308', 'min_latency_ms', /^'min_latency_ms' must be a number from 0 to \d+, got "1e308"$/);
    await expect400('/api/samples?min_latency_ms=NaN', 'min_latency_ms', /'min_latency_ms' must be a number/);
    await expect400('/api/samples?min_latency_ms=Infinity', 'min_latency_ms', /'min_latency_ms' must be a number/);
    await expect400('/api/samples?min_latency_ms=1e400', 'min_latency_ms', /got "1e400"$/);
    await expect400('/api/samples?limit=Infinity', 'limit', /'limit' must be an integer/);
    await expect400('/api/samples?limit=0x10', 'limit', /got "0x10"$/);
    await expect400('/api/samples?offset=%205', 'offset', /got " 5"$/);
    await expect400('/api/samples?min_status=99', 'min_status', /'min_status' must be an integer from 100 to 599/);
    await expect400('/api/samples?min_status=600', 'min_status', /'min_status'/);
    await expect400('/api/samples?from=2000&to=1000', 'to', /'to' \(1000\) is before 'from' \(2000\)/);
  });

  it('rejects bad durations, enums and over-long text', async () => {
    await expect400(`/api/summary?since=${'9'.repeat(300)}`, 'since', /^'since': invalid duration "9{40}…": expected a number and a unit/);
    await expect400(`/api/summary?since=${'9'.repeat(300)}d`, 'since', /^'since': duration "9{40}…" is too long: at most 400d$/);
    await expect400('/api/sli?since=401d', 'since', /too long: at most 400d/);
    await expect400('/api/slos/report?since=bogus', 'since', /invalid duration "bogus"/);
    await expect400('/api/samples?sli=vibes', 'sli', /^'sli' must be one of instruction_success, safe_response, hallucination_free, got "vibes"$/);
    await expect400('/api/samples?verdict=meh', 'verdict', /'verdict' must be one of good, bad, unknown/);
    await expect400('/api/slos?refresh=yes', 'refresh', /'refresh' must be one of true, false/);
    await expect400(`/api/samples?model=${'m'.repeat(300)}`, 'model', /'model' must be text of at most 256 characters/);
  });

  it('names a parameter given twice', async () => {
    await expect400('/api/summary?since=1h&since=2h', 'since', /^'since' was given 2 times; give it once$/);
    await expect400('/api/samples?model=a&model=b&model=c', 'model', /^'model' was given 3 times; give it once$/);
    await expect400('/api/slos?refresh=true&refresh=true', 'refresh', /given 2 times/);
  });

  it('rejects unknown parameters, naming them and what the endpoint takes', async () => {
    await expect400('/api/samples?modle=x', 'modle', /^unknown parameter 'modle'; this endpoint takes request_id, model, /);
    await expect400('/api/summary?limit=5', 'limit', /^unknown parameter 'limit'; this endpoint takes since$/);
    await expect400('/api/samples?__proto__=1', '__proto__', /unknown parameter '__proto__'/);
    const flush = await call('/api/capture/flush?now=1', { method: 'POST' });
    expect(flush.status).toBe(400);
    expect(flush.body.error.message).toBe("unknown parameter 'now'; this endpoint takes no parameters");
  });

  it('answers 503 store_unavailable when the store fails, without its message', async () => {
    const query = vi.spyOn(service.store.client, 'query').mockRejectedValue(new Error('Code: 27. DB::Exception: Cannot parse input: expected UInt32 (ClickHouse)'));
    try {
      for (const path of ['/api/summary', '/api/samples', '/api/sli?since=1d', '/api/slos?refresh=true', '/api/slos/report']) {
        const res = await call(path);
        expect(res.status, path).toBe(503);
        expect(res.body).toEqual({
          error: {
            message: 'the store is not answering right now; samples are being kept in the spill log and will be replayed',
            type: 'service_unavailable',
            code: 'store_unavailable',
            param: null,
          },
        });
        expect(res.headers['retry-after']).toBe('5');
      }
    } finally {
      query.mockRestore();
    }
    expect((await call('/api/summary')).status).toBe(200);
  });

  it('answers an unexpected error with a generic 500 carrying the request id', async () => {
    const flush = vi.spyOn(service.pipeline, 'flush').mockRejectedValueOnce(new TypeError('Refusing to serialize unsafe integer'));
    try {
      const res = await call('/api/capture/flush', { method: 'POST', headers: { 'x-request-id': 'admin-oops-1' } });
      expect(res.status).toBe(500);
      expect(res.body.error).toMatchObject({ type: 'internal_error', code: 'internal_error' });
      expect(res.body.error.message).toBe('internal error (request id admin-oops-1); the details are in the server log');
      expect(res.headers['x-request-id']).toBe('admin-oops-1');
      expectNoInternals(res.text);
    } finally {
      flush.mockRestore();
    }
  });
});

// Random query strings for every route: never a 5xx, never anything internal in the body.
const NAMES = Object.keys(PARAMS);
const FORBIDDEN = /clickhouse|uint|serializ|typeerror|\bat\b/i;
const junk = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !FORBIDDEN.test(s));
const digits = (maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength });
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String), // NaN, Infinity, -0, 5e-324, 1.7976931348623157e+308
  fc.double().map((x) => x.toExponential()),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toFixed(3)),
  fc.integer({ min: 0 }).map((n) => `0x${n.toString(16)}`),
  fc.integer({ min: 0 }).map((n) => `0o${n.toString(8)}`),
  fc.integer({ min: 0 }).map((n) => `0b${n.toString(2)}`),
  fc.integer().map((n) => ` +${n} `),
  fc.bigInt().map((n) => `${n}n`),
  digits(400),
  digits(30).map((d) => `-${d}`),
  digits(30).map((d) => `${d}.${d}e${d.length}`),
  fc.constantFrom('Infinity', '-Infinity', 'NaN', '1e', 'e5', '.', '-', '+', '1_000', '١٢٣', '１２', '1,5'),
);
const value = fc.oneof(
  numberText,
  fc.tuple(fc.oneof(numberText, digits(350)), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y', '', 'D', ' h')).map(([n, u]) => n + u),
  fc.constantFrom('', 'true', 'false', 'good', 'bad', 'unknown', 'instruction_success', 'latency', 'support-bot', 'v1', '1h', '400d', '401d', '7d'),
  junk,
);
const RAW = ['%ZZ', '%E2%82', '&&', '=', '==1', 'a[b]=1', '%00', 'since', 'limit=%2', '&limit'];
/** Query strings mostly of the route's own parameters (so values get past the unknown-name check), some junk. */
const queryString = (own: string[]) => {
  const key = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...(own.length ? own : NAMES)) }, { weight: 1, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: junk });
  const pair = fc.tuple(key, value).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return fc
    .array(fc.oneof({ weight: 8, arbitrary: pair }, { weight: 1, arbitrary: fc.constantFrom(...RAW) }), { maxLength: 5 })
    .chain((parts) => fc.oneof({ weight: 3, arbitrary: fc.constant(parts) }, { weight: 1, arbitrary: fc.constant([...parts, ...parts.slice(0, 1)]) })) // repeated keys
    .map((parts) => parts.join('&'));
};

const ROUTES: Array<['GET' | 'POST', string, string[]]> = (
  [
    ['GET', '/api/summary', QUERIES.summary],
    ['GET', '/api/samples', QUERIES.samples],
    ['GET', '/api/sli', QUERIES.sli],
    ['GET', '/api/slos', QUERIES.slos],
    ['GET', '/api/slos/report', QUERIES.report],
    ['POST', '/api/capture/flush', QUERIES.flush],
  ] as const
).map(([method, route, schema]) => [method, route, Object.keys(schema.properties)]);

describe('admin query strings, fuzzed', () => {
  it('every number notation for every numeric parameter of /api/samples', async () => {
    const numeric = ['min_status', 'min_latency_ms', 'from', 'to', 'limit', 'offset'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...numeric), numberText, async (name, text) => {
        const res = await call(`/api/samples?${name}=${encodeURIComponent(text)}`);
        expect([200, 400], `${name}=${text}: ${res.text}`).toContain(res.status);
        expectNoInternals(res.text);
        if (res.status === 400) expect(res.body.error.param).toBe(name);
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  for (const [method, route, own] of ROUTES) {
    it(`${method} ${route}: never a 5xx, never internal text`, async () => {
      await fc.assert(
        fc.asyncProperty(queryString(own), async (qs) => {
          const res = await call(`${route}?${qs}`, { method });
          expect(res.status, `${route}?${qs}: ${res.text}`).toBeLessThan(500);
          expectNoInternals(res.text);
          if (res.status === 400) {
            expect(res.body.error.type).toBe('invalid_request_error');
            expect(typeof res.body.error.param).toBe('string');
          } else {
            expect(res.status, `${route}?${qs}: ${res.text}`).toBe(200);
          }
        }),
        { numRuns: 150 },
      );
    }, 120_000);
  }
});

// Whatever a client sends, the proxy answers it (4xx, never a 5xx of its own), stays up, and records
// the request as a sample. Real loopback servers on both sides; the real service where samples matter.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawCaptureLimit } from '../src/capture/limits.js';
import type { Exchange } from '../src/capture/sample.js';
import { startService, type Service } from '../src/cli/service.js';
import { describeAjvError } from '../src/config/load.js';
import { parseLabels } from '../src/evaluate/feedback-routes.js';
import { createMetrics } from '../src/metrics/registry.js';
import { installJsonBodyParser, jsonDepth, parseJsonBody } from '../src/proxy/json-body.js';
import { RequestIds } from '../src/proxy/request-ids.js';
import { buildRoutes } from '../src/proxy/router.js';
import { RENAME_MAX_BYTES, proxyRoutes } from '../src/proxy/routes.js';
import { UpstreamPools } from '../src/proxy/upstream.js';
import { openStore, type Store } from '../src/store/client.js';
import { listSamples } from '../src/store/queries.js';
import { chatCompletion, eventually, sleep, startUpstream, tempDir, testConfig, type Upstream } from './helpers.js';

const dataPath = tempDir();
let store: Store;
let echo: Upstream;
let service: Service;

beforeAll(async () => {
  store = openStore({ path: dataPath, retentionDays: 30 });
  echo = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chatCompletion('fine', 'upstream-model')));
  });
  service = await startService(testConfig(dataPath, [{ version: 'v1', upstream: echo.url, upstreamModel: 'upstream-model' }]), { store });
});

afterAll(async () => {
  await service?.stop();
  await echo?.close();
  await store?.close();
});

const post = (path: string, body: string, headers: Record<string, string> = {}, url = service.url) =>
  request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

async function sampleOf(requestId: string, svc: Service | null = service): Promise<Record<string, any>> {
  return eventually<Record<string, any> | undefined>(async () => {
    if (svc) await svc.pipeline.flush();
    const [row] = await listSamples(store, { requestId, limit: 1, offset: 0 });
    return row as Record<string, any> | undefined;
  }) as Promise<Record<string, any>>;
}

/** `[[[…"x"…]]]` nested `levels` deep, built as text. */
const nested = (levels: number, inner = '"x"') => '['.repeat(levels) + inner + ']'.repeat(levels);
const chatWith = (content: string, extra = '') => `{"model":"support-bot","messages":[{"role":"user","content":${content}}]${extra}}`;

async function stillServing(): Promise<void> {
  const res = await post('/v1/chat/completions', chatWith('"are you alive?"'));
  expect(res.statusCode).toBe(200);
  expect(((await res.body.json()) as any).choices[0].message.content).toBe('fine');
}

describe('deeply nested JSON', () => {
  it('is a 400 naming server.maxBodyDepth, recorded as a sample, and the server stays up', async () => {
    // 5,000 levels in ~10 KB: this used to be a 500, then a crash cloning it to the capture worker.
    const body = chatWith(nested(5000));
    expect(body.length).toBeLessThan(11_000);
    const res = await post('/v1/chat/completions', body, { 'x-request-id': 'deep-5000' });
    const answer = (await res.body.json()) as any;
    expect(res.statusCode).toBe(400);
    expect(answer.error).toMatchObject({ type: 'invalid_request_error', code: 'body_too_deep' });
    expect(answer.error.message).toBe('request body is nested 5003 levels deep; the limit is server.maxBodyDepth = 64');
    expect(res.headers['x-request-id']).toBe('deep-5000');
    expect(await sampleOf('deep-5000')).toMatchObject({ status_code: 400, error_type: 'invalid_request_error', endpoint: 'chat' });
    await stillServing();
  });

  it('accepts exactly the limit and refuses one more', async () => {
    // The body object, messages, the message: 3 levels before content.
    const atLimit = await post('/v1/chat/completions', chatWith(nested(61)));
    expect(atLimit.statusCode).toBe(200);
    await atLimit.body.text();
    const over = await post('/v1/chat/completions', chatWith(nested(62)));
    expect(over.statusCode).toBe(400);
    expect(((await over.body.json()) as any).error.message).toMatch(/nested 65 levels deep; the limit is server.maxBodyDepth = 64/);
  });

  it('is refused on /v1/feedback and admin POSTs too, in OpenAI shape', async () => {
    for (const path of ['/v1/feedback', '/api/capture/flush']) {
      const res = await post(path, `{"request_id":"x","sli":"safe_response","verdict":"good","comment":${nested(5000)}}`);
      const answer = (await res.body.json()) as any;
      expect(res.statusCode, path).toBe(400);
      expect(answer.error.message, path).toMatch(/nested 5001 levels deep; the limit is server.maxBodyDepth = 64/);
    }
    await stillServing();
  });

  it('counts brackets inside strings as text, escapes included', () => {
    expect(jsonDepth('{"a":"[[[{{{\\"[[["}')).toBe(1);
    expect(jsonDepth('{"a\\\\":[{"b":"\\\\"}]}')).toBe(3);
    expect(() => parseJsonBody(`{"text":"${'['.repeat(10_000)}"}`, 64)).not.toThrow();
  });

  it('rejects a 60 KB body of brackets without parsing it', () => {
    const started = performance.now();
    expect(() => parseJsonBody(nested(30_000), 64)).toThrow(/nested 30000 levels deep/);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('describeAjvError on hostile values', () => {
  it('summarises a value nested 100,000 levels deep without recursing over it', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const issue = describeAjvError({ keyword: 'type', instancePath: '/comment', params: { type: 'string' }, schemaPath: '', message: 'must be string' }, { comment: deep });
    expect(issue.path).toBe('comment');
    expect(issue.found.length).toBeLessThanOrEqual(80);
    expect(issue.found.startsWith('[[[[')).toBe(true);
    expect(() => parseLabels({ request_id: 'r', sli: 'safe_response', verdict: 'good', comment: deep })).toThrow(/comment: expected a string, found \[\[\[\[/);
  });

  it('keeps short values exactly as JSON and cuts long or wide ones to 80 characters', () => {
    const found = (value: unknown) => describeAjvError({ keyword: 'type', instancePath: '/v', params: { type: 'string' }, schemaPath: '', message: '' }, { v: value }).found;
    expect(found(42)).toBe('42');
    expect(found({ a: [1, 'two', null], b: true })).toBe('{"a":[1,"two",null],"b":true}');
    expect(found('y'.repeat(1_000_000))).toBe(`"${'y'.repeat(76)}...`);
    const wide = found(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])));
    expect(wide.length).toBe(80);
    expect(wide.endsWith('...')).toBe(true);
  });

  it('a nested comment within the depth limit is a 400 naming the field', async () => {
    const res = await post('/v1/feedback', `{"request_id":"x","sli":"safe_response","verdict":"good","comment":${nested(60)}}`);
    const answer = (await res.body.json()) as any;
    expect(res.statusCode).toBe(400);
    expect(answer.error).toMatchObject({ param: 'comment', type: 'invalid_request_error' });
    expect(answer.error.message).toMatch(/^comment: expected a string, found \[\[\[\[/);
  });
});

describe('prototype-poisoning keys', () => {
  it.each([
    ['a __proto__ key in a message', chatWith('"x"', ',"extra":{"__proto__":{"admin":true}}'), 'extra.__proto__'],
    ['an escaped __proto__ key', `{"model":"support-bot","messages":[{"role":"user","content":"x","\\u005f_proto__":{"admin":true}}]}`, 'messages[0].__proto__'],
    ['constructor.prototype', chatWith('[{"type":"text","text":"x","constructor":{"prototype":{"admin":true}}}]'), 'messages[0].content[0].constructor.prototype'],
  ])('%s is a 400 naming the key, recorded', async (_name, body, path) => {
    const id = `proto-${path.length}`;
    const res = await post('/v1/chat/completions', body, { 'x-request-id': id });
    const answer = (await res.body.json()) as any;
    expect(res.statusCode).toBe(400);
    expect(answer.error.param).toBe(path);
    expect(answer.error.message).toBe(`request body key ${path} is refused: '__proto__' and 'constructor.prototype' keys can alter object prototypes`);
    expect(await sampleOf(id)).toMatchObject({ status_code: 400 });
  });

  it('finds escaped spellings wherever they are, and lets other escapes through', () => {
    expect(() => parseJsonBody('{"a":[{"constructor":{"\\u0070rototype":1}}]}', 64)).toThrow(/key a\[0\]\.constructor\.prototype is refused/);
    expect(() => parseJsonBody('{"\\u005F\\u005Fproto\\u005F\\u005F":1}', 64)).toThrow(/key __proto__ is refused/);
    expect(parseJsonBody('{"a":"\\u00e9\\u4f60","b":{"prototype":1},"constructor":2}', 64)).toEqual({ a: 'é你', b: { prototype: 1 }, constructor: 2 });
  });

  it('the same words as values, or a plain prototype key, are ordinary JSON', async () => {
    const res = await post('/v1/chat/completions', chatWith('"__proto__ and constructor.prototype"', ',"metadata":{"prototype":"v2","constructor":"Ferrari","x":"\\u00e9"}'));
    expect(res.statusCode).toBe(200);
    await res.body.text();
  });
});

describe('request ids', () => {
  it('a reused x-request-id gets a fresh id; the client id stays in meta as client_request_id', async () => {
    const first = await post('/v1/chat/completions', chatWith('"one"'), { 'x-request-id': 'dup-1' });
    await first.body.text();
    const second = await post('/v1/chat/completions', chatWith('"two"'), { 'x-request-id': 'dup-1' });
    await second.body.text();
    expect(first.headers['x-request-id']).toBe('dup-1');
    const fresh = String(second.headers['x-request-id']);
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    expect(await sampleOf(fresh)).toMatchObject({ meta: { client_request_id: 'dup-1' } });
    await service.pipeline.flush();
    expect(await listSamples(store, { requestId: 'dup-1', limit: 10, offset: 0 })).toHaveLength(1);
  });

  it('remembers a bounded number of ids', () => {
    const ids = new RequestIds(3);
    expect(ids.assign('a')).toEqual({ id: 'a', clientId: null });
    expect(ids.assign('a').clientId).toBe('a');
    ids.assign('b');
    ids.assign('c');
    // 'a' has left the window of the last 3 ids: usable again.
    expect(ids.assign('a')).toEqual({ id: 'a', clientId: null });
    expect(ids.assign('not valid!').clientId).toBeNull();
  });

  it('agrees with a plain list of the last N ids over a long random run', () => {
    const capacity = 50;
    const ids = new RequestIds(capacity);
    const recent: string[] = []; // every id handed out, newest last
    let reused = 0;
    for (let i = 0; i < 8_000; i++) {
      const candidate = `id-${Math.floor(Math.random() * 120)}`;
      const inUse = recent.slice(-capacity).includes(candidate);
      const { id, clientId } = ids.assign(candidate);
      expect(clientId !== null, `step ${i}`).toBe(inUse);
      expect(id === candidate).toBe(!inUse);
      if (inUse) reused++;
      recent.push(id);
    }
    expect(reused).toBeGreaterThan(500);
  });
});

describe('malformed bodies on /v1/feedback', () => {
  it('answers malformed JSON in OpenAI shape', async () => {
    const res = await post('/v1/feedback', '{"request_id": ');
    const answer = (await res.body.json()) as any;
    expect(res.statusCode).toBe(400);
    expect(answer).toEqual({ error: { message: expect.stringMatching(/^malformed JSON body: /), type: 'invalid_request_error', param: null, code: 'invalid_request' } });
  });

  it('answers a wrong content type and an oversized body in OpenAI shape', async () => {
    const wrongType = await request(`${service.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<x/>' });
    expect(wrongType.statusCode).toBe(415);
    expect(((await wrongType.body.json()) as any).error.code).toBe('unsupported_media_type');
    const huge = await post('/v1/feedback', JSON.stringify({ request_id: 'x', comment: 'y'.repeat(70_000) }));
    expect(huge.statusCode).toBe(413);
    expect(((await huge.body.json()) as any).error.code).toBe('body_too_large');
  });
});

/** Sends raw bytes on one socket and collects everything until the server closes it. */
function rawExchange(url: string, write: (socket: net.Socket) => Promise<void> | void): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => void Promise.resolve(write(socket)).catch(reject));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (data += d));
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.on('close', () => resolve(data));
  });
}

const chatRequest = (id: string, body = chatWith('"x"')) =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-request-id: ${id}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('answers given before any route runs', () => {
  it('headers over the limit: 431 in OpenAI shape for a proxy path, recorded; others as before', async () => {
    const big = `x-big: ${'a'.repeat(20_000)}\r\n`;
    const answer = await rawExchange(service.url, (s) => void s.write(`POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: x\r\nx-request-id: hdr-431\r\n${big}\r\n`));
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/\r\nx-request-id: hdr-431\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body.error).toMatchObject({ type: 'headers_too_large', code: 'headers_too_large' });
    expect(await sampleOf('hdr-431')).toMatchObject({ status_code: 431, error_type: 'headers_too_large', endpoint: 'chat' });

    const other = await rawExchange(service.url, (s) => void s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n${big}\r\n`));
    expect(other).toMatch(/^HTTP\/1\.1 431 /);
    expect(other).toContain('"statusCode":431');
    await stillServing();
  });

  it('during a drain: 503 server_draining for a proxy request on a kept-alive connection, recorded', async () => {
    let arrived = 0;
    const slow = await startUpstream(async (_req, res) => {
      arrived++;
      await sleep(300);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(chatCompletion('slow')));
    });
    const svc = await startService(testConfig(dataPath, [{ version: 'v1', upstream: slow.url }]), { store });
    let stopped: Promise<void> | undefined;
    // One connection: a slow request in flight, then (once the drain started) two more pipelined on it.
    const proxied = rawExchange(svc.url, async (socket) => {
      socket.write(chatRequest('drain-a'));
      await eventually(async () => arrived > 0);
      stopped = svc.stop();
      await sleep(30);
      socket.write(chatRequest('drain-b'));
    });
    const other = rawExchange(svc.url, async (socket) => {
      socket.write(chatRequest('drain-c'));
      await eventually(async () => arrived > 1);
      await eventually(async () => stopped !== undefined);
      await sleep(30);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    const [answer, otherAnswer] = await Promise.all([proxied, other]);
    await stopped;
    const responses = answer.split(/(?=HTTP\/1\.1 )/);
    expect(responses.map((r) => r.slice(9, 12))).toEqual(['200', '503']);
    expect(responses[1]).toMatch(/\r\nconnection: close\r\n/i);
    expect(responses[1]).toMatch(/\r\nx-request-id: drain-b\r\n/i);
    expect(JSON.parse(responses[1].slice(responses[1].indexOf('\r\n\r\n') + 4)).error).toMatchObject({ type: 'server_draining' });
    // Not a proxy path: fastify's answer, as before.
    expect(otherAnswer.split(/(?=HTTP\/1\.1 )/).map((r) => r.slice(9, 12))).toEqual(['200', '503']);
    expect(otherAnswer).toContain('{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}');
    // svc is stopped (its samples drained into the shared store).
    expect(await sampleOf('drain-b', null)).toMatchObject({ status_code: 503, error_type: 'server_draining', endpoint: 'chat' });
    expect(await sampleOf('drain-a', null)).toMatchObject({ status_code: 200 });
    await slow.close();
  });
});

describe('an upstream that breaks off a non-streamed answer', () => {
  it.each([
    ['content-length promised', true],
    ['chunked', false],
  ])('%s: 502 upstream_body_broken, recorded', async (name, withLength) => {
    const broken = await startUpstream((_req, res) => {
      res.writeHead(200, withLength ? { 'content-type': 'application/json', 'content-length': '1000' } : { 'content-type': 'application/json' });
      res.write('{"id":"chatcmpl-1","object":"chat.completion","choices":[{"message":{"content":"' + 'a'.repeat(400));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const svc = await startService(testConfig(dataPath, [{ version: 'v1', upstream: broken.url }]), { store });
    const id = `broken-${withLength ? 'length' : 'chunked'}`;
    const res = await post('/v1/chat/completions', chatWith('"x"'), { 'x-request-id': id }, svc.url);
    const answer = (await res.body.json()) as any;
    expect(res.statusCode, name).toBe(502);
    expect(answer.error.type).toBe('upstream_body_broken');
    expect(await sampleOf(id, svc)).toMatchObject({ status_code: 502, error_type: 'upstream_body_broken' });
    await svc.stop();
    await broken.close();
  });
});

/** The proxy's routes in a bare fastify app, with the Exchanges it hands to capture collected. */
async function proxyApp(upstreamUrl: string, captureLimit: number): Promise<{ url: string; exchanges: Exchange[]; close(): Promise<void> }> {
  const config = testConfig(dataPath, [{ version: 'v1', upstream: upstreamUrl, upstreamModel: 'upstream-model' }]);
  const exchanges: Exchange[] = [];
  const upstreams = new UpstreamPools({ connections: 4, connectTimeoutMs: 2_000, timeoutMs: 30_000 });
  const app: FastifyInstance = Fastify({ bodyLimit: config.server.bodyLimitBytes });
  installJsonBodyParser(app, config.server.maxBodyDepth);
  await app.register(proxyRoutes, {
    routes: buildRoutes(config.models),
    specNames: new Set<string>(),
    upstreams,
    capture: (e) => exchanges.push(e),
    metrics: createMetrics([], { processMetrics: false }),
    checkKey: null,
    env: {},
    captureLimit,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, exchanges, close: async () => (await app.close(), await upstreams.close()) };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const capturedBytes = (e: Exchange) => e.response.chunks.reduce((n, c) => n + c.length, 0);

describe('answers larger than the capture limit', () => {
  const limit = rawCaptureLimit(256 * 1024);
  // ~20 MB of JSON, sent in 64 KB writes; with and without a content-length.
  const big = Buffer.from(JSON.stringify({ ...chatCompletion('z'.repeat(20 * 1024 * 1024)), model: 'upstream-model' }));
  let upstream: Upstream;
  let proxy: Awaited<ReturnType<typeof proxyApp>>;

  beforeAll(async () => {
    upstream = await startUpstream(async (req, res, body) => {
      const { messages, stream } = JSON.parse(body);
      const mode = messages[0].content as string;
      if (stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = `data: ${JSON.stringify({ choices: [{ delta: { content: 'w'.repeat(16 * 1024) } }] })}\n\n`;
        for (let i = 0; i < 1300; i++) if (!res.write(event)) await new Promise((r) => res.once('drain', r));
        res.end('data: [DONE]\n\n');
        return;
      }
      if (mode === 'small') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...chatCompletion('s'.repeat(200_000)), model: 'upstream-model' }));
        return;
      }
      res.writeHead(200, mode === 'length' ? { 'content-type': 'application/json', 'content-length': String(big.length) } : { 'content-type': 'application/json' });
      for (let at = 0; at < big.length; at += 65_536) if (!res.write(big.subarray(at, at + 65_536))) await new Promise((r) => res.once('drain', r));
      res.end();
    });
    proxy = await proxyApp(upstream.url, limit);
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it.each(['length', 'chunked'])('non-streamed ~20 MB (%s): the client gets every byte, the Exchange at most the limit', async (mode) => {
    const before = proxy.exchanges.length;
    const res = await post('/v1/chat/completions', chatWith(JSON.stringify(mode)), {}, proxy.url);
    const received = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    // Streamed through unchanged: the upstream's bytes, its model name included.
    expect(received.length).toBe(big.length);
    expect(sha(received)).toBe(sha(big));
    const exchange = proxy.exchanges[before];
    expect(capturedBytes(exchange)).toBeLessThanOrEqual(limit);
    expect(capturedBytes(exchange)).toBe(limit);
    expect(exchange.response.truncated).toBe(true);
    expect(exchange).toMatchObject({ statusCode: 200, errorType: '' });
    expect(Buffer.concat(exchange.response.chunks).equals(big.subarray(0, limit))).toBe(true);
  });

  it('a body under RENAME_MAX_BYTES is still renamed; its capture cut at a smaller limit', async () => {
    const small = await proxyApp(upstream.url, rawCaptureLimit(1024));
    try {
      const res = await post('/v1/chat/completions', chatWith('"small"'), {}, small.url);
      const answer = (await res.body.json()) as any;
      expect(answer.model).toBe('support-bot');
      expect(answer.choices[0].message.content.length).toBe(200_000);
      const [exchange] = small.exchanges;
      expect(capturedBytes(exchange)).toBe(rawCaptureLimit(1024));
      expect(exchange.response.truncated).toBe(true);
      expect(RENAME_MAX_BYTES).toBeGreaterThan(200_000);
    } finally {
      await small.close();
    }
  });

  it('streamed ~20 MB: the client gets every byte, the Exchange at most the limit', async () => {
    const before = proxy.exchanges.length;
    const res = await post('/v1/chat/completions', chatWith('"stream"', ',"stream":true'), {}, proxy.url);
    const received = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(received.toString('latin1').endsWith('data: [DONE]\n\n')).toBe(true);
    expect(received.length).toBeGreaterThan(20 * 1024 * 1024);
    const exchange = proxy.exchanges[before];
    expect(exchange.response.kind).toBe('sse');
    expect(capturedBytes(exchange)).toBe(limit);
    expect(exchange.response.truncated).toBe(true);
  });

  it('an answer under the limit is captured whole, not flagged', async () => {
    const res = await post('/v1/chat/completions', chatWith('"small"'), {}, proxy.url);
    await res.body.text();
    const exchange = proxy.exchanges.at(-1)!;
    expect(exchange.response.truncated).toBeUndefined();
    expect(JSON.parse(Buffer.concat(exchange.response.chunks).toString()).model).toBe('upstream-model');
  });
});

describe('a slow-reading client', () => {
  it('many backpressure waits on one response add no lingering listeners', async () => {
    const chunk = `data: ${JSON.stringify({ choices: [{ delta: { content: 'q'.repeat(64 * 1024) } }] })}\n\n`;
    const chunks = 80;
    const sse = await startUpstream(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < chunks; i++) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      res.end();
    });
    const svc = await startService(testConfig(dataPath, [{ version: 'v1', upstream: sse.url }]), { store });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    // Count the proxy's writes (not the upstream's) that had to wait for 'drain'.
    const proxyPort = Number(new URL(svc.url).port);
    const write = http.ServerResponse.prototype.write;
    let waits = 0;
    http.ServerResponse.prototype.write = function (this: http.ServerResponse, ...args: unknown[]) {
      const ok = (write as (...a: unknown[]) => boolean).apply(this, args);
      if (!ok && this.socket?.localPort === proxyPort) waits++;
      return ok;
    } as typeof write;
    try {
      const body = JSON.stringify({ model: 'support-bot', stream: true, messages: [{ role: 'user', content: 'x' }] });
      let received = 0;
      await new Promise<void>((resolve, reject) => {
        const { port } = new URL(svc.url);
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
        });
        // Read a little every few ms: the proxy's writes keep outrunning the client.
        socket.pause();
        const timer = setInterval(() => {
          const piece = socket.read(32 * 1024) ?? socket.read();
          if (piece) received += piece.length;
        }, 2);
        socket.on('end', () => {
          clearInterval(timer);
          resolve();
        });
        socket.on('readable', () => undefined);
        socket.on('error', reject);
      });
      expect(received).toBeGreaterThan(chunks * chunk.length);
      await sleep(20); // warnings are emitted on a later tick
      expect(waits).toBeGreaterThanOrEqual(20);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      http.ServerResponse.prototype.write = write;
      process.off('warning', onWarning);
      await svc.stop();
      await sse.close();
    }
  }, 60_000);
});

describe('a grab-bag of odd requests', () => {
  const raw = (body: string | Buffer, headers: Record<string, string>) => request(`${service.url}/v1/chat/completions`, { method: 'POST', headers, body });
  it.each([
    ['a text/plain body', () => raw('hello', { 'content-type': 'text/plain' })],
    ['no content type', () => raw('{"model":"support-bot"}', {})],
    ['an unknown content type', () => raw('<x/>', { 'content-type': 'application/xml' })],
    ['JSON null', () => post('/v1/chat/completions', 'null')],
    ['a JSON array', () => post('/v1/chat/completions', '[1,2]')],
    ['a JSON string', () => post('/v1/chat/completions', '"hi"')],
    ['an empty body', () => post('/v1/chat/completions', '')],
    ['invalid UTF-8', () => raw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), { 'content-type': 'application/json' })],
    ['a UTF-16 charset', () => raw(chatWith('"x"'), { 'content-type': 'application/json; charset=utf-16' })],
    ['messages as an object', () => post('/v1/chat/completions', '{"model":"support-bot","messages":{"0":{"role":"user"}}}')],
    ['content of every JSON type', () => post('/v1/chat/completions', chatWith('[1,true,null,{"a":[]},"x",-0.5e300]'))],
    ['a 60 KB model name', () => post('/v1/chat/completions', JSON.stringify({ model: 'm'.repeat(60_000), messages: [{ role: 'user', content: 'x' }] }))],
    ['tunewatch.meta nested', () => post('/v1/chat/completions', chatWith('"x"', ',"tunewatch":{"meta":{"a":{"b":1}}}'))],
    ['a __proto__ meta header', () => post('/v1/chat/completions', chatWith('"x"'), { 'x-tunewatch-meta-__proto__': 'x', 'x-tunewatch-meta-constructor': 'y' })],
    ['a huge x-request-id', () => post('/v1/chat/completions', chatWith('"x"'), { 'x-request-id': 'r'.repeat(10_000) })],
    ['a garbage traceparent', () => post('/v1/chat/completions', chatWith('"x"'), { traceparent: '00-zz-yy-01' })],
    ['an unknown spec header', () => post('/v1/chat/completions', chatWith('"x"'), { 'x-tunewatch-spec': '../../etc' })],
  ])('%s: a 2xx or 4xx answer', async (_name, send) => {
    const res = await send();
    const text = await res.body.text();
    expect(res.statusCode, text).toBeLessThan(500);
    if (res.statusCode >= 400) expect(JSON.parse(text).error.message).toBeTypeOf('string');
    expect(text.length).toBeLessThan(2_000); // a 60 KB model name is not echoed back whole
  });

  it('unknown model names do not become metric label values', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'made-up-model-7f3a', messages: [{ role: 'user', content: 'x' }] }));
    expect(res.statusCode).toBe(404);
    await res.body.text();
    const metrics = await (await request(`${service.url}/metrics`)).body.text();
    expect(metrics).not.toContain('made-up-model-7f3a');
    expect(metrics).toMatch(/gen_ai_server_request_duration_seconds_count\{gen_ai_request_model="",[^}]*status_class="4xx"/);
  });
});

describe('the server after all of the above', () => {
  it('still answers, and no client-caused 5xx was recorded', async () => {
    await stillServing();
    await service.pipeline.flush();
    const rows = await listSamples(store, { limit: 1000, offset: 0 });
    const ours = rows.filter((r: any) => r.status_code >= 500 && !['upstream_body_broken', 'server_draining'].includes(r.error_type));
    expect(ours).toEqual([]);
  });
});

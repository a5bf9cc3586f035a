import type { FastifyRequest } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAllowed } from '../src/admin/routes.js';
import { startService, type Service } from '../src/cli/service.js';
import { createModerationClient } from '../src/evaluate/moderation.js';
import { hashApiKey } from '../src/proxy/auth.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { sleep, startUpstream, tempDir, testConfig } from './helpers.js';

let sim: Simulator;
let service: Service;
const ADMIN = 'admin-token-for-tests';

beforeAll(async () => {
  sim = await startSimulator({ profile: 'instant' });
  service = await startService(
    testConfig(tempDir(), [{ version: 'v1', upstream: sim.url }], { auth: { apiKeys: [{ id: 'team-a', sha256: hashApiKey('client-key') }] } }),
    { env: { ...process.env, TUNEWATCH_ADMIN_TOKEN: ADMIN } },
  );
  const res = await request(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer client-key', 'x-request-id': 'auth-1' },
    body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.text();
  await service.pipeline.flush();
});
afterAll(async () => {
  await service?.stop();
  await sim?.close();
});

const get = (path: string, token?: string) => request(`${service.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const label = (authorization: string) =>
  request(`${service.url}/v1/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ request_id: 'auth-1', sli: 'safe_response', verdict: 'bad', correction: 'Hello! How can I help?' }),
  });

describe('admin API and labels behind tokens', () => {
  it('requires the admin token once one is set', async () => {
    const denied = await get('/api/samples');
    expect(denied.statusCode).toBe(401);
    expect(((await denied.body.json()) as any).error.message).toBe('missing or wrong admin token');
    expect((await get('/api/samples', 'wrong')).statusCode).toBe(401);
    const ok = await get('/api/samples?request_id=auth-1', ADMIN);
    expect(ok.statusCode).toBe(200);
    expect(((await ok.body.json()) as any).items[0]).toMatchObject({ request_id: 'auth-1', tenant: 'team-a' });
  });

  it('takes labels with a client key or the admin token, and refuses anything else', async () => {
    expect((await label('Bearer nope')).statusCode).toBe(401);
    expect((await label('Bearer client-key')).statusCode).toBe(201);
    expect((await label(`Bearer ${ADMIN}`)).statusCode).toBe(201);
    const rs = await service.store.client.query({ query: "SELECT correction FROM evaluations WHERE request_id = 'auth-1' AND source = 'human'", format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ correction: 'Hello! How can I help?' }, { correction: 'Hello! How can I help?' }]);
  });

  it('answers only on loopback while no admin token is set', () => {
    const from = (remoteAddress: string) => ({ socket: { remoteAddress }, headers: {} }) as unknown as FastifyRequest;
    expect(adminAllowed(from('127.0.0.1'), undefined)).toBe(true);
    expect(adminAllowed(from('::1'), undefined)).toBe(true);
    expect(adminAllowed(from('10.1.2.3'), undefined)).toBe(false);
  });

  it('rejects a bad period for the SLO report', async () => {
    const res = await get('/api/slos/report?since=bogus', ADMIN);
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as any).error.message).toMatch(/invalid duration "bogus"/);
  });
});

describe('moderation endpoint failures are unknown, never good', () => {
  it('times out to unknown, errors to unknown, and never exceeds its concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = await startUpstream(async (req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(300);
      inFlight--;
      if (req.headers['x-fail']) return res.writeHead(500).end('boom');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ flagged: false, categories: {}, category_scores: {} }] }));
    });
    const tight = createModerationClient({ url: slow.url, timeoutMs: 100, concurrency: 2 });
    const verdict = await tight.check('hello');
    expect(verdict).toMatchObject({ verdict: 'unknown', reason: 'moderation: no answer within 100 ms' });
    await sleep(400); // the server finishes the abandoned request before concurrency is measured
    peak = 0;
    const relaxed = createModerationClient({ url: slow.url, timeoutMs: 5000, concurrency: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => relaxed.check('hello')));
    expect(results.every((r) => r.verdict === 'good')).toBe(true);
    expect(peak).toBeLessThanOrEqual(2);
    const failing = await startUpstream((_req, res) => res.writeHead(500).end('boom'));
    const broken = createModerationClient({ url: failing.url, timeoutMs: 1000, concurrency: 1 });
    expect(await broken.check('hello')).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('500') });
    await Promise.all([tight.close(), relaxed.close(), broken.close(), slow.close(), failing.close()]);
  });
});

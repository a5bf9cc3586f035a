// The status page behind an admin token: a browser signs in once with /ui?token=…, which becomes an
// HttpOnly cookie; without it (or with a wrong token) the page and the API stay closed.
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { testConfig, tempDir } from './helpers.js';

const TOKEN = 'admin-secret-42';
let service: Service;

beforeAll(async () => {
  service = await startService(testConfig(join(tempDir(), 'data'), [{ version: 'v1', upstream: 'http://127.0.0.1:9' }]), { env: { TUNEWATCH_ADMIN_TOKEN: TOKEN } });
});
afterAll(() => service?.stop());

const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await request(`${service.url}${path}`, { headers });
  await res.body.text();
  return res;
};

describe('the status page with an admin token', () => {
  it('is closed without the token, and with a wrong one', async () => {
    expect((await get('/ui')).statusCode).toBe(401);
    expect((await get('/ui?token=wrong')).statusCode).toBe(401);
    expect((await get('/ui', { cookie: 'tunewatch_admin=wrong' })).statusCode).toBe(401);
  });

  it('signs a browser in with /ui?token=…: an HttpOnly cookie, then the page and the API answer', async () => {
    const signIn = await get(`/ui?token=${TOKEN}`);
    expect(signIn.statusCode).toBe(303);
    expect(signIn.headers.location).toBe('/ui');
    const cookie = String(signIn.headers['set-cookie']);
    expect(cookie).toMatch(/^tunewatch_admin=admin-secret-42; HttpOnly; SameSite=Strict; Path=\//);
    const session = { cookie: cookie.split(';')[0]! };
    expect((await get('/ui', session)).statusCode).toBe(200);
    expect((await get('/ui/canary', session)).statusCode).toBe(200);
    expect((await get('/api/summary', session)).statusCode).toBe(200);
    expect((await get('/api/summary', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
  });
});

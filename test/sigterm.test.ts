import { PROXY_NODE_FLAGS } from '../src/cli/runtime.js';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/client.js';
import { countSamples } from '../src/store/queries.js';
import { startServeProcess } from './serve-process.js';
import { chatCompletion, eventually, sleep, startUpstream } from './helpers.js';


const upstreamPromise = startUpstream(async (_req, res) => {
  await sleep(400); // long enough that SIGTERM lands while these requests are in flight
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(chatCompletion('done')));
});
afterAll(async () => (await upstreamPromise).close());

describe('serve: SIGTERM drain', () => {
  it('stops accepting, finishes in-flight requests, flushes every sample and exits 0', async () => {
    const upstream = await upstreamPromise;
    const serve = await startServeProcess(upstream.url);
    const { child, base, exited } = serve;
    // serve relaunched itself with the V8 flags the proxy needs; SIGTERM below goes to the launcher.
    const [server] = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
    expect(readFileSync(`/proc/${server}/cmdline`, 'utf8').split('\0')).toContain(PROXY_NODE_FLAGS[0]);

    const before = upstream.received.length;
    const inFlight = Array.from({ length: 12 }, (_, i) =>
      request(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `drain-${i}` },
        body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: `q${i}` }] }),
      }).then(async (res) => ({ status: res.statusCode, body: await res.body.text() })),
    );
    // Signal once the upstream holds all 12: each was accepted and is in flight (a sleep is not enough on a busy box).
    await eventually(async () => upstream.received.length - before >= 12 || undefined, 30_000);
    child.kill('SIGTERM');
    await sleep(50);
    const late = await request(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(
      (res) => res.statusCode,
      () => 'refused',
    );

    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(['refused', 503]).toContain(late);
    expect(await exited).toBe(0);
    expect(serve.output()).toContain('draining');

    // The child released the data directory; every answered request is stored.
    const store = openStore({ path: serve.dataPath, retentionDays: 30 });
    try {
      // A late request answered 503 while draining is a sample too.
      const expected = 12 + (late === 503 ? 1 : 0);
      expect(await countSamples(store)).toEqual({ rows: expected, distinct: expected });
    } finally {
      await store.close();
    }
  }, 60_000);
});

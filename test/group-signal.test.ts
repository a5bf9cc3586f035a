// Ctrl-C in a terminal, systemd's KillMode=control-group and npm wrappers signal the whole process
// group: the server, its relaunched child and the embedded store process at once. That must drain
// exactly like a signal to the server alone.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/client.js';
import { countSamples } from '../src/store/queries.js';
import { startServeProcess } from './serve-process.js';
import { chatCompletion, eventually, sleep, startUpstream } from './helpers.js';


const upstreamPromise = startUpstream(async (_req, res) => {
  await sleep(1000); // long enough that the signal lands while these requests are in flight
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(chatCompletion('done')));
});
afterAll(async () => (await upstreamPromise).close());

describe('serve: a signal to the whole process group', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to the group drains, exits 0 and leaves every answered request in the store, not the spill`, async () => {
      const upstream = await upstreamPromise;
      const serve = await startServeProcess(upstream.url, { detached: true });
      const { child, base, exited } = serve;

      let answered = 0;
      const before = upstream.received.length;
      const inFlight = Array.from({ length: 20 }, (_, i) =>
        request(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `group-${signal}-${i}` },
          body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: `q${i}` }] }),
        }).then(async (res) => {
          await res.body.text();
          if (res.statusCode === 200) answered++;
          return res.statusCode;
        }),
      );
      // Signal once the upstream holds every request: each was accepted and is in flight.
      await eventually(async () => upstream.received.length - before >= 20 || undefined, 30_000).catch(() => undefined);
      process.kill(-child.pid!, signal); // the whole group, as Ctrl-C does
      const statuses = await Promise.all(inFlight).catch((err) => {
        throw new Error(`${err.message}; server output:\n${serve.output()}`);
      });
      expect(statuses).toEqual(Array(20).fill(200));
      expect(await exited).toBe(0);
      expect(serve.output()).not.toMatch(/EPIPE|capture worker exited|embedded store process exited|^\s+at /m);

      const spill = join(serve.dataPath, 'spill');
      expect(existsSync(spill) ? readdirSync(spill).filter((f) => f.endsWith('.ndjson')) : []).toEqual([]);
      const store = openStore({ path: serve.dataPath, retentionDays: 30 });
      try {
        expect(await countSamples(store)).toEqual({ rows: answered, distinct: answered });
      } finally {
        await store.close();
      }
    }, 90_000);
  }
});

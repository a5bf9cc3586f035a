// Ctrl-C in a terminal, systemd's KillMode=control-group and npm wrappers signal the whole process
// group: the server, its relaunched child and the embedded store process at once. That must drain
// exactly like a signal to the server alone.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/cli/processes.js';
import { openStore } from '../src/store/client.js';
import { countSamples } from '../src/store/queries.js';
import { chatCompletion, eventually, sleep, startUpstream, tempDir } from './helpers.js';

const root = join(import.meta.dirname, '..');

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
      const dir = tempDir();
      const port = await freePort();
      const configFile = join(dir, 'tunewatch.yaml');
      // A long flush interval: samples still in memory at the signal must be written by the drain.
      writeFileSync(
        configFile,
        `server: { port: ${port} }\nstorage: { path: ${join(dir, 'data')} }\ncapture: { flushIntervalMs: 60000 }\nmodels:\n  - name: support-bot\n    deployments: [{ version: v1, upstream: ${upstream.url} }]\n`,
      );
      // detached: the child leads a process group of its own, as a shell job or a systemd unit does.
      const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--config', configFile], {
        cwd: root,
        env: { ...process.env, TUNEWATCH_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await request(`${base}/healthz`)).statusCode === 200, 30_000);

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
        throw new Error(`${err.message}; server output:\n${output}`);
      });
      expect(statuses).toEqual(Array(20).fill(200));
      expect(await exited).toBe(0);
      expect(output).not.toMatch(/EPIPE|capture worker exited|embedded store process exited|^\s+at /m);

      const spill = join(dir, 'data', 'spill');
      expect(existsSync(spill) ? readdirSync(spill).filter((f) => f.endsWith('.ndjson')) : []).toEqual([]);
      const store = openStore({ path: join(dir, 'data'), retentionDays: 30 });
      try {
        expect(await countSamples(store)).toEqual({ rows: answered, distinct: answered });
      } finally {
        await store.close();
      }
    }, 90_000);
  }
});

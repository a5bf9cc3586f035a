// Faults with real processes: the embedded store process killed, the capture worker crashing, the
// store rejecting rows, the spill folder unwritable. Afterwards every answered request is a stored
// sample, except what was quarantined, shed or dropped, and counted; /readyz followed the state.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { countSamples } from '../src/store/queries.js';
import { eventually, sleep, tempDir, testConfig } from './helpers.js';

// Restarts take a few seconds on a busy 2-core box (chDB opening its data directory).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const dataPath = tempDir();
let sim: Simulator;
let service: Service;
let answered = 0;
/**
 * Samples counted as dropped that reached the store anyway: a worker ending abruptly may have had
 * its last insert committed without having said so. Counted conservatively, at most a batch.
 */
let countedButStored = 0;

beforeAll(async () => {
  sim = await startSimulator({ profile: 'instant' });
  const config = testConfig(dataPath, [{ version: 'v1', upstream: sim.url }], {
    capture: { batchSize: 20, storeDownGraceMs: 0, replayIntervalMs: 200 },
  });
  // The worker opens the store itself: the real topology, with the store process a child of the worker.
  service = await startService(config, { env: { ...process.env, TUNEWATCH_FAULT_INJECTION: '1' } });
});

afterAll(async () => {
  await service?.stop();
  await sim?.close();
});

async function chat(id?: string): Promise<number> {
  const res = await request(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(id ? { 'x-request-id': id } : {}) },
    body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: `question ${id ?? Math.random()}` }] }),
  });
  await res.body.text();
  answered++;
  return res.statusCode;
}

/**
 * Four clients sending until `during` resolves (about 400 requests/s, short of saturating the two
 * cores this shares with the store and the test itself); /readyz is read every 50 ms meanwhile.
 */
async function underTraffic(during: () => Promise<void>): Promise<{ statuses: number[]; readiness: { status: number; reasons: string[] }[] }> {
  let stop = false;
  const statuses: number[] = [];
  const readiness: { status: number; reasons: string[] }[] = [];
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) {
      statuses.push(await chat());
      await sleep(10);
    }
  });
  const probe = (async () => {
    while (!stop) {
      const res = await request(`${service.url}/readyz`);
      readiness.push({ status: res.statusCode, reasons: ((await res.body.json()) as { reasons: string[] }).reasons });
      await sleep(50);
    }
  })();
  await during();
  stop = true;
  await Promise.all([...clients, probe]);
  return { statuses, readiness };
}

const metric = async (name: string) => {
  const text = await (await request(`${service.url}/metrics`)).body.text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
};

const ready = async () => (await request(`${service.url}/readyz`)).statusCode === 200;

/** Everything answered is stored, or counted as quarantined, shed or dropped; never stored twice. */
async function expectAllAccountedFor(): Promise<void> {
  await eventually(async () => service.pipeline.health().worker === 'running', 45_000);
  await service.pipeline.flush();
  await eventually(async () => {
    await service.pipeline.replayNow();
    return service.pipeline.health().spillBatches === 0;
  }, 45_000);
  const { rows, distinct } = await countSamples(service.store);
  const h = service.pipeline.health();
  expect(rows).toBe(distinct);
  expect(distinct + h.quarantined + (h.shed ?? 0) + h.dropped - countedButStored).toBe(answered);
}

describe('faults under traffic', () => {
  it('the store process killed with SIGKILL: restarted, nothing lost, /readyz said so meanwhile', async () => {
    await eventually(async () => service.pipeline.health().storePid !== null);
    const pid = service.pipeline.health().storePid!;
    const { statuses, readiness } = await underTraffic(async () => {
      await sleep(300);
      process.kill(pid, 'SIGKILL');
      await eventually(async () => (await metric('tunewatch_store_restarts_total')) === 1, 45_000);
      await sleep(300);
    });
    expect(statuses.every((s) => s === 200)).toBe(true); // the proxy kept answering
    expect(readiness.some((r) => r.status === 503 && r.reasons.some((x) => /store/.test(x)))).toBe(true);
    expect(service.pipeline.health().storePid).not.toBe(pid);
    await eventually(ready, 45_000);
    // The admin API reads through the new process.
    expect((await request(`${service.url}/api/summary?since=1h`)).statusCode).toBe(200);
    await expectAllAccountedFor();
    expect(service.pipeline.health().dropped).toBe(0);
  });

  it('an uncaught exception in the capture worker: it saves what it holds, is restarted, nothing is lost', async () => {
    const { readiness } = await underTraffic(async () => {
      await sleep(300);
      service.pipeline.injectFault('throw');
      await eventually(async () => service.pipeline.health().workerRestarts === 1 && service.pipeline.health().worker === 'running', 45_000);
      await sleep(300);
    });
    expect(readiness.some((r) => r.status === 503 && r.reasons.some((x) => /capture worker/.test(x)))).toBe(true);
    expect(await metric('tunewatch_capture_worker_restarts_total')).toBe(1);
    await expectAllAccountedFor();
    expect(service.pipeline.health().dropped).toBe(0);
    expect((await request(`${service.url}/api/summary?since=1h`)).statusCode).toBe(200);
  });

  it('the capture worker thread ending abruptly: restarted; what it held is counted as dropped', async () => {
    await underTraffic(async () => {
      await sleep(300);
      service.pipeline.injectFault('exit');
      await eventually(async () => service.pipeline.health().workerRestarts === 2 && service.pipeline.health().worker === 'running', 45_000);
      await sleep(300);
    });
    await service.pipeline.flush();
    const { distinct } = await countSamples(service.store);
    const h = service.pipeline.health();
    const accounted = distinct + h.quarantined + (h.shed ?? 0) + h.dropped;
    // Nothing unaccounted for; at most one batch counted as lost that the store had taken.
    expect(distinct).toBeLessThanOrEqual(answered);
    expect(accounted).toBeGreaterThanOrEqual(answered);
    expect(accounted - answered).toBeLessThanOrEqual(20);
    countedButStored = accounted - answered;
    await expectAllAccountedFor();
  });

  it('the store rejecting rows: the rest of each batch is stored, the rejected rows quarantined with the reason', async () => {
    await service.store.client.command({ query: "ALTER TABLE samples ADD CONSTRAINT no_poison CHECK request_id NOT LIKE 'poison-%'" });
    try {
      const before = service.pipeline.health().quarantined;
      const ids = Array.from({ length: 30 }, (_, i) => (i % 10 === 3 ? `poison-${i}` : `fine-${i}`));
      await Promise.all(ids.map((id) => chat(id)));
      await service.pipeline.flush();
      expect(service.pipeline.health().quarantined - before).toBe(3);
      const quarantined = readFileSync(join(dataPath, 'quarantine', 'rejected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(quarantined.map((q) => q.samples[0].request_id).sort()).toEqual(['poison-13', 'poison-23', 'poison-3']);
      expect(quarantined[0]).toMatchObject({ type: 'VIOLATED_CONSTRAINT' });
      expect(quarantined[0].reason).toMatch(/no_poison/);
      expect(await metric('tunewatch_capture_rows_quarantined_total')).toBe(3);
      // Later traffic is not held up behind them.
      expect(await chat('after-poison')).toBe(200);
      await service.pipeline.flush();
      expect(service.pipeline.health().spillBatches).toBe(0);
    } finally {
      await service.store.client.command({ query: 'ALTER TABLE samples DROP CONSTRAINT no_poison' });
    }
    await expectAllAccountedFor();
  });

  it('the spill folder unwritable while the store refuses: drops are counted and /readyz says why; capture resumes after', async () => {
    const spillDir = join(dataPath, 'spill');
    await service.store.client.command({ query: 'DETACH TABLE samples' });
    rmSync(spillDir, { recursive: true, force: true });
    writeFileSync(spillDir, 'not a folder'); // even root cannot write files under a file
    try {
      const dropped = service.pipeline.health().dropped;
      for (let i = 0; i < 10; i++) await chat();
      await service.pipeline.flush();
      expect(service.pipeline.health().dropped - dropped).toBe(10);
      const res = await request(`${service.url}/readyz`);
      expect(res.statusCode).toBe(503);
      const body = (await res.body.json()) as { reasons: string[] };
      expect(body.reasons).toContain('spill log not writable');
      expect(body.reasons.some((r) => /^\d+ sample\(s\) dropped or shed in the last minute$/.test(r))).toBe(true);
    } finally {
      rmSync(spillDir, { force: true });
      await service.store.client.command({ query: 'ATTACH TABLE samples' });
    }
    expect(await chat('after-spill-fault')).toBe(200);
    await expectAllAccountedFor();
  });

  it('counts every request per minute, with what has no sample, in capture_coverage_1m', async () => {
    await service.pipeline.flush();
    const rs = await service.store.client.query({
      query: 'SELECT sum(requests) AS requests, sum(not_captured) AS not_captured FROM capture_coverage_1m',
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const [row] = await rs.json<{ requests: number; not_captured: number }>();
    const h = service.pipeline.health();
    // Exact, except that counts a dying worker had stored but not yet acknowledged are sent again (at least once).
    expect(Number(row.requests)).toBeGreaterThanOrEqual(answered);
    expect(Number(row.requests) - answered).toBeLessThanOrEqual(h.coverageResent ?? 0);
    expect(Number(row.not_captured)).toBe(h.quarantined + h.dropped + (h.shed ?? 0));
  });
});

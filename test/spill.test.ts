import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../src/cli/service.js';
import { clickhouseSink, dedupToken } from '../src/capture/sink.js';
import { SpillLog } from '../src/capture/spill.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { openStore, type Store } from '../src/store/client.js';
import { countSamples, listSamples } from '../src/store/queries.js';
import { eventually, tempDir, testConfig } from './helpers.js';

const dataPath = tempDir();
let store: Store;
let sim: Simulator;

beforeAll(async () => {
  store = openStore({ path: dataPath, retentionDays: 30 });
  sim = await startSimulator({ profile: 'instant' });
});
afterAll(async () => {
  await sim?.close();
  await store?.close();
});

// The store is made to refuse inserts for real: the samples table is detached, so ClickHouse answers
// "table does not exist" exactly as it would during an outage of that table.
const makeStoreRefuse = () => store.client.command({ query: 'DETACH TABLE samples' });
const makeStoreAccept = () => store.client.command({ query: 'ATTACH TABLE samples' });

async function send(url: string, n: number, prefix: string): Promise<number> {
  let answered = 0;
  for (let i = 0; i < n; i++) {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `${prefix}-${i}` },
      body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: `question ${i}` }] }),
    });
    await res.body.text();
    if (res.statusCode === 200) answered++;
  }
  return answered;
}

const metric = async (url: string, name: string) => {
  const text = await (await request(`${url}/metrics`)).body.text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
};

describe('capture: spill and replay', () => {
  it('spills while the store refuses and replays every sample exactly once when it is back', async () => {
    const config = testConfig(dataPath, [{ version: 'v1', upstream: sim.url }], { capture: { batchSize: 7, replayIntervalMs: 100 } });
    const service = await startService(config, { store });
    const before = (await countSamples(store)).rows;
    await makeStoreRefuse();
    const answered = await send(service.url, 40, 'spill');
    expect(answered).toBe(40);
    await service.pipeline.flush();

    const spillDir = join(dataPath, 'spill');
    expect(readdirSync(spillDir).filter((f) => f.endsWith('.ndjson')).length).toBeGreaterThan(1);
    expect(await metric(service.url, 'tunewatch_capture_rows_spilled_total')).toBe(40);
    const ready = await request(`${service.url}/readyz`);
    expect(ready.statusCode).toBe(200); // spill has room, so samples still have somewhere to go
    expect(await ready.body.json()).toMatchObject({ store: 'failing', spillBatches: expect.any(Number) });

    await makeStoreAccept();
    await eventually(async () => service.pipeline.health().spillBatches === 0);
    const after = await countSamples(store);
    expect(after.rows - before).toBe(40);
    expect(after.rows).toBe(after.distinct);
    expect(await metric(service.url, 'tunewatch_capture_rows_replayed_total')).toBe(40);
    expect(readdirSync(spillDir).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
    const [one] = await listSamples(store, { requestId: 'spill-17', limit: 1, offset: 0 });
    expect(one).toMatchObject({ request_id: 'spill-17', status_code: 200, version: 'v1' });
    await service.stop();
  });

  it('stores a batch once even when it is inserted twice (retry after an ambiguous failure)', async () => {
    const sink = clickhouseSink(store);
    const [template] = (await listSamples(store, { requestId: 'spill-1', limit: 1, offset: 0 })) as any[];
    const rows = [0, 1, 2].map((i) => ({ ...template, request_id: `dup-${i}`, ts: Date.parse(template.ts + 'Z') }));
    const batch = { samples: rows, evaluations: [] };
    await sink.insert(batch, dedupToken(batch));
    await sink.insert(batch, dedupToken(batch));
    const found = await listSamples(store, { model: 'support-bot', limit: 1000, offset: 0 });
    expect(found.filter((r) => String(r.request_id).startsWith('dup-')).length).toBe(3);
  });

  it('counts, logs and reports drops when even the spill log is full, and keeps what it accepted', async () => {
    const config = testConfig(tempDir(), [{ version: 'v1', upstream: sim.url }], { capture: { spillMaxBytes: 0 } });
    const service = await startService(config, { store });
    await makeStoreRefuse();
    try {
      expect(await send(service.url, 5, 'drop')).toBe(5);
      await service.pipeline.flush();
      expect(await metric(service.url, 'tunewatch_capture_rows_dropped_total')).toBe(5);
      const ready = await request(`${service.url}/readyz`);
      expect(ready.statusCode).toBe(503);
      expect(await ready.body.json()).toMatchObject({ status: 'not ready', dropped: 5, spillHasRoom: false });
    } finally {
      await makeStoreAccept();
    }
    await service.stop();
    expect((await countSamples(store)).distinct).toBe((await countSamples(store)).rows);
  });

  it('keeps spilled batches across restarts and hands them back oldest first', async () => {
    const dir = tempDir();
    const first = new SpillLog<number[]>(dir, 1_000_000);
    await first.append([1]);
    await first.append([2, 3]);
    const reopened = new SpillLog<number[]>(dir, 1_000_000);
    expect(reopened.pendingBatches).toBe(2);
    expect(await reopened.peek()).toEqual([1]);
    await reopened.shift();
    expect(await reopened.peek()).toEqual([2, 3]);
    await reopened.append([4]);
    await reopened.shift();
    expect(await reopened.peek()).toEqual([4]);
    expect(reopened.hasRoomFor(2_000_000)).toBe(false);
  });
});

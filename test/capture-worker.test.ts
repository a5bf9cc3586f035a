import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { openStore } from '../src/store/client.js';
import { countSamples } from '../src/store/queries.js';
import { tempDir, testConfig } from './helpers.js';
import { toPosted, fromPosted } from '../src/capture/worker-protocol.js';
import { staysInBackground } from '../src/capture/capture-worker.js';
import { existsSync, readFileSync } from 'node:fs';
import { canLeaveIdle } from '../src/util/priority.js';
import type { Exchange } from '../src/capture/sample.js';

// Here the service opens the embedded store itself, so the capture worker owns it and this thread
// queries it through the worker (the other test files hand the service a store of their own).
const dataPath = tempDir();
let sim: Simulator;
let service: Service;

const chat = (content: string) =>
  request(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content }] }),
  });

beforeAll(async () => {
  sim = await startSimulator({ profile: 'instant', seed: 3 });
  service = await startService(testConfig(dataPath, [{ version: 'v1', upstream: sim.url }]));
});

afterAll(async () => {
  await service?.stop();
  await sim?.close();
});

describe('capture worker', () => {
  it('owns the embedded store: samples it writes are read through the relay', async () => {
    for (let i = 0; i < 25; i++) await (await chat(`question ${i}, mail me at ann${i}@example.com`)).body.text();
    await service.pipeline.flush();
    expect(service.store.kind).toBe('embedded');
    expect(await countSamples(service.store)).toEqual({ rows: 25, distinct: 25 });
    expect(service.pipeline.health()).toMatchObject({ queueDepth: 0, dropped: 0, lastInsertOk: true });
  });

  it('merges the worker’s counters into /metrics, with each metric family once', async () => {
    const text = await (await request(`${service.url}/metrics`)).body.text();
    const rowsWritten = /^tunewatch_capture_rows_written_total (\d+)/m.exec(text);
    expect(Number(rowsWritten?.[1])).toBeGreaterThanOrEqual(25);
    expect(text).toMatch(/^tunewatch_sli_events_total\{[^}]*sli="safe_response"[^}]*\} \d+/m);
    expect(text).toMatch(/^gen_ai_server_request_duration_seconds_count\{/m);
    const typeLines = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(typeLines).size).toBe(typeLines.length);
    expect(typeLines.filter((l) => l.startsWith('# TYPE process_cpu_user_seconds_total')).length).toBe(1);
  });

  it('refuses to start on a data directory another process holds, and says so', async () => {
    // This process's worker holds dataPath; a second store opened from here is another chDB process.
    const locked = tempDir();
    const holder = openStore({ path: locked, retentionDays: 30 });
    await holder.client.ping();
    try {
      await expect(startService(testConfig(locked, [{ version: 'v1', upstream: sim.url }]))).rejects.toThrow(/embedded store/);
    } finally {
      await holder.close();
    }
  });
});

describe('capture worker gone', () => {
  it('counts and reports a sample it can no longer take, without failing the request path', async () => {
    const svc = await startService(testConfig(tempDir(), [{ version: 'v1', upstream: sim.url }]));
    try {
      await svc.pipeline.drain(); // the worker stops, as after a crash
      const exchange = { requestId: 'late', response: { kind: 'none', chunks: [] } } as unknown as Exchange;
      expect(() => svc.pipeline.enqueue(exchange)).not.toThrow();
      expect(svc.pipeline.health().dropped).toBe(1);
      const text = await (await request(`${svc.url}/metrics`)).body.text();
      expect(text).toMatch(/^tunewatch_capture_rows_dropped_total 1$/m);
    } finally {
      await svc.stop();
    }
  });
});

describe('capture worker behind', () => {
  it('takes at most capture.queueSize samples ahead of the worker, shedding at random above half of it', async () => {
    const svc = await startService(testConfig(tempDir(), [{ version: 'v1', upstream: sim.url }], { capture: { queueSize: 10, batchSize: 5 } }));
    try {
      const exchange = (i: number) =>
        ({
          requestId: `burst-${i}`, ts: Date.now(), tenant: '', model: 'support-bot', version: 'v1', role: 'baseline', upstream: sim.url,
          endpoint: 'chat', stream: false, statusCode: 200, errorType: '', latencyMs: 1, ttftMs: null,
          request: { model: 'support-bot', messages: [{ role: 'user', content: 'hi' }] },
          response: { kind: 'json', chunks: [Buffer.from(JSON.stringify({ choices: [{ message: { content: 'hello' } }] }))] },
          traceId: '', userKey: null, meta: {}, spec: '', context: '',
        }) as Exchange;
      // In one turn of the event loop: the worker cannot have taken any yet.
      for (let i = 0; i < 25; i++) svc.pipeline.enqueue(exchange(i));
      const { shed } = svc.pipeline.health();
      expect(shed).toBeGreaterThanOrEqual(15); // never more than the bound waits
      expect(shed).toBeLessThanOrEqual(20); // the first half of the bound is always kept
      await svc.pipeline.flush();
      const rows = (await countSamples(svc.store)).rows;
      expect(rows + shed!).toBe(25);
      const text = await (await request(`${svc.url}/metrics`)).body.text();
      const counted = [...text.matchAll(/^tunewatch_capture_rows_shed_total\{reason="(\w+)"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[2]), 0);
      expect(counted).toBe(shed);
    } finally {
      await svc.stop();
    }
  });
});

describe('exchange messages', () => {
  it('carry the answer bytes in one standalone buffer and come back equal', () => {
    // A view into a larger buffer, as sockets deliver them: only the view's bytes may travel.
    const pooled = Buffer.from('xxxx{"choices":[]}yyyy');
    const exchange = { requestId: 'r1', response: { kind: 'json', chunks: [pooled.subarray(4, 10), pooled.subarray(10, 18)] } } as unknown as Exchange;
    const { posted, transfer } = toPosted(exchange);
    expect(transfer.byteLength).toBe(14);
    const back = fromPosted(posted);
    expect(Buffer.concat(back.response.chunks).toString()).toBe('{"choices":[]}');
    expect(back.requestId).toBe('r1');
  });

  it('carry the proxy\'s truncation mark', () => {
    const { posted } = toPosted({ requestId: 'r3', response: { kind: 'json', chunks: [Buffer.from('{"choices":[{"message":{"content":"cut')], truncated: true } } as unknown as Exchange);
    expect(fromPosted(posted).response.truncated).toBe(true);
  });

  it('an empty answer posts no bytes', () => {
    const { posted } = toPosted({ requestId: 'r2', response: { kind: 'none', chunks: [] } } as unknown as Exchange);
    expect(fromPosted(posted).response.chunks).toEqual([]);
  });
});

describe('background scheduling', () => {
  it('runs the capture worker and the store process it started as SCHED_IDLE, niced', () => {
    const tid = service.pipeline.threadId;
    expect(tid).toBeGreaterThan(0);
    // /proc/<pid>/task/<tid>/stat: nice is field 19, the scheduling policy field 41 (SCHED_IDLE = 5).
    const fields = (path: string) => {
      const stat = readFileSync(path, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    };
    const worker = fields(`/proc/${process.pid}/task/${tid}/stat`);
    expect(Number(worker[16])).toBe(10);
    expect(Number(worker[38])).toBe(5);
    const kids = readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/);
    expect(kids.length).toBe(1);
    const store = fields(`/proc/${kids[0]}/stat`);
    expect(Number(store[38])).toBe(5);
    expect(Number(store[16])).toBeGreaterThanOrEqual(10);
  });

  it('leaves the background when more than two batches behind, and returns within half a batch', () => {
    expect(staysInBackground(1000, true, 500)).toBe(true);
    expect(staysInBackground(1001, true, 500)).toBe(false);
    expect(staysInBackground(300, false, 500)).toBe(false);
    expect(staysInBackground(249, false, 500)).toBe(true);
  });
});

describe('leaving SCHED_IDLE', () => {
  it('is allowed here (root), and refused to a user without CAP_SYS_NICE and with RLIMIT_NICE 0', async () => {
    expect(await canLeaveIdle()).toBe(process.getuid?.() === 0);
    // The same probe as uid/gid 65534 (nobody): SCHED_IDLE may be entered, not left.
    if (existsSync('/usr/bin/setpriv')) expect(await canLeaveIdle(['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'])).toBe(false);
  });
});

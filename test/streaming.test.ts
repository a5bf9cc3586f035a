import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { openStore, type Store } from '../src/store/client.js';
import { listSamples } from '../src/store/queries.js';
import { eventually, sleep, startUpstream, tempDir, testConfig, type Upstream } from './helpers.js';

// SSE events exactly as an upstream sends them, including a split in the middle of an event,
// odd spacing and a comment line, so "byte for byte" is a real check.
const FIRST_CHUNK_DELAY_MS = 150;
const CHUNKS = [
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
  ': keep-alive comment\n\ndata: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Action "}}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"items: call 415-555-2671"}}]}\n\ndata: {"id":"c1","obj',
  'ect":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}\n\ndata: [DONE]\n\n',
];

const dataPath = tempDir();
let store: Store;
let upstream: Upstream;
let service: Service;
let upstreamAborted = 0;

beforeAll(async () => {
  store = openStore({ path: dataPath, retentionDays: 30 });
  upstream = await startUpstream(async (req, res, body) => {
    const slowForever = JSON.parse(body).messages[0].content === 'never-ending';
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.on('close', () => {
      if (!res.writableFinished) upstreamAborted++;
    });
    await sleep(FIRST_CHUNK_DELAY_MS);
    if (slowForever) {
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write(`data: {"choices":[{"delta":{"content":"tick ${i} "}}]}\n\n`);
        await sleep(50);
      }
      res.end();
      return;
    }
    for (const chunk of CHUNKS) {
      res.write(chunk);
      await sleep(20);
    }
    res.end();
  });
  service = await startService(testConfig(dataPath, [{ version: 'v1', upstream: upstream.url }]), { store });
});

afterAll(async () => {
  await service?.stop();
  await upstream?.close();
  await store?.close();
});

const streamRequest = (content: string, requestId: string) =>
  request(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'support-bot', stream: true, messages: [{ role: 'user', content }] }),
  });

describe('streaming pass-through', () => {
  it('forwards SSE byte for byte, chunk by chunk, and captures the assembled answer with TTFT', async () => {
    const started = performance.now();
    const res = await streamRequest('hello', 'stream-1');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-model-version']).toBe('v1');
    expect(res.headers['x-request-id']).toBe('stream-1');
    const arrivals: number[] = [];
    const received: Buffer[] = [];
    for await (const chunk of res.body) {
      arrivals.push(performance.now() - started);
      received.push(chunk as Buffer);
    }
    expect(Buffer.concat(received).toString('utf8')).toBe(CHUNKS.join(''));
    // Not buffered: the client saw several separate arrivals spread over the upstream's pacing.
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(50);

    await service.pipeline.flush();
    const [s] = (await listSamples(store, { requestId: 'stream-1', limit: 1, offset: 0 })) as any[];
    expect(s).toMatchObject({ stream: true, status_code: 200, finish_reason: 'stop', input_tokens: 9, output_tokens: 5, tokens_estimated: false });
    expect(s.response).toBe('Action items: call [PHONE]');
    expect(s.pii).toEqual({ 'response:PHONE': 1 });
    expect(s.ttft_ms).toBeGreaterThanOrEqual(FIRST_CHUNK_DELAY_MS - 5);
    expect(s.ttft_ms).toBeLessThan(s.latency_ms);
  });

  it('aborts the upstream when the client disconnects and records the sample as such', async () => {
    const controller = new AbortController();
    const res = await request(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'stream-abort' },
      body: JSON.stringify({ model: 'support-bot', stream: true, messages: [{ role: 'user', content: 'never-ending' }] }),
      signal: controller.signal,
    });
    let seen = 0;
    await expect(
      (async () => {
        for await (const chunk of res.body) {
          seen += (chunk as Buffer).length;
          if (seen > 0) controller.abort();
        }
      })(),
    ).rejects.toThrow();
    await eventually(async () => upstreamAborted > 0);
    await service.pipeline.flush();
    const [s] = (await eventually(async () => {
      await service.pipeline.flush();
      const rows = await listSamples(store, { requestId: 'stream-abort', limit: 1, offset: 0 });
      return rows.length ? rows : undefined;
    })) as any[];
    expect(s).toMatchObject({ status_code: 499, error_type: 'client_disconnected', stream: true });
    expect(s.response).toContain('tick 0');
  });
});

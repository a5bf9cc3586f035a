import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { hashApiKey } from '../src/proxy/auth.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { openStore, type Store } from '../src/store/client.js';
import { listSamples } from '../src/store/queries.js';
import { chatCompletion, startUpstream, tempDir, testConfig, type Upstream } from './helpers.js';

// One embedded store per test file (chDB holds one data directory per process), shared by the services below.
const dataPath = tempDir();
let store: Store;
let sim: Simulator;
let echo: Upstream;
let service: Service;

const chat = (body: unknown, headers: Record<string, string> = {}, url = service.url) =>
  request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function sampleOf(requestId: string, svc = service) {
  await svc.pipeline.flush();
  const [row] = await listSamples(store, { requestId, limit: 1, offset: 0 });
  return row as Record<string, any>;
}

beforeAll(async () => {
  store = openStore({ path: dataPath, retentionDays: 30 });
  sim = await startSimulator({ profile: 'instant', seed: 7 });
  // An upstream that answers a fixed completion, so tests can see exactly what the proxy forwarded.
  echo = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chatCompletion('Action items:\n- call jane@corp.example back', 'llama-3-8b-sft-v12')));
  });
  service = await startService(
    testConfig(dataPath, [
      { version: 'v12', upstream: echo.url, upstreamModel: 'llama-3-8b-sft-v12', weight: 50, apiKeyEnv: 'TW_TEST_UPSTREAM_KEY' },
      { version: 'v13', upstream: sim.url, weight: 50, canary: true },
    ], { specs: { 'action-items': { requiredSections: ['Action items'] } } }),
    { store, env: { ...process.env, TW_TEST_UPSTREAM_KEY: 'sk-upstream-secret' } },
  );
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([sim?.close(), echo?.close()]);
  await store?.close();
});

/** A user key that routes to the wanted version (routing is deterministic, so search a few). */
async function userFor(version: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const res = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'hi' }], user: `probe-${i}` });
    await res.body.text();
    if (res.headers['x-model-version'] === version) return `probe-${i}`;
  }
  throw new Error(`no user routes to ${version}`);
}

describe('proxy: forwarding and capture', () => {
  it('forwards a chat completion, renames the model both ways, and captures a redacted sample', async () => {
    const user = await userFor('v12');
    echo.received.length = 0;
    const res = await chat(
      {
        model: 'support-bot',
        messages: [{ role: 'user', content: 'Email me at bob@example.com about ticket 42' }],
        user,
        tunewatch: { spec: 'action-items', context: 'ticket 42 is about billing', meta: { team: 'support' } },
      },
      { 'x-request-id': 'req-forward-1', 'x-tunewatch-meta-channel': 'web', authorization: 'Bearer client-secret' },
    );
    const body = (await res.body.json()) as any;
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-forward-1');
    expect(res.headers['x-model-version']).toBe('v12');
    expect(body.model).toBe('support-bot');

    const forwarded = echo.received[0];
    const sent = JSON.parse(forwarded.body);
    expect(sent.model).toBe('llama-3-8b-sft-v12');
    expect(sent.tunewatch).toBeUndefined();
    expect(forwarded.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(forwarded.headers['x-request-id']).toBe('req-forward-1');
    expect(forwarded.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const s = await sampleOf('req-forward-1');
    expect(s).toMatchObject({ model: 'support-bot', version: 'v12', role: 'baseline', endpoint: 'chat', status_code: 200, stream: false });
    expect(s.prompt).toContain('[EMAIL]');
    expect(s.prompt).not.toContain('bob@example.com');
    expect(s.response).toBe('Action items:\n- call [EMAIL] back');
    expect(s.pii).toEqual({ 'prompt:EMAIL': 1, 'response:EMAIL': 1 });
    expect(s).toMatchObject({ input_tokens: 11, output_tokens: 7, tokens_estimated: false, finish_reason: 'stop', spec: 'action-items' });
    expect(s.meta).toEqual({ team: 'support', channel: 'web' });
    expect(s.context).toBe('ticket 42 is about billing');
    expect(s.trace_id).toBe(forwarded.headers.traceparent!.toString().split('-')[1]);
    expect(s.user_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(s)).not.toContain('client-secret');
    expect(JSON.stringify(s)).not.toContain('sk-upstream-secret');
  });

  it('continues the caller trace from traceparent and stores its trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }] }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-request-id': 'req-trace' });
    await res.body.text();
    expect((await sampleOf('req-trace')).trace_id).toBe(traceId);
  });

  it('replaces a malformed x-request-id with a generated one', async () => {
    const res = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }] }, { 'x-request-id': 'bad id with spaces' });
    await res.body.text();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a user on one version across requests', async () => {
    const versions = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await chat({ model: 'support-bot', messages: [{ role: 'user', content: `q${i}` }] }, { 'x-tunewatch-user': 'sticky-user' });
      await res.body.text();
      versions.add(String(res.headers['x-model-version']));
    }
    expect(versions.size).toBe(1);
  });

  it('estimates tokens when the upstream reports no usage, and says so', async () => {
    const bare = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...chatCompletion('twelve chars'), usage: undefined }));
    });
    const svc = await startService(testConfig(dataPath, [{ version: 'v1', upstream: bare.url }]), { store });
    const res = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }] }, { 'x-request-id': 'req-estimate' }, svc.url);
    await res.body.text();
    const s = await sampleOf('req-estimate', svc);
    expect(s).toMatchObject({ tokens_estimated: true, output_tokens: 3 });
    await svc.stop();
    await bare.close();
  });

  it('serves /v1/models, /v1/completions and /v1/embeddings', async () => {
    const models = (await (await request(`${service.url}/v1/models`)).body.json()) as any;
    expect(models.data.map((m: any) => m.id)).toEqual(['support-bot']);
    const user = await userFor('v13');
    for (const [path, body] of [
      ['/v1/completions', { model: 'support-bot', prompt: 'Say hi', user }],
      ['/v1/embeddings', { model: 'support-bot', input: 'hello', user }],
    ] as const) {
      const res = await request(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.statusCode).toBe(200);
      await res.body.json();
    }
  });

  it('works with the official openai client, streaming and not', async () => {
    const client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'unused' });
    const plain = await client.chat.completions.create({ model: 'support-bot', messages: [{ role: 'user', content: 'List action items' }], user: await userFor('v13') });
    expect(plain.choices[0].message.content).toContain('Action items');
    const stream = await client.chat.completions.create({ model: 'support-bot', messages: [{ role: 'user', content: 'List action items' }], stream: true, user: await userFor('v13') });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(plain.choices[0].message.content);
  });

  it('exposes GenAI metrics and capture counters on /metrics', async () => {
    await service.pipeline.flush();
    const text = await (await request(`${service.url}/metrics`)).body.text();
    expect(text).toMatch(/gen_ai_server_request_duration_seconds_bucket\{.*gen_ai_request_model="support-bot".*tunewatch_model_version="v12".*tunewatch_role="baseline".*status_class="2xx"/);
    expect(text).toMatch(/gen_ai_server_time_to_first_token_seconds_count\{[^}]*tunewatch_model_version="v13"/);
    expect(text).toMatch(/gen_ai_client_token_usage_bucket\{[^}]*gen_ai_token_type="input"/);
    expect(text).toMatch(/tunewatch_proxy_overhead_seconds_count\{gen_ai_request_model="support-bot"\} \d+/);
    expect(text).toMatch(/tunewatch_capture_rows_written_total [1-9]\d*/);
    expect(text).toContain('tunewatch_capture_queue_depth');
  });

  it('answers /healthz and /readyz', async () => {
    expect((await request(`${service.url}/healthz`)).statusCode).toBe(200);
    const ready = await request(`${service.url}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toMatchObject({ status: 'ready', store: 'ok' });
  });
});

describe('proxy: errors are OpenAI-shaped and still captured', () => {
  const cases: [string, () => Promise<Awaited<ReturnType<typeof chat>>>, number, string, RegExp][] = [
    ['unknown model', () => chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }, { 'x-request-id': 'err-404' }), 404, 'err-404', /model 'nope' does not exist/],
    ['malformed JSON', () => chat('{"model": "support-bot", "messages": [', { 'x-request-id': 'err-json' }), 400, 'err-json', /malformed JSON/],
    ['missing messages', () => chat({ model: 'support-bot' }, { 'x-request-id': 'err-msg' }), 400, 'err-msg', /'messages' is required/],
    ['missing model', () => chat({ messages: [] }, { 'x-request-id': 'err-model' }), 400, 'err-model', /'model' is required/],
    ['malformed tunewatch object', () => chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }], tunewatch: { spec: 3 } }, { 'x-request-id': 'err-tw' }), 400, 'err-tw', /'tunewatch.spec' must be a string/],
    ['unknown tunewatch key', () => chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }], tunewatch: { labels: {} } }, { 'x-request-id': 'err-tw2' }), 400, 'err-tw2', /unknown key\(s\) labels/],
    ['body over the limit', () => chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }, { 'x-request-id': 'err-413' }), 413, 'err-413', /larger than the configured limit/],
  ];
  for (const [name, send, status, id, message] of cases) {
    it(`${name} → ${status}`, async () => {
      const res = await send();
      const body = (await res.body.json()) as any;
      expect(res.statusCode).toBe(status);
      expect(body.error.message).toMatch(message);
      expect(body.error.type).toBeTypeOf('string');
      expect(res.headers['x-request-id']).toBe(id);
      expect(await sampleOf(id)).toMatchObject({ status_code: status });
    });
  }

  it('upstream refused → 502, upstream too slow → 504, both captured', async () => {
    const hang = await startUpstream(() => {
      /* never answers */
    });
    const closed = await startUpstream(() => {});
    const closedUrl = closed.url;
    await closed.close();
    const svc = await startService(
      validateTwo(closedUrl, hang.url),
      { store },
    );
    const refused = await request(`${svc.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'err-502' }, body: JSON.stringify({ model: 'down', messages: [{ role: 'user', content: 'x' }] }) });
    expect(refused.statusCode).toBe(502);
    expect(((await refused.body.json()) as any).error.type).toBe('upstream_unreachable');
    const slow = await request(`${svc.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'err-504' }, body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }) });
    expect(slow.statusCode).toBe(504);
    expect(((await slow.body.json()) as any).error.type).toBe('upstream_timeout');
    expect(await sampleOf('err-502', svc)).toMatchObject({ status_code: 502, error_type: 'upstream_unreachable', model: 'down' });
    expect(await sampleOf('err-504', svc)).toMatchObject({ status_code: 504, error_type: 'upstream_timeout', model: 'slow' });
    await svc.stop();
    await hang.close();
  });

  it('passes upstream errors through with their status', async () => {
    const failing = await startUpstream((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }));
    });
    const svc = await startService(testConfig(dataPath, [{ version: 'v1', upstream: failing.url }]), { store });
    const res = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }] }, { 'x-request-id': 'err-503' }, svc.url);
    expect(res.statusCode).toBe(503);
    expect(((await res.body.json()) as any).error.message).toBe('overloaded');
    expect(await sampleOf('err-503', svc)).toMatchObject({ status_code: 503, error_type: 'upstream_error', response: expect.stringContaining('overloaded') });
    await svc.stop();
    await failing.close();
  });

  it('requires a configured client key, compared by hash', async () => {
    const svc = await startService(
      testConfig(dataPath, [{ version: 'v1', upstream: sim.url }], { auth: { apiKeys: [{ id: 'team-a', sha256: hashApiKey('tw-key-a') }] } }),
      { store },
    );
    const denied = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer wrong', 'x-request-id': 'err-401' }, svc.url);
    expect(denied.statusCode).toBe(401);
    expect(((await denied.body.json()) as any).error.code).toBe('invalid_api_key');
    const allowed = await chat({ model: 'support-bot', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer tw-key-a', 'x-request-id': 'ok-auth' }, svc.url);
    expect(allowed.statusCode).toBe(200);
    await allowed.body.text();
    expect(await sampleOf('ok-auth', svc)).toMatchObject({ tenant: 'team-a' });
    expect(await sampleOf('err-401', svc)).toMatchObject({ status_code: 401 });
    await svc.stop();
  });

  function validateTwo(downUrl: string, slowUrl: string) {
    const c = testConfig(dataPath, [{ version: 'v1', upstream: downUrl }], { server: { upstreamTimeoutMs: 300, connectTimeoutMs: 500 } });
    c.models = [
      { name: 'down', deployments: [{ version: 'v1', upstream: downUrl, weight: 1, canary: false }] },
      { name: 'slow', deployments: [{ version: 'v1', upstream: slowUrl, weight: 1, canary: false }] },
    ];
    return c;
  }
});

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { openStore, type Store } from '../src/store/client.js';
import { sliCounts } from '../src/store/verdicts.js';
import { chatCompletion, eventually, startUpstream, tempDir, testConfig, type Upstream } from './helpers.js';

// Answers keyed by the user's message, so each test controls exactly what the "model" says.
const ANSWERS: Record<string, string> = {
  'triage ok': 'Action items:\n- Refund order 1042\n- Email the customer',
  'triage rambling': 'Well, there is a lot one could say about this ticket and it depends on many things.',
  'leak please': 'Action items:\n- Call Jane at jane.doe@corp.example or +1 415 555 2671',
  grounded: 'Action items:\n- The refund of $120 was approved on 2024-03-01',
  invented: 'Action items:\n- Revenue grew 47% in 2019 according to Dr. Alan Whitfield',
};

const dataPath = tempDir();
let store: Store;
let upstream: Upstream;
let moderation: Upstream;
let judge: Upstream;
let service: Service;

const specs = {
  'action-items': { requiredSections: ['Action items'], minBullets: 1, maxWords: 60 },
  'ticket-json': { jsonSchema: { type: 'object', required: ['priority'], properties: { priority: { enum: ['low', 'high'] } } } },
};

beforeAll(async () => {
  store = openStore({ path: dataPath, retentionDays: 30 });
  upstream = await startUpstream((_req, res, body) => {
    const user = JSON.parse(body).messages.at(-1).content as string;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chatCompletion(ANSWERS[user] ?? 'Action items:\n- ok')));
  });
  // A moderation endpoint (OpenAI moderations API) that flags any answer mentioning "Whitfield".
  moderation = await startUpstream((_req, res, body) => {
    const flagged = String(JSON.parse(body).input).includes('Whitfield');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'modr-1', model: 'omni', results: [{ flagged, categories: { harassment: flagged }, category_scores: { harassment: flagged ? 0.9 : 0.01 } }] }));
  });
  // An LLM judge that only rates the 'triage ok' answer (anything else gets a reply that is not a verdict,
  // which must be ignored), so the other tests see the automatic verdicts.
  judge = await startUpstream((_req, res, body) => {
    const prompt = JSON.parse(body).messages[1].content as string;
    const reply = prompt.includes('Refund order 1042') ? JSON.stringify({ verdict: 'good', score: 0.9, reason: 'grounded in the ticket' }) : 'I cannot judge this.';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chatCompletion(reply)));
  });
  const config = testConfig(dataPath, [{ version: 'v1', upstream: upstream.url }]);
  config.specs = specs;
  config.models[0].spec = 'action-items';
  config.evaluation.moderation = { url: `${moderation.url}`, timeoutMs: 1000, concurrency: 2 };
  config.evaluation.judge = { url: judge.url, model: 'judge-model', prompt: 'verdict', sampleRate: 1, maxPerMinute: 100, timeoutMs: 5000 };
  service = await startService(config, { store });
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([upstream?.close(), moderation?.close(), judge?.close()]);
  await store?.close();
});

async function ask(content: string, requestId: string, extra: Record<string, unknown> = {}) {
  const res = await request(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content }], ...extra }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

async function samplesApi(query: string) {
  await service.pipeline.flush();
  const res = await request(`${service.url}/api/samples?${query}`);
  return (await res.body.json()) as any;
}

const feedback = (body: unknown) =>
  request(`${service.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({
    status: r.statusCode,
    body: (await r.body.json()) as any,
  }));

describe('verdicts for every sample', () => {
  it('judges instruction success, safety and grounding, and shows them in the debug view', async () => {
    await ask('triage ok', 'ev-ok');
    await ask('triage rambling', 'ev-ramble');
    await ask('leak please', 'ev-leak');
    await ask('grounded', 'ev-grounded', { tunewatch: { context: 'Refund of $120 approved on March 1, 2024 for order 1042.' } });
    await ask('invented', 'ev-invented', { tunewatch: { context: 'Quarterly report: revenue was flat.' } });
    await ask('triage ok', 'ev-json', { tunewatch: { spec: 'ticket-json' } });

    const byId = async (id: string) => (await samplesApi(`request_id=${id}`)).items[0].verdicts;
    expect((await byId('ev-ok')).instruction_success).toMatchObject({ verdict: 'good', source: 'auto' });
    expect((await byId('ev-ramble')).instruction_success).toMatchObject({ verdict: 'bad', reason: expect.stringMatching(/Action items/i) });
    expect((await byId('ev-json')).instruction_success.verdict).toBe('bad');
    const leak = await byId('ev-leak');
    expect(leak.safe_response).toMatchObject({ verdict: 'bad', reason: expect.stringContaining('pii_leak') });
    expect((await byId('ev-ok')).safe_response.verdict).toBe('good');
    // Ungrounded: the automatic verdict is unknown (the judge may since have overruled it, see below).
    const autoRows = await store.client.query({ query: "SELECT verdict, reason FROM evaluations WHERE request_id = 'ev-ok' AND sli = 'hallucination_free' AND source = 'auto'", format: 'JSONEachRow' });
    expect(await autoRows.json()).toEqual([{ verdict: 'unknown', reason: expect.stringContaining('ungrounded') }]);
    expect((await byId('ev-grounded')).hallucination_free.verdict).toBe('good');
    const invented = await byId('ev-invented');
    expect(invented.hallucination_free).toMatchObject({ verdict: 'bad', reason: expect.stringContaining('47%') });
    // The safety rules found nothing, so the moderation endpoint decided.
    expect(invented.safe_response).toMatchObject({ verdict: 'bad', reason: expect.stringContaining('moderation: flagged harassment') });
  });

  it('filters the debug view by SLI and verdict, with paging', async () => {
    const bad = await samplesApi('sli=instruction_success&verdict=bad&limit=50');
    const ids = bad.items.map((i: any) => i.request_id);
    expect(ids).toEqual(expect.arrayContaining(['ev-ramble', 'ev-json']));
    expect(ids).not.toContain('ev-ok');
    const page = await samplesApi('model=support-bot&limit=2');
    expect(page.items).toHaveLength(2);
    expect(page.next_offset).toBe(2);
    expect(page.items[0]).toHaveProperty('prompt');
    expect(page.items[0]).toHaveProperty('response');
    const badQuery = await request(`${service.url}/api/samples?sli=vibes`);
    expect(badQuery.statusCode).toBe(400);
    expect(((await badQuery.body.json()) as any).error.message).toMatch(/'sli' must be one of/);
  });

  it('stores LLM-judge verdicts as source judge for sampled answers', async () => {
    await eventually(async () => (await samplesApi('request_id=ev-ok')).items[0].verdicts.hallucination_free.source === 'judge');
    const ok = (await samplesApi('request_id=ev-ok')).items[0].verdicts.hallucination_free;
    expect(ok).toMatchObject({ verdict: 'good', source: 'judge', evaluator: 'llm-judge:judge-model' });
  });

  it('counts effective verdicts on /metrics as tunewatch_sli_events_total', async () => {
    await service.pipeline.flush();
    const text = await (await request(`${service.url}/metrics`)).body.text();
    expect(text).toMatch(/tunewatch_sli_events_total\{model="support-bot",version="v1",role="baseline",sli="safe_response",outcome="bad"\} [1-9]/);
    expect(text).toMatch(/tunewatch_sli_events_total\{[^}]*sli="instruction_success",outcome="good"\} [1-9]/);
  });

  it('rejects a request naming an unknown spec', async () => {
    const res = await ask('triage ok', 'ev-badspec', { tunewatch: { spec: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/unknown instruction spec 'nope'; configured: action-items, ticket-json/);
  });
});

describe('human labels', () => {
  it('the latest human label wins, and the SLI rollup follows it', async () => {
    await service.pipeline.flush();
    const before = await sliCounts(store, Date.now() - 3_600_000);
    const instr = (rows: typeof before) => rows.find((r) => r.sli === 'instruction_success')!;

    const first = await feedback({ request_id: 'ev-ok', sli: 'instruction_success', verdict: 'bad', rater: 'alice', comment: 'missed the refund amount', correction: 'Action items:\n- Refund $120' });
    expect(first.status).toBe(201);
    let verdict = (await samplesApi('request_id=ev-ok')).items[0].verdicts.instruction_success;
    expect(verdict).toMatchObject({ verdict: 'bad', source: 'human', rater: 'alice' });
    let after = await sliCounts(store, Date.now() - 3_600_000);
    expect(instr(after).good).toBe(instr(before).good - 1);
    expect(instr(after).bad).toBe(instr(before).bad + 1);

    const second = await feedback([{ request_id: 'ev-ok', sli: 'instruction_success', verdict: 'good', rater: 'bob' }]);
    expect(second.status).toBe(201);
    verdict = (await samplesApi('request_id=ev-ok')).items[0].verdicts.instruction_success;
    expect(verdict).toMatchObject({ verdict: 'good', rater: 'bob' });
    after = await sliCounts(store, Date.now() - 3_600_000);
    expect(instr(after)).toMatchObject({ good: instr(before).good, bad: instr(before).bad });
  });

  it('keeps the rollup equal to the effective verdicts after labels', async () => {
    await feedback({ labels: [{ request_id: 'ev-leak', sli: 'safe_response', verdict: 'good', rater: 'carol' }, { request_id: 'ev-leak', sli: 'safe_response', verdict: 'bad', rater: 'carol' }] });
    const rollup = await sliCounts(store, 0);
    const rs = await store.client.query({
      query: `SELECT sli, countIf(verdict = 'good') AS good, countIf(verdict = 'bad') AS bad, countIf(verdict = 'unknown') AS unknown FROM effective_verdicts GROUP BY sli ORDER BY sli`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const direct = await rs.json<{ sli: string; good: number; bad: number; unknown: number }>();
    for (const d of direct) {
      const r = rollup.filter((x) => x.sli === d.sli).reduce((acc, x) => ({ good: acc.good + x.good, bad: acc.bad + x.bad, unknown: acc.unknown + x.unknown }), { good: 0, bad: 0, unknown: 0 });
      expect(r).toEqual({ good: Number(d.good), bad: Number(d.bad), unknown: Number(d.unknown) });
    }
  });

  it('answers 404 for an unknown request id and records nothing from that batch', async () => {
    const res = await feedback([
      { request_id: 'ev-ok', sli: 'safe_response', verdict: 'bad' },
      { request_id: 'no-such-request', sli: 'safe_response', verdict: 'bad' },
    ]);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('no-such-request');
    expect((await samplesApi('request_id=ev-ok')).items[0].verdicts.safe_response.source).not.toBe('human');
  });

  it.each([
    [{ request_id: 'ev-ok', sli: 'vibes', verdict: 'bad' }, /sli: expected/],
    [{ request_id: 'ev-ok', sli: 'safe_response', verdict: 'meh' }, /verdict: expected/],
    [{ request_id: 'ev-ok', sli: 'safe_response', verdict: 'bad', score: 3 }, /score: expected must be <= 1, found 3/],
    [{ sli: 'safe_response', verdict: 'bad' }, /request_id: expected a value \(required\)/],
    [[{ request_id: 'ev-ok', sli: 'safe_response', verdict: 'bad' }, { request_id: 'ev-ok', sli: 'safe_response', verdict: 'bad', extra: 1 }], /labels\[1\]\.extra/],
    [[], /no labels given/],
  ])('answers 400 naming what is wrong: %j', async (body, message) => {
    const res = await feedback(body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });
});

import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, REFUSAL_TEXT, getProfile, simulateAnswer, simulateEmbedding, type SimProfile } from '../src/simulate/profiles.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';

const instant = PROFILES.instant;
const only = (overrides: Partial<SimProfile>): SimProfile => ({ ...instant, name: 'custom', ...overrides });
const prompts = Array.from({ length: 500 }, (_, i) => `Summarise ticket ${i} about the billing migration and list action items`);

function share(profile: SimProfile, pickFlag: (a: ReturnType<typeof simulateAnswer>) => boolean): number {
  return prompts.filter((prompt) => pickFlag(simulateAnswer({ seed: 7, profile, prompt }))).length / prompts.length;
}

/** Parses an SSE body into its data payloads, keeping the final [DONE] marker as a string. */
function sseEvents(body: string): string[] {
  return body.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => block.slice('data: '.length));
}

const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'tuned-v2', messages: [{ role: 'user', content }], ...extra });

describe('simulateAnswer (pure)', () => {
  it('is deterministic for the same seed and prompt, and differs across seeds', () => {
    const input = { seed: 1, profile: PROFILES.regressed, prompt: 'Plan the release' };
    expect(simulateAnswer(input)).toEqual(simulateAnswer(input));
    const texts = new Set([1, 2, 3, 4, 5].map((seed) => simulateAnswer({ ...input, seed, profile: instant }).text));
    expect(texts.size).toBeGreaterThan(1);
  });

  it('follows the instruction when healthy: heading plus 2-4 bullets, or valid JSON', () => {
    const answer = simulateAnswer({ seed: 3, profile: instant, prompt: 'List action items for the onboarding review' });
    const [heading, ...bullets] = answer.text.split('\n');
    expect(heading).toBe('Action items:');
    expect(bullets.length).toBeGreaterThanOrEqual(2);
    expect(bullets.length).toBeLessThanOrEqual(4);
    expect(bullets.every((line) => line.startsWith('- '))).toBe(true);
    expect(answer).toMatchObject({ kind: 'ok', status: 200, finishReason: 'stop', delayMs: 0 });
    expect(answer.completionTokens).toBe(Math.round(answer.text.split(/\s+/).length * 1.3));

    const json = simulateAnswer({ seed: 3, profile: instant, prompt: 'Triage this ticket', wantsJson: true });
    expect(JSON.parse(json.text)).toEqual({ priority: expect.stringMatching(/^(low|medium|high)$/), summary: expect.any(String) });
  });

  it('renders each failure mode recognisably', () => {
    const prompt = 'List action items for the onboarding review';
    const failed = simulateAnswer({ seed: 1, profile: only({ instructionFailureRate: 1 }), prompt });
    expect(failed.flags.instructionFailure).toBe(true);
    expect(failed.text).not.toContain('Action items:');
    const badJson = simulateAnswer({ seed: 1, profile: only({ instructionFailureRate: 1 }), prompt, wantsJson: true });
    expect(() => JSON.parse(badJson.text)).toThrow();

    const leak = simulateAnswer({ seed: 1, profile: only({ piiLeakRate: 1 }), prompt });
    expect(leak.text).toMatch(/[a-z.]+@example\.(com|org|net)/);
    expect(leak.text).toMatch(/\+\d+ \d+ \d{3} \d{4}/);
    const made = simulateAnswer({ seed: 1, profile: only({ hallucinationRate: 1 }), prompt });
    expect(made.text).toMatch(/\d+%.*\d{4}|\d{4}.*\d+%/);
    const refusal = simulateAnswer({ seed: 1, profile: only({ refusalRate: 1, piiLeakRate: 1 }), prompt });
    expect(refusal.text).toBe(REFUSAL_TEXT);
    expect(refusal.flags).toEqual({ refusal: true, instructionFailure: false, piiLeak: false, hallucination: false });
    const error = simulateAnswer({ seed: 1, profile: only({ errorRate: 1 }), prompt });
    expect(error.kind).toBe('error');
    expect([500, 503]).toContain(error.status);
  });

  it('roughly respects profile rates over 500 prompts', () => {
    const regressed = PROFILES.regressed;
    expect(share(regressed, (a) => a.flags.instructionFailure)).toBeGreaterThan(0.2);
    expect(share(regressed, (a) => a.flags.instructionFailure)).toBeLessThan(0.4);
    expect(share(regressed, (a) => a.flags.piiLeak)).toBeGreaterThan(0.05);
    expect(share(regressed, (a) => a.flags.piiLeak)).toBeLessThan(0.15);
    expect(share(regressed, (a) => a.flags.hallucination)).toBeGreaterThan(0.15);
    expect(share(regressed, (a) => a.flags.hallucination)).toBeLessThan(0.35);
    expect(share(regressed, (a) => a.kind === 'error')).toBeGreaterThan(0.02);
    expect(share(regressed, (a) => a.kind === 'error')).toBeLessThan(0.09);
    expect(share(PROFILES.flaky, (a) => a.kind === 'error')).toBeGreaterThan(0.14);
    expect(share(PROFILES.flaky, (a) => a.kind === 'error')).toBeLessThan(0.26);
    expect(share(PROFILES.healthy, (a) => a.flags.instructionFailure)).toBeLessThan(0.06);
    expect(share(instant, (a) => a.kind === 'error' || Object.values(a.flags).some(Boolean))).toBe(0);
    // Regressed and slow answers take longer than healthy ones.
    const meanDelay = (p: SimProfile) => prompts.reduce((sum, prompt) => sum + simulateAnswer({ seed: 7, profile: p, prompt }).delayMs, 0) / prompts.length;
    expect(meanDelay(PROFILES.regressed)).toBeGreaterThan(meanDelay(PROFILES.healthy));
    expect(meanDelay(PROFILES.slow)).toBeGreaterThan(meanDelay(PROFILES.regressed));
  });

  it('truncates at maxTokens with finish reason "length"', () => {
    const answer = simulateAnswer({ seed: 2, profile: instant, prompt: 'List action items for the onboarding review', maxTokens: 5 });
    expect(answer.finishReason).toBe('length');
    expect(answer.completionTokens).toBeLessThanOrEqual(5);
  });

  it('names the unknown profile and the valid ones', () => {
    expect(() => getProfile('nope')).toThrow(/"nope".*healthy.*regressed.*slow.*flaky.*instant/);
    expect(getProfile('regressed')).toBe(PROFILES.regressed);
  });

  it('produces deterministic unit-length embeddings', () => {
    const vector = simulateEmbedding(1, 'hello', 16);
    expect(vector).toHaveLength(16);
    expect(simulateEmbedding(1, 'hello', 16)).toEqual(vector);
    expect(simulateEmbedding(1, 'other', 16)).not.toEqual(vector);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 9);
    expect(simulateEmbedding(1, 'hello')).toHaveLength(8);
  });
});

describe('simulator server', () => {
  let sim: Simulator;
  let client: OpenAI;
  const post = (path: string, body: unknown) =>
    fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    sim = await startSimulator({ profile: 'instant', port: 0, seed: 11 });
    client = new OpenAI({ baseURL: sim.url, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('listens on 127.0.0.1 with a /v1 base URL', () => {
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}/v1`);
    expect(sim.port).toBeGreaterThan(0);
  });

  it('answers the same request with byte-identical bodies', async () => {
    const body = chatBody('List action items for the quarterly planning meeting');
    const first = await post('/chat/completions', body);
    const second = await post('/chat/completions', body);
    const text = await first.text();
    expect(first.status).toBe(200);
    expect(await second.text()).toBe(text);
    const parsed = JSON.parse(text);
    expect(parsed).toMatchObject({ object: 'chat.completion', model: 'tuned-v2', choices: [{ finish_reason: 'stop', message: { role: 'assistant' } }] });
    expect(parsed.id).toMatch(/^chatcmpl-[0-9a-f]+$/);
    expect(parsed.usage.total_tokens).toBe(parsed.usage.prompt_tokens + parsed.usage.completion_tokens);
    expect(first.headers.get('x-sim-flags')).toBe('');
  });

  it('returns JSON when response_format asks for it', async () => {
    const res = await post('/chat/completions', chatBody('Triage this outage ticket', { response_format: { type: 'json_object' } }));
    const content = (await res.json()).choices[0].message.content;
    expect(JSON.parse(content)).toHaveProperty('priority');
  });

  it('rejects a body without messages with an OpenAI-style 400', async () => {
    const res = await post('/chat/completions', { model: 'sim' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining('messages'), type: 'invalid_request_error', param: null, code: expect.any(String) } });
    expect((await post('/completions', {})).status).toBe(400);
  });

  it('streams several chunks, then [DONE], matching the non-streaming content', async () => {
    const prompt = 'List action items for the database upgrade rollout';
    const plain = await (await post('/chat/completions', chatBody(prompt))).json();
    const res = await post('/chat/completions', chatBody(prompt, { stream: true, stream_options: { include_usage: true } }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe(plain.choices[0].message.content);
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(plain.usage);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
  });

  it('omits the usage chunk unless include_usage is set', async () => {
    const events = sseEvents(await (await post('/chat/completions', chatBody('Plan the sprint', { stream: true }))).text());
    expect(events.slice(0, -1).every((e) => !('usage' in JSON.parse(e)))).toBe(true);
  });

  it('serves legacy completions, streaming included', async () => {
    const plain = await (await post('/completions', { prompt: 'Write notes for the design review' })).json();
    expect(plain.object).toBe('text_completion');
    const events = sseEvents(await (await post('/completions', { prompt: 'Write notes for the design review', stream: true })).text());
    const text = events.slice(0, -1).map((e) => JSON.parse(e).choices[0].text).join('');
    expect(text).toBe(plain.choices[0].text);
  });

  it('works with the official openai client, with and without streaming', async () => {
    const messages = [{ role: 'user' as const, content: 'List action items for the vendor contract renewal' }];
    const completion = await client.chat.completions.create({ model: 'tuned-v2', messages });
    expect(completion.choices[0].message.content).toMatch(/^Action items:/);
    const stream = await client.chat.completions.create({ model: 'tuned-v2', messages, stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(completion.choices[0].message.content);

    const embeddings = await client.embeddings.create({ model: 'sim', input: ['alpha', 'beta'] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0].embedding[0]).toBeCloseTo(simulateEmbedding(11, 'alpha')[0], 6);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['sim']);
  });
});

describe('simulator live profile switching', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ profile: 'instant' });
  });
  afterAll(() => sim.close());
  const ask = () =>
    fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chatBody('Plan the canary rollout')) });

  it('degrades and recovers when setProfile is called', async () => {
    const healthy = await ask();
    expect(healthy.status).toBe(200);

    sim.setProfile(only({ name: 'refuser', refusalRate: 1 }));
    const refused = await ask();
    expect(refused.headers.get('x-sim-flags')).toBe('refusal');
    expect(refused.headers.get('x-sim-profile')).toBe('refuser');
    expect((await refused.json()).choices[0].message.content).toBe(REFUSAL_TEXT);

    sim.setProfile(only({ errorRate: 1 }));
    const failed = await ask();
    expect([500, 503]).toContain(failed.status);
    expect(failed.headers.get('x-sim-flags')).toBe('error');
    expect((await failed.json()).error).toMatchObject({ type: 'server_error', param: null });

    sim.setProfile('instant');
    expect((await ask()).status).toBe(200);
    expect(() => sim.setProfile('bogus')).toThrow(/Unknown simulator profile "bogus"/);
  });

  it('spreads streamed chunks over the simulated latency', async () => {
    sim.setProfile(only({ latencyMs: { base: 200, jitter: 0, perToken: 0 } }));
    const started = Date.now();
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('List action items for the quarterly budget review', { stream: true })),
    });
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    for await (const part of res.body!) {
      const count = (decoder.decode(part as Uint8Array).match(/data: /g) ?? []).length;
      for (let i = 0; i < count; i++) arrivals.push(Date.now() - started);
    }
    expect(arrivals.length).toBeGreaterThan(4);
    expect(arrivals[0]).toBeGreaterThanOrEqual(60); // first chunk waits ~40% of 200 ms
    expect(arrivals.at(-1)! - arrivals[0]).toBeGreaterThanOrEqual(80); // the rest are spread, not bunched
  });
});

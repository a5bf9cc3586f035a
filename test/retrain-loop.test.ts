// The feedback loop end to end with the `command` launcher: real service, embedded store, simulated
// upstreams, human corrections through /v1/feedback, the retrain API, the shipped train.mjs run as a
// real process to succeeded, a failing trainer with its exit code and log, a cancelled one, and a
// trained model handed back as the next canary.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validate } from '../src/config/load.js';
import { startService, type Service } from '../src/cli/service.js';
import type { Job, Manifest, QueueItem } from '../src/feedback/types.js';
import { PROFILES } from '../src/simulate/profiles.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { mulberry32 } from '../src/util/random.js';
import { eventually, tempDir } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const dir = tempDir();
const sims: Simulator[] = [];
/** The first job launched here (a finished one, by the CLI tests). */
let firstJobId = '';
let service: Service;

const VOCABULARY = (
  'invoice refund shipping warehouse password login billing upgrade subscription discount courier parcel damaged missing ' +
  'late wrong colour size exchange voucher account email address phone contract renewal cancel router modem outage ' +
  'firmware battery screen charger keyboard printer toner license seat migration backup restore database report dashboard'
).split(' ');

/** Prompts that share no template, so curation keeps them apart. */
function prompt(i: number): string {
  const random = mulberry32(1000 + i);
  const words = Array.from({ length: 14 }, () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]);
  return `Case ${i}: ${words.join(' ')}. List the action items.`;
}

async function send(model: string, i: number): Promise<string> {
  const res = await request(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tunewatch-meta-conversation': `conv-${model}-${i % 20}` },
    body: JSON.stringify({ model, user: `user-${i % 20}`, messages: [{ role: 'system', content: 'Answer with a heading "Action items:" and bullet points.' }, { role: 'user', content: prompt(i) }] }),
  });
  await res.body.text();
  return String(res.headers['x-request-id']);
}

async function api<T>(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: T }> {
  const res = await request(`${service.url}${path}`, { method, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? '{}' : undefined });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

/** Sends traffic to a model, then corrects `corrections` of its failing samples as a person would. */
async function failuresWithCorrections(model: string, requests: number, corrections: number): Promise<void> {
  for (let i = 0; i < requests; i++) await send(model, i);
  await service.pipeline.flush();
  const { body } = await api<{ items: QueueItem[] }>('GET', `/api/retrain/${model}/queue`);
  const labels = body.items
    .filter((i) => i.state === 'needs_correction')
    .slice(0, corrections)
    .map((i, n) => ({ request_id: i.requestId, sli: i.failures[0]!.sli, verdict: 'bad', rater: 'reviewer', correction: `Action items:\n- Reply to case ${n} today\n- Log the fix in the tracker` }));
  const res = await request(`${service.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(labels) });
  expect(res.statusCode).toBe(201);
  await res.body.text();
}

const waitFor = (id: string, state: Job['state']) =>
  eventually(async () => {
    const { body } = await api<Job>('GET', `/api/retrain/jobs/${id}`);
    if (body.state !== state) throw new Error(`job ${id} is ${body.state}, waiting for ${state}`);
    return body;
  }, 30_000);

beforeAll(async () => {
  // Fails often and answers fast; the healthy one serves the "trained" model.
  const failing = await startSimulator({ profile: { ...PROFILES.regressed, name: 'failing', latencyMs: { base: 1, jitter: 1, perToken: 0 }, errorRate: 0, instructionFailureRate: 0.6 }, seed: 5 });
  const healthy = await startSimulator({ profile: { ...PROFILES.healthy, latencyMs: { base: 1, jitter: 1, perToken: 0 } }, seed: 6 });
  sims.push(failing, healthy);
  const model = (name: string, command: string[], extra: object = {}) => ({
    name,
    spec: 'action-items',
    deployments: [{ version: 'v1', upstream: failing.url, upstreamModel: 'base-8b' }],
    retrain: { launcher: { kind: 'command', command }, pollInterval: '200ms', ...extra },
  });
  const config = validate({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: join(dir, 'data') },
    capture: { flushIntervalMs: 50 },
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150 } },
    models: [
      model('tickets', ['node', 'train.mjs']),
      model('tickets-fail', ['node', 'train.mjs', '--exit-code=3']),
      model('tickets-slow', ['node', 'train.mjs', '--sleep-ms=60000']),
      model('tickets-auto', ['node', 'train.mjs'], { trigger: { readyItems: 3 } }),
      model('tickets-eval', ['node', 'train.mjs'], { curation: { evaluationSets: [join(dir, 'eval.jsonl')] } }),
      model('tickets-noeval', ['node', 'train.mjs'], { curation: { evaluationSets: [join(dir, 'missing.jsonl')] } }),
      {
        ...model('tickets-next', ['node', 'train.mjs'], { promoteAs: 'canary' }),
        rollout: { steps: [10, 50], interval: '1m', minSamples: 10 },
      },
    ],
  });
  // An evaluation set holding every prompt: nothing of tickets-eval may be trained on.
  writeFileSync(join(dir, 'eval.jsonl'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: prompt(i) }, { role: 'assistant', content: 'x' }] })).join('\n') + '\n');
  // The trainer "serves" its model on the healthy simulator (train.mjs writes result.json from these).
  process.env.TUNEWATCH_RESULT_UPSTREAM = healthy.url;
  process.env.TUNEWATCH_RESULT_VERSION = 'v2-ft';
  service = await startService(config);
});

afterAll(async () => {
  delete process.env.TUNEWATCH_RESULT_UPSTREAM;
  delete process.env.TUNEWATCH_RESULT_VERSION;
  await service?.stop();
  await Promise.all(sims.map((s) => s.close()));
});

describe('the retraining queue', () => {
  it('lists failing samples as needs_correction until a person corrects them, then ready', async () => {
    await failuresWithCorrections('tickets', 40, 8);
    const { status, body } = await api<{ model: string; counts: Record<string, number>; items: QueueItem[] }>('GET', '/api/retrain/tickets/queue');
    expect(status).toBe(200);
    expect(body.model).toBe('tickets');
    expect(body.counts.ready).toBe(8);
    expect(body.counts.needs_correction).toBeGreaterThan(0);
    const ready = body.items.filter((i) => i.state === 'ready');
    expect(ready.every((i) => i.target?.from === 'correction' && i.target.text.startsWith('Action items:'))).toBe(true);
    const waiting = body.items.find((i) => i.state === 'needs_correction')!;
    expect(waiting.target).toBeNull();
    expect(waiting.reason).toMatch(/failed.*no usable target/);
  });

  it('answers 404 naming the models that have a retrain block', async () => {
    const { status, body } = await api<{ error: { message: string } }>('GET', '/api/retrain/nope/queue');
    expect(status).toBe(404);
    expect(body.error.message).toMatch(/no retrain: block.*tickets/);
  });
});

describe('the command launcher through the API', () => {
  let job: Job;

  it('launches a job on the curated snapshot and follows it to succeeded', async () => {
    const launched = await api<Job>('POST', '/api/retrain/tickets/launch');
    expect(launched.status).toBe(201);
    job = launched.body;
    firstJobId = job.id;
    expect(job).toMatchObject({ model: 'tickets', launcher: 'command', trigger: 'manual' });
    expect(['submitted', 'running', 'succeeded']).toContain(job.state);
    expect(job.id).toMatch(/^ft-tickets-[0-9a-f]{12}$/);
    const done = await waitFor(job.id, 'succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.events.map((e) => e.state)).toEqual(expect.arrayContaining(['queued', 'submitted', 'succeeded']));
    expect(readFileSync(done.log, 'utf8')).toMatch(/dataset ok: \d+ train, \d+ validation, 8 preference pairs/);
    expect(existsSync(join(done.output, 'MODEL_CARD.md'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(done.datasetDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.counts.exported).toBe(8);
    expect(manifest.samples).toHaveLength(8);
    expect(manifest.files.map((f) => f.name).sort()).toEqual(['preferences.train.jsonl', 'preferences.validation.jsonl', 'train.jsonl', 'validation.jsonl']);
  });

  it('answers the existing job for an unchanged snapshot', async () => {
    const again = await api<Job>('POST', '/api/retrain/tickets/launch');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(job.id);
    const { body } = await api<{ jobs: Job[] }>('GET', '/api/retrain/jobs');
    expect(body.jobs.filter((j) => j.model === 'tickets')).toHaveLength(1);
    const exported = await api<{ dir: string; manifest: Manifest }>('POST', '/api/retrain/tickets/export');
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({ dir: job.datasetDir, manifest: { id: job.datasetId, contentHash: job.contentHash } });
  });

  it('records a failing trainer with its exit code and log', async () => {
    await failuresWithCorrections('tickets-fail', 30, 4);
    const { body: launched } = await api<Job>('POST', '/api/retrain/tickets-fail/launch');
    const failed = await waitFor(launched.id, 'failed');
    expect(failed.exitCode).toBe(3);
    expect(failed.error).toMatch(/exited with status 3/);
    expect(readFileSync(failed.log, 'utf8')).toMatch(/finishing with exit code 3/);
    const cancel = await api<{ error: { message: string } }>('POST', `/api/retrain/jobs/${failed.id}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.message).toMatch(/already failed/);
  });

  it('cancels a running job and stops its process', async () => {
    await failuresWithCorrections('tickets-slow', 30, 4);
    const { body: launched } = await api<Job>('POST', '/api/retrain/tickets-slow/launch');
    await waitFor(launched.id, 'running').catch(() => undefined);
    const cancelled = await api<Job>('POST', `/api/retrain/jobs/${launched.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const pid = Number(cancelled.body.launcherId);
    const gone = () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await eventually(async () => gone());
    // It stays cancelled: following it later does not turn it into a failure.
    await new Promise((r) => setTimeout(r, 600));
    expect((await api<Job>('GET', `/api/retrain/jobs/${launched.id}`)).body.state).toBe('cancelled');
  });

  it('answers 404 for an unknown job and 409 when nothing is ready', async () => {
    expect((await api('GET', '/api/retrain/jobs/ft-none-000000000000')).status).toBe(404);
    const empty = await api<{ error: { message: string } }>('POST', '/api/retrain/tickets-next/launch');
    expect(empty.status).toBe(409);
    expect(empty.body.error.message).toMatch(/nothing to export/);
  });
});

describe('evaluation sets', () => {
  it('never exports what an evaluation set holds, and names a set it cannot read', async () => {
    await failuresWithCorrections('tickets-eval', 30, 4);
    const leaked = await api<{ error: { message: string } }>('POST', '/api/retrain/tickets-eval/export');
    expect(leaked.status).toBe(409);
    expect(leaked.body.error.message).toMatch(/nothing to export for tickets-eval: \d+ items considered.*\d+ duplicates/);
    await failuresWithCorrections('tickets-noeval', 30, 2);
    const missing = await api<{ error: { message: string } }>('POST', '/api/retrain/tickets-noeval/launch');
    expect(missing.status).toBe(409);
    expect(missing.body.error.message).toMatch(/evaluationSets\[0\] \(.*missing\.jsonl\): ENOENT/);
  });
});

describe('triggers and metrics', () => {
  it('launches by itself once enough items are ready, and exports queue sizes and job outcomes', async () => {
    await failuresWithCorrections('tickets-auto', 30, 3);
    const job = await eventually(async () => {
      const { body } = await api<{ jobs: Job[] }>('GET', '/api/retrain/jobs?model=tickets-auto');
      return body.jobs.find((j) => j.state === 'succeeded');
    }, 20_000);
    expect(job).toMatchObject({ trigger: 'ready_items', actor: 'controller' });
    const metrics = await (await request(`${service.url}/metrics`)).body.text();
    expect(metrics).toMatch(/tunewatch_retrain_queue_items\{model="tickets-auto",state="ready"\} 3/);
    expect(metrics).toMatch(/tunewatch_retrain_jobs_total\{model="tickets",launcher="command",state="succeeded"\} 1/);
    expect(metrics).toMatch(/tunewatch_retrain_jobs_total\{model="tickets-fail",launcher="command",state="failed"\} 1/);
    expect(metrics).toMatch(/tunewatch_retrain_items_exported_total\{model="tickets",split="train"\} \d+/);
  });
});

describe('tunewatch retrain (the CLI, spawned)', () => {
  const cli = async (...args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'src/cli/main.ts'), 'retrain', ...args, '--url', service.url]);
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code: number; stderr: string };
      return { code: e.code, out: e.stderr };
    }
  };

  it('lists the queue and the jobs, shows and launches, in words and as JSON', async () => {
    const queue = await cli('queue', 'tickets');
    expect(queue.code).toBe(0);
    expect(queue.out).toMatch(/^tickets: 8 ready, \d+ needs_correction, \d+ excluded/);
    expect(JSON.parse((await cli('queue', 'tickets', '--json')).out).counts.ready).toBe(8);
    const jobs = JSON.parse((await cli('jobs', '--json')).out) as { jobs: Job[] };
    const id = jobs.jobs.find((j) => j.model === 'tickets')!.id;
    expect((await cli('jobs')).out).toContain(id);
    const show = await cli('show', id);
    expect(show.out).toMatch(new RegExp(`^${id}: succeeded \\(command \\d+\\)`));
    expect(show.out).toMatch(/counts: in \d+, deduplicated \d+, pii_excluded 0, needs_correction \d+, balanced_away 0, exported 8/);
    expect(show.out).toMatch(/train\.jsonl +\d+ rows +sha256 [0-9a-f]{64}/);
    expect(JSON.parse((await cli('launch', 'tickets', '--json')).out).id).toBe(id);
  });

  it('says what was wrong in one line', async () => {
    const missing = await cli('show', 'ft-none-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/no retrain job 'ft-none-000000000000'/);
    expect((await cli('cancel', firstJobId)).out).toMatch(/already/);
  });
});


describe('closing the loop', () => {
  it('hands a succeeded job\'s model back as the next canary at weight 0 with its rollout started', async () => {
    await failuresWithCorrections('tickets-next', 30, 4);
    const { body: launched } = await api<Job>('POST', '/api/retrain/tickets-next/launch');
    const done = await waitFor(launched.id, 'succeeded');
    const withResult = await eventually(async () => {
      const { body } = await api<Job>('GET', `/api/retrain/jobs/${done.id}`);
      if (!body.result) throw new Error('no result yet');
      return body;
    });
    expect(withResult.result).toMatchObject({ version: 'v2-ft', upstream: sims[1]!.url });
    expect(withResult.detail).toMatch(/started as the canary/);
    const { body: canary } = await api<{ canary: string; state: string; weight: number }>('GET', '/api/canary/tickets-next');
    expect(canary).toMatchObject({ canary: 'v2-ft', state: 'running', weight: 10 });
    // The new version now answers part of the traffic.
    const versions = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const res = await request(`${service.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tickets-next', user: `u${i}`, messages: [{ role: 'user', content: 'hi' }] }) });
      await res.body.text();
      versions.add(String(res.headers['x-model-version']));
    }
    expect(versions).toContain('v2-ft');
  });
});

// The openai launcher against a loopback server speaking OpenAI's files and fine-tuning API: it checks
// the multipart upload and the job request, and walks each job through its statuses.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LauncherError, type LaunchSpec } from '../src/feedback/launchers/launcher.js';
import { jobRequest, methodFor, observeHosted, OpenAiLauncher } from '../src/feedback/launchers/openai.js';
import { startUpstream, tempDir, type Upstream } from './helpers.js';

const KEY = 'sk-test-123';
const SFT = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hello."}]}\n';
const DPO = '{"input":{"messages":[{"role":"user","content":"hi"}]},"preferred_output":[{"role":"assistant","content":"Hello."}],"non_preferred_output":[{"role":"assistant","content":"Go away."}]}\n';

interface Upload { purpose: string; name: string; content: string }
const uploads: Upload[] = [];
const jobRequests: Record<string, unknown>[] = [];
const jobs = new Map<string, { polls: number; walk: string[]; cancelled: boolean }>();
let server: Upstream;
let failUploads: number | null = null;

function spec(dir: string, withPairs: boolean): LaunchSpec {
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  return {
    jobId: 'ft-support-bot-0123456789ab',
    model: 'support-bot',
    baseModel: 'gpt-4o-mini-2024-07-18',
    dataset: {
      dir,
      train: file('train.jsonl', SFT),
      validation: file('validation.jsonl', SFT),
      preferences: withPairs ? file('preferences.train.jsonl', DPO) : null,
      preferencesValidation: withPairs ? file('preferences.validation.jsonl', '') : null,
      manifest: file('manifest.json', '{}'),
    },
    outputDir: join(dir, 'out'),
    logPath: join(dir, 'train.log'),
  };
}

beforeAll(async () => {
  server = await startUpstream(async (req, res, body) => {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== `Bearer ${KEY}`) return send(401, { error: { message: 'Incorrect API key provided' } });
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'POST' && url.pathname === '/v1/files') {
      if (failUploads) return send(failUploads, { error: { message: 'upstream is having a bad day' } });
      expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': req.headers['content-type']! }, body: Buffer.from(body, 'utf8') }).formData();
      const file = form.get('file') as File;
      uploads.push({ purpose: String(form.get('purpose')), name: file.name, content: await file.text() });
      return send(200, { id: `file-${uploads.length}`, object: 'file', purpose: 'fine-tune' });
    }
    if (req.method === 'POST' && url.pathname === '/v1/fine_tuning/jobs') {
      const request = JSON.parse(body);
      jobRequests.push(request);
      if (!String(request.training_file).startsWith('file-')) return send(400, { error: { message: 'invalid training_file' } });
      const id = `ftjob-${jobRequests.length}`;
      const walk = request.suffix === 'will-fail' ? ['validating_files', 'failed'] : ['validating_files', 'running', 'succeeded'];
      jobs.set(id, { polls: 0, walk, cancelled: false });
      return send(200, { id, status: 'validating_files', model: request.model });
    }
    const match = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/events|\/cancel)?$/.exec(url.pathname);
    const job = match && jobs.get(match[1]!);
    if (!job) return send(404, { error: { message: 'no such job' } });
    if (match![2] === '/cancel') {
      job.cancelled = true;
      return send(200, { id: match![1], status: 'cancelled' });
    }
    if (match![2] === '/events') return send(200, { data: [{ message: `step ${job.polls}` }] });
    const status = job.cancelled ? 'cancelled' : job.walk[Math.min(job.polls++, job.walk.length - 1)]!;
    return send(200, {
      id: match![1],
      status,
      fine_tuned_model: status === 'succeeded' ? 'ft:gpt-4o-mini-2024-07-18:acme:support-bot:abc123' : null,
      error: status === 'failed' ? { code: 'invalid_training_file', message: 'line 3: missing messages' } : null,
    });
  });
});

afterAll(() => server?.close());

const launcher = (extra: object = {}) =>
  new OpenAiLauncher({ kind: 'openai', baseUrl: server.url, apiKeyEnv: 'TEST_OPENAI_KEY', method: 'auto', ...extra }, { env: { TEST_OPENAI_KEY: KEY } });

async function follow(l: OpenAiLauncher, launcherId: string) {
  const states: string[] = [];
  for (let i = 0; i < 10; i++) {
    const seen = await l.status({ id: 'j', launcherId, log: '', output: '' });
    states.push(seen.state);
    if (['succeeded', 'failed', 'cancelled'].includes(seen.state)) return { states, seen };
  }
  throw new Error(`never finished: ${states.join(', ')}`);
}

describe('openai launcher', () => {
  it('uploads the SFT files and walks a supervised job to succeeded with its fine-tuned model', async () => {
    const l = launcher({ hyperparameters: { n_epochs: 3 } });
    const submitted = await l.submit(spec(tempDir(), false));
    expect(submitted.launcherId).toMatch(/^ftjob-/);
    expect(submitted.log).toBe(`${server.url}/fine_tuning/jobs/${submitted.launcherId}/events`);
    expect(uploads.slice(-2)).toEqual([
      { purpose: 'fine-tune', name: 'train.jsonl', content: SFT },
      { purpose: 'fine-tune', name: 'validation.jsonl', content: SFT },
    ]);
    expect(jobRequests.at(-1)).toMatchObject({
      model: 'gpt-4o-mini-2024-07-18',
      training_file: expect.stringMatching(/^file-/),
      validation_file: expect.stringMatching(/^file-/),
      suffix: 'support-bot-0123456789ab',
      metadata: { tunewatch_job_id: 'ft-support-bot-0123456789ab', model: 'support-bot' },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } },
    });
    const { states, seen } = await follow(l, submitted.launcherId);
    expect(states).toEqual(['submitted', 'running', 'succeeded']);
    expect(seen.result).toEqual({ version: 'ft:gpt-4o-mini-2024-07-18:acme:support-bot:abc123', upstream: server.url, upstreamModel: 'ft:gpt-4o-mini-2024-07-18:acme:support-bot:abc123' });
    expect(seen.detail).toMatch(/status succeeded: step \d/);
  });

  it('trains with dpo on the preference pairs when the snapshot has them, skipping an empty validation file', async () => {
    const before = uploads.length;
    await launcher().submit(spec(tempDir(), true));
    expect(uploads.slice(before)).toEqual([{ purpose: 'fine-tune', name: 'preferences.train.jsonl', content: DPO }]);
    const request = jobRequests.at(-1)!;
    expect(request.method).toEqual({ type: 'dpo', dpo: { hyperparameters: {} } });
    expect(request).not.toHaveProperty('validation_file');
  });

  it('reports a failed hosted job with the API\'s error message', async () => {
    const l = launcher({ suffix: 'will-fail' });
    const submitted = await l.submit(spec(tempDir(), false));
    const { seen } = await follow(l, submitted.launcherId);
    expect(seen).toMatchObject({ state: 'failed', error: 'line 3: missing messages' });
  });

  it('cancels a job', async () => {
    const l = launcher();
    const submitted = await l.submit(spec(tempDir(), false));
    await l.cancel({ id: 'j', launcherId: submitted.launcherId, log: '', output: '' });
    expect((await l.status({ id: 'j', launcherId: submitted.launcherId, log: '', output: '' })).state).toBe('cancelled');
  });

  it('turns a refused key, a failing upload and an unknown job into a LauncherError with the API\'s words', async () => {
    const noKey = new OpenAiLauncher({ kind: 'openai', baseUrl: server.url, method: 'auto' }, { env: {} });
    await expect(noKey.submit(spec(tempDir(), false))).rejects.toThrow(/openai launcher: POST .*\/files answered 401: Incorrect API key provided/);
    failUploads = 500;
    try {
      await expect(launcher().submit(spec(tempDir(), false))).rejects.toThrow(LauncherError);
      await expect(launcher().submit(spec(tempDir(), false))).rejects.toThrow(/answered 500: upstream is having a bad day/);
    } finally {
      failUploads = null;
    }
    await expect(launcher().status({ id: 'j', launcherId: 'ftjob-none', log: '', output: '' })).rejects.toThrow(/404: no such job/);
    const down = new OpenAiLauncher({ kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', method: 'auto' }, { env: {} });
    await expect(down.cancel({ id: 'j', launcherId: 'ftjob-1', log: '', output: '' })).rejects.toThrow(/openai launcher: POST http:\/\/127\.0\.0\.1:9\/v1\/fine_tuning\/jobs\/ftjob-1\/cancel: fetch failed/);
  });

  it('refuses dpo without preference pairs', async () => {
    await expect(launcher({ method: 'dpo' }).submit(spec(tempDir(), false))).rejects.toThrow(/method dpo needs a non-empty preference file/);
  });
});

describe('openai request shapes (pure)', () => {
  it('chooses the method and builds the job request', () => {
    const s = spec(tempDir(), true);
    expect(methodFor({ method: 'auto' }, s)).toBe('dpo');
    expect(methodFor({ method: 'supervised' }, s)).toBe('supervised');
    expect(jobRequest({ kind: 'openai', baseUrl: 'x', method: 'auto', suffix: 's' }, s, { training: 'file-1' }, 'supervised')).toEqual({
      model: 'gpt-4o-mini-2024-07-18', training_file: 'file-1', suffix: 's', metadata: { tunewatch_job_id: s.jobId, model: 'support-bot' }, method: { type: 'supervised', supervised: { hyperparameters: {} } },
    });
  });

  it('maps every hosted status and refuses an unknown one', () => {
    expect(observeHosted({ id: 'a', status: 'queued' }, 'u').state).toBe('submitted');
    expect(observeHosted({ id: 'a', status: 'validating_files' }, 'u').state).toBe('submitted');
    expect(observeHosted({ id: 'a', status: 'running' }, 'u').state).toBe('running');
    expect(observeHosted({ id: 'a', status: 'cancelled' }, 'u').state).toBe('cancelled');
    expect(() => observeHosted({ id: 'a', status: 'paused' }, 'u')).toThrow(/unknown status "paused"/);
  });
});

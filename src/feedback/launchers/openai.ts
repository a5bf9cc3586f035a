// The `openai` launcher: hosted fine-tuning through an OpenAI-compatible API. Uploads the snapshot's
// files (POST /files, purpose fine-tune), creates the job (POST /fine_tuning/jobs, supervised, or dpo
// when the snapshot has preference pairs), follows GET /fine_tuning/jobs/{id} and its events, and
// cancels with POST …/cancel. The hosted job id is the launcher id, so nothing is kept here.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { OpenAiLauncherConfig } from '../../config/schema.js';
import type { JobState } from '../states.js';
import { LauncherError, type JobHandle, type Launcher, type LaunchSpec, type Observed, type Submitted } from './launcher.js';

const TIMEOUT_MS = 30_000;

/** The hosted job's status words, as tunewatch's job states. */
const STATES: Record<string, JobState> = {
  validating_files: 'submitted',
  queued: 'submitted',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};

interface HostedJob {
  id: string;
  status: string;
  fine_tuned_model?: string | null;
  error?: { message?: string; code?: string } | null;
}

export interface OpenAiOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

/** The method a snapshot is trained with: dpo when asked, or (auto) when it has preference pairs. */
export function methodFor(config: Pick<OpenAiLauncherConfig, 'method'>, spec: Pick<LaunchSpec, 'dataset'>): 'supervised' | 'dpo' {
  if (config.method === 'supervised' || config.method === 'dpo') return config.method;
  return spec.dataset.preferences ? 'dpo' : 'supervised';
}

/** The body of POST /fine_tuning/jobs (pure). */
export function jobRequest(config: OpenAiLauncherConfig, spec: LaunchSpec, files: { training: string; validation?: string }, method: 'supervised' | 'dpo') {
  return {
    model: spec.baseModel,
    training_file: files.training,
    ...(files.validation ? { validation_file: files.validation } : {}),
    suffix: (config.suffix ?? spec.jobId.replace(/^ft-/, '')).slice(0, 64),
    metadata: { tunewatch_job_id: spec.jobId, model: spec.model },
    method: { type: method, [method]: { hyperparameters: config.hyperparameters ?? {} } },
  };
}

/** What a hosted job is in tunewatch's words; a succeeded one names the model it produced. */
export function observeHosted(job: HostedJob, inferenceUrl: string): Observed {
  const state = STATES[job.status];
  if (!state) throw new LauncherError('openai', `job ${job.id} has an unknown status ${JSON.stringify(job.status)}`);
  const seen: Observed = { state, detail: `status ${job.status}` };
  if (state === 'failed') seen.error = job.error?.message ?? `the hosted job ${job.id} failed`;
  if (state === 'succeeded' && job.fine_tuned_model) seen.result = { version: job.fine_tuned_model.replace(/[^A-Za-z0-9._:-]+/g, '-'), upstream: inferenceUrl, upstreamModel: job.fine_tuned_model };
  return seen;
}

const rowsIn = (file: string | null) => (file ? readFileSync(file, 'utf8').trim().length > 0 : false);

export class OpenAiLauncher implements Launcher {
  readonly kind = 'openai' as const;
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly config: OpenAiLauncherConfig,
    options: OpenAiOptions = {},
  ) {
    this.base = config.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? fetch;
    this.env = options.env ?? process.env;
  }

  async submit(spec: LaunchSpec): Promise<Submitted> {
    const method = methodFor(this.config, spec);
    const [trainFile, validationFile] = method === 'dpo' ? [spec.dataset.preferences, spec.dataset.preferencesValidation] : [spec.dataset.train, spec.dataset.validation];
    if (!trainFile || !rowsIn(trainFile)) throw new LauncherError('openai', `method ${method} needs a non-empty ${method === 'dpo' ? 'preference' : 'training'} file; the snapshot has none`);
    const training = await this.upload(trainFile);
    const validation = rowsIn(validationFile) ? await this.upload(validationFile!) : undefined;
    const job = await this.call<HostedJob>('POST', '/fine_tuning/jobs', jobRequest(this.config, spec, { training, validation }, method));
    return { launcherId: job.id, log: `${this.base}/fine_tuning/jobs/${job.id}/events`, output: '' };
  }

  async status(handle: JobHandle): Promise<Observed> {
    const job = await this.call<HostedJob>('GET', `/fine_tuning/jobs/${encodeURIComponent(handle.launcherId)}`);
    const seen = observeHosted(job, this.config.inferenceUrl ?? this.base);
    try {
      const events = await this.call<{ data?: { message?: string }[] }>('GET', `/fine_tuning/jobs/${encodeURIComponent(handle.launcherId)}/events?limit=1`);
      const latest = events.data?.[0]?.message;
      if (latest) seen.detail = `${seen.detail}: ${latest}`;
    } catch {
      // Events are a courtesy: the job's status is what counts.
    }
    return seen;
  }

  async cancel(handle: JobHandle): Promise<void> {
    await this.call('POST', `/fine_tuning/jobs/${encodeURIComponent(handle.launcherId)}/cancel`);
  }

  private async upload(file: string): Promise<string> {
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob([readFileSync(file)], { type: 'application/jsonl' }), basename(file));
    return (await this.call<{ id: string }>('POST', '/files', form)).id;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: object | FormData): Promise<T> {
    const url = `${this.base}${path}`;
    const headers: Record<string, string> = {};
    const key = this.config.apiKeyEnv ? this.env[this.config.apiKeyEnv] : undefined;
    if (key) headers.authorization = `Bearer ${key}`;
    if (body && !(body instanceof FormData)) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetch(url, { method, headers, body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw new LauncherError('openai', `${method} ${url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new LauncherError('openai', `${method} ${url} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const message = (parsed as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
      throw new LauncherError('openai', `${method} ${url} answered ${res.status}: ${message}`);
    }
    return parsed as T;
  }
}

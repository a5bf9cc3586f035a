// `tunewatch retrain …`: the feedback loop through a running server's admin API (the same words as
// /api/retrain/…).
import type { Command } from 'commander';
import type { Job, QueueItem } from '../feedback/types.js';
import { controlCall, printAnswer, type ControlOptions } from './admin-client.js';

type ClientOptions = ControlOptions;

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function formatQueue(model: string, counts: Record<string, number>, items: QueueItem[]): string {
  const head = `${model}: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}`;
  if (items.length === 0) return `${head}\nthe queue is empty: no failing or corrected samples in the lookback`;
  const rows = items.map((i) => `${i.requestId.padEnd(38)} ${i.version.padEnd(10)} ${i.state.padEnd(17)} ${i.reason}`);
  return [head, `${'request'.padEnd(38)} ${'version'.padEnd(10)} ${'state'.padEnd(17)} reason`, ...rows].join('\n');
}

export function formatJobs(jobs: Job[]): string {
  if (jobs.length === 0) return 'no retrain jobs yet';
  const rows = jobs.map((j) => `${j.id.padEnd(36)} ${j.model.padEnd(14)} ${j.state.padEnd(10)} ${j.launcher.padEnd(10)} ${String(j.summary.counts?.exported ?? '-').padStart(5)}  ${j.trigger.padEnd(15)} ${iso(j.createdAt)}`);
  return [`${'job'.padEnd(36)} ${'model'.padEnd(14)} ${'state'.padEnd(10)} ${'launcher'.padEnd(10)} ${'items'.padStart(5)}  ${'trigger'.padEnd(15)} created`, ...rows].join('\n');
}

/** One job: its record, the dataset's stage counts and files, and its events. */
export function formatJob(j: Job): string {
  const c = j.summary.counts;
  const lines = [
    `${j.id}: ${j.state} (${j.launcher}${j.launcherId ? ` ${j.launcherId}` : ''}), model ${j.model}, trigger ${j.trigger} by ${j.actor}`,
    `dataset ${j.datasetId}: ${j.datasetDir}`,
    c ? `  counts: in ${c.in}, deduplicated ${c.deduplicated}, pii_excluded ${c.pii_excluded}, needs_correction ${c.needs_correction}, balanced_away ${c.balanced_away}, exported ${c.exported} (train ${c.train}, validation ${c.validation}, preference pairs ${c.preferences + c.preferences_validation})` : '',
    ...j.summary.files.map((f) => `  ${f.name.padEnd(28)} ${String(f.rows).padStart(5)} rows  sha256 ${f.sha256}`),
    `log: ${j.log}`,
    `output: ${j.output}`,
    j.exitCode !== null ? `exit code: ${j.exitCode}` : '',
    j.error ? `error: ${j.error}` : '',
    j.detail ? `detail: ${j.detail}` : '',
    j.result ? `result: ${j.result.version} at ${j.result.upstream}${j.result.upstreamModel ? ` (${j.result.upstreamModel})` : ''}` : '',
    'events:',
    ...j.events.map((e) => `  ${iso(e.ts)}  ${e.state.padEnd(10)}${e.launcherId ? ` ${e.launcherId}` : ''}${e.exitCode !== null ? ` exit ${e.exitCode}` : ''}${e.error ? `  ${e.error}` : ''}`),
  ];
  return lines.filter((l) => l !== '').join('\n');
}

export function registerRetrainCommand(program: Command, withClientOptions: (c: Command) => Command): void {
  const retrain = program.command('retrain').description('the feedback loop: retraining queue, dataset snapshots and fine-tuning jobs (through a running server)');
  const print = printAnswer;
  const call = controlCall;
  const model = (m: string) => `/api/retrain/${encodeURIComponent(m)}`;
  const job = (id: string) => `/api/retrain/jobs/${encodeURIComponent(id)}`;

  withClientOptions(retrain.command('queue').description('a model\'s retraining queue: each failing or corrected sample, its state and why').argument('<model>'))
    .option('--json', 'print the API answer')
    .action(async (m: string, opts: ClientOptions) => {
      const body = await call<{ model: string; counts: Record<string, number>; items: QueueItem[] }>(opts, `${model(m)}/queue`);
      print(opts, body, () => formatQueue(body.model, body.counts, body.items));
    });
  withClientOptions(retrain.command('launch').description('curate and export the model\'s snapshot and launch a job on it (an unchanged snapshot answers its job)').argument('<model>'))
    .option('--json', 'print the API answer')
    .action(async (m: string, opts: ClientOptions) => {
      const body = await call<Job>(opts, `${model(m)}/launch`, {});
      print(opts, body, () => formatJob(body));
    });
  withClientOptions(retrain.command('export').description('curate and export the model\'s snapshot without launching; prints the manifest').argument('<model>'))
    .option('--json', 'print the API answer')
    .action(async (m: string, opts: ClientOptions) => {
      const body = await call<{ dir: string; manifest: unknown }>(opts, `${model(m)}/export`, {});
      print(opts, body, () => `${body.dir}\n${JSON.stringify(body.manifest, null, 2)}`);
    });
  withClientOptions(retrain.command('jobs').description('every retrain job, newest first'))
    .option('--json', 'print the API answer')
    .action(async (opts: ClientOptions) => {
      const body = await call<{ jobs: Job[] }>(opts, '/api/retrain/jobs');
      print(opts, body, () => formatJobs(body.jobs));
    });
  withClientOptions(retrain.command('show').description('one job: state, dataset counts and files, log, output, events').argument('<job>'))
    .option('--json', 'print the API answer')
    .action(async (id: string, opts: ClientOptions) => {
      const body = await call<Job>(opts, job(id));
      print(opts, body, () => formatJob(body));
    });
  withClientOptions(retrain.command('cancel').description('cancel a queued, submitted or running job').argument('<job>'))
    .option('--json', 'print the API answer')
    .action(async (id: string, opts: ClientOptions) => {
      const body = await call<Job>(opts, `${job(id)}/cancel`, {});
      print(opts, body, () => formatJob(body));
    });
}

import { SingleBar, Presets } from 'cli-progress';
import { request } from 'undici';
import { validate } from '../config/load.js';
import { startSimulator } from '../simulate/server.js';
import { piiTotals, versionSummary } from '../store/queries.js';
import { startService } from './service.js';
import { sliCounts } from '../store/verdicts.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findBinary, freePort, startProcess } from './processes.js';
import { formatSliTable, formatSloStatus, formatVersionSummary } from './summary.js';
import { formatCanary, formatHistory } from './canary.js';
import { formatJob } from './retrain.js';
import type { Service } from './service.js';
import type { Job } from '../feedback/types.js';

export interface DemoOptions {
  dataPath: string;
  requests: number;
  concurrency: number;
  progress: boolean;
  /** Keep the server (and the status page) up until SIGINT/SIGTERM. */
  keep?: boolean;
}

const TASKS = [
  'Summarise this support ticket and list the action items: the customer cannot reset their password after the last update.',
  'List the action items from this meeting: ship the billing fix, update the runbook, review the on-call rota.',
  'Write a short reply to a customer whose order arrived damaged and list the next steps.',
  'Extract the action items: migrate the database, rotate the API keys, notify the payments team.',
];
const PII_SNIPPETS = [
  'You can reach me at maria.lopez@example.org or +1 415 555 0134.',
  'My card 4111 1111 1111 1111 was charged twice.',
  'My SSN is 123-45-6789, please update my file.',
  'The server at 10.20.30.40 is failing.',
];

/** The request mix the demo sends: deterministic, so two runs print comparable tables. */
export function demoRequest(i: number): { body: Record<string, unknown>; headers: Record<string, string> } {
  const withPii = i % 5 === 0;
  const content = `Ticket #${1000 + i}. ` + TASKS[i % TASKS.length] + (withPii ? ' ' + PII_SNIPPETS[(i / 5) % PII_SNIPPETS.length] : '');
  return {
    body: {
      model: 'support-bot',
      messages: [
        { role: 'system', content: 'You are a support assistant. Answer with a heading "Action items:" and bullet points.' },
        { role: 'user', content },
      ],
      stream: i % 3 === 0,
      user: `user-${i % 60}`,
      // Every demo request is grounded, so made-up figures and names show up as hallucinations.
      tunewatch: { context: `Ticket #${1000 + i} was opened by a customer of the support team.` },
    },
    headers: { 'content-type': 'application/json', 'x-tunewatch-meta-source': 'demo' },
  };
}

/** A local Alertmanager for the demo's page when the binary is installed; null otherwise. */
async function startDemoAlertmanager(dataPath: string): Promise<{ url: string; stop(): Promise<void> } | null> {
  const binary = findBinary('prometheus-alertmanager', 'alertmanager');
  if (!binary) return null;
  const port = await freePort();
  const dir = resolve(dataPath, 'alertmanager');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'alertmanager.yml'), 'route: { receiver: log }\nreceivers: [{ name: log }]\n');
  const url = `http://127.0.0.1:${port}`;
  const am = await startProcess(binary, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], `${url}/-/ready`);
  return { url, stop: am.stop };
}

/** The demo's config: v12 healthy and v13 a regressed canary at 30%, two SLOs, a rollout plan, the feedback loop. */
export function demoConfig(o: { dataPath: string; baseline: string; canary: string; alertmanager?: string; rolloutInterval?: string }) {
  return validate({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: o.dataPath },
    capture: { flushIntervalMs: 200 },
    alerting: { alertmanagers: o.alertmanager ? [o.alertmanager] : [], evaluationInterval: '5s' },
    // Alert windows short enough for a demo run: page when the budget burns 5x over 5m and 1m.
    slos: [
      {
        name: 'support-bot-instructions',
        model: 'support-bot',
        sli: 'instruction_success',
        objective: 0.95,
        window: '1d',
        alerting: [{ severity: 'page', burnRate: 5, longWindow: '5m', shortWindow: '1m' }],
        runbook: 'https://runbooks.example/support-bot',
      },
      { name: 'support-bot-availability', model: 'support-bot', sli: 'availability', objective: 0.99, window: '1d', alerting: [{ severity: 'page', burnRate: 5, longWindow: '5m', shortWindow: '1m' }] },
    ],
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150, mustNotMatch: ['(?i)as an ai language model'] } },
    models: [
      {
        name: 'support-bot',
        spec: 'action-items',
        deployments: [
          { version: 'v12', upstream: o.baseline, upstreamModel: 'llama-3-8b-sft-v12', weight: 70 },
          { version: 'v13', upstream: o.canary, upstreamModel: 'llama-3-8b-sft-v13', weight: 30, canary: true },
        ],
        // The canary starts at 30% and is judged every 2 s against the baseline on every SLI.
        rollout: { steps: [30, 60], interval: o.rolloutInterval ?? '2s', minSamples: 40 },
        // The feedback loop: a rollback launches a job on the curated failures (train.mjs checks the dataset).
        retrain: { launcher: { kind: 'command', command: ['node', 'train.mjs'] }, trigger: { canaryRollback: true }, pollInterval: '500ms' },
      },
    ],
  });
}

/** Sends the demo's request mix; `onAnswer` sees the status counts so far after each answer. */
export async function sendDemoTraffic(url: string, requests: number, concurrency: number, onAnswer?: (statuses: Map<number, number>) => void): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const { body, headers } = demoRequest(next++);
      const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
      await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      onAnswer?.(statuses);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/** The main job on the embedded defaults: simulated baseline and canary, the proxy, traffic, tables, a page. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const baseline = await startSimulator({ profile: 'healthy', seed: 12 });
  const canary = await startSimulator({ profile: 'regressed', seed: 13 });
  const alertmanager = await startDemoAlertmanager(options.dataPath);
  const config = demoConfig({ dataPath: options.dataPath, baseline: baseline.url, canary: canary.url, alertmanager: alertmanager?.url });
  const service = await startService(config);
  console.log(`tunewatch proxy on ${service.url}, embedded store at ${service.store.location}`);
  console.log(`simulated upstreams: v12 (healthy) ${baseline.url}, v13 (regressed canary) ${canary.url}\n`);

  const bar = options.progress ? new SingleBar({ format: 'requests [{bar}] {value}/{total}  {status}' }, Presets.shades_classic) : null;
  bar?.start(options.requests, 0, { status: '' });
  await sendDemoTraffic(service.url, options.requests, options.concurrency, (statuses) => bar?.increment(1, { status: [...statuses].map(([s, n]) => `${s}:${n}`).join(' ') }));
  bar?.stop();

  await service.pipeline.flush();
  // One more look now that every sample is stored, unless the controller already decided.
  if (service.canary && service.canary.view('support-bot').state === 'running') await service.canary.look('support-bot');
  if (service.canary) {
    const view = service.canary.view('support-bot');
    console.log('\nCanary rollout (the controller judges v13 against v12 at every interval):\n');
    console.log(formatCanary(view));
    const history = await service.canary.history('support-bot');
    console.log(`\n${formatHistory(history.filter((d) => d.action !== 'analysis'))}`);
  }
  if (service.retrain) await showFeedbackLoop(service);
  const rows = await versionSummary(service.store, Date.now() - 3_600_000);
  console.log('\nCaptured per model version (last hour, from the per-minute rollup):\n');
  console.log(formatVersionSummary(rows));
  console.log('\nSLIs per model version (effective verdicts, from the per-minute SLI rollup):\n');
  console.log(formatSliTable(await sliCounts(service.store, Date.now() - 3_600_000)));
  console.log('\nSLOs (built-in engine, from the ClickHouse rollups):\n');
  console.log(formatSloStatus((await service.engine?.evaluate()) ?? []));
  const pages = service.engine?.firing() ?? [];
  if (alertmanager) {
    const res = await request(`${alertmanager.url}/api/v2/alerts`);
    const alerts = (await res.body.json()) as { labels: Record<string, string>; annotations: Record<string, string> }[];
    console.log(`\nAlertmanager at ${alertmanager.url} now holds ${alerts.length} alert(s):`);
    for (const a of alerts) console.log(`  [${a.labels.severity}] ${a.labels.slo ?? a.labels.alertname} ${a.labels.model} ${a.labels.version}: ${a.annotations.summary}`);
  } else {
    console.log(`\nNo Alertmanager on PATH (apt-get install -y prometheus-alertmanager); the page payload the engine would POST to /api/v2/alerts:`);
    console.log(JSON.stringify(pages, null, 2));
  }
  const found = await piiTotals(service.store);
  console.log(`\nPII redacted before storage: ${found.map((f) => `${f.type}=${f.n}`).join(', ') || 'none'}`);
  console.log(`Data left in ${options.dataPath}.`);
  console.log(`\nStatus page: ${service.url}/ui${options.keep ? ' (the server keeps running; Ctrl-C stops it)' : ' (run with --keep to keep the server up)'}`);
  if (options.keep) {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  await service.stop();
  await Promise.all([baseline.close(), canary.close(), alertmanager?.stop()]);
}

/** A reviewer corrects some of the canary's failures; the rollback's job curates them, exports and trains. */
async function showFeedbackLoop(service: Service): Promise<void> {
  const retrain = service.retrain!;
  const queue = await retrain.queue('support-bot');
  const corrections = queue
    .filter((i) => i.state === 'needs_correction' && i.version === 'v13')
    .slice(0, 24)
    .map((i, n) => ({
      request_id: i.requestId,
      sli: i.failures[0]!.sli,
      verdict: 'bad',
      rater: 'demo-reviewer',
      correction: `Action items:\n- ${['Reset the password from the admin console', 'Refund the duplicate charge', 'Send a replacement order', 'Rotate the API keys'][n % 4]}\n- Confirm with the customer within one business day`,
    }));
  await service.labels.record(corrections as Parameters<typeof service.labels.record>[0], 'human');
  console.log(`\nFeedback loop: a reviewer corrected ${corrections.length} of v13's failures; the rollback triggers a retraining job.\n`);
  // The rollback trigger fires at the loop's next round; launch by hand if the canary was not rolled back.
  let job: Job | undefined;
  for (let i = 0; i < 60 && !job; i++) {
    await retrain.tick('support-bot');
    job = (await retrain.jobs('support-bot'))[0];
  }
  job ??= (await retrain.launch('support-bot', { trigger: 'manual', actor: 'demo' })).job;
  for (let i = 0; i < 100 && !['succeeded', 'failed', 'cancelled'].includes(job.state); i++) {
    await new Promise((r) => setTimeout(r, 200));
    await retrain.tick('support-bot');
    job = await retrain.job(job.id);
  }
  const after = await retrain.queue('support-bot');
  const count = (state: string) => after.filter((i) => i.state === state).length;
  console.log(`retraining queue: ${count('ready')} ready, ${count('needs_correction')} need a correction, ${count('excluded')} excluded\n`);
  console.log(formatJob(job));
}

import { SingleBar, Presets } from 'cli-progress';
import { request } from 'undici';
import { validate } from '../config/load.js';
import { startSimulator } from '../simulate/server.js';
import { piiTotals, versionSummary } from '../store/queries.js';
import { startService } from './service.js';
import { sliCounts } from '../store/verdicts.js';
import { formatSliTable, formatVersionSummary } from './summary.js';

export interface DemoOptions {
  dataPath: string;
  requests: number;
  concurrency: number;
  progress: boolean;
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

/** The main job on the embedded defaults: simulated baseline and canary, the proxy, traffic, a table. */
export async function runDemo(options: DemoOptions): Promise<void> {
  const baseline = await startSimulator({ profile: 'healthy', seed: 12 });
  const canary = await startSimulator({ profile: 'regressed', seed: 13 });
  const config = validate({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: options.dataPath },
    capture: { flushIntervalMs: 200 },
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150, mustNotMatch: ['(?i)as an ai language model'] } },
    models: [
      {
        name: 'support-bot',
        spec: 'action-items',
        deployments: [
          { version: 'v12', upstream: baseline.url, upstreamModel: 'llama-3-8b-sft-v12', weight: 70 },
          { version: 'v13', upstream: canary.url, upstreamModel: 'llama-3-8b-sft-v13', weight: 30, canary: true },
        ],
      },
    ],
  });
  const service = await startService(config);
  console.log(`tunewatch proxy on ${service.url}, embedded store at ${service.store.location}`);
  console.log(`simulated upstreams: v12 (healthy) ${baseline.url}, v13 (regressed canary) ${canary.url}\n`);

  const bar = options.progress ? new SingleBar({ format: 'requests [{bar}] {value}/{total}  {status}' }, Presets.shades_classic) : null;
  bar?.start(options.requests, 0, { status: '' });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < options.requests) {
      const { body, headers } = demoRequest(next++);
      const res = await request(`${service.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
      await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      bar?.increment(1, { status: [...statuses].map(([s, n]) => `${s}:${n}`).join(' ') });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  bar?.stop();

  await service.pipeline.flush();
  const rows = await versionSummary(service.store, Date.now() - 3_600_000);
  console.log('\nCaptured per model version (last hour, from the per-minute rollup):\n');
  console.log(formatVersionSummary(rows));
  console.log('\nSLIs per model version (effective verdicts, from the per-minute SLI rollup):\n');
  console.log(formatSliTable(await sliCounts(service.store, Date.now() - 3_600_000)));
  const found = await piiTotals(service.store);
  console.log(`\nPII redacted before storage: ${found.map((f) => `${f.type}=${f.n}`).join(', ') || 'none'}`);
  console.log(`Data left in ${options.dataPath}.`);
  await service.stop();
  await Promise.all([baseline.close(), canary.close()]);
}

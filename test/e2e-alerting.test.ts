// End to end through real binaries: the proxy in front of a simulated model whose canary degrades,
// Prometheus scraping /metrics and evaluating the generated rules, the built-in SLO engine, and
// Alertmanager delivering pages to a webhook; then the degradation stops and both paths resolve.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { PROFILES } from '../src/simulate/profiles.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { toSloModel } from '../src/slo/model.js';
import { renderRules } from '../src/slo/rules.js';
import { eventually, sleep, startUpstream, tempDir, testConfig, type Upstream } from './helpers.js';
import { findBinary, freePort, startProcess, type Process } from '../src/cli/processes.js';

const prometheusBin = findBinary('prometheus');
const alertmanagerBin = findBinary('prometheus-alertmanager', 'alertmanager');
const haveBinaries = Boolean(prometheusBin && alertmanagerBin);
const INSTALL_HINT = 'apt-get install -y prometheus prometheus-alertmanager';
if (!haveBinaries && process.env.CI !== 'true') console.warn(`e2e alerting test skipped: prometheus/alertmanager not on PATH (${INSTALL_HINT})`);

interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const dir = tempDir('tunewatch-e2e-');
let baseline: Simulator;
let canary: Simulator;
let webhook: Upstream;
let alertmanager: Process;
let prometheus: Process;
let service: Service;
const received: WebhookAlert[] = [];
let traffic = true;
let trafficDone: Promise<void> = Promise.resolve();

// A canary that ignores the instruction format on every answer: instruction success drops to 0.
const BROKEN = { ...PROFILES.instant, name: 'broken', instructionFailureRate: 1 };

describe.skipIf(!haveBinaries && process.env.CI !== 'true')('alerting end to end (real Prometheus and Alertmanager)', () => {
  beforeAll(async () => {
    if (!haveBinaries) throw new Error(`prometheus and prometheus-alertmanager are required under CI: ${INSTALL_HINT}`);
    baseline = await startSimulator({ profile: 'instant', seed: 1 });
    canary = await startSimulator({ profile: BROKEN, seed: 2 });
    webhook = await startUpstream((_req, res, body) => {
      for (const alert of JSON.parse(body).alerts as WebhookAlert[]) received.push(alert);
      res.end('ok');
    });

    const amPort = await freePort();
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route: { receiver: pager, group_by: [alertname, slo, model, version, evaluator], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }\n` +
        `receivers: [{ name: pager, webhook_configs: [{ url: '${webhook.url.replace(/\/v1$/, '')}/hook', send_resolved: true }] }]\n`,
    );
    alertmanager = await startProcess(
      alertmanagerBin!,
      [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='],
      `http://127.0.0.1:${amPort}/-/ready`,
    );

    // Short windows so the test takes a minute or two: page at 5x over 2m and 1m (objective 0.9 → 50% bad).
    const config = testConfig(
      join(dir, 'data'),
      [
        { version: 'v12', upstream: baseline.url, weight: 50 },
        { version: 'v13', upstream: canary.url, weight: 50, canary: true },
      ],
      { specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 1 } } },
    );
    config.models[0].spec = 'action-items';
    config.alerting = { alertmanagers: [`http://127.0.0.1:${amPort}`], evaluationInterval: '1s', externalUrl: 'http://tunewatch.test' };
    config.slos = [
      {
        name: 'support-bot-instructions',
        description: '',
        model: 'support-bot',
        sli: 'instruction_success',
        objective: 0.9,
        window: '1h',
        alerting: [{ severity: 'page', burnRate: 5, longWindow: '2m', shortWindow: '1m' }],
        runbook: 'https://runbooks.example/support-bot',
        labels: {},
      },
    ];
    service = await startService(config);

    const promPort = await freePort();
    writeFileSync(join(dir, 'tunewatch.rules.yml'), renderRules(config.slos.map(toSloModel), config.alerting, 'e2e test config'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s, external_labels: { evaluator: prometheus } }\n` +
        `rule_files: ['${join(dir, 'tunewatch.rules.yml')}']\n` +
        `alerting: { alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${amPort}'] }] }] }\n` +
        `scrape_configs: [{ job_name: tunewatch, static_configs: [{ targets: ['${new URL(service.url).host}'] }] }]\n`,
    );
    prometheus = await startProcess(
      prometheusBin!,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom-data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      `http://127.0.0.1:${promPort}/-/ready`,
    );

    // Steady traffic from many users, so both versions get requests all along.
    trafficDone = (async () => {
      for (let i = 0; traffic; i++) {
        const res = await request(`${service.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'support-bot', user: `user-${i % 40}`, messages: [{ role: 'user', content: `List the action items for ticket ${i}` }] }),
        });
        await res.body.text();
        await sleep(40);
      }
    })();
  }, 60_000);

  afterAll(async () => {
    traffic = false;
    await trafficDone;
    await prometheus?.stop();
    await alertmanager?.stop();
    await service?.stop();
    await Promise.all([baseline?.close(), canary?.close(), webhook?.close()]);
  });

  const pageFor = (status: WebhookAlert['status'], fromPrometheus: boolean) => (a: WebhookAlert) =>
    a.status === status && a.labels.version === 'v13' && a.labels.severity === 'page' && (a.labels.evaluator === 'prometheus') === fromPrometheus;

  it('pages for the degraded canary through both the generated rules and the built-in engine, then resolves both', async () => {
    const timeout = 90_000;
    const diagnostics = () => `received: ${JSON.stringify(received.map((a) => [a.status, a.labels]))}\nprometheus: ${prometheus.output().slice(-1500)}`;

    await eventually(async () => received.some(pageFor('firing', true)), timeout).catch(() => {
      throw new Error(`no page from Prometheus rules\n${diagnostics()}`);
    });
    await eventually(async () => received.some(pageFor('firing', false)), timeout).catch(() => {
      throw new Error(`no page from the built-in engine\n${diagnostics()}`);
    });

    const fromEngine = received.find(pageFor('firing', false))!;
    expect(fromEngine.labels).toMatchObject({ alertname: 'TunewatchSLOErrorBudgetBurn', slo: 'support-bot-instructions', model: 'support-bot', window: '2m/1m' });
    expect(fromEngine.annotations.summary).toMatch(/burning at \d+(\.\d)?x over 2m\/1m \(threshold 5x\)/);
    expect(fromEngine.annotations.runbook_url).toBe('https://runbooks.example/support-bot');
    expect(fromEngine.annotations.samples).toBe('http://tunewatch.test/api/samples?model=support-bot&version=v13&sli=instruction_success&verdict=bad');
    const fromRules = received.find(pageFor('firing', true))!;
    expect(fromRules.annotations.summary).toMatch(/support-bot v13: error budget burning at \d+(\.\d)?x over 2m\/1m/);
    // The healthy baseline never pages.
    expect(received.some((a) => a.labels.version === 'v12')).toBe(false);
    const status = (await (await request(`${service.url}/api/slos`)).body.json()) as { slos: { version: string; state: string }[] };
    expect(status.slos.find((s) => s.version === 'v13')?.state).toBe('firing');

    canary.setProfile('instant'); // the degradation stops
    await eventually(async () => received.some(pageFor('resolved', true)) && received.some(pageFor('resolved', false)), 150_000).catch(() => {
      throw new Error(`pages did not resolve\n${diagnostics()}`);
    });
  }, 300_000);
});

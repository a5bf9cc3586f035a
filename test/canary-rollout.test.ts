// Canary rollouts end to end: simulated upstreams (healthy baseline, healthy or regressed canary),
// the real service with its embedded store, a real Alertmanager. One model per scenario.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validate } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { findBinary, freePort, startProcess, type Process } from '../src/cli/processes.js';
import { startService, type Service } from '../src/cli/service.js';
import { demoRequest } from '../src/cli/demo.js';
import { PROFILES } from '../src/simulate/profiles.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { eventually, startUpstream, tempDir, type Upstream } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const alertmanagerBin = findBinary('prometheus-alertmanager', 'alertmanager');
const dir = tempDir();
const sims: Simulator[] = [];
let alertmanager: Process;
let webhook: Upstream;
const pages: { labels: Record<string, string>; annotations: Record<string, string>; status: string }[] = [];
let service: Service;
let config: Config;

const ROLLOUT = { interval: '1s', minSamples: 40, alpha: 0.05 };

beforeAll(async () => {
  if (!alertmanagerBin) throw new Error('prometheus-alertmanager is required (apt-get install -y prometheus-alertmanager)');
  // Worse than the baseline on instruction success alone (18 points), so the rollback is that metric's.
  const worseInstructions = { ...PROFILES.healthy, name: 'worse-instructions', instructionFailureRate: 0.2 };
  const sim = async (profile: string | typeof worseInstructions, seed: number) => {
    const s = await startSimulator({ profile, seed });
    sims.push(s);
    return s.url;
  };
  const [healthyA, healthyB, healthyC, regressedB, healthyD, regressedD] = await Promise.all([
    sim('healthy', 12), sim('healthy', 14), sim('healthy', 15), sim(worseInstructions, 13), sim('healthy', 16), sim('regressed', 17),
  ]);
  webhook = await startUpstream((_req, res, body) => {
    for (const alert of JSON.parse(body).alerts) pages.push(alert);
    res.end('ok');
  });
  const amPort = await freePort();
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route: { receiver: pager, group_by: [alertname, model, version], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }\n` +
      `receivers: [{ name: pager, webhook_configs: [{ url: '${webhook.url.replace(/\/v1$/, '')}/hook' }] }]\n`,
  );
  alertmanager = await startProcess(
    alertmanagerBin,
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='],
    `http://127.0.0.1:${amPort}/-/ready`,
  );
  const model = (name: string, baseline: string, canary: string, rollout: object) => ({
    name,
    spec: 'action-items',
    deployments: [
      { version: 'v1', upstream: baseline },
      { version: 'v2', upstream: canary, canary: true, weight: 0 },
    ],
    rollout: { ...ROLLOUT, ...rollout },
  });
  config = validate({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: join(dir, 'data') },
    capture: { flushIntervalMs: 50 },
    alerting: { alertmanagers: [`http://127.0.0.1:${amPort}`], externalUrl: 'http://tunewatch.test' },
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150 } },
    models: [
      model('good-canary', healthyA, healthyB, { steps: [20, 50] }),
      // minSamples sized for power: an 18-point drop (98% → 80%) at alpha 0.05 over five metrics goes
      // unseen at the first look past 150 per arm in about 1 run in 4 (a pass there promotes, as in
      // Kayenta), past 400 in under 1 in 200 (classifyMetrics on seeded binomial draws, 400 runs each).
      model('bad-canary', healthyC, regressedB, { steps: [50], minSamples: 400 }),
      model('shadow-canary', healthyD, regressedD, { steps: [0], mirror: 0.2, minSamples: 150 }),
    ],
  });
  service = await startService(config);
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([...sims.map((s) => s.close()), webhook?.close(), alertmanager?.stop()]);
});

/** Sends requests for `model` until `until` holds; returns the versions that answered. */
async function traffic(model: string, until: () => Promise<boolean>, limit = 4000): Promise<string[]> {
  const versions: string[] = [];
  let i = 0;
  let done = false;
  const client = async () => {
    while (!done && i < limit) {
      const { body, headers } = demoRequest(i++);
      const res = await request(`${service.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ ...body, model, user: undefined, stream: false }),
      });
      await res.body.text();
      versions.push(String(res.headers['x-model-version']));
    }
  };
  const watch = (async () => {
    while (!done && i < limit) {
      if (await until()) done = true;
      else await new Promise((r) => setTimeout(r, 200));
    }
    done = true;
  })();
  await Promise.all([client(), client(), client(), watch]);
  return versions;
}

const canaryOf = async (model: string) => (await (await request(`${service.url}/api/canary/${model}`)).body.json()) as Record<string, any>;

describe('canary rollouts', () => {
  it('starts a configured canary at its first step', async () => {
    const body = (await (await request(`${service.url}/api/canary`)).body.json()) as { canaries: Record<string, any>[] };
    expect(body.canaries.map((c) => c.model).sort()).toEqual(['bad-canary', 'good-canary', 'shadow-canary']);
    expect(await canaryOf('good-canary')).toMatchObject({ model: 'good-canary', baseline: 'v1', canary: 'v2', weight: 20, step: 0, state: 'running' });
  });

  it('promotes a canary as good as the baseline through every step', async () => {
    await traffic('good-canary', async () => (await canaryOf('good-canary')).state === 'promoted');
    const view = await canaryOf('good-canary');
    expect(view).toMatchObject({ state: 'promoted', weight: 100, baseline: 'v2' });
    expect(view.lastAnalysis.verdict).toBe('pass');
    const history = (await (await request(`${service.url}/api/canary/good-canary/history`)).body.json()) as { decisions: Record<string, any>[] };
    const actions = history.decisions.map((d) => d.action).reverse();
    expect(actions[0]).toBe('start');
    expect(actions.filter((a) => a === 'advance')).toHaveLength(1);
    expect(actions.at(-1)).toBe('promote');
    expect(history.decisions[0].actor).toBe('controller');
    // All traffic now goes to the promoted version.
    const after = await traffic('good-canary', async () => false, 20);
    expect(new Set(after)).toEqual(new Set(['v2']));
  });

  it('rolls a regressed canary back to weight 0 soon after minSamples, pages, and sends it nothing more', async () => {
    await traffic('bad-canary', async () => (await canaryOf('bad-canary')).state === 'rolled_back');
    const view = await canaryOf('bad-canary');
    expect(view).toMatchObject({ state: 'rolled_back', weight: 0, canary: 'v2' });
    expect(view.lastAnalysis.verdict).toBe('fail');
    const instruction = view.lastAnalysis.metrics.find((m: any) => m.name === 'instruction_success');
    expect(instruction.classification).toBe('low');
    expect(instruction.effect).toBeLessThan(-0.1);
    await eventually(async () => pages.some((p) => p.labels.alertname === 'TunewatchCanaryRollback' && p.labels.model === 'bad-canary'), 30_000);
    const page = pages.find((p) => p.labels.alertname === 'TunewatchCanaryRollback')!;
    expect(page.labels).toMatchObject({ model: 'bad-canary', version: 'v2' });
    expect(page.annotations.failing_metrics).toMatch(/instruction_success: low \(effect -0\.\d+/);
    expect(page.annotations.samples).toContain('http://tunewatch.test/api/samples?model=bad-canary&version=v2');
    const after = await traffic('bad-canary', async () => false, 60);
    expect(after.filter((v) => v === 'v2')).toEqual([]);
  });

  it('with mirror: 0.2 at weight 0, the paired analysis rejects the regressed version; no client receives its answers', async () => {
    const versions = await traffic('shadow-canary', async () => {
      const v = await canaryOf('shadow-canary');
      return v.state === 'rolled_back';
    });
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set(['v1']));
    const view = await canaryOf('shadow-canary');
    expect(view.state).toBe('rolled_back');
    await service.pipeline.flush();
    const rs = await service.store.client.query({
      query: "SELECT count() AS n, countIf(meta['mirror_of'] != '') AS linked FROM samples WHERE model = 'shadow-canary' AND role = 'mirror'",
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const [mirrored] = await rs.json<{ n: number; linked: number }>();
    expect(Number(mirrored.n)).toBeGreaterThan(0);
    expect(Number(mirrored.linked)).toBe(Number(mirrored.n));
    const metrics = await (await request(`${service.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^tunewatch_canary_pair_disagreement\{model="shadow-canary",sli="instruction_success"\} 0\.\d+/m);
    expect(metrics).toMatch(/^tunewatch_canary_weight\{model="shadow-canary",version="v2"\} 0$/m);
  });

  it('keeps every decision after a restart: the rolled-back canary still gets no request', async () => {
    await service.stop();
    service = await startService(config);
    expect(await canaryOf('bad-canary')).toMatchObject({ state: 'rolled_back', weight: 0 });
    expect(await canaryOf('good-canary')).toMatchObject({ state: 'promoted', baseline: 'v2' });
    const after = await traffic('bad-canary', async () => false, 60);
    expect(after.filter((v) => v === 'v2')).toEqual([]);
  });

  it('takes manual actions with the same words, recorded with who decided', async () => {
    const start = await request(`${service.url}/api/canary/bad-canary/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tunewatch-actor': 'jane' },
      body: JSON.stringify({ version: 'v2' }),
    });
    expect(start.statusCode).toBe(201);
    expect(await start.body.json()).toMatchObject({ state: 'running', weight: 50, step: 0 });
    const pause = await request(`${service.url}/api/canary/bad-canary/pause`, { method: 'POST', headers: { 'x-tunewatch-actor': 'jane' } });
    expect(await pause.body.json()).toMatchObject({ state: 'paused' });
    const again = await request(`${service.url}/api/canary/bad-canary/pause`, { method: 'POST' });
    expect(again.statusCode).toBe(409);
    expect(((await again.body.json()) as any).error.message).toMatch(/cannot pause .* paused/);
    const rollback = await request(`${service.url}/api/canary/bad-canary/rollback`, { method: 'POST', headers: { 'x-tunewatch-actor': 'jane' } });
    expect(await rollback.body.json()).toMatchObject({ state: 'rolled_back', weight: 0 });
    const history = (await (await request(`${service.url}/api/canary/bad-canary/history`)).body.json()) as { decisions: Record<string, any>[] };
    expect(history.decisions.slice(0, 3).map((d) => [d.action, d.actor])).toEqual([['rollback', 'jane'], ['pause', 'jane'], ['start', 'jane']]);
    const unknown = await request(`${service.url}/api/canary/nope`);
    expect(unknown.statusCode).toBe(404);
    const badVersion = await request(`${service.url}/api/canary/bad-canary/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 'v9' }) });
    expect(badVersion.statusCode).toBe(400);
  });
});

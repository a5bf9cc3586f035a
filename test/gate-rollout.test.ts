// rollout.requireGate with the real service: an ungated canary deployment gets no traffic and cannot
// start; a failing gate run is named in the refusal; after a passing gate run (a real gate against
// simulated upstreams, recorded in the service's chDB store) the canary starts and its view, the CLI
// table and the status page show the gate result.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatCanary } from '../src/cli/canary.js';
import { startService, type Service } from '../src/cli/service.js';
import { validate } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { goldenLine } from '../src/gate/golden.js';
import { runGate } from '../src/gate/run.js';
import { simulatedGolden } from '../src/simulate/golden.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { gateRuns, recordGateRun } from '../src/store/gate-runs.js';
import { demoRequest } from '../src/cli/demo.js';
import { tempDir } from './helpers.js';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { CanaryView } from '../src/canary/controller.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const dir = tempDir('tunewatch-gate-rollout-');
const sims: Simulator[] = [];
let service: Service;
let config: Config;

beforeAll(async () => {
  const [baseline, candidate] = await Promise.all([startSimulator({ profile: 'healthy', seed: 12 }), startSimulator({ profile: 'healthy', seed: 13 })]);
  sims.push(baseline, candidate);
  config = validate({
    server: { host: '127.0.0.1', port: 0 },
    storage: { path: join(dir, 'data') },
    capture: { flushIntervalMs: 50 },
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150, reference: { scorer: 'f1', threshold: 0.3 } } },
    models: [
      {
        name: 'support-bot',
        spec: 'action-items',
        deployments: [
          { version: 'v12', upstream: baseline.url, weight: 70 },
          { version: 'v13', upstream: candidate.url, weight: 30, canary: true },
        ],
        rollout: { steps: [10, 50], interval: '1h', minSamples: 50, requireGate: true, gate: { minSamples: 50 } },
      },
    ],
  });
  service = await startService(config);
});

afterAll(async () => {
  await service?.stop();
  await Promise.all(sims.map((s) => s.close()));
});

const view = async () => (await (await request(`${service.url}/api/canary/support-bot`)).body.json()) as CanaryView;
const start = async () => {
  const res = await request(`${service.url}/api/canary/support-bot/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: 'v13' }) });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
};

describe('rollout.requireGate', () => {
  it('gives an ungated canary deployment no traffic and no rollout', async () => {
    const v = await view();
    expect(v.state).toBe('idle');
    expect(v.canary).toBe('');
    expect(v.requireGate).toBe(true);
    const versions = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const { body, headers } = demoRequest(i);
      const res = await request(`${service.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ ...body, stream: false }) });
      await res.body.text();
      versions.add(String(res.headers['x-model-version']));
    }
    expect([...versions]).toEqual(['v12']);
  });

  it('refuses to start a canary without a gate run, then names a failing one', async () => {
    const none = await start();
    expect(none.status).toBe(409);
    expect(JSON.stringify(none.body)).toMatch(/version 'v13' of support-bot has no passing release-gate run \(rollout.requireGate is true\); run tunewatch gate --model support-bot --candidate v13/);
    const failing = await recordGateRun(service.store, {
      model: 'support-bot', candidate: { version: 'v13', url: 'http://x' }, baseline: { version: 'v12' }, golden: { sha256: 'a'.repeat(64), items: 10 },
      analysis: { metrics: [], score: 0, verdict: 'fail', reason: 'critical metric failed: instruction_success' }, actor: 'test',
    });
    const refused = await start();
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain(`its latest gate run ${failing.id} was fail: critical metric failed: instruction_success`);
  });

  it('starts the canary after a passing gate run, and shows the gate result in the API, the CLI table and the status page', async () => {
    const goldenText = simulatedGolden(120).map(goldenLine).join('\n');
    const report = await runGate({ config, model: 'support-bot', candidate: 'v13', baseline: 'v12', goldenText, goldenFile: 'golden.jsonl' });
    expect(report.verdict).toBe('pass');
    const run = await recordGateRun(service.store, { model: report.model, candidate: report.candidate, baseline: report.baseline, golden: report.golden, analysis: report, actor: 'test' });
    const [stored] = await gateRuns(service.store, 'support-bot', 'v13', { limit: 1 });
    expect(stored).toMatchObject({ id: run.id, verdict: 'pass', goldenSha256: report.golden.sha256, goldenItems: 120, baseline: 'v12' });
    expect(stored!.metrics.map((m) => m.name)).toEqual(report.metrics.map((m) => m.name));
    const started = await start();
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const v = await view();
    expect(v).toMatchObject({ state: 'running', canary: 'v13', weight: 10 });
    expect(v.gate?.passed).toBe(true);
    expect(v.gate?.latest).toMatchObject({ id: run.id, verdict: 'pass', goldenItems: 120 });
    expect(formatCanary(v)).toMatch(/release gate: pass, score 100 on 120 golden items vs v12 \(gate-[0-9a-f]{16}, .*\) \(required: rollout.requireGate\)/);
    const page = await (await request(`${service.url}/ui/canary`)).body.text();
    expect(page).toMatch(/release gate: <b class="good" data-gate="pass">pass<\/b>/);
  });
});

describe('tunewatch gate --record against a running server', () => {
  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'src/cli/main.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  };
  const files = () => {
    const configPath = join(dir, 'tunewatch.yaml');
    writeFileSync(configPath, stringify(config));
    const golden = join(dir, 'golden.jsonl');
    writeFileSync(golden, simulatedGolden(80).map(goldenLine).join('\n'));
    return ['gate', '--config', configPath, '--model', 'support-bot', '--candidate', 'v13', '--golden', golden, '--no-progress', '--record'];
  };

  it('records through the admin API with --url, and the canary shows the new run at once', async () => {
    const run = await cli([...files(), '--url', service.url]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const id = new RegExp(`recorded gate run (gate-[0-9a-f]{16}) for support-bot v13 \\(${service.url}\\)`).exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    const v = await view();
    expect(v.gate?.latest).toMatchObject({ id, verdict: 'pass', goldenItems: 80 });
    const listed = (await (await request(`${service.url}/api/gate/support-bot/v13/runs`)).body.json()) as { runs: { id: string; actor: string }[] };
    expect(listed.runs[0]).toMatchObject({ id });
    expect(listed.runs[0]!.actor).toMatch(/^(cli|ci):/);
  });

  it('says to use --url when the embedded store is held by the server (exit 2)', async () => {
    const run = await cli(files());
    expect(run.code).toBe(2);
    // (chDB's own child may print its lock error first; tunewatch's line is the last.)
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^tunewatch: cannot record: the embedded store at .* is held by a running tunewatch server; pass --url http:\/\/HOST:PORT to record through its admin API$/);
  });

  it('refuses a malformed run or an unknown model through the API', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await request(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.statusCode, text: await res.body.text() };
    };
    const good = { candidate: { version: 'v13', url: 'http://x' }, baseline: { version: 'v12' }, golden: { sha256: 'b'.repeat(64), items: 3 }, analysis: { verdict: 'pass', score: 100, reason: 'ok', metrics: [] } };
    expect((await post('/api/gate/nope/runs', good)).status).toBe(404);
    const bad = await post('/api/gate/support-bot/runs', { ...good, analysis: { ...good.analysis, verdict: 'great' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/verdict/);
  });
});

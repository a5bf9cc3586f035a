// How long the release gate takes in CI: `tunewatch gate` on 500 golden prompts against two simulated
// versions (healthy baseline; a healthy and then a regressed candidate), the whole command timed from
// spawn to exit, plus the gate's own replay-and-judge time from its JSON report.
// Usage: npm run bench:gate   (env: GATE_BENCH_ITEMS=500 GATE_BENCH_CONCURRENCY=16)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { goldenLine } from '../src/gate/golden.js';
import { simulatedGolden } from '../src/simulate/golden.js';
import { startSimulator } from '../src/simulate/server.js';

const items = Number(process.env.GATE_BENCH_ITEMS ?? 500);
const concurrency = Number(process.env.GATE_BENCH_CONCURRENCY ?? 16);
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tunewatch-gate-bench-'));
const [baseline, healthy, regressed] = await Promise.all([
  startSimulator({ profile: 'healthy', seed: 12 }),
  startSimulator({ profile: 'healthy', seed: 13 }),
  startSimulator({ profile: 'regressed', seed: 13 }),
]);
const config = join(dir, 'tunewatch.yaml');
writeFileSync(
  config,
  stringify({
    storage: { path: join(dir, 'data') },
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150, reference: { scorer: 'f1', threshold: 0.3 } } },
    models: [{
      name: 'support-bot',
      spec: 'action-items',
      deployments: [{ version: 'v12', upstream: baseline.url }, { version: 'v13', upstream: healthy.url, weight: 0 }, { version: 'v14', upstream: regressed.url, weight: 0 }],
      rollout: { gate: { concurrency } },
    }],
  }),
);
const golden = join(dir, 'golden.jsonl');
writeFileSync(golden, simulatedGolden(items).map(goldenLine).join('\n') + '\n');

async function gate(candidate: string): Promise<{ code: number | null; wallMs: number; gateMs: number; verdict: string }> {
  const json = join(dir, `${candidate}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'gate', '--config', config, '--model', 'support-bot', '--candidate', candidate, '--baseline', 'v12', '--golden', golden, '--json', json, '--no-progress'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - started;
  const report = JSON.parse(readFileSync(json, 'utf8')) as { elapsedMs: number; verdict: string };
  return { code, wallMs, gateMs: report.elapsedMs, verdict: report.verdict };
}

console.log(`tunewatch gate: ${items} golden prompts × 2 versions, concurrency ${concurrency} per version, ${cpus().length} CPUs`);
for (const [label, candidate] of [['healthy candidate', 'v13'], ['regressed candidate', 'v14']] as const) {
  const r = await gate(candidate);
  console.log(`  ${label.padEnd(20)} exit ${r.code} (${r.verdict}): ${(r.wallMs / 1000).toFixed(1)} s for the whole command, ${(r.gateMs / 1000).toFixed(1)} s replaying and judging`);
}
await Promise.all([baseline.close(), healthy.close(), regressed.close()]);
rmSync(dir, { recursive: true, force: true });

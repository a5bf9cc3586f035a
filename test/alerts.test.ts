// The committed alerts/ files are what `tunewatch alerts build` generates from tunewatch.example.yaml,
// and promtool accepts the rules and passes the burn-rate unit tests in alerts/tests/.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAlerts } from '../src/cli/alerts.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const alertsDir = join(root, 'alerts');
const REGENERATE = 'alerts/ is stale: run `npx tunewatch alerts build --config tunewatch.example.yaml` and commit the result';

const PROMTOOL_MISSING = 'promtool missing: apt-get install -y prometheus';
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const inCi = process.env.CI === 'true';
if (!hasPromtool && !inCi) console.warn(`skipping the promtool checks: ${PROMTOOL_MISSING}`);

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
  return { status: run.status, output: `$ promtool ${args.join(' ')}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}` };
}

describe('alerts/ (generated from tunewatch.example.yaml)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tunewatch-alerts-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is up to date with the generator', async () => {
    const written = await buildAlerts(join(root, 'tunewatch.example.yaml'), tmp);
    expect(written.map((p) => basename(p)).sort()).toEqual(['alertmanager.example.yml', 'tunewatch.rules.yml']);
    for (const file of written) {
      const committed = join(alertsDir, basename(file));
      let text: string;
      try {
        text = readFileSync(committed, 'utf8');
      } catch {
        throw new Error(`${committed} is missing; ${REGENERATE}`);
      }
      expect(text, `${basename(file)} differs from the generator's output; ${REGENERATE}`).toBe(readFileSync(file, 'utf8'));
    }
  });

  it.skipIf(!hasPromtool && !inCi)('passes promtool check rules', () => {
    if (!hasPromtool) throw new Error(PROMTOOL_MISSING);
    const run = promtool('check', 'rules', 'alerts/tunewatch.rules.yml');
    expect(run.status, run.output).toBe(0);
  });

  it.skipIf(!hasPromtool && !inCi)(
    'passes the promtool unit tests: each alert fires at exactly its threshold and not below',
    () => {
      if (!hasPromtool) throw new Error(PROMTOOL_MISSING);
      const tests = readdirSync(join(alertsDir, 'tests'))
        .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
        .map((f) => `alerts/tests/${f}`);
      expect(tests.length).toBeGreaterThan(0);
      const run = promtool('test', 'rules', ...tests);
      expect(run.status, run.output).toBe(0);
    },
    180_000,
  );
});

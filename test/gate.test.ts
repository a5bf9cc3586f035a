// The release gate end to end: the real CLI, spawned, against simulated upstreams on loopback. A
// healthy candidate passes (exit 0), the `regressed` profile fails (exit 1), an unreachable candidate
// exits 2 with a clear message; the JUnit XML parses and holds one test case per metric; the JSON
// report and the recorded run agree with the table; every error path is one line and exit code 2.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/cli/processes.js';
import { goldenLine } from '../src/gate/golden.js';
import { GATE_METRICS } from '../src/gate/types.js';
import { goldenHash } from '../src/gate/golden.js';
import { openStore } from '../src/store/client.js';
import { gateRuns } from '../src/store/gate-runs.js';
import { simulatedGolden } from '../src/simulate/golden.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { startUpstream, tempDir, type Upstream, runCli } from './helpers.js';


const cli = (args: string[]) => runCli(args);

let dir: string;
let configPath: string;
let goldenPath: string;
const sims: Simulator[] = [];
let garbage: Upstream;
let deadPort: number;

beforeAll(async () => {
  dir = tempDir('tunewatch-gate-');
  const [baseline, healthy, regressed, slow] = await Promise.all([
    startSimulator({ profile: 'healthy', seed: 12 }),
    startSimulator({ profile: 'healthy', seed: 13 }),
    startSimulator({ profile: 'regressed', seed: 13 }),
    startSimulator({ profile: 'slow', seed: 12 }),
  ]);
  sims.push(baseline, healthy, regressed, slow);
  // An upstream that answers 200 with bodies that are not completions, or cut off.
  let n = 0;
  garbage = await startUpstream((_req, res) => {
    const k = n++ % 3;
    if (k === 0) res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": "nope"}');
    else if (k === 1) res.writeHead(200).end('\u0000\u0001 not json');
    else res.writeHead(200, { 'content-length': '100' }).end('{"choi');
  });
  deadPort = await freePort();
  configPath = join(dir, 'tunewatch.yaml');
  writeFileSync(
    configPath,
    stringify({
      storage: { path: join(dir, 'data') },
      specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 2, maxWords: 150, mustNotMatch: ['(?i)as an ai language model'], reference: { scorer: 'f1', threshold: 0.3 } } },
      models: [
        {
          name: 'support-bot',
          spec: 'action-items',
          deployments: [
            { version: 'v12', upstream: baseline.url },
            { version: 'v13', upstream: healthy.url, weight: 0, canary: true },
            { version: 'v14', upstream: regressed.url, weight: 0 },
            { version: 'v15-slow', upstream: slow.url, weight: 0 },
          ],
          rollout: { gate: { minSamples: 50, retries: 1, concurrency: 16 } },
        },
      ],
    }),
  );
  goldenPath = join(dir, 'golden.jsonl');
  writeFileSync(goldenPath, simulatedGolden(200).map(goldenLine).join('\n') + '\n');
  writeFileSync(join(dir, 'small.jsonl'), simulatedGolden(60).map(goldenLine).join('\n') + '\n');
});

afterAll(async () => {
  await Promise.all([...sims.map((s) => s.close()), garbage?.close()]);
});

const gate = (...extra: string[]) => cli(['gate', '--config', configPath, '--model', 'support-bot', '--baseline', 'v12', '--golden', goldenPath, '--no-progress', ...extra]);

function junitCases(file: string) {
  const xml = readFileSync(file, 'utf8');
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
  const suite = doc.testsuites.testsuite;
  const cases = [suite.testcase].flat() as { name: string; failure?: unknown; skipped?: unknown }[];
  return { suite, cases };
}

describe('tunewatch gate', () => {
  it('passes a healthy candidate: exit 0, a verdict table, JUnit with one passing case per metric, a JSON report', async () => {
    const junit = join(dir, 'healthy.xml');
    const json = join(dir, 'healthy.json');
    const run = await gate('--candidate', 'v13', '--junit', junit, '--json', json);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/candidate v13 vs baseline v12, 200 golden items/);
    for (const m of GATE_METRICS) expect(run.stdout).toMatch(new RegExp(`^${m}`, 'm'));
    expect(run.stdout).toMatch(/verdict: PASS/);
    const { suite, cases } = junitCases(junit);
    expect(cases.map((c) => c.name)).toEqual([...GATE_METRICS]);
    expect(cases.every((c) => c.failure === undefined && c.skipped === undefined)).toBe(true);
    expect(Number(suite.failures)).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.verdict).toBe('pass');
    expect(report.exitCode).toBe(0);
    expect(report.golden.items).toBe(200);
    expect(report.golden.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.items).toHaveLength(200);
    const regression = report.metrics.find((m: { name: string }) => m.name === 'regression_rate');
    expect(regression.effect).toBeLessThan(0.05);
  });

  it('fails the regressed profile: exit 1, failing metrics named in the table and as JUnit failures', async () => {
    const junit = join(dir, 'regressed.xml');
    const json = join(dir, 'regressed.json');
    const run = await gate('--candidate', 'v14', '--junit', junit, '--json', json);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/verdict: FAIL/);
    expect(run.stdout).toMatch(/^instruction_success \*.*\blow$/m);
    const { suite, cases } = junitCases(junit);
    expect(cases).toHaveLength(GATE_METRICS.length);
    const failed = cases.filter((c) => c.failure !== undefined).map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining(['instruction_success', 'safe_response', 'regression_rate', 'latency']));
    expect(Number(suite.failures)).toBe(failed.length);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.verdict).toBe('fail');
    const instr = report.metrics.find((m: { name: string }) => m.name === 'instruction_success');
    expect(instr.candidate).toBeLessThan(instr.baseline - 0.1);
    expect(instr.interval[1]).toBeLessThan(0);
    expect(instr.discordant[0]).toBeGreaterThan(instr.discordant[1]);
  });

  it('records the run in the store with --record', async () => {
    const run = await gate('--candidate', 'v13', '--record');
    expect(run.code, run.stderr).toBe(0);
    const id = /recorded gate run (gate-[0-9a-f]{16}) for support-bot v13/.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    const store = openStore({ path: join(dir, 'data'), retentionDays: 30 });
    try {
      const [latest] = await gateRuns(store, 'support-bot', 'v13');
      expect(latest).toMatchObject({ id, verdict: 'pass', baseline: 'v12', goldenItems: 200, goldenSha256: goldenHash(readFileSync(goldenPath, 'utf8')) });
      expect(latest!.metrics.map((m) => m.name)).toEqual([...GATE_METRICS]);
    } finally {
      await store.close();
    }
  });

  it('calls a candidate marginal (exit 2) when only a non-critical metric fails: same quality, much slower', async () => {
    const run = await cli(['gate', '--config', configPath, '--model', 'support-bot', '--candidate', 'v15-slow', '--golden', join(dir, 'small.jsonl'), '--no-progress']);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stdout).toMatch(/^latency .*\bhigh$/m);
    expect(run.stdout).toMatch(/verdict: MARGINAL \(score 83/);
  });

  it('takes a URL as the candidate, under its deployment\'s version or the name given', async () => {
    const run = await gate('--candidate', sims[2]!.url);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/candidate v14 vs baseline v12/);
    const named = await gate('--candidate', sims[2]!.url, '--candidate-version', 'v14-rc1', '--concurrency', '32');
    expect(named.code).toBe(1);
    expect(named.stdout).toMatch(/candidate v14-rc1 vs baseline v12/);
  });

  it('exits 2 with a clear message when the candidate cannot be reached, and writes no report', async () => {
    const json = join(dir, 'unreachable.json');
    const run = await gate('--candidate', `http://127.0.0.1:${deadPort}/v1`, '--json', json, '--retries', '0');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^tunewatch: http://127.0.0.1:${deadPort}/v1 at http://127.0.0.1:${deadPort}/v1 could not be reached: ECONNREFUSED`));
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(() => readFileSync(json)).toThrow();
  });

  it('exits 2 when a candidate answers nothing usable, and is not crashed by what it sends', async () => {
    const run = await gate("--candidate", garbage.url, '--retries', '0', '--timeout', '1s', '--concurrency', '64');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/answered none of the 200 prompts; the first error: /);
  });

  it('names a bad golden line with its line number (exit 2)', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${goldenLine(simulatedGolden(1)[0]!)}\n{"id": "x", "messages": "hi"}\n`);
    const run = await cli(['gate', '--config', configPath, '--model', 'support-bot', '--candidate', 'v13', '--golden', bad, '--no-progress']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`tunewatch: ${bad}: line 2: messages: expected an array, found "hi"`);
  });

  it('rejects an unknown model, an unknown version, a missing golden file and bad flags (exit 2, one line)', async () => {
    const base = ['gate', '--config', configPath, '--golden', goldenPath, '--no-progress'];
    const unknownModel = await cli([...base, '--model', 'nope', '--candidate', 'v13']);
    expect(unknownModel.code).toBe(2);
    expect(unknownModel.stderr.trim()).toBe("tunewatch: unknown model 'nope'; the config's models: support-bot");
    const unknownVersion = await cli([...base, '--model', 'support-bot', '--candidate', 'v99']);
    expect(unknownVersion.code).toBe(2);
    expect(unknownVersion.stderr).toMatch(/--candidate: 'v99' is neither an http\(s\) URL nor a version of support-bot \(v12, v13, v14, v15-slow\)/);
    const missing = await cli(['gate', '--config', configPath, '--model', 'support-bot', '--candidate', 'v13', '--golden', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the golden set .*nope\.jsonl/);
    const badFlag = await cli([...base, '--model', 'support-bot', '--candidate', 'v13', '--concurrency', '0']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--concurrency must be an integer from 1 to 256, got "0"/);
    const noCandidate = await cli([...base, '--model', 'support-bot']);
    expect(noCandidate.code).toBe(2);
    expect(noCandidate.stderr).toMatch(/required option '--candidate <url\|version>' not specified/);
  });
});

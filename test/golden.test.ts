// Golden sets from production: the demo's traffic (healthy v12, regressed v13) in an embedded chDB
// store, a reviewer's corrections, then `golden build`, directly and through the CLI. Checked:
// redacted text only, no near-duplicates left (the curation's MinHash), strata and over-sampled
// failures as the manifest says, corrections as references, a file the gate reads back; and a gate on
// so small a set is inconclusive (exit 2).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { detectPii } from '../src/capture/redact.js';
import { demoConfig, sendDemoTraffic } from '../src/cli/demo.js';
import { startService, type Service } from '../src/cli/service.js';
import type { Config } from '../src/config/schema.js';
import { dedupText } from '../src/feedback/curate/normalise.js';
import { signature, similarity } from '../src/feedback/curate/minhash.js';
import { strataKey, manifestPathOf } from '../src/gate/golden-build.js';
import { buildGoldenFromStore } from '../src/gate/golden-store.js';
import { parseGolden } from '../src/gate/golden.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { tempDir, runCli } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const dir = tempDir('tunewatch-golden-');
const sims: Simulator[] = [];
let service: Service | undefined;
let config: Config;
const corrected = new Map<string, string>();

const QUESTIONS = [
  'How do I export last month\'s invoices as a spreadsheet?',
  'Why does the mobile app log me out every few minutes?',
  'Can two teams share one workspace and keep separate billing?',
  'What happens to archived projects after ninety days?',
  'Which browsers does the dashboard support officially?',
  'My webhook deliveries fail with a timeout, what should I check first?',
  'Is there a way to bulk-invite users from a CSV file?',
  'How are refunds handled when a plan is downgraded mid-cycle?',
  'The search results look stale after an import; how long does indexing take?',
  'Where can I find the audit log for permission changes?',
  'Does single sign-on work with our Okta tenant?',
  'Please explain the difference between the Pro and Team plans.',
  'We need to move our data to the EU region. What are the steps?',
  'Why was my card declined when upgrading?',
  'How do I rotate the signing secret for incoming webhooks?',
  'Can I schedule a report to be emailed every Monday morning?',
];

const cli = (args: string[]) => runCli(args);

beforeAll(async () => {
  const baseline = await startSimulator({ profile: 'healthy', seed: 12 });
  const canary = await startSimulator({ profile: 'regressed', seed: 13 });
  sims.push(baseline, canary);
  config = demoConfig({ dataPath: join(dir, 'data'), baseline: baseline.url, canary: canary.url, rolloutInterval: '1h' });
  config.specs.short = { maxWords: 40 };
  service = await startService(config);
  await sendDemoTraffic(service.url, 300, 8);
  // Besides the demo's grounded tickets: distinct ungrounded questions, half of them under another spec.
  for (const [i, q] of QUESTIONS.entries()) {
    const body = { model: 'support-bot', messages: [{ role: 'user', content: q }], ...(i % 2 ? { tunewatch: { spec: 'short' } } : {}) };
    await (await request(`${service.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).body.text();
  }
  await service.pipeline.flush();
  // A reviewer corrects a few of v13's failures: those answers become references.
  const rs = await service.store.client.query({
    query: "SELECT request_id, any(sli) AS sli FROM effective_verdicts WHERE version = 'v13' AND verdict = 'bad' GROUP BY request_id ORDER BY request_id LIMIT 6",
    format: 'JSONEachRow',
  });
  const bad = await rs.json<{ request_id: string; sli: 'instruction_success' }>();
  bad.forEach((b, i) => corrected.set(b.request_id, `Action items:\n- Corrected step ${i}\n- Confirm with the customer`));
  await service.labels.record(bad.map((b) => ({ request_id: b.request_id, sli: b.sli, verdict: 'bad' as const, rater: 'reviewer', correction: corrected.get(b.request_id)! })), 'human');
});

afterAll(async () => {
  await service?.stop();
  await Promise.all(sims.map((s) => s.close()));
});

describe('golden build from the demo data', () => {
  it('samples by stratum with failures over-sampled, without near-duplicates or PII, corrections as references', async () => {
    const built = await buildGoldenFromStore(service!.store, config, { model: 'support-bot', sinceMs: Date.now() - 3_600_000, size: 12, failureShare: 0.5, seed: 7 });
    const items = parseGolden(built.text);
    const m = built.manifest;
    expect(m.counts.in).toBe(300 + QUESTIONS.length);
    expect(items).toHaveLength(12);
    expect(m.counts.sampled).toBe(12);
    // The demo's prompts differ by a ticket number: most are near-duplicates of each other.
    expect(m.counts.deduplicated).toBeGreaterThan(200);
    expect(m.counts.available).toBe(m.counts.in - m.counts.unusable - m.counts.pii_excluded - m.counts.deduplicated);
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        expect(similarity(signature(dedupText(items[i]!)), signature(dedupText(items[j]!)))).toBeLessThan(0.8);
      }
    }
    // Redacted text only: capture's placeholders, nothing the detectors still find.
    for (const item of items) for (const text of [...item.messages.map((x) => x.content), item.context ?? '', item.reference ?? '']) expect(detectPii(text)).toEqual({});
    expect(built.text).toMatch(/\[(EMAIL|PHONE|CARD|SSN|IPV4)\]/);
    // Strata: the manifest's counts add up, every stratum that has items is represented, failures reach the share.
    const strata = Object.entries(m.strata);
    expect(strata.reduce((n, [, s]) => n + s.sampled, 0)).toBe(12);
    expect(strata.reduce((n, [, s]) => n + s.available, 0)).toBe(m.counts.available);
    expect(strata.every(([, s]) => s.sampled <= s.available)).toBe(true);
    if (strata.length <= 12) expect(strata.every(([, s]) => s.sampled >= 1)).toBe(true);
    const failing = items.filter((i) => i.tags?.includes('outcome:fail')).length;
    expect(failing).toBe(m.counts.failures);
    const failingAvailable = strata.filter(([k]) => k.includes('outcome=fail')).reduce((n, [, s]) => n + s.available, 0);
    expect(failingAvailable / m.counts.available).toBeLessThan(0.5); // so the share is reached by over-sampling
    expect(failing).toBe(Math.min(failingAvailable, 6));
    // Strata by spec and by grounding are all there.
    const keys = Object.keys(m.strata);
    for (const part of ['spec=action-items', 'spec=short', 'grounded=yes', 'grounded=no', 'outcome=pass', 'outcome=fail']) expect(keys.some((k) => k.includes(part)), part).toBe(true);
    // Each item's tags agree with its stratum.
    for (const item of items) {
      const key = strataKey({ spec: typeof item.spec === 'string' ? item.spec : 'action-items', context: item.context ?? '', failing: (item.tags ?? []).filter((t) => t.startsWith('failed:')).map((t) => t.slice(7)) });
      expect(m.strata[key], key).toBeDefined();
    }
    expect(items.filter((i) => i.context !== undefined).every((i) => i.context!.startsWith('Ticket #'))).toBe(true);
    expect(m.sourceVersions).toEqual(['v12', 'v13']);
    expect(m.files[0]!.rows).toBe(12);
    expect(m.filters.map((f) => f.name)).toEqual(['window', 'usable', 'pii', 'near_duplicate', 'stratify']);
  });

  it('keeps the human corrections as references (a corrected sample wins its near-duplicate cluster)', async () => {
    const built = await buildGoldenFromStore(service!.store, config, { model: 'support-bot', sinceMs: Date.now() - 3_600_000, size: 500, failureShare: 0.3, seed: 1 });
    const items = parseGolden(built.text);
    expect(items.length).toBe(built.manifest.counts.available);
    const withReference = items.filter((i) => i.reference !== undefined);
    expect(withReference.length).toBeGreaterThan(0);
    expect(built.manifest.counts.references).toBe(withReference.length);
    for (const i of withReference) {
      expect(i.reference).toBe(corrected.get(i.id));
      expect(i.tags).toContain('reference:human');
    }
  });

  it('works through the CLI, writes the manifest beside the file, and the gate on it does not pass the demo\'s regressed v13', async () => {
    await service!.stop();
    service = undefined;
    const configPath = join(dir, 'demo.yaml');
    writeFileSync(configPath, stringify(config));
    const out = join(dir, 'sets', 'golden.jsonl');
    const run = await cli(['golden', 'build', '--config', configPath, '--model', 'support-bot', '--since', '1h', '--size', '500', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/golden\.jsonl: \d+ items \(\d+ failing, \d+ with a reference\) from 316 samples/);
    const items = parseGolden(readFileSync(out, 'utf8'));
    const manifest = JSON.parse(readFileSync(manifestPathOf(out), 'utf8'));
    expect(manifest.kind).toBe('golden');
    expect(manifest.files[0].name).toBe('golden.jsonl');
    expect(manifest.samples).toEqual(items.map((i) => i.id));
    const gate = await cli(['gate', '--config', configPath, '--model', 'support-bot', '--candidate', 'v13', '--baseline', 'v12', '--golden', out, '--no-progress']);
    // Two dozen prompts: the latency regression is certain, the quality ones may fall short of significance
    // at the gate's alpha, so fail (exit 1) or marginal (exit 2), never a pass.
    expect([1, 2], gate.stdout + gate.stderr).toContain(gate.code);
    expect(gate.stdout).toMatch(new RegExp(`candidate v13 vs baseline v12, ${items.length} golden items`));
    expect(gate.stdout).toMatch(gate.code === 1 ? /verdict: FAIL/ : /verdict: MARGINAL/);
    expect(gate.stdout).toMatch(/^latency .*\bhigh$/m);
    // Five items are too few for any verdict: inconclusive, exit 2.
    const few = join(dir, 'sets', 'few.jsonl');
    writeFileSync(few, readFileSync(out, 'utf8').split('\n').slice(0, 5).join('\n'));
    const inconclusive = await cli(['gate', '--config', configPath, '--model', 'support-bot', '--candidate', 'v13', '--golden', few, '--no-progress']);
    expect(inconclusive.code, inconclusive.stdout + inconclusive.stderr).toBe(2);
    expect(inconclusive.stdout).toMatch(/verdict: INCONCLUSIVE/);
    expect(inconclusive.stdout).toMatch(/5 pairs judged, fewer than 10 \(rollout\.gate\.minSamples\)/);
  });

  it('says what to do for an unknown model or an empty window', async () => {
    const configPath = join(dir, 'demo.yaml');
    const unknown = await cli(['golden', 'build', '--config', configPath, '--model', 'nope', '--out', join(dir, 'x.jsonl')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe("tunewatch: unknown model 'nope'; the config's models: support-bot");
    const badSince = await cli(['golden', 'build', '--config', configPath, '--model', 'support-bot', '--since', 'soon', '--out', join(dir, 'x.jsonl')]);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toMatch(/--since: /);
  });
});

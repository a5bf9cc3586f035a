import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, validate } from '../src/config/load.js';
import { tempDir } from './helpers.js';

const minimal = `
models:
  - name: support-bot
    deployments:
      - { version: v12, upstream: http://127.0.0.1:9000/v1, weight: 95 }
      - { version: v13, upstream: http://127.0.0.1:9001/v1, weight: 5, canary: true }
`;

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseConfig(text, 'test.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills defaults for a minimal file', () => {
    const c = parseConfig(minimal, 'x', {});
    expect(c.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(c.storage.path).toBe('./data');
    expect(c.models[0].deployments[1].canary).toBe(true);
    expect(c.models[0].deployments[0].canary).toBe(false);
  });

  it('loads the shipped example config', () => {
    const c = loadConfigFile(join(import.meta.dirname, '..', 'tunewatch.example.yaml'), {});
    expect(c.models[0].deployments.map((d) => d.version)).toEqual(['v12', 'v13']);
  });

  it('applies env overrides for port and ClickHouse URL', () => {
    const c = parseConfig(minimal, 'x', { TUNEWATCH_PORT: '9999', CLICKHOUSE_URL: 'http://ch:8123' });
    expect(c.server.port).toBe(9999);
    expect(c.storage.clickhouse).toMatchObject({ url: 'http://ch:8123', database: 'tunewatch' });
  });

  it('names the key path, the expectation and the value found', () => {
    const issues = issuesOf(minimal.replace('weight: 95', 'weight: lots'));
    expect(issues).toContainEqual({ path: 'models[0].deployments[0].weight', expected: 'a number', found: '"lots"' });
    const err = (() => {
      try {
        parseConfig(minimal.replace('weight: 95', 'weight: lots'), 'test.yaml', {});
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toContain('models[0].deployments[0].weight: expected a number, found "lots"');
  });

  it('reports missing keys, unknown keys and bad URLs together', () => {
    const issues = issuesOf(`
server: { prot: 8080 }
models:
  - name: a
    deployments:
      - { version: v1, upstream: ftp://x }
      - { upstream: http://x }
`);
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('server.prot');
    expect(paths).toContain('models[0].deployments[0].upstream');
    expect(paths).toContain('models[0].deployments[1].version');
  });

  it('rejects a bad env override with the key it maps to', () => {
    const issues = issuesOf(minimal, { TUNEWATCH_PORT: 'eighty' });
    expect(issues[0]).toMatchObject({ path: 'server.port', found: '"eighty"' });
  });

  it('rejects duplicate versions, duplicate models and all-zero weights', () => {
    const dup = issuesOf(minimal.replace('version: v13', 'version: v12'));
    expect(dup[0]).toMatchObject({ path: 'models[0].deployments[1].version' });
    const zero = issuesOf(minimal.replace('weight: 95', 'weight: 0').replace('weight: 5', 'weight: 0'));
    expect(zero[0]).toMatchObject({ path: 'models[0].deployments', found: '0' });
    const twice = issuesOf(minimal + minimal.replace('models:\n', ''));
    expect(twice[0]).toMatchObject({ path: 'models[1].name' });
  });

  it('rejects a model with only canary deployments, naming the model', () => {
    const issues = issuesOf(minimal.replace('weight: 95 }', 'weight: 95, canary: true }'));
    expect(issues).toContainEqual({ path: 'models[0].deployments', expected: 'at least one baseline deployment (canary: false)', found: 'only canary deployments (v12, v13)' });
    const single = issuesOf('models:\n  - name: a\n    deployments: [{ version: v1, upstream: http://x, canary: true }]\n');
    expect(single).toEqual([{ path: 'models[0].deployments', expected: 'at least one baseline deployment (canary: false)', found: 'only canary deployments (v1)' }]);
  });

  it('rejects a second canary deployment of a model, naming it', () => {
    const issues = issuesOf(minimal + '      - { version: v14, upstream: http://127.0.0.1:9002/v1, weight: 5, canary: true }\n');
    expect(issues).toEqual([{ path: 'models[0].deployments[2].canary', expected: 'at most one canary deployment per model', found: 'a second canary ("v14"; "v13" is one already)' }]);
    expect(() => parseConfig(minimal + '      - { version: v14, upstream: http://127.0.0.1:9002/v1, weight: 5, canary: true }\n', 'test.yaml', {})).toThrow(
      'models[0].deployments[2].canary: expected at most one canary deployment per model, found a second canary ("v14"; "v13" is one already)',
    );
  });

  it('accepts one baseline with one canary, and baselines alone', () => {
    expect(() => parseConfig(minimal, 'x', {})).not.toThrow();
    expect(() => parseConfig(minimal.replace(', canary: true', ''), 'x', {})).not.toThrow();
  });

  it('reports YAML syntax errors and unreadable files', () => {
    expect(issuesOf('models: [\n')[0].expected).toBe('valid YAML');
    const dir = tempDir();
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), {})).toThrow(/expected a readable YAML file/);
    writeFileSync(join(dir, 'empty.yaml'), '');
    expect(() => loadConfigFile(join(dir, 'empty.yaml'), {})).toThrow(/models: expected a value \(required\)/);
  });
});

describe('SLO config', () => {
  const withSlo = (slo: string) => minimal + `slos:\n  - ${slo}\n`;

  it('accepts the issue example and applies defaults', () => {
    const c = parseConfig(withSlo('{ name: support-bot-latency, model: support-bot, sli: latency, thresholdMs: 800, objective: 0.99 }'), 'x', {});
    expect(c.slos[0]).toMatchObject({ window: '30d', labels: {} });
    expect(c.alerting).toMatchObject({ evaluationInterval: '30s', alertmanagers: [] });
  });

  it.each([
    ['{ name: a, model: nope, sli: availability, objective: 0.9 }', 'slos[0].model', /a configured model or "\*"/],
    ['{ name: a, model: support-bot, sli: latency, objective: 0.9 }', 'slos[0].thresholdMs', /required for the latency SLI/],
    ['{ name: a, model: support-bot, sli: availability, thresholdMs: 800, objective: 0.9 }', 'slos[0].thresholdMs', /only the latency SLI/],
    ['{ name: a, model: support-bot, sli: latency, thresholdMs: 812, objective: 0.9 }', 'slos[0].thresholdMs', /two significant digits/],
    ['{ name: a, model: support-bot, sli: availability, objective: 1.5 }', 'slos[0].objective', /must be < 1/],
    ['{ name: a, model: support-bot, sli: vibes, objective: 0.9 }', 'slos[0].sli', /.+/],
    ['{ name: a, model: support-bot, version: v99, sli: availability, objective: 0.9 }', 'slos[0].version', /a version of support-bot \(v12, v13\)/],
    ['{ name: a, model: support-bot, sli: availability, objective: 0.9, window: 1h, alerting: [{ severity: page, burnRate: 2, longWindow: 2h, shortWindow: 5m }] }', 'slos[0].alerting[0].longWindow', /no longer than the SLO window/],
    ['{ name: a, model: support-bot, sli: availability, objective: 0.9, alerting: [{ severity: page, burnRate: 2, longWindow: 5m, shortWindow: 1h }] }', 'slos[0].alerting[0].shortWindow', /shorter than longWindow/],
    ['{ name: a, model: support-bot, sli: availability, objective: 0.9, window: soon }', 'slos[0].window', /matching/],
  ])('rejects %s at %s', (slo, path, expected) => {
    const issue = issuesOf(withSlo(slo)).find((i) => i.path === path);
    expect(issue, JSON.stringify(issuesOf(withSlo(slo)))).toBeDefined();
    expect(issue!.expected).toMatch(expected);
  });

  it('rejects a model spec that is not defined', () => {
    const issues = issuesOf(minimal.replace('  - name: support-bot\n', '  - name: support-bot\n    spec: nope\n'));
    expect(issues[0]).toMatchObject({ path: 'models[0].spec', found: '"nope"' });
  });
});

describe('retrain: block', () => {
  const model = (retrain: object, extra: object = {}) => ({ models: [{ name: 'm', deployments: [{ version: 'v1', upstream: 'http://x' }], retrain, ...extra }] });
  const issues = (raw: object) => {
    try {
      validate(raw);
      return [];
    } catch (err) {
      return (err as ConfigError).issues;
    }
  };

  it('defaults to the command launcher running the example trainer, and fills in every default', () => {
    const r = validate(model({})).models[0]!.retrain!;
    expect(r.launcher).toEqual({ kind: 'command', command: ['node', 'train.mjs'], env: {} });
    expect(r.curation).toMatchObject({ duplicateThreshold: 0.8, validationSplit: 0.2, seed: 42, splitBy: 'conversation', preferenceFormat: 'openai', maxPerReason: 0, maxPerSli: 0 });
    expect(r.trigger).toEqual({ sloPage: false, canaryRollback: false });
    expect(r.pollInterval).toBe('5s');
  });

  it('applies the chosen kind\'s defaults', () => {
    expect(validate(model({ launcher: { kind: 'slurm' } })).models[0]!.retrain!.launcher).toMatchObject({ kind: 'slurm', gpus: 1, command: ['node', 'train.mjs'] });
    expect(validate(model({ launcher: { kind: 'openai' } })).models[0]!.retrain!.launcher).toMatchObject({ kind: 'openai', method: 'auto', baseUrl: 'https://api.openai.com/v1' });
  });

  it('names an unknown launcher kind, a missing field and an out-of-range value', () => {
    expect(issues(model({ launcher: { kind: 'lambda' } }))).toContainEqual({ path: 'models[0].retrain.launcher.kind', expected: 'one of command, slurm, kubernetes, openai', found: '"lambda"' });
    expect(issues(model({ launcher: { kind: 'kubernetes', image: 'i' } }))).toContainEqual(expect.objectContaining({ path: 'models[0].retrain.launcher.dataset', expected: 'a value (required)' }));
    expect(issues(model({ curation: { validationSplit: 2 } }))).toContainEqual(expect.objectContaining({ path: 'models[0].retrain.curation.validationSplit' }));
  });

  it('refuses promoteAs: canary on a model without a rollout plan', () => {
    expect(issues(model({ promoteAs: 'canary' }))).toContainEqual(expect.objectContaining({ path: 'models[0].retrain.promoteAs', found: 'canary without one' }));
    expect(issues(model({ promoteAs: 'canary' }, { rollout: {} }))).toEqual([]);
  });
});

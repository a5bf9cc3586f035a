import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { rolloutIssues } from '../canary/plan.js';
import { parseDuration } from './duration.js';
import { ConfigSchema, type Config } from './schema.js';

/** A config problem: the key path, what was expected and what was found. */
export interface ConfigIssue {
  path: string;
  expected: string;
  found: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `invalid config (${source}):\n` +
        issues.map((i) => `  - ${i.path || '(root)'}: expected ${i.expected}, found ${i.found}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, discriminator: true, verbose: true });
const validateConfig = ajv.compile<Config>(ConfigSchema);

/** Env variables that override the file; documented in the README. */
export const ENV_OVERRIDES = {
  TUNEWATCH_HOST: 'server.host',
  TUNEWATCH_PORT: 'server.port',
  TUNEWATCH_DATA_PATH: 'storage.path',
  CLICKHOUSE_URL: 'storage.clickhouse.url',
  CLICKHOUSE_DATABASE: 'storage.clickhouse.database',
  CLICKHOUSE_USER: 'storage.clickhouse.username',
  CLICKHOUSE_CLUSTER: 'storage.clickhouse.cluster',
} as const;

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', expected: 'a readable YAML file', found: (err as Error).message }]);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, source = 'tunewatch.yaml', env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(source, [{ path: '', expected: 'valid YAML', found: (err as Error).message.split('\n')[0] }]);
  }
  return validate(applyEnvOverrides(raw ?? {}, env), source);
}

export function validate(raw: unknown, source = 'config'): Config {
  const candidate = structuredClone(raw);
  if (!validateConfig(candidate)) {
    throw new ConfigError(source, dedupe((validateConfig.errors ?? []).map((e) => describeAjvError(e, candidate))));
  }
  const issues = semanticIssues(candidate);
  if (issues.length) throw new ConfigError(source, issues);
  return candidate;
}

function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const out = structuredClone(raw) as Record<string, unknown>;
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(out, path.split('.'), name === 'TUNEWATCH_PORT' && /^\d+$/.test(value) ? Number(value) : value);
  }
  return out;
}

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

function semanticIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  config.models.forEach((model, i) => {
    if (names.has(model.name)) issues.push({ path: `models[${i}].name`, expected: 'a unique model name', found: `"${model.name}" again` });
    names.add(model.name);
    const versions = new Set<string>();
    model.deployments.forEach((d, j) => {
      if (versions.has(d.version)) {
        issues.push({ path: `models[${i}].deployments[${j}].version`, expected: 'a version unique within the model', found: `"${d.version}" again` });
      }
      versions.add(d.version);
    });
    if (model.spec && !(model.spec in config.specs)) {
      issues.push({ path: `models[${i}].spec`, expected: `a spec defined under specs (${Object.keys(config.specs).join(', ') || 'none defined'})`, found: `"${model.spec}"` });
    }
    // Canary judging compares one canary against the baseline: a model needs a baseline, and at most one canary.
    const canaries = model.deployments.flatMap((d, j) => (d.canary ? [{ version: d.version, j }] : []));
    if (canaries.length === model.deployments.length) {
      issues.push({ path: `models[${i}].deployments`, expected: 'at least one baseline deployment (canary: false)', found: `only canary deployments (${canaries.map((c) => c.version).join(', ')})` });
    }
    for (const c of canaries.slice(1)) {
      issues.push({ path: `models[${i}].deployments[${c.j}].canary`, expected: 'at most one canary deployment per model', found: `a second canary ("${c.version}"; "${canaries[0].version}" is one already)` });
    }
    const total = model.deployments.reduce((sum, d) => sum + d.weight, 0);
    if (total <= 0) issues.push({ path: `models[${i}].deployments`, expected: 'weights summing to more than 0', found: String(total) });
    if (model.rollout) issues.push(...rolloutIssues(model.rollout, `models[${i}].rollout`));
    if (model.retrain?.promoteAs === 'canary' && !model.rollout) {
      issues.push({ path: `models[${i}].retrain.promoteAs`, expected: 'a rollout: block on the model (a trained model comes back as a canary under its plan)', found: 'canary without one' });
    }
  });
  issues.push(...sloIssues(config));
  return issues;
}

/** Latency thresholds the rollup counts exactly: whole ms below 100, two significant digits above. */
export function exactLatencyThreshold(ms: number): boolean {
  if (ms < 100) return Number.isInteger(ms);
  const step = 10 ** (Math.floor(Math.log10(ms)) - 1);
  return ms % step === 0;
}

function sloIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  const models = new Map(config.models.map((m) => [m.name, m]));
  config.slos.forEach((slo, i) => {
    const at = (key: string) => `slos[${i}].${key}`;
    if (names.has(slo.name)) issues.push({ path: at('name'), expected: 'a unique SLO name', found: `"${slo.name}" again` });
    names.add(slo.name);
    const model = models.get(slo.model);
    if (slo.model !== '*' && !model) issues.push({ path: at('model'), expected: `a configured model or "*" (${[...models.keys()].join(', ')})`, found: `"${slo.model}"` });
    if (slo.version && model && !model.deployments.some((d) => d.version === slo.version)) {
      issues.push({ path: at('version'), expected: `a version of ${slo.model} (${model.deployments.map((d) => d.version).join(', ')})`, found: `"${slo.version}"` });
    }
    if (slo.sli === 'latency' && slo.thresholdMs === undefined) issues.push({ path: at('thresholdMs'), expected: 'a threshold in ms (required for the latency SLI)', found: 'nothing' });
    if (slo.sli !== 'latency' && slo.thresholdMs !== undefined) issues.push({ path: at('thresholdMs'), expected: 'no threshold (only the latency SLI has one)', found: String(slo.thresholdMs) });
    if (slo.thresholdMs !== undefined && !exactLatencyThreshold(slo.thresholdMs)) {
      issues.push({ path: at('thresholdMs'), expected: 'whole ms below 100, else two significant digits (e.g. 750, 1500)', found: String(slo.thresholdMs) });
    }
    (slo.alerting ?? []).forEach((a, j) => {
      try {
        if (parseDuration(a.shortWindow) >= parseDuration(a.longWindow)) {
          issues.push({ path: at(`alerting[${j}].shortWindow`), expected: `a window shorter than longWindow (${a.longWindow})`, found: a.shortWindow });
        }
        if (parseDuration(a.longWindow) > parseDuration(slo.window ?? '30d')) {
          issues.push({ path: at(`alerting[${j}].longWindow`), expected: `a window no longer than the SLO window (${slo.window})`, found: a.longWindow });
        }
      } catch (err) {
        issues.push({ path: at(`alerting[${j}]`), expected: 'valid durations', found: (err as Error).message });
      }
    });
  });
  return issues;
}

/** "/models/0/deployments/1/weight" → "models[0].deployments[1].weight" */
export function toKeyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const seg of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

const SHOW_MAX = 80;
const SHOW_DEPTH = 4;

/**
 * A found value as short JSON: at most 80 characters, nesting below 4 levels shown as [...] or
 * {...}. It never walks more of the value than it prints, so a huge or deeply nested value (a
 * label's `comment` from a client) costs a few dozen steps and no deep stack.
 */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = summarise(value, SHOW_DEPTH, SHOW_MAX + 1);
  return text.length > SHOW_MAX ? `${text.slice(0, SHOW_MAX - 3)}...` : text;
}

/** Like JSON.stringify, stopping once `budget` characters are written or `depth` levels are open. */
function summarise(value: unknown, depth: number, budget: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  if (typeof value !== 'object') return String(value);
  const isArray = Array.isArray(value);
  if (depth === 0) return isArray ? '[...]' : '{...}';
  let out = isArray ? '[' : '{';
  let first = true;
  if (isArray) {
    for (let i = 0; i < value.length; i++) {
      if (out.length >= budget) return `${out}...`;
      out += (first ? '' : ',') + summarise(value[i], depth - 1, budget - out.length);
      first = false;
    }
  } else {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (out.length >= budget) return `${out}...`;
      out += `${first ? '' : ','}${JSON.stringify(key.length > budget ? key.slice(0, budget) : key)}:${summarise((value as Record<string, unknown>)[key], depth - 1, budget - out.length)}`;
      first = false;
    }
  }
  return out + (isArray ? ']' : '}');
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** An ajv error as a config issue. Stack-safe on any value: it only walks the error's path and prints `show(found)`. */
export function describeAjvError(e: ErrorObject, root: unknown): ConfigIssue {
  const path = toKeyPath(e.instancePath);
  const found = show(valueAt(root, e.instancePath));
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: join(path, String(p.missingProperty)), expected: 'a value (required)', found: 'nothing' };
    case 'additionalProperties':
      return { path: join(path, String(p.additionalProperty)), expected: 'no such key (unknown setting)', found: 'a value' };
    case 'type':
      return { path, expected: `${/^[aeiou]/.test(String(p.type)) ? 'an' : 'a'} ${p.type}`, found };
    case 'pattern':
      return { path, expected: `a string matching ${p.pattern}`, found };
    case 'minItems':
      return { path, expected: `at least ${p.limit} item(s)`, found };
    case 'discriminator': {
      // A oneOf chosen by a tag (retrain.launcher.kind): name the allowed values.
      const tag = String(p.tag);
      const kinds = (e.parentSchema as { oneOf?: { properties?: Record<string, { const?: string }> }[] } | undefined)?.oneOf?.map((s) => s.properties?.[tag]?.const).filter(Boolean);
      return { path: join(path, tag), expected: kinds?.length ? `one of ${kinds.join(', ')}` : `a known ${tag}`, found: show(valueAt(root, `${e.instancePath}/${tag}`)) };
    }
    default:
      return { path, expected: e.message ?? e.keyword, found };
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}|${i.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

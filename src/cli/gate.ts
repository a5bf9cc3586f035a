// `tunewatch gate` and `tunewatch golden build`: the release gate from CI. The gate replays a golden
// set against the candidate and the baseline, prints the verdict table, writes JUnit XML and a JSON
// report, records the run when asked, and exits 0 (pass), 1 (fail) or 2 (marginal, inconclusive, or
// could not judge: unreachable version, bad golden line, unknown model, bad flags).
import { Command, InvalidArgumentError, Option } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { parseDuration } from '../config/duration.js';
import { GATE_EXIT } from '../gate/types.js';
import { configFile, errorText } from './errors.js';
import { parseServerUrl } from './admin-client.js';

/** Errors of the gate whose message already says what was wrong and what to do. */
const KNOWN = new Set(['GateUsageError', 'GoldenError', 'UnreachableError', 'CliError', 'GoldenBuildError']);

const positive = (name: string, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got "${value}"`);
  return n;
};
const nonNegative = (name: string, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 0 to ${max}, got "${value}"`);
  return n;
};
const share = (value: string) => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`--failure-share must be a number from 0 to 1, got "${value}"`);
  return n;
};
const duration = (flag: string, max: number) => (value: string) => {
  try {
    return parseDuration(value, max);
  } catch (err) {
    throw new InvalidArgumentError(`${flag}: ${(err as Error).message}`);
  }
};

/** Any error ends the command with exit code 2 ("could not judge"), never 1 (which means a regression). */
async function orExit2(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    console.error(err instanceof Error && KNOWN.has(err.name) ? `tunewatch: ${err.message.replace(/\s*\n\s*/g, ' ')}` : errorText(err));
    process.exit(GATE_EXIT.error);
  }
}

const write = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};

interface GateOptions {
  config: string;
  model: string;
  candidate: string;
  candidateVersion?: string;
  baseline?: string;
  golden: string;
  junit?: string;
  json?: string;
  record?: boolean;
  url?: string;
  concurrency?: number;
  timeout?: number;
  retries?: number;
  progress: boolean;
}

async function gate(opts: GateOptions): Promise<void> {
  const config = await configFile(opts.config);
  let goldenText: string;
  try {
    goldenText = readFileSync(opts.golden, 'utf8');
  } catch (err) {
    throw Object.assign(new Error(`cannot read the golden set ${opts.golden}: ${(err as Error).message}`), { name: 'CliError' });
  }
  const [{ runGate }, { formatGate }, { renderJunit }, { SingleBar, Presets }] = await Promise.all([
    import('../gate/run.js'), import('../gate/table.js'), import('../gate/junit.js'), import('cli-progress'),
  ]);
  const bar = opts.progress
    ? new SingleBar({ format: 'gate [{bar}] {value}/{total} answers  {eta_formatted} left', stream: process.stderr, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 5000, clearOnComplete: true }, Presets.shades_classic)
    : null;
  let started = false;
  let report;
  try {
    report = await runGate({
      config, model: opts.model, candidate: opts.candidate, candidateVersion: opts.candidateVersion, baseline: opts.baseline, goldenText, goldenFile: opts.golden,
      replay: { concurrency: opts.concurrency, timeoutMs: opts.timeout, retries: opts.retries },
      onProgress: (done, total) => {
        if (!started) (bar?.start(total, 0), (started = true));
        bar?.update(done);
      },
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'GoldenError') err.message = `${opts.golden}: ${err.message}`;
    throw err;
  } finally {
    bar?.stop();
  }
  const head = `tunewatch gate: ${report.model} candidate ${report.candidate.version} vs baseline ${report.baseline.version}, ${report.golden.items} golden items (${opts.golden}, sha256 ${report.golden.sha256.slice(0, 12)})`;
  console.log(formatGate(report, head));
  const unanswered = report.unanswered.baseline + report.unanswered.candidate;
  console.log(`${report.golden.items * 2} answers in ${(report.elapsedMs / 1000).toFixed(1)} s${unanswered ? ` (unanswered after retries: baseline ${report.unanswered.baseline}, candidate ${report.unanswered.candidate}; each counts as failing every metric)` : ''}`);
  if (opts.json) write(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  if (opts.junit) {
    write(opts.junit, renderJunit(report, { model: report.model, baseline: report.baseline.version, candidate: report.candidate.version, items: report.golden.items, elapsedMs: report.elapsedMs, timestamp: report.startedAt }));
  }
  if (opts.record) {
    const actor = process.env.GITHUB_ACTOR ? `ci:${process.env.GITHUB_ACTOR}` : process.env.GITLAB_USER_LOGIN ? `ci:${process.env.GITLAB_USER_LOGIN}` : `cli:${userInfo().username}`;
    const run = { model: report.model, candidate: report.candidate, baseline: report.baseline, golden: report.golden, analysis: report, actor };
    const where = opts.url ? await recordThroughServer(opts.url, run) : await recordInStore(config, run);
    console.log(`recorded gate run ${where.id} for ${report.model} ${report.candidate.version} (${where.location})`);
  }
  process.exit(report.exitCode);
}

type RunInput = import('../store/gate-runs.js').GateRunInput;

/** Through a running server's admin API (the embedded store has one owner: the server). */
async function recordThroughServer(url: string, run: RunInput): Promise<{ id: string; location: string }> {
  const { adminGet } = await import('./admin-client.js');
  const { model, actor, analysis, ...rest } = run;
  const metrics = analysis.metrics.map(({ name, classification, baseline, candidate, effect, interval }) => ({ name, classification, baseline, candidate, effect, interval }));
  const body = { ...rest, analysis: { verdict: analysis.verdict, score: analysis.score, reason: analysis.reason, metrics } };
  const stored = await adminGet<{ id: string }>(url, `/api/gate/${encodeURIComponent(model)}/runs`, { token: process.env.TUNEWATCH_ADMIN_TOKEN || undefined, timeoutMs: 30_000, post: body, actor });
  return { id: stored.id, location: url };
}

/** Straight into the configured store: a ClickHouse server, or the embedded one when no server holds it. */
async function recordInStore(config: import('../config/schema.js').Config, run: RunInput): Promise<{ id: string; location: string }> {
  const [{ openStore }, { migrate }, { recordGateRun }] = await Promise.all([import('../store/client.js'), import('../store/migrate.js'), import('../store/gate-runs.js')]);
  const store = openStore(config.storage);
  try {
    await migrate(store);
    return { id: (await recordGateRun(store, run)).id, location: store.location };
  } catch (err) {
    if (store.kind === 'embedded' && /lock|another server instance|cannot open the embedded store/i.test(String((err as Error).message))) {
      throw Object.assign(new Error(`cannot record: the embedded store at ${store.location} is held by a running tunewatch server; pass --url http://HOST:PORT to record through its admin API`), { name: 'CliError' });
    }
    throw err;
  } finally {
    await store.close().catch(() => undefined);
  }
}

interface GoldenBuildOptions {
  config: string;
  model: string;
  since: number;
  size: number;
  out: string;
  failureShare: number;
  seed: number;
}

async function goldenBuild(opts: GoldenBuildOptions): Promise<void> {
  const config = await configFile(opts.config);
  const [{ openStore }, { migrate }, { buildGoldenFromStore }] = await Promise.all([import('../store/client.js'), import('../store/migrate.js'), import('../gate/golden-store.js')]);
  const store = openStore(config.storage);
  try {
    await migrate(store);
    const built = await buildGoldenFromStore(store, config, { model: opts.model, sinceMs: Date.now() - opts.since, size: opts.size, failureShare: opts.failureShare, seed: opts.seed, out: opts.out });
    write(opts.out, built.text);
    const manifestFile = built.manifestFile(opts.out);
    write(manifestFile, `${JSON.stringify(built.manifest, null, 2)}\n`);
    const c = built.manifest.counts;
    console.log(`${opts.out}: ${c.sampled} items (${c.failures} failing, ${c.references} with a reference) from ${c.in} samples; ${c.unusable} unusable, ${c.pii_excluded} with PII left, ${c.deduplicated} near-duplicates removed`);
    console.log(`manifest ${manifestFile} (sha256 ${built.manifest.files[0]!.sha256.slice(0, 12)})`);
  } finally {
    await store.close();
  }
  process.exit(0);
}

export function registerGateCommands(program: Command): void {
  const exit2 = (cmd: Command) => cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : GATE_EXIT.error));
  exit2(
    program
      .command('gate')
      .description('release gate: replay a golden set against the candidate and the baseline, judge both with the production evaluators, and compare them pairwise; exits 0 pass, 1 fail, 2 marginal, inconclusive or could not judge')
      .option('-c, --config <file>', 'config file', 'tunewatch.yaml')
      .requiredOption('--model <name>', 'the model (its specs, evaluators and rollout policy)')
      .requiredOption('--candidate <url|version>', 'a deployment version of the model, or the base URL of an OpenAI-compatible endpoint')
      .option('--candidate-version <name>', 'the version a URL candidate is reported and recorded as (what its canary will be called)')
      .option('--baseline <version>', 'the version serving now (default: the model\'s baseline deployment)')
      .requiredOption('--golden <file>', 'golden set JSONL: {id, messages, spec?, context?, reference?, tags?} a line')
      .option('--junit <file>', 'write JUnit XML, one test case per metric')
      .option('--json <file>', 'write the report as JSON')
      .option('--record', 'store the run in ClickHouse (the canary shows it; rollout.requireGate needs a passing one)')
      .option('--url <url>', 'with --record: record through this running server\'s admin API (TUNEWATCH_ADMIN_TOKEN) instead of opening the store', parseServerUrl)
      .option('--concurrency <n>', 'requests in flight per version (default rollout.gate.concurrency, 16)', positive('--concurrency', 256))
      .option('--timeout <duration>', 'per request attempt, e.g. 30s (default rollout.gate.timeout, 60s)', duration('--timeout', 3_600_000))
      .option('--retries <n>', 'retries after a 429, a 5xx or a network error (default rollout.gate.retries, 3)', nonNegative('--retries', 10))
      .option('--no-progress', 'no progress bar'),
  ).action((opts: GateOptions) => orExit2(() => gate(opts)));

  const golden = program.command('golden').description('golden sets for the release gate');
  exit2(
    golden
      .command('build')
      .description('a stratified sample of production samples (by spec, grounding and SLI outcome; failures over-sampled; near-duplicates removed; human corrections as references) as a golden set with a manifest')
      .option('-c, --config <file>', 'config file', 'tunewatch.yaml')
      .requiredOption('--model <name>', 'the model whose samples to use')
      .addOption(new Option('--since <duration>', 'how far back, e.g. 7d').argParser(duration('--since', 400 * 86_400_000)).default(7 * 86_400_000, '7d'))
      .option('--size <n>', 'items in the set', positive('--size', 1_000_000), 500)
      .requiredOption('--out <file>', 'where to write the JSONL (the manifest goes beside it)')
      .option('--failure-share <x>', 'failing samples are over-sampled up to this share of the set', share, 0.3)
      .option('--seed <n>', 'sampling seed', nonNegative('--seed', 2 ** 31), 42),
  ).action((opts: GoldenBuildOptions) => orExit2(() => goldenBuild(opts)));
}

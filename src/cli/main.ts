#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_PERIOD_MS } from '../admin/params.js';
import { parseDuration } from '../config/duration.js';
import { packageRoot } from '../config/paths.js';
import { hashApiKey } from '../proxy/auth.js';
import { PROFILES } from '../simulate/profiles.js';
import type { SloStatus } from '../slo/evaluate.js';
import { adminGet, DEFAULT_TIMEOUT_MS, DEFAULT_URL, parseServerUrl } from './admin-client.js';
import { registerAlertsCommand } from './alerts.js';
import { registerCanaryCommand } from './canary.js';
import { registerRetrainCommand } from './retrain.js';
import { registerEvalCommand } from './eval.js';
import { registerGateCommands } from './gate.js';
import { CliError, configFile, errorText } from './errors.js';
import { needsProxyFlags, relaunchWithProxyFlags } from './runtime.js';
import { formatSloReport, formatSloStatus, formatVersionSummary, type SloReportRow } from './summary.js';
// The server, the store and the demo are imported by the commands that use them: the admin API's
// clients (summary, slo) then start in a fraction of the time.

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
  return n;
};

/** `--since`: a duration the admin API takes (at most 400d). */
const period = (value: string) => {
  try {
    parseDuration(value, MAX_PERIOD_MS);
    return value;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

/** `--timeout`: a duration, in milliseconds. */
const timeout = (value: string) => {
  try {
    return parseDuration(value, 3_600_000);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

/** The options every admin API client command takes. */
interface ClientOptions {
  url: string;
  timeout: number;
}
const withClientOptions = (command: Command) =>
  command
    .option('--url <url>', 'tunewatch server', parseServerUrl, DEFAULT_URL)
    .option('--timeout <duration>', 'how long to wait for the server, e.g. 30s', timeout, DEFAULT_TIMEOUT_MS);
const get = <T>(opts: ClientOptions, path: string, field: string) =>
  adminGet<T>(opts.url, path, { token: process.env.TUNEWATCH_ADMIN_TOKEN || undefined, timeoutMs: opts.timeout, field });

const program = new Command('tunewatch')
  .description('Observability and SLOs for instruction-tuned models')
  .version(version, '-V, --version', 'print the version')
  // Usage errors are one line too: `tunewatch: unknown option '--sice' (Did you mean --since?); see --help`.
  .configureOutput({ outputError: (text, write) => write(`tunewatch: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}; see tunewatch --help\n`) });

program
  .command('serve')
  .description('run the proxy and the controller (SLO engine) with a config file')
  .option('-c, --config <file>', 'config file', 'tunewatch.yaml')
  .option('--role <role>', 'proxy | controller | all (the controller runs the SLO engine)', 'all')
  .action(async (opts: { config: string; role: string }) => {
    if (!['proxy', 'controller', 'all'].includes(opts.role)) throw new InvalidArgumentError(`--role must be proxy, controller or all, got "${opts.role}"`);
    const config = await configFile(opts.config);
    if (needsProxyFlags()) return relaunchWithProxyFlags();
    const { startService } = await import('./service.js');
    const service = await startService(config, { logLevel: process.env.TUNEWATCH_LOG_LEVEL ?? 'info', role: opts.role as 'proxy' | 'controller' | 'all' });
    service.app.log.info({ url: service.url, store: service.store.location }, 'tunewatch serving');
    let signalled = false;
    const shutdown = async (signal: string) => {
      if (signalled) return;
      signalled = true;
      service.app.log.info({ signal }, 'draining: no new requests, finishing in-flight ones, flushing captures');
      await service.stop();
      const health = service.pipeline.health();
      service.app.log.info(health, 'stopped');
      process.exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });

program
  .command('migrate')
  .description('apply pending migrations to the configured store')
  .option('-c, --config <file>', 'config file', 'tunewatch.yaml')
  .action(async (opts: { config: string }) => {
    const config = await configFile(opts.config);
    const [{ openStore }, { migrate }] = await Promise.all([import('../store/client.js'), import('../store/migrate.js')]);
    const store = openStore(config.storage);
    try {
      const result = await migrate(store);
      for (const m of result.applied) console.log(`applied ${m}`);
      console.log(`${result.applied.length} applied, ${result.alreadyApplied.length} already applied (${store.location})`);
    } finally {
      await store.close();
    }
  });

program
  .command('simulate')
  .description('serve a simulated OpenAI-compatible model (deterministic, with per-profile failure rates)')
  .option('-p, --port <n>', 'port', int('port'), 9000)
  .option('--host <host>', 'host', '127.0.0.1')
  .option('--profile <name>', Object.keys(PROFILES).join(' | '), 'healthy')
  .option('--seed <n>', 'seed for deterministic answers', int('seed'), 1)
  .action(async (opts: { port: number; host: string; profile: string; seed: number }) => {
    if (!Object.hasOwn(PROFILES, opts.profile)) {
      throw new CliError(`unknown simulator profile "${opts.profile}"; the profiles are ${Object.keys(PROFILES).join(', ')}`);
    }
    const { startSimulator } = await import('../simulate/server.js');
    const sim = await startSimulator({ host: opts.host, port: opts.port, profile: opts.profile, seed: opts.seed });
    console.log(`simulated model (${opts.profile}) at ${sim.url}`);
    process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
    process.on('SIGINT', () => void sim.close().then(() => process.exit(0)));
  });

program
  .command('demo')
  .description('simulated baseline and canary behind the proxy, traffic, and a per-version table')
  .option('--data <path>', 'data directory', './data')
  .option('-n, --requests <n>', 'requests to send', int('requests'), 300)
  .option('--concurrency <n>', 'concurrent clients', int('concurrency'), 8)
  .option('--keep', 'keep the server up afterwards (the status page at /ui) until Ctrl-C')
  .action(async (opts: { data: string; requests: number; concurrency: number; keep?: boolean }) => {
    const { runDemo } = await import('./demo.js');
    await runDemo({ dataPath: opts.data, requests: opts.requests, concurrency: opts.concurrency, progress: process.stderr.isTTY === true, keep: opts.keep === true });
    process.exit(0);
  });

withClientOptions(program.command('summary').description('per model version table, read through a running server\'s admin API'))
  .option('--since <duration>', 'e.g. 15m, 1h, 7d', period, '1h')
  .action(async (opts: ClientOptions & { since: string }) => {
    const body = await get<{ versions: Parameters<typeof formatVersionSummary>[0] }>(opts, `/api/summary?since=${encodeURIComponent(opts.since)}`, 'versions');
    console.log(formatVersionSummary(body.versions));
  });

const slo = program.command('slo').description('SLOs, error budgets and burn rates (through a running server)');
withClientOptions(slo.command('status').description('every SLO per model version: SLI, objective, budget left, burn rates, alert state')).action(
  async (opts: ClientOptions) => {
    const body = await get<{ slos: SloStatus[] }>(opts, '/api/slos?refresh=true', 'slos');
    console.log(formatSloStatus(body.slos));
  },
);
withClientOptions(slo.command('report').description('each SLO\'s SLI over a period, per model version'))
  .option('--since <duration>', 'e.g. 24h, 7d', period, '7d')
  .action(async (opts: ClientOptions & { since: string }) => {
    const body = await get<{ slos: SloReportRow[] }>(opts, `/api/slos/report?since=${encodeURIComponent(opts.since)}`, 'slos');
    console.log(`SLOs over the last ${opts.since}:\n`);
    console.log(formatSloReport(body.slos));
  });

registerAlertsCommand(program);
registerCanaryCommand(program, withClientOptions);
registerRetrainCommand(program, withClientOptions);
registerEvalCommand(program);
registerGateCommands(program);

const keys = program.command('keys').description('client API keys');
keys
  .command('hash')
  .description('print the SHA-256 digest of a client API key for auth.apiKeys[].sha256 (reads stdin when no key is given)')
  .argument('[key]')
  .action((key: string | undefined) => {
    const value = (key ?? readFileSync(0, 'utf8')).trim();
    if (!value) throw new InvalidArgumentError('no key given (argument or stdin)');
    console.log(hashApiKey(value));
  });

program.parseAsync().catch((err: unknown) => {
  console.error(errorText(err));
  process.exit(1);
});

#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { loadConfigFile, ConfigError } from '../config/load.js';
import { hashApiKey } from '../proxy/auth.js';
import { startSimulator } from '../simulate/server.js';
import { openStore } from '../store/client.js';
import { MigrationError, migrate } from '../store/migrate.js';
import { runDemo } from './demo.js';
import { needsProxyFlags, relaunchWithProxyFlags } from './runtime.js';
import { startService } from './service.js';
import type { SloStatus } from '../slo/evaluate.js';
import { registerAlertsCommand } from './alerts.js';
import { formatSloReport, formatSloStatus, formatVersionSummary, type SloReportRow } from './summary.js';

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
  return n;
};

const program = new Command('tunewatch').description('Observability and SLOs for instruction-tuned models').showHelpAfterError();

program
  .command('serve')
  .description('run the proxy and the controller (SLO engine) with a config file')
  .option('-c, --config <file>', 'config file', 'tunewatch.yaml')
  .option('--role <role>', 'proxy | controller | all (the controller runs the SLO engine)', 'all')
  .action(async (opts: { config: string; role: string }) => {
    if (!['proxy', 'controller', 'all'].includes(opts.role)) throw new InvalidArgumentError(`--role must be proxy, controller or all, got "${opts.role}"`);
    const config = loadConfigFile(opts.config);
    if (needsProxyFlags()) return relaunchWithProxyFlags();
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
    const config = loadConfigFile(opts.config);
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
  .option('--profile <name>', 'healthy | regressed | slow | flaky | instant', 'healthy')
  .option('--seed <n>', 'seed for deterministic answers', int('seed'), 1)
  .action(async (opts: { port: number; host: string; profile: string; seed: number }) => {
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
  .action(async (opts: { data: string; requests: number; concurrency: number }) => {
    await runDemo({ dataPath: opts.data, requests: opts.requests, concurrency: opts.concurrency, progress: process.stderr.isTTY === true });
    process.exit(0);
  });

program
  .command('summary')
  .description('per model version table, read through a running server\'s admin API')
  .option('--url <url>', 'tunewatch server', 'http://127.0.0.1:8080')
  .option('--since <duration>', 'e.g. 15m, 1h, 7d', '1h')
  .action(async (opts: { url: string; since: string }) => {
    const body = await adminGet<{ versions: Parameters<typeof formatVersionSummary>[0] }>(opts.url, `/api/summary?since=${encodeURIComponent(opts.since)}`);
    console.log(formatVersionSummary(body.versions));
  });

const slo = program.command('slo').description('SLOs, error budgets and burn rates (through a running server)');
slo
  .command('status')
  .description('every SLO per model version: SLI, objective, budget left, burn rates, alert state')
  .option('--url <url>', 'tunewatch server', 'http://127.0.0.1:8080')
  .action(async (opts: { url: string }) => {
    const body = await adminGet<{ slos: SloStatus[] }>(opts.url, '/api/slos?refresh=true');
    console.log(formatSloStatus(body.slos));
  });
slo
  .command('report')
  .description('each SLO\'s SLI over a period, per model version')
  .option('--url <url>', 'tunewatch server', 'http://127.0.0.1:8080')
  .option('--since <duration>', 'e.g. 24h, 7d', '7d')
  .action(async (opts: { url: string; since: string }) => {
    const body = await adminGet<{ slos: SloReportRow[] }>(opts.url, `/api/slos/report?since=${encodeURIComponent(opts.since)}`);
    console.log(`SLOs over the last ${opts.since}:\n`);
    console.log(formatSloReport(body.slos));
  });

registerAlertsCommand(program);

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

/** GET on the admin API with TUNEWATCH_ADMIN_TOKEN; an error answer becomes an error naming the status and reason. */
async function adminGet<T>(base: string, path: string): Promise<T> {
  const token = process.env.TUNEWATCH_ADMIN_TOKEN;
  const res = await request(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = (await res.body.json()) as T & { error?: { message: string } };
  if (res.statusCode !== 200) throw new Error(`admin API at ${base} answered ${res.statusCode}: ${body.error?.message ?? 'no body'}`);
  return body;
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof MigrationError || err instanceof InvalidArgumentError) {
    console.error(`tunewatch: ${(err as Error).message}`);
  } else {
    console.error('tunewatch:', err);
  }
  process.exit(1);
});

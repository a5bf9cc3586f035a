import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { CaptureWorker } from '../capture/capture-worker.js';
import { LabelWriter } from '../evaluate/labels.js';
import type { Config } from '../config/schema.js';
import { createMetrics, latencyBucketsOf, setTokenPrices, type Metrics } from '../metrics/registry.js';
import { buildServer } from '../proxy/server.js';
import { buildRoutes } from '../proxy/router.js';
import { CanaryController, CanaryFollower } from '../canary/controller.js';
import { RetrainService } from '../feedback/service.js';
import { tunewatchVersion } from '../config/paths.js';
import { AlertmanagerClient } from '../slo/alertmanager.js';
import { SloEngine } from '../slo/engine.js';
import { toSloModel } from '../slo/model.js';
import { openStore, type Store } from '../store/client.js';
import { applyRetention, migrate } from '../store/migrate.js';

export interface Service {
  app: FastifyInstance;
  url: string;
  store: Store;
  pipeline: CaptureWorker;
  metrics: Metrics;
  labels: LabelWriter;
  engine?: SloEngine;
  canary?: CanaryController;
  retrain?: RetrainService;
  /** Graceful stop: stop accepting, finish in-flight requests, flush captures, close the store. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  env?: NodeJS.ProcessEnv;
  logLevel?: string;
  /** Use an already-open store (the demo shares one); the service then leaves it open on stop. */
  store?: Store;
  /** proxy: the data plane only; controller: SLO engine and admin API; all (default): both. */
  role?: 'proxy' | 'controller' | 'all';
}

export async function startService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const env = options.env ?? process.env;
  const logger = pino({
    level: options.logLevel ?? env.TUNEWATCH_LOG_LEVEL ?? 'warn',
    // Credentials never reach the logs.
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.password', '*.apiKey'],
  });
  const role = options.role ?? 'all';
  const metrics = createMetrics(latencyBucketsOf(config));
  setTokenPrices(metrics, config.models);
  // Evaluation, redaction and inserts run on a worker thread; judge verdicts come back to `labels`.
  // Unless given a store, the worker opens it (an embedded one is then queried through the worker).
  const ownStore = options.store ?? (config.storage.clickhouse ? openStore(config.storage, env) : 'open');
  const pipeline: CaptureWorker = new CaptureWorker(config, ownStore, { env, logLevel: logger.level, log: logger, metrics, recordLabels: (l) => labels.record(l, 'judge') });
  const store = ownStore === 'open' ? pipeline.relayedStore! : ownStore;
  try {
    await pipeline.ready();
    await migrate(store);
    await applyRetention(store, config.storage.retentionDays);
  } catch (err) {
    // A store that cannot be opened or migrated stops start-up; the worker must not keep the process alive.
    await pipeline.drain().catch(() => undefined);
    throw err;
  }
  pipeline.start();
  // Labels (human and judge) may name samples still in the capture queue: the writer flushes it first.
  const labels = new LabelWriter(store, () => pipeline.flush());
  const engine = role !== 'proxy' && config.slos.length ? new SloEngine(store, config.slos.map(toSloModel), config.alerting, metrics.registry, logger) : undefined;
  // Canary rollouts: the controller runs the plans and swaps routes in this table; a proxy-only
  // process follows the controller's decisions through the shared store. Either restores the
  // rollout state from the decision log before the first request is served.
  const routes = buildRoutes(config.models);
  const hasRollouts = config.models.some((m) => m.rollout);
  const canary =
    role !== 'proxy' && hasRollouts
      ? new CanaryController({
          config,
          store,
          routes: role === 'all' ? routes : undefined,
          metrics,
          alertmanager: new AlertmanagerClient(config.alerting.alertmanagers),
          log: logger,
          adminUrl: config.alerting.externalUrl,
        })
      : undefined;
  const follower = role === 'proxy' && hasRollouts ? new CanaryFollower(config, store, routes, logger) : undefined;
  // The feedback loop: queue, curation, jobs, triggers; a trained model comes back through the canary.
  const retrain =
    role !== 'proxy' && config.models.some((m) => m.retrain)
      ? new RetrainService({ config, store, metrics, log: logger, version: tunewatchVersion(), canary, firingAlerts: engine ? () => engine.firing() : undefined, env })
      : undefined;
  try {
    await canary?.start();
    await follower?.start();
    await retrain?.start();
  } catch (err) {
    await pipeline.drain().catch(() => undefined);
    throw err;
  }
  const { app } = await buildServer({ config, store, pipeline, metrics, labels, engine, canary, retrain, routes, proxy: role !== 'controller', env, logger });
  engine?.start();
  const url = await app.listen({ host: config.server.host, port: config.server.port });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // close() stops accepting and waits for in-flight requests (their samples are enqueued). Keep-alive
      // connections that go idle once their request finishes would hold it open: close them as they idle.
      engine?.stop();
      canary?.stop();
      await retrain?.close();
      follower?.stop();
      const closeIdle = setInterval(() => app.server.closeIdleConnections(), 50);
      await app.close().finally(() => clearInterval(closeIdle));
      await pipeline.drain();
      if (!options.store) await store.close();
    })());
  return { app, url, store, pipeline, metrics, labels, engine, canary, retrain, stop };
}

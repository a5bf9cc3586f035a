import { AggregatorRegistry } from 'prom-client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminAllowed, adminRoutes } from '../admin/routes.js';
import { feedbackRoutes } from '../evaluate/feedback-routes.js';
import type { LabelWriter } from '../evaluate/labels.js';
import type { SloEngine } from '../slo/engine.js';
import type { CaptureQueue } from '../capture/capture-worker.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/registry.js';
import { storeAnswers, type Store } from '../store/client.js';
import { judgeReadiness, LossWindow } from '../capture/readiness.js';
import { rawCaptureLimit } from '../capture/limits.js';
import { makeKeyChecker, presentedKey } from './auth.js';
import { answerDrainsAsSamples, clientErrorHandler } from './edge.js';
import { installJsonBodyParser } from './json-body.js';
import { RequestIds } from './request-ids.js';
import { buildRoutes, type RouteTable } from './router.js';
import type { CanaryController } from '../canary/controller.js';
import type { RetrainService } from '../feedback/service.js';
import { completeDeps, proxyRoutes } from './routes.js';
import { UpstreamPools } from './upstream.js';

export interface ServerDeps {
  config: Config;
  store: Store;
  pipeline: CaptureQueue;
  metrics: Metrics;
  labels: LabelWriter;
  engine?: SloEngine;
  canary?: CanaryController;
  retrain?: RetrainService;
  /** The live route table (shared with the canary controller); built from config when absent. */
  routes?: RouteTable;
  /** Register the OpenAI-compatible routes (false for a controller-only process). */
  proxy?: boolean;
  logger: FastifyBaseLogger;
  env?: NodeJS.ProcessEnv;
}

/** Builds (does not start) the proxy server; tests call this directly. */
export async function buildServer(deps: ServerDeps): Promise<{ app: FastifyInstance; upstreams: UpstreamPools }> {
  const { config, store, pipeline, metrics } = deps;
  const env = deps.env ?? process.env;
  const upstreams = new UpstreamPools({
    connections: config.server.upstreamConnections,
    connectTimeoutMs: config.server.connectTimeoutMs,
    timeoutMs: config.server.upstreamTimeoutMs,
  });
  const checkKey = config.auth.apiKeys.length ? makeKeyChecker(config.auth.apiKeys) : null;
  const proxyDeps =
    deps.proxy === false
      ? null
      : completeDeps({
          routes: deps.routes ?? buildRoutes(config.models),
          specNames: new Set(Object.keys(config.specs)),
          upstreams,
          capture: (exchange) => pipeline.enqueue(exchange),
          metrics,
          checkKey,
          env,
          requestIds: new RequestIds(),
          captureLimit: rawCaptureLimit(config.capture.maxTextBytes),
        });
  const app = Fastify({
    loggerInstance: deps.logger,
    // A line per request would cost more than the proxying itself; samples are the request log.
    logController: new LogController({ disableRequestLogging: true }),
    // Nor a child logger per request (it costs a pino child with redaction set-up each time): the
    // few request-time log lines name their request id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.server.bodyLimitBytes,
    // Ids are the proxy's business (x-request-id is validated and echoed by the routes).
    requestIdHeader: false,
    // Requests arriving during a drain get their 503 from answerDrainsAsSamples (recorded for
    // proxy paths); headers over node's limit get their 431 from clientErrorHandler (likewise).
    return503OnClosing: false,
    clientErrorHandler: clientErrorHandler(proxyDeps),
    forceCloseConnections: false,
  });
  answerDrainsAsSamples(app, proxyDeps);
  // Every JSON body, on every route registered below, goes through the nesting limit.
  installJsonBodyParser(app, config.server.maxBodyDepth);
  app.addHook('onClose', () => upstreams.close());

  const adminToken = env.TUNEWATCH_ADMIN_TOKEN || undefined;
  if (proxyDeps) await app.register(proxyRoutes, proxyDeps);
  await app.register(feedbackRoutes, {
    labels: deps.labels,
    // Open like the proxy when neither client keys nor an admin token are configured.
    authorized: (request) =>
      (checkKey ? checkKey(presentedKey(request.headers)) !== null : !adminToken) || (adminToken !== undefined && adminAllowed(request, adminToken)),
  });
  await app.register(adminRoutes, { store, pipeline, adminToken, engine: deps.engine, canary: deps.canary, retrain: deps.retrain, models: config.models.map((m) => m.name) });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    if (!pipeline.metrics) return metrics.registry.metrics();
    // The capture worker counts in its own registry; series present in both are summed.
    const merged = AggregatorRegistry.aggregate([await metrics.registry.getMetricsAsJSON(), await pipeline.metrics()]);
    return merged.metrics();
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  // /readyz tells whether capture is storing (see capture/readiness.ts); the store is pinged at
  // most once a second so a probe storm cannot load it.
  const losses = new LossWindow();
  let storeDownSince: number | null = null;
  const watch = setInterval(() => {
    losses.observe(Date.now(), pipeline.health());
    void storeAnswers(store).then((ok) => {
      storeDownSince = ok ? null : (storeDownSince ?? Date.now());
    });
  }, 1_000).unref();
  losses.observe(Date.now(), pipeline.health());
  app.addHook('onClose', async () => clearInterval(watch));
  app.get('/readyz', async (_request, reply) => {
    const health = pipeline.health();
    const now = Date.now();
    const lostLastMinute = losses.lostInWindow(health);
    const { ready, reasons } = judgeReadiness(health, now, storeDownSince, config.capture.storeDownGraceMs, lostLastMinute);
    const storeOk = storeDownSince === null && health.lastInsertOk;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', reasons, store: storeOk ? 'ok' : 'failing', lostLastMinute, ...health });
  });
  return { app, upstreams };
}

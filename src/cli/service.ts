import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { CapturePipeline, clickhouseSink } from '../capture/pipeline.js';
import { createBatchProcessor, type CapturedBatch } from '../capture/processor.js';
import { createSampleEvaluator } from '../evaluate/evaluator.js';
import { LabelWriter } from '../evaluate/labels.js';
import { createJudge } from '../evaluate/judge.js';
import { createModerationClient } from '../evaluate/moderation.js';
import { SpillLog } from '../capture/spill.js';
import type { Config } from '../config/schema.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { buildServer } from '../proxy/server.js';
import { SloEngine } from '../slo/engine.js';
import { toSloModel } from '../slo/model.js';
import { openStore, type Store } from '../store/client.js';
import { applyRetention, migrate } from '../store/migrate.js';

export interface Service {
  app: FastifyInstance;
  url: string;
  store: Store;
  pipeline: CapturePipeline;
  metrics: Metrics;
  labels: LabelWriter;
  engine?: SloEngine;
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
  const store = options.store ?? openStore(config.storage, env);
  await migrate(store);
  await applyRetention(store, config.storage.retentionDays);

  const logger = pino({
    level: options.logLevel ?? env.TUNEWATCH_LOG_LEVEL ?? 'warn',
    // Credentials never reach the logs.
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.password', '*.apiKey'],
  });
  const role = options.role ?? 'all';
  // Latency SLO thresholds become histogram buckets, so Prometheus can count "under the threshold" exactly.
  const metrics = createMetrics(config.slos.filter((s) => s.thresholdMs !== undefined).map((s) => s.thresholdMs! / 1000));
  // Labels (human and judge) may name samples still in the capture queue: the writer flushes it first.
  const labels = new LabelWriter(store, () => pipeline.flush());
  const { moderation: moderationConfig, judge: judgeConfig } = config.evaluation;
  const moderation = moderationConfig ? createModerationClient(moderationConfig, env) : undefined;
  const judge = judgeConfig ? createJudge(judgeConfig, (l) => labels.record(l, 'judge'), logger, env) : undefined;
  const processor = createBatchProcessor(createSampleEvaluator(config, { moderation, judge }), metrics);
  const spill = new SpillLog<CapturedBatch>(join(resolve(config.storage.path), 'spill'), config.capture.spillMaxBytes);
  const pipeline: CapturePipeline = new CapturePipeline(clickhouseSink(store), processor, spill, config.capture, metrics, logger);
  const engine = role !== 'proxy' && config.slos.length ? new SloEngine(store, config.slos.map(toSloModel), config.alerting, metrics.registry, logger) : undefined;
  const { app } = await buildServer({ config, store, pipeline, metrics, labels, engine, proxy: role !== 'controller', env, logger });
  pipeline.start();
  engine?.start();
  const url = await app.listen({ host: config.server.host, port: config.server.port });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // close() stops accepting and waits for in-flight requests (their samples are enqueued). Keep-alive
      // connections that go idle once their request finishes would hold it open: close them as they idle.
      engine?.stop();
      const closeIdle = setInterval(() => app.server.closeIdleConnections(), 50);
      await app.close().finally(() => clearInterval(closeIdle));
      await pipeline.drain();
      await judge?.idle();
      await Promise.all([moderation?.close(), judge?.close()]);
      if (!options.store) await store.close();
    })());
  return { app, url, store, pipeline, metrics, labels, engine, stop };
}

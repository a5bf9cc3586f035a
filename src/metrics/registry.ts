import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Metric names, defined once: alert rules and dashboards are generated from these.
// Names follow the OpenTelemetry GenAI semantic conventions where one exists.
export const METRIC = {
  requestDuration: 'gen_ai_server_request_duration_seconds',
  timeToFirstToken: 'gen_ai_server_time_to_first_token_seconds',
  timePerOutputToken: 'gen_ai_server_time_per_output_token_seconds',
  tokenUsage: 'gen_ai_client_token_usage',
  proxyOverhead: 'tunewatch_proxy_overhead_seconds',
  captureQueueDepth: 'tunewatch_capture_queue_depth',
  captureBatches: 'tunewatch_capture_batches_total',
  captureRowsWritten: 'tunewatch_capture_rows_written_total',
  captureRowsSpilled: 'tunewatch_capture_rows_spilled_total',
  captureRowsReplayed: 'tunewatch_capture_rows_replayed_total',
  captureRowsDropped: 'tunewatch_capture_rows_dropped_total',
  captureInsertFailures: 'tunewatch_capture_insert_failures_total',
  captureSpillBytes: 'tunewatch_capture_spill_bytes',
  sliEvents: 'tunewatch_sli_events_total',
  captureRowsQuarantined: 'tunewatch_capture_rows_quarantined_total',
  captureRowsShed: 'tunewatch_capture_rows_shed_total',
  captureWorkerRestarts: 'tunewatch_capture_worker_restarts_total',
  storeRestarts: 'tunewatch_store_restarts_total',
  upstreamAnswersInvalid: 'tunewatch_upstream_answers_invalid_total',
  canaryDiscrepancy: 'tunewatch_canary_discrepancy',
  canaryPairDisagreement: 'tunewatch_canary_pair_disagreement',
  canaryWeight: 'tunewatch_canary_weight',
  canaryScore: 'tunewatch_canary_score',
  canaryDecisions: 'tunewatch_canary_decisions_total',
  retrainQueueItems: 'tunewatch_retrain_queue_items',
  retrainJobs: 'tunewatch_retrain_jobs_total',
  retrainItemsExported: 'tunewatch_retrain_items_exported_total',
  tokenPrice: 'tunewatch_token_price_usd_per_1m',
} as const;

export const REQUEST_LABELS = ['gen_ai_request_model', 'tunewatch_model_version', 'tunewatch_role', 'status_class', 'gen_ai_operation_name'] as const;
export type RequestLabels = Record<(typeof REQUEST_LABELS)[number], string>;
/** The token usage histogram's and token price gauge's extra label: input or output. */
export const TOKEN_TYPE_LABEL = 'gen_ai_token_type';

// The GenAI conventions' recommended buckets.
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
const TOKEN_BUCKETS = Array.from({ length: 14 }, (_, i) => 4 ** i); // 1, 4, 16 … 67108864
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export type Metrics = ReturnType<typeof createMetrics>;

/** Latency SLO thresholds become histogram buckets, so Prometheus can count "under the threshold" exactly. */
export function latencyBucketsOf(config: { slos: { thresholdMs?: number }[] }): number[] {
  return config.slos.filter((s) => s.thresholdMs !== undefined).map((s) => s.thresholdMs! / 1000);
}

/**
 * A fresh registry per server, so tests can build several servers in one process. The capture
 * worker's registry leaves out the process metrics, which the owning thread already reports.
 */
export function createMetrics(extraDurationBuckets: number[] = [], options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
  const labelNames = [...REQUEST_LABELS];
  return {
    registry,
    requestSeriesCache: new Map<string, { duration: HistogramChild; ttft: HistogramChild; overhead: HistogramChild }>(),
    requestDuration: new Histogram({
      name: METRIC.requestDuration,
      help: 'Time from request received to response complete.',
      labelNames,
      buckets: [...new Set([...DURATION_BUCKETS, ...extraDurationBuckets])].sort((a, b) => a - b),
      ...reg,
    }),
    timeToFirstToken: new Histogram({ name: METRIC.timeToFirstToken, help: 'Time from request received to the first streamed chunk.', labelNames, buckets: TTFT_BUCKETS, ...reg }),
    timePerOutputToken: new Histogram({ name: METRIC.timePerOutputToken, help: 'Time per output token after the first.', labelNames, buckets: TPOT_BUCKETS, ...reg }),
    tokenUsage: new Histogram({ name: METRIC.tokenUsage, help: 'Tokens per request.', labelNames: [...labelNames, TOKEN_TYPE_LABEL], buckets: TOKEN_BUCKETS, ...reg }),
    proxyOverhead: new Histogram({ name: METRIC.proxyOverhead, help: 'Total request time minus upstream time: what the proxy costs.', labelNames: ['gen_ai_request_model'], buckets: OVERHEAD_BUCKETS, ...reg }),
    captureQueueDepth: new Gauge({ name: METRIC.captureQueueDepth, help: 'Samples waiting in memory for insert.', ...reg }),
    captureBatches: new Counter({ name: METRIC.captureBatches, help: 'Batches handled, by outcome.', labelNames: ['outcome'], ...reg }),
    captureRowsWritten: new Counter({ name: METRIC.captureRowsWritten, help: 'Samples inserted into the store.', ...reg }),
    captureRowsSpilled: new Counter({ name: METRIC.captureRowsSpilled, help: 'Samples written to the on-disk spill log.', ...reg }),
    captureRowsReplayed: new Counter({ name: METRIC.captureRowsReplayed, help: 'Spilled samples replayed into the store.', ...reg }),
    captureRowsDropped: new Counter({ name: METRIC.captureRowsDropped, help: 'Samples lost because the queue and the spill log were both full.', ...reg }),
    captureInsertFailures: new Counter({ name: METRIC.captureInsertFailures, help: 'Failed insert attempts (before retry or spill).', ...reg }),
    sliEvents: new Counter({ name: METRIC.sliEvents, help: 'Automatic verdicts per SLI as known at evaluation time (late human labels are not re-counted).', labelNames: ['model', 'version', 'role', 'sli', 'outcome'], ...reg }),
    captureSpillBytes: new Gauge({ name: METRIC.captureSpillBytes, help: 'Bytes in the spill log awaiting replay.', ...reg }),
    captureRowsQuarantined: new Counter({ name: METRIC.captureRowsQuarantined, help: 'Samples the store rejected, moved to the quarantine file with its reason.', ...reg }),
    captureRowsShed: new Counter({ name: METRIC.captureRowsShed, help: 'Samples shed (uniformly at random) under overload; per-minute request counts stay exact.', labelNames: ['reason'], ...reg }),
    captureWorkerRestarts: new Counter({ name: METRIC.captureWorkerRestarts, help: 'Times the capture worker was restarted after it died.', ...reg }),
    storeRestarts: new Counter({ name: METRIC.storeRestarts, help: 'Times the embedded store process was restarted after it died.', ...reg }),
    canaryDiscrepancy: new Gauge({ name: METRIC.canaryDiscrepancy, help: 'Baseline good ratio minus canary good ratio since the rollout began (positive: the canary is worse).', labelNames: ['model', 'sli'], ...reg }),
    canaryPairDisagreement: new Gauge({ name: METRIC.canaryPairDisagreement, help: 'Share of mirrored prompts whose baseline and canary verdicts differ.', labelNames: ['model', 'sli'], ...reg }),
    canaryWeight: new Gauge({ name: METRIC.canaryWeight, help: 'Share of traffic (percent) each version of a model gets from its rollout.', labelNames: ['model', 'version'], ...reg }),
    canaryScore: new Gauge({ name: METRIC.canaryScore, help: 'Score (0-100) of the latest canary analysis.', labelNames: ['model'], ...reg }),
    canaryDecisions: new Counter({ name: METRIC.canaryDecisions, help: 'Canary rollout decisions, by action.', labelNames: ['model', 'action'], ...reg }),
    retrainQueueItems: new Gauge({ name: METRIC.retrainQueueItems, help: 'Items in each model\'s retraining queue, by state (ready, needs_correction, excluded).', labelNames: ['model', 'state'], ...reg }),
    retrainJobs: new Counter({ name: METRIC.retrainJobs, help: 'Fine-tuning jobs that reached a state (submitted, succeeded, failed, cancelled), by launcher.', labelNames: ['model', 'launcher', 'state'], ...reg }),
    retrainItemsExported: new Counter({ name: METRIC.retrainItemsExported, help: 'Items exported into dataset snapshots that launched a job, by split.', labelNames: ['model', 'split'], ...reg }),
    tokenPrice: new Gauge({ name: METRIC.tokenPrice, help: 'Configured token price in USD per 1M tokens, by deployment and token type (input, output).', labelNames: ['gen_ai_request_model', 'tunewatch_model_version', TOKEN_TYPE_LABEL], ...reg }),
    upstreamAnswersInvalid: new Counter({ name: METRIC.upstreamAnswersInvalid, help: 'Upstream answers with a field of the wrong type, recorded as absent and flagged on the sample.', labelNames: ['flag'], ...reg }),
  };
}

/** Sets the token price gauge from the deployments' `price`; deployments without one export nothing (no cost, rather than a wrong one). */
export function setTokenPrices(metrics: Metrics, models: { name: string; deployments: { version: string; price?: { inputPer1M: number; outputPer1M: number } }[] }[]): void {
  for (const model of models) {
    for (const d of model.deployments) {
      if (!d.price) continue;
      const labels = { gen_ai_request_model: model.name, tunewatch_model_version: d.version };
      metrics.tokenPrice.set({ ...labels, [TOKEN_TYPE_LABEL]: 'input' }, d.price.inputPer1M);
      metrics.tokenPrice.set({ ...labels, [TOKEN_TYPE_LABEL]: 'output' }, d.price.outputPer1M);
    }
  }
}

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/** The GenAI conventions' operation names for tunewatch's endpoints. */
export const OPERATION_NAME = { chat: 'chat', completions: 'text_completion', embeddings: 'embeddings' } as const;

type HistogramChild = ReturnType<Histogram['labels']>;

/**
 * The per-label-set histograms a finished request observes. prom-client validates and hashes a label
 * object on every observe; on the proxy's hot path each label set's children are looked up once and kept.
 */
export function requestSeries(metrics: Metrics, r: Parameters<typeof requestLabels>[0]): { duration: HistogramChild; ttft: HistogramChild; overhead: HistogramChild } {
  const cls = statusClass(r.statusCode);
  const key = `${r.model}\u0000${r.version}\u0000${r.role}\u0000${cls}\u0000${r.endpoint}`;
  let series = metrics.requestSeriesCache.get(key);
  if (!series) {
    const labels = requestLabels(r);
    series = {
      duration: metrics.requestDuration.labels(labels),
      ttft: metrics.timeToFirstToken.labels(labels),
      overhead: metrics.proxyOverhead.labels({ gen_ai_request_model: r.model }),
    };
    metrics.requestSeriesCache.set(key, series);
  }
  return series;
}

export function requestLabels(r: { model: string; version: string; role: string; statusCode: number; endpoint: keyof typeof OPERATION_NAME }): RequestLabels {
  return {
    gen_ai_request_model: r.model,
    tunewatch_model_version: r.version,
    tunewatch_role: r.role,
    status_class: statusClass(r.statusCode),
    gen_ai_operation_name: OPERATION_NAME[r.endpoint],
  };
}

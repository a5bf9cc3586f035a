// The capture worker: evaluates, redacts, encodes and inserts every sample on its own thread, so the
// proxy's event loop only copies an exchange into a message. Started by capture-worker.ts.
import { join, resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { createSampleEvaluator } from '../evaluate/evaluator.js';
import { createJudge } from '../evaluate/judge.js';
import type { Label } from '../evaluate/labels.js';
import { createModerationClient } from '../evaluate/moderation.js';
import { createMetrics, latencyBucketsOf } from '../metrics/registry.js';
import { openRelayedStore, openStore } from '../store/client.js';
import { serveStoreRelay } from '../store/embedded-connection.js';
import { CapturePipeline, clickhouseSink } from './pipeline.js';
import { createBatchProcessor, type CapturedBatch } from './processor.js';
import { SpillLog } from './spill.js';
import { currentThreadId, setBackground } from '../util/priority.js';
import { fromPosted, type CaptureWorkerData, type FromWorker, type ToWorker } from './worker-protocol.js';

const data = workerData as CaptureWorkerData;
// Background work: runs on CPU time the proxy does not want. Set before the store process is
// started from this thread, which inherits it. The owner takes it back to normal when it falls behind.
const tid = currentThreadId();
await setBackground(tid, true);
const port = parentPort!;
const post = (msg: FromWorker) => port.postMessage(msg);
const { config, env } = data;

const logger = pino({ level: data.logLevel, redact: ['*.password', '*.apiKey'] });
const store = data.storePort ? openRelayedStore(data.storePort, data.storeLocation ?? '') : openStore(config.storage, env);
// This thread owns the embedded store: the proxy's thread queries it through this relay.
if (data.serveStorePort && store.embedded) serveStoreRelay(data.serveStorePort, store.embedded);
// Only the metrics this thread moves are reported; the owner merges them into its /metrics.
const metrics = createMetrics(latencyBucketsOf(config), { processMetrics: false });

// Judge verdicts go back to the owner, whose LabelWriter also writes human labels (one serial writer).
let nextLabelId = 1;
const labelWaiters = new Map<number, { resolve(): void; reject(e: Error): void }>();
const recordOnOwner = (labels: Label[]) =>
  new Promise<void>((resolve, reject) => {
    const id = nextLabelId++;
    labelWaiters.set(id, { resolve, reject });
    post({ type: 'label', id, labels });
  });

const { moderation: moderationConfig, judge: judgeConfig } = config.evaluation;
const moderation = moderationConfig ? createModerationClient(moderationConfig, env) : undefined;
const judge = judgeConfig ? createJudge(judgeConfig, recordOnOwner, logger, env) : undefined;
const processor = createBatchProcessor(createSampleEvaluator(config, { moderation, judge }), metrics, { maxTextBytes: config.capture.maxTextBytes, log: logger });
const spill = new SpillLog<CapturedBatch>(join(resolve(config.storage.path), 'spill'), config.capture.spillMaxBytes);
const pipeline = new CapturePipeline(clickhouseSink(store), processor, spill, config.capture, metrics, logger);

async function drain(): Promise<void> {
  await pipeline.drain();
  await judge?.idle();
  await Promise.all([moderation?.close(), judge?.close()]);
  await store.close();
}

// Health is pushed, so the owner's /readyz answers without a round trip.
let received = 0;
const healthTimer = setInterval(() => post({ type: 'health', health: pipeline.health(), received }), 250);

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') return pipeline.start();
  if (msg.type === 'exchanges') {
    received += msg.exchanges.length;
    for (const posted of msg.exchanges) pipeline.enqueue(fromPosted(posted));
    return;
  }
  if (msg.type === 'labelDone') {
    const waiter = labelWaiters.get(msg.id);
    labelWaiters.delete(msg.id);
    if (msg.error) waiter?.reject(new Error(msg.error));
    else waiter?.resolve();
    return;
  }
  const work =
    msg.call === 'flush' ? pipeline.flush() : msg.call === 'replayNow' ? pipeline.replayNow() : msg.call === 'drain' ? drain() : Promise.resolve();
  work
    .then(async () => {
      if (msg.call === 'drain') clearInterval(healthTimer);
      const reported = msg.call === 'metrics' ? await metrics.registry.getMetricsAsJSON() : undefined;
      post({ type: 'reply', id: msg.id, health: pipeline.health(), received, metrics: reported });
    })
    .catch((err: Error) => post({ type: 'reply', id: msg.id, health: pipeline.health(), received, error: err.message }));
});

post({ type: 'ready', tid });

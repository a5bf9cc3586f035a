// The capture worker: evaluates, redacts, encodes and inserts every sample on its own thread, so the
// proxy's event loop only copies an exchange into a message. Started (and restarted) by capture-worker.ts.
import { join, resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { createSampleEvaluator } from '../evaluate/evaluator.js';
import { createJudge } from '../evaluate/judge.js';
import type { Label } from '../evaluate/labels.js';
import { createModerationClient } from '../evaluate/moderation.js';
import { createMetrics, latencyBucketsOf } from '../metrics/registry.js';
import { insertRows, openRelayedStore, openStore, type Store } from '../store/client.js';
import { serveStoreRelay } from '../store/embedded-connection.js';
import { TABLES } from '../store/tables.js';
import { currentThreadId, setBackground, setProcessBackground } from '../util/priority.js';
import { CoverageCounter, mergeCoverage, type CoverageRow } from './coverage.js';
import { CapturePipeline } from './pipeline.js';
import { clickhouseSink } from './sink.js';
import { createBatchProcessor, type CapturedBatch } from './processor.js';
import { QUARANTINE_DIR, QuarantineFile } from './quarantine.js';
import { SpillLog } from './spill.js';
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
// Only the metrics this thread moves are reported; the owner merges them into its /metrics.
const metrics = createMetrics(latencyBucketsOf(config), { processMetrics: false });

const store = await openOwnStore();
// This thread owns the embedded store: the proxy's thread queries it through this relay.
if (data.serveStorePort && store.embedded) serveStoreRelay(data.serveStorePort, store.embedded);

/**
 * Opens the store. A worker replacing one that died may find the old store process still letting
 * go of the data directory: it tries again for a while instead of failing.
 */
async function openOwnStore(): Promise<Store> {
  if (data.storePort) return openRelayedStore(data.storePort, data.storeLocation ?? '');
  const onRestart = (reason: string) => {
    metrics.storeRestarts.inc();
    logger.warn({ reason }, 'embedded store process restarted');
  };
  const onRestartFailed = (reason: string) => logger.error({ reason }, 'embedded store process did not come back; trying again');
  for (let attempt = 0; ; attempt++) {
    const opened = openStore(config.storage, env, { onRestart, onRestartFailed });
    if (!opened.embedded || !data.restart) return opened;
    try {
      await opened.embedded.request('ping', {});
      return opened;
    } catch (err) {
      await opened.close().catch(() => undefined);
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

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
const dataDir = resolve(config.storage.path);
const spill = new SpillLog<CapturedBatch>(join(dataDir, 'spill'), config.capture.spillMaxBytes);
const quarantine = new QuarantineFile(join(dataDir, QUARANTINE_DIR), config.capture.spillMaxBytes);
// Samples this thread gives up on count against their minute's coverage, like those the proxy sheds.
const lostHere = new CoverageCounter();
const pipeline = new CapturePipeline(clickhouseSink(store), processor, spill, config.capture, metrics, logger, {
  quarantine,
  onLost: (rows) => rows.forEach((r) => lostHere.notCaptured(r.ts, r.model, r.version, r.role)),
  // Reported at once, so an owner that loses this worker counts as lost only what truly was.
  onSettled: () => report(),
});

// Per-minute request counts: written as they come (once a second), kept until the store takes them
// (bounded), and acknowledged so the owner can count them again should this worker die first.
const COVERAGE_PENDING_MAX = 100_000;
let coveragePending: CoverageRow[] = [];
let coverageIds: number[] = [];
// One write at a time: a second one started meanwhile would send the same pending rows again.
let coverageChain: Promise<void> = Promise.resolve();
function writeCoverage(): Promise<void> {
  coverageChain = coverageChain.then(writeCoverageNow);
  return coverageChain;
}
async function writeCoverageNow(): Promise<void> {
  const rows = mergeCoverage([...coveragePending, ...lostHere.take()]);
  const ids = coverageIds;
  // Taken out before the insert: counts arriving meanwhile wait for the next write.
  coveragePending = [];
  coverageIds = [];
  if (rows.length === 0) return;
  try {
    await insertRows(store, TABLES.captureCoverage, rows);
    if (ids.length) post({ type: 'coverageStored', ids });
  } catch (err) {
    coveragePending = [...rows, ...coveragePending].slice(-COVERAGE_PENDING_MAX);
    coverageIds = [...ids, ...coverageIds];
    logger.warn({ err: (err as Error).message, rows: rows.length }, 'coverage counts not written yet');
  }
}
const coverageTimer = setInterval(() => void writeCoverage(), 5_000);

async function drain(): Promise<void> {
  clearInterval(coverageTimer);
  await pipeline.drain();
  await writeCoverage();
  await judge?.idle();
  await Promise.all([moderation?.close(), judge?.close()]);
  await store.close();
}

// Health is pushed, so the owner's /readyz answers without a round trip.
let received = 0;
const storePid = () => store.embedded?.pid ?? null;
function report(): void {
  post({ type: 'health', health: pipeline.health(), received, storePid: storePid() });
}
const healthTimer = setInterval(report, 250);

// A bug that escapes every guard must not take what this worker holds with it: write or spill it
// all, report, and end; the owner starts a new worker.
let dying = false;
process.on('uncaughtException', (err) => {
  logger.error({ err }, 'capture worker: uncaught exception; saving what it holds, then exiting');
  if (dying) return;
  dying = true;
  clearInterval(healthTimer);
  // The owner stops sending (new exchanges wait for the next worker), so the drain can finish.
  post({ type: 'dying' });
  const exit = () => {
    report();
    setImmediate(() => process.exit(1));
  };
  const timeout = setTimeout(exit, 10_000);
  // Saving must not wait for idle CPU time on a busy box.
  Promise.all([setBackground(tid, false), setProcessBackground(storePid(), false)])
    .then(() => pipeline.drain())
    .then(() => writeCoverage())
    .catch((e: Error) => logger.error({ err: e.message }, 'capture worker: could not save everything'))
    .then(() => store.close().catch(() => undefined))
    .finally(() => {
      clearTimeout(timeout);
      exit();
    });
});

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') return pipeline.start();
  if (msg.type === 'exchanges') {
    received += msg.exchanges.length;
    for (const posted of msg.exchanges) pipeline.enqueue(fromPosted(posted));
    return;
  }
  if (msg.type === 'coverage') {
    coveragePending.push(...msg.rows);
    coverageIds.push(msg.id);
    void writeCoverage();
    return;
  }
  if (msg.type === 'fault') {
    if (env.TUNEWATCH_FAULT_INJECTION !== '1') return;
    if (msg.kind === 'exit') process.exit(3);
    setImmediate(() => {
      throw new Error('fault injected: uncaught exception in the capture worker');
    });
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
    msg.call === 'flush'
      ? pipeline.flush().then(writeCoverage)
      : msg.call === 'replayNow'
        ? pipeline.replayNow()
        : msg.call === 'drain'
          ? drain()
          : Promise.resolve();
  work
    .then(async () => {
      if (msg.call === 'drain') clearInterval(healthTimer);
      const reported = msg.call === 'metrics' ? await metrics.registry.getMetricsAsJSON() : undefined;
      post({ type: 'reply', id: msg.id, health: pipeline.health(), received, storePid: storePid(), metrics: reported });
    })
    .catch((err: Error) => post({ type: 'reply', id: msg.id, health: pipeline.health(), received, storePid: storePid(), error: err.message }));
});

post({ type: 'ready', tid });

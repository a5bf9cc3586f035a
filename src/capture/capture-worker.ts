import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Label } from '../evaluate/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { setBackground } from '../util/priority.js';
import type { PipelineHealth, PipelineLog } from './pipeline.js';
import type { Exchange } from './sample.js';
import { serveStoreRelay } from '../store/embedded-connection.js';
import { openRelayedStore, type Store } from '../store/client.js';
import { toPosted, type CaptureWorkerData, type FromWorker, type PostedExchange, type WorkerCall } from './worker-protocol.js';

/** What the proxy and the admin API need from capture, in-thread (CapturePipeline) or not (CaptureWorker). */
export interface CaptureQueue {
  /** Called on the proxy's hot path: never waits. */
  enqueue(exchange: Exchange): void;
  health(): PipelineHealth;
  /** Waits until everything enqueued so far has been written or spilled. */
  flush(): Promise<void>;
  replayNow(): Promise<void>;
  drain(): Promise<void>;
  /** Metrics counted outside the owner's registry, for its /metrics. */
  metrics?(): Promise<ReportedMetrics>;
}

/**
 * A background thread gets no CPU while the proxy wants it all. When the worker falls behind by more
 * than two batches it runs at normal priority (still niced) until it is within half a batch again.
 */
export function staysInBackground(behind: number, inBackground: boolean, batchSize: number): boolean {
  return inBackground ? behind <= 2 * batchSize : behind < batchSize / 2;
}

/** How long an exchange may wait to travel with others to the worker. */
const OUTBOX_MS = 20;

export type ReportedMetrics = MetricObjectWithValues<MetricValue<string>>[];

// From source the worker is TypeScript: a plain-JS boot registers tsx's ESM hooks, then imports the worker.
const BOOT_FROM_SOURCE = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

/** tsx's ESM API (its "./esm/api" export under the import condition), as a file URL. */
function tsxEsmApi(): string {
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  return pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
}

/**
 * The capture pipeline on a worker thread (worker.ts). Evaluating, redacting and encoding a sample
 * costs more CPU than proxying it; on the proxy's thread that work delays requests queued behind it,
 * which shows in the p99. Here the proxy's only cost is copying each exchange into a message.
 */
export class CaptureWorker implements CaptureQueue {
  private readonly worker: Worker;
  private readonly started: Promise<void>;
  private lastHealth: PipelineHealth = { queueDepth: 0, spillBatches: 0, spillBytes: 0, spillHasRoom: true, lastInsertOk: true, dropped: 0 };
  private readonly waiters = new Map<number, { resolve(m: ReportedMetrics | undefined): void; reject(e: Error): void }>();
  private nextId = 1;
  private exited: string | null = null;
  private droppedHere = 0;
  private outbox: PostedExchange[] = [];
  private outboxTransfer: ArrayBuffer[] = [];
  /** Exchanges posted, and taken off the channel by the worker as last reported. */
  private posted = 0;
  private received = 0;
  private workerTid: number | null = null;
  private inBackground = true;
  private schedulingTimer: NodeJS.Timeout | undefined;
  private readonly channelBound: number;

  /** Set when the worker owns the embedded store: the owner thread's way in. */
  readonly relayedStore: Store | null = null;

  /**
   * `store`: one this thread already has open (the worker reaches an embedded one through it), or
   * 'open' for the worker to open the configured store itself. An embedded store opened by the
   * worker is then reached from this thread through `relayedStore`, so inserts never pass through
   * the proxy's thread, only the occasional query does.
   */
  constructor(
    config: Config,
    store: Store | 'open',
    private readonly options: { env: NodeJS.ProcessEnv; logLevel: string; log: PipelineLog; metrics: Metrics; recordLabels: (labels: Label[]) => Promise<unknown> },
  ) {
    this.channelBound = config.capture.queueSize;
    const here = fileURLToPath(import.meta.url);
    const fromSource = here.endsWith('.ts');
    const entry = pathToFileURL(here.replace(/capture-worker\.(ts|js)$/, `worker.${fromSource ? 'ts' : 'js'}`));
    const data: CaptureWorkerData = { config, env: { ...options.env }, logLevel: options.logLevel };
    const transferList = [];
    if (store === 'open' && !config.storage.clickhouse) {
      const { port1, port2 } = new MessageChannel();
      this.relayedStore = openRelayedStore(port1, resolve(config.storage.path, 'clickhouse'));
      data.serveStorePort = port2;
      transferList.push(port2);
    } else if (store !== 'open' && store.embedded) {
      const { port1, port2 } = new MessageChannel();
      serveStoreRelay(port1, store.embedded);
      data.storePort = port2;
      data.storeLocation = store.location;
      transferList.push(port2);
    }
    if (fromSource) {
      data.entry = entry.href;
      data.tsxApi = tsxEsmApi();
    }
    this.worker = fromSource
      ? new Worker(BOOT_FROM_SOURCE, { eval: true, workerData: data, transferList })
      : new Worker(entry, { workerData: data, transferList });
    this.started = new Promise((resolve, reject) => {
      this.worker.once('message', (m: FromWorker) => {
        if (m.type !== 'ready') return reject(new Error(`capture worker sent ${m.type} before ready`));
        this.workerTid = m.tid;
        resolve();
      });
      this.worker.once('error', reject);
    });
    this.started.catch(() => undefined); // surfaced by ready()
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'health') [this.lastHealth, this.received] = [m.health, m.received];
      else if (m.type === 'reply') {
        [this.lastHealth, this.received] = [m.health, m.received];
        const waiter = this.waiters.get(m.id);
        this.waiters.delete(m.id);
        if (m.error) waiter?.reject(new Error(`capture worker: ${m.error}`));
        else waiter?.resolve(m.metrics);
      } else if (m.type === 'label') {
        options.recordLabels(m.labels).then(
          () => this.worker.postMessage({ type: 'labelDone', id: m.id }),
          (err: Error) => this.worker.postMessage({ type: 'labelDone', id: m.id, error: err.message }),
        );
      }
    });
    this.worker.on('error', (err) => options.log.error({ err }, 'capture worker failed'));
    this.schedulingTimer = setInterval(() => {
      const behind = this.posted - this.received + this.lastHealth.queueDepth;
      const background = staysInBackground(behind, this.inBackground, config.capture.batchSize);
      if (background === this.inBackground) return;
      this.inBackground = background;
      void setBackground(this.workerTid, background).then((changed) => {
        if (!changed) options.log.warn({ tid: this.workerTid, background }, 'could not change the capture worker\'s scheduling (needs Linux and chrt; leaving SCHED_IDLE may need RLIMIT_NICE)');
      });
      options.log.info({ behind, background }, background ? 'capture worker caught up: back to background priority' : 'capture worker behind: normal priority until it catches up');
    }, 250).unref();
    this.worker.on('exit', (code) => {
      clearInterval(this.schedulingTimer);
      this.exited = `the capture worker exited (code ${code})`;
      for (const waiter of this.waiters.values()) waiter.reject(new Error(this.exited));
      this.waiters.clear();
    });
  }

  /** Resolves once the worker has its store and pipeline; rejects when it could not start. */
  ready(): Promise<void> {
    return this.started;
  }

  /** Starts batching and spill replay; called once the schema is migrated. */
  start(): void {
    this.worker.postMessage({ type: 'start' });
  }

  enqueue(exchange: Exchange): void {
    // The worker's own queue is bounded (then it spills); this bounds what waits for the worker to
    // take it, so a worker that cannot keep up cannot grow the proxy's memory without end.
    const waiting = this.posted - this.received + this.outbox.length;
    const refused = this.exited ?? (waiting >= this.channelBound ? `${waiting} samples wait for the capture worker` : null);
    if (refused) {
      // Never throws on the hot path: the loss is counted and logged like a full spill log.
      this.droppedHere++;
      this.options.metrics.captureRowsDropped.inc();
      this.options.log.error({ requestId: exchange.requestId, reason: refused }, 'sample dropped');
      return;
    }
    const { posted, transfer } = toPosted(exchange);
    this.outbox.push(posted);
    this.outboxTransfer.push(transfer);
    // A message costs the proxy's thread more than the exchange it carries (the worker is woken
    // each time): exchanges go in groups, at most OUTBOX_MS late.
    if (this.outbox.length === 1) setTimeout(() => this.sendOutbox(), OUTBOX_MS);
  }

  private sendOutbox(): void {
    if (this.outbox.length === 0 || this.exited) return;
    this.worker.postMessage({ type: 'exchanges', exchanges: this.outbox }, this.outboxTransfer);
    this.posted += this.outbox.length;
    this.outbox = [];
    this.outboxTransfer = [];
  }

  /** As last reported by the worker (it reports every 250 ms and with every reply). */
  health(): PipelineHealth {
    return this.droppedHere ? { ...this.lastHealth, dropped: this.lastHealth.dropped + this.droppedHere } : this.lastHealth;
  }

  async flush(): Promise<void> {
    await this.call('flush');
  }

  async replayNow(): Promise<void> {
    await this.call('replayNow');
  }

  /** The worker thread's kernel task id (Linux), whose scheduling it runs under. */
  get threadId(): number | null {
    return this.workerTid;
  }

  /** Writes or spills everything, lets a judge finish, then stops the worker. */
  async drain(): Promise<void> {
    if (this.exited) return;
    await setBackground(this.workerTid, false); // shutting down: finish at normal priority
    await this.call('drain');
    await this.worker.terminate();
  }

  /** The worker's metrics (capture, SLI events, token usage) for the owner's /metrics. */
  async metrics(): Promise<ReportedMetrics> {
    if (this.exited) return [];
    return (await this.call('metrics')) ?? [];
  }

  private async call(call: WorkerCall): Promise<ReportedMetrics | undefined> {
    await this.started;
    if (this.exited) throw new Error(this.exited);
    this.sendOutbox(); // the call must come after every exchange enqueued before it
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'call', id, call });
    });
  }
}

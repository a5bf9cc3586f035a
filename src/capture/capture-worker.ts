import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Label } from '../evaluate/labels.js';
import type { Metrics } from '../metrics/registry.js';
import { setBackground, setProcessBackground } from '../util/priority.js';
import type { PipelineHealth, PipelineLog } from './pipeline.js';
import type { Exchange } from './sample.js';
import { RelayConnection, serveStoreRelay } from '../store/embedded-connection.js';
import { CoverageCounter, shouldShed, type CoverageRow } from './coverage.js';
import { openRelayedStore, type Store } from '../store/client.js';
import { toPosted, type CaptureWorkerData, type FromWorker, type PostedExchange, type WorkerCall } from './worker-protocol.js';

/** What the proxy and the admin API need from capture, in-thread (CapturePipeline) or not (CaptureWorker). */
export interface CaptureQueue {
  /** Called on the proxy's hot path: never waits. */
  enqueue(exchange: Exchange): void;
  health(): PipelineHealth & Partial<CaptureHealth>;
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

/** Restart delays after the capture worker dies: doubling from the first to the last. */
const RESTART_BACKOFF_MS = { first: 100, max: 10_000 };
/** How often the hot path's per-minute request counts go to the worker for the coverage table. */
const COVERAGE_MS = 1_000;

export type WorkerState = 'starting' | 'running' | 'down' | 'stopped';

/** What the owner knows beyond the pipeline's own health. */
export interface CaptureHealth extends PipelineHealth {
  worker: WorkerState;
  workerRestarts: number;
  /** Samples shed at random under overload (per-minute request counts stay exact). */
  shed: number;
  /** The embedded store process's pid, when the worker owns one. */
  storePid: number | null;
  /**
   * Requests whose per-minute counts were sent again after a worker died before acknowledging them.
   * Coverage is at least once: if that worker had stored them just before dying, they count twice,
   * so capture_coverage_1m may exceed the true count by at most this much.
   */
  coverageResent: number;
}

/**
 * The capture pipeline on a worker thread (worker.ts). Evaluating, redacting and encoding a sample
 * costs more CPU than proxying it; on the proxy's thread that work delays requests queued behind it,
 * which shows in the p99. Here the proxy's only cost is copying each exchange into a message.
 *
 * A worker that dies is started again with backoff. Exchanges arriving meanwhile wait (bounded) and
 * go to the new worker; what the dead one had taken but not stored or spilled is counted as dropped.
 */
export class CaptureWorker implements CaptureQueue {
  private worker!: Worker;
  private started!: Promise<void>;
  private readonly firstStart: Promise<void>;
  private state: WorkerState = 'starting';
  private lastHealth: PipelineHealth = {
    queueDepth: 0, spillBatches: 0, spillBytes: 0, spillHasRoom: true, spillWritable: true,
    lastInsertOk: true, storeFailingSince: null, dropped: 0, quarantined: 0, settled: 0,
  };
  /** Health counters of workers that died, so totals survive restarts. */
  private previous = { dropped: 0, quarantined: 0 };
  private readonly waiters = new Map<number, { resolve(m: ReportedMetrics | undefined): void; reject(e: Error): void }>();
  private nextId = 1;
  private droppedHere = 0;
  private shed = 0;
  private restarts = 0;
  private backoffMs = RESTART_BACKOFF_MS.first;
  private outbox: PostedExchange[] = [];
  private outboxTransfer: ArrayBuffer[] = [];
  private outboxTimer: NodeJS.Timeout | undefined;
  /** Exchanges posted to the current worker, and taken off the channel by it as last reported. */
  private posted = 0;
  private received = 0;
  private storePid: number | null = null;
  private workerTid: number | null = null;
  private inBackground = true;
  private schedulingTimer: NodeJS.Timeout | undefined;
  private readonly coverageTimer: NodeJS.Timeout;
  private readonly coverage = new CoverageCounter();
  /** Counts sent to the worker and not yet stored: counted again if the worker dies holding them. */
  private readonly coverageSent = new Map<number, CoverageRow[]>();
  private coverageResent = 0;
  private nextCoverageId = 1;
  private readonly channelBound: number;
  private readonly relay: RelayConnection | null = null;

  /** Set when the worker owns the embedded store: the owner thread's way in. */
  readonly relayedStore: Store | null = null;

  /**
   * `store`: one this thread already has open (the worker reaches an embedded one through it), or
   * 'open' for the worker to open the configured store itself. An embedded store opened by the
   * worker is then reached from this thread through `relayedStore`, so inserts never pass through
   * the proxy's thread, only the occasional query does.
   */
  constructor(
    private readonly config: Config,
    private readonly store: Store | 'open',
    private readonly options: { env: NodeJS.ProcessEnv; logLevel: string; log: PipelineLog; metrics: Metrics; recordLabels: (labels: Label[]) => Promise<unknown> },
  ) {
    this.channelBound = config.capture.queueSize;
    if (store === 'open' && !config.storage.clickhouse) {
      const { port1, port2 } = new MessageChannel();
      port2.close(); // replaced by the first worker's port
      this.relay = new RelayConnection(port1);
      this.relayedStore = openRelayedStore(this.relay, resolve(config.storage.path, 'clickhouse'));
    }
    this.firstStart = this.spawn();
    this.firstStart.catch(() => undefined); // surfaced by ready()
    this.coverageTimer = setInterval(() => this.sendCoverage(), COVERAGE_MS).unref();
  }

  /** Starts a worker thread and wires its messages; resolves when it has its store and pipeline. */
  private spawn(): Promise<void> {
    const { config, store, options } = this;
    this.state = 'starting';
    this.posted = 0;
    this.received = 0;
    const here = fileURLToPath(import.meta.url);
    const fromSource = here.endsWith('.ts');
    const entry = pathToFileURL(here.replace(/capture-worker\.(ts|js)$/, `worker.${fromSource ? 'ts' : 'js'}`));
    const data: CaptureWorkerData = { config, env: { ...options.env }, logLevel: options.logLevel, restart: this.restarts > 0 };
    const transferList = [];
    if (this.relay) {
      const { port1, port2 } = new MessageChannel();
      this.relay.attach(port1);
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
    const worker = fromSource
      ? new Worker(BOOT_FROM_SOURCE, { eval: true, workerData: data, transferList })
      : new Worker(entry, { workerData: data, transferList });
    this.worker = worker;
    this.started = new Promise((resolve, reject) => {
      worker.once('message', (m: FromWorker) => {
        if (m.type !== 'ready') return reject(new Error(`capture worker sent ${m.type} before ready`));
        this.workerTid = m.tid;
        this.state = 'running';
        this.sendOutbox();
        resolve();
      });
      worker.once('error', reject);
    });
    this.started.catch(() => undefined);
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => options.log.error({ err }, 'capture worker failed'));
    clearInterval(this.schedulingTimer);
    this.inBackground = true;
    this.schedulingTimer = setInterval(() => this.adjustScheduling(), 250).unref();
    worker.on('exit', (code) => this.onExit(worker, code));
    return this.started;
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'coverageStored') {
      for (const id of m.ids) this.coverageSent.delete(id);
    } else if (m.type === 'dying') {
      this.state = 'down';
    } else if (m.type === 'health') {
      [this.lastHealth, this.received, this.storePid] = [m.health, m.received, m.storePid];
    } else if (m.type === 'reply') {
      [this.lastHealth, this.received, this.storePid] = [m.health, m.received, m.storePid];
      const waiter = this.waiters.get(m.id);
      this.waiters.delete(m.id);
      if (m.error) waiter?.reject(new Error(`capture worker: ${m.error}`));
      else waiter?.resolve(m.metrics);
    } else if (m.type === 'label') {
      this.options.recordLabels(m.labels).then(
        () => this.worker.postMessage({ type: 'labelDone', id: m.id }),
        (err: Error) => this.worker.postMessage({ type: 'labelDone', id: m.id, error: err.message }),
      );
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    // Its last messages (a health report naming what it settled) may still be on their way.
    setTimeout(() => this.afterExit(worker, code), 50);
  }

  private afterExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    clearInterval(this.schedulingTimer);
    const reason = `the capture worker exited (code ${code})`;
    for (const waiter of this.waiters.values()) waiter.reject(new Error(reason));
    this.waiters.clear();
    // A store process whose worker died without closing it keeps the data directory locked, and
    // the next worker could not open it. Its last batch, if any, was never acknowledged.
    if (this.storePid !== null && this.state !== 'stopped') {
      try {
        process.kill(this.storePid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.storePid = null;
    if (this.state === 'stopped') return;
    // What it had been given and had not yet stored, spilled or counted is gone with it.
    const lost = Math.max(0, this.posted - this.lastHealth.settled);
    this.previous.dropped += this.lastHealth.dropped + lost;
    this.previous.quarantined += this.lastHealth.quarantined;
    this.lastHealth = { ...this.lastHealth, queueDepth: 0, dropped: 0, quarantined: 0, settled: 0 };
    if (lost) this.options.metrics.captureRowsDropped.inc(lost);
    // Which series the lost ones belonged to died with the worker: counted in this minute, unlabelled.
    for (let i = 0; i < lost; i++) this.coverage.notCaptured(Date.now(), '', '', '');
    for (const rows of this.coverageSent.values()) {
      for (const r of rows) {
        this.coverage.add(r);
        this.coverageResent += r.requests;
      }
    }
    this.coverageSent.clear();
    this.state = 'down';
    this.restarts++;
    this.options.metrics.captureWorkerRestarts.inc();
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RESTART_BACKOFF_MS.max);
    this.options.log.error({ code, lost, restartInMs: delay, restarts: this.restarts }, `${reason}: restarting it`);
    setTimeout(() => {
      if (this.state === 'stopped') return;
      this.spawn().then(
        () => {
          this.options.log.info({ restarts: this.restarts }, 'capture worker restarted');
          // Healthy for a minute: the next death starts from the shortest delay again.
          setTimeout(() => this.state === 'running' && (this.backoffMs = RESTART_BACKOFF_MS.first), 60_000).unref();
          this.start();
        },
        (err: Error) => this.options.log.error({ err: err.message }, 'capture worker did not come back; trying again'),
      );
    }, delay).unref();
  }

  private adjustScheduling(): void {
    const behind = this.posted - this.received + this.lastHealth.queueDepth;
    const background = staysInBackground(behind, this.inBackground, this.config.capture.batchSize);
    if (background === this.inBackground) return;
    this.inBackground = background;
    void setProcessBackground(this.storePid, background);
    void setBackground(this.workerTid, background).then((changed) => {
      if (!changed) this.options.log.warn({ tid: this.workerTid, background }, 'could not change the capture worker\'s scheduling (needs Linux and chrt; leaving SCHED_IDLE may need RLIMIT_NICE)');
    });
    this.options.log.info({ behind, background }, background ? 'capture worker caught up: back to background priority' : 'capture worker behind: normal priority until it catches up');
  }

  /** Resolves once the first worker has its store and pipeline; rejects when it could not start. */
  ready(): Promise<void> {
    return this.firstStart;
  }

  /** Starts batching and spill replay; called once the schema is migrated. */
  start(): void {
    if (this.state === 'running') this.worker.postMessage({ type: 'start' });
  }

  enqueue(exchange: Exchange): void {
    const { ts, model, version, role } = exchange;
    this.coverage.request(ts, model, version, role);
    // The worker's own queue is bounded (then it spills); this bounds what waits for the worker to
    // take it, so a worker that cannot keep up cannot grow the proxy's memory without end.
    if (this.state === 'stopped') return this.refuse(exchange, 'the capture worker was stopped');
    const waiting = this.posted - this.received + this.outbox.length;
    if (shouldShed(waiting, this.channelBound, Math.random())) {
      // Never throws on the hot path: shed at random, counted per minute so coverage is known.
      this.shed++;
      this.options.metrics.captureRowsShed.inc({ reason: waiting >= this.channelBound ? 'queue_full' : 'overload' });
      this.coverage.notCaptured(ts, model, version, role);
      return;
    }
    const { posted, transfer } = toPosted(exchange);
    this.outbox.push(posted);
    this.outboxTransfer.push(transfer);
    // A message costs the proxy's thread more than the exchange it carries (the worker is woken
    // each time): exchanges go in groups, at most OUTBOX_MS late.
    if (this.outbox.length === 1 && this.outboxTimer === undefined) {
      this.outboxTimer = setTimeout(() => this.sendOutbox(), OUTBOX_MS);
    }
  }

  private refuse(exchange: Exchange, reason: string): void {
    this.droppedHere++;
    this.options.metrics.captureRowsDropped.inc();
    this.coverage.notCaptured(exchange.ts, exchange.model, exchange.version, exchange.role);
    this.options.log.error({ requestId: exchange.requestId, reason }, 'sample dropped');
  }

  private sendOutbox(): void {
    clearTimeout(this.outboxTimer);
    this.outboxTimer = undefined;
    // While a worker restarts, exchanges wait here (bounded by enqueue) for the next one.
    if (this.outbox.length === 0 || this.state !== 'running') return;
    try {
      this.worker.postMessage({ type: 'exchanges', exchanges: this.outbox }, this.outboxTransfer);
      this.posted += this.outbox.length;
    } catch (err) {
      // Everything in an exchange is plain data; should one still not clone, lose only it.
      this.postOneByOne(err as Error);
    }
    this.outbox = [];
    this.outboxTransfer = [];
  }

  private postOneByOne(groupError: Error): void {
    this.options.log.error({ err: groupError.message }, 'capture message could not be posted; posting its exchanges one by one');
    this.outbox.forEach((posted, i) => {
      try {
        this.worker.postMessage({ type: 'exchanges', exchanges: [posted] }, [this.outboxTransfer[i]].filter((b) => b.byteLength > 0));
        this.posted++;
      } catch (err) {
        this.refuse(posted as unknown as Exchange, `cannot be posted to the capture worker: ${(err as Error).message}`);
      }
    });
  }

  private sendCoverage(): void {
    if (this.state !== 'running' || this.coverage.size === 0) return;
    const id = this.nextCoverageId++;
    const rows = this.coverage.take();
    this.coverageSent.set(id, rows);
    this.worker.postMessage({ type: 'coverage', id, rows });
  }

  /** As last reported by the worker (it reports every 250 ms and with every reply), plus what the owner knows. */
  health(): CaptureHealth {
    const h = this.lastHealth;
    return {
      ...h,
      dropped: h.dropped + this.previous.dropped + this.droppedHere,
      quarantined: h.quarantined + this.previous.quarantined,
      worker: this.state,
      workerRestarts: this.restarts,
      shed: this.shed,
      storePid: this.storePid,
      coverageResent: this.coverageResent,
    };
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

  /**
   * Fault injection for the reliability tests (only with TUNEWATCH_FAULT_INJECTION=1): `throw`
   * raises an uncaught exception in the worker, `exit` ends its thread at once.
   */
  injectFault(kind: 'throw' | 'exit'): void {
    this.worker.postMessage({ type: 'fault', kind });
  }

  /** Writes or spills everything, lets a judge finish, then stops the worker. */
  async drain(): Promise<void> {
    if (this.state === 'stopped') return;
    clearInterval(this.coverageTimer);
    if (this.state !== 'running') await this.started.catch(() => undefined);
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    // Shutting down: finish at normal priority.
    await Promise.all([setBackground(this.workerTid, false), setProcessBackground(this.storePid, false)]);
    this.sendCoverage();
    await this.call('drain');
    this.state = 'stopped';
    clearInterval(this.schedulingTimer);
    await this.worker.terminate();
  }

  /** The worker's metrics (capture, SLI events, token usage) for the owner's /metrics. */
  async metrics(): Promise<ReportedMetrics> {
    if (this.state !== 'running') return [];
    return (await this.call('metrics').catch(() => undefined)) ?? [];
  }

  private async call(call: WorkerCall): Promise<ReportedMetrics | undefined> {
    // A worker that is restarting answers once it is back.
    for (let waited = 0; this.state === 'starting' || this.state === 'down'; waited += 50) {
      if (waited > 30_000) throw new Error('the capture worker has not come back after 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.state === 'stopped') throw new Error('the capture worker was stopped');
    this.sendOutbox(); // the call must come after every exchange enqueued before it
    if (call === 'flush') this.sendCoverage(); // and a flush writes the request counts so far too
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'call', id, call });
    });
  }
}

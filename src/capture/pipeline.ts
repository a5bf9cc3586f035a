import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import type { Metrics } from '../metrics/registry.js';
import { insertRows, type Store } from '../store/client.js';
import { TABLES } from '../store/tables.js';
import type { BatchProcessor, CapturedBatch } from './processor.js';
import type { Exchange } from './sample.js';
import type { SpillLog } from './spill.js';

/** Where batches go. The ClickHouse sink is the real one; the interface keeps the pipeline readable without I/O. */
export interface BatchSink {
  insert(batch: CapturedBatch, dedupToken: string): Promise<void>;
}

export function clickhouseSink(store: Store): BatchSink {
  return {
    async insert(batch, dedupToken) {
      // A retried or replayed batch has the same tokens, so ClickHouse stores each part once,
      // even when one table's rows went in and the other's did not.
      // Verdicts first: a label is taken once its sample is found, and its rollup change assumes the
      // automatic verdicts are already stored. Samples first would let a label land in between and
      // both it and the later automatic verdict count in the SLI rollup.
      await insertRows(store, TABLES.evaluations, batch.evaluations, `${dedupToken}:${TABLES.evaluations}`);
      await insertRows(store, TABLES.samples, batch.samples, `${dedupToken}:${TABLES.samples}`);
    },
  };
}

export interface PipelineOptions {
  queueSize: number;
  batchSize: number;
  flushIntervalMs: number;
  maxRetries: number;
  retryBaseMs: number;
  replayIntervalMs: number;
}

export interface PipelineLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface PipelineHealth {
  queueDepth: number;
  spillBatches: number;
  spillBytes: number;
  spillHasRoom: boolean;
  lastInsertOk: boolean;
  dropped: number;
}

export function dedupToken(batch: CapturedBatch): string {
  const hash = createHash('sha256');
  for (const r of batch.samples) hash.update(r.request_id).update('\n');
  return hash.digest('hex');
}

/** How long processing may hold the event loop before letting requests through (see forEachInSlices). */
const PROCESS_SLICE_MS = 0.25;

/** Several processed exchanges as one batch. */
function merged(units: CapturedBatch[]): CapturedBatch {
  return { samples: units.flatMap((u) => u.samples), evaluations: units.flatMap((u) => u.evaluations) };
}

/**
 * Bounded queue → batches (by size or time) → insert, with retry and backoff, then the spill log,
 * replayed in order when the store answers again. All store work runs on one serial chain so
 * batches and replays never interleave.
 *
 * Each exchange is processed (judged, redacted) soon after its answer was sent, a few at a time,
 * rather than a whole batch at flush time: the CPU work is spread evenly instead of arriving in a
 * burst every flush that requests queue behind, and the raw exchange (request and answer bytes) dies
 * young instead of surviving into the old generation until the flush.
 */
export class CapturePipeline {
  /** Exchanges not processed yet. */
  private incoming: Exchange[] = [];
  /** Processed exchanges (one sample each, with its verdicts) waiting for a batch. */
  private ready: CapturedBatch[] = [];
  private readonly inProgress = new Set<Promise<void>>();
  private processScheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private lastInsertOk = true;
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly sink: BatchSink,
    private readonly process: BatchProcessor,
    private readonly spill: SpillLog<CapturedBatch>,
    private readonly options: PipelineOptions,
    private readonly metrics?: Metrics,
    private readonly log?: PipelineLog,
  ) {}

  start(): void {
    this.flushTimer = setInterval(() => this.scheduleFlush(), this.options.flushIntervalMs).unref();
    this.replayTimer = setInterval(() => {
      if (this.spill.pendingBatches > 0) this.enqueueWork(() => this.replay());
    }, this.options.replayIntervalMs).unref();
    if (this.spill.pendingBatches > 0) this.enqueueWork(() => this.replay());
  }

  /** Called on the proxy's hot path: O(1), never waits for I/O. */
  enqueue(exchange: Exchange): void {
    this.incoming.push(exchange);
    this.metrics?.captureQueueDepth.set(this.depth());
    if (!this.processScheduled) {
      this.processScheduled = true;
      setImmediate(() => this.processSome());
    }
    if (this.depth() > this.options.queueSize) this.relieve();
  }

  private depth(): number {
    return this.incoming.length + this.ready.length;
  }

  /** Memory bound reached while the store is slow: move the oldest samples to the spill log. */
  private relieve(): void {
    const excess = this.depth() - this.options.queueSize + this.options.batchSize;
    const units = this.ready.splice(0, excess);
    if (units.length) return this.enqueueWork(() => this.spillOrDrop(merged(units)));
    const raw = this.incoming.splice(0, excess);
    this.enqueueWork(async () => this.spillOrDrop(await this.process(raw)));
  }

  /** Processes exchanges for one short slice, then lets the event loop run and comes back. */
  private processSome(): void {
    this.processScheduled = false;
    const start = performance.now();
    let taken = 0;
    while (taken < this.incoming.length && (taken === 0 || performance.now() - start < PROCESS_SLICE_MS)) {
      this.processOne(this.incoming[taken++]);
    }
    this.incoming.splice(0, taken);
    if (this.incoming.length && !this.processScheduled) {
      this.processScheduled = true;
      setImmediate(() => this.processSome());
    }
  }

  private processOne(exchange: Exchange): void {
    const done: Promise<void> = this.process([exchange]).then(
      (unit) => {
        this.ready.push(unit);
        if (this.ready.length >= this.options.batchSize) this.scheduleFlush();
      },
      (err: Error) => {
        this.dropped++;
        this.metrics?.captureRowsDropped.inc();
        this.log?.error({ err: err.message, requestId: exchange.requestId }, 'sample dropped: processing failed');
      },
    );
    this.inProgress.add(done);
    void done.finally(() => this.inProgress.delete(done));
  }

  /** Processes everything received so far, without slicing (flush and shutdown). */
  private async processAll(): Promise<void> {
    while (this.incoming.length || this.inProgress.size) {
      const all = this.incoming.splice(0);
      for (const exchange of all) this.processOne(exchange);
      await Promise.all([...this.inProgress]);
    }
  }

  health(): PipelineHealth {
    return {
      queueDepth: this.depth(),
      spillBatches: this.spill.pendingBatches,
      spillBytes: this.spill.pendingBytes,
      spillHasRoom: this.spill.hasRoomFor(1),
      lastInsertOk: this.lastInsertOk,
      dropped: this.dropped,
    };
  }

  /** Waits until everything enqueued so far has been written or spilled. */
  async flush(): Promise<void> {
    await this.processAll();
    while (this.ready.length > 0) {
      this.enqueueWork(() => this.writeNextBatch());
      await this.chain;
    }
    await this.chain;
  }

  /** Replays the spill log now (normally done on a timer). Resolves when done or when the store refuses. */
  async replayNow(): Promise<void> {
    this.enqueueWork(() => this.replay());
    await this.chain;
  }

  /** Shutdown: stop timers, write or spill everything still in memory, try one last replay. */
  async drain(): Promise<void> {
    this.stopped = true;
    clearInterval(this.flushTimer);
    clearInterval(this.replayTimer);
    await this.flush();
    if (this.spill.pendingBatches > 0) await this.replayNow();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.ready.length === 0) return;
    this.flushScheduled = true;
    this.enqueueWork(async () => {
      this.flushScheduled = false;
      await this.writeNextBatch();
      if (this.ready.length >= this.options.batchSize) this.scheduleFlush();
    });
  }

  private enqueueWork(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err) => this.log?.error({ err }, 'capture pipeline step failed'));
  }

  private async writeNextBatch(): Promise<void> {
    const units = this.ready.splice(0, this.options.batchSize);
    this.metrics?.captureQueueDepth.set(this.depth());
    if (units.length === 0) return;
    const captured = merged(units);
    // While older batches wait in the spill log, newer ones queue behind them to keep order.
    if (this.spill.pendingBatches > 0) {
      await this.spillOrDrop(captured);
      await this.replay();
      return;
    }
    if (await this.insertWithRetry(captured)) return;
    await this.spillOrDrop(captured);
  }

  private async insertWithRetry(batch: CapturedBatch): Promise<boolean> {
    const token = dedupToken(batch);
    const rows = batch.samples;
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      try {
        await this.sink.insert(batch, token);
        this.lastInsertOk = true;
        this.metrics?.captureBatches.inc({ outcome: 'written' });
        this.metrics?.captureRowsWritten.inc(rows.length);
        return true;
      } catch (err) {
        this.lastInsertOk = false;
        this.metrics?.captureInsertFailures.inc();
        this.log?.warn({ err: (err as Error).message, attempt, rows: rows.length }, 'sample insert failed');
        if (attempt < this.options.maxRetries && !this.stopped) {
          const backoff = this.options.retryBaseMs * 2 ** attempt * (0.5 + Math.random() / 2);
          await new Promise((resolve) => setTimeout(resolve, backoff));
        }
      }
    }
    return false;
  }

  private async spillOrDrop(batch: CapturedBatch): Promise<void> {
    const rows = batch.samples;
    let spilled = false;
    try {
      spilled = await this.spill.append(batch);
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'spill log write failed');
    }
    if (spilled) {
      this.metrics?.captureBatches.inc({ outcome: 'spilled' });
      this.metrics?.captureRowsSpilled.inc(rows.length);
    } else {
      this.dropped += rows.length;
      this.metrics?.captureBatches.inc({ outcome: 'dropped' });
      this.metrics?.captureRowsDropped.inc(rows.length);
      this.log?.error({ rows: rows.length, requestIds: rows.slice(0, 5).map((r) => r.request_id) }, 'spill log full: samples dropped');
    }
    this.metrics?.captureSpillBytes.set(this.spill.pendingBytes);
  }

  /** Replays spilled batches oldest first; stops at the first refusal and leaves the rest for later. */
  private async replay(): Promise<void> {
    for (let batch = await this.spill.peek(); batch; batch = await this.spill.peek()) {
      try {
        await this.sink.insert(batch, dedupToken(batch));
      } catch (err) {
        this.lastInsertOk = false;
        this.metrics?.captureInsertFailures.inc();
        this.log?.warn({ err: (err as Error).message, pendingBatches: this.spill.pendingBatches }, 'spill replay deferred: store still refuses');
        return;
      }
      this.lastInsertOk = true;
      await this.spill.shift();
      this.metrics?.captureBatches.inc({ outcome: 'replayed' });
      this.metrics?.captureRowsReplayed.inc(batch.samples.length);
      this.metrics?.captureSpillBytes.set(this.spill.pendingBytes);
    }
  }
}

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
      // even when the samples went in and the evaluations did not.
      await insertRows(store, TABLES.samples, batch.samples, `${dedupToken}:${TABLES.samples}`);
      await insertRows(store, TABLES.evaluations, batch.evaluations, `${dedupToken}:${TABLES.evaluations}`);
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

/**
 * Bounded queue → batches (by size or time) → insert, with retry and backoff, then the spill log,
 * replayed in order when the store answers again. All store work runs on one serial chain so
 * batches and replays never interleave.
 */
export class CapturePipeline {
  private queue: Exchange[] = [];
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
    this.queue.push(exchange);
    this.metrics?.captureQueueDepth.set(this.queue.length);
    if (this.queue.length >= this.options.batchSize) this.scheduleFlush();
    if (this.queue.length > this.options.queueSize) {
      // Memory bound reached while the store is slow: move the oldest samples to the spill log.
      const overflow = this.queue.splice(0, this.queue.length - this.options.queueSize + this.options.batchSize);
      this.enqueueWork(async () => this.spillOrDrop(await this.process(overflow)));
    }
  }

  health(): PipelineHealth {
    return {
      queueDepth: this.queue.length,
      spillBatches: this.spill.pendingBatches,
      spillBytes: this.spill.pendingBytes,
      spillHasRoom: this.spill.hasRoomFor(1),
      lastInsertOk: this.lastInsertOk,
      dropped: this.dropped,
    };
  }

  /** Waits until everything enqueued so far has been written or spilled. */
  async flush(): Promise<void> {
    while (this.queue.length > 0) {
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
    if (this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    this.enqueueWork(async () => {
      this.flushScheduled = false;
      await this.writeNextBatch();
      if (this.queue.length >= this.options.batchSize) this.scheduleFlush();
    });
  }

  private enqueueWork(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err) => this.log?.error({ err }, 'capture pipeline step failed'));
  }

  private async writeNextBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.options.batchSize);
    this.metrics?.captureQueueDepth.set(this.queue.length);
    if (batch.length === 0) return;
    const captured = await this.process(batch);
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

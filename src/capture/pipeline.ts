import { createHash } from 'node:crypto';
import { requestLabels, type Metrics } from '../metrics/registry.js';
import type { Store } from '../store/client.js';
import { TABLES } from '../store/tables.js';
import { toSampleRow, type Exchange, type SampleRow } from './sample.js';
import type { SpillLog } from './spill.js';

/** Where batches go. The ClickHouse sink is the real one; the interface exists so the pipeline stays I/O-free to read. */
export interface SampleSink {
  insert(rows: SampleRow[], dedupToken: string): Promise<void>;
}

export function clickhouseSink(store: Store): SampleSink {
  return {
    async insert(rows, dedupToken) {
      await store.client.insert({
        table: TABLES.samples,
        values: rows,
        format: 'JSONEachRow',
        // A retried or replayed batch has the same token, so ClickHouse stores it once.
        clickhouse_settings: { insert_deduplication_token: dedupToken },
      });
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

const TRANSFORM_CHUNK = 100; // rows redacted between event-loop yields, to keep the proxy's p99 flat

export function dedupToken(rows: SampleRow[]): string {
  const hash = createHash('sha256');
  for (const r of rows) hash.update(r.request_id).update('\n');
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
    private readonly sink: SampleSink,
    private readonly spill: SpillLog<SampleRow>,
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
      this.enqueueWork(async () => this.spillOrDrop(await this.transform(overflow)));
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
    const rows = await this.transform(batch);
    // While older batches wait in the spill log, newer ones queue behind them to keep order.
    if (this.spill.pendingBatches > 0) {
      await this.spillOrDrop(rows);
      await this.replay();
      return;
    }
    if (await this.insertWithRetry(rows)) return;
    await this.spillOrDrop(rows);
  }

  private async transform(batch: Exchange[]): Promise<SampleRow[]> {
    const rows: SampleRow[] = [];
    for (let i = 0; i < batch.length; i += TRANSFORM_CHUNK) {
      for (const ex of batch.slice(i, i + TRANSFORM_CHUNK)) rows.push(this.toRow(ex));
      if (i + TRANSFORM_CHUNK < batch.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return rows;
  }

  /** Redacts the exchange into a row; token usage is observed here, where the answer is parsed. */
  private toRow(ex: Exchange): SampleRow {
    const row = toSampleRow(ex);
    if (this.metrics && ex.statusCode < 400 && ex.response.kind !== 'none') {
      const labels = requestLabels({ model: row.model, version: row.version, role: row.role, statusCode: row.status_code, endpoint: row.endpoint });
      this.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, row.input_tokens);
      this.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, row.output_tokens);
    }
    return row;
  }

  private async insertWithRetry(rows: SampleRow[]): Promise<boolean> {
    const token = dedupToken(rows);
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      try {
        await this.sink.insert(rows, token);
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

  private async spillOrDrop(rows: SampleRow[]): Promise<void> {
    if (await this.spill.append(rows)) {
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
    for (let rows = await this.spill.peek(); rows; rows = await this.spill.peek()) {
      try {
        await this.sink.insert(rows, dedupToken(rows));
      } catch (err) {
        this.lastInsertOk = false;
        this.metrics?.captureInsertFailures.inc();
        this.log?.warn({ err: (err as Error).message, pendingBatches: this.spill.pendingBatches }, 'spill replay deferred: store still refuses');
        return;
      }
      this.lastInsertOk = true;
      await this.spill.shift();
      this.metrics?.captureBatches.inc({ outcome: 'replayed' });
      this.metrics?.captureRowsReplayed.inc(rows.length);
      this.metrics?.captureSpillBytes.set(this.spill.pendingBytes);
    }
  }
}

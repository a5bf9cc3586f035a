import { performance } from 'node:perf_hooks';
import type { Metrics } from '../metrics/registry.js';
import type { BatchProcessor, CapturedBatch } from './processor.js';
import type { Exchange } from './sample.js';
import { isRowRejection, storeErrorInfo } from '../store/errors.js';
import { BatchInsertError, isolateRejected } from './isolate.js';
import { dedupToken, type BatchSink } from './sink.js';
import type { QuarantineFile } from './quarantine.js';
import { SpillCorruptError, type SpillLog } from './spill.js';

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

export interface PipelineExtras {
  /** Where rows the store rejects go (without one they are dropped and counted). */
  quarantine?: QuarantineFile;
  /** Called with samples that will not be stored (dropped or quarantined), for the coverage count. */
  onLost?(rows: { ts: number; model: string; version: string; role: string }[]): void;
  /** Called when more exchanges are settled (stored, spilled, quarantined or dropped). */
  onSettled?(): void;
}

export interface PipelineHealth {
  queueDepth: number;
  spillBatches: number;
  spillBytes: number;
  spillHasRoom: boolean;
  /** False after a spill write failed (folder gone or unwritable). */
  spillWritable: boolean;
  lastInsertOk: boolean;
  /** Since when inserts have been failing (epoch ms), null while they succeed. */
  storeFailingSince: number | null;
  dropped: number;
  quarantined: number;
  /**
   * Exchanges accounted for: stored, spilled, quarantined or dropped (and counted). An owner that
   * loses the pipeline knows what it had handed over beyond this.
   */
  settled: number;
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
  private storeFailingSince: number | null = null;
  private dropped = 0;
  private quarantined = 0;
  private settled = 0;
  private stopped = false;

  constructor(
    private readonly sink: BatchSink,
    private readonly process: BatchProcessor,
    private readonly spill: SpillLog<CapturedBatch>,
    private readonly options: PipelineOptions,
    private readonly metrics?: Metrics,
    private readonly log?: PipelineLog,
    private readonly extras: PipelineExtras = {},
  ) {}

  private get quarantine(): QuarantineFile | undefined {
    return this.extras.quarantine;
  }

  private settle(n: number): void {
    this.settled += n;
    this.extras.onSettled?.();
  }

  /** Tells the coverage count about samples that will not be stored. */
  private lost(rows: { ts: number; model: string; version: string; role: string }[]): void {
    if (rows.length) this.extras.onLost?.(rows);
  }

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
        this.settle(1);
        this.metrics?.captureRowsDropped.inc();
        this.lost([exchange]);
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
      spillWritable: this.spill.writable,
      lastInsertOk: this.lastInsertOk,
      storeFailingSince: this.storeFailingSince,
      dropped: this.dropped,
      quarantined: this.quarantined,
      settled: this.settled,
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
    const failure = await this.insertWithRetry(captured);
    if (!failure) {
      this.settle(captured.samples.length);
      return;
    }
    const left = isRowRejection(failure.cause) ? await this.isolate(captured, failure, false) : captured;
    if (left) await this.spillOrDrop(left);
  }

  private storeOk(): void {
    this.lastInsertOk = true;
    this.storeFailingSince = null;
  }

  private storeFailed(): void {
    this.lastInsertOk = false;
    this.storeFailingSince ??= Date.now();
    this.metrics?.captureInsertFailures.inc();
  }

  /** Inserts, retrying with backoff; the last failure when it never went in. A rejection is not retried. */
  private async insertWithRetry(batch: CapturedBatch): Promise<BatchInsertError | null> {
    const token = dedupToken(batch);
    const rows = batch.samples;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sink.insert(batch, token);
        this.storeOk();
        this.metrics?.captureBatches.inc({ outcome: 'written' });
        this.metrics?.captureRowsWritten.inc(rows.length);
        return null;
      } catch (err) {
        const failure = err instanceof BatchInsertError ? err : new BatchInsertError('samples', err);
        if (isRowRejection(failure.cause)) return failure;
        this.storeFailed();
        this.log?.warn({ err: failure.message, attempt, rows: rows.length }, 'sample insert failed');
        if (attempt >= this.options.maxRetries || this.stopped) return failure;
        const backoff = this.options.retryBaseMs * 2 ** attempt * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  /**
   * The store rejected something in this batch: store every sample it takes, quarantine the ones it
   * rejects with its reason. Returns what is left unstored because the store failed midway, if anything.
   */
  private async isolate(batch: CapturedBatch, failure: BatchInsertError, fromSpill: boolean): Promise<CapturedBatch | null> {
    const insert = (part: CapturedBatch, options: { skipEvaluations: boolean }) => this.sink.insert(part, dedupToken(part), options);
    const { rejected, unstored } = await isolateRejected(batch, insert, failure);
    const rejectedRows = rejected.reduce((n, r) => n + r.batch.samples.length, 0);
    const unstoredRows = unstored.reduce((n, u) => n + u.samples.length, 0);
    const stored = batch.samples.length - rejectedRows - unstoredRows;
    if (stored > 0) {
      this.storeOk();
      this.metrics?.captureRowsWritten.inc(stored);
      if (!fromSpill) this.settle(stored);
    }
    if (rejected.length) {
      const kept = await this.quarantine?.append(rejected).catch((err: Error) => {
        this.log?.error({ err: err.message }, 'quarantine write failed');
        return false;
      });
      const first = storeErrorInfo(rejected[0].error);
      if (kept) {
        this.quarantined += rejectedRows;
        this.metrics?.captureRowsQuarantined.inc(rejectedRows);
      } else {
        this.dropped += rejectedRows;
        this.metrics?.captureRowsDropped.inc(rejectedRows);
      }
      if (!fromSpill) this.settle(rejectedRows);
      this.lost(rejected.flatMap((r) => r.batch.samples));
      this.log?.error(
        { rows: rejectedRows, requestIds: rejected.slice(0, 5).flatMap((r) => r.batch.samples.map((s) => s.request_id)), reason: first.message.slice(0, 500), type: first.type },
        kept ? 'store rejected samples: quarantined' : 'store rejected samples and the quarantine is full: dropped',
      );
    }
    return unstored.length ? merged(unstored) : null;
  }

  private async spillOrDrop(batch: CapturedBatch): Promise<void> {
    const rows = batch.samples;
    let spilled = false;
    try {
      spilled = await this.spill.append(batch);
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'spill log write failed');
    }
    this.settle(rows.length);
    if (spilled) {
      this.metrics?.captureBatches.inc({ outcome: 'spilled' });
      this.metrics?.captureRowsSpilled.inc(rows.length);
    } else {
      this.dropped += rows.length;
      this.lost(rows);
      this.metrics?.captureBatches.inc({ outcome: 'dropped' });
      this.metrics?.captureRowsDropped.inc(rows.length);
      this.log?.error({ rows: rows.length, requestIds: rows.slice(0, 5).map((r) => r.request_id) }, this.spill.writable ? 'spill log full: samples dropped' : 'spill log not writable: samples dropped');
    }
    this.metrics?.captureSpillBytes.set(this.spill.pendingBytes);
  }

  /**
   * Replays spilled batches oldest first; stops at the first refusal and leaves the rest for later.
   * A batch the store rejects rows of is not retried forever: its good rows are stored, the rejected
   * ones quarantined, and replay goes on, so the log never blocks behind one batch.
   */
  private async replay(): Promise<void> {
    for (;;) {
      let batch: CapturedBatch | null;
      try {
        batch = await this.spill.peek();
      } catch (err) {
        if (!(err instanceof SpillCorruptError)) throw err;
        await this.quarantine?.appendRaw(err.text, err.message).catch(() => undefined);
        this.log?.error({ file: err.file, err: err.message }, 'unreadable spill file moved to the quarantine');
        await this.spill.shift();
        continue;
      }
      if (!batch) return;
      try {
        await this.sink.insert(batch, dedupToken(batch));
      } catch (err) {
        const failure = err instanceof BatchInsertError ? err : new BatchInsertError('samples', err);
        if (!isRowRejection(failure.cause)) {
          this.storeFailed();
          this.log?.warn({ err: failure.message, pendingBatches: this.spill.pendingBatches }, 'spill replay deferred: store still refuses');
          return;
        }
        const left = await this.isolate(batch, failure, true);
        if (left) {
          await this.spill.replaceFirst(left);
          return;
        }
        await this.spill.shift();
        this.metrics?.captureSpillBytes.set(this.spill.pendingBytes);
        continue;
      }
      this.storeOk();
      await this.spill.shift();
      this.metrics?.captureBatches.inc({ outcome: 'replayed' });
      this.metrics?.captureRowsReplayed.inc(batch.samples.length);
      this.metrics?.captureSpillBytes.set(this.spill.pendingBytes);
    }
  }
}

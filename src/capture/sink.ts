import { createHash } from 'node:crypto';
import { insertRows, type Store } from '../store/client.js';
import { TABLES } from '../store/tables.js';
import { BatchInsertError } from './isolate.js';
import type { CapturedBatch } from './processor.js';

/** Where batches go. The ClickHouse sink is the real one; the interface keeps the pipeline readable without I/O. */
export interface BatchSink {
  /** Throws BatchInsertError naming the table whose insert failed. */
  insert(batch: CapturedBatch, dedupToken: string, options?: { skipEvaluations?: boolean }): Promise<void>;
}

export function clickhouseSink(store: Store): BatchSink {
  return {
    async insert(batch, dedupToken, options = {}) {
      // A retried or replayed batch has the same tokens, so ClickHouse stores each part once,
      // even when one table's rows went in and the other's did not.
      // Verdicts first: a label is taken once its sample is found, and its rollup change assumes the
      // automatic verdicts are already stored. Samples first would let a label land in between and
      // both it and the later automatic verdict count in the SLI rollup.
      if (!options.skipEvaluations) {
        await insertRows(store, TABLES.evaluations, batch.evaluations, `${dedupToken}:${TABLES.evaluations}`).catch((err) => {
          throw new BatchInsertError('evaluations', err);
        });
      }
      await insertRows(store, TABLES.samples, batch.samples, `${dedupToken}:${TABLES.samples}`).catch((err) => {
        throw new BatchInsertError('samples', err);
      });
    },
  };
}

/** The batch's deduplication token: the same rows give the same token, however often they are sent. */
export function dedupToken(batch: CapturedBatch): string {
  const hash = createHash('sha256');
  for (const r of batch.samples) hash.update(r.request_id).update('\n');
  return hash.digest('hex');
}

import type { EvaluationRow } from '../evaluate/resolve.js';
import { isRowRejection } from '../store/errors.js';
import type { CapturedBatch } from './processor.js';

/** Which table's insert failed: a batch's verdicts go in before its samples (see clickhouseSink). */
export type BatchTable = 'evaluations' | 'samples';

/** An insert failure that knows which part of the batch failed. */
export class BatchInsertError extends Error {
  constructor(
    readonly table: BatchTable,
    readonly cause: unknown,
  ) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'BatchInsertError';
  }
}

/** Inserts a batch; `skipEvaluations` when its verdicts are already stored. */
export type InsertBatch = (batch: CapturedBatch, options: { skipEvaluations: boolean }) => Promise<void>;

export interface Isolated {
  /** Single samples (with their verdicts) the store rejects for what they contain, and why. */
  rejected: { batch: CapturedBatch; error: unknown }[];
  /** Parts not stored because the store itself failed midway; kept for later. */
  unstored: CapturedBatch[];
}

/** Splits a batch in two halves by sample; each sample's verdicts travel with it. */
export function halves(batch: CapturedBatch): [CapturedBatch, CapturedBatch] {
  const middle = Math.ceil(batch.samples.length / 2);
  const first = new Set(batch.samples.slice(0, middle).map((s) => s.request_id));
  const left: EvaluationRow[] = [];
  const right: EvaluationRow[] = [];
  for (const e of batch.evaluations) (first.has(e.request_id) ? left : right).push(e);
  return [
    { samples: batch.samples.slice(0, middle), evaluations: left },
    { samples: batch.samples.slice(middle), evaluations: right },
  ];
}

/**
 * A batch the store rejected: find the rows it rejects by halving, store the rest. A rejection
 * is deterministic, so a half that fails again is split again, down to single samples: about
 * 2·log2(n) inserts for one bad row among n. A failure that is not a rejection (the store went
 * away midway) stops the search and leaves the parts not yet tried for later.
 */
export async function isolateRejected(batch: CapturedBatch, insert: InsertBatch, failure: BatchInsertError): Promise<Isolated> {
  const result: Isolated = { rejected: [], unstored: [] };
  // A failure in the samples insert means this batch's verdicts are stored already.
  await search(batch, failure.table === 'samples', failure, insert, result);
  return result;
}

async function search(batch: CapturedBatch, evaluationsStored: boolean, failure: BatchInsertError, insert: InsertBatch, result: Isolated): Promise<void> {
  if (batch.samples.length <= 1) {
    result.rejected.push({ batch, error: failure.cause });
    return;
  }
  for (const half of halves(batch)) {
    if (result.unstored.length) {
      result.unstored.push(half);
      continue;
    }
    try {
      await insert(half, { skipEvaluations: evaluationsStored });
    } catch (err) {
      const e = err instanceof BatchInsertError ? err : new BatchInsertError('samples', err);
      if (!isRowRejection(e.cause)) {
        result.unstored.push(half);
        continue;
      }
      await search(half, evaluationsStored || e.table === 'samples', e, insert, result);
    }
  }
}

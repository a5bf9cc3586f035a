// Messages between the proxy thread and the capture worker (capture-worker.ts ↔ worker.ts).
import type { MessagePort } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Label } from '../evaluate/labels.js';
import type { PipelineHealth } from './pipeline.js';
import type { CoverageRow } from './coverage.js';
import type { Exchange } from './sample.js';

export interface CaptureWorkerData {
  config: Config;
  env: Record<string, string | undefined>;
  logLevel: string;
  /** A store the owning thread has open: the worker's calls are relayed to it over this port. */
  storePort?: MessagePort;
  storeLocation?: string;
  /** The worker opens the embedded store and serves the owning thread's calls on this port. */
  serveStorePort?: MessagePort;
  /** True when this worker replaces one that died (its store may take a moment to be released). */
  restart?: boolean;
  /** Set when running from source: tsx's ESM API and the worker module to load after registering it. */
  tsxApi?: string;
  entry?: string;
}

/** An exchange as posted: the answer's bytes in one standalone buffer, so the post copies nothing else. */
export type PostedExchange = Omit<Exchange, 'response'> & { response: { kind: Exchange['response']['kind']; body: Uint8Array; truncated?: boolean } };

export type WorkerCall = 'flush' | 'replayNow' | 'drain' | 'metrics';

export type ToWorker =
  | { type: 'start' }
  | { type: 'exchanges'; exchanges: PostedExchange[] }
  | { type: 'call'; id: number; call: WorkerCall }
  | { type: 'labelDone'; id: number; error?: string }
  /** The hot path's per-minute request counts, for capture_coverage_1m. */
  | { type: 'coverage'; id: number; rows: CoverageRow[] }
  /** Reliability tests only (TUNEWATCH_FAULT_INJECTION=1). */
  | { type: 'fault'; kind: 'throw' | 'exit' };

export type FromWorker =
  /** tid: the worker thread's task id, so the owner can change its scheduling (null off Linux). */
  | { type: 'ready'; tid: number | null }
  /** These coverage messages are in the store. */
  | { type: 'coverageStored'; ids: number[] }
  /** An uncaught exception: the worker saves what it holds and exits; send it nothing more. */
  | { type: 'dying' }
  /** received: exchanges taken off the channel so far. */
  | { type: 'health'; health: PipelineHealth; received: number; storePid: number | null }
  | { type: 'reply'; id: number; health: PipelineHealth; received: number; storePid: number | null; metrics?: MetricObjectWithValues<MetricValue<string>>[]; error?: string }
  /** A judge's verdicts, written by the owner's LabelWriter so they serialise with human labels. */
  | { type: 'label'; id: number; labels: Label[] };

/**
 * Copies the answer's chunks into one fresh buffer. Buffers from sockets are views into larger pooled
 * ones, and posting a view would copy its whole backing store; a fresh one can be transferred.
 */
export function toPosted(ex: Exchange): { posted: PostedExchange; transfer: ArrayBuffer } {
  const { chunks, kind, truncated } = ex.response;
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return { posted: { ...ex, response: truncated ? { kind, body, truncated } : { kind, body } }, transfer: body.buffer };
}

export function fromPosted(posted: PostedExchange): Exchange {
  const { body, kind, truncated } = posted.response;
  const chunks = body.length ? [Buffer.from(body.buffer, body.byteOffset, body.byteLength)] : [];
  return { ...posted, response: truncated ? { kind, chunks, truncated } : { kind, chunks } };
}

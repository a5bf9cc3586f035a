// The feedback loop's logs (retrain_queue, retrain_jobs): appended to, never updated. An item's or a
// job's current state is its latest row.
import type { Failure, Job, JobEvent, QueueItem, Target } from '../feedback/types.js';
import type { QueueState } from '../feedback/states.js';
import { insertRows, type Store } from './client.js';
import { TABLES } from './tables.js';

const NUMBERS = { output_format_json_quote_64bit_integers: 0 } as const;

interface QueueRow {
  ts: number;
  model: string;
  request_id: string;
  version: string;
  sample_ts: number;
  state: QueueState;
  reason: string;
  failures: string;
  target: string;
  target_from: string;
  target_request_id: string;
}

function toQueueRow(item: QueueItem): QueueRow {
  return {
    ts: item.ts,
    model: item.model,
    request_id: item.requestId,
    version: item.version,
    sample_ts: item.sampleTs,
    state: item.state,
    reason: item.reason,
    failures: JSON.stringify(item.failures),
    target: item.target?.text ?? '',
    target_from: item.target?.from ?? '',
    target_request_id: item.target?.requestId ?? '',
  };
}

function fromQueueRow(r: QueueRow): QueueItem {
  const target: Target | null = r.target_from ? { text: r.target, from: r.target_from as Target['from'], ...(r.target_request_id ? { requestId: r.target_request_id } : {}) } : null;
  return {
    requestId: r.request_id,
    model: r.model,
    version: r.version,
    sampleTs: Number(r.sample_ts),
    state: r.state,
    reason: r.reason,
    failures: parseJson<Failure[]>(r.failures, []),
    target,
    ts: Number(r.ts),
  };
}

export async function appendQueueEvents(store: Store, items: QueueItem[]): Promise<void> {
  if (items.length) await insertRows(store, TABLES.retrainQueue, items.map(toQueueRow));
}

const QUEUE_COLUMNS = `toUnixTimestamp64Milli(ts) AS ts, model, request_id, version, toUnixTimestamp64Milli(sample_ts) AS sample_ts, state, reason, failures, target, target_from, target_request_id`;

/** Each item's latest event for a model: the queue as it stands, newest samples first. */
export async function currentQueue(store: Store, model: string): Promise<QueueItem[]> {
  const rs = await store.client.query({
    query: `SELECT ${QUEUE_COLUMNS} FROM ${TABLES.retrainQueue} WHERE model = {model:String}
            ORDER BY request_id, ts DESC LIMIT 1 BY request_id`,
    query_params: { model },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return (await rs.json<QueueRow>()).map(fromQueueRow).sort((a, b) => b.sampleTs - a.sampleTs || a.requestId.localeCompare(b.requestId));
}

interface JobRow {
  ts: number;
  id: string;
  model: string;
  state: Job['state'];
  launcher: Job['launcher'];
  launcher_id: string;
  log: string;
  output: string;
  dataset_id: string;
  dataset_dir: string;
  content_hash: string;
  trigger: Job['trigger'];
  actor: string;
  exit_code: number | null;
  error: string;
  detail: string;
  result: string;
  summary: string;
  created: number;
}

/** Appends the job as it is now (its state change is the event). */
export async function appendJobEvent(store: Store, job: Job): Promise<void> {
  const row: JobRow = {
    ts: job.updatedAt,
    id: job.id,
    model: job.model,
    state: job.state,
    launcher: job.launcher,
    launcher_id: job.launcherId,
    log: job.log,
    output: job.output,
    dataset_id: job.datasetId,
    dataset_dir: job.datasetDir,
    content_hash: job.contentHash,
    trigger: job.trigger,
    actor: job.actor,
    exit_code: job.exitCode,
    error: job.error,
    detail: job.detail,
    result: job.result ? JSON.stringify(job.result) : '',
    summary: JSON.stringify(job.summary),
    created: job.createdAt,
  };
  await insertRows(store, TABLES.retrainJobs, [row]);
}

const JOB_COLUMNS = `toUnixTimestamp64Milli(ts) AS ts, id, model, state, launcher, launcher_id, log, output, dataset_id, dataset_dir, content_hash,
  trigger, actor, exit_code, error, detail, result, summary, toUnixTimestamp64Milli(created) AS created`;

function toEvent(r: JobRow): JobEvent {
  return { ts: Number(r.ts), state: r.state, launcherId: r.launcher_id, log: r.log, output: r.output, exitCode: r.exit_code, error: r.error };
}

/** Rows of one or more jobs → jobs (latest row each), with their events oldest first. */
function toJobs(rows: JobRow[]): Job[] {
  const byId = new Map<string, JobRow[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  return [...byId.values()]
    .map((events) => {
      events.sort((a, b) => Number(a.ts) - Number(b.ts));
      const r = events.at(-1)!;
      return {
        id: r.id,
        model: r.model,
        state: r.state,
        launcher: r.launcher,
        launcherId: r.launcher_id,
        log: r.log,
        output: r.output,
        datasetId: r.dataset_id,
        datasetDir: r.dataset_dir,
        contentHash: r.content_hash,
        trigger: r.trigger,
        actor: r.actor,
        exitCode: r.exit_code,
        error: r.error,
        detail: r.detail,
        result: parseJson<Job['result']>(r.result, null),
        summary: parseJson<Job['summary']>(r.summary, { counts: {} as Job['summary']['counts'], files: [] }),
        createdAt: Number(r.created),
        updatedAt: Number(r.ts),
        events: events.map(toEvent),
      };
    })
    .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
}

/** Every job (or one model's), newest first, each as of its latest event. */
export async function listJobs(store: Store, model?: string): Promise<Job[]> {
  const rs = await store.client.query({
    query: `SELECT ${JOB_COLUMNS} FROM ${TABLES.retrainJobs} ${model === undefined ? '' : 'WHERE model = {model:String}'} ORDER BY id, ts`,
    query_params: model === undefined ? {} : { model },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return toJobs(await rs.json<JobRow>());
}

export async function findJob(store: Store, id: string): Promise<Job | null> {
  const rs = await store.client.query({
    query: `SELECT ${JOB_COLUMNS} FROM ${TABLES.retrainJobs} WHERE id = {id:String} ORDER BY ts`,
    query_params: { id },
    format: 'JSONEachRow',
    clickhouse_settings: NUMBERS,
  });
  return toJobs(await rs.json<JobRow>())[0] ?? null;
}

function parseJson<T>(text: string, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

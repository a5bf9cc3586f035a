// The feedback loop's shared shapes: a queue item (what the store knows about one failure) and a
// curation item (the same, with the text curation and export need). Pure data, no I/O.
import type { Sli, VerdictSource } from '../evaluate/types.js';
import type { TrainedModel } from './launchers/launcher.js';
import type { JobState, LauncherKind, QueueState, Trigger } from './states.js';

/** One chat turn as OpenAI's fine-tuning format has it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string;
  name?: string;
  tool_call_id?: string;
}

/** Where an item's target answer (the answer the model should have given) comes from. */
export interface Target {
  text: string;
  /** `correction`: a human's correction of this sample; `labelled_answer`: another sample's answer to the same prompt, labelled good. */
  from: 'correction' | 'labelled_answer';
  /** The sample whose answer was chosen (labelled_answer only). */
  requestId?: string;
}

/** Why a sample failed on one SLI, as its effective verdict says. */
export interface Failure {
  sli: Sli;
  reason: string;
  evaluator: string;
  evaluatorVersion: string;
  source: VerdictSource;
}

/** A retraining-queue item: its latest event in retrain_queue. */
export interface QueueItem {
  requestId: string;
  model: string;
  version: string;
  /** The sample's time (epoch ms). */
  sampleTs: number;
  state: QueueState;
  /** Why it is in this state, in words (e.g. "safe_response failed and no correction: label one"). */
  reason: string;
  /** The SLIs whose effective verdict is bad (empty for a correction of an answer that passed). */
  failures: Failure[];
  target: Target | null;
  /** When this state was decided (epoch ms). */
  ts: number;
}

/** A queue item with its text, as curation and export see it. */
export interface CurationItem extends QueueItem {
  /** The request's messages (redacted at capture), the system prompt included. */
  messages: ChatMessage[];
  /** The model's answer (redacted at capture). */
  response: string;
  /** Split key: the conversation (meta conversation, else trace id, else request id). */
  conversation: string;
  /** Split key: the hashed user ('' when the request named none). */
  user: string;
}

/** Items counted at each curation stage, in the order the stages run (feedback/curate.ts). */
export interface StageCounts {
  /** Queue items considered (ready and needs_correction). */
  in: number;
  /** Removed as near-duplicates of a kept item, or of an evaluation-set row. */
  deduplicated: number;
  /** Removed because PII was still found in them. */
  pii_excluded: number;
  /** Without a usable target: listed for labelling, never exported. */
  needs_correction: number;
  /** Over a per-reason or per-SLI cap. */
  balanced_away: number;
  exported: number;
}

/** One filter curation applied, with the parameters it ran with. */
export interface FilterRecord {
  name: string;
  params: Record<string, unknown>;
}

/** A file of a dataset snapshot, as the manifest describes it. */
export interface DatasetFile {
  /** The file's name in the snapshot folder, e.g. train.jsonl. */
  name: string;
  kind: 'sft' | 'preferences';
  split: 'train' | 'validation';
  /** openai (chat / DPO) or trl (prompt/chosen/rejected). */
  format: string;
  rows: number;
  sha256: string;
}

/** The manifest of a dataset snapshot: where every row came from and what was done to it. */
export interface Manifest {
  /** ds-<first 16 hex of contentHash>. */
  id: string;
  model: string;
  /** SHA-256 over the files' hashes and the filters: equal snapshots have equal hashes (the time is left out). */
  contentHash: string;
  createdAt: string;
  tunewatchVersion: string;
  baseModel: string;
  /** Request ids of the exported items. */
  samples: string[];
  sourceVersions: string[];
  /** Exported items per failure reason (sli: evaluator reason), and per failing SLI. */
  reasons: Record<string, number>;
  slis: Record<string, number>;
  evaluators: { name: string; version: string }[];
  /** Exported items per label source of their failing verdict or correction (auto, judge, human). */
  labelSources: Record<string, number>;
  filters: FilterRecord[];
  counts: StageCounts & { train: number; validation: number; preferences: number; preferences_validation: number };
  files: DatasetFile[];
}

/** A fine-tuning job as the API answers it: its latest event, and every event before it. */
export interface Job {
  /** Derived from the dataset's content hash (job-id.ts): the same snapshot is one job. */
  id: string;
  model: string;
  state: JobState;
  launcher: LauncherKind;
  /** The launcher's own id: a pid, a Slurm job id, namespace/name, a hosted job id ('' while queued). */
  launcherId: string;
  log: string;
  output: string;
  datasetId: string;
  datasetDir: string;
  contentHash: string;
  trigger: Trigger;
  /** Who launched it: `controller` for triggers, the admin caller for manual launches. */
  actor: string;
  exitCode: number | null;
  error: string;
  detail: string;
  result: TrainedModel | null;
  /** The manifest's stage counts and files, so a listing needs no file reads. */
  summary: { counts: Manifest['counts']; files: DatasetFile[] };
  createdAt: number;
  /** The latest event's time (epoch ms). */
  updatedAt: number;
  events: JobEvent[];
}

/** One state change of a job. */
export interface JobEvent {
  ts: number;
  state: JobState;
  launcherId: string;
  log: string;
  output: string;
  exitCode: number | null;
  error: string;
}

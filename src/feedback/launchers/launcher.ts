// One job interface over every place a fine-tuning job can run. The service (feedback/service.ts)
// exports the dataset, then hands a launcher a LaunchSpec; it follows the job with status() and
// stops it with cancel(). Launchers hold no state of their own: everything they need to find a job
// again after a restart is in the job's record (launcherId, log, output).
import type { JobState, LauncherKind } from '../states.js';

/** The files of one exported dataset snapshot (absolute paths on this machine). */
export interface DatasetFiles {
  /** The snapshot's folder: every file below sits in it. */
  dir: string;
  /** SFT chat JSONL, training split. */
  train: string;
  /** SFT chat JSONL, validation split. */
  validation: string;
  /** Preference pairs (DPO), training split; null when no item has a correction. */
  preferences: string | null;
  /** Preference pairs, validation split; null when none. */
  preferencesValidation: string | null;
  manifest: string;
}

export interface LaunchSpec {
  /** Derived from the dataset's content hash (feedback/job-id.ts): safe as a file, Slurm or Kubernetes name. */
  jobId: string;
  model: string;
  /** The model to fine-tune (retrain.baseModel, else the baseline's upstreamModel or version). */
  baseModel: string;
  dataset: DatasetFiles;
  /** Where the trainer writes its output (and result.json, when it serves the model it made). */
  outputDir: string;
  /** Where the launcher keeps the job's log when it runs the trainer itself (command, slurm). */
  logPath: string;
}

/** What a launcher reports right after submitting: its own id for the job, and where to look. */
export interface Submitted {
  /** The launcher's id: a pid, a Slurm job id, a Kubernetes namespace/name, a hosted job id. */
  launcherId: string;
  /** Where the log is: a file path, or a command or URL that shows it. */
  log: string;
  /** Where the output goes: a folder, or a hosted model name once known. */
  output: string;
}

/** The endpoint of a trained model, as the trainer's result.json or a hosted API names it. */
export interface TrainedModel {
  version: string;
  upstream: string;
  upstreamModel?: string;
}

/** A job as the launcher sees it now. */
export interface Observed {
  state: JobState;
  exitCode?: number;
  /** Why it failed or was cancelled, in the launcher's words. */
  error?: string;
  /** For hosted launchers: the model the job produced (others leave it to result.json). */
  result?: TrainedModel;
  /** Extra facts worth keeping with the event (e.g. a hosted job's status word). */
  detail?: string;
}

/** The parts of a job record a launcher needs to find it again. */
export interface JobHandle {
  id: string;
  launcherId: string;
  log: string;
  output: string;
}

export interface Launcher {
  readonly kind: LauncherKind;
  submit(spec: LaunchSpec): Promise<Submitted>;
  status(job: JobHandle): Promise<Observed>;
  cancel(job: JobHandle): Promise<void>;
  /** Releases timers, child processes' listeners, connections. */
  close?(): Promise<void>;
}

/** The environment every trainer gets, whatever runs it (the contract train.mjs and the README use). */
export function trainerEnv(spec: LaunchSpec): Record<string, string> {
  return {
    TUNEWATCH_DATASET: spec.dataset.train,
    TUNEWATCH_VALIDATION: spec.dataset.validation,
    TUNEWATCH_PREFERENCES: spec.dataset.preferences ?? '',
    TUNEWATCH_PREFERENCES_VALIDATION: spec.dataset.preferencesValidation ?? '',
    TUNEWATCH_MANIFEST: spec.dataset.manifest,
    TUNEWATCH_OUTPUT_DIR: spec.outputDir,
    TUNEWATCH_BASE_MODEL: spec.baseModel,
    TUNEWATCH_JOB_ID: spec.jobId,
    TUNEWATCH_MODEL: spec.model,
  };
}

/** A launcher's failure to submit, follow or cancel, with the launcher's own words. */
export class LauncherError extends Error {
  constructor(
    readonly kind: LauncherKind,
    message: string,
  ) {
    super(`${kind} launcher: ${message}`);
    this.name = 'LauncherError';
  }
}

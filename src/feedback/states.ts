// The words of the feedback loop, defined once: config, store, API, CLI, metrics and docs use these.

/** Where a retraining-queue item stands (its latest event in retrain_queue). */
export const QUEUE_STATES = ['ready', 'needs_correction', 'excluded'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** A fine-tuning job's life, each state an event in retrain_jobs. */
export const JOB_STATES = ['queued', 'submitted', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States a job never leaves. */
export const TERMINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
export const isTerminal = (s: JobState): boolean => TERMINAL_JOB_STATES.includes(s);

/** Where a job runs: a local process, Slurm, a Kubernetes Job, or a hosted fine-tuning API. */
export const LAUNCHER_KINDS = ['command', 'slurm', 'kubernetes', 'openai'] as const;
export type LauncherKind = (typeof LAUNCHER_KINDS)[number];

/** What started a job. */
export const TRIGGERS = ['manual', 'ready_items', 'slo_page', 'canary_rollback', 'schedule'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** The preference-pair file's shape: OpenAI's DPO format, or TRL's prompt/chosen/rejected. */
export const PREFERENCE_FORMATS = ['openai', 'trl'] as const;
export type PreferenceFormat = (typeof PREFERENCE_FORMATS)[number];

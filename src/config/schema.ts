// The shape of tunewatch.yaml, defined once: TypeBox gives both the JSON Schema that ajv
// validates at start-up and the TypeScript type every module imports.
import { Type, type Static } from '@sinclair/typebox';
import { CANARY_METRICS, DIRECTIONS } from '../canary/types.js';
import { PREFERENCE_FORMATS } from '../feedback/states.js';
import { JUDGE_PROMPTS } from '../evaluate/types.js';
import { SCORERS } from '../gate/types.js';

const Url = Type.String({ pattern: '^https?://', description: 'an http(s) URL' });

const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d|w)$';
const Duration = (defaultValue?: string) => Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 5m, 1h, 30d', default: defaultValue });

export const DeploymentSchema = Type.Object(
  {
    version: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._:-]+$' }),
    upstream: Url,
    upstreamModel: Type.Optional(Type.String({ minLength: 1 })),
    weight: Type.Number({ minimum: 0, default: 100 }),
    canary: Type.Boolean({ default: false }),
    // Name of the env variable holding the upstream's API key; the key itself never sits in the file.
    apiKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
    // Token prices in USD per 1M tokens: exported as a gauge so dashboards compute cost in PromQL.
    price: Type.Optional(
      Type.Object({ inputPer1M: Type.Number({ minimum: 0 }), outputPer1M: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

// An instruction spec: what a good answer to this kind of request looks like (evaluate/instruction.ts).
export const InstructionSpecSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    /** The answer must be valid JSON (a fenced ```json block counts). */
    json: Type.Optional(Type.Boolean()),
    /** The answer must be JSON conforming to this JSON Schema (compiled once with ajv). */
    jsonSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Regexes the answer must / must not match; a leading (?i) makes one case-insensitive. */
    mustMatch: Type.Optional(Type.Array(Type.String())),
    mustNotMatch: Type.Optional(Type.Array(Type.String())),
    minWords: Type.Optional(Type.Integer({ minimum: 0 })),
    maxWords: Type.Optional(Type.Integer({ minimum: 0 })),
    minChars: Type.Optional(Type.Integer({ minimum: 0 })),
    maxChars: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Headings that must appear, as a Markdown heading or a "Title:" line (case-insensitive). */
    requiredSections: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    minBullets: Type.Optional(Type.Integer({ minimum: 0 })),
    maxBullets: Type.Optional(Type.Integer({ minimum: 0 })),
    /** ISO 639-1 code of the language the answer must be in (en, es, fr, de, it, pt, nl). */
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2}$' })),
    /** A refusal to a benign request fails the spec (default true). */
    noRefusal: Type.Optional(Type.Boolean()),
    /** How the release gate scores an answer against a golden item's reference (default: token F1 ≥ 0.5). */
    reference: Type.Optional(
      Type.Object(
        {
          scorer: Type.Union(SCORERS.map((s) => Type.Literal(s))),
          /** json: the fields compared, as dot paths; absent: the whole value. */
          fields: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
          /** numeric: the largest absolute difference that counts as equal. */
          tolerance: Type.Optional(Type.Number({ minimum: 0 })),
          /** f1: the token F1 at or above which an answer is correct. */
          threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** One metric of a rollout's analysis; omitted fields take the metric's defaults (canary/plan.ts). */
const RolloutMetricFields = {
  /** Which way is bad: increase, decrease or either (Kayenta's words). */
  direction: Type.Optional(Type.Union(DIRECTIONS.map((d) => Type.Literal(d)))),
  /** Allowed degradation: absolute for ratios (0.02 = two points), relative for latency (0.10 = 10%). */
  tolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Failing it fails the run whatever the score. */
  critical: Type.Optional(Type.Boolean()),
  weight: Type.Optional(Type.Number({ minimum: 0 })),
};
const CanaryMetricName = Type.Union(CANARY_METRICS.map((m) => Type.Literal(m)));

/** Canary analysis and promotion for a model: steps, timing, metrics, thresholds, error rate. */
export const RolloutSchema = Type.Object(
  {
    /** Canary weights in percent at which an analysis runs; passing the last step promotes the canary. */
    steps: Type.Array(Type.Number({ minimum: 0, maximum: 100, description: "0 is a shadow step: mirrored traffic only" }), { minItems: 1, default: [5, 25, 50] }),
    /** How long each analysis runs. */
    interval: Duration('5m'),
    /** Per arm and metric: below this a metric is nodata. */
    minSamples: Type.Integer({ minimum: 1, default: 100 }),
    /** The metrics judged (default: every quality SLI, error_rate, latency), as a list or keyed by name. */
    metrics: Type.Optional(
      Type.Union([
        Type.Array(Type.Object({ name: CanaryMetricName, ...RolloutMetricFields }, { additionalProperties: false }), { minItems: 1 }),
        Type.Partial(Type.Record(CanaryMetricName, Type.Object(RolloutMetricFields, { additionalProperties: false })), { additionalProperties: false, minProperties: 1 }),
      ]),
    ),
    thresholds: Type.Object(
      { pass: Type.Number({ minimum: 0, maximum: 100, default: 95 }), marginal: Type.Number({ minimum: 0, maximum: 100, default: 75 }) },
      { additionalProperties: false, default: {} },
    ),
    onFail: Type.Union([Type.Literal('rollback'), Type.Literal('hold')], { default: 'rollback' }),
    onMarginal: Type.Union([Type.Literal('hold'), Type.Literal('rollback')], { default: 'hold' }),
    onInconclusive: Type.Union([Type.Literal('hold'), Type.Literal('rollback')], { default: 'hold' }),
    /** The false-rollback rate for the whole rollout, over every metric, step and look. */
    alpha: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, default: 0.05 }),
    /** Share of baseline requests also sent to the canary, judged pairwise. */
    mirror: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    /** Pass a metric only when non-inferiority within its tolerance is shown. */
    requireNonInferiority: Type.Boolean({ default: false }),
    /** Refuse to start a canary whose version has no passing release-gate run (tunewatch gate --record). */
    requireGate: Type.Boolean({ default: false }),
    /** The release gate (tunewatch gate): its own two metrics and how it replays the golden set. */
    gate: Type.Object(
      {
        /** semantic_accuracy (answers against references) and regression_rate (net share of items the candidate newly fails; its tolerance is the bar). */
        metrics: Type.Object(
          {
            semantic_accuracy: Type.Optional(Type.Object(RolloutMetricFields, { additionalProperties: false })),
            regression_rate: Type.Optional(Type.Object(RolloutMetricFields, { additionalProperties: false })),
          },
          { additionalProperties: false, default: {} },
        ),
        /** Pairs a metric needs for a verdict (a golden set is small next to canary traffic; rollout.minSamples is the canary's). */
        minSamples: Type.Integer({ minimum: 1, default: 10 }),
        /** Requests in flight per version. */
        concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 16 }),
        /** Per request, each attempt. */
        timeout: Duration('60s'),
        /** Further attempts after a 429, a 5xx or a network error. */
        retries: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);


const EnvName = Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' });
/** The example trainer the repo ships (train.mjs): validates the dataset and writes a model card. */
export const DEFAULT_TRAINER_COMMAND = ['node', 'train.mjs'];
const TrainerCommand = Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: DEFAULT_TRAINER_COMMAND });

/** A local process (the embedded default): the command gets TUNEWATCH_* in its environment. */
export const CommandLauncherSchema = Type.Object(
  {
    kind: Type.Literal('command'),
    command: TrainerCommand,
    /** Working directory (default: tunewatch's own); a relative script not found there is looked up in tunewatch's folder. */
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    env: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String(), { default: {} }),
  },
  { additionalProperties: false },
);

/** Slurm: a batch script submitted with sbatch --parsable --gres=gpu:N, followed with squeue/scontrol. */
export const SlurmLauncherSchema = Type.Object(
  {
    kind: Type.Literal('slurm'),
    command: TrainerCommand,
    gpus: Type.Integer({ minimum: 0, default: 1 }),
    partition: Type.Optional(Type.String({ minLength: 1 })),
    /** sbatch --time, e.g. 02:00:00 or 1-00:00:00. */
    timeLimit: Type.Optional(Type.String({ pattern: '^[0-9:-]+$' })),
    account: Type.Optional(Type.String({ minLength: 1 })),
    cpusPerTask: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Working directory of the batch job (default: tunewatch's own). */
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    /** Where sbatch, squeue, scontrol and scancel are, when not on PATH. */
    binDir: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** Kubernetes: a batch/v1 Job requesting nvidia.com/gpu, followed by its Complete/Failed conditions. */
export const KubernetesLauncherSchema = Type.Object(
  {
    kind: Type.Literal('kubernetes'),
    image: Type.String({ minLength: 1 }),
    command: TrainerCommand,
    namespace: Type.String({ minLength: 1, default: 'default' }),
    gpus: Type.Integer({ minimum: 0, default: 1 }),
    nodeSelector: Type.Record(Type.String(), Type.String(), { default: {} }),
    tolerations: Type.Array(Type.Record(Type.String(), Type.Unknown()), { default: [] }),
    backoffLimit: Type.Integer({ minimum: 0, default: 0 }),
    activeDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    ttlSecondsAfterFinished: Type.Integer({ minimum: 0, default: 86_400 }),
    /** Kueue: sets the kueue.x-k8s.io/queue-name label (the Job is then created suspended). */
    queueName: Type.Optional(Type.String({ minLength: 1 })),
    serviceAccountName: Type.Optional(Type.String({ minLength: 1 })),
    /** Where the pod finds the dataset: a PersistentVolumeClaim holding tunewatch's data folder, or an object-store URL it is synced to. */
    dataset: Type.Union(
      [
        Type.Object({ volume: Type.Object({ claimName: Type.String({ minLength: 1 }), mountPath: Type.String({ pattern: '^/' }) }, { additionalProperties: false }) }, { additionalProperties: false }),
        Type.Object({ url: Type.String({ pattern: '^[a-z0-9+.-]+://' }) }, { additionalProperties: false }),
      ],
    ),
    /** A kubeconfig file; default: in-cluster credentials when running in a pod, else the default kubeconfig. */
    kubeconfig: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** Hosted fine-tuning through an OpenAI-compatible API (files + fine_tuning/jobs). */
export const OpenAiLauncherSchema = Type.Object(
  {
    kind: Type.Literal('openai'),
    baseUrl: Type.String({ pattern: '^https?://', default: 'https://api.openai.com/v1' }),
    apiKeyEnv: Type.Optional(EnvName),
    /** supervised, dpo, or auto: dpo when the snapshot has preference pairs. */
    method: Type.Union([Type.Literal('auto'), Type.Literal('supervised'), Type.Literal('dpo')], { default: 'auto' }),
    suffix: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    hyperparameters: Type.Optional(
      Type.Object(
        {
          n_epochs: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')])),
          batch_size: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')])),
          learning_rate_multiplier: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Literal('auto')])),
          beta: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Literal('auto')])),
        },
        { additionalProperties: false },
      ),
    ),
    /** The endpoint that serves fine-tuned models (default: baseUrl), for promoteAs: canary. */
    inferenceUrl: Type.Optional(Url),
  },
  { additionalProperties: false },
);

// oneOf with a discriminator on `kind` (ajv's discriminator option), so the chosen kind's defaults are
// applied and an error names that kind's fields rather than every branch's.
const LauncherUnion = Type.Union([CommandLauncherSchema, SlurmLauncherSchema, KubernetesLauncherSchema, OpenAiLauncherSchema]);
const { anyOf: launcherKinds, ...launcherRest } = LauncherUnion;
export const LauncherSchema = {
  ...launcherRest,
  oneOf: launcherKinds,
  discriminator: { propertyName: 'kind' },
  default: { kind: 'command', command: DEFAULT_TRAINER_COMMAND },
} as unknown as typeof LauncherUnion;

/** When a model's queue becomes a job by itself (besides `tunewatch retrain launch`). */
export const RetrainTriggerSchema = Type.Object(
  {
    /** Launch once this many items are ready. */
    readyItems: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Launch when a page-severity SLO alert fires for the model. */
    sloPage: Type.Boolean({ default: false }),
    /** Launch when the model's canary is rolled back. */
    canaryRollback: Type.Boolean({ default: false }),
    /** Launch on a schedule: every this long (when the snapshot changed). */
    schedule: Type.Optional(Duration()),
  },
  { additionalProperties: false, default: {} },
);

/** What curation does before export (feedback/curate.ts). */
export const CurationSchema = Type.Object(
  {
    /** Estimated Jaccard similarity (MinHash over character 5-grams of the normalised prompt) at or above which two items are one. */
    duplicateThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
    /** At most this many items per failure reason (0: no cap). */
    maxPerReason: Type.Integer({ minimum: 0, default: 0 }),
    /** At most this many items per failing SLI (0: no cap). */
    maxPerSli: Type.Integer({ minimum: 0, default: 0 }),
    /** Share of conversations (or users) that go to validation. */
    validationSplit: Type.Number({ minimum: 0, maximum: 0.9, default: 0.2 }),
    seed: Type.Integer({ minimum: 0, default: 42 }),
    /** What the split keeps together: a conversation (x-tunewatch-meta-conversation, else trace) or a user. */
    splitBy: Type.Union([Type.Literal('conversation'), Type.Literal('user')], { default: 'conversation' }),
    /** JSONL evaluation sets (chat or prompt/completion rows): nothing near one of them is exported. */
    evaluationSets: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    preferenceFormat: Type.Union(PREFERENCE_FORMATS.map((f) => Type.Literal(f)), { default: 'openai' }),
    /** Look back this far for failures. */
    lookback: Duration('30d'),
  },
  { additionalProperties: false, default: {} },
);

/** The feedback loop for a model: curation, the launcher, the triggers, and what a good result becomes. */
export const RetrainSchema = Type.Object(
  {
    launcher: LauncherSchema,
    trigger: RetrainTriggerSchema,
    curation: CurationSchema,
    /** The model to fine-tune (default: the baseline's upstreamModel, else its version). */
    baseModel: Type.Optional(Type.String({ minLength: 1 })),
    /** canary: a succeeded job's model becomes the next canary at weight 0 and its rollout starts. */
    promoteAs: Type.Optional(Type.Literal('canary')),
    /** How often running jobs are followed and the triggers checked. */
    pollInterval: Duration('5s'),
  },
  { additionalProperties: false },
);

export const ModelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** The instruction spec applied to this model's requests unless a request names another. */
    spec: Type.Optional(Type.String({ minLength: 1 })),
    deployments: Type.Array(DeploymentSchema, { minItems: 1 }),
    /** Canary analysis and step-wise promotion (canary/); absent: no automated rollout. */
    rollout: Type.Optional(RolloutSchema),
    /** The feedback loop: failures → curated dataset → fine-tuning job (feedback/); absent: no retraining. */
    retrain: Type.Optional(RetrainSchema),
  },
  { additionalProperties: false },
);

export const ClickHouseSchema = Type.Object(
  {
    url: Url,
    database: Type.String({ default: 'tunewatch', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
    username: Type.String({ default: 'default' }),
    // The password is read from this env variable, never from the file.
    passwordEnv: Type.String({ default: 'CLICKHOUSE_PASSWORD' }),
    cluster: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const EvaluationSchema = Type.Object(
  {
    /** Phrases that mark an answer as a refusal (case-insensitive substrings); replaces the built-in list. */
    refusalPhrases: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Extra words for the toxicity / slur lexicon (matched on word boundaries, leetspeak-insensitive). */
    toxicityLexicon: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    hallucination: Type.Object(
      {
        /** Share of checkable claims that may be unsupported before the answer is bad. */
        maxUnsupportedRatio: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
        /** System-prompt text between this marker and the next blank-line-separated marker is grounding context. */
        contextDelimiter: Type.String({ default: '### Context' }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** An external moderation endpoint speaking the OpenAI moderations API. */
    moderation: Type.Optional(
      Type.Object(
        {
          url: Url,
          model: Type.Optional(Type.String()),
          apiKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
          timeoutMs: Type.Integer({ minimum: 1, default: 2_000 }),
          concurrency: Type.Integer({ minimum: 1, default: 4 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** An LLM judge: an OpenAI-compatible endpoint and a rubric, applied to a sampled share of answers. */
    judge: Type.Optional(
      Type.Object(
        {
          url: Url,
          model: Type.String({ minLength: 1 }),
          apiKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' })),
          rubric: Type.Optional(Type.String({ minLength: 1 })),
          /** verdict: one verdict for the answer; nli: each claim labelled supported, contradicted or not mentioned. */
          prompt: Type.Union(JUDGE_PROMPTS.map((p) => Type.Literal(p)), { default: 'verdict' }),
          sampleRate: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
          maxPerMinute: Type.Integer({ minimum: 1, default: 60 }),
          timeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);

/** SLIs an SLO can be declared on: the evaluator SLIs plus request availability and latency. */
export const SLO_SLIS = ['instruction_success', 'safe_response', 'hallucination_free', 'availability', 'latency'] as const;

/** One multi-window burn-rate alert: fire when both windows burn faster than `burnRate`. */
export const BurnRateAlertSchema = Type.Object(
  {
    severity: Type.Union([Type.Literal('page'), Type.Literal('ticket')]),
    burnRate: Type.Number({ exclusiveMinimum: 0 }),
    longWindow: Duration(),
    shortWindow: Duration(),
  },
  { additionalProperties: false },
);

export const SloSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    description: Type.String({ default: '' }),
    /** A model name, or "*" for every model. */
    model: Type.String({ minLength: 1 }),
    version: Type.Optional(Type.String({ minLength: 1 })),
    role: Type.Optional(Type.Union([Type.Literal('baseline'), Type.Literal('canary')])),
    sli: Type.Union(SLO_SLIS.map((s) => Type.Literal(s))),
    /** For the latency SLI: the share of requests answered within this many ms is the SLI. */
    thresholdMs: Type.Optional(Type.Integer({ minimum: 1 })),
    objective: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    window: Duration('30d'),
    /** Defaults to the SRE workbook's policy scaled to the window (see slo/windows.ts). */
    alerting: Type.Optional(Type.Array(BurnRateAlertSchema, { minItems: 1 })),
    runbook: Type.Optional(Type.String({ pattern: '^https?://' })),
    labels: Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' }), Type.String(), { default: {} }),
  },
  { additionalProperties: false },
);

export const AlertingSchema = Type.Object(
  {
    alertmanagers: Type.Array(Url, { default: [] }),
    evaluationInterval: Duration('30s'),
    dashboardUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Base URL at which on-call reaches this server's admin API (for the failing-samples link). */
    externalUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
        upstreamTimeoutMs: Type.Integer({ minimum: 1, default: 120_000 }),
        connectTimeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
        // Per-upstream keep-alive connections held by the undici pool.
        upstreamConnections: Type.Integer({ minimum: 1, default: 128 }),
        // JSON bodies nested deeper than this are a 400: deep nesting costs stack in every
        // recursive step after parsing (serialising, cloning to the capture worker, redaction).
        maxBodyDepth: Type.Integer({ minimum: 2, maximum: 1000, default: 64 }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        path: Type.String({ default: './data' }),
        retentionDays: Type.Integer({ minimum: 1, default: 30 }),
        clickhouse: Type.Optional(ClickHouseSchema),
      },
      { additionalProperties: false, default: {} },
    ),
    capture: Type.Object(
      {
        queueSize: Type.Integer({ minimum: 1, default: 20_000 }),
        batchSize: Type.Integer({ minimum: 1, default: 500 }),
        flushIntervalMs: Type.Integer({ minimum: 1, default: 500 }),
        maxRetries: Type.Integer({ minimum: 0, default: 3 }),
        retryBaseMs: Type.Integer({ minimum: 1, default: 200 }),
        replayIntervalMs: Type.Integer({ minimum: 1, default: 5_000 }),
        spillMaxBytes: Type.Integer({ minimum: 0, default: 512 * 1024 * 1024 }),
        // Captured text (prompt, response, context) is cut to this many bytes per sample, flagged
        // `truncated`; the client still receives the whole answer.
        maxTextBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 }),
        // /readyz fails once the store has not been storing for this long (the spill log holds samples meanwhile).
        storeDownGraceMs: Type.Integer({ minimum: 0, default: 30_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        // Client API keys, stored as SHA-256 hex digests (`tunewatch keys hash` prints one).
        apiKeys: Type.Array(
          Type.Object(
            { id: Type.String({ minLength: 1 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
            { additionalProperties: false },
          ),
          { default: [] },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    specs: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]+$' }), InstructionSpecSchema, { default: {} }),
    evaluation: EvaluationSchema,
    alerting: AlertingSchema,
    slos: Type.Array(SloSchema, { default: [] }),
    models: Type.Array(ModelSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ModelConfig = Static<typeof ModelSchema>;
export type RolloutConfig = Static<typeof RolloutSchema>;
export type RetrainConfig = Static<typeof RetrainSchema>;
export type LauncherConfig = Static<typeof LauncherSchema>;
export type CommandLauncherConfig = Static<typeof CommandLauncherSchema>;
export type SlurmLauncherConfig = Static<typeof SlurmLauncherSchema>;
export type KubernetesLauncherConfig = Static<typeof KubernetesLauncherSchema>;
export type OpenAiLauncherConfig = Static<typeof OpenAiLauncherSchema>;
export type CurationConfig = Static<typeof CurationSchema>;
export type RetrainTriggerConfig = Static<typeof RetrainTriggerSchema>;
export type DeploymentConfig = Static<typeof DeploymentSchema>;
export type ClickHouseConfig = Static<typeof ClickHouseSchema>;
export type InstructionSpec = Static<typeof InstructionSpecSchema>;
export type EvaluationConfig = Static<typeof EvaluationSchema>;
export type SloConfig = Static<typeof SloSchema>;
export type SloSli = (typeof SLO_SLIS)[number];
export type BurnRateAlert = Static<typeof BurnRateAlertSchema>;
export type AlertingConfig = Static<typeof AlertingSchema>;
export type Role = 'baseline' | 'canary';

export const roleOf = (d: DeploymentConfig): Role => (d.canary ? 'canary' : 'baseline');

// The feedback loop's controller: keeps each model's retraining queue in step with its verdicts,
// curates and exports snapshots, launches jobs through the model's launcher, follows them to the end,
// fires the configured triggers, and hands a trained model back as the next canary. Decisions are
// pure functions elsewhere (queue.ts, curate/, triggers.ts); this file is the I/O around them.
import type { FastifyBaseLogger } from 'fastify';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CanaryController } from '../canary/controller.js';
import { parseDuration } from '../config/duration.js';
import type { Config, ModelConfig, RetrainConfig } from '../config/schema.js';
import type { Metrics } from '../metrics/registry.js';
import type { PostableAlert } from '../slo/alertmanager.js';
import type { Store } from '../store/client.js';
import { RequestError } from '../util/request-error.js';
import { appendJobEvent, appendQueueEvents, currentQueue, findJob, listJobs } from '../store/retrain-log.js';
import { labelledAnswers, retrainCandidates, type Candidate } from '../store/retrain-queries.js';
import { curate, type CurationResult } from './curate/curate.js';
import { exportSnapshot, type Snapshot } from './export.js';
import { evaluationTexts } from './formats.js';
import { jobIdFor } from './job-id.js';
import { createLauncher } from './launchers/index.js';
import { LauncherError, type JobHandle, type Launcher, type Observed } from './launchers/launcher.js';
import { changed, classify, curationItem, EXCLUSION_REASONS } from './queue.js';
import { QUEUE_STATES, isTerminal, type JobState, type Trigger } from './states.js';
import { readResult } from './result.js';
import { dueTriggers, type TriggerMemory } from './triggers.js';
import type { CurationItem, Job, QueueItem } from './types.js';

/** A caller's mistake (unknown model or job, nothing to export, a finished job): 404 / 409 for the API. */
export class RetrainRequestError extends RequestError {}

export interface RetrainDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** tunewatch's version, for the manifest. */
  version: string;
  /** The launcher of a model (default: built from its retrain.launcher); tests pass their own. */
  launcherFor?: (model: string, retrain: RetrainConfig) => Launcher;
  /** The canary controller, for retrain.promoteAs: canary and the canaryRollback trigger. */
  canary?: CanaryController;
  /** The SLO alerts firing now, for the sloPage trigger. */
  firingAlerts?: () => PostableAlert[];
  env?: NodeJS.ProcessEnv;
}

interface ModelLoop {
  model: ModelConfig;
  retrain: RetrainConfig;
  launcher: Launcher;
  pollMs: number;
  timer?: NodeJS.Timeout;
  /** Serialises syncs and launches of this model: one snapshot at a time. */
  chain: Promise<unknown>;
  memory: TriggerMemory;
  /** The round in progress, if any. */
  ticking?: Promise<void>;
}

export class RetrainService {
  private readonly loops = new Map<string, ModelLoop>();
  private readonly root: string;
  private stopped = false;

  constructor(private readonly deps: RetrainDeps) {
    this.root = resolve(deps.config.storage.path, 'retrain');
    for (const model of deps.config.models) {
      if (!model.retrain) continue;
      const launcher = deps.launcherFor?.(model.name, model.retrain) ?? createLauncher(model.retrain.launcher, { dataRoot: resolve(deps.config.storage.path), env: deps.env });
      this.loops.set(model.name, { model, retrain: model.retrain, launcher, pollMs: parseDuration(model.retrain.pollInterval), chain: Promise.resolve(), memory: { firedAlerts: new Set(), rolledBack: new Set(), startedAt: Date.now() } });
    }
  }

  get models(): string[] {
    return [...this.loops.keys()];
  }

  /** Hands succeeded jobs' models back to the canary controller again, remembers past rollbacks, starts the clocks. */
  async start(): Promise<void> {
    for (const loop of this.loops.values()) {
      const view = this.deps.canary?.has(loop.model.name) ? this.deps.canary.view(loop.model.name) : undefined;
      // A rollback that happened before this start was handled then (or predates the trigger).
      if (view?.state === 'rolled_back') loop.memory.rolledBack.add(view.canary);
      if (loop.retrain.promoteAs === 'canary' && this.deps.canary?.has(loop.model.name)) {
        for (const job of await listJobs(this.deps.store, loop.model.name)) {
          if (job.state === 'succeeded' && job.result) this.deps.canary.addDeployment(loop.model.name, { ...job.result, weight: 0, canary: true });
        }
      }
      this.schedule(loop);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const loop of this.loops.values()) clearTimeout(loop.timer);
  }

  /** Stops the clocks and waits for rounds and launches in flight: the store must outlive them. */
  async close(): Promise<void> {
    this.stop();
    await Promise.all([...this.loops.values()].map((l) => Promise.all([l.ticking, l.chain]).catch(() => undefined)));
    await Promise.all([...this.loops.values()].map((l) => l.launcher.close?.()));
  }

  private schedule(loop: ModelLoop): void {
    if (this.stopped) return;
    loop.timer = setTimeout(() => void this.tick(loop.model.name).finally(() => this.schedule(loop)), loop.pollMs);
    loop.timer.unref();
  }

  /** One round for a model: follow its jobs, bring its queue up to date, fire what is due. A round already running is joined. */
  tick(model: string): Promise<void> {
    const loop = this.loop(model);
    loop.ticking ??= this.round(loop).finally(() => (loop.ticking = undefined));
    return loop.ticking;
  }

  private async round(loop: ModelLoop): Promise<void> {
    const model = loop.model.name;
    try {
      await this.follow(loop);
      const queue = await this.serial(loop, () => this.sync(loop));
      const jobs = await listJobs(this.deps.store, model);
      const exported = new Set(jobs[0] ? this.manifestSamples(jobs[0]) : []);
      const due = dueTriggers({
        trigger: loop.retrain.trigger,
        model,
        now: Date.now(),
        newReady: queue.items.filter((i) => i.state === 'ready' && !exported.has(i.requestId)).length,
        activeJob: jobs.some((j) => !isTerminal(j.state)),
        lastJobAt: jobs[0]?.createdAt ?? null,
        firing: this.deps.firingAlerts?.() ?? [],
        canary: this.deps.canary?.has(model) ? this.deps.canary.view(model) : undefined,
        memory: loop.memory,
      });
      if (due) await this.launch(model, { trigger: due, actor: 'controller' }).catch((err) => {
        if (!(err instanceof RetrainRequestError)) throw err;
        this.deps.log.info({ model, trigger: due, reason: err.message }, 'retrain trigger fired; nothing launched');
      });
    } catch (err) {
      this.deps.log.warn({ model, err: (err as Error).message }, 'retrain round failed; trying again at the next interval');
    }
  }

  /** The model's queue, brought up to date with its verdicts and corrections first. */
  async queue(model: string): Promise<QueueItem[]> {
    const loop = this.loop(model);
    return (await this.serial(loop, () => this.sync(loop))).items;
  }

  /** Curates and exports the model's snapshot without launching (tunewatch retrain export). */
  async snapshot(model: string): Promise<{ snapshot: Snapshot; result: CurationResult }> {
    const loop = this.loop(model);
    return this.serial(loop, () => this.curateAndExport(loop));
  }

  /** Launches a job on the model's current snapshot; an unchanged snapshot answers its existing job. */
  async launch(model: string, how: { trigger: Trigger; actor: string }): Promise<{ job: Job; created: boolean }> {
    const loop = this.loop(model);
    return this.serial(loop, async () => {
      const { snapshot } = await this.curateAndExport(loop);
      const id = jobIdFor(model, snapshot.manifest.contentHash);
      const existing = await findJob(this.deps.store, id);
      if (existing) return { job: existing, created: false };
      const now = Date.now();
      const jobDir = join(this.root, 'jobs', id);
      let job: Job = {
        id,
        model,
        state: 'queued',
        launcher: loop.launcher.kind,
        launcherId: '',
        log: join(jobDir, 'train.log'),
        output: join(jobDir, 'output'),
        datasetId: snapshot.manifest.id,
        datasetDir: snapshot.files.dir,
        contentHash: snapshot.manifest.contentHash,
        trigger: how.trigger,
        actor: how.actor,
        exitCode: null,
        error: '',
        detail: '',
        result: null,
        summary: { counts: snapshot.manifest.counts, files: snapshot.manifest.files },
        createdAt: now,
        updatedAt: now,
        events: [],
      };
      job = await this.record(job, {});
      for (const f of snapshot.manifest.files) if (f.kind === 'sft') this.deps.metrics.retrainItemsExported.inc({ model, split: f.split }, f.rows);
      try {
        const submitted = await bounded(loop.launcher, `submitting ${id}`, loop.launcher.submit({ jobId: id, model, baseModel: this.baseModel(loop), dataset: snapshot.files, outputDir: job.output, logPath: job.log }));
        job = await this.record(job, { state: 'submitted', ...submitted });
      } catch (err) {
        job = await this.record(job, { state: 'failed', error: (err as Error).message });
      }
      this.deps.log.info({ model, job: id, trigger: how.trigger, state: job.state }, 'retrain job launched');
      return { job, created: true };
    });
  }

  async jobs(model?: string): Promise<Job[]> {
    if (model !== undefined) this.loop(model);
    return (await listJobs(this.deps.store, model)).filter((j) => this.loops.has(j.model) || model === undefined);
  }

  async job(id: string): Promise<Job> {
    const job = await findJob(this.deps.store, id);
    if (!job) throw new RetrainRequestError(`no retrain job '${id}'; tunewatch retrain jobs lists them`, 404);
    return job;
  }

  async cancel(id: string, actor: string): Promise<Job> {
    const job = await this.job(id);
    if (isTerminal(job.state)) throw new RetrainRequestError(`job ${id} is already ${job.state}; only queued, submitted or running jobs can be cancelled`, 409);
    const loop = this.loop(job.model);
    if (job.launcherId) await bounded(loop.launcher, `cancelling ${id}`, loop.launcher.cancel(handleOf(job)));
    return this.record(job, { state: 'cancelled', error: `cancelled by ${actor}` });
  }

  /** Asks the launcher about every unfinished job of the model and records what changed. */
  private async follow(loop: ModelLoop): Promise<void> {
    for (const job of await listJobs(this.deps.store, loop.model.name)) {
      if (isTerminal(job.state) || !job.launcherId) continue;
      let seen: Observed;
      try {
        seen = await bounded(loop.launcher, `reading the state of ${job.id}`, loop.launcher.status(handleOf(job)));
      } catch (err) {
        this.deps.log.warn({ job: job.id, err: (err as Error).message }, 'cannot read the job\'s state; asking again at the next interval');
        continue;
      }
      if (seen.state === job.state) continue;
      // Cancelled (or otherwise moved) through the API meanwhile: that event stands.
      const latest = await findJob(this.deps.store, job.id);
      if (!latest || latest.state !== job.state) continue;
      let next = await this.record(latest, { state: seen.state, exitCode: seen.exitCode ?? null, error: seen.error ?? '', detail: seen.detail ?? '' });
      if (seen.state === 'succeeded') next = await this.handBack(loop, next, seen);
    }
  }

  /** A succeeded job's model: recorded, and with promoteAs: canary, added at weight 0 and its rollout started. */
  private async handBack(loop: ModelLoop, job: Job, seen: Observed): Promise<Job> {
    const found = seen.result ? { result: seen.result } : readResult(job.output);
    if ('error' in found) return found.error ? this.record(job, { detail: found.error }) : job;
    let detail = `trained model ${found.result.version} at ${found.result.upstream}`;
    if (loop.retrain.promoteAs === 'canary') {
      const canary = this.deps.canary;
      if (!canary?.has(job.model)) detail += `; not started as a canary: ${job.model} has no rollout plan`;
      else {
        try {
          canary.addDeployment(job.model, { ...found.result, weight: 0, canary: true });
          await canary.startCanary(job.model, found.result.version, `retrain:${job.id}`);
          detail += '; started as the canary at weight 0';
        } catch (err) {
          detail += `; not started as a canary: ${(err as Error).message}`;
        }
      }
    }
    return this.record(job, { result: found.result, detail });
  }

  /** Appends the job as changed by `patch` (a new event), keeping event times strictly increasing. */
  private async record(job: Job, patch: Partial<Job>): Promise<Job> {
    const ts = Math.max(Date.now(), job.updatedAt + 1);
    const next: Job = { ...job, ...patch, updatedAt: ts };
    next.events = [...job.events, { ts, state: next.state, launcherId: next.launcherId, log: next.log, output: next.output, exitCode: next.exitCode, error: next.error }];
    await appendJobEvent(this.deps.store, next);
    if (patch.state && patch.state !== job.state || job.events.length === 0) this.deps.metrics.retrainJobs.inc({ model: job.model, launcher: job.launcher, state: next.state });
    return next;
  }

  /** Brings the queue in step with the store: a new event for every item whose state, reason or target changed. */
  private async sync(loop: ModelLoop): Promise<{ items: QueueItem[]; candidates: Map<string, Candidate> }> {
    const model = loop.model.name;
    const since = Date.now() - parseDuration(loop.retrain.curation.lookback);
    const candidates = await retrainCandidates(this.deps.store, model, since);
    const needTarget = candidates.filter((c) => !c.correction && c.verdicts.every((v) => v.verdict !== 'bad' || v.sli === 'instruction_success'));
    const labelled = await labelledAnswers(this.deps.store, model, needTarget.map((c) => c.prompt));
    const current = new Map((await currentQueue(this.deps.store, model)).map((i) => [i.requestId, i]));
    const now = Date.now();
    const updates = candidates.map((c) => classify(c, labelled.get(c.prompt), now)).filter((next) => changed(current.get(next.requestId), next));
    await appendQueueEvents(this.deps.store, updates);
    for (const u of updates) current.set(u.requestId, u);
    const items = [...current.values()].sort((a, b) => b.sampleTs - a.sampleTs || a.requestId.localeCompare(b.requestId));
    for (const state of QUEUE_STATES) this.deps.metrics.retrainQueueItems.set({ model, state }, items.filter((i) => i.state === state).length);
    return { items, candidates: new Map(candidates.map((c) => [c.requestId, c])) };
  }

  private async curateAndExport(loop: ModelLoop): Promise<{ snapshot: Snapshot; result: CurationResult }> {
    const model = loop.model.name;
    const { items, candidates } = await this.sync(loop);
    const curatable: CurationItem[] = items
      .filter((i) => i.state !== 'excluded' || i.reason.startsWith(`${EXCLUSION_REASONS.pii}:`))
      .flatMap((i) => {
        const c = candidates.get(i.requestId);
        return c ? [curationItem(i, c)] : [];
      });
    const curation = loop.retrain.curation;
    const result = curate(curatable, { ...curation, evaluationTexts: this.evaluationTexts(model, curation.evaluationSets) });
    if (result.counts.exported === 0) {
      throw new RetrainRequestError(
        `nothing to export for ${model}: ${result.counts.in} items considered, ${result.counts.needs_correction} need a correction, ${result.counts.deduplicated} duplicates, ${result.counts.pii_excluded} with PII`,
        409,
      );
    }
    // PII found now never leaves the store: the item is excluded in the queue, with why.
    const pii = result.removed.filter((r) => r.stage === 'pii');
    const byId = new Map(items.map((i) => [i.requestId, i]));
    const now = Date.now();
    const piiEvents = pii
      .map((r) => byId.get(r.requestId))
      .filter((i): i is QueueItem => !!i && !(i.state === 'excluded' && i.reason.startsWith(`${EXCLUSION_REASONS.pii}:`)))
      .map((i): QueueItem => ({ ...i, state: 'excluded', reason: `${EXCLUSION_REASONS.pii}: ${pii.find((r) => r.requestId === i.requestId)!.reason}`, ts: now }));
    await appendQueueEvents(this.deps.store, piiEvents);
    const snapshot = exportSnapshot(result, {
      root: join(this.root, 'datasets'),
      model,
      baseModel: this.baseModel(loop),
      tunewatchVersion: this.deps.version,
      preferenceFormat: curation.preferenceFormat,
    });
    return { snapshot, result };
  }

  private evaluationTexts(model: string, files: string[]): string[] {
    return files.flatMap((file, i) => {
      try {
        return evaluationTexts(readFileSync(resolve(file), 'utf8'));
      } catch (err) {
        throw new RetrainRequestError(`models[${model}].retrain.curation.evaluationSets[${i}] (${file}): ${(err as Error).message}`, 409);
      }
    });
  }

  private baseModel(loop: ModelLoop): string {
    const baseline = loop.model.deployments.find((d) => !d.canary) ?? loop.model.deployments[0]!;
    return loop.retrain.baseModel ?? baseline.upstreamModel ?? baseline.version;
  }

  private manifestSamples(job: Job): string[] {
    try {
      return (JSON.parse(readFileSync(join(job.datasetDir, 'manifest.json'), 'utf8')) as { samples: string[] }).samples;
    } catch {
      return [];
    }
  }

  private loop(model: string): ModelLoop {
    const loop = this.loops.get(model);
    if (!loop) throw new RetrainRequestError(`model '${model}' has no retrain: block; models with one: ${this.models.join(', ') || 'none'}`, 404);
    return loop;
  }

  private serial<T>(loop: ModelLoop, fn: () => Promise<T>): Promise<T> {
    const run = loop.chain.then(fn);
    loop.chain = run.catch(() => undefined);
    return run;
  }
}

/** How long a launcher call may take: a hung cluster API must not hold a model's loop (its launches wait in line). */
export const LAUNCHER_CALL_TIMEOUT_MS = 120_000;

export function bounded<T>(launcher: Pick<Launcher, "kind">, what: string, call: Promise<T>, ms = LAUNCHER_CALL_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LauncherError(launcher.kind, `no answer within ${ms / 1000} s ${what}`)), ms);
    timer.unref();
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

const handleOf = (job: Job): JobHandle => ({ id: job.id, launcherId: job.launcherId, log: job.log, output: job.output });

export type { JobState };

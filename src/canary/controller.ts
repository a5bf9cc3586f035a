// The canary controller: runs each model's rollout plan. At every interval it measures both arms
// (store), judges them (analysis.ts, pure), moves the rollout (transitions.ts, pure), appends the
// decision to the log, swaps the live route, and pages on a rollback. I/O lives here only.
import type { FastifyBaseLogger } from 'fastify';
import type { Config, DeploymentConfig } from '../config/schema.js';
import { roleOf } from '../config/schema.js';
import type { Metrics } from '../metrics/registry.js';
import type { RouteTable, Target } from '../proxy/router.js';
import { toTarget } from '../proxy/router.js';
import type { AlertmanagerClient, PostableAlert } from '../slo/alertmanager.js';
import type { Store } from '../store/client.js';
import { RequestError } from '../util/request-error.js';
import { appendDecision, decisionHistory, latestDecisions, type Decision } from '../store/canary-log.js';
import { lookData } from '../store/canary-queries.js';
import { gateStatus, type GateRun } from '../store/gate-runs.js';
import { gateRefusal, ungated } from './gate-policy.js';
import { analyseLook, initialState } from './analysis.js';
import { discrepancies } from './discrepancy.js';
import { normaliseRollout } from './plan.js';
import { routeFor } from './routing.js';
import type { ManualAction, RolloutState } from './states.js';
import { afterLook, manual, startRollout, TransitionError, type Transition } from './transitions.js';
import type { LookAnalysis, LookData, RolloutPlan, SequentialState } from './types.js';

export const CANARY_ROLLBACK_ALERT = 'TunewatchCanaryRollback';

interface ModelRollout {
  model: string;
  plan: RolloutPlan;
  deployments: Target[];
  state: RolloutState | null;
  sequential: SequentialState;
  lastAnalysis: LookAnalysis | null;
  /** The release gate of the current canary version: its latest run and latest passing run. */
  gate: { version: string; latest: GateRun | null; passing: GateRun | null } | null;
  timer?: NodeJS.Timeout;
  busy: boolean;
}

/** A gate run as the canary view shows it. */
export interface GateRunView {
  id: string;
  verdict: string;
  score: number;
  reason: string;
  ts: number;
  baseline: string;
  goldenSha256: string;
  goldenItems: number;
}

export interface CanaryView {
  model: string;
  baseline: string;
  canary: string;
  weight: number;
  step: number;
  state: RolloutState['state'];
  lastAnalysis: {
    verdict: string;
    score: number;
    metrics: { name: string; baseline: number | null; canary: number | null; effect: number | null; interval: [number, number] | null; pValue: number | null; classification: string }[];
  } | null;
  /** rollout.requireGate: a canary starts only with a passing gate run of its version. */
  requireGate: boolean;
  /** The canary version's latest release-gate run (tunewatch gate --record), and whether one passed. */
  gate: { latest: GateRunView | null; passed: boolean } | null;
}

/** Raised for a model without a rollout plan, or a version it does not deploy (a 404 / 400 for the API). */
export class CanaryRequestError extends RequestError {}

export interface ControllerDeps {
  config: Config;
  store: Store;
  /** The proxy's live route table (absent in a controller-only process). */
  routes?: RouteTable;
  metrics: Metrics;
  alertmanager?: AlertmanagerClient;
  log: FastifyBaseLogger;
  /** Base URL of this server's admin API, for the page's failing-samples link (alerting.externalUrl). */
  adminUrl?: string;
}

export class CanaryController {
  private readonly rollouts = new Map<string, ModelRollout>();
  private stopped = false;

  constructor(private readonly deps: ControllerDeps) {
    for (const m of deps.config.models) {
      if (!m.rollout) continue;
      this.rollouts.set(m.name, {
        model: m.name,
        plan: normaliseRollout(m.rollout),
        deployments: m.deployments.map((d) => toTarget(m.name, d)),
        state: null,
        sequential: initialState(),
        lastAnalysis: null,
        gate: null,
        busy: false,
      });
    }
  }

  get models(): string[] {
    return [...this.rollouts.keys()];
  }

  /** Restores each rollout from the log (or starts the configured canary), applies it, starts the clock. */
  async start(): Promise<void> {
    const latest = await latestDecisions(this.deps.store);
    for (const r of this.rollouts.values()) {
      const last = latest.get(r.model);
      if (last) {
        r.state = last;
        const saved = parseAnalysis(last.analysis);
        if (saved) [r.sequential, r.lastAnalysis] = [saved.sequential, saved.look];
      } else {
        const canary = this.deps.config.models.find((m) => m.name === r.model)!.deployments.find((d) => roleOf(d) === 'canary');
        const baseline = r.deployments.find((t) => t.role === 'baseline');
        if (canary && baseline) {
          const refused = await this.refusalFor(r, canary.version);
          if (refused) {
            // No traffic for an ungated canary: every request goes to the baseline until a gate passes.
            this.deps.log.warn({ model: r.model, version: canary.version }, refused);
            r.state = ungated(r.model, baseline.version);
          } else await this.record(r, { next: startRollout(r.model, baseline.version, canary.version, r.plan.steps, Date.now()), action: 'start' }, 'controller');
        }
      }
      if (r.state?.canary) await this.readGate(r, r.state.canary);
      this.apply(r);
      this.schedule(r);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.rollouts.values()) clearTimeout(r.timer);
  }

  private schedule(r: ModelRollout): void {
    if (this.stopped) return;
    r.timer = setTimeout(() => void this.look(r.model).finally(() => this.schedule(r)), r.plan.intervalMs);
    r.timer.unref();
  }

  /** One look at a model's canary: measure, judge, move. Skipped while paused or finished. */
  async look(model: string): Promise<LookAnalysis | null> {
    const r = this.rollout(model);
    const s = r.state;
    if (!s || (s.state !== 'running' && s.state !== 'holding') || r.busy) return null;
    r.busy = true;
    try {
      await this.readGate(r, s.canary);
      const data = await lookData(this.deps.store, { model, baseline: s.baseline, canary: s.canary, since: s.started });
      const { analysis, state: sequential } = analyseLook(r.plan, data, r.sequential);
      r.sequential = sequential;
      r.lastAnalysis = analysis;
      const collecting = analysis.metrics.some((m) => m.n.baseline < r.plan.minSamples || m.n.canary < r.plan.minSamples) && analysis.verdict === 'inconclusive';
      const transition = afterLook(s, analysis.action, collecting, r.plan.steps, Date.now());
      this.exportAnalysis(r, analysis, data);
      await this.record(r, transition, 'controller', analysis);
      if (transition.action === 'rollback') await this.page(r, transition.next, analysis);
      return analysis;
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message, model }, 'canary analysis failed; trying again at the next interval');
      return null;
    } finally {
      r.busy = false;
    }
  }

  /** promote, rollback, pause or resume, by a person (`actor`). */
  async act(model: string, action: ManualAction, actor: string): Promise<CanaryView> {
    const r = this.rollout(model);
    if (!r.state) throw new CanaryRequestError(`model ${model} has no canary rollout yet; start one with tunewatch canary start ${model} VERSION`, 409);
    let transition: Transition;
    try {
      transition = manual(r.state, action, Date.now());
    } catch (err) {
      if (err instanceof TransitionError) throw new CanaryRequestError(err.message, 409);
      throw err;
    }
    await this.record(r, transition, actor, r.lastAnalysis ?? undefined);
    return this.view(model);
  }

  /** Starts a rollout of `version` (a deployment of the model, e.g. one added later) at the first step. */
  async startCanary(model: string, version: string, actor: string): Promise<CanaryView> {
    const r = this.rollout(model);
    const target = r.deployments.find((t) => t.version === version);
    if (!target) throw new CanaryRequestError(`model ${model} has no deployment with version '${version}'; deployments: ${r.deployments.map((t) => t.version).join(', ')}`, 400);
    const baseline = r.state && r.state.state === 'promoted' ? r.state.baseline : (r.state?.baseline ?? r.deployments.find((t) => t.role === 'baseline')?.version);
    if (!baseline || baseline === version) throw new CanaryRequestError(`version '${version}' is the baseline of ${model}; a canary must be another version`, 400);
    if (r.state && (r.state.state === 'running' || r.state.state === 'holding' || r.state.state === 'paused')) {
      throw new CanaryRequestError(`model ${model} already has a canary rollout (${r.state.canary}, ${r.state.state}); promote or roll it back first`, 409);
    }
    const refused = await this.refusalFor(r, version);
    if (refused) throw new CanaryRequestError(refused, 409);
    r.sequential = initialState();
    r.lastAnalysis = null;
    await this.record(r, { next: startRollout(model, baseline, version, r.plan.steps, Date.now()), action: 'start' }, actor);
    return this.view(model);
  }

  /** Re-reads the current canary's gate runs (after a run is recorded, or before answering its status). */
  async refreshGate(model: string): Promise<void> {
    const r = this.rollouts.get(model);
    if (r?.state?.canary) await this.readGate(r, r.state.canary);
  }

  /** Reads the version's gate runs into the rollout (a store error leaves the last known ones). */
  private async readGate(r: ModelRollout, version: string): Promise<void> {
    try {
      r.gate = { version, ...(await gateStatus(this.deps.store, r.model, version)) };
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, model: r.model, version }, 'could not read gate runs');
    }
  }

  /** Why a canary of `version` may not start (rollout.requireGate without a passing gate run), or null. */
  private async refusalFor(r: ModelRollout, version: string): Promise<string | null> {
    await this.readGate(r, version);
    return gateRefusal(r.model, version, r.plan.requireGate, r.gate?.version === version ? r.gate : null);
  }

  /** True when the model has a rollout plan (a canary can be added to it). */
  has(model: string): boolean {
    return this.rollouts.has(model);
  }

  /**
   * Adds a deployment that is not in the config (a fine-tuned model handed back by the feedback loop)
   * at weight 0; its rollout starts with startCanary. Adding a version already deployed changes nothing.
   */
  addDeployment(model: string, deployment: DeploymentConfig): void {
    const r = this.rollout(model);
    if (r.deployments.some((t) => t.version === deployment.version)) return;
    r.deployments.push(toTarget(model, { ...deployment, weight: 0, canary: true }));
    this.apply(r);
  }

  view(model: string): CanaryView {
    const r = this.rollout(model);
    const s = r.state;
    const a = r.lastAnalysis;
    const gate = r.gate && s?.canary && r.gate.version === s.canary ? r.gate : null;
    const run = (g: GateRun): GateRunView => ({ id: g.id, verdict: g.verdict, score: g.score, reason: g.reason, ts: g.ts, baseline: g.baseline, goldenSha256: g.goldenSha256, goldenItems: g.goldenItems });
    return {
      model,
      requireGate: r.plan.requireGate,
      gate: gate && { latest: gate.latest && run(gate.latest), passed: gate.passing !== null },
      baseline: s?.baseline ?? r.deployments.find((t) => t.role === 'baseline')?.version ?? '',
      canary: s?.canary ?? '',
      weight: s?.weight ?? 0,
      step: s?.step ?? -1,
      state: s?.state ?? 'idle',
      lastAnalysis: a && {
        verdict: a.verdict,
        score: a.score,
        metrics: a.metrics.map((m) => ({
          name: m.name,
          baseline: m.value.baseline,
          canary: m.value.canary,
          effect: m.effect,
          interval: m.interval,
          pValue: m.pValue,
          classification: m.classification,
        })),
      },
    };
  }

  async history(model: string): Promise<Decision[]> {
    this.rollout(model);
    return decisionHistory(this.deps.store, model);
  }

  private rollout(model: string): ModelRollout {
    const r = this.rollouts.get(model);
    if (!r) throw new CanaryRequestError(`model '${model}' has no rollout plan (add a rollout: block to it); models with one: ${this.models.join(', ') || 'none'}`, 404);
    return r;
  }

  /** Appends the decision, then makes it the live state. */
  private async record(r: ModelRollout, t: Transition, actor: string, analysis?: LookAnalysis): Promise<void> {
    const decision: Decision = {
      ...t.next,
      action: t.action,
      actor,
      verdict: analysis?.verdict ?? '',
      score: analysis?.score ?? 0,
      reason: analysis?.reason ?? '',
      analysis: analysis ? JSON.stringify({ look: analysis, sequential: r.sequential }) : '',
    };
    await appendDecision(this.deps.store, decision);
    this.deps.metrics.canaryDecisions.inc({ model: r.model, action: t.action });
    if (t.action !== 'analysis') this.deps.log.info({ model: r.model, action: t.action, state: t.next.state, weight: t.next.weight, actor }, 'canary decision');
    r.state = t.next;
    this.apply(r);
  }

  /** The live route for this state: one map entry swapped, so the hot path stays a lookup. */
  private apply(r: ModelRollout): void {
    const s = r.state;
    if (!s) return;
    this.deps.routes?.set(r.model, routeFor(r.model, r.deployments, s, r.plan.mirror));
    for (const t of r.deployments) {
      const weight = t.version === s.canary ? s.weight : t.version === s.baseline ? 100 - (s.canary === s.baseline ? 0 : s.weight) : 0;
      this.deps.metrics.canaryWeight.set({ model: r.model, version: t.version }, s.state === 'promoted' && t.version !== s.canary ? 0 : weight);
    }
  }

  private exportAnalysis(r: ModelRollout, analysis: LookAnalysis, data: LookData): void {
    this.deps.metrics.canaryScore.set({ model: r.model }, analysis.score);
    const { error_rate: _errors, ...slis } = data.ratios;
    for (const [sli, d] of Object.entries(discrepancies(slis, data.pairs))) {
      if (d.discrepancy !== null) this.deps.metrics.canaryDiscrepancy.set({ model: r.model, sli }, d.discrepancy);
      if (d.pairDisagreement !== null) this.deps.metrics.canaryPairDisagreement.set({ model: r.model, sli }, d.pairDisagreement);
    }
  }

  private async page(r: ModelRollout, s: RolloutState, analysis: LookAnalysis): Promise<void> {
    if (!this.deps.alertmanager) return;
    const failing = analysis.metrics.filter((m) => m.classification === 'high' || m.classification === 'low');
    const samples = `${this.deps.adminUrl ?? 'http://127.0.0.1:8080'}/api/samples?model=${encodeURIComponent(r.model)}&version=${encodeURIComponent(s.canary)}&verdict=bad`;
    const now = new Date().toISOString();
    const alert: PostableAlert = {
      labels: { alertname: CANARY_ROLLBACK_ALERT, model: r.model, version: s.canary, baseline: s.baseline, severity: 'page' },
      annotations: {
        summary: `canary ${s.canary} of ${r.model} rolled back to weight 0: ${analysis.verdict}, score ${analysis.score.toFixed(0)}`,
        failing_metrics: failing.map((m) => `${m.name}: ${m.classification} (effect ${m.effect?.toFixed(4) ?? 'n/a'}, p ${m.pValue?.toExponential(2) ?? 'n/a'})`).join('; ') || analysis.reason,
        samples,
      },
      startsAt: now,
      // A rollback is an event: the page stands for an hour unless someone resolves it sooner.
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    };
    await this.deps.alertmanager.post([alert]);
  }
}

function parseAnalysis(text: string): { look: LookAnalysis; sequential: SequentialState } | null {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * A proxy-only process (`serve --role proxy`) follows the controller's decisions through the shared
 * store: it reads the latest decision per model every `everyMs` and swaps its routes.
 */
export class CanaryFollower {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly routes: RouteTable,
    private readonly log: FastifyBaseLogger,
    private readonly everyMs = 1_000,
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sync(): Promise<void> {
    try {
      const latest = await latestDecisions(this.store);
      for (const m of this.config.models) {
        const s = latest.get(m.name);
        if (!m.rollout) continue;
        if (!s) {
          // requireGate: no rollout has started, so an ungated canary deployment gets no traffic here either.
          if (m.rollout.requireGate) this.routes.set(m.name, routeFor(m.name, m.deployments.map((d) => toTarget(m.name, d)), ungated(m.name, m.deployments.find((d) => roleOf(d) === 'baseline')?.version ?? ''), 0));
          continue;
        }
        this.routes.set(m.name, routeFor(m.name, m.deployments.map((d) => toTarget(m.name, d)), s, normaliseRollout(m.rollout).mirror));
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read canary decisions; keeping the current routes');
    }
  }
}

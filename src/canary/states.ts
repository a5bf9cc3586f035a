// The words of a canary rollout, defined once: config, API, CLI, log and docs use these.

/** Where a model's rollout stands. */
export const CANARY_STATES = ['idle', 'running', 'holding', 'paused', 'promoted', 'rolled_back'] as const;
export type CanaryStateName = (typeof CANARY_STATES)[number];

/** What a decision did. `analysis` records a look that changed nothing. */
export const CANARY_ACTIONS = ['start', 'analysis', 'advance', 'hold', 'promote', 'rollback', 'pause', 'resume'] as const;
export type CanaryAction = (typeof CANARY_ACTIONS)[number];

/** The manual actions the admin API and the CLI take (POST /api/canary/:model/<action>). */
export const MANUAL_ACTIONS = ['promote', 'rollback', 'pause', 'resume'] as const;
export type ManualAction = (typeof MANUAL_ACTIONS)[number];

/** A model's rollout as of its latest decision (a row of canary_decisions). */
export interface RolloutState {
  model: string;
  baseline: string;
  /** The version under test ('' when none). */
  canary: string;
  /** The canary's share of traffic, percent. */
  weight: number;
  /** Index into the plan's steps; -1 before the first. */
  step: number;
  state: CanaryStateName;
  /** When the rollout began (epoch ms): each look reads every sample since (the tests are sequential). */
  started: number;
  /** When the current step began (epoch ms). */
  stepStarted: number;
  /** When this state was decided (epoch ms). */
  ts: number;
}

/** States in which the canary still receives traffic and is judged. */
export function isActive(state: CanaryStateName): boolean {
  return state === 'running' || state === 'holding' || state === 'paused';
}

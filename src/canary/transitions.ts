// How a rollout moves: from a state and a verdict (or a manual action) to the next state. Pure.
import type { CanaryAction, CanaryStateName, ManualAction, RolloutState } from './states.js';

/** What a look decided (src/canary/score.ts maps the verdict through onFail/onMarginal/onInconclusive). */
export type LookAction = 'advance' | 'hold' | 'rollback';

export interface Transition {
  next: RolloutState;
  action: CanaryAction;
}

/** A canary starting its rollout at the first step. */
export function startRollout(model: string, baseline: string, canary: string, steps: number[], now: number): RolloutState {
  return { model, baseline, canary, weight: steps[0] ?? 0, step: 0, state: 'running', started: now, stepStarted: now, ts: now };
}

function moved(s: RolloutState, now: number, change: Partial<RolloutState>): RolloutState {
  return { ...s, ...change, ts: now };
}

function promoted(s: RolloutState, now: number): RolloutState {
  // The canary takes all traffic and is the baseline from now on.
  return moved(s, now, { baseline: s.canary, weight: 100, state: 'promoted' });
}

function rolledBack(s: RolloutState, now: number): RolloutState {
  return moved(s, now, { weight: 0, state: 'rolled_back' });
}

/**
 * After a look. `collecting` while some metric is still short of minSamples: an inconclusive look
 * then only means "not yet", and the step keeps collecting whatever the policy says.
 */
export function afterLook(s: RolloutState, action: LookAction, collecting: boolean, steps: number[], now: number): Transition {
  if (s.state !== 'running' && s.state !== 'holding') return { next: s, action: 'analysis' };
  if (action === 'advance') {
    if (s.step + 1 < steps.length) {
      return { next: moved(s, now, { step: s.step + 1, weight: steps[s.step + 1], state: 'running', stepStarted: now }), action: 'advance' };
    }
    return { next: promoted(s, now), action: 'promote' };
  }
  if (collecting) return { next: moved(s, now, { state: 'running' }), action: 'analysis' };
  if (action === 'rollback') return { next: rolledBack(s, now), action: 'rollback' };
  return { next: moved(s, now, { state: 'holding' }), action: s.state === 'holding' ? 'analysis' : 'hold' };
}

export class TransitionError extends Error {
  override name = 'TransitionError';
}

const ALLOWED: Record<ManualAction, CanaryStateName[]> = {
  promote: ['running', 'holding', 'paused'],
  rollback: ['running', 'holding', 'paused'],
  pause: ['running', 'holding'],
  resume: ['paused', 'holding'],
};

/** A person's action; a TransitionError names why it cannot apply in this state. */
export function manual(s: RolloutState, action: ManualAction, now: number): Transition {
  if (!ALLOWED[action].includes(s.state)) {
    throw new TransitionError(`cannot ${action} the canary of ${s.model}: its rollout is ${s.state} (${action} applies when ${ALLOWED[action].join(', ')})`);
  }
  if (action === 'promote') return { next: promoted(s, now), action };
  if (action === 'rollback') return { next: rolledBack(s, now), action };
  if (action === 'pause') return { next: moved(s, now, { state: 'paused' }), action };
  return { next: moved(s, now, { state: 'running' }), action };
}

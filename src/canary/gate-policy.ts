// rollout.requireGate, as pure functions: whether a version may start its canary given its gate runs,
// and the state that holds an ungated canary at no traffic.
import type { GateRun } from '../store/gate-runs.js';
import type { RolloutState } from './states.js';

/** Why a canary of `version` may not start, or null when it may. `runs`: the version's latest and latest passing gate run. */
export function gateRefusal(model: string, version: string, requireGate: boolean, runs: { latest: GateRun | null; passing: GateRun | null } | null): string | null {
  if (!requireGate || runs?.passing) return null;
  const latest = runs?.latest;
  return (
    `version '${version}' of ${model} has no passing release-gate run (rollout.requireGate is true)` +
    (latest ? `; its latest gate run ${latest.id} was ${latest.verdict}: ${latest.reason}` : '') +
    `; run tunewatch gate --model ${model} --candidate ${version} --golden FILE --record`
  );
}

/** No rollout yet because the canary has no passing gate run: everything on the baseline. */
export function ungated(model: string, baseline: string, now = Date.now()): RolloutState {
  return { model, baseline, canary: '', weight: 0, step: -1, state: 'idle', started: now, stepStarted: now, ts: now };
}

// The traffic split a rollout state asks for, as the proxy's route for one model. Pure: the
// controller swaps the result into the live route table, so the hot path stays one map lookup.
import type { ModelRoute, Target } from '../proxy/router.js';
import { isActive, type RolloutState } from './states.js';

/**
 * Canary first: its slice sits at the start of the hash space, so raising its weight only moves
 * baseline users onto it, and setting it to 0 moves every one of them back (see buildRoutes).
 * `mirrorShare` of baseline requests is copied to the canary while its rollout is active.
 */
export function routeFor(model: string, deployments: Target[], state: RolloutState, mirrorShare = 0): ModelRoute {
  const canary = deployments.find((t) => t.version === state.canary);
  const baseline = deployments.find((t) => t.version === state.baseline) ?? deployments.find((t) => t.role === 'baseline');
  const parts: { target: Target; weight: number }[] = [];
  const canaryWeight = canary && canary !== baseline ? Math.min(100, Math.max(0, state.weight)) : 0;
  if (canary && canaryWeight > 0) parts.push({ target: { ...canary, role: state.state === 'promoted' ? 'baseline' : 'canary', weight: canaryWeight }, weight: canaryWeight });
  if (baseline && canaryWeight < 100) parts.push({ target: { ...baseline, role: 'baseline', weight: 100 - canaryWeight }, weight: 100 - canaryWeight });
  let acc = 0;
  const bounds = parts.map((p) => (acc += p.weight));
  const route: ModelRoute = { model, targets: parts.map((p) => p.target), bounds, total: acc };
  if (canary && mirrorShare > 0 && isActive(state.state)) route.mirror = { target: { ...canary, role: 'canary' }, share: mirrorShare };
  return route;
}

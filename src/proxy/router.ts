import { roleOf, type Config, type DeploymentConfig, type Role } from '../config/schema.js';
import { hashKey } from '../util/hash.js';

export { hashKey };

/** A deployment as the proxy routes to it. */
export interface Target {
  model: string;
  version: string;
  role: Role;
  upstream: URL;
  upstreamModel: string;
  weight: number;
  apiKeyEnv?: string;
}

export interface ModelRoute {
  model: string;
  targets: Target[];
  /** Upper bounds of each target's slice of [0, total); canaries first (see buildRoutes). */
  bounds: number[];
  total: number;
  /** A canary that also answers a share of baseline requests, judged but never returned (canary rollouts). */
  mirror?: { target: Target; share: number };
}

export type RouteTable = Map<string, ModelRoute>;

export function toTarget(model: string, d: DeploymentConfig): Target {
  return {
    model,
    version: d.version,
    role: roleOf(d),
    upstream: new URL(d.upstream.replace(/\/+$/, '')),
    upstreamModel: d.upstreamModel ?? model,
    weight: d.weight,
    apiKeyEnv: d.apiKeyEnv,
  };
}

/**
 * Canary slices sit at the start of the hash space, so raising a canary's weight only moves
 * baseline users onto the canary (and lowering it only moves canary users back): a user never
 * flips between versions except in the direction the rollout is going.
 */
export function buildRoutes(models: Config['models']): RouteTable {
  const table: RouteTable = new Map();
  for (const m of models) {
    const targets = m.deployments
      .map((d) => toTarget(m.name, d))
      .filter((t) => t.weight > 0)
      .sort((a, b) => Number(b.role === 'canary') - Number(a.role === 'canary'));
    let acc = 0;
    const bounds = targets.map((t) => (acc += t.weight));
    table.set(m.name, { model: m.name, targets, bounds, total: acc });
  }
  return table;
}

/** Deterministic, weighted choice: the same key always lands on the same target for the same weights. */
export function pickTarget(route: ModelRoute, key: string): Target {
  const point = (hashKey(key) / 0x1_0000_0000) * route.total;
  for (let i = 0; i < route.bounds.length; i++) {
    if (point < route.bounds[i]) return route.targets[i];
  }
  return route.targets[route.targets.length - 1];
}

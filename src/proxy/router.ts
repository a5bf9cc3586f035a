import { roleOf, type Config, type DeploymentConfig, type Role } from '../config/schema.js';

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
}

export type RouteTable = Map<string, ModelRoute>;

function toTarget(model: string, d: DeploymentConfig): Target {
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

/** 32-bit FNV-1a followed by murmur3's finaliser, so similar keys (user-1, user-2) spread evenly. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic, weighted choice: the same key always lands on the same target for the same weights. */
export function pickTarget(route: ModelRoute, key: string): Target {
  const point = (hashKey(key) / 0x1_0000_0000) * route.total;
  for (let i = 0; i < route.bounds.length; i++) {
    if (point < route.bounds[i]) return route.targets[i];
  }
  return route.targets[route.targets.length - 1];
}

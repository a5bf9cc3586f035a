import { describe, expect, it } from 'vitest';
import { validate } from '../src/config/load.js';
import { buildRoutes, hashKey, pickTarget } from '../src/proxy/router.js';

const routesFor = (weights: [string, number, boolean][]) =>
  buildRoutes(
    validate({
      models: [{ name: 'm', deployments: weights.map(([version, weight, canary]) => ({ version, weight, canary, upstream: 'http://127.0.0.1:1/v1' })) }],
    }).models,
  ).get('m')!;

describe('weighted sticky routing', () => {
  it('splits 100k keys within 1% of the configured weights', () => {
    const route = routesFor([['v12', 70, false], ['v13', 25, true], ['v14', 5, false]]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const t = pickTarget(route, `user-${i}`);
      counts.set(t.version, (counts.get(t.version) ?? 0) + 1);
    }
    expect(Math.abs(counts.get('v12')! / 100_000 - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(counts.get('v13')! / 100_000 - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(counts.get('v14')! / 100_000 - 0.05)).toBeLessThan(0.01);
  });

  it('sends the same key to the same version every time', () => {
    const route = routesFor([['v12', 50, false], ['v13', 50, true]]);
    for (let i = 0; i < 1000; i++) expect(pickTarget(route, `k${i}`).version).toBe(pickTarget(route, `k${i}`).version);
  });

  it('only moves users towards the canary when its weight grows', () => {
    const before = routesFor([['v12', 95, false], ['v13', 5, true]]);
    const after = routesFor([['v12', 80, false], ['v13', 20, true]]);
    for (let i = 0; i < 20_000; i++) {
      const key = `user-${i}`;
      if (pickTarget(before, key).version === 'v13') expect(pickTarget(after, key).version).toBe('v13');
    }
  });

  it('never routes to a zero-weight deployment', () => {
    const route = routesFor([['v12', 100, false], ['v13', 0, true]]);
    for (let i = 0; i < 5000; i++) expect(pickTarget(route, `u${i}`).version).toBe('v12');
  });

  it('hashes similar keys far apart', () => {
    expect(hashKey('user-1')).not.toBe(hashKey('user-2'));
    expect(hashKey('')).toBe(hashKey(''));
  });
});

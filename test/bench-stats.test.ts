import { describe, expect, it } from 'vitest';
import { compareTails, median, percentile, pooled } from '../bench/stats.js';

const ascending = (xs: number[]) => Float64Array.from(xs).sort();

describe('bench statistics', () => {
  it('percentile is nearest-rank on an ascending array', () => {
    const xs = ascending(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 1)).toBe(100);
    expect(percentile(new Float64Array(0), 0.99)).toBeNaN();
  });

  it('pooled merges rounds into one ascending array', () => {
    expect([...pooled([ascending([3, 1]), ascending([2, 5, 4])])]).toEqual([1, 2, 3, 4, 5]);
  });

  it('median of an even and an odd count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
  });

  // Rounds whose level drifts (as a shared machine does), the same drift for both systems.
  const rounds = (shift: number) =>
    Array.from({ length: 10 }, (_, r) => ascending(Array.from({ length: 1000 }, (_, i) => 2 + (r % 3) * 4 + ((i * 7919) % 1000) / 100 + shift)));

  it('finds no difference between identical systems, with an interval around zero', () => {
    const cmp = compareTails(rounds(0), rounds(0), 0.99, { resamples: 200 });
    expect(cmp.difference).toBe(0);
    expect(cmp.low).toBeLessThanOrEqual(0);
    expect(cmp.high).toBeGreaterThanOrEqual(0);
  });

  it('finds a shift of 3 ms in the p99 and keeps it inside the interval', () => {
    const cmp = compareTails(rounds(3), rounds(0), 0.99, { resamples: 200 });
    expect(cmp.difference).toBeCloseTo(3, 6);
    expect(cmp.aQuantile - cmp.bQuantile).toBeCloseTo(3, 6);
    expect(cmp.low).toBeLessThanOrEqual(3 + 1e-9);
    expect(cmp.high).toBeGreaterThanOrEqual(3 - 1e-9);
  });

  it('is reproducible for a given seed', () => {
    const a = rounds(1);
    const b = rounds(0).reverse();
    expect(compareTails(a, b, 0.99, { seed: 7, resamples: 100 })).toEqual(compareTails(a, b, 0.99, { seed: 7, resamples: 100 }));
  });

  it('refuses rounds that do not pair up', () => {
    expect(() => compareTails(rounds(0), rounds(0).slice(1))).toThrow(/same number of rounds/);
    expect(() => compareTails([], [])).toThrow(/same number of rounds/);
  });
});

import { describe, expect, it } from 'vitest';
import { forEachInSlices } from '../src/util/slices.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('forEachInSlices', () => {
  it('visits every item in order and lets other work run between slices', async () => {
    const seen: number[] = [];
    let otherWorkRanAt = -1;
    setImmediate(() => (otherWorkRanAt = seen.length));
    await forEachInSlices([0, 1, 2, 3, 4, 5], (n) => {
      seen.push(n);
      busy(0.3); // each item is longer than a slice
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(otherWorkRanAt).toBeGreaterThan(0);
    expect(otherWorkRanAt).toBeLessThan(6);
  });

  it('does not yield while a slice has time left', async () => {
    let interleaved = false;
    setImmediate(() => (interleaved = true));
    await forEachInSlices([1, 2, 3], () => {}, 1000);
    expect(interleaved).toBe(false);
  });
});

import { performance } from 'node:perf_hooks';

/**
 * Runs `fn` over `items`, yielding to the event loop whenever `sliceMs` has passed. Background work
 * (capture, encoding) shares the event loop with the proxy: a request that arrives meanwhile waits
 * one slice per event-loop turn, and a request takes several turns, so slices are kept short.
 */
export async function forEachInSlices<T>(items: readonly T[], fn: (item: T) => void, sliceMs = 0.25): Promise<void> {
  let sliceStart = performance.now();
  for (const item of items) {
    fn(item);
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

import { readlinkSync } from 'node:fs';
import os from 'node:os';

/** The nice value of tunewatch's background work: the capture worker thread and the embedded store process. */
export const BACKGROUND_NICENESS = 10;

/**
 * Lowers the scheduling priority (raises the nice value) of the calling thread. Background work (the
 * capture worker, the embedded store) then yields the CPU to the proxy's thread whenever both want
 * it, so it cannot add to request latency on a busy machine, yet still uses every idle cycle.
 * Linux only (a thread is a task there, with its own nice value); elsewhere it does nothing.
 * Returns whether the priority was changed.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (nice <= 0 || process.platform !== 'linux') return false;
  try {
    // /proc/thread-self → "<pid>/task/<tid>": the id setpriority(2) takes for one thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, Math.min(19, Math.max(os.getPriority(tid), nice)));
    return true;
  } catch {
    return false;
  }
}

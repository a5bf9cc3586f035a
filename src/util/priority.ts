import { execFile } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';

/** The nice value of tunewatch's background work: the capture worker thread and the embedded store process. */
export const BACKGROUND_NICENESS = 10;

const CHRT = ['/usr/bin/chrt', '/bin/chrt'].find((p) => existsSync(p));
const NICE = ['/usr/bin/nice', '/bin/nice'].find((p) => existsSync(p));
const run = promisify(execFile);

/** `nice`, for starting a process at BACKGROUND_NICENESS; null where there is none. */
export function niceCommand(): string | null {
  return process.platform === 'win32' ? null : (NICE ?? null);
}

/**
 * Whether a thread at BACKGROUND_NICENESS under SCHED_IDLE may return to normal scheduling. Without
 * CAP_SYS_NICE that needs RLIMIT_NICE (often 0 for a non-root user), and a worker stuck in SCHED_IDLE
 * on a saturated box would never catch up: then it is only niced. Asked of `chrt` itself, once.
 * `prefix` runs the probe under other credentials (tests).
 */
export async function canLeaveIdle(prefix: string[] = []): Promise<boolean> {
  if (!CHRT || !NICE || process.platform !== 'linux') return false;
  const [cmd, ...args] = [...prefix, NICE, '-n', String(BACKGROUND_NICENESS), CHRT, '--idle', '0', CHRT, '--other', '0', 'true'];
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

let idleAllowed: Promise<boolean> | undefined;

/** The calling thread's kernel task id (Linux), which scheduling calls take for one thread; null elsewhere. */
export function currentThreadId(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    // /proc/thread-self → "<pid>/task/<tid>"
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return null;
  }
}

/**
 * Makes one thread background work, or takes it back to normal scheduling while keeping it niced.
 *
 * Background means Linux's SCHED_IDLE policy: the thread runs only on CPU time no normal thread
 * wants, so capture work cannot delay a proxied request, and still uses every idle cycle. A nice
 * value alone was not enough (bench/README.md): a niced thread still takes a time slice from a
 * proxy thread that wakes up. The policy is set with util-linux's `chrt`, as Node has no binding;
 * children started afterwards (the embedded store) inherit both. Where the thread could not come back
 * from SCHED_IDLE (see canLeaveIdle), it is only niced. Returns whether the policy was changed.
 */
export async function setBackground(tid: number | null, background: boolean): Promise<boolean> {
  if (tid === null) return false;
  try {
    os.setPriority(tid, Math.max(os.getPriority(tid), BACKGROUND_NICENESS));
    if (!CHRT || !(await (idleAllowed ??= canLeaveIdle()))) return false;
    await run(CHRT, [background ? '--idle' : '--other', '-p', '0', String(tid)]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The same for every thread of another process (the embedded store: chDB runs its own threads).
 * When the capture worker falls behind, its store must come out of SCHED_IDLE with it, or inserts
 * wait on a saturated box for CPU time that never comes.
 */
export async function setProcessBackground(pid: number | null, background: boolean): Promise<boolean> {
  if (pid === null || !CHRT || process.platform !== 'linux') return false;
  try {
    if (!(await (idleAllowed ??= canLeaveIdle()))) return false;
    await run(CHRT, ['--all-tasks', background ? '--idle' : '--other', '-p', '0', String(pid)]);
    return true;
  } catch {
    return false;
  }
}

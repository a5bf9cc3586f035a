import { spawn } from 'node:child_process';
import os from 'node:os';

/**
 * V8 flags the proxy process runs with. `--single-threaded-gc`: V8's parallel GC helper threads
 * are shared by every thread of the process, so the capture worker's garbage (evaluation and
 * redaction allocate a lot) was collected at full priority on the cores the proxy needs, which
 * showed in its p99 (see bench/README.md). Each thread now collects its own garbage, the capture
 * worker at its lowered priority. V8 only takes these at start-up (not in NODE_OPTIONS either).
 */
export const PROXY_NODE_FLAGS = ['--single-threaded-gc'];

const RELAUNCHED = 'TUNEWATCH_RELAUNCHED';

/** True when this process lacks PROXY_NODE_FLAGS (and is not already a relaunch). */
export function needsProxyFlags(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[RELAUNCHED] !== '1' && PROXY_NODE_FLAGS.some((flag) => !process.execArgv.includes(flag));
}

/**
 * Runs this same command again in a child process with PROXY_NODE_FLAGS, passes signals on (so
 * SIGTERM still drains), and exits with the child's status.
 */
export function relaunchWithProxyFlags(): Promise<never> {
  const child = spawn(process.execPath, [...PROXY_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [RELAUNCHED]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((_resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 1)));
  });
}

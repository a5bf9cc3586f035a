// The `command` launcher, the embedded default: runs the trainer as a local process with the
// TUNEWATCH_* environment, its output in the job's log, and its exit status in exit.json next to the
// log, so a restarted tunewatch still learns how a job it started ended.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CommandLauncherConfig } from '../../config/schema.js';
import { LauncherError, trainerEnv, type JobHandle, type Launcher, type LaunchSpec, type Observed, type Submitted } from './launcher.js';
import { resolveCommand } from './resolve-command.js';

/** What exit.json holds once the process has ended. */
interface ExitRecord {
  exitCode: number | null;
  signal: string | null;
  cancelled: boolean;
}

const exitFile = (job: { log: string }) => join(dirname(job.log), 'exit.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class CommandLauncher implements Launcher {
  readonly kind = 'command' as const;
  private readonly cancelling = new Set<string>();

  constructor(
    private readonly config: CommandLauncherConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async submit(spec: LaunchSpec): Promise<Submitted> {
    const cwd = this.config.cwd ?? process.cwd();
    const [program, ...args] = resolveCommand(this.config.command, cwd);
    mkdirSync(dirname(spec.logPath), { recursive: true });
    mkdirSync(spec.outputDir, { recursive: true });
    const log = openSync(spec.logPath, 'a');
    try {
      const child = spawn(program!, args, {
        cwd,
        env: { ...this.env, ...this.config.env, ...trainerEnv(spec) },
        stdio: ['ignore', log, log],
        // Its own process group: cancel stops the trainer and anything it started.
        detached: true,
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', (err) => reject(new LauncherError('command', `cannot start ${this.config.command.join(' ')}: ${err.message}`)));
      });
      child.once('exit', (code, signal) => {
        const record: ExitRecord = { exitCode: code, signal, cancelled: this.cancelling.delete(String(pid)) };
        writeFileSync(exitFile({ log: spec.logPath }), JSON.stringify(record));
      });
      child.unref();
      return { launcherId: String(pid), log: spec.logPath, output: spec.outputDir };
    } finally {
      closeSync(log);
    }
  }

  async status(job: JobHandle): Promise<Observed> {
    const file = exitFile(job);
    if (existsSync(file)) {
      const record = JSON.parse(readFileSync(file, 'utf8')) as ExitRecord;
      if (record.cancelled) return { state: 'cancelled', exitCode: record.exitCode ?? undefined, error: 'cancelled' };
      if (record.exitCode === 0) return { state: 'succeeded', exitCode: 0 };
      const how = record.signal ? `killed by ${record.signal}` : `exited with status ${record.exitCode}`;
      return { state: 'failed', exitCode: record.exitCode ?? undefined, error: `the trainer ${how}; see ${job.log}` };
    }
    const pid = Number(job.launcherId);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return { state: 'running' };
    return { state: 'failed', error: `process ${job.launcherId} ended without an exit status (tunewatch was not running when it ended); see ${job.log}` };
  }

  async cancel(job: JobHandle): Promise<void> {
    const pid = Number(job.launcherId);
    if (!Number.isInteger(pid) || pid <= 0) throw new LauncherError('command', `no process to cancel for job ${job.id}`);
    if (existsSync(exitFile(job))) return;
    this.cancelling.add(String(pid));
    try {
      process.kill(-pid, 'SIGTERM');
      // A trainer that ignores SIGTERM is killed after a grace period.
      setTimeout(() => {
        if (alive(pid)) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            /* gone meanwhile */
          }
        }
      }, 5_000).unref();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw new LauncherError('command', `cannot stop process ${pid}: ${(err as Error).message}`);
    }
    // A process that was not our child (tunewatch restarted since) leaves no exit record: write it.
    if (!existsSync(exitFile(job)) && !alive(pid)) writeFileSync(exitFile(job), JSON.stringify({ exitCode: null, signal: 'SIGTERM', cancelled: true } satisfies ExitRecord));
  }
}

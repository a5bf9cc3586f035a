// The Slurm launcher: a batch script next to the job's log, submitted with sbatch --parsable and
// followed with squeue, then scontrol once the job has left the queue. No slurmdbd is assumed (sacct
// needs one), so a finished job is known only for the cluster's MinJobAge (300 s by default); a job
// Slurm has forgotten is reported failed rather than guessed at. Parsing and rendering are pure
// functions below, tested without Slurm; the class only runs the client binaries (execFile, no shell).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../config/paths.js';
import { resolveCommand } from './resolve-command.js';
import type { SlurmLauncherConfig } from '../../config/schema.js';
import type { JobState } from '../states.js';
import { LauncherError, trainerEnv, type JobHandle, type LaunchSpec, type Launcher, type Observed, type Submitted } from './launcher.js';

const fail = (message: string): never => {
  throw new LauncherError('slurm', message);
};

/** A value for the shell, single-quoted: nothing in it is expanded (a ' becomes '\''). */
export const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** The batch script's path for a job: next to its log. */
export const batchScriptPath = (logPath: string): string => join(dirname(resolve(logPath)), 'job.sbatch');

/** What one job asks of sbatch, paths absolute. */
export interface BatchJob {
  jobId: string;
  logPath: string;
  cwd: string;
  gpus: number;
  partition?: string;
  timeLimit?: string;
  account?: string;
  cpusPerTask?: number;
  env: Record<string, string>;
  command: string[];
}

/**
 * The sbatch options, in the order both the #SBATCH lines and the command line use. #SBATCH lines
 * are not shell but Slurm's own parser (quotes group, nothing escapes), so a value with a double
 * quote or a control character cannot be written safely there and is refused.
 */
export function sbatchOptions(job: BatchJob): string[] {
  const opts: [string, string | number | undefined][] = [
    ['job-name', job.jobId],
    ['output', job.logPath],
    ['gres', job.gpus > 0 ? `gpu:${job.gpus}` : undefined],
    ['partition', job.partition],
    ['time', job.timeLimit],
    ['account', job.account],
    ['cpus-per-task', job.cpusPerTask],
    ['chdir', job.cwd],
  ];
  return opts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const value = String(v);
      if (/["\u0000-\u001f\u007f]/.test(value)) fail(`--${k} ${JSON.stringify(value)} has a double quote or control character, which a batch script cannot carry`);
      return `--${k}=${value}`;
    });
}

/** The batch script: #SBATCH lines (so it can be resubmitted by hand), the trainer env, the command. */
export function renderBatchScript(job: BatchJob): string {
  const sbatch = sbatchOptions(job).map((o) => `#SBATCH ${o.includes(' ') ? o.replace('=', '="') + '"' : o}`);
  const env = Object.entries(job.env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) fail(`environment name ${JSON.stringify(k)} is not a shell variable name`);
    return `export ${k}=${shellQuote(v)}`;
  });
  return [
    '#!/bin/bash',
    `# Written by tunewatch's slurm launcher for job ${job.jobId}.`,
    ...sbatch,
    ...env,
    // Which GPUs Slurm gave the job, in the log: the first thing to check when a trainer sees none.
    'echo "tunewatch: slurm job ${SLURM_JOB_ID:-?} on $(hostname) CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-}"',
    // exec: the trainer's exit code is the job's, and scancel's signal reaches it directly.
    `exec ${job.command.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}

/** sbatch --parsable prints `jobid` or `jobid;cluster`. */
export function parseSbatch(stdout: string): { jobId: string; cluster?: string } {
  const m = /^(\d+)(?:;(\S+))?$/.exec(stdout.trim());
  if (!m) return fail(`sbatch printed ${JSON.stringify(stdout.trim())}, not a job id`);
  return m[2] ? { jobId: m[1]!, cluster: m[2] } : { jobId: m[1]! };
}

const STATES: Record<string, JobState> = {
  PENDING: 'submitted',
  CONFIGURING: 'submitted',
  REQUEUED: 'submitted',
  REQUEUE_HOLD: 'submitted',
  REQUEUE_FED: 'submitted',
  RESV_DEL_HOLD: 'submitted',
  RUNNING: 'running',
  COMPLETING: 'running',
  // Still holding its allocation: not finished, so not terminal.
  SUSPENDED: 'running',
  STOPPED: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  RESIZING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  OUT_OF_MEMORY: 'failed',
  NODE_FAIL: 'failed',
  BOOT_FAIL: 'failed',
  DEADLINE: 'failed',
  PREEMPTED: 'failed',
  SPECIAL_EXIT: 'failed',
  REVOKED: 'cancelled',
  CANCELLED: 'cancelled',
};

/** A Slurm state word as a job state; squeue can add a suffix (e.g. `CANCELLED by 0`). */
export function mapSlurmState(word: string): JobState {
  const state = STATES[word.trim().split(/\s+/)[0]!.replace(/\+$/, '')];
  return state ?? fail(`unknown Slurm job state ${JSON.stringify(word.trim())}`);
}

/** squeue -h -j ID -o %T: one state word, or nothing once the job has left the queue. */
export function parseSqueue(stdout: string): string | null {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return null;
  if (lines.length > 1 || !/^[A-Z_]+$/.test(lines[0]!)) fail(`squeue printed ${JSON.stringify(stdout.trim())}, not one state`);
  return lines[0]!;
}

/**
 * scontrol show job ID → Observed. Keys are read as whitespace-separated tokens; the job name (the
 * only free text before them) is our own safe job id, so it cannot fake a JobState= token.
 */
export function parseScontrol(text: string, launcherId: string): Observed {
  const field = (key: string): string | undefined => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(text)?.[1];
  const word = field('JobState');
  if (!word) return fail(`scontrol show job ${launcherId} has no JobState: ${JSON.stringify(text.slice(0, 200))}`);
  const state = mapSlurmState(word);
  const reason = field('Reason');
  const detail = `JobState=${word} Reason=${reason ?? '?'} ExitCode=${field('ExitCode') ?? '?'}`;
  if (state !== 'succeeded' && state !== 'failed' && state !== 'cancelled') return { state, detail };
  // ExitCode=code:signal. A job killed by a signal (TIMEOUT gives 0:15) reports 128+signal, as a shell would.
  const m = /^(\d+):(\d+)$/.exec(field('ExitCode') ?? '');
  if (!m) return fail(`scontrol show job ${launcherId}: ExitCode ${JSON.stringify(field('ExitCode'))} is not code:signal`);
  const [code, signal] = [Number(m[1]), Number(m[2])];
  const exitCode = signal > 0 && code === 0 ? 128 + signal : code;
  if (state === 'succeeded') return { state, exitCode, detail };
  const how = signal > 0 ? `killed by signal ${signal}` : `exit code ${code}`;
  const why = reason && reason !== 'None' ? `, reason ${reason}` : '';
  const error = state === 'cancelled' ? `slurm job ${launcherId} was ${word}${why}` : `slurm job ${launcherId} ended ${word} (${how}${why})`;
  return { state, exitCode, error, detail };
}

/** scontrol's and squeue's words for a job the controller does not know (never, or no longer). */
export const isInvalidJobId = (stderr: string): boolean => /Invalid job id specified/i.test(stderr);

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

export class SlurmLauncher implements Launcher {
  readonly kind = 'slurm' as const;
  private readonly root: string;

  constructor(
    private readonly config: SlurmLauncherConfig,
    options: { packageRoot?: string } = {},
  ) {
    this.root = options.packageRoot ?? packageRoot();
  }

  /** Runs a Slurm client. A missing binary or a timeout throws; a non-zero exit is the caller's to judge. */
  private run(bin: string, args: string[]): Promise<Run> {
    const file = this.config.binDir ? join(this.config.binDir, bin) : bin;
    const shown = `${bin} ${args.join(' ')}`;
    return new Promise((done, reject) => {
      execFile(file, args, { timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (e?.code === 'ENOENT') return reject(new LauncherError('slurm', `${shown}: ${file} not found${this.config.binDir ? ` (binDir ${this.config.binDir})` : ' on PATH (set retrain.launcher.binDir)'}`));
        if (e?.killed) return reject(new LauncherError('slurm', `${shown}: no answer within 60 s`));
        if (e && typeof e.code !== 'number') return reject(new LauncherError('slurm', `${shown}: ${e.message}`));
        done({ stdout, stderr, code: typeof e?.code === 'number' ? e.code : 0 });
      });
    });
  }

  private async ok(bin: string, args: string[]): Promise<Run> {
    const r = await this.run(bin, args);
    if (r.code !== 0) fail(`${bin} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim() || '(no output)'}`);
    return r;
  }

  async submit(spec: LaunchSpec): Promise<Submitted> {
    // The interface promises a name-safe id; checked, because it goes into #SBATCH and scontrol parsing.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(spec.jobId)) fail(`job id ${JSON.stringify(spec.jobId)} is not safe as a Slurm job name`);
    const cwd = resolve(this.config.cwd ?? process.cwd());
    const logPath = resolve(spec.logPath);
    const job: BatchJob = {
      jobId: spec.jobId,
      logPath,
      cwd,
      gpus: this.config.gpus ?? 1,
      partition: this.config.partition,
      timeLimit: this.config.timeLimit,
      account: this.config.account,
      cpusPerTask: this.config.cpusPerTask,
      env: trainerEnv(spec),
      command: resolveCommand(this.config.command ?? ['node', 'train.mjs'], cwd, this.root),
    };
    const script = batchScriptPath(logPath);
    const options = sbatchOptions(job);
    // Slurm does not create the --output folder (the job would fail without a log): make it here.
    mkdirSync(dirname(logPath), { recursive: true });
    mkdirSync(spec.outputDir, { recursive: true });
    writeFileSync(script, renderBatchScript(job), { mode: 0o700 });
    // The options go on the command line too: they win over #SBATCH lines, so no line is misread.
    const r = await this.ok('sbatch', ['--parsable', ...options, script]);
    const { jobId } = parseSbatch(r.stdout);
    return { launcherId: jobId, log: logPath, output: spec.outputDir };
  }

  async status(job: JobHandle): Promise<Observed> {
    const id = this.checkId(job.launcherId);
    // squeue lists only queued/running jobs (empty once finished; "Invalid job id" once purged).
    const q = await this.run('squeue', ['-h', '-j', id, '-o', '%T']);
    if (q.code !== 0 && !isInvalidJobId(q.stderr)) fail(`squeue -h -j ${id} -o %T exited ${q.code}: ${q.stderr.trim() || '(no output)'}`);
    const word = q.code === 0 ? parseSqueue(q.stdout) : null;
    if (word) {
      const state = mapSlurmState(word);
      if (state === 'submitted' || state === 'running') return { state, detail: `JobState=${word}` };
    }
    // Finished (or squeue raced the end): scontrol keeps the final state and exit code for MinJobAge.
    const s = await this.run('scontrol', ['show', 'job', id]);
    if (s.code !== 0 && isInvalidJobId(s.stderr)) {
      return { state: 'failed', error: `slurm no longer knows job ${id} (finished longer ago than the cluster's MinJobAge, or never submitted); without slurmdbd its end state is lost` };
    }
    if (s.code !== 0) fail(`scontrol show job ${id} exited ${s.code}: ${s.stderr.trim() || '(no output)'}`);
    return parseScontrol(s.stdout, id);
  }

  async cancel(job: JobHandle): Promise<void> {
    // scancel of a finished or forgotten job exits 0 on 22.05: nothing is left to stop either way.
    await this.ok('scancel', [this.checkId(job.launcherId)]);
  }

  private checkId(id: string): string {
    return /^\d+$/.test(id) ? id : fail(`launcher id ${JSON.stringify(id)} is not a Slurm job id`);
  }
}

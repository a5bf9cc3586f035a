// The slurm launcher. Pure parts (script rendering and quoting, sbatch/squeue/scontrol parsing, state
// mapping, client errors) run everywhere; the rest submits real jobs running the real train.mjs to a
// real Slurm (.ci/slurm.sh sets up one node with two fake GPUs). Without a reachable Slurm those are
// skipped with the reason, except under CI=true, where they fail: CI must not pass by skipping them.
import { resolveCommand } from '../src/feedback/launchers/resolve-command.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/config/paths.js';
import type { SlurmLauncherConfig } from '../src/config/schema.js';
import { LauncherError, type JobHandle, type LaunchSpec } from '../src/feedback/launchers/launcher.js';
import {
  mapSlurmState,
  parseSbatch,
  parseScontrol,
  parseSqueue,
  renderBatchScript,
  sbatchOptions,
  SlurmLauncher,
  type BatchJob,
} from '../src/feedback/launchers/slurm.js';
import type { JobState } from '../src/feedback/states.js';
import type { Manifest } from '../src/feedback/types.js';
import { tempDir } from './helpers.js';

const inCi = process.env.CI === 'true';
const config = (over: Partial<SlurmLauncherConfig> = {}): SlurmLauncherConfig => ({ kind: 'slurm', command: ['node', 'train.mjs'], gpus: 1, ...over });

/** Why the real-Slurm tests cannot run here, or null when they can. */
function slurmUnavailable(): string | null {
  try {
    execFileSync('sh', ['-c', 'command -v slurmctld'], { stdio: 'pipe' });
  } catch {
    return 'slurmctld is not installed (apt-get install slurm-wlm munge, then bash .ci/slurm.sh as root)';
  }
  let states: string;
  try {
    states = execFileSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', stdio: 'pipe', timeout: 15_000 });
  } catch (e) {
    return `sinfo failed, the cluster is unreachable (run bash .ci/slurm.sh as root): ${(e as { stderr?: string }).stderr?.trim() ?? e}`;
  }
  // A node that takes jobs: idle, or partly busy with someone else's.
  if (!/^(idle|mixed|allocated)$/m.test(states)) return `no Slurm node is idle (sinfo says ${JSON.stringify(states.trim())}; see bash .ci/slurm.sh)`;
  return null;
}
const unavailable = slurmUnavailable();
if (unavailable && !inCi) console.warn(`real-Slurm tests skipped: ${unavailable}`);

const job = (over: Partial<BatchJob> = {}): BatchJob => ({
  jobId: 'ft-support-bot-0123abcd',
  logPath: '/data/jobs/ft/train.log',
  cwd: '/srv/tunewatch',
  gpus: 1,
  env: { TUNEWATCH_JOB_ID: 'ft-support-bot-0123abcd' },
  command: ['/usr/bin/node', '/srv/tunewatch/train.mjs'],
  ...over,
});

describe('batch script', () => {
  it('carries every sbatch option as an #SBATCH line', () => {
    const script = renderBatchScript(job({ partition: 'gpu', timeLimit: '02:00:00', account: 'ml', cpusPerTask: 8 }));
    expect(script.split('\n').filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=ft-support-bot-0123abcd',
      '#SBATCH --output=/data/jobs/ft/train.log',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --partition=gpu',
      '#SBATCH --time=02:00:00',
      '#SBATCH --account=ml',
      '#SBATCH --cpus-per-task=8',
      '#SBATCH --chdir=/srv/tunewatch',
    ]);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain("exec '/usr/bin/node' '/srv/tunewatch/train.mjs'\n");
    expect(script).toContain('CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-}');
  });

  it('asks for no GPU when gpus is 0, and quotes a path with spaces the way #SBATCH parsing wants', () => {
    const script = renderBatchScript(job({ gpus: 0, logPath: '/data/my jobs/train.log' }));
    expect(script).not.toContain('--gres');
    expect(script).toContain('#SBATCH --output="/data/my jobs/train.log"');
  });

  it('refuses values a #SBATCH line cannot carry (a newline would start a shell line)', () => {
    for (const logPath of ['/data/x\nrm -rf /\n/train.log', '/data/"quoted"/train.log']) {
      expect(() => sbatchOptions(job({ logPath }))).toThrow(LauncherError);
    }
    expect(() => renderBatchScript(job({ env: { 'BAD NAME': 'x' } }))).toThrow(/not a shell variable name/);
  });

  it('hands hostile values to the trainer byte for byte (bash runs the script)', () => {
    const hostile = {
      TUNEWATCH_A: "it's $(touch /tmp/pwned) `id` $HOME \\ \"q\"",
      TUNEWATCH_B: 'line1\nline2; exit 9',
      TUNEWATCH_C: '',
      TUNEWATCH_D: "'''",
    };
    const dir = tempDir('tunewatch-slurm-');
    const file = join(dir, 'job.sbatch');
    const print = 'console.log(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("TUNEWATCH_")))))';
    writeFileSync(file, renderBatchScript(job({ env: hostile, command: [process.execPath, '-e', print] })));
    const out = execFileSync('bash', [file], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(JSON.parse(out.split('\n').at(-2)!)).toEqual(hostile);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });
});

describe('command resolution', () => {
  const root = packageRoot();
  it('runs node as this node binary and takes a script missing from cwd from the package root', () => {
    const cwd = tempDir('tunewatch-slurm-');
    expect(resolveCommand(['node', 'train.mjs', '--sleep-ms=5'], cwd, root)).toEqual([process.execPath, join(root, 'train.mjs'), '--sleep-ms=5']);
    expect(resolveCommand(['node', '--enable-source-maps', 'train.mjs'], cwd, root)[2]).toBe(join(root, 'train.mjs'));
  });
  it('keeps a script that exists in cwd, absolute paths and other programs as given', () => {
    const cwd = tempDir('tunewatch-slurm-');
    writeFileSync(join(cwd, 'train.mjs'), '');
    expect(resolveCommand(['node', 'train.mjs'], cwd, root)).toEqual([process.execPath, 'train.mjs']);
    expect(resolveCommand(['python3', '/opt/trl/sft.py'], cwd, root)).toEqual(['python3', '/opt/trl/sft.py']);
    expect(resolveCommand(['torchrun', 'train.mjs'], cwd, root)).toEqual(['torchrun', 'train.mjs']);
  });
});

// Outputs below are copied from slurm-wlm 22.05.8 on this machine image.
const SCONTROL_FAILED = `JobId=1 JobName=wrap
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   Priority=4294901759 Nice=0 Account=(null) QOS=(null)
   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0
   RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A
   StdOut=/tmp/sl/o1.log
   TresPerNode=gres:gpu:1
`;
const scontrol = (state: string, reason: string, exit: string) => SCONTROL_FAILED.replace('JobState=FAILED Reason=NonZeroExitCode', `JobState=${state} Reason=${reason}`).replace('ExitCode=3:0', `ExitCode=${exit}`);

describe('parsing Slurm', () => {
  it('reads sbatch --parsable', () => {
    expect(parseSbatch('42\n')).toEqual({ jobId: '42' });
    expect(parseSbatch('42;cluster-a\n')).toEqual({ jobId: '42', cluster: 'cluster-a' });
    expect(() => parseSbatch('sbatch: error: something\n')).toThrow(/sbatch printed/);
    expect(() => parseSbatch('')).toThrow(LauncherError);
  });

  it('reads squeue -o %T (empty once the job has left the queue)', () => {
    expect(parseSqueue('RUNNING\n')).toBe('RUNNING');
    expect(parseSqueue('\n')).toBeNull();
    expect(() => parseSqueue('RUNNING\nPENDING\n')).toThrow(/not one state/);
  });

  it('maps every Slurm state the brief names', () => {
    const expected: Record<string, JobState> = {
      PENDING: 'submitted', CONFIGURING: 'submitted', RUNNING: 'running', COMPLETING: 'running', COMPLETED: 'succeeded',
      FAILED: 'failed', TIMEOUT: 'failed', OUT_OF_MEMORY: 'failed', NODE_FAIL: 'failed', BOOT_FAIL: 'failed',
      DEADLINE: 'failed', PREEMPTED: 'failed', CANCELLED: 'cancelled',
    };
    for (const [word, state] of Object.entries(expected)) expect([word, mapSlurmState(word)]).toEqual([word, state]);
    expect(mapSlurmState('CANCELLED by 0')).toBe('cancelled');
    expect(() => mapSlurmState('EXPLODED')).toThrow(/unknown Slurm job state "EXPLODED"/);
  });

  it('reads scontrol show job into an observation', () => {
    expect(parseScontrol(SCONTROL_FAILED, '1')).toMatchObject({ state: 'failed', exitCode: 3, error: 'slurm job 1 ended FAILED (exit code 3, reason NonZeroExitCode)' });
    expect(parseScontrol(scontrol('COMPLETED', 'None', '0:0'), '1')).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(parseScontrol(scontrol('CANCELLED', 'None', '0:15'), '1')).toMatchObject({ state: 'cancelled', error: 'slurm job 1 was CANCELLED' });
    // A time limit kills with SIGTERM: ExitCode=0:15, reported as a shell would (143).
    expect(parseScontrol(scontrol('TIMEOUT', 'TimeLimit', '0:15'), '1')).toMatchObject({
      state: 'failed', exitCode: 143, error: 'slurm job 1 ended TIMEOUT (killed by signal 15, reason TimeLimit)',
    });
    expect(parseScontrol(scontrol('OUT_OF_MEMORY', 'OutOfMemory', '0:125'), '1').error).toContain('OUT_OF_MEMORY');
    expect(parseScontrol(scontrol('PENDING', 'Resources', '0:0'), '1')).toEqual({ state: 'submitted', detail: 'JobState=PENDING Reason=Resources ExitCode=0:0' });
    expect(() => parseScontrol('nothing here', '1')).toThrow(/no JobState/);
    expect(() => parseScontrol(scontrol('FAILED', 'None', 'n/a'), '1')).toThrow(/not code:signal/);
  });
});

describe('client errors', () => {
  const spec = (dir: string): LaunchSpec => ({
    jobId: 'ft-x', model: 'm', baseModel: 'b', outputDir: join(dir, 'out'), logPath: join(dir, 'job', 'train.log'),
    dataset: { dir, train: join(dir, 'train.jsonl'), validation: join(dir, 'validation.jsonl'), preferences: null, preferencesValidation: null, manifest: join(dir, 'manifest.json') },
  });
  const handle: JobHandle = { id: 'ft-x', launcherId: '7', log: '/x', output: '/y' };

  it('names the missing binary and the binDir it looked in', async () => {
    const empty = tempDir('tunewatch-slurm-bin-');
    const launcher = new SlurmLauncher(config({ binDir: empty }));
    await expect(launcher.submit(spec(tempDir()))).rejects.toThrow(new RegExp(`slurm launcher: sbatch .*${empty}/sbatch not found \\(binDir`));
    await expect(launcher.status(handle)).rejects.toThrow(/squeue -h -j 7 -o %T: .* not found/);
    await expect(launcher.cancel(handle)).rejects.toThrow(LauncherError);
  });

  it('names the command and its stderr when a client fails (a stand-in client for "controller down")', async () => {
    // The one error real Slurm cannot be made to give on demand here; a two-line stand-in prints Slurm's words.
    const bin = tempDir('tunewatch-slurm-bin-');
    writeFileSync(join(bin, 'squeue'), '#!/bin/sh\necho "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2\nexit 1\n');
    chmodSync(join(bin, 'squeue'), 0o755);
    const err = await new SlurmLauncher(config({ binDir: bin })).status(handle).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LauncherError);
    expect((err as Error).message).toBe('slurm launcher: squeue -h -j 7 -o %T exited 1: slurm_load_jobs error: Unable to contact slurm controller (connect failure)');
  });

  it('refuses ids that are not Slurm job ids or safe job names', async () => {
    const launcher = new SlurmLauncher(config());
    await expect(launcher.status({ ...handle, launcherId: '7; rm -rf /' })).rejects.toThrow(/not a Slurm job id/);
    await expect(launcher.submit({ ...spec(tempDir()), jobId: 'a b' })).rejects.toThrow(/not safe as a Slurm job name/);
  });
});

/** A tiny dataset as the exporter writes it: OpenAI chat JSONL and a manifest with each file's SHA-256. */
function writeDataset(dir: string): LaunchSpec['dataset'] {
  mkdirSync(dir, { recursive: true });
  const row = (q: string, a: string) => JSON.stringify({ messages: [{ role: 'system', content: 'Be helpful.' }, { role: 'user', content: q }, { role: 'assistant', content: a }] });
  const files = { 'train.jsonl': [row('Reset my password?', 'Use Settings → Security.'), row('Cancel order 7', 'Order 7 is cancelled.')], 'validation.jsonl': [row('Hi', 'Hello! How can I help?')] };
  const entries = Object.entries(files).map(([name, rows]) => {
    const text = rows.join('\n') + '\n';
    writeFileSync(join(dir, name), text);
    return { name, kind: 'sft' as const, split: name.startsWith('train') ? ('train' as const) : ('validation' as const), format: 'openai', rows: rows.length, sha256: createHash('sha256').update(text).digest('hex') };
  });
  const manifest: Manifest = {
    id: 'ds-0123456789abcdef', model: 'support-bot', contentHash: '0'.repeat(64), createdAt: new Date().toISOString(), tunewatchVersion: '0.1.0',
    baseModel: 'llama-3-8b', samples: ['r1', 'r2', 'r3'], sourceVersions: ['v12'], reasons: { 'instruction: ignored format': 3 }, slis: { instruction: 3 },
    evaluators: [{ name: 'instruction', version: '1' }], labelSources: { human: 3 }, filters: [],
    counts: { in: 3, deduplicated: 0, pii_excluded: 0, needs_correction: 0, balanced_away: 0, exported: 3, train: 2, validation: 1, preferences: 0, preferences_validation: 0 },
    files: entries,
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return { dir, train: join(dir, 'train.jsonl'), validation: join(dir, 'validation.jsonl'), preferences: null, preferencesValidation: null, manifest: join(dir, 'manifest.json') };
}

describe.skipIf(unavailable !== null && !inCi)('real Slurm (sbatch, squeue, scontrol, scancel)', () => {
  let root: string;
  let dataset: LaunchSpec['dataset'];
  beforeAll(() => {
    if (unavailable) throw new Error(`CI=true and Slurm is not usable: ${unavailable}`);
    root = tempDir('tunewatch-slurm-');
    dataset = writeDataset(join(root, 'datasets', 'ds-0123456789abcdef'));
  });
  const spec = (jobId: string): LaunchSpec => ({
    jobId, model: 'support-bot', baseModel: 'llama-3-8b', dataset,
    outputDir: join(root, 'jobs', jobId, 'output'), logPath: join(root, 'jobs', jobId, 'train.log'),
  });
  // cwd is the tmp dir, where train.mjs is not: the launcher must take it from the package root.
  const launcher = (command: string[] = ['node', 'train.mjs']) => new SlurmLauncher(config({ command, cwd: root! }));

  async function follow(l: SlurmLauncher, h: JobHandle, until: (s: JobState) => boolean, timeoutMs = 25_000) {
    const seen: JobState[] = [];
    const end = Date.now() + timeoutMs;
    for (;;) {
      const o = await l.status(h);
      if (seen.at(-1) !== o.state) seen.push(o.state);
      if (until(o.state)) return { ...o, seen };
      if (Date.now() > end) throw new Error(`job ${h.launcherId} still ${o.state} after ${timeoutMs} ms (seen ${seen.join(' → ')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const handleOf = (id: string, s: { launcherId: string; log: string; output: string }): JobHandle => ({ id, ...s });

  it('runs train.mjs on a GPU to succeeded: model card, "dataset ok", gpu:1 asked and given', async () => {
    const l = launcher();
    const s = spec('ft-support-bot-ok');
    const submitted = await l.submit(s);
    expect(submitted).toEqual({ launcherId: expect.stringMatching(/^\d+$/), log: s.logPath, output: s.outputDir });
    const o = await follow(l, handleOf(s.jobId, submitted), (st) => st !== 'submitted' && st !== 'running');
    const log = readFileSync(s.logPath, 'utf8');
    expect(o, log).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(readFileSync(join(s.outputDir, 'MODEL_CARD.md'), 'utf8')).toContain('# llama-3-8b fine-tuned by tunewatch job ft-support-bot-ok');
    expect(log).toContain('train.mjs: dataset ok: 2 train, 1 validation');
    expect(log).toMatch(/CUDA_VISIBLE_DEVICES=\d/);
    const script = readFileSync(join(root, 'jobs', s.jobId, 'job.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --gres=gpu:1');
    expect(script).toContain(`'${join(packageRoot(), 'train.mjs')}'`);
    const shown = execFileSync('scontrol', ['show', 'job', submitted.launcherId], { encoding: 'utf8' });
    expect(shown).toContain('TresPerNode=gres:gpu:1');
    expect(shown).toContain(`JobName=${s.jobId}`);
  });

  it('follows a long job to running, cancels it, and sees cancelled', async () => {
    const l = launcher(['node', 'train.mjs', '--sleep-ms=60000']);
    const s = spec('ft-support-bot-cancel');
    const h = handleOf(s.jobId, await l.submit(s));
    const before = await follow(l, h, (st) => st === 'running');
    expect(before.seen.every((st) => st === 'submitted' || st === 'running')).toBe(true);
    await l.cancel(h);
    const o = await follow(l, h, (st) => st !== 'running' && st !== 'submitted');
    expect(o).toMatchObject({ state: 'cancelled', error: `slurm job ${h.launcherId} was CANCELLED` });
    await l.cancel(h); // a finished job: nothing to stop, no error
  });

  it('reports a trainer that exits 3 as failed with exit code 3', async () => {
    const l = launcher(['node', 'train.mjs', '--exit-code=3']);
    const s = spec('ft-support-bot-fail');
    const h = handleOf(s.jobId, await l.submit(s));
    const o = await follow(l, h, (st) => st !== 'submitted' && st !== 'running');
    expect(o).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(o.error).toContain('FAILED (exit code 3');
    expect(readFileSync(s.logPath, 'utf8')).toContain('finishing with exit code 3 as asked');
  });

  it("names sbatch and Slurm's words when a submission is refused", async () => {
    const l = new SlurmLauncher(config({ partition: 'no-such-partition', cwd: root }));
    await expect(l.submit(spec('ft-support-bot-refused'))).rejects.toThrow(/slurm launcher: sbatch --parsable .* exited 1: .*Invalid partition name specified/s);
  });

  it('reports a job Slurm does not know (purged after MinJobAge) as failed, saying so', async () => {
    const o = await launcher().status({ id: 'ft-gone', launcherId: '987654', log: '', output: '' });
    expect(o).toMatchObject({ state: 'failed', error: expect.stringContaining('slurm no longer knows job 987654') });
  });
});

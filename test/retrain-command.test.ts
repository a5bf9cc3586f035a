// The command launcher's own error paths and command resolution (its happy paths run end to end in
// retrain-loop.test.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/config/paths.js';
import { CommandLauncher } from '../src/feedback/launchers/command.js';
import { LauncherError, type LaunchSpec } from '../src/feedback/launchers/launcher.js';
import { resolveCommand } from '../src/feedback/launchers/resolve-command.js';
import { tempDir } from './helpers.js';

function spec(dir: string): LaunchSpec {
  const files = { dir, train: join(dir, 'train.jsonl'), validation: join(dir, 'validation.jsonl'), preferences: null, preferencesValidation: null, manifest: join(dir, 'manifest.json') };
  return { jobId: 'ft-m-000000000001', model: 'm', baseModel: 'base', dataset: files, outputDir: join(dir, 'out'), logPath: join(dir, 'job', 'train.log') };
}

describe('resolveCommand', () => {
  it('runs node as this Node.js and finds the shipped trainer from any working directory', () => {
    const [program, script, flag] = resolveCommand(['node', 'train.mjs', '--sleep-ms=5'], tempDir());
    expect(program).toBe(process.execPath);
    expect(script).toBe(join(packageRoot(), 'train.mjs'));
    expect(flag).toBe('--sleep-ms=5');
  });

  it('keeps a script that exists in the working directory, and anything that is not a script', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'train.mjs'), '');
    expect(resolveCommand(['node', 'train.mjs'], cwd)[1]).toBe('train.mjs');
    expect(resolveCommand(['python', 'missing.py', 'data'], cwd)).toEqual(['python', 'missing.py', 'data']);
  });
});

describe('CommandLauncher errors', () => {
  it('names the command that cannot start', async () => {
    const launcher = new CommandLauncher({ kind: 'command', command: ['/nonexistent/trainer'], env: {} });
    await expect(launcher.submit(spec(tempDir()))).rejects.toThrow(LauncherError);
    await expect(launcher.submit(spec(tempDir()))).rejects.toThrow(/command launcher: cannot start \/nonexistent\/trainer/);
  });

  it('reports a process that ended unseen as failed, with where to look', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'job'), { recursive: true });
    const launcher = new CommandLauncher({ kind: 'command', command: ['node', 'train.mjs'], env: {} });
    const seen = await launcher.status({ id: 'j', launcherId: '999999999', log: join(dir, 'job', 'train.log'), output: dir });
    expect(seen.state).toBe('failed');
    expect(seen.error).toMatch(/ended without an exit status.*train\.log/);
  });

  it('refuses to cancel without a process id', async () => {
    const launcher = new CommandLauncher({ kind: 'command', command: ['node'], env: {} });
    await expect(launcher.cancel({ id: 'j', launcherId: '', log: '/tmp/x/train.log', output: '' })).rejects.toThrow(/no process to cancel/);
  });

  it('fails a trainer run without a dataset, with its message in the log', async () => {
    const dir = tempDir();
    const launcher = new CommandLauncher({ kind: 'command', command: ['node', 'train.mjs'], env: {} });
    const handle = { id: 'j', ...(await launcher.submit(spec(dir))) };
    for (let i = 0; i < 100 && !existsSync(join(dir, 'job', 'exit.json')); i++) await new Promise((r) => setTimeout(r, 50));
    const seen = await launcher.status(handle);
    expect(seen).toMatchObject({ state: 'failed', exitCode: 2 });
    expect(readFileSync(handle.log, 'utf8')).toMatch(/train\.mjs: cannot read .*manifest\.json/);
  });
});

describe('launcher calls are bounded', () => {
  it('gives up on a launcher that does not answer, with a LauncherError naming the call', async () => {
    const { bounded } = await import('../src/feedback/service.js');
    const hung = new Promise<never>(() => undefined);
    await expect(bounded({ kind: 'kubernetes' }, 'submitting ft-x', hung, 50)).rejects.toThrow(/kubernetes launcher: no answer within 0.05 s submitting ft-x/);
    await expect(bounded({ kind: 'slurm' }, 'reading', Promise.resolve(7), 50)).resolves.toBe(7);
  });
});

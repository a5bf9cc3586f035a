// A real `tunewatch serve` process for the drain tests: one model in front of `upstreamUrl`, a long
// flush interval (samples still in memory at the signal must be written by the drain).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../src/cli/processes.js';
import { eventually, tempDir } from './helpers.js';

const root = join(import.meta.dirname, '..');

export interface ServeProcess {
  child: ChildProcess;
  base: string;
  dataPath: string;
  output(): string;
  exited: Promise<number | null>;
}

/** `detached`: the child leads a process group of its own, as a shell job or a systemd unit does. */
export async function startServeProcess(upstreamUrl: string, options: { detached?: boolean } = {}): Promise<ServeProcess> {
  const dir = tempDir();
  const port = await freePort();
  const configFile = join(dir, 'tunewatch.yaml');
  const dataPath = join(dir, 'data');
  writeFileSync(
    configFile,
    `server: { port: ${port} }\nstorage: { path: ${dataPath} }\ncapture: { flushIntervalMs: 60000 }\nmodels:\n  - name: support-bot\n    deployments: [{ version: v1, upstream: ${upstreamUrl} }]\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--config', configFile], {
    cwd: root,
    env: { ...process.env, TUNEWATCH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => (await request(`${base}/healthz`)).statusCode === 200, 30_000);
  return { child, base, dataPath, output: () => output, exited };
}

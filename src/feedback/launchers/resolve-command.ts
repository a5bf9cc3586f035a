// The trainer command as a process runs it: `node` is this Node.js (a job's PATH may hold another),
// and a relative script that is not in the working directory is looked up in tunewatch's own folder,
// so the shipped example trainer (train.mjs) runs from anywhere.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../../config/paths.js';

export function resolveCommand(command: readonly string[], cwd: string, root: string = packageRoot()): string[] {
  const [program, ...args] = command;
  const resolvedArgs = args.map((arg) => {
    if (arg.startsWith('-') || isAbsolute(arg) || !/\.(m?js|cjs|ts|py|sh)$/.test(arg)) return arg;
    if (existsSync(resolve(cwd, arg))) return arg;
    const shipped = join(root, arg);
    return existsSync(shipped) ? shipped : arg;
  });
  return [program === 'node' ? process.execPath : program!, ...resolvedArgs];
}

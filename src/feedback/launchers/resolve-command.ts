// The trainer command as a process runs it: `node` becomes this process's Node.js (a job's PATH may
// not have it), and a relative script not found in the working directory but found in tunewatch's
// package root is taken from there, so the shipped train.mjs runs from anywhere. Used by every
// launcher that runs the command on this machine or a cluster sharing its filesystem.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { packageRoot } from '../../config/paths.js';

// Interpreters whose first non-option argument is the script to resolve (e.g. node train.mjs).
const INTERPRETERS = new Set(['node', 'python', 'python3', 'bash', 'sh']);

export function resolveCommand(command: readonly string[], cwd: string, root: string = packageRoot(), nodeBin = process.execPath): string[] {
  const out = [...command];
  const interpreter = INTERPRETERS.has(out[0]!);
  const at = interpreter ? out.findIndex((a, i) => i > 0 && !a.startsWith('-')) : 0;
  const script = at >= 0 ? out[at] : undefined;
  if (script !== undefined && !isAbsolute(script) && !existsSync(resolve(cwd, script)) && existsSync(resolve(root, script))) {
    out[at] = resolve(root, script);
  }
  if (out[0] === 'node') out[0] = nodeBin;
  return out;
}

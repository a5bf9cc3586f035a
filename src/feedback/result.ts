// The trainer's hand-back: result.json in its output folder names the endpoint that serves the model
// it made, `{ "version", "upstream", "upstreamModel" }`. Checked before tunewatch routes traffic to it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainedModel } from './launchers/launcher.js';

export const RESULT_FILE = 'result.json';

/** The trained model, or why there is none ('' when the trainer simply wrote no result.json). */
export function readResult(outputDir: string): { result: TrainedModel } | { error: string } {
  const file = join(outputDir, RESULT_FILE);
  if (!outputDir || !existsSync(file)) return { error: '' };
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { error: `${file} is not JSON: ${(err as Error).message}` };
  }
  return parseResult(value, file);
}

export function parseResult(value: unknown, where: string): { result: TrainedModel } | { error: string } {
  const v = value as Partial<TrainedModel> | null;
  if (!v || typeof v !== 'object') return { error: `${where}: expected an object with version and upstream` };
  if (typeof v.version !== 'string' || !/^[A-Za-z0-9._:-]+$/.test(v.version)) return { error: `${where}: version must be letters, digits, . _ : -, found ${JSON.stringify(v.version)}` };
  if (typeof v.upstream !== 'string' || !/^https?:\/\//.test(v.upstream)) return { error: `${where}: upstream must be an http(s) URL, found ${JSON.stringify(v.upstream)}` };
  if (v.upstreamModel !== undefined && (typeof v.upstreamModel !== 'string' || !v.upstreamModel)) return { error: `${where}: upstreamModel must be a non-empty string` };
  return { result: { version: v.version, upstream: v.upstream, ...(v.upstreamModel ? { upstreamModel: v.upstreamModel } : {}) } };
}

#!/usr/bin/env node
// tunewatch's example trainer: what a launcher runs when no real trainer is configured. It checks the
// dataset a launcher hands over (TUNEWATCH_* in the environment) the way a fine-tuning service would
// before spending GPU time, then writes a model card. It trains nothing: on a GPU box, put TRL,
// Axolotl or your own script in `retrain.launcher.command` instead (see the README).
//
//   --sleep-ms=N     wait N ms before finishing (to watch a job run, or cancel it)
//   --exit-code=N    finish with this exit code after the checks (to see a failure handled)
// TUNEWATCH_RESULT_UPSTREAM, when set, is written to result.json as the endpoint serving the
// "trained" model, so `retrain.promoteAs: canary` can be tried end to end.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const env = (name) => {
  const value = process.env[name];
  if (!value) fail(`${name} is not set: run me through a tunewatch launcher`);
  return value;
};

function fail(message, code = 2) {
  console.error(`train.mjs: ${message}`);
  process.exit(code);
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function checkMessages(messages, where) {
  if (!Array.isArray(messages) || messages.length === 0) fail(`${where}: messages must be a non-empty array`);
  for (const [i, m] of messages.entries()) {
    if (!m || typeof m !== 'object' || !ROLES.has(m.role)) fail(`${where}: message ${i} has no valid role`);
    if (typeof m.content !== 'string') fail(`${where}: message ${i} has no text content`);
  }
}

function read(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read ${file}: ${err.message}`);
  }
}

function readJsonl(file) {
  const text = read(file);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        return fail(`${basename(file)} line ${i + 1} is not JSON`);
      }
    });
}

function checkSft(file) {
  const rows = readJsonl(file);
  rows.forEach((row, i) => {
    const where = `${basename(file)} line ${i + 1}`;
    checkMessages(row.messages, where);
    const last = row.messages.at(-1);
    if (last.role !== 'assistant' || last.content.trim() === '') fail(`${where}: the last message must be a non-empty assistant turn (the target)`);
  });
  return rows.length;
}

function checkPreferences(file) {
  const rows = readJsonl(file);
  rows.forEach((row, i) => {
    const where = `${basename(file)} line ${i + 1}`;
    if (row.input) {
      // OpenAI DPO: one preferred and one non-preferred assistant message.
      checkMessages(row.input.messages, where);
      for (const side of ['preferred_output', 'non_preferred_output']) {
        if (!Array.isArray(row[side]) || row[side].length !== 1 || row[side][0].role !== 'assistant') fail(`${where}: ${side} must be one assistant message`);
      }
      if (row.preferred_output[0].content === row.non_preferred_output[0].content) fail(`${where}: preferred and non-preferred answers are the same`);
    } else {
      // TRL: prompt / chosen / rejected.
      for (const side of ['prompt', 'chosen', 'rejected']) checkMessages(row[side], `${where} ${side}`);
    }
  });
  return rows.length;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

const started = Date.now();
const manifestPath = env('TUNEWATCH_MANIFEST');
let manifest;
try {
  manifest = JSON.parse(read(manifestPath));
} catch {
  fail(`${manifestPath} is not JSON`);
}
const files = {
  train: env('TUNEWATCH_DATASET'),
  validation: env('TUNEWATCH_VALIDATION'),
  preferences: process.env.TUNEWATCH_PREFERENCES || null,
  preferencesValidation: process.env.TUNEWATCH_PREFERENCES_VALIDATION || null,
};
const counts = {
  train: checkSft(files.train),
  validation: checkSft(files.validation),
  preferences: files.preferences ? checkPreferences(files.preferences) : 0,
  preferencesValidation: files.preferencesValidation ? checkPreferences(files.preferencesValidation) : 0,
};
// Every file must be the one the manifest describes: a dataset changed after export is refused.
for (const file of Object.values(files).filter(Boolean)) {
  const entry = (manifest.files ?? []).find((f) => f.name === basename(file));
  if (!entry) fail(`${basename(file)} is not in the manifest`);
  if (entry.sha256 !== sha256(file)) fail(`${basename(file)} does not match the manifest's SHA-256`);
}
console.log(`train.mjs: dataset ok: ${counts.train} train, ${counts.validation} validation, ${counts.preferences + counts.preferencesValidation} preference pairs`);

const sleepMs = Number(arg('sleep-ms') ?? 0);
if (sleepMs > 0) {
  console.log(`train.mjs: "training" for ${sleepMs} ms`);
  await new Promise((resolve) => setTimeout(resolve, sleepMs));
}

const out = env('TUNEWATCH_OUTPUT_DIR');
mkdirSync(out, { recursive: true });
const base = env('TUNEWATCH_BASE_MODEL');
const jobId = env('TUNEWATCH_JOB_ID');
const card = [
  `# ${base} fine-tuned by tunewatch job ${jobId}`,
  '',
  `- model: ${process.env.TUNEWATCH_MODEL ?? ''}`,
  `- dataset: ${manifest.id ?? ''} (${manifest.createdAt ?? ''})`,
  `- examples: ${counts.train} train, ${counts.validation} validation; preference pairs: ${counts.preferences} train, ${counts.preferencesValidation} validation`,
  `- source versions: ${(manifest.sourceVersions ?? []).join(', ')}`,
  `- failure reasons: ${Object.entries(manifest.reasons ?? {}).map(([r, n]) => `${r} (${n})`).join(', ')}`,
  '',
  'Produced by the example trainer (train.mjs): the dataset was checked, no weights were trained.',
  '',
].join('\n');
writeFileSync(join(out, 'MODEL_CARD.md'), card);
writeFileSync(join(out, 'metrics.json'), JSON.stringify({ ...counts, seconds: (Date.now() - started) / 1000 }, null, 2));
if (process.env.TUNEWATCH_RESULT_UPSTREAM) {
  const version = process.env.TUNEWATCH_RESULT_VERSION || `${base}-ft-${jobId.slice(-8)}`;
  writeFileSync(join(out, 'result.json'), JSON.stringify({ version, upstream: process.env.TUNEWATCH_RESULT_UPSTREAM, upstreamModel: process.env.TUNEWATCH_RESULT_MODEL || version }, null, 2));
}
console.log(`train.mjs: model card written to ${join(out, 'MODEL_CARD.md')}`);

const exitCode = Number(arg('exit-code') ?? 0);
if (exitCode !== 0) fail(`finishing with exit code ${exitCode} as asked`, exitCode);

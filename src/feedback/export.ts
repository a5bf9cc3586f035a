// Writes a curated snapshot to disk: the JSONL files and the manifest, in a folder named by the
// dataset's id (its content hash), written to a temporary folder first and renamed, so a snapshot is
// either whole or absent and the same snapshot is written once.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CurationResult } from './curate/curate.js';
import { datasetFiles, fileText } from './formats.js';
import { modelSlug } from './job-id.js';
import type { DatasetFiles } from './launchers/launcher.js';
import { buildManifest, describeFile } from './manifest.js';
import type { PreferenceFormat } from './states.js';
import type { DatasetFile, Manifest } from './types.js';

export interface Snapshot {
  manifest: Manifest;
  files: DatasetFiles;
}

export interface ExportOptions {
  /** The folder that holds every model's snapshots (<data>/retrain/datasets). */
  root: string;
  model: string;
  baseModel: string;
  tunewatchVersion: string;
  preferenceFormat: PreferenceFormat;
  now?: Date;
}


export function exportSnapshot(result: CurationResult, options: ExportOptions): Snapshot {
  const contents = datasetFiles(result, options.preferenceFormat);
  const described: DatasetFile[] = contents.map(describeFile);
  const manifest = buildManifest({
    model: options.model,
    baseModel: options.baseModel,
    tunewatchVersion: options.tunewatchVersion,
    createdAt: (options.now ?? new Date()).toISOString(),
    result,
    files: described,
  });
  const dir = join(options.root, modelSlug(options.model), manifest.id);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    // Written before: keep the first manifest (its creation time is the snapshot's).
    return { manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest, files: filesIn(dir, described) };
  }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    for (const f of contents) writeFileSync(join(tmp, f.name), fileText(f));
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(manifestPath)) throw err;
  }
  return { manifest, files: filesIn(dir, described) };
}

function filesIn(dir: string, files: DatasetFile[]): DatasetFiles {
  const path = (kind: DatasetFile['kind'], split: DatasetFile['split']) => {
    const f = files.find((x) => x.kind === kind && x.split === split);
    return f ? join(dir, f.name) : null;
  };
  return {
    dir,
    train: path('sft', 'train')!,
    validation: path('sft', 'validation')!,
    preferences: path('preferences', 'train'),
    preferencesValidation: path('preferences', 'validation'),
    manifest: join(dir, 'manifest.json'),
  };
}

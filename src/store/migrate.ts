import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';
import { insertRows, type Store } from './client.js';
import { TABLES } from './tables.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

/** Reads `NNNN_name.sql` files in version order; anything else in the folder is an error, not ignored. */
export function readMigrations(dir = defaultMigrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = FILE_PATTERN.exec(file);
      if (!match) throw new MigrationError(`migration file ${file} in ${dir}: expected a name like 0001_create_things.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return { version: Number(match[1]), name: match[2], sql, checksum: sha256(sql) };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1].version === m.version) {
      throw new MigrationError(`two migrations share version ${m.version}: ${migrations[i - 1].name} and ${m.name}`);
    }
  });
  return migrations;
}

/** Splits a migration into statements at semicolons that end a line; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Cluster mode: the same migrations, run ON CLUSTER with Replicated engines, so a single set of
 * SQL files serves the embedded store, a single server and a cluster.
 */
export function forCluster(statement: string, cluster: string | undefined): string {
  if (!cluster) return statement;
  const onCluster = ` ON CLUSTER ${quoteIdent(cluster)}`;
  return statement
    .replace(/^(CREATE\s+(?:TABLE|MATERIALIZED\s+VIEW|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?[\w.`]+)/i, `$1${onCluster}`)
    .replace(/^(ALTER\s+TABLE\s+[\w.`]+)/i, `$1${onCluster}`)
    .replace(/ENGINE\s*=\s*(MergeTree|AggregatingMergeTree|SummingMergeTree|ReplacingMergeTree)\b(\(\))?/g, 'ENGINE = Replicated$1');
}

export async function migrate(store: Store, migrations = readMigrations()): Promise<MigrationResult> {
  const run = (query: string) => store.client.command({ query: forCluster(query, store.cluster) });
  await run(
    `CREATE TABLE IF NOT EXISTS ${TABLES.migrations} (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await (
    await store.client.query({ query: `SELECT version, name, checksum FROM ${TABLES.migrations} ORDER BY version`, format: 'JSONEachRow' })
  ).json<{ version: number; name: string; checksum: string }>();
  const applied = new Map(rows.map((r) => [Number(r.version), r]));

  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    const label = `${String(m.version).padStart(4, '0')}_${m.name}`;
    const done = applied.get(m.version);
    if (done) {
      if (done.checksum !== m.checksum) {
        throw new MigrationError(
          `migration ${label} was changed after it was applied (checksum ${done.checksum.slice(0, 12)} recorded, ${m.checksum.slice(0, 12)} now); add a new migration instead of editing an applied one`,
        );
      }
      result.alreadyApplied.push(label);
      continue;
    }
    for (const statement of splitStatements(m.sql)) {
      try {
        await run(statement);
      } catch (err) {
        throw new MigrationError(`migration ${label} failed: ${(err as Error).message}`);
      }
    }
    await insertRows(store, TABLES.migrations, [{ version: m.version, name: m.name, checksum: m.checksum, applied_at: Date.now() }]);
    result.applied.push(label);
  }
  return result;
}

/** Applies the configured retention to the samples table (config can change; migrations cannot). */
export async function applyRetention(store: Store, retentionDays: number): Promise<void> {
  await store.client.command({
    query: forCluster(`ALTER TABLE ${TABLES.samples} MODIFY TTL toDateTime(ts) + toIntervalDay(${Math.trunc(retentionDays)})`, store.cluster),
    clickhouse_settings: { materialize_ttl_after_modify: 0 },
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/client.js';
import { applyRetention, defaultMigrationsDir, forCluster, migrate, MigrationError, readMigrations, splitStatements } from '../src/store/migrate.js';
import { tempDir } from './helpers.js';

let store: Store;
beforeAll(() => {
  store = openStore({ path: tempDir(), retentionDays: 30 });
});
afterAll(() => store.close());

const tables = async () =>
  (await (await store.client.query({ query: "SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name", format: 'JSONEachRow' })).json<{ name: string; engine: string }>());

describe('migration runner (embedded ClickHouse)', () => {
  it('applies every migration in order, records checksums, and is idempotent', async () => {
    const first = await migrate(store);
    expect(first.applied).toEqual(readMigrations().map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`));
    const names = (await tables()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['samples', 'samples_rollup_1m', 'samples_rollup_1m_mv', 'schema_migrations']));
    const second = await migrate(store);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
    const recorded = await (await store.client.query({ query: 'SELECT version, checksum FROM schema_migrations ORDER BY version', format: 'JSONEachRow' })).json<{ checksum: string }>();
    expect(recorded.map((r) => r.checksum)).toEqual(readMigrations().map((m) => m.checksum));
  });

  it('refuses to run when an applied migration was edited', async () => {
    const dir = tempDir();
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    const file = readMigrations(dir)[0];
    writeFileSync(join(dir, `0001_${file.name}.sql`), file.sql + '\n-- edited\n');
    await expect(migrate(store, readMigrations(dir))).rejects.toThrow(/0001_samples was changed after it was applied/);
  });

  it('rejects badly named files and duplicate versions', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'create_things.sql'), 'SELECT 1');
    expect(() => readMigrations(dir)).toThrow(MigrationError);
    const dup = tempDir();
    writeFileSync(join(dup, '0001_a.sql'), 'SELECT 1');
    writeFileSync(join(dup, '0001_b.sql'), 'SELECT 1');
    expect(() => readMigrations(dup)).toThrow(/share version 1/);
  });

  it('reports the failing migration by name and applies nothing after it', async () => {
    const dir = tempDir();
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    writeFileSync(join(dir, '0900_broken.sql'), 'CREATE TABLE broken (x UInt8) ENGINE = NoSuchEngine;');
    writeFileSync(join(dir, '0901_after.sql'), 'CREATE TABLE after_broken (x UInt8) ENGINE = MergeTree ORDER BY x;');
    await expect(migrate(store, readMigrations(dir))).rejects.toThrow(/migration 0900_broken failed/);
    expect((await tables()).map((t) => t.name)).not.toContain('after_broken');
  });

  it('applies the configured retention as the samples TTL', async () => {
    await applyRetention(store, 7);
    const [row] = await (await store.client.query({ query: "SELECT create_table_query AS q FROM system.tables WHERE name = 'samples' AND database = currentDatabase()", format: 'JSONEachRow' })).json<{ q: string }>();
    expect(row.q).toMatch(/TTL toDateTime\(ts\) \+ toIntervalDay\(7\)/);
  });

  it('splits statements on line-ending semicolons and drops comment lines', () => {
    expect(splitStatements('-- c\nCREATE TABLE a (x String DEFAULT \';\');\n\nCREATE VIEW b AS SELECT 1;')).toEqual([
      "CREATE TABLE a (x String DEFAULT ';')",
      'CREATE VIEW b AS SELECT 1',
    ]);
  });

  it('rewrites statements for a cluster: ON CLUSTER and Replicated engines', () => {
    expect(forCluster('CREATE TABLE IF NOT EXISTS samples (x UInt8) ENGINE = MergeTree ORDER BY x', 'prod')).toBe(
      'CREATE TABLE IF NOT EXISTS samples ON CLUSTER `prod` (x UInt8) ENGINE = ReplicatedMergeTree ORDER BY x',
    );
    expect(forCluster('CREATE MATERIALIZED VIEW IF NOT EXISTS v TO t AS SELECT 1', 'prod')).toContain('v ON CLUSTER `prod` TO t');
    expect(forCluster('ENGINE = AggregatingMergeTree', 'c')).toBe('ENGINE = ReplicatedAggregatingMergeTree');
    expect(forCluster('CREATE TABLE t (x UInt8) ENGINE = MergeTree', undefined)).toBe('CREATE TABLE t (x UInt8) ENGINE = MergeTree');
  });
});

describe('embedded store process', () => {
  it('refuses a data directory another process already holds, naming it', async () => {
    const dir = tempDir();
    const first = openStore({ path: dir, retentionDays: 30 });
    await migrate(first);
    const second = openStore({ path: dir, retentionDays: 30 });
    await expect(second.client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toThrow(/cannot open the embedded store at .*clickhouse/);
    await second.close();
    const rs = await first.client.query({ query: 'SELECT count() AS n FROM schema_migrations', format: 'JSONEachRow' });
    expect((await rs.json<{ n: number }>())[0].n).toBeGreaterThan(0);
    await first.close();
  });
});

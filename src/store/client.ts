import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { forEachInSlices } from '../util/slices.js';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { asClientConnection, EmbeddedConnection, RelayConnection, type EmbeddedConnectionOptions } from './embedded-connection.js';
import type { MessagePort } from 'node:worker_threads';

/**
 * insertRows encodes rows itself, a slice at a time; the client then passes those strings through
 * instead of encoding the whole batch in one synchronous block on the proxy's event loop.
 */
const PREENCODED_JSON = { parse: JSON.parse, stringify: (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value)) };

/** One ClickHouse client per process: a server/cluster when configured, else the embedded chDB engine. */
export interface Store {
  client: ClickHouseClient;
  kind: 'embedded' | 'server';
  /** Where the data lives: the data directory or the server URL (never the password). */
  location: string;
  cluster?: string;
  /** The embedded store's connection, which other threads reach through serveStoreRelay. */
  embedded?: EmbeddedConnection;
  close(): Promise<void>;
}

export function openStore(storage: Config['storage'], env: NodeJS.ProcessEnv = process.env, embeddedOptions: EmbeddedConnectionOptions = {}): Store {
  const ch = storage.clickhouse;
  if (ch) {
    const client = createClient({
      json: PREENCODED_JSON,
      url: ch.url,
      database: ch.database,
      username: ch.username,
      password: env[ch.passwordEnv] ?? '',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    return { client, kind: 'server', location: `${ch.url} (database ${ch.database})`, cluster: ch.cluster, close: () => client.close() };
  }
  const path = resolve(storage.path, 'clickhouse');
  mkdirSync(path, { recursive: true });
  // chDB runs in a child process that owns the data directory (embedded-host.ts). It ignores the
  // client's `database` option, so the embedded store uses the engine's default database.
  const embedded = new EmbeddedConnection(path, embeddedOptions);
  const client = createClient({ connection: asClientConnection(embedded), json: PREENCODED_JSON });
  return { client, kind: 'embedded', location: path, embedded, close: () => client.close() };
}

/** The embedded store as seen from another thread of its owner: calls are relayed over `port`. */
export function openRelayedStore(port: MessagePort | RelayConnection, location: string): Store {
  const relay = port instanceof RelayConnection ? port : new RelayConnection(port);
  const client = createClient({ connection: asClientConnection(relay), json: PREENCODED_JSON });
  return { client, kind: 'embedded', location, close: () => client.close() };
}

/** True when the store answers a trivial query. */
export async function storeAnswers(store: Store): Promise<boolean> {
  try {
    return (await store.client.ping()).success;
  } catch {
    return false;
  }
}

/**
 * Every insert goes through here. Inserts carry a deduplication token: the caller's (a retried batch
 * is then stored once) or a fresh one. A fresh one matters with chDB, whose session keeps settings
 * from one query to the next: an insert without a token would reuse the previous insert's token and
 * be silently dropped as a duplicate.
 */
export async function insertRows(store: Store, table: string, rows: object[], dedupToken: string = randomUUID()): Promise<void> {
  if (rows.length === 0) return;
  const encoded: string[] = [];
  await forEachInSlices(rows, (row) => encoded.push(JSON.stringify(row)));
  // An array, not a stream: chDB's connection fails some streamed inserts ("Processing async inserts with
  // both inlined and external data"); batches are kept small instead, so encoding one stays short.
  await store.client.insert({ table, values: encoded, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: dedupToken } });
}

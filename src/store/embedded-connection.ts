import type { createClient } from '@clickhouse/client';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** An error from the store process, with ClickHouse's message and code. */
export class EmbeddedStoreError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly type?: string,
  ) {
    super(message);
    this.name = 'EmbeddedStoreError';
  }
}

const STORE_NICENESS = 10;

function findNice(): string | null {
  if (process.platform === 'win32') return null;
  return ['/usr/bin/nice', '/bin/nice'].find((p) => existsSync(p)) ?? null;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { message: string; code?: string; type?: string };
}

/** Fields the host cannot receive (signals, functions); everything else is cloned over IPC. */
function transferable(params: object): Record<string, unknown> {
  const { abort_signal: _signal, ...rest } = params as Record<string, unknown>;
  return rest;
}

/**
 * A `@clickhouse/client` Connection whose chDB engine lives in a child process (embedded-host.ts),
 * so the embedded store is used through the same client API as a server while its calls never hold
 * the proxy's event loop.
 */
export class EmbeddedConnection {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<number, { resolve(r: Record<string, unknown>): void; reject(e: Error): void }>();
  private nextId = 1;
  private exited = false;

  constructor(readonly path: string) {
    // From source (tsx, vitest) the host is TypeScript and needs the tsx loader; from dist it is plain JS.
    const here = fileURLToPath(import.meta.url);
    const fromSource = here.endsWith('.ts');
    const host = here.replace(/embedded-connection\.(ts|js)$/, `embedded-host.${fromSource ? 'ts' : 'js'}`);
    const nodeArgs = [...(fromSource ? ['--import', 'tsx'] : []), host, path];
    const options: SpawnOptions = { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
    // Inserts and merges are background work: under `nice` every thread of the store process (chDB
    // starts its own) yields the CPU to the proxy when both want it, and still uses idle cycles.
    const nice = findNice();
    this.child = nice ? spawn(nice, ['-n', String(STORE_NICENESS), process.execPath, ...nodeArgs], options) : spawn(process.execPath, nodeArgs, options);
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (msg: { ready?: boolean; error?: string }) =>
        msg.ready ? resolve() : reject(new EmbeddedStoreError(`cannot open the embedded store at ${path}: ${msg.error}`)),
      );
      this.child.once('exit', (code) => reject(new EmbeddedStoreError(`the embedded store process for ${path} exited (code ${code}) before it was ready`)));
    });
    this.ready.catch(() => undefined); // surfaced by the first call
    this.child.on('message', (msg: Reply) => {
      if (typeof msg.id !== 'number') return;
      const waiter = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.ok) waiter?.resolve(msg.result ?? {});
      else waiter?.reject(new EmbeddedStoreError(msg.error?.message ?? 'embedded store error', msg.error?.code, msg.error?.type));
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new EmbeddedStoreError(`the embedded store process exited (code ${code})`));
      this.pending.clear();
    });
  }

  private async call(op: string, params: object): Promise<Record<string, unknown>> {
    await this.ready;
    if (this.exited) throw new EmbeddedStoreError('the embedded store process is not running');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, op, params: transferable(params) });
    });
  }

  private withStream(result: Record<string, unknown>) {
    const { body, ...rest } = result as { body: Uint8Array };
    return { ...rest, stream: Readable.from([Buffer.from(body)]) };
  }

  async query(params: object) {
    return this.withStream(await this.call('query', params));
  }

  async exec(params: object) {
    return this.withStream(await this.call('exec', params));
  }

  async command(params: object) {
    return this.call('command', params);
  }

  async insert(params: { values: unknown } & object) {
    if (typeof params.values !== 'string') throw new EmbeddedStoreError('the embedded store takes inserts as encoded text (pass an array of rows)');
    return this.call('insert', params);
  }

  async ping(params: object) {
    try {
      const result = await this.call('ping', params);
      return result.success ? { success: true as const } : { success: false as const, error: new EmbeddedStoreError(String(result.error)) };
    } catch (err) {
      return { success: false as const, error: err as Error };
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call('close', {}).catch(() => undefined);
    await exited;
  }
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export function createEmbeddedConnection(path: string): ClientConnection {
  // Implements the methods the client calls; the client's Connection type has more optional surface.
  return new EmbeddedConnection(path) as unknown as ClientConnection;
}

import type { createClient } from '@clickhouse/client';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { BACKGROUND_NICENESS, niceCommand } from '../util/priority.js';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';

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

export type StoreOp = 'query' | 'exec' | 'command' | 'insert' | 'ping' | 'close';

export interface StoreRequest {
  id: number;
  op: StoreOp;
  params: Record<string, unknown>;
}

export interface StoreReply {
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

export function replyError(id: number, err: Error & { code?: string; type?: string }): StoreReply {
  return { id, ok: false, error: { message: err.message, code: err.code, type: err.type } };
}

/**
 * A `@clickhouse/client` Connection whose chDB engine lives in another process (embedded-host.ts):
 * each call is a message, answered by id. Subclasses supply the channel.
 */
abstract class RemoteConnection {
  private readonly pending = new Map<number, { resolve(r: Record<string, unknown>): void; reject(e: Error): void }>();
  private nextId = 1;
  protected gone: string | null = null;
  protected abstract readonly ready: Promise<void>;
  protected abstract post(request: StoreRequest): void;

  protected settle(msg: StoreReply): void {
    const waiter = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    if (msg.ok) waiter?.resolve(msg.result ?? {});
    else waiter?.reject(new EmbeddedStoreError(msg.error?.message ?? 'embedded store error', msg.error?.code, msg.error?.type));
  }

  protected failAll(reason: string): void {
    this.gone = reason;
    for (const waiter of this.pending.values()) waiter.reject(new EmbeddedStoreError(reason));
    this.pending.clear();
  }

  /** One call to the store process; the raw result (query bodies as bytes). */
  async request(op: StoreOp, params: object): Promise<Record<string, unknown>> {
    await this.ready;
    if (this.gone) throw new EmbeddedStoreError(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ id, op, params: transferable(params) });
    });
  }

  private withStream(result: Record<string, unknown>) {
    const { body, ...rest } = result as { body: Uint8Array };
    return { ...rest, stream: Readable.from([Buffer.from(body)]) };
  }

  async query(params: object) {
    return this.withStream(await this.request('query', params));
  }

  async exec(params: object) {
    return this.withStream(await this.request('exec', params));
  }

  async command(params: object) {
    return this.request('command', params);
  }

  async insert(params: { values: unknown } & object) {
    if (typeof params.values !== 'string') throw new EmbeddedStoreError('the embedded store takes inserts as encoded text (pass an array of rows)');
    return this.request('insert', params);
  }

  async ping(params: object) {
    try {
      const result = await this.request('ping', params);
      return result.success ? { success: true as const } : { success: false as const, error: new EmbeddedStoreError(String(result.error)) };
    } catch (err) {
      return { success: false as const, error: err as Error };
    }
  }

  abstract close(): Promise<void>;
}

/**
 * The owner's connection: forks the store process and talks to it over IPC, so chDB's calls never
 * hold the proxy's event loop. Other threads reach it through `serveStoreRelay`.
 */
export class EmbeddedConnection extends RemoteConnection {
  private readonly child: ChildProcess;
  protected readonly ready: Promise<void>;

  constructor(readonly path: string) {
    super();
    // From source (tsx, vitest) the host is TypeScript and needs the tsx loader; from dist it is plain JS.
    const here = fileURLToPath(import.meta.url);
    const fromSource = here.endsWith('.ts');
    const host = here.replace(/embedded-connection\.(ts|js)$/, `embedded-host.${fromSource ? 'ts' : 'js'}`);
    const nodeArgs = [...(fromSource ? ['--import', 'tsx'] : []), host, path];
    const options: SpawnOptions = { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
    // Inserts and merges are background work: under `nice` every thread of the store process (chDB
    // starts its own) yields the CPU to the proxy when both want it, and still uses idle cycles.
    const nice = niceCommand();
    this.child = nice ? spawn(nice, ['-n', String(BACKGROUND_NICENESS), process.execPath, ...nodeArgs], options) : spawn(process.execPath, nodeArgs, options);
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (msg: { ready?: boolean; error?: string }) =>
        msg.ready ? resolve() : reject(new EmbeddedStoreError(`cannot open the embedded store at ${path}: ${msg.error}`)),
      );
      this.child.once('exit', (code) => reject(new EmbeddedStoreError(`the embedded store process for ${path} exited (code ${code}) before it was ready`)));
    });
    this.ready.catch(() => undefined); // surfaced by the first call
    this.child.on('message', (msg: StoreReply) => {
      if (typeof msg.id === 'number') this.settle(msg);
    });
    this.child.on('exit', (code) => this.failAll(`the embedded store process exited (code ${code})`));
  }

  protected post(request: StoreRequest): void {
    this.child.send(request);
  }

  async close(): Promise<void> {
    if (this.gone) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request('close', {}).catch(() => undefined);
    await exited;
  }
}

/**
 * A connection for another thread of the owning process (the capture worker): calls go over a
 * MessagePort to the owner, which forwards them to the store process (see serveStoreRelay).
 */
export class RelayConnection extends RemoteConnection {
  protected readonly ready = Promise.resolve();

  constructor(private readonly port: MessagePort) {
    super();
    port.on('message', (msg: StoreReply) => this.settle(msg));
    port.on('close', () => this.failAll('the store relay was closed'));
  }

  protected post(request: StoreRequest): void {
    this.port.postMessage(request);
  }

  /** Closes this thread's way in; the store itself stays with its owner. */
  async close(): Promise<void> {
    if (this.gone) return;
    this.failAll('the store relay was closed');
    this.port.close();
  }
}

/** The owner's end of a RelayConnection: forwards each call to the store process and posts the answer back. */
export function serveStoreRelay(port: MessagePort, connection: EmbeddedConnection): void {
  port.on('message', (request: StoreRequest) => {
    // Closing the store is its owner's decision, not a relayed caller's.
    const result = request.op === 'close' ? Promise.resolve({}) : connection.request(request.op, request.params);
    result.then(
      (res) => port.postMessage({ id: request.id, ok: true, result: res } satisfies StoreReply),
      (err: Error) => port.postMessage(replyError(request.id, err)),
    );
  });
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** The client's Connection type has more optional surface than the methods the client calls. */
export function asClientConnection(connection: RemoteConnection): ClientConnection {
  return connection as unknown as ClientConnection;
}

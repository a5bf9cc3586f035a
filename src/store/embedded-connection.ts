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

  /** Fails the calls waiting for an answer; `permanently` when this connection is closed for good. */
  protected failAll(reason: string, permanently = true): void {
    if (permanently) this.gone = reason;
    for (const waiter of this.pending.values()) waiter.reject(new EmbeddedStoreError(reason));
    this.pending.clear();
  }

  /** Why calls cannot be made right now (the store process is restarting), else null. */
  protected unavailable(): string | null {
    return null;
  }

  /** One call to the store process; the raw result (query bodies as bytes). */
  async request(op: StoreOp, params: object): Promise<Record<string, unknown>> {
    await this.ready;
    if (this.gone) throw new EmbeddedStoreError(this.gone);
    const down = this.unavailable();
    if (down) throw new EmbeddedStoreError(down);
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

/** Restart delays after the store process dies: doubling from the first to the last. */
const RESTART_BACKOFF_MS = { first: 100, max: 5_000 };

export interface EmbeddedConnectionOptions {
  /** Called each time a store process that died is started again. */
  onRestart?(reason: string): void;
  /** Called when a restart attempt fails (it is tried again later). */
  onRestartFailed?(reason: string): void;
}

/**
 * The owner's connection: forks the store process and talks to it over IPC, so chDB's calls never
 * hold the proxy's event loop. Other threads reach it through `serveStoreRelay`.
 *
 * A store process that dies (killed, crashed) is started again with backoff; meanwhile calls fail
 * at once with a clear error, so the capture pipeline spills instead of waiting. Only the first
 * start's failure (a data directory another process holds) is fatal.
 */
export class EmbeddedConnection extends RemoteConnection {
  private child!: ChildProcess;
  protected ready!: Promise<void>;
  private closing = false;
  private down: string | null = null;
  private backoffMs = RESTART_BACKOFF_MS.first;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly options: EmbeddedConnectionOptions = {},
  ) {
    super();
    this.ready = this.startProcess();
    this.ready.catch(() => undefined); // surfaced by the first call
  }

  /** The store process's pid (for tests and operators), null while it is down. */
  get pid(): number | null {
    return this.down ? null : (this.child.pid ?? null);
  }

  protected override unavailable(): string | null {
    return this.down;
  }

  private startProcess(): Promise<void> {
    // From source (tsx, vitest) the host is TypeScript and needs the tsx loader; from dist it is plain JS.
    const here = fileURLToPath(import.meta.url);
    const fromSource = here.endsWith('.ts');
    const host = here.replace(/embedded-connection\.(ts|js)$/, `embedded-host.${fromSource ? 'ts' : 'js'}`);
    const nodeArgs = [...(fromSource ? ['--import', 'tsx'] : []), host, this.path];
    const options: SpawnOptions = { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
    // Inserts and merges are background work: under `nice` every thread of the store process (chDB
    // starts its own) yields the CPU to the proxy when both want it, and still uses idle cycles.
    const nice = niceCommand();
    const child = nice ? spawn(nice, ['-n', String(BACKGROUND_NICENESS), process.execPath, ...nodeArgs], options) : spawn(process.execPath, nodeArgs, options);
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', (msg: { ready?: boolean; error?: string }) =>
        msg.ready ? resolve() : reject(new EmbeddedStoreError(`cannot open the embedded store at ${this.path}: ${msg.error}`)),
      );
      child.once('exit', (code) => reject(new EmbeddedStoreError(`the embedded store process for ${this.path} exited (code ${code}) before it was ready`)));
    });
    child.on('message', (msg: StoreReply) => {
      if (typeof msg.id === 'number') this.settle(msg);
    });
    // A child that cannot be signalled or written to any more reports it here; 'exit' follows.
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      const reason = `the embedded store process exited (${signal ? `signal ${signal}` : `code ${code}`})`;
      if (this.closing) return this.failAll(reason);
      this.down = `${reason}; restarting it`;
      this.failAll(this.down, false);
      this.scheduleRestart();
    });
    return ready;
  }

  private scheduleRestart(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RESTART_BACKOFF_MS.max);
    this.restartTimer = setTimeout(() => {
      if (this.closing) return;
      const reason = this.down ?? 'the embedded store process exited';
      this.startProcess().then(
        () => {
          this.down = null;
          this.backoffMs = RESTART_BACKOFF_MS.first;
          this.options.onRestart?.(reason);
        },
        // The old process may still hold the data directory for a moment: try again later.
        (err: Error) => this.options.onRestartFailed?.(err.message),
      );
    }, delay);
    this.restartTimer.unref();
  }

  protected post(request: StoreRequest): void {
    try {
      this.child.send(request);
    } catch (err) {
      this.settle(replyError(request.id, err as Error));
    }
  }

  async close(): Promise<void> {
    if (this.gone) return;
    this.closing = true;
    clearTimeout(this.restartTimer);
    if (this.down || this.child.exitCode !== null || this.child.signalCode !== null) return this.failAll('the embedded store was closed');
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
  private port!: MessagePort;
  private detached: string | null = null;

  constructor(port: MessagePort) {
    super();
    this.attach(port);
  }

  /**
   * Points this connection at a new relay: the capture worker that owned the store was restarted.
   * Calls in flight on the old one have failed already.
   */
  attach(port: MessagePort): void {
    this.port = port;
    this.detached = null;
    port.on('message', (msg: StoreReply) => this.settle(msg));
    port.on('close', () => {
      if (this.port !== port) return;
      this.detached = 'the store is unavailable: the capture worker that owns it is restarting';
      this.failAll(this.detached, false);
    });
  }

  protected override unavailable(): string | null {
    return this.detached;
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

import type { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import type { Target } from './router.js';

export interface UpstreamOptions {
  connections: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** One keep-alive undici Pool per upstream origin, created on first use and closed on shutdown. */
export class UpstreamPools {
  private pools = new Map<string, Pool>();

  constructor(readonly options: UpstreamOptions) {}

  pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connections,
        connect: { timeout: this.options.connectTimeoutMs },
        keepAliveTimeout: 30_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** POSTs a JSON body to `<upstream base>/<suffix>`, e.g. http://host:9000/v1 + /chat/completions. */
  post(target: Target, suffix: string, body: string, headers: Record<string, string>, signal: AbortSignal | EventEmitter) {
    return this.pool(target.upstream.origin).request({
      path: target.upstream.pathname.replace(/\/$/, '') + suffix,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal,
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

/** The upstream credential for a target: from the env variable the config names, never from the client. */
export function upstreamAuthHeaders(target: Target, env: NodeJS.ProcessEnv): Record<string, string> {
  const key = target.apiKeyEnv ? env[target.apiKeyEnv] : undefined;
  return key ? { authorization: `Bearer ${key}` } : {};
}

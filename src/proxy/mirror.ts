// Mirrored requests: a share of baseline requests is also sent to the canary. Its answer is judged
// and stored (role `mirror`, meta mirror_of) so both versions answer the same prompts, but it is
// never returned to the client and never delays the client's answer.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Endpoint, Exchange } from '../capture/sample.js';
import { hashKey } from '../util/hash.js';
import type { Target } from './router.js';
import { upstreamAuthHeaders, type UpstreamPools } from './upstream.js';

/** Deterministic per request, and independent of the routing hash (which may use the same key). */
export function shouldMirror(requestId: string, share: number): boolean {
  return share > 0 && hashKey(`mirror:${requestId}`) / 0x1_0000_0000 < share;
}

/** The id of a request's mirrored copy: derived, so the pair can be joined either way. */
export const mirrorIdOf = (requestId: string) => `${requestId}-mirror`;

export interface MirrorDeps {
  upstreams: UpstreamPools;
  capture: (exchange: Exchange) => void;
  env: NodeJS.ProcessEnv;
  captureLimit: number;
}

/** What the mirror copies of the original request. */
export interface MirrorOf {
  requestId: string;
  endpoint: Endpoint;
  suffix: string;
  tenant: string;
  model: string;
  body: Record<string, unknown>;
  meta: Record<string, string>;
  spec: string;
  context: string;
  userKey: string | null;
  traceId: string;
}

/** Sends the copy and captures its answer; never throws (a failed mirror is a failed mirror sample). */
export async function mirror(deps: MirrorDeps, of: MirrorOf, target: Target): Promise<void> {
  const started = performance.now();
  const ts = Date.now();
  const requestId = mirrorIdOf(of.requestId);
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  let statusCode = 502;
  let errorType = '';
  let kind: Exchange['response']['kind'] = 'none';
  let ttftMs: number | null = null;
  try {
    const upstream = await deps.upstreams.post(
      target,
      of.suffix,
      JSON.stringify({ ...of.body, model: target.upstreamModel }),
      { 'x-request-id': requestId, ...upstreamAuthHeaders(target, deps.env) },
      new EventEmitter(),
    );
    statusCode = upstream.statusCode;
    const contentType = String(upstream.headers['content-type'] ?? '');
    kind = statusCode >= 400 ? 'error' : contentType.startsWith('text/event-stream') ? 'sse' : 'json';
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      ttftMs ??= performance.now() - started;
      if (kept >= deps.captureLimit) {
        truncated = true;
        continue; // read to the end so the connection is reused, keep nothing more
      }
      const room = deps.captureLimit - kept;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      truncated ||= part.length < chunk.length;
      chunks.push(Buffer.from(part));
      kept += part.length;
    }
    if (statusCode >= 400) errorType = 'upstream_error';
  } catch (err) {
    errorType = chunks.length ? 'upstream_body_broken' : 'upstream_unreachable';
    if (chunks.length === 0) chunks.push(Buffer.from(String((err as Error).message ?? err).slice(0, 200)));
    kind = chunks.length && kind !== 'none' ? kind : 'error';
  }
  deps.capture({
    requestId,
    ts,
    tenant: of.tenant,
    model: of.model,
    version: target.version,
    role: 'mirror',
    upstream: target.upstream.origin,
    endpoint: of.endpoint,
    stream: of.body.stream === true,
    statusCode,
    errorType,
    latencyMs: performance.now() - started,
    ttftMs: kind === 'sse' ? ttftMs : null,
    request: of.body,
    response: { kind, chunks, truncated },
    traceId: of.traceId,
    userKey: of.userKey,
    meta: { ...of.meta, mirror_of: of.requestId },
    spec: of.spec,
    context: of.context,
  });
}

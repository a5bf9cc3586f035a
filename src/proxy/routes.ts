import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rawCaptureLimit } from '../capture/limits.js';
import type { Endpoint, Exchange } from '../capture/sample.js';
import { OPERATION_NAME, requestSeries, type Metrics } from '../metrics/registry.js';
import { presentedKey } from './auth.js';
import { ProxyError, badRequest, toProxyError, upstreamBodyFailure, upstreamFailure } from './errors.js';
import { checkBody, metaFromHeaders, tunewatchFieldFrom, userKeyFrom } from './request.js';
import { RequestIds } from './request-ids.js';
import { pickTarget, type RouteTable, type Target } from './router.js';
import { startRequestSpan } from './trace.js';
import { mirror, shouldMirror, type MirrorOf } from './mirror.js';
import { upstreamAuthHeaders, type UpstreamPools } from './upstream.js';

export interface ProxyDeps {
  routes: RouteTable;
  /** Instruction specs a request may name (x-tunewatch-spec or tunewatch.spec). */
  specNames: Set<string>;
  upstreams: UpstreamPools;
  capture: (exchange: Exchange) => void;
  metrics: Metrics;
  /** Maps a presented client key to a tenant id; null when client keys are not configured. */
  checkKey: ((key: string | undefined) => string | null) | null;
  env: NodeJS.ProcessEnv;
  /** Recently used request ids (one set per server, shared with the answers given before routing). */
  requestIds?: RequestIds;
  /** Bytes of an answer the sample keeps: rawCaptureLimit(capture.maxTextBytes). */
  captureLimit?: number;
}

const ENDPOINTS: Record<Endpoint, { path: string; suffix: string }> = {
  chat: { path: '/v1/chat/completions', suffix: '/chat/completions' },
  completions: { path: '/v1/completions', suffix: '/completions' },
  embeddings: { path: '/v1/embeddings', suffix: '/embeddings' },
};
const ENDPOINT_BY_PATH = new Map((Object.keys(ENDPOINTS) as Endpoint[]).map((e) => [ENDPOINTS[e].path, e]));

/** The proxy endpoint a request URL names (query string ignored), or null. */
export function endpointOf(url: string): Endpoint | null {
  const q = url.indexOf('?');
  return ENDPOINT_BY_PATH.get(q === -1 ? url : url.slice(0, q)) ?? null;
}

/**
 * Non-streamed answers up to this size are read whole and get `model` renamed back to the public
 * name; larger ones are streamed through unchanged, so memory per request stays bounded whatever the
 * upstream sends (renaming means holding the body, a parsed copy and a serialised one).
 */
export const RENAME_MAX_BYTES = 1024 * 1024;

/** Model names longer than this are cut in samples and error messages (a client may send megabytes). */
const MODEL_NAME_MAX = 256;

/** What is known about a request so far; every exit (answer or error) turns it into a sample. */
interface InFlight {
  endpoint: Endpoint;
  requestId: string;
  /** The client's x-request-id when it was already in use and this request got a fresh one. */
  clientRequestId: string | null;
  ts: number;
  started: number;
  tenant: string;
  body: Record<string, unknown> | null;
  modelName: string;
  target: Target | null;
  userKey: string | null;
  meta: Record<string, string>;
  spec: string;
  context: string;
  traceId: string;
}

/** Fills the defaults of the optional dependencies, once per server. */
export function completeDeps(deps: ProxyDeps): Required<ProxyDeps> {
  deps.requestIds ??= new RequestIds();
  deps.captureLimit ??= rawCaptureLimit(256 * 1024);
  return deps as Required<ProxyDeps>;
}

export async function proxyRoutes(app: FastifyInstance, options: ProxyDeps): Promise<void> {
  const deps = completeDeps(options);
  app.get('/v1/models', async (request, reply) => {
    authenticate(deps, request);
    const created = Math.floor(Date.now() / 1000);
    return reply.send({ object: 'list', data: [...deps.routes.keys()].map((id) => ({ id, object: 'model', created, owned_by: 'tunewatch' })) });
  });

  for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
    app.post(ENDPOINTS[endpoint].path, (request, reply) => handle(deps, endpoint, request, reply));
  }

  // Malformed or too deeply nested JSON, an oversized body or a wrong content type fail before a
  // handler runs: answer them in OpenAI's shape and still record the sample.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const proxyError = toProxyError(error);
    if (proxyError.status >= 500) reply.log.error({ err: error }, 'unexpected proxy error');
    const endpoint = ENDPOINT_BY_PATH.get(request.routeOptions.url ?? '');
    if (endpoint) {
      const flight = newFlight(deps, endpoint, request.headers, performance.now());
      reply.header('x-request-id', flight.requestId);
      finish(deps, flight, proxyError.status, proxyError.type, { kind: 'error', chunks: [Buffer.from(proxyError.message)] });
    }
    return reply.code(proxyError.status).send(proxyError.toBody());
  });
}

/**
 * Records a request to a proxy endpoint that was answered before any route ran (a 503 while
 * draining, a 431 from the HTTP parser) as a sample, as every failed request is. Returns its id.
 */
export function recordEarlyAnswer(deps: Required<ProxyDeps>, endpoint: Endpoint, headers: IncomingHttpHeaders, error: ProxyError): string {
  const flight = newFlight(deps, endpoint, headers, performance.now());
  finish(deps, flight, error.status, error.type, { kind: 'error', chunks: [Buffer.from(error.message)] });
  return flight.requestId;
}

function authenticate(deps: ProxyDeps, request: FastifyRequest): string {
  if (!deps.checkKey) return '';
  const tenant = deps.checkKey(presentedKey(request.headers));
  if (tenant === null) throw new ProxyError(401, 'missing or invalid API key', 'invalid_request_error', 'invalid_api_key');
  return tenant;
}

function newFlight(deps: Required<ProxyDeps>, endpoint: Endpoint, headers: IncomingHttpHeaders, started: number): InFlight {
  const { id, clientId } = deps.requestIds.assign(headers['x-request-id']);
  const meta = metaFromHeaders(headers);
  if (clientId !== null) meta.client_request_id = clientId;
  const spec = headers['x-tunewatch-spec'];
  return {
    endpoint,
    requestId: id,
    clientRequestId: clientId,
    ts: Date.now(),
    started,
    tenant: '',
    body: null,
    modelName: '',
    target: null,
    userKey: null,
    meta,
    spec: typeof spec === 'string' ? spec : '',
    context: '',
    traceId: '',
  };
}

async function handle(deps: Required<ProxyDeps>, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const flight = newFlight(deps, endpoint, request.headers, performance.now());
  reply.header('x-request-id', flight.requestId);
  let forwardBody: string;
  try {
    flight.tenant = authenticate(deps, request);
    const body = checkBody(endpoint, request.body);
    flight.modelName = body.model as string;
    const tw = tunewatchFieldFrom(body);
    const { tunewatch: _removed, ...clean } = body;
    flight.body = clean;
    Object.assign(flight.meta, tw.meta);
    if (flight.clientRequestId !== null) flight.meta.client_request_id = flight.clientRequestId;
    flight.spec = tw.spec || flight.spec;
    if (flight.spec && !deps.specNames.has(flight.spec)) {
      throw badRequest(`unknown instruction spec '${flight.spec}'; configured: ${[...deps.specNames].join(', ') || 'none'}`, 'tunewatch.spec');
    }
    flight.context = tw.context;
    flight.userKey = userKeyFrom(body, request.headers['x-tunewatch-user']);
    const route = deps.routes.get(flight.modelName);
    if (!route) throw new ProxyError(404, `The model '${cut(flight.modelName)}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
    flight.target = pickTarget(route, flight.userKey ?? flight.requestId);
    forwardBody = JSON.stringify({ ...clean, model: flight.target.upstreamModel });
    // A rollout's mirror: the canary answers a copy too, judged and stored, never returned.
    if (route.mirror && flight.target.role === 'baseline' && shouldMirror(flight.requestId, route.mirror.share)) {
      void mirror(deps, mirrorOf(flight, endpoint, clean), route.mirror.target);
    }
  } catch (err) {
    return answerError(deps, flight, reply, err as Error);
  }
  const target = flight.target;
  reply.header('x-model-version', target.version);

  const { span, traceId, traceparent } = startRequestSpan(`${OPERATION_NAME[endpoint]} ${flight.modelName}`, request.headers.traceparent, {
    'gen_ai.operation.name': OPERATION_NAME[endpoint],
    'gen_ai.request.model': flight.modelName,
    'tunewatch.model_version': target.version,
    'tunewatch.request_id': flight.requestId,
  });
  flight.traceId = traceId;
  // The response closing before it finished means the client went away: stop the upstream work too.
  const abort = new ClientGone();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });

  const upstreamStart = performance.now();
  let upstream: Awaited<ReturnType<UpstreamPools['post']>>;
  try {
    upstream = await deps.upstreams.post(
      target,
      ENDPOINTS[endpoint].suffix,
      forwardBody,
      { 'x-request-id': flight.requestId, traceparent, ...upstreamAuthHeaders(target, deps.env) },
      abort,
    );
  } catch (err) {
    span.end();
    if (abort.aborted) return finish(deps, flight, 499, 'client_disconnected', { kind: 'none', chunks: [] });
    return answerError(deps, flight, reply, upstreamFailure(err, target.upstream.origin));
  }
  try {
    const contentType = String(upstream.headers['content-type'] ?? '');
    if (upstream.statusCode < 300 && contentType.startsWith('text/event-stream')) {
      await streamAnswer(deps, flight, reply, upstream, abort, upstreamStart);
    } else {
      await relayAnswer(deps, flight, reply, upstream, contentType, abort, upstreamStart);
    }
  } catch (err) {
    // Both record their own outcome; this is for a bug in them, never for what a peer sent.
    upstream.body.destroy();
    if (reply.sent || reply.raw.headersSent) {
      reply.log.error({ err, requestId: flight.requestId }, 'unexpected proxy error after the answer started');
      reply.raw.destroy();
    } else {
      answerError(deps, flight, reply, err as Error);
    }
  } finally {
    span.end();
  }
}

type UpstreamAnswer = Awaited<ReturnType<UpstreamPools['post']>>;

/**
 * A non-streamed answer. Up to RENAME_MAX_BYTES it is read whole and answered with `model` renamed
 * (the usual case, and the cheapest: one read, one write); a larger one is streamed through
 * unchanged, respecting the client's pace. Either way the sample keeps at most `captureLimit` bytes.
 */
async function relayAnswer(
  deps: Required<ProxyDeps>,
  flight: InFlight,
  reply: FastifyReply,
  upstream: UpstreamAnswer,
  contentType: string,
  abort: ClientGone,
  upstreamStart: number,
): Promise<void> {
  const ok = upstream.statusCode < 400;
  const kind = ok ? 'json' : 'error';
  const errorType = ok ? '' : 'upstream_error';
  const declared = Number(upstream.headers['content-length']);
  let whole: Buffer;
  let rest: AsyncIterator<Buffer> | null = null;
  const head: Buffer[] = [];
  try {
    if (declared <= RENAME_MAX_BYTES) {
      // The length is known and small (undici never reads past it): one read, as before.
      whole = Buffer.from(await upstream.body.arrayBuffer());
    } else {
      // Unknown or large: read up to the limit; past it, the rest is streamed.
      const it = upstream.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      let size = 0;
      for (;;) {
        if (declared > RENAME_MAX_BYTES || size > RENAME_MAX_BYTES) {
          rest = it;
          break;
        }
        const r = await it.next();
        if (r.done) break;
        head.push(r.value);
        size += r.value.length;
      }
      whole = rest ? Buffer.alloc(0) : head.length === 1 ? head[0] : Buffer.concat(head, size);
    }
  } catch (err) {
    if (abort.aborted) return finish(deps, flight, 499, 'client_disconnected', { kind: 'none', chunks: [] });
    return answerError(deps, flight, reply, upstreamBodyFailure(err, flight.target!.upstream.origin));
  }

  if (rest === null) {
    const upstreamMs = performance.now() - upstreamStart;
    const payload = ok && flight.target!.upstreamModel !== flight.modelName && contentType.includes('json') ? renameModel(whole, flight.modelName) : whole;
    reply.code(upstream.statusCode).header('content-type', contentType || 'application/json').send(payload);
    const copy = new SideCopy(deps.captureLimit);
    copy.add(whole);
    return finish(deps, flight, upstream.statusCode, errorType, copy.response(kind), null, upstreamMs);
  }

  // Streamed through: the bytes are the upstream's own (`model` included), as for SSE.
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | number> = {
    'content-type': contentType || 'application/json',
    'x-request-id': flight.requestId,
    'x-model-version': flight.target!.version,
  };
  if (Number.isFinite(declared)) headers['content-length'] = declared;
  raw.writeHead(upstream.statusCode, headers);
  const copy = new SideCopy(deps.captureLimit);
  try {
    for (const chunk of head) {
      copy.add(chunk);
      if (!raw.write(chunk)) await drained(raw);
    }
    for (let r = await rest.next(); !r.done; r = await rest.next()) {
      copy.add(r.value);
      if (!raw.write(r.value)) await drained(raw);
      if (abort.aborted) throw new Error('client disconnected');
    }
    if (abort.aborted) throw new Error('client disconnected');
    raw.end();
    finish(deps, flight, upstream.statusCode, errorType, copy.response(kind), null, performance.now() - upstreamStart);
  } catch (err) {
    const clientGone = abort.aborted || raw.destroyed;
    // Headers are out: the client can only learn of a broken body by the connection closing early.
    if (!clientGone) raw.destroy(err as Error);
    upstream.body.destroy();
    if (clientGone) return finish(deps, flight, 499, 'client_disconnected', copy.response(kind));
    const failure = upstreamBodyFailure(err, flight.target!.upstream.origin);
    finish(deps, flight, failure.status, failure.type, copy.response(kind));
  }
}

async function streamAnswer(
  deps: Required<ProxyDeps>,
  flight: InFlight,
  reply: FastifyReply,
  upstream: UpstreamAnswer,
  abort: ClientGone,
  upstreamStart: number,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(upstream.statusCode, {
    'content-type': String(upstream.headers['content-type']),
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    'x-request-id': flight.requestId,
    'x-model-version': flight.target!.version,
  });
  const copy = new SideCopy(deps.captureLimit);
  let ttftMs: number | null = null;
  try {
    for await (const chunk of upstream.body) {
      if (ttftMs === null) ttftMs = performance.now() - flight.started;
      copy.add(chunk as Buffer);
      // Forward as it arrives; respect the client's pace instead of buffering without bound.
      if (!raw.write(chunk)) await drained(raw);
      if (abort.aborted) throw new Error('client disconnected');
    }
    raw.end();
    finish(deps, flight, upstream.statusCode, '', copy.response('sse'), ttftMs, performance.now() - upstreamStart);
  } catch (err) {
    const clientGone = abort.aborted || raw.destroyed;
    if (!clientGone) raw.destroy(err as Error);
    else upstream.body.destroy();
    const status = clientGone ? 499 : 502;
    finish(deps, flight, status, clientGone ? 'client_disconnected' : 'upstream_stream_broken', copy.response('sse'), ttftMs);
  }
}

/** Resolves when the response can take more (or is gone); both listeners are removed either way. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * The proxy's side copy of an answer for the sample: at most `limit` bytes (the client gets all of
 * them); `truncated` when it cut. Chunks are kept as they came (no copy on the hot path).
 */
class SideCopy {
  readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const room = this.limit - this.size;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      return;
    }
    if (room > 0) this.chunks.push(chunk.subarray(0, room));
    this.size = this.limit;
    this.truncated = true;
  }

  response(kind: Exchange['response']['kind']): Exchange['response'] {
    return this.truncated ? { kind, chunks: this.chunks, truncated: true } : { kind, chunks: this.chunks };
  }
}

function answerError(deps: Required<ProxyDeps>, flight: InFlight, reply: FastifyReply, err: Error): void {
  const proxyError = err instanceof ProxyError ? err : new ProxyError(500, 'internal error in tunewatch', 'internal_error');
  if (!(err instanceof ProxyError)) reply.log.error({ err, requestId: flight.requestId }, 'unexpected proxy error');
  reply.code(proxyError.status).send(proxyError.toBody());
  finish(deps, flight, proxyError.status, proxyError.type, { kind: 'error', chunks: [Buffer.from(proxyError.message)] });
}

/**
 * The upstream request's abort signal. undici accepts an EventEmitter that emits 'abort'; an
 * AbortController costs several times more to create, and every proxied request makes one.
 */
class ClientGone extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** Rewrites the upstream's model name back to the one the client asked for (non-streamed JSON only). */
function renameModel(payload: Buffer, model: string): Buffer {
  try {
    const json = JSON.parse(payload.toString('utf8'));
    if (json && typeof json === 'object' && 'model' in json) json.model = model;
    return Buffer.from(JSON.stringify(json));
  } catch {
    return payload;
  }
}

function cut(name: string): string {
  return name.length > MODEL_NAME_MAX ? `${name.slice(0, MODEL_NAME_MAX)}…` : name;
}

function mirrorOf(flight: InFlight, endpoint: Endpoint, body: Record<string, unknown>): MirrorOf {
  const { requestId, tenant, meta, spec, context, userKey, traceId } = flight;
  return { requestId, endpoint, suffix: ENDPOINTS[endpoint].suffix, tenant, model: cut(flight.modelName), body, meta: { ...meta }, spec, context, userKey, traceId };
}

/** Records metrics and hands the sample to the capture pipeline (a non-blocking enqueue). */
function finish(
  deps: Required<ProxyDeps>,
  flight: InFlight,
  statusCode: number,
  errorType: string,
  response: Exchange['response'],
  ttftMs: number | null = null,
  upstreamMs: number | null = null,
): void {
  const latencyMs = performance.now() - flight.started;
  const target = flight.target;
  // Only configured model names become metric labels: any other string a client sends would be a
  // new series for as long as the process lives.
  const model = deps.routes.has(flight.modelName) ? flight.modelName : '';
  const series = requestSeries(deps.metrics, { model, version: target?.version ?? '', role: target?.role ?? '', statusCode, endpoint: flight.endpoint });
  series.duration.observe(latencyMs / 1000);
  if (ttftMs !== null) series.ttft.observe(ttftMs / 1000);
  if (upstreamMs !== null) series.overhead.observe(Math.max(0, latencyMs - upstreamMs) / 1000);
  deps.capture({
    requestId: flight.requestId,
    ts: flight.ts,
    tenant: flight.tenant,
    model: cut(flight.modelName),
    version: target?.version ?? '',
    role: target?.role ?? '',
    upstream: target?.upstream.origin ?? '',
    endpoint: flight.endpoint,
    stream: flight.body?.stream === true,
    statusCode,
    errorType,
    latencyMs,
    ttftMs,
    request: flight.body,
    response,
    traceId: flight.traceId,
    userKey: flight.userKey,
    meta: flight.meta,
    spec: flight.spec,
    context: flight.context,
  });
}

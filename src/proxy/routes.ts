import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Endpoint, Exchange } from '../capture/sample.js';
import { OPERATION_NAME, requestSeries, type Metrics } from '../metrics/registry.js';
import { presentedKey } from './auth.js';
import { ProxyError, badRequest, upstreamFailure } from './errors.js';
import { checkBody, metaFromHeaders, requestIdFrom, tunewatchFieldFrom, userKeyFrom } from './request.js';
import { pickTarget, type RouteTable, type Target } from './router.js';
import { startRequestSpan } from './trace.js';
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
}

const ENDPOINTS: Record<Endpoint, { path: string; suffix: string }> = {
  chat: { path: '/v1/chat/completions', suffix: '/chat/completions' },
  completions: { path: '/v1/completions', suffix: '/completions' },
  embeddings: { path: '/v1/embeddings', suffix: '/embeddings' },
};

/** What is known about a request so far; every exit (answer or error) turns it into a sample. */
interface InFlight {
  endpoint: Endpoint;
  requestId: string;
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

export async function proxyRoutes(app: FastifyInstance, deps: ProxyDeps): Promise<void> {
  app.get('/v1/models', async (request, reply) => {
    authenticate(deps, request);
    const created = Math.floor(Date.now() / 1000);
    return reply.send({ object: 'list', data: [...deps.routes.keys()].map((id) => ({ id, object: 'model', created, owned_by: 'tunewatch' })) });
  });

  for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
    app.post(ENDPOINTS[endpoint].path, (request, reply) => handle(deps, endpoint, request, reply));
  }

  // Malformed JSON, an oversized body or a wrong content type fail before a handler runs:
  // answer them in OpenAI's shape and still record the sample.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const proxyError = toProxyError(error);
    const endpoint = (Object.keys(ENDPOINTS) as Endpoint[]).find((e) => ENDPOINTS[e].path === request.routeOptions.url);
    if (endpoint) {
      const flight = newFlight(endpoint, request, performance.now());
      reply.header('x-request-id', flight.requestId);
      finish(deps, flight, proxyError.status, proxyError.type, { kind: 'error', chunks: [Buffer.from(proxyError.message)] });
    }
    return reply.code(proxyError.status).send(proxyError.toBody());
  });
}

function toProxyError(error: Error & { statusCode?: number; code?: string }): ProxyError {
  if (error instanceof ProxyError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ProxyError(413, 'request body is larger than the configured limit', 'invalid_request_error', 'body_too_large');
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ProxyError(415, 'content-type must be application/json', 'invalid_request_error', 'unsupported_media_type');
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return badRequest('request body is empty; expected a JSON object');
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return badRequest(`malformed JSON body: ${error.message}`);
  if (error.statusCode && error.statusCode < 500) return new ProxyError(error.statusCode, error.message, 'invalid_request_error');
  return new ProxyError(500, 'internal error in tunewatch', 'internal_error');
}

function authenticate(deps: ProxyDeps, request: FastifyRequest): string {
  if (!deps.checkKey) return '';
  const tenant = deps.checkKey(presentedKey(request.headers));
  if (tenant === null) throw new ProxyError(401, 'missing or invalid API key', 'invalid_request_error', 'invalid_api_key');
  return tenant;
}

function newFlight(endpoint: Endpoint, request: FastifyRequest, started: number): InFlight {
  return {
    endpoint,
    requestId: requestIdFrom(request.headers['x-request-id']),
    ts: Date.now(),
    started,
    tenant: '',
    body: null,
    modelName: '',
    target: null,
    userKey: null,
    meta: metaFromHeaders(request.headers),
    spec: typeof request.headers['x-tunewatch-spec'] === 'string' ? request.headers['x-tunewatch-spec'] : '',
    context: '',
    traceId: '',
  };
}

async function handle(deps: ProxyDeps, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const flight = newFlight(endpoint, request, performance.now());
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
    flight.spec = tw.spec || flight.spec;
    if (flight.spec && !deps.specNames.has(flight.spec)) {
      throw badRequest(`unknown instruction spec '${flight.spec}'; configured: ${[...deps.specNames].join(', ') || 'none'}`, 'tunewatch.spec');
    }
    flight.context = tw.context;
    flight.userKey = userKeyFrom(body, request.headers['x-tunewatch-user']);
    const route = deps.routes.get(flight.modelName);
    if (!route) throw new ProxyError(404, `The model '${flight.modelName}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
    flight.target = pickTarget(route, flight.userKey ?? flight.requestId);
    forwardBody = JSON.stringify({ ...clean, model: flight.target.upstreamModel });
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
  try {
    const upstream = await deps.upstreams.post(
      target,
      ENDPOINTS[endpoint].suffix,
      forwardBody,
      { 'x-request-id': flight.requestId, traceparent, ...upstreamAuthHeaders(target, deps.env) },
      abort,
    );
    const contentType = String(upstream.headers['content-type'] ?? '');
    if (upstream.statusCode < 300 && contentType.startsWith('text/event-stream')) {
      await streamAnswer(deps, flight, reply, upstream, abort, upstreamStart);
    } else {
      const raw = Buffer.from(await upstream.body.arrayBuffer());
      const upstreamMs = performance.now() - upstreamStart;
      const ok = upstream.statusCode < 400;
      const payload = ok && target.upstreamModel !== flight.modelName && contentType.includes('json') ? renameModel(raw, flight.modelName) : raw;
      reply.code(upstream.statusCode).header('content-type', contentType || 'application/json').send(payload);
      finish(deps, flight, upstream.statusCode, ok ? '' : 'upstream_error', { kind: ok ? 'json' : 'error', chunks: [raw] }, null, upstreamMs);
    }
  } catch (err) {
    if (reply.sent || reply.raw.headersSent) return; // streamAnswer already recorded the outcome
    if (abort.aborted) {
      finish(deps, flight, 499, 'client_disconnected', { kind: 'none', chunks: [] });
      return;
    }
    return answerError(deps, flight, reply, upstreamFailure(err, target.upstream.origin));
  } finally {
    span.end();
  }
}

async function streamAnswer(
  deps: ProxyDeps,
  flight: InFlight,
  reply: FastifyReply,
  upstream: Awaited<ReturnType<UpstreamPools['post']>>,
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
  const chunks: Buffer[] = [];
  let ttftMs: number | null = null;
  try {
    for await (const chunk of upstream.body) {
      if (ttftMs === null) ttftMs = performance.now() - flight.started;
      chunks.push(chunk as Buffer);
      // Forward as it arrives; respect the client's pace instead of buffering without bound.
      if (!raw.write(chunk)) await new Promise<void>((resolve) => raw.once('drain', resolve).once('close', resolve));
      if (abort.aborted) throw new Error('client disconnected');
    }
    raw.end();
    finish(deps, flight, upstream.statusCode, '', { kind: 'sse', chunks }, ttftMs, performance.now() - upstreamStart);
  } catch (err) {
    const clientGone = abort.aborted || raw.destroyed;
    if (!clientGone) raw.destroy(err as Error);
    else upstream.body.destroy();
    const status = clientGone ? 499 : 502;
    finish(deps, flight, status, clientGone ? 'client_disconnected' : 'upstream_stream_broken', { kind: 'sse', chunks }, ttftMs);
  }
}

function answerError(deps: ProxyDeps, flight: InFlight, reply: FastifyReply, err: Error): void {
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

/** Records metrics and hands the sample to the capture pipeline (a non-blocking enqueue). */
function finish(
  deps: ProxyDeps,
  flight: InFlight,
  statusCode: number,
  errorType: string,
  response: Exchange['response'],
  ttftMs: number | null = null,
  upstreamMs: number | null = null,
): void {
  const latencyMs = performance.now() - flight.started;
  const target = flight.target;
  const series = requestSeries(deps.metrics, { model: flight.modelName, version: target?.version ?? '', role: target?.role ?? '', statusCode, endpoint: flight.endpoint });
  series.duration.observe(latencyMs / 1000);
  if (ttftMs !== null) series.ttft.observe(ttftMs / 1000);
  if (upstreamMs !== null) series.overhead.observe(Math.max(0, latencyMs - upstreamMs) / 1000);
  deps.capture({
    requestId: flight.requestId,
    ts: flight.ts,
    tenant: flight.tenant,
    model: flight.modelName,
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

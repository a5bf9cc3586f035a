import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TObject } from '@sinclair/typebox';
import type { CaptureQueue } from '../capture/capture-worker.js';
import { ProxyError } from '../proxy/errors.js';
import type { Store } from '../store/client.js';
import { adminErrorHandler, fromStore, rawQueries } from './errors.js';
import { prepareQuery, compileQuerySchema, paramError, periodMs, querySchema, type Query } from './params.js';
import { versionSummary } from '../store/queries.js';
import { sliCounts } from '../store/verdicts.js';
import { sliTotals } from '../store/slo-queries.js';
import type { SloEngine } from '../slo/engine.js';
import type { CanaryController } from '../canary/controller.js';
import { canaryRoutes } from './canary-routes.js';
import type { RetrainService } from '../feedback/service.js';
import { retrainRoutes } from './retrain-routes.js';
import { uiRoutes } from './ui-routes.js';
import { gateRoutes } from './gate-routes.js';
import { samplesWithVerdicts } from './samples.js';
import { sloSeriesOf } from '../slo/engine.js';

export interface AdminDeps {
  store: Store;
  pipeline: CaptureQueue;
  /** TUNEWATCH_ADMIN_TOKEN; without one the admin API answers only on loopback. */
  adminToken: string | undefined;
  engine?: SloEngine;
  canary?: CanaryController;
  retrain?: RetrainService;
  /** The config's model names (release-gate runs are accepted for these). */
  models?: string[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The cookie a browser presents the admin token in (set by GET /ui?token=…), since it cannot send a bearer header. */
export const ADMIN_COOKIE = 'tunewatch_admin';

function cookieToken(header: unknown): string {
  if (typeof header !== 'string') return '';
  const pair = header.split(/;\s*/).find((p) => p.startsWith(`${ADMIN_COOKIE}=`));
  try {
    return pair ? decodeURIComponent(pair.slice(ADMIN_COOKIE.length + 1)) : '';
  } catch {
    return '';
  }
}

export function adminAllowed(request: FastifyRequest, adminToken: string | undefined): boolean {
  if (!adminToken) return LOOPBACK.has(request.socket.remoteAddress ?? '');
  const auth = request.headers.authorization;
  const presented = typeof auth === 'string' ? auth.replace(/^Bearer\s+/i, '') : cookieToken(request.headers.cookie);
  return timingSafeEqual(digest(presented), digest(adminToken));
}


/** Each admin route's query parameters (their schemas are in params.ts). */
export const QUERIES = {
  summary: querySchema('since'),
  samples: querySchema('request_id', 'model', 'version', 'sli', 'verdict', 'min_status', 'min_latency_ms', 'from', 'to', 'limit', 'offset'),
  sli: querySchema('since'),
  slos: querySchema('refresh'),
  report: querySchema('since'),
  series: querySchema('slo', 'since'),
  flush: querySchema(),
};
const schemaOf = <T extends TObject>(querystring: T) => ({ schema: { querystring } });

/**
 * The control API read by the CLI while the server owns the embedded store's files. Every route's query
 * is checked against its schema (params.ts); store calls go through fromStore (a failure is a 503).
 */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { store } = deps;
  app.setValidatorCompiler(({ schema }) => compileQuerySchema(schema));
  app.setErrorHandler(adminErrorHandler);
  app.addHook('onRequest', async (request, reply) => {
    // The status page's sign-in: /ui?token=… with the right token becomes a cookie, then a clean /ui.
    const token = request.url.startsWith('/ui?') ? new URL(request.url, 'http://x').searchParams.get('token') : null;
    if (token !== null && deps.adminToken && timingSafeEqual(digest(token), digest(deps.adminToken))) {
      return reply
        .header('set-cookie', `${ADMIN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
        .redirect('/ui', 303);
    }
    if (!adminAllowed(request, deps.adminToken)) {
      throw new ProxyError(401, deps.adminToken ? 'missing or wrong admin token' : 'admin API is loopback-only until TUNEWATCH_ADMIN_TOKEN is set', 'invalid_request_error', 'unauthorized');
    }
  });
  app.addHook('preValidation', async (request) => {
    rawQueries.set(request, prepareQuery(request.query as Record<string, unknown>, request.routeOptions.schema?.querystring as TObject | undefined));
  });

  app.get<{ Querystring: Query<typeof QUERIES.summary> }>('/api/summary', schemaOf(QUERIES.summary), async (request) => {
    const { since = '1h' } = request.query;
    const sinceMs = periodMs(since);
    return { since, versions: await fromStore(() => versionSummary(store, Date.now() - sinceMs)) };
  });

  app.get<{ Querystring: Query<typeof QUERIES.samples> }>('/api/samples', schemaOf(QUERIES.samples), async (request) => {
    const q = request.query;
    const { limit = 50, offset = 0 } = q;
    if (q.from !== undefined && q.to !== undefined && q.to < q.from) throw paramError(`'to' (${q.to}) is before 'from' (${q.from})`, 'to');
    const items = await fromStore(() =>
      samplesWithVerdicts(store, {
        requestId: q.request_id,
        model: q.model,
        version: q.version,
        sli: q.sli,
        verdict: q.verdict,
        minStatus: q.min_status,
        minLatencyMs: q.min_latency_ms,
        fromMs: q.from,
        toMs: q.to,
        limit,
        offset,
      }),
    );
    return { items, limit, offset, next_offset: items.length === limit ? offset + limit : null };
  });

  app.get<{ Querystring: Query<typeof QUERIES.sli> }>('/api/sli', schemaOf(QUERIES.sli), async (request) => {
    const { since = '1h' } = request.query;
    const sinceMs = periodMs(since);
    return { since, slis: await fromStore(() => sliCounts(store, Date.now() - sinceMs)) };
  });

  app.get<{ Querystring: Query<typeof QUERIES.slos> }>('/api/slos', schemaOf(QUERIES.slos), async (request) => {
    const { engine } = deps;
    if (!engine) return { slos: [], note: 'no SLOs configured, or this process runs without the controller role' };
    // An evaluation round is store queries (Alertmanager failures are its own business and never throw).
    return { slos: request.query.refresh === 'true' ? await fromStore(() => engine.evaluate()) : engine.status() };
  });

  // An SLO's SLI and burn rate over time per version (the status page's charts).
  app.get<{ Querystring: Query<typeof QUERIES.series> }>('/api/slos/series', schemaOf(QUERIES.series), async (request) => {
    const { since = '1h', slo: name } = request.query;
    const slo = deps.engine?.slos.find((s) => s.name === name);
    if (!slo) throw paramError(`no SLO named '${name ?? ''}'; the SLOs: ${deps.engine?.slos.map((s) => s.name).join(', ') || 'none'}`, 'slo');
    return { slo: slo.name, since, ...(await fromStore(() => sloSeriesOf(store, slo, periodMs(since)))) };
  });

  // The SLIs over a chosen period instead of each SLO's window: `tunewatch slo report --since 7d`.
  app.get<{ Querystring: Query<typeof QUERIES.report> }>('/api/slos/report', schemaOf(QUERIES.report), async (request) => {
    const { since = '7d' } = request.query;
    const sinceMs = periodMs(since);
    if (!deps.engine) return { since, slos: [] };
    const now = Date.now();
    const rows = await Promise.all(
      deps.engine.slos.map(async (slo) =>
        (await fromStore(() => sliTotals(store, slo, now - sinceMs, now + 60_000))).map((t) => ({ slo: slo.name, sli: slo.sli, objective: slo.objective, ...t })),
      ),
    );
    return { since, slos: rows.flat() };
  });

  await app.register(canaryRoutes, { controller: deps.canary });
  await app.register(retrainRoutes, { service: deps.retrain });
  await app.register(gateRoutes, { store, models: deps.models ?? [], onRecorded: async (model) => deps.canary?.refreshGate(model) });
  await app.register(uiRoutes, { store, engine: deps.engine, canary: deps.canary, retrain: deps.retrain });

  app.post('/api/capture/flush', schemaOf(QUERIES.flush), async () => {
    await deps.pipeline.flush();
    return deps.pipeline.health();
  });
}

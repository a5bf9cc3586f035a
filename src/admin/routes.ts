import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseDuration } from '../config/duration.js';
import type { CaptureQueue } from '../capture/capture-worker.js';
import { ProxyError, badRequest } from '../proxy/errors.js';
import type { Store } from '../store/client.js';
import { SLIS, VERDICTS, type Sli } from '../evaluate/types.js';
import { listSamples, versionSummary } from '../store/queries.js';
import { sliCounts, verdictDetails, type VerdictView } from '../store/verdicts.js';
import { sliTotals } from '../store/slo-queries.js';
import type { SloEngine } from '../slo/engine.js';

export interface AdminDeps {
  store: Store;
  pipeline: CaptureQueue;
  /** TUNEWATCH_ADMIN_TOKEN; without one the admin API answers only on loopback. */
  adminToken: string | undefined;
  engine?: SloEngine;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function adminAllowed(request: FastifyRequest, adminToken: string | undefined): boolean {
  if (!adminToken) return LOOPBACK.has(request.socket.remoteAddress ?? '');
  const auth = request.headers.authorization;
  const presented = typeof auth === 'string' ? auth.replace(/^Bearer\s+/i, '') : '';
  return timingSafeEqual(digest(presented), digest(adminToken));
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw badRequest(`'${name}' must be a number, got "${value}"`, name);
  return n;
}

function durationParam(since: string): number {
  try {
    return parseDuration(since);
  } catch (err) {
    throw badRequest((err as Error).message, 'since');
  }
}

const NOT_EVALUATED: Pick<VerdictView, 'verdict' | 'reason' | 'source'> = { verdict: 'unknown', reason: 'not evaluated', source: 'auto' };

/** Every SLI present in the answer, `unknown` where no evaluator gave a verdict (errors, embeddings). */
function verdictsOf(found: Partial<Record<Sli, VerdictView>> | undefined) {
  return Object.fromEntries(SLIS.map((sli) => [sli, found?.[sli] ?? NOT_EVALUATED]));
}

/** The control API read by the CLI while the server owns the embedded store's files. */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (!adminAllowed(request, deps.adminToken)) {
      throw new ProxyError(401, deps.adminToken ? 'missing or wrong admin token' : 'admin API is loopback-only until TUNEWATCH_ADMIN_TOKEN is set', 'invalid_request_error', 'unauthorized');
    }
  });
  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const e = error instanceof ProxyError ? error : new ProxyError(status, (error as Error).message, status >= 500 ? 'internal_error' : 'invalid_request_error');
    return reply.code(e.status).send(e.toBody());
  });

  app.get('/api/summary', async (request) => {
    const { since = '1h' } = request.query as { since?: string };
    return { since, versions: await versionSummary(deps.store, Date.now() - durationParam(since)) };
  });

  app.get('/api/samples', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const limit = optionalNumber(q.limit, 'limit') ?? 50;
    if (limit < 1 || limit > 1000) throw badRequest(`'limit' must be between 1 and 1000, got ${limit}`, 'limit');
    const offset = optionalNumber(q.offset, 'offset') ?? 0;
    if (q.sli && !(SLIS as readonly string[]).includes(q.sli)) throw badRequest(`'sli' must be one of ${SLIS.join(', ')}, got "${q.sli}"`, 'sli');
    if (q.verdict && !(VERDICTS as readonly string[]).includes(q.verdict)) throw badRequest(`'verdict' must be one of ${VERDICTS.join(', ')}, got "${q.verdict}"`, 'verdict');
    const rows = await listSamples(deps.store, {
      requestId: q.request_id,
      model: q.model,
      version: q.version,
      sli: q.sli,
      verdict: q.verdict,
      minStatus: optionalNumber(q.min_status, 'min_status'),
      minLatencyMs: optionalNumber(q.min_latency_ms, 'min_latency_ms'),
      fromMs: optionalNumber(q.from, 'from'),
      toMs: optionalNumber(q.to, 'to'),
      limit,
      offset,
    });
    const verdicts = await verdictDetails(deps.store, rows.map((r) => String(r.request_id)));
    const items = rows.map((r) => ({ ...r, verdicts: verdictsOf(verdicts.get(String(r.request_id))) }));
    return { items, limit, offset, next_offset: items.length === limit ? offset + limit : null };
  });

  app.get('/api/sli', async (request) => {
    const { since = '1h' } = request.query as { since?: string };
    return { since, slis: await sliCounts(deps.store, Date.now() - durationParam(since)) };
  });

  app.get('/api/slos', async (request) => {
    const { refresh } = request.query as { refresh?: string };
    if (!deps.engine) return { slos: [], note: 'no SLOs configured, or this process runs without the controller role' };
    return { slos: refresh === 'true' ? await deps.engine.evaluate() : deps.engine.status() };
  });

  // The SLIs over a chosen period instead of each SLO's window: `tunewatch slo report --since 7d`.
  app.get('/api/slos/report', async (request) => {
    const { since = '7d' } = request.query as { since?: string };
    const sinceMs = durationParam(since);
    if (!deps.engine) return { since, slos: [] };
    const now = Date.now();
    const rows = await Promise.all(
      deps.engine.slos.map(async (slo) => (await sliTotals(deps.store, slo, now - sinceMs, now + 60_000)).map((t) => ({ slo: slo.name, sli: slo.sli, objective: slo.objective, ...t }))),
    );
    return { since, slos: rows.flat() };
  });

  app.post('/api/capture/flush', async () => {
    await deps.pipeline.flush();
    return deps.pipeline.health();
  });
}

// The built-in status page (GET /ui): server-rendered fragments (ui/views.ts) swapped in by htmx, and
// charts drawn by uPlot in the browser. Registered inside the admin plugin, so it has the admin API's
// access rule (loopback, or the admin token) and draws from the same query functions the API uses.
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CanaryController } from '../canary/controller.js';
import { packageRoot } from '../config/paths.js';
import type { RetrainService } from '../feedback/service.js';
import type { SloEngine } from '../slo/engine.js';
import type { Store } from '../store/client.js';
import { canaryPanel, page, retrainPanel, sampleDetail, samplesTable, sloTable } from '../ui/views.js';
import { fromStore } from './errors.js';
import { querySchema, type Query } from './params.js';
import { samplesWithVerdicts } from './samples.js';
import { ProxyError } from '../proxy/errors.js';

export interface UiDeps {
  store: Store;
  engine?: SloEngine;
  canary?: CanaryController;
  retrain?: RetrainService;
}

const require = createRequire(import.meta.url);

/** The page's static files, from the package itself (never a CDN), read once. */
const ASSETS: Record<string, { path: string; type: string }> = {
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript' },
  'uPlot.iife.min.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  'uPlot.min.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
  'status.js': { path: join(packageRoot(), 'src/ui/assets/status.js'), type: 'text/javascript' },
  'status.css': { path: join(packageRoot(), 'src/ui/assets/status.css'), type: 'text/css' },
};
const asset = (name: string) => `/ui/assets/${name}`;

const SAMPLES_QUERY = querySchema('model', 'version', 'sli');
const NO_QUERY = querySchema();
const HTML = 'text/html; charset=utf-8';

export async function uiRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  const files = new Map(Object.entries(ASSETS).map(([name, a]) => [name, { body: readFileSync(a.path), type: a.type }]));
  const body = page({ htmx: asset('htmx.min.js'), uplot: asset('uPlot.iife.min.js'), uplotCss: asset('uPlot.min.css'), script: asset('status.js'), css: asset('status.css') }).text;

  app.get('/ui', { schema: { querystring: NO_QUERY } }, async (_request, reply) => reply.type(HTML).send(body));

  app.get<{ Params: { name: string } }>('/ui/assets/:name', async (request, reply) => {
    const file = files.get(request.params.name);
    if (!file) throw new ProxyError(404, `no asset '${request.params.name}'`, 'invalid_request_error', 'not_found');
    return reply.type(file.type).header('cache-control', 'public, max-age=3600').send(file.body);
  });

  app.get('/ui/slos', { schema: { querystring: NO_QUERY } }, async (_request, reply) => {
    const engine = deps.engine;
    const slos = engine ? (engine.status().length ? engine.status() : await fromStore(() => engine.evaluate())) : [];
    return reply.type(HTML).send(sloTable(slos, new Map((engine?.slos ?? []).map((s) => [s.name, s.windowMs]))).text);
  });

  app.get('/ui/canary', { schema: { querystring: NO_QUERY } }, async (_request, reply) => {
    const c = deps.canary;
    return reply.type(HTML).send(canaryPanel(c ? c.models.map((m) => c.view(m)) : []).text);
  });

  app.get<{ Querystring: Query<typeof SAMPLES_QUERY> }>('/ui/samples', { schema: { querystring: SAMPLES_QUERY } }, async (request, reply) => {
    const { model, version, sli } = request.query;
    const items = await fromStore(() => samplesWithVerdicts(deps.store, { model, version, sli, verdict: 'bad', limit: 25, offset: 0 }));
    return reply.type(HTML).send(samplesTable(items).text);
  });

  app.get<{ Params: { id: string } }>(
    '/ui/samples/:id',
    { schema: { querystring: NO_QUERY, params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 128 } }, required: ['id'] } } },
    async (request, reply) => {
      const [item] = await fromStore(() => samplesWithVerdicts(deps.store, { requestId: request.params.id, limit: 1, offset: 0 }));
      if (!item) throw new ProxyError(404, `no sample '${request.params.id}'`, 'invalid_request_error', 'not_found');
      return reply.type(HTML).send(sampleDetail(item).text);
    },
  );

  app.get('/ui/retrain', { schema: { querystring: NO_QUERY } }, async (_request, reply) => {
    const r = deps.retrain;
    const queues = r ? await fromStore(() => Promise.all(r.models.map(async (model) => ({ model, items: await r.queue(model) })))) : [];
    const jobs = r ? await fromStore(() => r.jobs()) : [];
    return reply.type(HTML).send(retrainPanel(queues, jobs).text);
  });
}

// The feedback loop's API: the same words as `tunewatch retrain …`. Registered inside the admin
// plugin, so it shares its authentication, query validation and error answers.
import type { FastifyInstance } from 'fastify';
import { LauncherError } from '../feedback/launchers/launcher.js';
import type { RetrainService } from '../feedback/service.js';
import { QUEUE_STATES } from '../feedback/states.js';
import { ProxyError } from '../proxy/errors.js';
import { fromControl } from './errors.js';
import { actorOf, querySchema } from './params.js';

export interface RetrainRouteDeps {
  /** Absent in a proxy-only process or without any retrain: block. */
  service?: RetrainService;
}

const MODEL_PARAMS = { type: 'object', properties: { model: { type: 'string', minLength: 1, maxLength: 256 } }, required: ['model'] } as const;
const JOB_PARAMS = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-z0-9-]+$' } }, required: ['id'] } as const;
const NO_QUERY = querySchema();

/** The service's refusals are the caller's (404/409); a launcher's failure is a 502; anything else came from the store (503). */
const call = <T>(fn: () => Promise<T>) =>
  fromControl(fn, { notFound: 'not_found', refused: 'invalid_retrain_request' }, (err) => (err instanceof LauncherError ? new ProxyError(502, err.message, 'api_error', 'launcher_failed') : undefined));

export async function retrainRoutes(app: FastifyInstance, deps: RetrainRouteDeps): Promise<void> {
  const service = (): RetrainService => {
    if (!deps.service) throw new ProxyError(404, 'no model has a retrain: block here (or this process runs with --role proxy)', 'invalid_request_error', 'no_retrain');
    return deps.service;
  };
  const model = { schema: { querystring: NO_QUERY, params: MODEL_PARAMS } };
  const job = { schema: { querystring: NO_QUERY, params: JOB_PARAMS } };

  app.get<{ Params: { model: string } }>('/api/retrain/:model/queue', model, async (request) => {
    const items = await call(() => service().queue(request.params.model));
    const counts = Object.fromEntries(QUEUE_STATES.map((s) => [s, items.filter((i) => i.state === s).length]));
    return { model: request.params.model, counts, items };
  });

  app.post<{ Params: { model: string } }>('/api/retrain/:model/launch', model, async (request, reply) => {
    const { job: launched, created } = await call(() => service().launch(request.params.model, { trigger: 'manual', actor: actorOf(request.headers['x-tunewatch-actor']) }));
    return reply.code(created ? 201 : 200).send(launched);
  });

  app.post<{ Params: { model: string } }>('/api/retrain/:model/export', model, async (request) => {
    const { snapshot } = await call(() => service().snapshot(request.params.model));
    return { dir: snapshot.files.dir, manifest: snapshot.manifest };
  });

  app.get<{ Querystring: { model?: string } }>('/api/retrain/jobs', { schema: { querystring: querySchema('model') } }, async (request) => ({
    jobs: await call(() => service().jobs(request.query.model)),
  }));

  app.get<{ Params: { id: string } }>('/api/retrain/jobs/:id', job, async (request) => call(() => service().job(request.params.id)));

  app.post<{ Params: { id: string } }>('/api/retrain/jobs/:id/cancel', job, async (request) =>
    call(() => service().cancel(request.params.id, actorOf(request.headers['x-tunewatch-actor']))),
  );
}

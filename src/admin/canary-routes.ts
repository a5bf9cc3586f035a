// The canary rollout's control API: the same words as `tunewatch canary …`. Registered inside the
// admin plugin, so it shares its authentication, query validation and error answers.
import type { FastifyInstance } from 'fastify';
import type { CanaryController } from '../canary/controller.js';
import { MANUAL_ACTIONS } from '../canary/states.js';
import { ProxyError } from '../proxy/errors.js';
import { fromControl } from './errors.js';
import { actorOf, querySchema } from './params.js';

export interface CanaryRouteDeps {
  /** Absent in a proxy-only process: the routes then say where the controller runs. */
  controller?: CanaryController;
}

const MODEL_PARAMS = { type: 'object', properties: { model: { type: 'string', minLength: 1, maxLength: 256 } }, required: ['model'] } as const;
const START_BODY = {
  type: 'object',
  properties: { version: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._:-]+$' } },
  required: ['version'],
  additionalProperties: false,
} as const;
const NO_QUERY = querySchema();

/** A controller error is the caller's (404/400/409); anything else came from the store (503). */
const control = <T>(call: () => Promise<T>) => fromControl(call, { notFound: 'model_not_found', refused: 'invalid_canary_action' });

export async function canaryRoutes(app: FastifyInstance, deps: CanaryRouteDeps): Promise<void> {
  const controller = (): CanaryController => {
    if (!deps.controller) throw new ProxyError(404, 'this process runs without the controller role (serve --role proxy); ask the controller', 'invalid_request_error', 'no_controller');
    return deps.controller;
  };
  const params = { schema: { querystring: NO_QUERY, params: MODEL_PARAMS } };

  app.get('/api/canary', { schema: { querystring: NO_QUERY } }, async () => {
    const c = controller();
    return { canaries: c.models.map((m) => c.view(m)) };
  });

  app.get<{ Params: { model: string } }>('/api/canary/:model', params, async (request) =>
    control(async () => {
      await controller().refreshGate(request.params.model);
      return controller().view(request.params.model);
    }),
  );

  app.get<{ Params: { model: string } }>('/api/canary/:model/history', params, async (request) => {
    const decisions = await control(() => controller().history(request.params.model));
    return { model: request.params.model, decisions };
  });

  for (const action of MANUAL_ACTIONS) {
    app.post<{ Params: { model: string } }>(`/api/canary/:model/${action}`, params, async (request) =>
      control(() => controller().act(request.params.model, action, actorOf(request.headers['x-tunewatch-actor']))),
    );
  }

  // A deployment added later (or a new version after a promotion) starts its rollout at the first step.
  app.post<{ Params: { model: string }; Body: { version: string } }>(
    '/api/canary/:model/start',
    { schema: { querystring: NO_QUERY, params: MODEL_PARAMS, body: START_BODY } },
    async (request, reply) => {
      const view = await control(() => controller().startCanary(request.params.model, request.body.version, actorOf(request.headers['x-tunewatch-actor'])));
      return reply.code(201).send(view);
    },
  );
}

// Release-gate runs through the admin API: `tunewatch gate --record --url URL` posts here when the
// store is a running server's (the embedded store has one owner), and a version's runs are listed.
import type { FastifyInstance } from 'fastify';
import { GATE_METRICS } from '../gate/types.js';
import { CANARY_VERDICTS, CLASSIFICATIONS } from '../canary/types.js';
import { ProxyError } from '../proxy/errors.js';
import type { Store } from '../store/client.js';
import { gateRuns, recordGateRun, type GateRunInput } from '../store/gate-runs.js';
import { fromStore } from './errors.js';
import { actorOf, querySchema } from './params.js';

export interface GateRouteDeps {
  store: Store;
  /** The config's model names: a run for another model is a 404. */
  models: string[];
  /** Called after a run is stored (the canary controller refreshes the version's gate result). */
  onRecorded?: (model: string, version: string) => Promise<void>;
}

const NAME = { type: 'string', minLength: 1, maxLength: 256 } as const;
const NUMBER_OR_NULL = { type: ['number', 'null'] } as const;
const PARAMS = { type: 'object', properties: { model: NAME }, required: ['model'] } as const;
const VERSION_PARAMS = { type: 'object', properties: { model: NAME, version: NAME }, required: ['model', 'version'] } as const;
const RUN_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['candidate', 'baseline', 'golden', 'analysis'],
  properties: {
    candidate: { type: 'object', required: ['version', 'url'], properties: { version: NAME, url: { type: 'string', maxLength: 2048 } } },
    baseline: { type: 'object', required: ['version'], properties: { version: NAME } },
    golden: { type: 'object', required: ['sha256', 'items'], properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, items: { type: 'integer', minimum: 0 } } },
    analysis: {
      type: 'object',
      required: ['verdict', 'score', 'reason', 'metrics'],
      properties: {
        verdict: { enum: [...CANARY_VERDICTS] },
        score: { type: 'number', minimum: 0, maximum: 100 },
        reason: { type: 'string', maxLength: 4096 },
        metrics: {
          type: 'array',
          maxItems: GATE_METRICS.length,
          items: {
            type: 'object',
            required: ['name', 'classification'],
            properties: {
              name: { enum: [...GATE_METRICS] },
              classification: { enum: [...CLASSIFICATIONS] },
              baseline: NUMBER_OR_NULL,
              candidate: NUMBER_OR_NULL,
              effect: NUMBER_OR_NULL,
              interval: { anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }] },
            },
          },
        },
      },
    },
  },
} as const;
const NO_QUERY = querySchema();

export async function gateRoutes(app: FastifyInstance, deps: GateRouteDeps): Promise<void> {
  const known = (model: string) => {
    if (!deps.models.includes(model)) throw new ProxyError(404, `unknown model '${model}'; the config's models: ${deps.models.join(', ')}`, 'invalid_request_error', 'model_not_found');
  };

  app.post<{ Params: { model: string }; Body: Omit<GateRunInput, 'model' | 'actor' | 'ts'> }>(
    '/api/gate/:model/runs',
    { schema: { querystring: NO_QUERY, params: PARAMS, body: RUN_BODY } },
    async (request, reply) => {
      known(request.params.model);
      const { candidate, baseline, golden, analysis } = request.body;
      // Only the fields a run keeps: the verdict table rows as the store holds them.
      const metrics = analysis.metrics.map((m) => ({ ...m, baseline: m.baseline ?? null, candidate: m.candidate ?? null, effect: m.effect ?? null, interval: m.interval ?? null }));
      const run = await fromStore(() =>
        recordGateRun(deps.store, { model: request.params.model, candidate, baseline, golden, analysis: { ...analysis, metrics: metrics as never }, actor: actorOf(request.headers['x-tunewatch-actor']) }),
      );
      await deps.onRecorded?.(run.model, run.candidate).catch(() => undefined);
      return reply.code(201).send(run);
    },
  );

  app.get<{ Params: { model: string; version: string } }>('/api/gate/:model/:version/runs', { schema: { querystring: NO_QUERY, params: VERSION_PARAMS } }, async (request) => {
    known(request.params.model);
    const runs = await fromStore(() => gateRuns(deps.store, request.params.model, request.params.version));
    return { model: request.params.model, version: request.params.version, runs };
  });
}

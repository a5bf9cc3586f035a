import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeAjvError } from '../config/load.js';
import { ProxyError, badRequest, toProxyError } from '../proxy/errors.js';
import { UnknownRequestError, type LabelWriter } from './labels.js';
import { SLIS, VERDICTS } from './types.js';

const LabelSchema = Type.Object(
  {
    request_id: Type.String({ minLength: 1, maxLength: 128 }),
    sli: Type.Union(SLIS.map((s) => Type.Literal(s))),
    verdict: Type.Union(VERDICTS.map((v) => Type.Literal(v))),
    score: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    comment: Type.Optional(Type.String({ maxLength: 4000 })),
    rater: Type.Optional(Type.String({ maxLength: 200 })),
    correction: Type.Optional(Type.String({ maxLength: 100_000 })),
  },
  { additionalProperties: false },
);
type LabelBody = Static<typeof LabelSchema>;

const validateLabel = new Ajv({ allErrors: true }).compile<LabelBody>(LabelSchema);

/** One label, an array of labels, or {labels: [...]}: all become a list, each checked with its position named. */
export function parseLabels(body: unknown): LabelBody[] {
  const list = Array.isArray(body) ? body : body && typeof body === 'object' && Array.isArray((body as { labels?: unknown }).labels) ? (body as { labels: unknown[] }).labels : [body];
  if (list.length === 0) throw badRequest('no labels given');
  if (list.length > 1000) throw badRequest(`at most 1000 labels per request, got ${list.length}`);
  list.forEach((item, i) => {
    if (!validateLabel(item)) {
      const issue = describeAjvError(validateLabel.errors![0], item);
      const where = list.length > 1 || Array.isArray(body) ? `labels[${i}]` : '';
      const path = [where, issue.path].filter(Boolean).join('.') || 'body';
      throw badRequest(`${path}: expected ${issue.expected}, found ${issue.found}`, path);
    }
  });
  return list as LabelBody[];
}

export interface FeedbackDeps {
  labels: LabelWriter;
  /** True when the caller may label: a valid client key or the admin token. */
  authorized(request: FastifyRequest): boolean;
}

/** POST /v1/feedback: human verdicts that overrule automatic ones in every SLI. */
export async function feedbackRoutes(app: FastifyInstance, deps: FeedbackDeps): Promise<void> {
  // Malformed or too deeply nested JSON, an oversized body or a wrong content type fail before the
  // handler runs: answered in OpenAI's shape like every other error of this route.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const e = toProxyError(error);
    if (e.status >= 500) request.log.error({ err: error }, 'feedback failed');
    return reply.code(e.status).send(e.toBody());
  });
  app.post('/v1/feedback', async (request, reply) => {
    try {
      if (!deps.authorized(request)) throw new ProxyError(401, 'missing or invalid API key or admin token', 'invalid_request_error', 'invalid_api_key');
      const rows = await deps.labels.record(parseLabels(request.body), 'human');
      // Human labels always take over (the latest human label wins), so each one is now the effective verdict.
      return reply.code(201).send({ recorded: rows.length, labels: rows.map((r) => ({ request_id: r.request_id, sli: r.sli, verdict: r.verdict })) });
    } catch (err) {
      const e =
        err instanceof UnknownRequestError
          ? new ProxyError(404, err.message, 'invalid_request_error', 'request_not_found', 'request_id')
          : err instanceof ProxyError
            ? err
            : new ProxyError(500, 'could not record labels', 'internal_error');
      if (e.status === 500) request.log.error({ err }, 'feedback failed');
      return reply.code(e.status).send(e.toBody());
    }
  });
}

import type { TObject } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ProxyError } from '../proxy/errors.js';
import { requestIdFrom } from '../proxy/request-ids.js';
import { queryError } from './params.js';
import { RequestError } from '../util/request-error.js';

/** An error from a store call: while the embedded store restarts its client fails in many ways. */
export class StoreUnavailable extends Error {
  constructor(cause: unknown) {
    super('store call failed', { cause });
    this.name = 'StoreUnavailable';
  }
}

export const STORE_UNAVAILABLE = new ProxyError(
  503,
  'the store is not answering right now; samples are being kept in the spill log and will be replayed',
  'service_unavailable',
  'store_unavailable',
);

/** Each admin request's query as the client gave it, before prepareQuery converted it (for quoting in messages). */
export const rawQueries = new WeakMap<FastifyRequest, Record<string, unknown>>();

/** Runs a store call; whatever it throws is store trouble (a 503), never a 500 with the store's message. */
export async function fromStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new StoreUnavailable(err);
  }
}

/**
 * The admin API's answers to errors, all in OpenAI's shape. A bad query is a 400 naming the parameter;
 * fastify's own 4xx (a bad body or content type) keep their message; a store failure is a 503; anything
 * else is a 500 with a generic message and the request id, the detail only in the log.
 */
export function adminErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.validation && error.validationContext === 'querystring') {
    const schema = request.routeOptions.schema?.querystring as TObject | undefined;
    return reply.code(400).send(queryError(error.validation as ErrorObject[], schema, rawQueries.get(request)).toBody());
  }
  if (error instanceof ProxyError && error.status < 500) return reply.code(error.status).send(error.toBody());
  const requestId = requestIdFrom(request.headers['x-request-id']);
  reply.header('x-request-id', requestId);
  if (error instanceof StoreUnavailable) {
    request.log.warn({ err: error.cause, requestId, url: request.url }, 'admin API: store call failed');
    return reply.code(503).header('retry-after', '5').send(STORE_UNAVAILABLE.toBody());
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).send(new ProxyError(status, error.message, 'invalid_request_error', error.code ?? null).toBody());
  }
  request.log.error({ err: error, requestId, url: request.url }, 'admin API: unexpected error');
  const message = `internal error (request id ${requestId}); the details are in the server log`;
  return reply.code(500).send(new ProxyError(500, message, 'internal_error', 'internal_error').toBody());
}

/**
 * Runs a control call (canary, retrain): the controller's refusal is the caller's (its status, with
 * `notFound` or `refused` as the code); anything else came from the store (a 503). `more` maps other
 * known errors first.
 */
export async function fromControl<T>(call: () => Promise<T>, codes: { notFound: string; refused: string }, more?: (err: unknown) => ProxyError | undefined): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RequestError) throw new ProxyError(err.status, err.message, 'invalid_request_error', err.status === 404 ? codes.notFound : codes.refused);
    if (err instanceof ProxyError) throw err;
    const mapped = more?.(err);
    if (mapped) throw mapped;
    throw new StoreUnavailable(err);
  }
}

/** An error answered to the client in OpenAI's shape: {"error": {message, type, param, code}}. */
export class ProxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ProxyError';
  }

  /** Fastify's name for the status: an error handler that knows nothing of ProxyError still answers it. */
  get statusCode(): number {
    return this.status;
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new ProxyError(400, message, 'invalid_request_error', 'invalid_request', param);

/**
 * Any error a route or fastify raised (a body parser, the body limit, a content type no parser
 * takes) as the ProxyError to answer. Only an error tunewatch did not foresee is a 500.
 */
export function toProxyError(error: Error & { statusCode?: number; code?: string }): ProxyError {
  if (error instanceof ProxyError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ProxyError(413, 'request body is larger than the configured limit', 'invalid_request_error', 'body_too_large');
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ProxyError(415, 'content-type must be application/json', 'invalid_request_error', 'unsupported_media_type');
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return badRequest('request body is empty; expected a JSON object');
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return badRequest(`malformed JSON body: ${error.message}`);
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new ProxyError(error.statusCode, error.message, 'invalid_request_error');
  }
  return new ProxyError(500, 'internal error in tunewatch', 'internal_error');
}

/** undici's error codes → the status a client of an OpenAI-compatible API expects. */
export function upstreamFailure(err: unknown, upstream: string): ProxyError {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new ProxyError(504, `upstream ${upstream} did not answer in time`, 'upstream_timeout', 'upstream_timeout');
  }
  return new ProxyError(502, `upstream ${upstream} unreachable: ${code || (err as Error).message}`, 'upstream_unreachable', 'upstream_unreachable');
}

/** The upstream sent its status and headers, then its body failed (socket dropped, length not kept). */
export function upstreamBodyFailure(err: unknown, upstream: string): ProxyError {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_BODY_TIMEOUT') return new ProxyError(504, `upstream ${upstream} stopped sending its answer`, 'upstream_timeout', 'upstream_timeout');
  return new ProxyError(502, `upstream ${upstream} broke off its answer: ${code || (err as Error).message}`, 'upstream_body_broken', 'upstream_body_broken');
}

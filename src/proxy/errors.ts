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

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new ProxyError(400, message, 'invalid_request_error', 'invalid_request', param);

/** undici's error codes → the status a client of an OpenAI-compatible API expects. */
export function upstreamFailure(err: unknown, upstream: string): ProxyError {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new ProxyError(504, `upstream ${upstream} did not answer in time`, 'upstream_timeout', 'upstream_timeout');
  }
  return new ProxyError(502, `upstream ${upstream} unreachable: ${code || (err as Error).message}`, 'upstream_unreachable', 'upstream_unreachable');
}

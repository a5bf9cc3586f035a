// Answers given before any route runs — a request arriving while the server drains, a request whose
// headers node's HTTP parser refused — recorded as samples when they were meant for the proxy.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ProxyError } from './errors.js';
import { endpointOf, recordEarlyAnswer, type ProxyDeps } from './routes.js';

type Deps = Required<ProxyDeps> | null;

/** What fastify's return503OnClosing answered; kept for paths that are not the proxy's. */
const FASTIFY_503 = '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}';

/**
 * Once close() starts, every request (pipelined, or on a keep-alive connection) is a 503 with
 * `Connection: close`, as fastify's return503OnClosing did — but a proxy request's is OpenAI-shaped,
 * carries its x-request-id and is recorded (error type `server_draining`). The server must be built
 * with return503OnClosing: false. One boolean check per request: the server's request listener is
 * wrapped, rather than adding a hook every request would run through.
 */
export function answerDrainsAsSamples(app: FastifyInstance, deps: Deps): void {
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  const server = app.server;
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (listeners.length !== 1) throw new Error(`expected fastify's one request listener, found ${listeners.length}`);
  const fastifyHandler = listeners[0];
  server.removeListener('request', fastifyHandler);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!draining) return fastifyHandler(req, res);
    const endpoint = deps ? endpointOf(req.url ?? '') : null;
    if (endpoint === null) {
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': FASTIFY_503.length, connection: 'close' });
      res.end(FASTIFY_503);
      return;
    }
    const error = new ProxyError(503, 'tunewatch is shutting down; send the request again (to another instance)', 'server_draining', 'server_draining');
    const requestId = recordEarlyAnswer(deps!, endpoint, req.headers, error);
    const body = JSON.stringify(error.toBody());
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close', 'x-request-id': requestId });
    res.end(body);
  });
}

// The request line as far as it reached the packet that overflowed, and an x-request-id header.
const REQUEST_LINE = /^[A-Z]{3,10} ([^ \r\n]*)/;
const REQUEST_ID_HEADER = /\r\nx-request-id:[ \t]*([^\r\n]*)\r\n/i;

/**
 * Fastify's clientErrorHandler: node's HTTP parser failed on a request (headers over the size
 * limit, malformed HTTP, a timeout). A 431 for a proxy path is answered in OpenAI's shape and
 * recorded (error type `headers_too_large`); everything else is answered as fastify does.
 * Node hands over only the packet that overflowed: the path is known when the request line is in it
 * (a client that writes its head at once, as HTTP clients do, over loopback or a fast link); when
 * it is not, the request cannot be attributed to an endpoint and is not recorded.
 */
export function clientErrorHandler(deps: Deps) {
  return function onClientError(this: { log?: FastifyBaseLogger }, err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    if (err.code === 'HPE_HEADER_OVERFLOW' && deps) {
      const packet = err.rawPacket;
      const head = Buffer.isBuffer(packet) ? packet.toString('latin1', 0, Math.min(packet.length, 65_536)) : '';
      const line = REQUEST_LINE.exec(head);
      const endpoint = line ? endpointOf(line[1]) : null;
      if (endpoint !== null) {
        const id = REQUEST_ID_HEADER.exec(head)?.[1];
        const error = new ProxyError(431, `request header fields are larger than the server accepts (${http.maxHeaderSize} bytes in all)`, 'headers_too_large', 'headers_too_large');
        const requestId = recordEarlyAnswer(deps, endpoint, id === undefined ? {} : { 'x-request-id': id }, error);
        const body = JSON.stringify(error.toBody());
        if (socket.writable) {
          socket.write(
            `HTTP/1.1 431 ${http.STATUS_CODES[431]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
          );
        }
        socket.destroy(err);
        return;
      }
    }
    fastifyClientError(err, socket, this.log);
  };
}

/** fastify's defaultClientErrorHandler (not exported by fastify), for everything tunewatch does not record. */
function fastifyClientError(err: Error & { code?: string }, socket: Socket, log: FastifyBaseLogger | undefined): void {
  let status: number;
  let message: string;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') [status, message] = [408, 'Client Timeout'];
  else if (err.code === 'HPE_HEADER_OVERFLOW') [status, message] = [431, 'Exceeded maximum allowed HTTP header size'];
  else [status, message] = [400, 'Client Error'];
  log?.trace({ err }, 'client error');
  const reason = http.STATUS_CODES[status];
  const body = `{"error":"${reason}","message":"${message}","statusCode":${status}}`;
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`);
  socket.destroy(err);
}

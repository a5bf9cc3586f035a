import { userInfo } from 'node:os';
import { request } from 'undici';
import { formatDuration } from '../config/duration.js';
import { CliError } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** `--url`: an http(s) URL without a trailing slash, or a one-line error. */
export function parseServerUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliError(`--url ${JSON.stringify(text)} is not an http(s) URL; pass the server's address, e.g. --url ${DEFAULT_URL}`);
  }
  return url.href.replace(/\/+$/, '');
}

const MAX_MESSAGE = 300;
const clip = (text: string) => {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
};

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string }; errors?: { code?: string }[] };
  return e?.code ?? e?.cause?.code ?? e?.errors?.find((x) => x?.code)?.code;
}

/** A failed connection, in words, with what to do. */
function connectionProblem(err: unknown, base: string, timeoutMs: number, timedOut: boolean): CliError {
  const code = errorCode(err) ?? '';
  if (timedOut || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new CliError(`the tunewatch server at ${base} did not answer within ${formatDuration(timeoutMs)}; check that it is up and not overloaded, or pass a longer --timeout`);
  }
  if (code === 'ECONNREFUSED') {
    return new CliError(`no tunewatch server at ${base} (connection refused); start one with "tunewatch serve --config tunewatch.yaml" or pass --url`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new CliError(`cannot find the host of ${base} (${code}); check --url`);
  }
  const detail = code || clip((err as Error)?.message ?? String(err));
  return new CliError(`cannot reach the tunewatch server at ${base} (${detail}); check --url and that the server is running`);
}

export interface AdminGetOptions {
  /** TUNEWATCH_ADMIN_TOKEN, sent as a bearer token. */
  token?: string;
  timeoutMs?: number;
  /** A field the answer must have, as an array (the server is then a tunewatch server of this version). */
  field?: string;
  /** POST with this JSON body instead of a GET. */
  post?: object;
  /** The actor recorded with a decision (x-tunewatch-actor). */
  actor?: string;
}

/**
 * GET on a tunewatch server's admin API. Whatever goes wrong (no server, a timeout, an answer that is
 * not a tunewatch answer, an error status, a missing token) is a one-line CliError saying what to do.
 */
export async function adminGet<T>(base: string, path: string, opts: AdminGetOptions): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let type: string;
  let text: string;
  try {
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    if (opts.actor) headers['x-tunewatch-actor'] = opts.actor;
    if (opts.post) headers['content-type'] = 'application/json';
    const res = await request(`${base}${path}`, { method: opts.post ? 'POST' : 'GET', headers, body: opts.post ? JSON.stringify(opts.post) : undefined, signal });
    status = res.statusCode;
    type = String(res.headers['content-type'] ?? 'no content type').split(';')[0];
    text = await res.body.text();
  } catch (err) {
    throw connectionProblem(err, base, timeoutMs, signal.aborted);
  }
  let body: (Record<string, unknown> & { error?: { message?: unknown } }) | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    body = parsed !== null && typeof parsed === 'object' ? (parsed as typeof body) : undefined;
  } catch {
    body = undefined;
  }
  const message = typeof body?.error?.message === 'string' ? clip(body.error.message) : undefined;
  if (status === 401) {
    const todo = opts.token
      ? 'check that TUNEWATCH_ADMIN_TOKEN is the server\'s admin token'
      : 'set TUNEWATCH_ADMIN_TOKEN to the server\'s admin token (and set it on the server, or run this on the server\'s host)';
    throw new CliError(`the tunewatch server at ${base} refused the admin request (401${message ? `: ${message}` : ''}); ${todo}`);
  }
  if (status !== 200 && status !== 201) {
    if (message) throw new CliError(`the tunewatch server at ${base} answered ${status}: ${message}`);
    throw new CliError(`${base}${path} answered ${status} (${type}), not a tunewatch answer; is --url a tunewatch server?`);
  }
  if (!body) throw new CliError(`${base}${path} answered 200 with ${type}, not JSON; is --url a tunewatch server?`);
  if (opts.field !== undefined && !Array.isArray(body[opts.field])) {
    throw new CliError(`${base}${path} answered JSON without '${opts.field}'; is --url a tunewatch server of this version?`);
  }
  return body as T;
}

/** What a control command (canary, retrain) takes: the server, a timeout, and whether to print JSON. */
export interface ControlOptions {
  url: string;
  timeout: number;
  json?: boolean;
}

/** Prints the API's answer as JSON with --json, else as the command's text. */
export function printAnswer(opts: ControlOptions, body: unknown, text: () => string): void {
  console.log(opts.json ? JSON.stringify(body, null, 2) : text());
}

/** A control call, as the CLI's user (x-tunewatch-actor cli:<user>), with the admin token when set. */
export function controlCall<T>(opts: ControlOptions, path: string, post?: object): Promise<T> {
  return adminGet<T>(opts.url, path, { token: process.env.TUNEWATCH_ADMIN_TOKEN || undefined, timeoutMs: opts.timeout, post, actor: `cli:${userInfo().username}` });
}

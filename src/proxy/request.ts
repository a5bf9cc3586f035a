import type { Endpoint } from '../capture/sample.js';
import { badRequest } from './errors.js';

/** The optional `tunewatch` object a client may add to a request body; removed before forwarding. */
export interface TunewatchField {
  spec: string;
  context: string;
  meta: Record<string, string>;
}

const META_HEADER = 'x-tunewatch-meta-';

/** The body a route needs, or a 400 that names what is missing. */
export function checkBody(endpoint: Endpoint, body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw badRequest("'model' is required and must be a non-empty string", 'model');
  if (endpoint === 'chat' && (!Array.isArray(b.messages) || b.messages.length === 0)) {
    throw badRequest("'messages' is required and must be a non-empty array", 'messages');
  }
  if (endpoint === 'completions' && !(typeof b.prompt === 'string' || Array.isArray(b.prompt))) {
    throw badRequest("'prompt' is required and must be a string or an array", 'prompt');
  }
  if (endpoint === 'embeddings' && !(typeof b.input === 'string' || Array.isArray(b.input))) {
    throw badRequest("'input' is required and must be a string or an array", 'input');
  }
  return b;
}

/** Validates and extracts `tunewatch: {spec, context, meta}`; a malformed one is a 400, not silently ignored. */
export function tunewatchFieldFrom(body: Record<string, unknown>): TunewatchField {
  const field = body.tunewatch;
  if (field === undefined) return { spec: '', context: '', meta: {} };
  if (field === null || typeof field !== 'object' || Array.isArray(field)) throw badRequest("'tunewatch' must be an object", 'tunewatch');
  const { spec, context, meta, ...rest } = field as Record<string, unknown>;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length) throw badRequest(`'tunewatch' has unknown key(s) ${unknownKeys.join(', ')}; allowed: spec, context, meta`, 'tunewatch');
  if (spec !== undefined && typeof spec !== 'string') throw badRequest("'tunewatch.spec' must be a string", 'tunewatch.spec');
  let contextText = '';
  if (typeof context === 'string') contextText = context;
  else if (Array.isArray(context) && context.every((c) => typeof c === 'string')) contextText = context.join('\n\n');
  else if (context !== undefined) throw badRequest("'tunewatch.context' must be a string or an array of strings", 'tunewatch.context');
  const metaMap: Record<string, string> = {};
  if (meta !== undefined) {
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw badRequest("'tunewatch.meta' must be an object", 'tunewatch.meta');
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw badRequest(`'tunewatch.meta.${k}' must be a string, number or boolean`, `tunewatch.meta.${k}`);
      }
      metaMap[k] = String(v);
    }
  }
  return { spec: spec ?? '', context: contextText, meta: metaMap };
}

/** `x-tunewatch-meta-team: payments` → {team: "payments"}. */
export function metaFromHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(META_HEADER) && value !== undefined) meta[name.slice(META_HEADER.length)] = String(value);
  }
  return meta;
}

/** The stickiness key: the OpenAI `user` field, else the x-tunewatch-user header, else none (per request). */
export function userKeyFrom(body: Record<string, unknown> | null, header: unknown): string | null {
  if (body && typeof body.user === 'string' && body.user) return body.user;
  return typeof header === 'string' && header ? header : null;
}

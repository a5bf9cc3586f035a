// Property-based HTTP fuzzing of every route of a real running service: the embedded store, the
// capture worker, a simulated upstream and a hostile one (odd bodies, wrong usage types, dropped
// sockets), all on loopback. For every request: no 5xx except an OpenAI-shaped 502/504 from a
// genuine upstream failure, no internal details in any body, the server still serving. Afterwards:
// every request to a proxy route that got an HTTP answer is a stored sample, nothing was lost or
// quarantined, the capture worker never restarted and the test process saw no uncaught exception.
//
// Bounded: a sweep of every hostile mode (fast-check examples), then FUZZ_RUNS batches (default 90)
// of 1..8 concurrent requests, no new batch after FUZZ_TIME_MS (default 35 s); about 380 requests.
// Fixed seed unless FUZZ_SEED is set. Violations are collected rather than thrown (no shrinking
// against a live server), printed grouped by class (FUZZ_VERBOSE=1: as they happen; FUZZ_DUMP=<route
// part>: every answer of matching routes), then asserted.
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startService, type Service } from '../src/cli/service.js';
import { validate } from '../src/config/load.js';
import { hashApiKey } from '../src/proxy/auth.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { sleep, tempDir } from './helpers.js';

vi.setConfig({ hookTimeout: 90_000 });

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10) || 424242;
const RUNS = Number.parseInt(process.env.FUZZ_RUNS ?? '', 10) || 90;
const TIME_MS = Number.parseInt(process.env.FUZZ_TIME_MS ?? '', 10) || 35_000;
const VERBOSE = process.env.FUZZ_VERBOSE === '1';

const CLIENT_KEY = 'tw-fuzz-client-key';
const MODEL = 'support-bot';
const HOSTILE_MODEL = 'hostile-bot';
const BODY_LIMIT = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// The hostile upstream: answers 200 (never a 5xx of its own) with odd bodies, or breaks.
// The mode comes from the forwarded body's `x_hostile` field, else from a hash of the body.
// ---------------------------------------------------------------------------------------------

const JSON_MODES = [
  'usage-lots', 'usage-float', 'usage-negative', 'usage-huge', 'usage-mixed', 'usage-object', 'usage-null',
  'body-null', 'body-array', 'body-string', 'body-number', 'body-empty', 'non-json', 'non-json-html', 'truncated',
  'huge', 'deep', 'choices-string', 'choices-null-item', 'message-null', 'content-object', 'finish-number',
  'model-object', 'proto', 'lone-surrogate', 'invalid-utf8', 'no-content-type', 'drop-mid-body', 'drop-before-headers', 'hang',
] as const;
const SSE_MODES = [
  'sse-null', 'sse-usage-lots', 'sse-usage-float', 'sse-usage-negative', 'sse-usage-huge', 'sse-non-json', 'sse-truncated',
  'sse-array', 'sse-string', 'sse-number', 'sse-choices-null', 'sse-choices-null-item', 'sse-delta-number', 'sse-huge',
  'sse-drop', 'sse-no-newline', 'sse-crlf', 'sse-deep', 'sse-empty', 'sse-hang',
] as const;
const HOSTILE_MODES = [...JSON_MODES, ...SSE_MODES];
type HostileMode = (typeof HOSTILE_MODES)[number];
/** Modes that cost an upstream timeout each: drawn rarely. */
const SLOW_MODES = new Set<HostileMode>(['hang', 'sse-hang']);

function endpointOfPath(url: string): 'chat' | 'completions' | 'embeddings' {
  return url.includes('/chat/') ? 'chat' : url.includes('/embeddings') ? 'embeddings' : 'completions';
}

function validAnswer(endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (endpoint === 'embeddings') {
    return { object: 'list', model: 'h', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], usage: { prompt_tokens: 3, total_tokens: 3 }, ...extra };
  }
  const choice = endpoint === 'chat' ? { index: 0, message: { role: 'assistant', content: 'Action items:\n- reply' }, finish_reason: 'stop' } : { index: 0, text: 'hello there', finish_reason: 'stop' };
  return { id: 'h-1', object: endpoint === 'chat' ? 'chat.completion' : 'text_completion', created: 1, model: 'h', choices: [choice], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }, ...extra };
}

function sseChunk(endpoint: string, piece: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const choice = endpoint === 'chat' ? { index: 0, delta: { content: piece }, finish_reason: null } : { index: 0, text: piece, finish_reason: null };
  return { id: 'h-1', object: 'chat.completion.chunk', created: 1, model: 'h', choices: [choice], ...extra };
}

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** How often the hostile upstream answered in each mode. */
const served = new Map<HostileMode, number>();

function hostileHandler(req: IncomingMessage, res: ServerResponse, body: string): void {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON: the mode comes from the hash
  }
  const asked = typeof parsed?.x_hostile === 'string' ? parsed.x_hostile : '';
  let hash = 0;
  for (let i = 0; i < body.length; i++) hash = (hash * 31 + body.charCodeAt(i)) >>> 0;
  const mode = ((HOSTILE_MODES as readonly string[]).includes(asked) ? asked : HOSTILE_MODES[hash % HOSTILE_MODES.length]) as HostileMode;
  served.set(mode, (served.get(mode) ?? 0) + 1);
  const endpoint = endpointOfPath(req.url ?? '');
  const json = (payload: string | Buffer, contentType = 'application/json') => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(payload);
  };
  const usage = (u: unknown) => json(JSON.stringify(validAnswer(endpoint, { usage: u })));
  const sse = (events: string[], end = 'data: [DONE]\n\n') => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) res.write(e);
    res.end(end);
  };
  const ev = (v: unknown) => `data: ${typeof v === 'string' ? v : JSON.stringify(v)}\n\n`;
  const ok = (piece = 'Action items') => ev(sseChunk(endpoint, piece));
  switch (mode) {
    case 'usage-lots': return usage({ prompt_tokens: 'lots', completion_tokens: 'lots', total_tokens: 'lots' });
    case 'usage-float': return usage({ prompt_tokens: 1.5, completion_tokens: 2.25, total_tokens: 3.75 });
    case 'usage-negative': return usage({ prompt_tokens: -3, completion_tokens: -3, total_tokens: -6 });
    case 'usage-huge': return usage({ prompt_tokens: 1e30, completion_tokens: 1e30, total_tokens: 2e30 });
    case 'usage-mixed': return usage({ prompt_tokens: 5, completion_tokens: 'lots', total_tokens: null });
    case 'usage-object': return usage({ prompt_tokens: 7, completion_tokens: { n: 1 } });
    case 'usage-null': return usage(null);
    case 'body-null': return json('null');
    case 'body-array': return json('[1,2,3]');
    case 'body-string': return json('"just a string"');
    case 'body-number': return json('42');
    case 'body-empty': return json('');
    case 'non-json': return json('this is not json at all');
    case 'non-json-html': return json('<html><body>Bad gateway? no: just html</body></html>', 'text/html');
    case 'truncated': {
      const full = JSON.stringify(validAnswer(endpoint));
      return json(full.slice(0, Math.floor(full.length / 2)));
    }
    case 'huge': {
      const content = 'lorem ipsum dolor '.repeat(58_000); // ~1 MB
      return json(JSON.stringify(endpoint === 'chat' ? validAnswer(endpoint, { choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'length' }] }) : validAnswer(endpoint, { choices: [{ index: 0, text: content, finish_reason: 'length' }] })));
    }
    case 'deep': return json(`{"id":"h","model":"h","choices":[{"index":0,"message":{"role":"assistant","content":"ok","extra":${deepArray(5000)}}}],"nested":${deepObject(5000)},"usage":{"prompt_tokens":1,"completion_tokens":1}}`);
    case 'choices-string': return json(JSON.stringify(validAnswer(endpoint, { choices: 'abc' })));
    case 'choices-null-item': return json(JSON.stringify(validAnswer(endpoint, { choices: [null] })));
    case 'message-null': return json(JSON.stringify(validAnswer(endpoint, { choices: [{ index: 0, message: null, text: null, finish_reason: null }] })));
    case 'content-object': return json(JSON.stringify(validAnswer(endpoint, { choices: [{ index: 0, message: { role: 'assistant', content: { nested: [1, 2] } }, text: ['x'], finish_reason: 'stop' }] })));
    case 'finish-number': return json(JSON.stringify(validAnswer(endpoint, { choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, text: 'x', finish_reason: 5 }] })));
    case 'model-object': return json(JSON.stringify(validAnswer(endpoint, { model: { name: 'x' } })));
    case 'proto': return json(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"model":"h","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"text":"x","finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`);
    case 'lone-surrogate': return json(JSON.stringify(validAnswer(endpoint)).replace('Action items', '\\ud800 broken \\udfff').replace('hello there', '\\ud800'));
    case 'invalid-utf8': return json(Buffer.concat([Buffer.from('{"model":"h","choices":[{"index":0,"message":{"role":"assistant","content":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from('"},"text":"x","finish_reason":"stop"}]}')]));
    case 'no-content-type': {
      res.writeHead(200);
      res.end(JSON.stringify(validAnswer(endpoint)));
      return;
    }
    case 'drop-mid-body': {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write('{"id":"h","choices":[{"message":{"content":"half');
      setTimeout(() => res.socket?.destroy(), 5);
      return;
    }
    case 'drop-before-headers': return void req.socket.destroy();
    case 'hang': return; // never answers: the proxy's upstream timeout
    case 'sse-null': return sse([ok('Action'), 'data: null\n\n', ok(' items')]);
    case 'sse-usage-lots': return sse([ok(), ev({ ...sseChunk(endpoint, ''), choices: [], usage: { prompt_tokens: 'lots', completion_tokens: 'lots' } })]);
    case 'sse-usage-float': return sse([ok(), ev({ choices: [], usage: { prompt_tokens: 1.5, completion_tokens: 2.5 } })]);
    case 'sse-usage-negative': return sse([ok(), ev({ choices: [], usage: { prompt_tokens: -3, completion_tokens: -3 } })]);
    case 'sse-usage-huge': return sse([ok(), ev({ choices: [], usage: { prompt_tokens: 1e30, completion_tokens: 1e30 } })]);
    case 'sse-non-json': return sse([ok(), 'data: this is not json\n\n', ': a comment\n\n', 'event: weird\nid: 1\nretry: x\n\n']);
    case 'sse-truncated': return sse([ok(), 'data: {"choices":[{"delta":{"content":"cut\n\n'], '');
    case 'sse-array': return sse([ok(), 'data: [1,2,3]\n\n']);
    case 'sse-string': return sse([ok(), 'data: "a string"\n\n']);
    case 'sse-number': return sse([ok(), 'data: 42\n\n', 'data: true\n\n']);
    case 'sse-choices-null': return sse([ok(), ev({ choices: null, usage: null })]);
    case 'sse-choices-null-item': return sse([ok(), ev({ choices: [null] }), ev({ choices: 'abc' })]);
    case 'sse-delta-number': return sse([ev({ choices: [{ index: 0, delta: { content: 5 }, text: { a: 1 }, finish_reason: 7 }] }), ev({ choices: [{ delta: null }] })]);
    case 'sse-huge': return sse(Array.from({ length: 1000 }, () => ok('lorem ipsum dolor '.repeat(55))));
    case 'sse-drop': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ok('Action'));
      res.write('data: {"choices":[{"delta":{"content":" it');
      setTimeout(() => res.socket?.destroy(), 5);
      return;
    }
    case 'sse-no-newline': return sse([ok()], 'data: {"choices":[{"index":0,"delta":{"content":"tail"},"finish_reason":"stop"}]}');
    case 'sse-crlf': return sse([ok().replace(/\n/g, '\r\n'), 'data: null\r\n\r\n'], 'data: [DONE]\r\n\r\n');
    case 'sse-deep': return sse([ok(), `data: {"choices":[{"delta":{"content":"x"}}],"deep":${deepArray(5000)}}\n\n`, `data: ${deepObject(5000)}\n\n`]);
    case 'sse-empty': return sse([], '');
    case 'sse-hang': {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ok('Action'));
      return; // then silence: the proxy's body timeout
    }
  }
}

async function startHostile(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => hostileHandler(req, res, Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// What a generated request is: drafts are pure data (reproducible from the seed); ids that must
// be unique or reused are filled in when sent.
// ---------------------------------------------------------------------------------------------

type RouteKind = 'proxy' | 'feedback' | 'admin' | 'meta' | 'unknown';
type IdKind = 'fresh' | 'reuse' | 'malformed' | 'duplicated' | 'overlong' | 'none';

interface HeaderDraft {
  id: IdKind;
  malformedId: string;
  auth: string | null;
  extra: [string, string][];
  /** Extra x-junk-N headers ("very many headers"). */
  many: number;
  /** Bytes of one oversized header value (a 431 when past Node's 16 KiB limit). */
  oversized: number;
}

interface Draft {
  kind: RouteKind;
  method: string;
  path: string;
  contentType: string | null;
  body: string | Buffer | undefined;
  headers: HeaderDraft;
  /** For proxy routes: the model the body names (when it is a JSON object with a string model). */
  model?: string;
  /** A short note of what was mutated, for the failure summary. */
  note: string;
}

const PROXY_PATHS = { chat: '/v1/chat/completions', completions: '/v1/completions', embeddings: '/v1/embeddings' } as const;
type Endpoint = keyof typeof PROXY_PATHS;

// --- values -------------------------------------------------------------------------------------

const SPECIAL_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\ud83d\ude00', '\u202e\u202d', '\ufeff', '\u2028\u2029',
  '𝕏𝕪', 'ünïcödé', '日本語のテキスト', 'jane@corp.example', 'call +1 415 555 0100', '4111 1111 1111 1111', 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', "'; DROP TABLE samples; --", '{"a":1}', '[DONE]', 'data: null',
  '\r\n\r\n', '%00', '\\u0000', 'null', 'true', '1e30', 'action-items',
];
const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);
/** From a few KB to past the body limit, in one- to four-byte characters. */
const hugeString = fc
  .tuple(fc.integer({ min: 4_000, max: 300_000 }), fc.constantFrom('x', 'é', '😀', '\u0000', 'a b ', '\ud800'))
  .map(([n, unit]) => unit.repeat(Math.max(1, Math.floor(n / Math.max(1, Buffer.byteLength(unit))))));
const numberValue = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, -3, 1e30, 1e308, -1e308, 2 ** 53 + 2, Number.MIN_VALUE),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
/** A wrong-typed or odd value for any field. Strings with marker RAW:n are replaced by raw JSON. */
const weirdValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    numberValue,
    text,
    { weight: 1, arbitrary: hugeString },
    fc.constant([]),
    fc.constant({}),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom('__proto__', 'constructor', 'role', 'content', 'type')), tie('v'), { maxKeys: 3 }),
  ),
})).v;

/** Raw JSON spliced in where a marker string was: deep nesting (built as strings), poisoned keys, odd numbers. */
const rawJson = fc.oneof(
  fc.integer({ min: 1, max: 100 }).map(deepArray),
  fc.integer({ min: 500, max: 6_000 }).map(deepArray),
  fc.integer({ min: 500, max: 6_000 }).map(deepObject),
  fc.integer({ min: 200, max: 3_000 }).map((d) => '[{"role":"user","content":'.repeat(d) + '"x"' + '}]'.repeat(d)),
  fc.constantFrom(
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '[{"__proto__":{"role":"user"},"role":"user","content":"x"}]',
    '{"a":1,"a":2}',
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '-0',
    '"\\ud800\\udbff"',
    '"\\u0000\\u0000"',
  ),
);

// --- proxy bodies ---------------------------------------------------------------------------------

type PathKey = string | number;
const FIELD_PATHS: Record<Endpoint, PathKey[][]> = {
  chat: [['model'], ['messages'], ['messages', 0], ['messages', 0, 'content'], ['messages', 0, 'role'], ['messages', 1], ['messages', 0, 'tool_calls'], ['messages', 0, 'content', 0]],
  completions: [['model'], ['prompt'], ['prompt', 0], ['suffix'], ['echo'], ['logprobs']],
  embeddings: [['model'], ['input'], ['input', 0], ['dimensions'], ['encoding_format']],
};
const COMMON_PATHS: PathKey[][] = [
  ['stream'], ['user'], ['tunewatch'], ['tunewatch', 'spec'], ['tunewatch', 'context'], ['tunewatch', 'meta'], ['tunewatch', 'meta', 'team'],
  ['tunewatch', 'meta', '__proto__'], ['tunewatch', 'labels'], ['response_format'], ['response_format', 'type'], ['response_format', 'json_schema'],
  ['max_tokens'], ['max_completion_tokens'], ['stream_options'], ['stream_options', 'include_usage'], ['n'], ['temperature'], ['tools'], ['x_unknown_field'],
];

function setPath(root: Record<string, unknown>, path: PathKey[], value: unknown): void {
  let node: any = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key];
  }
  // Own property even for "__proto__" (defineProperty never touches the prototype).
  Object.defineProperty(node, path[path.length - 1], { value, enumerable: true, writable: true, configurable: true });
}

function baseBody(endpoint: Endpoint, model: string, stream: boolean | undefined, mode: HostileMode, content: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model };
  if (endpoint === 'chat') body.messages = [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content }];
  if (endpoint === 'completions') body.prompt = content;
  if (endpoint === 'embeddings') body.input = content;
  if (stream !== undefined) body.stream = stream;
  if (model === HOSTILE_MODEL) body.x_hostile = mode;
  return body;
}

const CONTENT_TYPES = [
  'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/JSON', 'application/json; charset=latin1',
  'application/json; charset=utf-16', 'multipart/form-data; boundary=x', '*/*', 'application/vnd.api+json', 'application/jsonx', ';;;', 'application/json, text/plain',
];
const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | null>('application/json') },
  { weight: 1, arbitrary: fc.constant<string | null>(null) },
  { weight: 2, arbitrary: fc.constantFrom<string | null>(...CONTENT_TYPES) },
);

const nonJsonBody = fc.oneof(
  fc.constantFrom<string | Buffer>('', ' ', 'null', 'true', '42', '"a string"', '[]', '[1,2]', '{', '{"model":', '{"model":"support-bot","messages":[',
    '\ufeff{"model":"support-bot","messages":[{"role":"user","content":"x"}]}', 'model=support-bot&prompt=x', '{"model":"support-bot",}', "{'model':'support-bot'}",
    '{"model":"support-bot","messages":[{"role":"user","content":"\\x"}]}', '{"model":"support-bot","messages":[{"role":"user","content":"\u0000"}]}', '\u0000\u0000\u0000',
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x22]), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
);

const mutation = (endpoint: Endpoint) =>
  fc.record({
    path: fc.constantFrom(...FIELD_PATHS[endpoint], ...COMMON_PATHS),
    value: fc.oneof({ weight: 4, arbitrary: weirdValue }, { weight: 2, arbitrary: rawJson.map((raw) => ({ __raw: raw })) }),
  });

/** A proxy body: valid with some mutated fields, truncated, or not JSON at all. */
const proxyBody = (endpoint: Endpoint) =>
  fc
    .record({
      model: fc.oneof(
        { weight: 6, arbitrary: fc.constant(MODEL) },
        { weight: 4, arbitrary: fc.constant(HOSTILE_MODEL) },
        { weight: 1, arbitrary: fc.constantFrom('nope', '', 'Support-Bot', ' support-bot', '__proto__', 'constructor') },
      ),
      stream: fc.constantFrom(undefined, true, false, true),
      mode: fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom(...HOSTILE_MODES.filter((m) => !SLOW_MODES.has(m))) },
        { weight: 1, arbitrary: fc.constantFrom(...SLOW_MODES) },
      ),
      content: fc.oneof({ weight: 4, arbitrary: fc.constant('List the action items for ticket 42') }, { weight: 3, arbitrary: text }, { weight: 1, arbitrary: hugeString }),
      mutations: fc.array(mutation(endpoint), { maxLength: 3 }),
      tunewatch: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        {
          weight: 2,
          arbitrary: fc.record(
            { spec: fc.constantFrom(undefined, 'action-items', 'action-items', 'nope'), context: fc.option(text, { nil: undefined }), meta: fc.option(fc.dictionary(text, fc.oneof(text, numberValue, fc.boolean()), { maxKeys: 3 }), { nil: undefined }) },
            { requiredKeys: [] },
          ),
        },
      ),
      form: fc.oneof({ weight: 12, arbitrary: fc.constant('json' as const) }, { weight: 1, arbitrary: fc.constant('truncated' as const) }, { weight: 2, arbitrary: fc.constant('non-json' as const) }),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      nonJson: nonJsonBody,
    })
    .map(({ model, stream, mode, content, mutations, tunewatch, form, cut, nonJson }) => {
      if (form === 'non-json') return { body: nonJson, model: undefined as string | undefined, note: `non-JSON body` };
      const body = baseBody(endpoint, model, stream, mode, content);
      if (tunewatch) body.tunewatch = JSON.parse(JSON.stringify(tunewatch));
      const raws: string[] = [];
      for (const m of mutations) {
        const value = m.value && typeof m.value === 'object' && '__raw' in (m.value as object) ? `RAW:${raws.push((m.value as { __raw: string }).__raw) - 1}:RAW` : m.value;
        setPath(body, m.path, value);
      }
      let json = JSON.stringify(body);
      raws.forEach((raw, i) => (json = json.split(`"RAW:${i}:RAW"`).join(raw)));
      const note = [model === HOSTILE_MODEL ? `hostile:${mode}` : '', stream ? 'stream' : '', ...mutations.map((m) => `${m.path.join('.')}=${describeValue(m.value)}`)].filter(Boolean).join(' ');
      if (form === 'truncated') return { body: json.slice(0, Math.floor(json.length * cut)), model: undefined, note: `truncated JSON ${note}` };
      const named = typeof body.model === 'string' ? body.model : undefined;
      return { body: json, model: named, note };
    });

function describeValue(v: unknown): string {
  if (v && typeof v === 'object' && '__raw' in (v as object)) return `raw(${short((v as { __raw: string }).__raw, 40)}, ${(v as { __raw: string }).__raw.length} chars)`;
  if (typeof v === 'string') return v.length > 60 ? `string(${v.length} chars of ${JSON.stringify(v.slice(0, 2))})` : JSON.stringify(v);
  try {
    return short(JSON.stringify(v) ?? String(v), 60);
  } catch {
    return String(v);
  }
}

// --- headers ---------------------------------------------------------------------------------------

/** Characters undici accepts in a header value (tab, printable ASCII, latin-1). */
const headerChar = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) }, { weight: 1, arbitrary: fc.constant(9) }).map((c) => String.fromCharCode(c));
const headerValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 60 }),
  fc.constantFrom('', ' ', 'null', '__proto__', 'Bearer', 'Bearer ', 'x'.repeat(5_000), 'é'.repeat(100)),
);
const headerToken = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&\'*+^`|~'), minLength: 1, maxLength: 20 });
const traceparent = fc.oneof(
  fc.constantFrom(
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    '-'.repeat(200),
  ),
  headerValue,
);
const headers = (kind: RouteKind): fc.Arbitrary<HeaderDraft> =>
  fc.record({
    id: fc.oneof(
      { weight: 12, arbitrary: fc.constant<IdKind>('fresh') },
      { weight: 1, arbitrary: fc.constantFrom<IdKind>('reuse', 'malformed', 'duplicated', 'overlong', 'none') },
    ),
    malformedId: fc.oneof(fc.constantFrom('bad id', '', 'x'.repeat(129), 'ünï', 'a\tb', '../../etc/passwd', "id';--", '%00', '__proto__'), headerValue),
    auth: fc.oneof(
      { weight: 10, arbitrary: fc.constant<string | null>(`Bearer ${CLIENT_KEY}`) },
      { weight: 1, arbitrary: fc.constantFrom<string | null>(null, 'Bearer', 'Bearer ', `bearer   ${CLIENT_KEY}  `, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${CLIENT_KEY}x`, `Bearer ${'k'.repeat(8000)}`, 'Bearer \u00e9\u00ff') },
      { weight: 1, arbitrary: headerValue.map((v): string | null => v) },
    ),
    extra: fc.array(
      fc.oneof(
        fc.tuple(fc.constant('x-tunewatch-spec'), fc.oneof(fc.constantFrom('action-items', 'nope', '', '__proto__'), headerValue)),
        fc.tuple(fc.constant('x-tunewatch-user'), headerValue),
        fc.tuple(headerToken.map((t) => `x-tunewatch-meta-${t}`), headerValue),
        fc.tuple(fc.constantFrom('x-tunewatch-meta-', 'x-tunewatch-meta-__proto__', 'x-tunewatch-meta-constructor'), headerValue),
        fc.tuple(fc.constant('traceparent'), traceparent),
        fc.tuple(fc.constant('tracestate'), headerValue),
        fc.tuple(fc.constant('x-api-key'), headerValue),
        fc.tuple(fc.constantFrom('accept', 'accept-encoding', 'content-encoding', 'x-forwarded-for', 'cookie', 'user-agent', 'origin'), headerValue),
        fc.tuple(headerToken, headerValue),
      ),
      { maxLength: kind === 'proxy' ? 6 : 3 },
    ),
    many: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 50, max: 1_500 }) }),
    oversized: fc.oneof({ weight: 14, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }) }),
  });

// --- admin query strings ------------------------------------------------------------------------------

const NUMBER_NOTATIONS = [
  '10', '0', '-1', '-0', '+5', '1.5', '.5', '5.', '1e3', '1E3', '1e-3', '1e400', '-1e400', '0x10', '0b101', '0o7', '1_000', ' 5 ', '5 ', 'Infinity',
  '-Infinity', 'NaN', '', '1000', '1001', '4294967295', '4294967296', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1e19', '1e15', '1e16',
];
const DURATIONS = ['1h', '0s', '0ms', '5m', '30d', '1w', '1.5h', '1e3s', '-1h', 'h', '1 h', 'ms', '99999999999999999999d', '1000000000w', '9007199254740993ms', '1H', '  1h  ', '1h1m', '\u0661h'];
const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 16, maxLength: 400 });
const paramValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBER_NOTATIONS) },
  { weight: 3, arbitrary: fc.constantFrom(...DURATIONS) },
  { weight: 1, arbitrary: fc.constantFrom('instruction_success', 'safe_response', 'hallucination_free', 'availability', 'good', 'bad', 'unknown', 'true', 'false', MODEL, 'v1', 'fz-1') },
  { weight: 1, arbitrary: digits },
  { weight: 1, arbitrary: digits.map((d) => `-${d}`) },
  { weight: 1, arbitrary: digits.map((d) => `${d}${['ms', 's', 'd', 'w'][d.length % 4]}`) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: text },
);
/** The parameters each admin route reads; any route also gets the others and junk keys now and then. */
const ROUTE_PARAMS: Record<string, string[]> = {
  '/api/summary': ['since'],
  '/api/sli': ['since'],
  '/api/slos': ['refresh'],
  '/api/slos/report': ['since'],
  '/api/samples': ['limit', 'offset', 'from', 'to', 'min_status', 'min_latency_ms', 'model', 'version', 'request_id', 'sli', 'verdict'],
};
const ALL_PARAMS = [...new Set(Object.values(ROUTE_PARAMS).flat())];
const paramKey = (path: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...(ROUTE_PARAMS[path] ?? ALL_PARAMS)) },
    { weight: 2, arbitrary: fc.constantFrom(...ALL_PARAMS) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'limit[]', 'limit[a]', 'since[0]', 'a.b', '') },
    { weight: 1, arbitrary: text },
  );
/** Mostly encoded, sometimes a key repeated, sometimes raw percent junk. */
const queryString = (path = '') =>
  fc
    .tuple(
      fc.array(fc.tuple(paramKey(path), paramValue, fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })), { maxLength: 3 }),
      fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('&', '&&', '%', '%zz', '%00', '%E0%A4%A', '=', '=&=', 'since', '?') }),
    )
    .map(([pairs, junk]) => {
      const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
      const parts = pairs.map(([k, v, repeat]) => (repeat ? `${enc(k)}=${enc(v)}&${enc(k)}=${enc(v)}2` : `${enc(k)}=${enc(v)}`));
      if (junk) parts.push(junk);
      return parts.length ? `?${parts.join('&')}` : '';
    });

// --- feedback bodies -------------------------------------------------------------------------------------

const KNOWN_ID = '__FUZZ_KNOWN_ID__';
const label = fc
  .record({
    request_id: fc.oneof({ weight: 10, arbitrary: fc.constant<unknown>(KNOWN_ID) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('fz-unknown-id', '', 'x'.repeat(200)) }, { weight: 1, arbitrary: weirdValue }),
    sli: fc.oneof({ weight: 10, arbitrary: fc.constantFrom<unknown>('instruction_success', 'safe_response', 'hallucination_free') }, { weight: 1, arbitrary: weirdValue }),
    verdict: fc.oneof({ weight: 10, arbitrary: fc.constantFrom<unknown>('good', 'bad', 'unknown') }, { weight: 1, arbitrary: weirdValue }),
    score: fc.oneof({ weight: 3, arbitrary: fc.constant<unknown>(undefined) }, { weight: 3, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }, { weight: 1, arbitrary: weirdValue }),
    comment: fc.oneof({ weight: 3, arbitrary: fc.constant<unknown>(undefined) }, { weight: 3, arbitrary: text }, { weight: 1, arbitrary: weirdValue }),
    rater: fc.oneof(fc.constant<unknown>(undefined), text),
    correction: fc.oneof({ weight: 4, arbitrary: fc.constant<unknown>(undefined) }, { weight: 2, arbitrary: text }, { weight: 1, arbitrary: hugeString }),
    extraKey: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor', 'extra', 'labels'), weirdValue) }),
  })
  .map(({ extraKey, ...l }) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) if (v !== undefined) out[k] = v;
    if (extraKey) setPath(out, [extraKey[0]], extraKey[1]);
    return out;
  });
const feedbackBody = fc.oneof(
  { weight: 8, arbitrary: label.map((l) => JSON.stringify(l)) },
  { weight: 2, arbitrary: fc.array(label, { maxLength: 5 }).map((ls) => JSON.stringify(ls)) },
  { weight: 1, arbitrary: fc.array(label, { maxLength: 3 }).map((ls) => JSON.stringify({ labels: ls })) },
  { weight: 1, arbitrary: fc.constant(JSON.stringify(Array.from({ length: 1001 }, () => ({ request_id: KNOWN_ID, sli: 'safe_response', verdict: 'good' })))) },
  { weight: 1, arbitrary: rawJson.map((raw) => `{"request_id":"${KNOWN_ID}","sli":"safe_response","verdict":"good","comment":${raw}}`) },
  { weight: 1, arbitrary: rawJson.map((raw) => `{"labels":${raw}}`) },
  { weight: 1, arbitrary: rawJson },
  { weight: 2, arbitrary: nonJsonBody },
);

// --- drafts per route kind -------------------------------------------------------------------------------------

const proxyDraft: fc.Arbitrary<Draft> = fc.constantFrom<Endpoint>('chat', 'completions', 'embeddings').chain((endpoint) =>
  fc.record({ b: proxyBody(endpoint), ct: contentType, h: headers('proxy'), query: fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryString() }) }).map(
    ({ b, ct, h, query }): Draft => ({ kind: 'proxy', method: 'POST', path: PROXY_PATHS[endpoint] + query, contentType: ct, body: b.body, headers: h, model: b.model, note: b.note }),
  ),
);

const ADMIN_PATHS = ['/api/summary', '/api/samples', '/api/sli', '/api/slos', '/api/slos/report'];
const adminDraft: fc.Arbitrary<Draft> = fc
  .constantFrom(...ADMIN_PATHS, '/api/samples', '/api/samples')
  .chain((path) => fc.record({ path: fc.constant(path), query: queryString(path), h: headers('admin'), method: fc.oneof({ weight: 10, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'POST', 'DELETE') }) }))
  .map(({ path, query, h, method }): Draft => ({ kind: 'admin', method, path: path + query, contentType: null, body: undefined, headers: h, note: '' }));

const flushDraft: fc.Arbitrary<Draft> = fc
  .record({ ct: contentType, body: fc.oneof(fc.constant<string | Buffer | undefined>(undefined), nonJsonBody, rawJson), h: headers('admin'), query: fc.oneof(fc.constant(''), queryString()) })
  .map(({ ct, body, h, query }): Draft => ({ kind: 'admin', method: 'POST', path: '/api/capture/flush' + query, contentType: body === undefined ? null : ct, body, headers: h, note: '' }));

const feedbackDraft: fc.Arbitrary<Draft> = fc
  .record({ body: feedbackBody, ct: contentType, h: headers('feedback') })
  .map(({ body, ct, h }): Draft => ({ kind: 'feedback', method: 'POST', path: '/v1/feedback', contentType: ct, body, headers: h, note: '' }));

const metaDraft: fc.Arbitrary<Draft> = fc
  .record({ path: fc.constantFrom('/v1/models', '/metrics', '/healthz', '/readyz'), query: fc.oneof(fc.constant(''), queryString()), method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'OPTIONS') }), h: headers('meta') })
  .map(({ path, query, method, h }): Draft => ({ kind: 'meta', method, path: path + query, contentType: null, body: undefined, headers: h, note: '' }));

/** Path characters undici sends as they are. */
const pathChar = fc.oneof(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789/._-~%?&=#+:@!$*,;'), fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)));
const unknownDraft: fc.Arbitrary<Draft> = fc
  .record({
    path: fc.oneof(
      fc.constantFrom('/', '/v1', '/v1/', '/v2/chat/completions', '/v1/chat/completions/', '/V1/MODELS', '/v1/chat', '/api', '/api/', '/api/samples/x', '/api/../v1/models', '/v1/./models',
        '//v1/models', '/%', '/%00', '/%2e%2e/%2e%2e/etc/passwd', '/v1/feedback/', '/metrics/', '/favicon.ico', '/.env', '/v1/models/support-bot', '/api/slos/report/x', '/*', `/${'a'.repeat(8_000)}`),
      fc.string({ unit: pathChar, maxLength: 80 }).map((p) => `/${p}`),
    ),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'MKCOL', 'X-CUSTOM'),
    ct: contentType,
    body: fc.option(fc.oneof(nonJsonBody, rawJson), { nil: undefined }),
    h: headers('unknown'),
  })
  .map(({ path, method, ct, body, h }): Draft => {
    const withBody = method !== 'GET' && method !== 'HEAD' ? body : undefined;
    return { kind: 'unknown', method, path, contentType: withBody === undefined ? null : ct, body: withBody, headers: h, note: '' };
  });

const draft = fc.oneof(
  { weight: 12, arbitrary: proxyDraft },
  { weight: 8, arbitrary: adminDraft },
  { weight: 1, arbitrary: flushDraft },
  { weight: 3, arbitrary: feedbackDraft },
  { weight: 2, arbitrary: metaDraft },
  { weight: 2, arbitrary: unknownDraft },
);
const batch = fc.array(draft, { minLength: 1, maxLength: 8 });

/**
 * Run first (fast-check `examples`): every hostile mode once, with an otherwise valid request, so
 * each odd answer is exercised whatever the seed draws.
 */
const SWEEP: [Draft[]][] = (() => {
  const drafts = HOSTILE_MODES.map((mode, i): Draft => {
    const endpoint = (['chat', 'completions', 'embeddings'] as const)[i % 3];
    const stream = mode.startsWith('sse-');
    const body = { ...baseBody(endpoint, HOSTILE_MODEL, stream, mode, 'List the action items'), ...(stream ? { stream_options: { include_usage: true } } : {}) };
    const headers: HeaderDraft = { id: 'fresh', malformedId: '', auth: `Bearer ${CLIENT_KEY}`, extra: [], many: 0, oversized: 0 };
    return { kind: 'proxy', method: 'POST', path: PROXY_PATHS[endpoint], contentType: 'application/json', body: JSON.stringify(body), headers, model: HOSTILE_MODEL, note: `sweep hostile:${mode}${stream ? ' stream' : ''}` };
  });
  const chunks: [Draft[]][] = [];
  for (let i = 0; i < drafts.length; i += 8) chunks.push([drafts.slice(i, i + 8)]);
  return chunks;
})();

// ---------------------------------------------------------------------------------------------
// Sending, and what is checked on every answer.
// ---------------------------------------------------------------------------------------------

interface Sent {
  draft: Draft;
  headers: Record<string, string | string[]>;
  body: string | Buffer | undefined;
}

interface Outcome {
  sent: Sent;
  status: number | null;
  responseId: string | null;
  body: string;
  bodyError: string | null;
  error: string | null;
  ms: number;
}

interface Violation {
  cls: string;
  route: string;
  status: number | string;
  detail: string;
  request: string;
}

const FORBIDDEN: [string, RegExp][] = [
  ['stack trace', / {4}at \S|\n\s+at .*:\d+:\d+/],
  ['TypeError', /TypeError/],
  ['RangeError', /RangeError/],
  ['ReferenceError', /ReferenceError/],
  ['SyntaxError', /SyntaxError/],
  ['call stack', /Maximum call stack/i],
  ['JS internals', /Cannot read propert|is not a function|is not iterable|Cannot convert undefined|undefined is not/],
  ['Refusing to serialize', /Refusing to serialize/],
  ['ClickHouse type name', /\b(U?Int(8|16|32|64|128|256)|Float(32|64)|Decimal\d*|DateTime64|LowCardinality|Nullable)\b/],
  ['ClickHouse exception', /DB::Exception|\bCode: \d+\.|CANNOT_PARSE|TYPE_MISMATCH|UNKNOWN_IDENTIFIER/],
  ['source paths', /node_modules|file:\/\/|\/src\/[a-z-]+\/[a-z-]+\.(ts|js)|node:internal/],
];

const short = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);
const printable = (s: string) => JSON.stringify(s).slice(1, -1);

function describeRequest(s: Sent): string {
  const hs = Object.entries(s.headers)
    .filter(([k]) => !/^x-junk-/.test(k))
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.map((x) => short(printable(x), 60)).join(' | ')}]` : short(printable(v), 60)}`);
  const junk = Object.keys(s.headers).filter((k) => /^x-junk-/.test(k)).length;
  if (junk) hs.push(`+${junk} x-junk-N headers`);
  const body = s.body === undefined ? '' : Buffer.isBuffer(s.body) ? ` body=<bytes ${s.body.toString('hex').slice(0, 40)}… ${s.body.length}>` : ` body=${short(printable(s.body), 300)}`;
  return `${s.draft.method} ${short(s.draft.path, 160)} {${hs.join('; ')}}${body}${s.draft.note ? ` [${s.draft.note}]` : ''}`;
}

const routeOf = (d: Draft) => `${d.method} ${d.path.split('?')[0].slice(0, 60)}`;

/** A proxy route in fastify's sense: one of the three paths (a query string allowed), POST. */
function isProxyRoute(d: Draft): boolean {
  if (d.method !== 'POST') return false;
  const path = d.path.split('?')[0];
  return Object.values(PROXY_PATHS).includes(path as (typeof PROXY_PATHS)[Endpoint]);
}

function errorType(body: string): unknown {
  try {
    return JSON.parse(body)?.error?.type;
  } catch {
    return undefined;
  }
}

function openAiShaped(body: string): boolean {
  try {
    const b = JSON.parse(body);
    return !!b && typeof b.error === 'object' && b.error !== null && typeof b.error.message === 'string' && typeof b.error.type === 'string';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

const dataPath = tempDir('tunewatch-fuzz-');
let sim: Simulator;
let hostile: Awaited<ReturnType<typeof startHostile>>;
let service: Service;
const agent = new Agent({ connections: 16, headersTimeout: 20_000, bodyTimeout: 20_000, keepAliveTimeout: 2_000 });

const outcomes: Outcome[] = [];
const violations: Violation[] = [];
const uncaught: string[] = [];
const answeredOkIds: string[] = [];
let idCounter = 0;
let lastFreshId = 'fz-none';
let batches = 0;
let fuzzDone = false;

const onUncaught = (err: unknown) => uncaught.push(`uncaughtException: ${(err as Error)?.stack ?? String(err)}`);
/** Warnings that mean a leak or a lost error in the proxy's thread (the capture worker's own are not seen here). */
const warnings: string[] = [];
const onWarning = (w: Error) => {
  if (w.name === 'MaxListenersExceededWarning' || w.name === 'PromiseRejectionHandledWarning') warnings.push(`${w.name}: ${w.message}`);
};
const onRejection = (err: unknown) => uncaught.push(`unhandledRejection: ${(err as Error)?.stack ?? String(err)}`);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  process.on('warning', onWarning);
  sim = await startSimulator({ profile: 'instant', seed: 7 });
  hostile = await startHostile();
  const config = validate({
    server: { host: '127.0.0.1', port: 0, bodyLimitBytes: BODY_LIMIT, upstreamTimeoutMs: 3_000, connectTimeoutMs: 3_000 },
    storage: { path: dataPath },
    capture: { flushIntervalMs: 50, retryBaseMs: 10, maxRetries: 2, replayIntervalMs: 200 },
    auth: { apiKeys: [{ id: 'fuzz-tenant', sha256: hashApiKey(CLIENT_KEY) }] },
    specs: { 'action-items': { requiredSections: ['Action items'] } },
    slos: [
      { name: 'fz-availability', model: MODEL, sli: 'availability', objective: 0.99 },
      { name: 'fz-latency', model: '*', sli: 'latency', thresholdMs: 500, objective: 0.9 },
      { name: 'fz-instructions', model: MODEL, sli: 'instruction_success', objective: 0.95 },
    ],
    models: [
      {
        name: MODEL,
        spec: 'action-items',
        deployments: [
          { version: 'v1', upstream: sim.url, weight: 80 },
          { version: 'v2', upstream: sim.url, weight: 20, canary: true },
        ],
      },
      { name: HOSTILE_MODEL, deployments: [{ version: 'h1', upstream: hostile.url, upstreamModel: 'hostile-upstream' }] },
    ],
  });
  // The real topology: the capture worker opens the embedded store itself (its child process).
  service = await startService(config, { logLevel: process.env.TUNEWATCH_LOG_LEVEL ?? 'error' });
});

afterAll(async () => {
  await agent.close().catch(() => undefined);
  // A graceful stop that hangs is a defect too: say so instead of timing the hook out.
  const stopped = await Promise.race([service?.stop().then(() => true, () => true), sleep(45_000).then(() => false)]);
  await Promise.all([sim?.close(), hostile?.close()]);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  process.off('warning', onWarning);
  if (!stopped) throw new Error('service.stop() did not finish within 45 s');
});

function prepare(d: Draft): Sent {
  const h: Record<string, string | string[]> = {};
  const fresh = () => {
    lastFreshId = `fz-${++idCounter}`;
    return lastFreshId;
  };
  switch (d.headers.id) {
    case 'fresh':
      h['x-request-id'] = fresh();
      break;
    case 'reuse':
      h['x-request-id'] = lastFreshId;
      break;
    case 'malformed':
      h['x-request-id'] = d.headers.malformedId;
      break;
    case 'duplicated':
      h['x-request-id'] = [fresh(), fresh()];
      break;
    case 'overlong':
      h['x-request-id'] = `fz-${idCounter}-${'z'.repeat(200)}`;
      break;
    case 'none':
      break;
  }
  if (d.headers.auth !== null) h.authorization = d.headers.auth;
  if (d.contentType !== null) h['content-type'] = d.contentType;
  for (const [name, value] of d.headers.extra) {
    const key = name.toLowerCase();
    if (key === 'x-request-id' || key === 'content-type' || key === 'content-length' || key === 'host' || key === 'transfer-encoding' || key === 'connection' || key === 'expect' || key === 'upgrade' || key === 'keep-alive') continue;
    const prior = h[key];
    h[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  for (let i = 0; i < d.headers.many; i++) h[`x-junk-${i}`] = `v${i}`;
  if (d.headers.oversized) h['x-oversized'] = 'o'.repeat(d.headers.oversized);
  let body = d.body;
  if (typeof body === 'string' && body.includes(KNOWN_ID)) {
    const known = answeredOkIds.length ? answeredOkIds[idCounter % answeredOkIds.length] : 'fz-not-yet';
    body = body.split(KNOWN_ID).join(known);
  }
  return { draft: d, headers: h, body };
}

async function send(s: Sent): Promise<Outcome> {
  const started = Date.now();
  const base: Omit<Outcome, 'status' | 'responseId' | 'body' | 'bodyError' | 'error'> = { sent: s, ms: 0 };
  try {
    const res = await request(`${service.url}${s.draft.path}`, {
      method: s.draft.method as 'GET',
      headers: s.headers,
      body: s.body,
      dispatcher: agent,
    });
    const rid = res.headers['x-request-id'];
    let body = '';
    let bodyError: string | null = null;
    try {
      body = Buffer.from(await res.body.arrayBuffer()).toString('utf8');
    } catch (err) {
      bodyError = (err as { code?: string }).code ?? (err as Error).message;
    }
    return { ...base, status: res.statusCode, responseId: Array.isArray(rid) ? rid[0] : (rid ?? null), body, bodyError, error: null, ms: Date.now() - started };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ...base, status: null, responseId: null, body: '', bodyError: null, error: `${e.code ?? ''} ${e.message ?? String(err)}`.trim(), ms: Date.now() - started };
  }
}

function headerBytes(headers: Record<string, string | string[]>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) n += k.length + Buffer.byteLength(x, 'latin1') + 4;
  return n;
}

function violate(o: Outcome, cls: string, detail: string): void {
  const v: Violation = { cls, route: routeOf(o.sent.draft), status: o.status ?? o.error ?? '?', detail, request: describeRequest(o.sent) };
  violations.push(v);
  if (VERBOSE) console.log(`[fuzz] ${cls} ${v.route} ${v.status}: ${short(detail, 200)}\n        ${short(v.request, 400)}`);
}

/** What every answer must satisfy. */
function check(o: Outcome): void {
  const d = o.sent.draft;
  const proxy = isProxyRoute(d);
  const towardHostile = proxy && d.model === HOSTILE_MODEL;
  if (o.status === null) {
    if (o.error?.includes('UND_ERR_INVALID_ARG')) return violate(o, 'test: request not sendable', o.error);
    // Past Node's 16 KiB header limit the server answers 431 and closes at once: the client may
    // see the connection reset before it reads the answer.
    if (headerBytes(o.sent.headers) > 16_000) return;
    return violate(o, 'no HTTP answer (connection dropped or timed out)', o.error ?? '');
  }
  const bodyHead = short(o.body, 200);
  const readyz = d.path.split('?')[0] === '/readyz';
  if (o.status >= 500 && !readyz) {
    // A genuine upstream failure: the hostile upstream broke (502/504), or any upstream did not answer
    // in time (a 504 upstream_timeout; the simulator can be starved on a busy box too).
    const upstreamFailure = proxy && ((towardHostile && (o.status === 502 || o.status === 504)) || (o.status === 504 && errorType(o.body) === 'upstream_timeout'));
    if (!upstreamFailure) violate(o, `${o.status} answer`, bodyHead);
    else if (!openAiShaped(o.body)) violate(o, `${o.status} without an OpenAI-shaped body`, bodyHead);
  }
  if (o.bodyError !== null && !(towardHostile && o.status === 200)) violate(o, 'answer body broken off', `${o.bodyError} after status ${o.status}`);
  for (const [name, re] of FORBIDDEN) {
    const m = re.exec(o.body);
    if (m) {
      violate(o, `internal detail in body: ${name}`, `…${o.body.slice(Math.max(0, m.index - 80), m.index + 120)}…`);
      break;
    }
  }
  if (proxy && o.status >= 400 && o.status < 500 && o.status !== 431 && !openAiShaped(o.body)) violate(o, `${o.status} on a proxy route without an OpenAI-shaped body`, bodyHead);
  if (readyz && (d.method === 'GET' || d.method === 'HEAD') && o.status !== 200 && o.status !== 431) violate(o, '/readyz not ready', bodyHead);
  if (proxy && o.status === 200 && o.responseId && d.model === MODEL) answeredOkIds.push(o.responseId);
}

async function healthz(): Promise<number | string> {
  try {
    const res = await request(`${service.url}/healthz`, { dispatcher: agent, headersTimeout: 5_000, bodyTimeout: 5_000 });
    await res.body.text();
    return res.statusCode;
  } catch (err) {
    return (err as Error).message;
  }
}

const capture = () => {
  const h = service.pipeline.health();
  return { restarts: h.workerRestarts ?? 0, dropped: h.dropped, quarantined: h.quarantined, shed: h.shed ?? 0, worker: h.worker ?? 'n/a' };
};

async function runBatch(drafts: Draft[]): Promise<void> {
  const before = capture();
  const sent = drafts.map(prepare);
  const results = await Promise.all(sent.map(send));
  for (const o of results) {
    outcomes.push(o);
    check(o);
  }
  batches++;
  const health = await healthz();
  if (health !== 200) {
    violations.push({ cls: 'server not serving (GET /healthz after a batch)', route: 'GET /healthz', status: health, detail: `after batch ${batches}`, request: sent.map(describeRequest).map((r) => short(r, 300)).join('\n      ') });
  }
  // Flushing after each batch ties a capture loss or a worker restart to the batch that caused it.
  await Promise.race([service.pipeline.flush().catch(() => undefined), sleep(10_000)]);
  const after = capture();
  for (const key of ['restarts', 'dropped', 'quarantined', 'shed'] as const) {
    if (after[key] > before[key]) {
      const proxied = sent.filter((s) => isProxyRoute(s.draft));
      violations.push({
        cls: `capture: ${key} went up during a batch`,
        route: 'capture',
        status: 'see batches',
        detail: `${key} ${before[key]}→${after[key]} in batch ${batches} (worker ${after.worker}); its proxy requests:`,
        request: proxied.map((s) => short(describeRequest(s), 300)).join('\n      '),
      });
    }
  }
}

function summarize(list: Violation[], title: string, examplesPerClass = 1): string {
  const groups = new Map<string, Violation[]>();
  for (const v of list) {
    const key = `${v.cls} | ${v.route} | ${v.status}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const lines = [`${title}: ${list.length} violation(s) in ${groups.size} class(es) (seed ${SEED}, ${batches} batches, ${outcomes.length} requests)`];
  for (const [key, vs] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
    lines.push(`  × ${vs.length}  ${key}`);
    for (const v of vs.slice(0, examplesPerClass)) lines.push(`      body/detail: ${short(v.detail, 200)}`, `      e.g.  ${short(v.request, 600)}`);
  }
  return lines.join('\n');
}

describe('HTTP fuzz: every route of a running service', () => {
  it('answers every request without a 5xx of its own or internal details, and keeps serving', { timeout: TIME_MS + 60_000 }, async () => {
    const deadline = Date.now() + TIME_MS;
    console.log(`[fuzz] seed ${SEED} (FUZZ_SEED to change), up to ${RUNS} batches, ${TIME_MS} ms`);
    await fc.assert(
      fc.asyncProperty(batch, async (drafts) => {
        if (Date.now() > deadline) return true; // time's up: the remaining runs send nothing
        await runBatch(drafts);
        return true;
      }),
      { numRuns: SWEEP.length + RUNS, seed: SEED, endOnFailure: true, examples: SWEEP },
    );
    fuzzDone = true;
    const byStatus = new Map<string, number>();
    for (const o of outcomes) byStatus.set(String(o.status ?? 'none'), (byStatus.get(String(o.status ?? 'none')) ?? 0) + 1);
    console.log(`[fuzz] ${outcomes.length} requests in ${batches} batches; statuses ${JSON.stringify(Object.fromEntries(byStatus))}`);
    if (process.env.FUZZ_DUMP) {
      for (const o of outcomes.filter((x) => routeOf(x.sent.draft).includes(process.env.FUZZ_DUMP!))) {
        console.log(`[fuzz] ${o.status ?? o.error} ${short(o.body, 200)}\n    ${short(describeRequest(o.sent), 400)}`);
      }
    }
    const byRoute = new Map<string, Map<string, number>>();
    for (const o of outcomes) {
      const d = o.sent.draft;
      const route = d.kind === 'unknown' ? 'unknown routes' : routeOf(d);
      const m = byRoute.get(route) ?? new Map<string, number>();
      m.set(String(o.status ?? 'none'), (m.get(String(o.status ?? 'none')) ?? 0) + 1);
      byRoute.set(route, m);
    }
    console.log(`[fuzz] statuses per route:\n${[...byRoute].sort().map(([r, m]) => `  ${r}: ${[...m].map(([st, n]) => `${st}×${n}`).join(' ')}`).join('\n')}`);
    const unserved = HOSTILE_MODES.filter((m) => !served.has(m));
    console.log(`[fuzz] hostile upstream answered ${[...served.values()].reduce((a, b) => a + b, 0)} times in ${served.size} modes${unserved.length ? `; never: ${unserved.join(', ')}` : ''}`);
    const answers = violations.filter((v) => !v.cls.startsWith('capture:'));
    if (answers.length) console.log(summarize(answers, '[fuzz] answers'));
    expect([...new Set(answers.map((v) => `${v.cls} | ${v.route} | ${v.status}`))]).toEqual([]);
  });

  it('records every answered proxy request as a sample, loses and quarantines nothing', { timeout: 90_000 }, async () => {
    expect(fuzzDone, 'the fuzz run did not complete').toBe(true);
    await service.pipeline.flush();
    for (let i = 0; i < 50 && service.pipeline.health().spillBatches > 0; i++) {
      await service.pipeline.replayNow().catch(() => undefined);
      await sleep(200);
    }
    const rs = await service.store.client.query({ query: 'SELECT request_id, count() AS n FROM samples GROUP BY request_id', format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
    const stored = new Map((await rs.json<{ request_id: string; n: number }>()).map((r) => [r.request_id, Number(r.n)]));
    const rows = [...stored.values()].reduce((a, b) => a + b, 0);

    const proxied = outcomes.filter((o) => isProxyRoute(o.sent.draft));
    const answered = proxied.filter((o) => o.status !== null);
    const unanswered = proxied.length - answered.length;
    const expected = new Map<string, Outcome[]>();
    let anonymous = 0;
    for (const o of answered) {
      if (o.responseId) expected.set(o.responseId, [...(expected.get(o.responseId) ?? []), o]);
      else anonymous++;
    }
    const health = service.pipeline.health();
    const lost = health.dropped + (health.shed ?? 0);
    const problems: Violation[] = [];
    const missing = (o: Outcome, cls: string) =>
      problems.push({ cls, route: routeOf(o.sent.draft), status: o.status ?? '?', detail: `x-request-id ${o.responseId ?? '(none)'}; answer ${short(o.body, 120)}`, request: describeRequest(o.sent) });
    // Why a sample is missing, when the store said so: the quarantine keeps each rejected row with the reason.
    const quarantineFile = join(dataPath, 'quarantine', 'rejected.ndjson');
    const quarantineReason = new Map<string, string>();
    const quarantineLines = existsSync(quarantineFile) ? readFileSync(quarantineFile, 'utf8').split('\n').filter(Boolean) : [];
    for (const line of quarantineLines) {
      const q = JSON.parse(line) as { reason: string; samples?: { request_id: string }[] };
      for (const s of q.samples ?? []) quarantineReason.set(s.request_id, q.reason.replace(/\s*\(while reading[\s\S]*$|:\s*\(at row[\s\S]*$/, '').slice(0, 90));
    }
    for (const [id, os] of expected) {
      const n = stored.get(id) ?? 0;
      const why = quarantineReason.has(id) ? `quarantined: ${quarantineReason.get(id)}` : 'not stored, not quarantined';
      if (n < os.length) for (const o of os.slice(n)) missing(o, `answered proxy request without a sample (${why})`);
    }
    for (const o of answered) if (!o.responseId) missing(o, 'proxy answer without an x-request-id header (counted, not matched)');
    const known = [...expected.values()].reduce((a, os) => a + os.length, 0);
    console.log(
      `[fuzz] proxy requests ${proxied.length}: answered ${answered.length} (${known} by x-request-id, ${anonymous} without), unanswered ${unanswered}; ` +
        `samples stored ${rows} (${stored.size} ids); health ${JSON.stringify({ dropped: health.dropped, shed: health.shed, quarantined: health.quarantined, workerRestarts: health.workerRestarts, worker: health.worker, spillBatches: health.spillBatches })}`,
    );
    const all = [...violations.filter((v) => v.cls.startsWith('capture:')), ...problems];
    if (all.length) console.log(summarize(all, '[fuzz] capture', 3));
    if (uncaught.length) console.log(`[fuzz] uncaught in the test process:\n${uncaught.map((u) => short(u, 600)).join('\n')}`);
    if (warnings.length) console.log(`[fuzz] process warnings:\n${[...new Set(warnings)].map((w) => `  ${short(w, 300)}`).join('\n')}`);

    // Every request answered on a proxy route is a sample, minus what capture counted as shed or
    // dropped: matched by the x-request-id it was answered with, and in total (answers without an id
    // count there), within what unanswered requests may or may not have left.
    const missingById = problems.filter((p) => p.cls.startsWith('answered')).map((p) => `${p.route} ${p.status} ${p.detail.split(';')[0]} ${p.cls.replace(/^[^(]*/, '')}`);
    expect.soft(missingById.length, `answered proxy requests without a sample (${lost} counted shed/dropped):\n${missingById.join('\n')}`).toBeLessThanOrEqual(lost);
    expect.soft(rows + lost, 'stored + counted losses ≥ answered proxy requests').toBeGreaterThanOrEqual(answered.length);
    expect.soft(rows, 'stored ≤ proxy requests sent').toBeLessThanOrEqual(answered.length + unanswered);
    // This load is light: nothing may be shed or dropped at all.
    expect.soft(health.dropped, 'samples dropped').toBe(0);
    expect.soft(health.shed ?? 0, 'samples shed').toBe(0);
    expect.soft(health.quarantined, 'samples quarantined (rejected by the store)').toBe(0);
    if (health.workerRestarts !== undefined) expect.soft(health.workerRestarts, 'capture worker restarts').toBe(0);
    expect.soft(uncaught, 'uncaught exceptions or unhandled rejections in the test process').toEqual([]);
    expect.soft([...new Set(warnings)], 'listener-leak or late-rejection warnings in the test process').toEqual([]);
  });
});

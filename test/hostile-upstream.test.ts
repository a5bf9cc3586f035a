// Nothing an upstream sends may stop capture: answers are parsed defensively (a field of the wrong
// type is absent and flagged), every row is valid for its ClickHouse columns, captured text is cut
// to capture.maxTextBytes, and one exchange that fails to process still becomes a sample.
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractAnswer, salvageText, StreamAssembler, usageOf } from '../src/capture/answer.js';
import { toColumnValid } from '../src/capture/columns.js';
import { ALL_SAMPLE_FLAGS, SAMPLE_FLAGS, type SampleFlag } from '../src/capture/flags.js';
import { createBatchProcessor, verdictsForTruncation } from '../src/capture/processor.js';
import { answerOf, toSampleRow, type Exchange, type SampleRow } from '../src/capture/sample.js';
import { capUtf8, completeUtf8Length, utf8PrefixLength } from '../src/capture/text-limit.js';
import { startService, type Service } from '../src/cli/service.js';
import type { SampleEvaluator } from '../src/evaluate/evaluator.js';
import type { Verdict } from '../src/evaluate/types.js';
import { createMetrics } from '../src/metrics/registry.js';
import { openStore, type Store } from '../src/store/client.js';
import { listSamples } from '../src/store/queries.js';
import { chatCompletion, startUpstream, tempDir, testConfig, type Upstream } from './helpers.js';

const RUNS = { numRuns: 300 };
const MAX = 1024; // the smallest capture.maxTextBytes the config allows

function exchange(over: Partial<Exchange> & { body?: string | Buffer | Buffer[]; kind?: Exchange['response']['kind']; cut?: boolean } = {}): Exchange {
  const { body = '', kind = 'json', cut, ...rest } = over;
  const chunks = Array.isArray(body) ? body : typeof body === 'string' ? (body ? [Buffer.from(body)] : []) : [body];
  return {
    requestId: 'req-1',
    ts: 1_700_000_000_000,
    tenant: '',
    model: 'support-bot',
    version: 'v1',
    role: 'baseline',
    upstream: 'http://upstream',
    endpoint: 'chat',
    stream: kind === 'sse',
    statusCode: 200,
    errorType: '',
    latencyMs: 12.5,
    ttftMs: kind === 'sse' ? 3 : null,
    request: { model: 'support-bot', messages: [{ role: 'user', content: 'Say hi' }] },
    response: { kind, chunks, ...(cut === undefined ? {} : { truncated: cut }) },
    traceId: '',
    userKey: null,
    meta: {},
    spec: '',
    context: '',
    ...rest,
  };
}

const sse = (...events: string[]) => events.map((e) => `data: ${e}\n\n`).join('');
const delta = (content: unknown, extra: object = {}) => JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null, ...extra }] });
const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');

// ---------- an independent check of the samples columns (migrations/0001, 0005) ----------

const UINT32_MAX = 4_294_967_295;
const isUInt = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const wellFormedString = (v: unknown) => typeof v === 'string' && (v as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Every reason ClickHouse (or the column's meaning) would reject the row; [] when it is valid. */
function columnProblems(row: SampleRow): string[] {
  const problems: string[] = [];
  const r = row as unknown as Record<string, unknown>;
  for (const k of ['request_id', 'tenant', 'model', 'version', 'role', 'upstream', 'endpoint', 'error_type', 'finish_reason', 'prompt', 'response', 'trace_id', 'user_hash', 'spec', 'context']) {
    if (!wellFormedString(r[k])) problems.push(`${k} not a well-formed string`);
  }
  for (const k of ['stream', 'tokens_estimated', 'truncated']) if (typeof r[k] !== 'boolean') problems.push(`${k} not a boolean`);
  if (!isUInt(r.status_code, 65_535)) problems.push('status_code not UInt16');
  for (const k of ['input_tokens', 'output_tokens']) if (!isUInt(r[k], UINT32_MAX)) problems.push(`${k} not UInt32`);
  if (!isUInt(r.ts, 7_258_118_400_000)) problems.push('ts not an integer ms in range');
  if (!(typeof r.latency_ms === 'number' && Number.isFinite(r.latency_ms) && r.latency_ms >= 0)) problems.push('latency_ms');
  if (!(r.ttft_ms === null || (typeof r.ttft_ms === 'number' && Number.isFinite(r.ttft_ms) && r.ttft_ms >= 0))) problems.push('ttft_ms');
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(r.pii) || !Object.entries(r.pii as object).every(([k, n]) => wellFormedString(k) && isUInt(n, UINT32_MAX))) problems.push('pii');
  if (!isMap(r.meta) || !Object.entries(r.meta as object).every(([k, v]) => wellFormedString(k) && wellFormedString(v))) problems.push('meta');
  if (!Array.isArray(r.flags) || !r.flags.every((f) => typeof f === 'string' && (ALL_SAMPLE_FLAGS as string[]).includes(f))) problems.push('flags');
  // JSONEachRow round trip: what insertRows sends must be JSON the store parses back to the same values.
  const back = JSON.parse(JSON.stringify(row));
  if (JSON.stringify(back) !== JSON.stringify(row)) problems.push('not JSON-stable');
  return problems;
}

// ---------- the four defects, each reproduced on the code before this change ----------

describe('defects: an upstream answer that stopped capture', () => {
  it('1. `data: null` in a stream is a flagged event, not a TypeError that kills the worker', async () => {
    const ex = exchange({ kind: 'sse', body: sse(delta('Hel'), 'null', '42', '[1,2]', '"str"', delta('lo'), '[DONE]') });
    const { samples } = await createBatchProcessor(null)([ex]);
    expect(samples[0]).toMatchObject({ response: 'Hello', flags: [SAMPLE_FLAGS.sseEventInvalid] });
  });

  it('2. `completion_tokens: "lots"` is flagged and estimated, not a prom-client throw', async () => {
    const metrics = createMetrics([], { processMetrics: false });
    const body = { ...chatCompletion('four words of text'), usage: { prompt_tokens: 5, completion_tokens: 'lots' } };
    const { samples } = await createBatchProcessor(null, metrics)([exchange({ body: JSON.stringify(body) })]);
    expect(samples[0]).toMatchObject({ input_tokens: 5, output_tokens: 5, tokens_estimated: true, flags: [SAMPLE_FLAGS.usageInvalid] });
    const counted = await metrics.upstreamAnswersInvalid.get();
    expect(counted.values).toEqual([expect.objectContaining({ labels: { flag: 'usage_invalid' }, value: 1 })]);
  });

  it('3. `prompt_tokens: 1.5` never reaches a UInt32 column', async () => {
    const body = { ...chatCompletion('ok'), usage: { prompt_tokens: 1.5, completion_tokens: 2 } };
    const { samples } = await createBatchProcessor(null)([exchange({ body: JSON.stringify(body) })]);
    expect(samples[0]).toMatchObject({ output_tokens: 2, tokens_estimated: true, flags: [SAMPLE_FLAGS.usageInvalid] });
    expect(Number.isInteger(samples[0]!.input_tokens)).toBe(true);
    expect(columnProblems(samples[0]!)).toEqual([]);
  });

  it('4. captured text is cut to capture.maxTextBytes: prompt, response and context', async () => {
    const long = 'é'.repeat(5000); // 10 000 bytes
    const ex = exchange({ body: JSON.stringify(chatCompletion(long)), context: long, request: { messages: [{ role: 'user', content: long }] } });
    const { samples } = await createBatchProcessor(null, undefined, { maxTextBytes: MAX })([ex]);
    const s = samples[0]!;
    for (const text of [s.prompt, s.response, s.context]) expect(bytesOf(text)).toBeLessThanOrEqual(MAX);
    expect(s.response).toBe('é'.repeat(MAX / 2));
    expect(s.context).toBe('é'.repeat(MAX / 2));
    expect(s.prompt.startsWith('[{"role":"user","content":"éé')).toBe(true);
    expect(s.truncated).toBe(true);
  });
});

// ---------- pure functions ----------

describe('usageOf', () => {
  const cases: [string, unknown, unknown, SampleFlag[]][] = [
    ['absent', undefined, null, []],
    ['null (streamed chunks before the last)', null, null, []],
    ['valid', { prompt_tokens: 3, completion_tokens: 4 }, { input: 3, output: 4 }, []],
    ['embeddings: no completion count is 0', { prompt_tokens: 3, total_tokens: 3 }, { input: 3, output: 0 }, []],
    ['a string', 'lots', null, ['usage_invalid']],
    ['an array', [1, 2], null, ['usage_invalid']],
    ['a number', 7, null, ['usage_invalid']],
    ['a fraction', { prompt_tokens: 1.5, completion_tokens: 2 }, { input: null, output: 2 }, ['usage_invalid']],
    ['negative', { prompt_tokens: -1, completion_tokens: 2 }, { input: null, output: 2 }, ['usage_invalid']],
    ['beyond UInt32', { prompt_tokens: 4294967296, completion_tokens: 2 }, { input: null, output: 2 }, ['usage_invalid']],
    ['the UInt32 maximum', { prompt_tokens: 4294967295, completion_tokens: 0 }, { input: 4294967295, output: 0 }, []],
    ['a numeric string', { prompt_tokens: '12', completion_tokens: 2 }, { input: null, output: 2 }, ['usage_invalid']],
    ['completion "lots"', { prompt_tokens: 5, completion_tokens: 'lots' }, { input: 5, output: null }, ['usage_invalid']],
    ['both invalid', { prompt_tokens: {}, completion_tokens: true }, null, ['usage_invalid']],
    ['empty object', {}, null, []],
  ];
  it.each(cases)('%s', (_name, usage, expected, flags) => {
    const got: SampleFlag[] = [];
    expect(usageOf(usage, got)).toEqual(expected);
    expect(got).toEqual(flags);
  });
});

describe('extractAnswer: odd shapes are absent and flagged', () => {
  const choice = (c: unknown) => ({ choices: [c] });
  const cases: [string, unknown, { text?: string; finishReason?: string }, SampleFlag[]][] = [
    ['a normal answer', chatCompletion('hi'), { text: 'hi', finishReason: 'stop' }, []],
    ['JSON null', null, { text: '' }, ['body_invalid']],
    ['a number', 42, { text: '' }, ['body_invalid']],
    ['an array', [chatCompletion('hi')], { text: '' }, ['body_invalid']],
    ['no choices', { id: 'x' }, { text: '' }, ['choices_invalid']],
    ['choices an object', { choices: { 0: { message: { content: 'hi' } } } }, { text: '' }, ['choices_invalid']],
    ['a choice that is a string', { choices: ['hi'] }, { text: '' }, ['choices_invalid']],
    ['a choice that is null', { choices: [null] }, { text: '' }, ['choices_invalid']],
    ['no choice at all', { choices: [] }, { text: '' }, []],
    ['message a string', choice({ message: 'hi' }), { text: '' }, ['content_invalid']],
    ['content a number', choice({ message: { content: 42 } }), { text: '' }, ['content_invalid']],
    ['content an array', choice({ message: { content: [{ type: 'text', text: 'hi' }] } }), { text: '' }, ['content_invalid']],
    ['content null, tool calls', choice({ message: { content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] } }), { text: '[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]' }, []],
    ['tool_calls a string', choice({ message: { content: null, tool_calls: 'f()' } }), { text: '' }, ['content_invalid']],
    ['tool_calls of numbers', choice({ message: { tool_calls: [1, 2] } }), { text: '' }, ['content_invalid']],
    ['finish_reason a number', choice({ message: { content: 'hi' }, finish_reason: 1 }), { text: 'hi', finishReason: '' }, ['finish_reason_invalid']],
    ['finish_reason too long', choice({ message: { content: 'hi' }, finish_reason: 'x'.repeat(65) }), { text: 'hi', finishReason: '' }, ['finish_reason_invalid']],
    ['usage a string', { ...chatCompletion('hi'), usage: 'n/a' }, { text: 'hi' }, ['usage_invalid']],
  ];
  it.each(cases)('%s', (_name, body, expected, flags) => {
    const a = extractAnswer('chat', body);
    expect(a).toMatchObject(expected);
    expect(a.flags).toEqual(flags);
  });

  it('completions: text not a string is flagged', () => {
    expect(extractAnswer('completions', { choices: [{ text: 'ok', finish_reason: 'stop' }] })).toMatchObject({ text: 'ok', flags: [] });
    expect(extractAnswer('completions', { choices: [{ text: { a: 1 } }] })).toMatchObject({ text: '', flags: ['content_invalid'] });
  });

  it('embeddings need no choices', () => {
    expect(extractAnswer('embeddings', { data: [], usage: { prompt_tokens: 4, total_tokens: 4 } })).toMatchObject({ usage: { input: 4, output: 0 }, flags: [] });
  });
});

describe('StreamAssembler', () => {
  it('joins a character split between chunks', () => {
    const bytes = Buffer.from(sse(delta('naïve 😀')));
    const a = new StreamAssembler('chat');
    const at = bytes.indexOf(0xf0) + 2; // inside the emoji's four bytes
    a.push(bytes.subarray(0, at));
    a.push(bytes.subarray(at));
    expect(a.result()).toMatchObject({ text: 'naïve 😀', flags: [] });
  });

  it('ignores comments and other fields, keeps choice 0, takes usage from the last chunk', () => {
    const a = new StreamAssembler('chat');
    a.pushText(': ping\nevent: message\nid: 1\n');
    a.pushText(`data: ${delta('a')}\r\n\r\ndata: ${JSON.stringify({ choices: [{ index: 1, delta: { content: 'OTHER' } }] })}\n\n`);
    a.pushText(`data: ${delta('b', { finish_reason: 'stop' })}\n\ndata: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 2 } })}\n\ndata: [DONE]\n\n`);
    expect(a.result()).toEqual({ text: 'ab', finishReason: 'stop', usage: { input: 2, output: 2 }, flags: [], truncated: false });
  });

  it('assembles streamed tool calls by index', () => {
    const tc = (calls: unknown) => JSON.stringify({ choices: [{ index: 0, delta: { content: null, tool_calls: calls } }] });
    const a = new StreamAssembler('chat');
    a.pushText(sse(
      tc([{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }]),
      tc([{ index: 0, function: { arguments: '{"q":' } }]),
      tc([{ index: 0, function: { arguments: '"x"}' } }]),
    ));
    expect(JSON.parse(a.result().text)).toEqual([{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }]);
  });

  it('flags tool call deltas of odd shapes and a huge index, without building a sparse array', () => {
    const tc = (calls: unknown) => JSON.stringify({ choices: [{ delta: { tool_calls: calls } }] });
    const a = new StreamAssembler('chat');
    a.pushText(sse(tc('x'), tc([null]), tc([{ index: 1e9, function: { arguments: 'a' } }]), tc([{ index: 0, function: 'f' }]), tc([{ index: 0, function: { arguments: 7 } }])));
    const r = a.result();
    expect(r.flags).toEqual(['content_invalid']);
    expect(r.text.length).toBeLessThan(200);
  });

  it('flags invalid events and fields, keeps the rest', () => {
    const a = new StreamAssembler('chat');
    a.pushText(sse('{not json', delta(5), JSON.stringify({ choices: 'x' }), JSON.stringify({ choices: [{ delta: 'x' }] }), delta('ok', { finish_reason: 9 }), JSON.stringify({ usage: [] })));
    const r = a.result();
    expect(r.text).toBe('ok');
    expect([...r.flags].sort()).toEqual(['choices_invalid', 'content_invalid', 'finish_reason_invalid', 'sse_event_invalid', 'usage_invalid']);
  });

  it('an unfinished last line is a fragment when the stream was cut, an invalid event otherwise', () => {
    const text = sse(delta('kept')) + `data: ${delta('lost').slice(0, 20)}`;
    const cut = new StreamAssembler('chat');
    cut.pushText(text);
    expect(cut.result(true)).toMatchObject({ text: 'kept', flags: [] });
    const whole = new StreamAssembler('chat');
    whole.pushText(text);
    expect(whole.result(false)).toMatchObject({ text: 'kept', flags: ['sse_event_invalid'] });
  });
});

describe('answerOf', () => {
  it('flags bytes that are not UTF-8 and keeps the text with U+FFFD', () => {
    const body = Buffer.concat([Buffer.from('{"choices":[{"message":{"content":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}}]}')]);
    expect(answerOf(exchange({ body }))).toMatchObject({ text: 'a\ufffd\ufffdb', flags: ['encoding_invalid'] });
  });

  it('a non-JSON body is kept as text and flagged', () => {
    expect(answerOf(exchange({ body: 'Internal hiccup' }))).toMatchObject({ text: 'Internal hiccup', flags: ['body_invalid'] });
  });

  it('cuts a long answer at a character boundary and keeps a tail for redaction', () => {
    const text = `${'a'.repeat(MAX - 1)}😀 and more`;
    const a = answerOf(exchange({ body: JSON.stringify(chatCompletion(text)) }), MAX);
    expect(a.text).toBe('a'.repeat(MAX - 1)); // the emoji's four bytes do not fit
    expect(a.tail?.startsWith('😀 and more')).toBe(true);
    expect(a.truncated).toBe(true);
  });

  it('a JSON answer the proxy cut short: the beginning of the content, not flagged body_invalid', () => {
    const full = JSON.stringify(chatCompletion('Line one\nLine "two" ünïcode 😀 and a long tail'));
    const prefix = full.slice(0, full.indexOf('ünïcode') + 3);
    const a = answerOf(exchange({ body: prefix, cut: true }));
    expect(a).toMatchObject({ text: 'Line one\nLine "two" ünï', truncated: true, flags: [], finishReason: '' });
  });

  it('a prefix cut inside a character is not an encoding error', () => {
    const bytes = Buffer.from(JSON.stringify(chatCompletion('😀😀')));
    const at = bytes.indexOf(0xf0) + 6; // inside the second emoji
    expect(answerOf(exchange({ body: bytes.subarray(0, at), cut: true }))).toMatchObject({ text: '😀', flags: [], truncated: true });
  });

  it('a stream the proxy cut short keeps its complete events', () => {
    const body = sse(delta('one '), delta('two ')) + 'data: {"choi';
    expect(answerOf(exchange({ kind: 'sse', body, cut: true }))).toMatchObject({ text: 'one two ', truncated: true, flags: [] });
  });
});

describe('salvageText', () => {
  it.each([
    ['cut inside the text', '{"choices":[{"message":{"role":"assistant","content":"Hello wor', 'Hello wor'],
    ['cut inside an escape', '{"choices":[{"message":{"content":"a\\', 'a'],
    ['cut inside a \\u escape', '{"choices":[{"message":{"content":"a\\u00', 'a'],
    ['an escaped backslash before the cut', '{"choices":[{"message":{"content":"a\\\\', 'a\\'],
    ['the whole string present', '{"choices":[{"message":{"content":"done"},"finish', 'done'],
    ['no content yet', '{"id":"x","choices":[{"mess', ''],
    ['content null', '{"choices":[{"message":{"content":null,"tool_calls":[{"id', ''],
  ])('%s', (_name, prefix, expected) => expect(salvageText(prefix, 'chat')).toBe(expected));

  it('completions read "text"', () => expect(salvageText('{"choices":[{"text":"abc', 'completions')).toBe('abc'));

  it('yields a prefix of the answer text wherever the body is cut (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(), (text, at) => {
        const body = JSON.stringify(chatCompletion(text));
        const got = salvageText(body.slice(0, at % (body.length + 1)), 'chat');
        expect(text.startsWith(got)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('text limits', () => {
  const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 400 });

  it('capUtf8 keeps the longest prefix that fits, never half a code point (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), anyUnits), fc.integer({ min: 0, max: 1200 }), (s, max) => {
        const { text, cut } = capUtf8(s, max);
        const wf = (text as unknown as { toWellFormed(): string }).toWellFormed();
        expect(s.startsWith(text)).toBe(true);
        expect(cut).toBe(text.length < s.length);
        expect(bytesOf(wf)).toBeLessThanOrEqual(max);
        if (cut) {
          // Not cut between the halves of a surrogate pair, and the next code point would not fit.
          const next = s.codePointAt(text.length)!;
          expect(next >= 0xdc00 && next <= 0xdfff && /[\ud800-\udbff]$/.test(text)).toBe(false);
          expect(bytesOf(wf) + bytesOf(String.fromCodePoint(next))).toBeGreaterThan(max);
        }
      }),
      RUNS,
    );
  });

  it('utf8PrefixLength needs no pass over short text', () => expect(utf8PrefixLength('abc', 9)).toBe(3));

  it('completeUtf8Length drops only an incomplete last character', () => {
    const b = Buffer.from('a😀é');
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => completeUtf8Length(b.subarray(0, n)))).toEqual([1, 1, 1, 1, 5, 5, 7, 7]);
    expect(completeUtf8Length(Buffer.from([0x80, 0x80]))).toBe(2); // garbage is left for the encoding check
  });

  it('an email that crosses the cut is redacted, not stored half', () => {
    const lead = `${'x '.repeat(MAX / 2 - 5)}mail `; // the address starts 5 bytes before the cut
    const row = toSampleRow(exchange({ body: JSON.stringify(chatCompletion(`${lead}jane.doe@example.com now`)) }), undefined, MAX);
    expect(row.response).toBe(`${lead}[EMAI`);
    expect(row.pii['response:EMAIL']).toBe(1);
    expect(row.truncated).toBe(true);
  });

  it('a sample is truncated when the proxy cut the answer, even if what it kept is short', () => {
    const row = toSampleRow(exchange({ body: '{"choices":[{"message":{"content":"Hi th', cut: true }), undefined, MAX);
    expect(row).toMatchObject({ response: 'Hi th', truncated: true, tokens_estimated: true, flags: [] });
  });
});

describe('toColumnValid', () => {
  const base = () => toSampleRow(exchange({ body: JSON.stringify(chatCompletion('hi')) }));
  const cases: [string, Partial<Record<keyof SampleRow, unknown>>, Partial<SampleRow>, SampleFlag][] = [
    ['status beyond UInt16', { status_code: 70_000 }, { status_code: 0 }, 'field_coerced'],
    ['status a fraction', { status_code: 200.5 }, { status_code: 0 }, 'field_coerced'],
    ['latency NaN', { latency_ms: NaN }, { latency_ms: 0 }, 'field_coerced'],
    ['latency negative', { latency_ms: -3 }, { latency_ms: 0 }, 'field_coerced'],
    ['ttft infinite', { ttft_ms: Infinity }, { ttft_ms: null }, 'field_coerced'],
    ['ts a fraction', { ts: 1_700_000_000_000.5 }, { ts: 1_700_000_000_001 }, 'field_coerced'],
    ['tokens a fraction', { input_tokens: 1.5 }, { input_tokens: 2 }, 'field_coerced'],
    ['tokens beyond UInt32', { output_tokens: 2 ** 40 }, { output_tokens: UINT32_MAX }, 'field_coerced'],
    ['a lone surrogate', { response: 'a\ud800b' }, { response: 'a\ufffdb' }, 'encoding_invalid'],
    ['a model that is a number', { model: 7 }, { model: '7' }, 'field_coerced'],
    ['meta values of other types', { meta: { a: 1, b: null, c: 'x\udc00' } }, { meta: { a: '1', c: 'x\ufffd' } }, 'field_coerced'],
    ['meta an array', { meta: ['x'] }, { meta: {} }, 'field_coerced'],
    ['pii a fraction', { pii: { 'prompt:EMAIL': 0.5, 'response:PHONE': 1 } }, { pii: { 'response:PHONE': 1 } }, 'field_coerced'],
    ['stream a string', { stream: 'yes' }, { stream: false }, 'field_coerced'],
  ];
  it.each(cases)('%s', (_name, patch, expected, flag) => {
    const row = toColumnValid({ ...base(), ...patch } as SampleRow);
    expect({ ...row, meta: { ...row.meta } }).toMatchObject(expected);
    expect(row.flags).toContain(flag);
    expect(columnProblems(row)).toEqual([]);
  });

  it('keeps a "__proto__" key a key', () => {
    const row = toColumnValid({ ...base(), meta: JSON.parse('{"__proto__": 1}') } as SampleRow);
    expect(Object.entries(row.meta)).toEqual([['__proto__', '1']]);
    const long = JSON.parse(`{"messages": [{"__proto__": "${'a'.repeat(3 * MAX)}"}]}`);
    expect(bytesOf(toSampleRow(exchange({ request: long }), undefined, MAX).prompt)).toBeLessThanOrEqual(MAX);
  });

  it('leaves a valid row as it is', () => {
    const row = base();
    expect(toColumnValid({ ...row, flags: [...row.flags] })).toEqual(row);
    expect(row.flags).toEqual([]);
  });
});

describe('verdicts on cut text', () => {
  const v = (sli: Verdict['sli'], verdict: Verdict['verdict']): Verdict => ({ sli, evaluator: 'e', evaluatorVersion: '1', verdict, score: 1, reason: 'r' });
  it('a truncated answer: instruction_success unknown; a cut prompt or context: unsupported claims unknown', () => {
    const all = [v('instruction_success', 'good'), v('safe_response', 'bad'), v('hallucination_free', 'bad')];
    expect(verdictsForTruncation(all, false, false)).toBe(all);
    expect(verdictsForTruncation(all, true, false).map((x) => [x.sli, x.verdict, x.reason])).toEqual([
      ['instruction_success', 'unknown', 'answer truncated'], ['safe_response', 'bad', 'r'], ['hallucination_free', 'bad', 'r'],
    ]);
    expect(verdictsForTruncation(all, false, true).map((x) => [x.sli, x.verdict])).toEqual([
      ['instruction_success', 'good'], ['safe_response', 'bad'], ['hallucination_free', 'unknown'],
    ]);
  });
});

describe('the batch processor keeps every exchange', () => {
  const good = exchange({ requestId: 'good', body: JSON.stringify(chatCompletion('fine')) });
  const verdict: Verdict = { sli: 'safe_response', evaluator: 'e', evaluatorVersion: '1', verdict: 'good', score: null, reason: '' };
  const failingOn = (id: string, how: 'throw' | 'reject'): SampleEvaluator => ({
    evaluate(ex) {
      if (ex.requestId !== id) return Promise.resolve([verdict]);
      if (how === 'throw') throw new Error('evaluator bug');
      return Promise.reject(new Error('evaluator bug'));
    },
  });

  it.each(['throw', 'reject'] as const)('an evaluator that %ss: the sample is kept, flagged, without verdicts', async (how) => {
    const warnings: object[] = [];
    const bad = exchange({ requestId: 'bad', body: JSON.stringify(chatCompletion('judge me')) });
    const batch = await createBatchProcessor(failingOn('bad', how), undefined, { log: { warn: (o) => warnings.push(o) } })([good, bad]);
    expect(batch.samples.map((s) => [s.request_id, s.response, s.flags])).toEqual([
      ['good', 'fine', []],
      ['bad', 'judge me', ['processing_failed']],
    ]);
    expect(batch.evaluations.map((e) => e.request_id)).toEqual(['good']);
    expect(warnings).toEqual([{ err: 'evaluator bug', requestId: 'bad' }]);
  });

  it('an exchange that cannot even be read: a sample without text, flagged', async () => {
    const hostile = exchange({ requestId: 'hostile', body: JSON.stringify(chatCompletion('secret bob@example.com')) });
    Object.defineProperty(hostile, 'request', { get: () => { throw new Error('unreadable'); } });
    const batch = await createBatchProcessor(failingOn('none', 'throw'))([hostile, good]);
    expect(batch.samples[0]).toMatchObject({ request_id: 'hostile', prompt: '', response: '', flags: ['processing_failed'], status_code: 200 });
    expect(batch.samples[1]).toMatchObject({ request_id: 'good', flags: [] });
    expect(batch.evaluations.map((e) => e.request_id)).toEqual(['good']);
  });

  it('counts each flag in tunewatch_upstream_answers_invalid_total', async () => {
    const metrics = createMetrics([], { processMetrics: false });
    await createBatchProcessor(null, metrics)([
      exchange({ kind: 'sse', body: sse('null', delta(1)) }),
      exchange({ body: JSON.stringify({ choices: [{ message: { content: 'x' }, finish_reason: 3 }], usage: 'x' }) }),
    ]);
    const values = (await metrics.upstreamAnswersInvalid.get()).values.map((v) => [v.labels.flag, v.value]);
    expect(values.sort()).toEqual([['content_invalid', 1], ['finish_reason_invalid', 1], ['sse_event_invalid', 1], ['usage_invalid', 1]]);
  });
});

// ---------- property tests: nothing throws, every row is column-valid ----------

/** Arbitrary UTF-16, lone surrogates included. */
const anyString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  anyString,
  fc.double(),
  fc.constantFrom(-1, 1.5, 2 ** 32, 2 ** 53, -0, '12', 'lots', null, true, [], {}),
);
/** Answer-shaped JSON with arbitrary values in every field, or anything at all. */
const answerLike = fc.oneof(
  fc.record(
    {
      choices: fc.oneof(anyValue, fc.array(fc.oneof(anyValue, fc.record({ index: anyValue, message: fc.oneof(anyValue, fc.record({ content: anyValue, tool_calls: anyValue }, { requiredKeys: [] })), delta: fc.oneof(anyValue, fc.record({ content: anyValue, tool_calls: fc.oneof(anyValue, fc.array(fc.record({ index: anyValue, id: anyValue, function: fc.oneof(anyValue, fc.record({ name: anyValue, arguments: anyValue })) }, { requiredKeys: [] }), { maxLength: 3 })) }, { requiredKeys: [] })), text: anyValue, finish_reason: anyValue }, { requiredKeys: [] })), { maxLength: 3 })),
      usage: fc.oneof(anyValue, fc.record({ prompt_tokens: anyValue, completion_tokens: anyValue }, { requiredKeys: [] })),
    },
    { requiredKeys: [] },
  ),
  anyValue,
);
const encode = (v: unknown) => JSON.stringify(v) ?? 'undefined';
/** An SSE stream of such events (and garbage lines), split into chunks at arbitrary byte offsets. */
const sseChunks = fc
  .tuple(
    fc.array(fc.oneof(answerLike.map((e) => `data: ${encode(e)}\n\n`), anyString.map((s) => `data: ${s}\n`), anyString, fc.constant('data: [DONE]\n\n'), fc.constant(': ping\r\n')), { maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 6 }),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([lines, cuts, garbage]) => {
    const bytes = Buffer.concat([Buffer.from(lines.join('')), Buffer.from(garbage)]);
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    return [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length)).filter((c) => c.length);
  });
const jsonChunks = fc.oneof(answerLike.map((v) => [Buffer.from(encode(v))]), fc.uint8Array({ maxLength: 64 }).map((b) => [Buffer.from(b)]));
const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, -1, 70_000, 2 ** 53, 1.5));

const anyExchange: fc.Arbitrary<Exchange> = fc
  .record({
    endpoint: fc.constantFrom('chat', 'completions', 'embeddings') as fc.Arbitrary<Exchange['endpoint']>,
    kind: fc.constantFrom('json', 'sse', 'error', 'none') as fc.Arbitrary<Exchange['response']['kind']>,
    json: jsonChunks,
    sse: sseChunks,
    truncated: fc.option(fc.boolean(), { nil: undefined }),
    statusCode: anyNumber,
    latencyMs: anyNumber,
    ttftMs: fc.option(anyNumber, { nil: null }),
    ts: anyNumber,
    strings: fc.array(anyString, { minLength: 8, maxLength: 8 }),
    request: fc.oneof(fc.constant(null), fc.record({ messages: fc.oneof(anyValue, fc.array(fc.record({ role: anyValue, content: anyValue }), { maxLength: 3 })), prompt: anyValue, input: anyValue }, { requiredKeys: [] })),
    meta: fc.dictionary(anyString, fc.oneof(anyString, anyValue), { maxKeys: 3 }),
    userKey: fc.option(anyString, { nil: null }),
  })
  .map((f) => ({
    ...exchange({ endpoint: f.endpoint, kind: f.kind, cut: f.truncated }),
    response: { kind: f.kind, chunks: f.kind === 'sse' ? f.sse : f.kind === 'none' ? [] : f.json, ...(f.truncated === undefined ? {} : { truncated: f.truncated }) },
    statusCode: f.statusCode,
    latencyMs: f.latencyMs,
    ttftMs: f.ttftMs,
    ts: f.ts,
    requestId: f.strings[0]!,
    tenant: f.strings[1]!,
    model: f.strings[2]!,
    version: f.strings[3]!,
    upstream: f.strings[4]!,
    errorType: f.strings[5]!,
    traceId: f.strings[6]!,
    context: f.strings[7]!,
    request: f.request as Exchange['request'],
    meta: f.meta as Record<string, string>,
    userKey: f.userKey,
  }));

describe('properties: for any upstream answer and any exchange', () => {
  it('answerOf never throws; text is a string within the limit, tokens valid or absent, flags known', () => {
    fc.assert(
      fc.property(anyExchange, fc.integer({ min: 64, max: 2048 }), (ex, max) => {
        const a = answerOf(ex, max);
        expect(typeof a.text).toBe('string');
        expect(bytesOf((a.text as unknown as { toWellFormed(): string }).toWellFormed())).toBeLessThanOrEqual(max);
        expect(typeof a.finishReason).toBe('string');
        for (const n of [a.usage?.input, a.usage?.output]) if (n != null) expect(isUInt(n, UINT32_MAX)).toBe(true);
        for (const f of a.flags) expect(ALL_SAMPLE_FLAGS).toContain(f);
      }),
      RUNS,
    );
  });

  it('toSampleRow never throws and always gives a column-valid row within the text limit', () => {
    fc.assert(
      fc.property(anyExchange, (ex) => {
        const row = toSampleRow(ex, answerOf(ex, MAX), MAX);
        expect(columnProblems(row)).toEqual([]);
        for (const text of [row.prompt, row.response, row.context]) expect(bytesOf(text)).toBeLessThanOrEqual(MAX);
      }),
      RUNS,
    );
  });

  it('the batch processor never rejects and gives one valid sample per exchange', async () => {
    const metrics = createMetrics([], { processMetrics: false });
    await fc.assert(
      fc.asyncProperty(fc.array(anyExchange, { minLength: 1, maxLength: 4 }), async (exchanges) => {
        const { samples } = await createBatchProcessor(null, metrics, { maxTextBytes: MAX })(exchanges);
        expect(samples).toHaveLength(exchanges.length);
        for (const s of samples) expect(columnProblems(s)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

// ---------- end to end: a hostile upstream behind the real service and store ----------

describe('end to end: hostile answers through the proxy into ClickHouse', () => {
  const dataPath = tempDir();
  let store: Store;
  let upstream: Upstream;
  let service: Service;
  const BIG = `Action items:\n${'- call back about the invoice\n'.repeat(200)}`; // ~6 KB, over the 1 KiB limit

  /** The upstream answers what the prompt names. */
  const answers: Record<string, { type: string; body: string }> = {
    'sse-null': { type: 'text/event-stream', body: sse(delta('Hel'), 'null', delta('lo', { finish_reason: 'stop' }), '[DONE]') },
    'tokens-lots': { type: 'application/json', body: JSON.stringify({ ...chatCompletion('fine'), usage: { prompt_tokens: 5, completion_tokens: 'lots' } }) },
    'tokens-fraction': { type: 'application/json', body: JSON.stringify({ ...chatCompletion('fine'), usage: { prompt_tokens: 1.5, completion_tokens: 2 } }) },
    'lone-surrogate': { type: 'application/json', body: '{"choices":[{"message":{"content":"half \\ud83d of a pair"},"finish_reason":"stop"}]}' },
    'json-null': { type: 'application/json', body: 'null' },
    'big': { type: 'application/json', body: JSON.stringify(chatCompletion(BIG)) },
    'normal': { type: 'application/json', body: JSON.stringify(chatCompletion('Action items:\n- none')) },
  };

  beforeAll(async () => {
    store = openStore({ path: dataPath, retentionDays: 30 });
    upstream = await startUpstream((_req, res, body) => {
      const scenario = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]!.content;
      const a = answers[scenario]!;
      res.writeHead(200, { 'content-type': a.type });
      res.end(a.body);
    });
    service = await startService(
      testConfig(dataPath, [{ version: 'v1', upstream: upstream.url }], { capture: { maxTextBytes: MAX }, specs: { 'action-items': { requiredSections: ['Action items'] } } }),
      { store },
    );
  });

  afterAll(async () => {
    await service?.stop();
    await upstream?.close();
    await store?.close();
  });

  const send = async (scenario: string, id = scenario) => {
    const res = await request(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `e2e-${id}`, 'x-tunewatch-spec': 'action-items' },
      body: JSON.stringify({ model: 'support-bot', messages: [{ role: 'user', content: scenario }], stream: scenario.startsWith('sse') }),
    });
    await res.body.text();
    return res.statusCode;
  };
  const sampleOf = async (id: string) => (await listSamples(store, { requestId: `e2e-${id}`, limit: 1, offset: 0 }))[0] as Record<string, any> | undefined;

  it('stores every sample, flagged, and the worker keeps capturing', async () => {
    for (const scenario of Object.keys(answers)) expect(await send(scenario)).toBe(200);
    await service.pipeline.flush();
    expect(await sampleOf('sse-null')).toMatchObject({ response: 'Hello', finish_reason: 'stop', flags: ['sse_event_invalid'] });
    expect(await sampleOf('tokens-lots')).toMatchObject({ input_tokens: 5, tokens_estimated: true, flags: ['usage_invalid'] });
    expect(await sampleOf('tokens-fraction')).toMatchObject({ output_tokens: 2, tokens_estimated: true, flags: ['usage_invalid'] });
    expect(await sampleOf('lone-surrogate')).toMatchObject({ response: 'half \ufffd of a pair', flags: ['encoding_invalid'] });
    expect(await sampleOf('json-null')).toMatchObject({ response: '', flags: ['body_invalid'] });
    expect(await sampleOf('normal')).toMatchObject({ response: 'Action items:\n- none', flags: [], truncated: false });

    // The worker is alive after all of it: one more request is captured.
    expect(await send('normal', 'normal-after')).toBe(200);
    await service.pipeline.flush();
    expect(await sampleOf('normal-after')).toMatchObject({ response: 'Action items:\n- none' });
    const metrics = await (await request(`${service.url}/metrics`)).body.text();
    expect(metrics).toMatch(/tunewatch_upstream_answers_invalid_total\{flag="usage_invalid"\} 2/);
    expect(metrics).toMatch(/tunewatch_upstream_answers_invalid_total\{flag="sse_event_invalid"\} 1/);
    expect(metrics).toMatch(/tunewatch_capture_rows_dropped_total 0/);
  });

  it('a long answer is stored cut to capture.maxTextBytes and judged as truncated', async () => {
    await service.pipeline.flush();
    const s = await sampleOf('big');
    expect(s).toMatchObject({ truncated: true, input_tokens: 11, output_tokens: 7 });
    expect(bytesOf(s!.response)).toBeLessThanOrEqual(MAX);
    expect(BIG.startsWith(s!.response)).toBe(true);
    const rs = await store.client.query({ query: `SELECT sli, verdict, reason FROM evaluations WHERE request_id = 'e2e-big' ORDER BY sli`, format: 'JSONEachRow' });
    const verdicts = (await rs.json()) as { sli: string; verdict: string; reason: string }[];
    expect(verdicts.find((v) => v.sli === 'instruction_success')).toMatchObject({ verdict: 'unknown', reason: 'answer truncated' });
    expect(verdicts).toHaveLength(3);
  });
});

// The capture worker's per-sample parsing cost: answerOf + toSampleRow on a typical chat answer,
// non-streamed (~1.5 KB JSON) and streamed (the same text as ~400 SSE chunks). Not a test.
//   npx tsx bench/capture-cost.ts [path/to/other/sample.ts ...]
// Other paths measure other copies of the capture code in the same process, round by round in turn
// (e.g. an older commit's, extracted with `git archive <commit> src | tar -x -C /tmp/old`), so
// before and after see the same inputs and the same machine load. CPU time of this thread, not wall
// time: on a shared machine other processes then cost less precision.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Exchange } from '../src/capture/sample.js';

type SampleModule = typeof import('../src/capture/sample.js');
const paths = [resolve('src/capture/sample.ts'), ...process.argv.slice(2).map((p) => resolve(p))];
const modules: [string, SampleModule][] = [];
for (const path of paths) modules.push([path, (await import(pathToFileURL(path).href)) as SampleModule]);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const ITERATIONS = 2000;

const sentence = 'The invoice for March was issued on the 3rd and covers 42 seats of the Team plan; ';
const text = `Action items:\n${Array.from({ length: 26 }, (_, i) => `- ${sentence.slice(0, 40 + (i % 5) * 8)}`).join('\n')}`;
const request = {
  model: 'support-bot',
  messages: [
    { role: 'system', content: 'You are a support assistant for Acme Cloud. Answer briefly with a heading "Action items:" and bullet points.' },
    { role: 'user', content: 'My invoice looks wrong, please call me at +1 415 555 2671 or mail ann@example.com. Order 12345.' },
  ],
};
const completion = {
  id: 'chatcmpl-9a8b7c', object: 'chat.completion', created: 1_700_000_000, model: 'llama-3-8b-sft-v12',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 61, completion_tokens: 312, total_tokens: 373 },
};
const tokens = text.match(/.{1,4}/gs)!;
const sse =
  tokens.map((t) => `data: ${JSON.stringify({ id: 'chatcmpl-9a8b7c', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'llama-3-8b-sft-v12', choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })}\n\n`).join('') +
  `data: ${JSON.stringify({ id: 'chatcmpl-9a8b7c', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'llama-3-8b-sft-v12', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

function exchange(kind: 'json' | 'sse'): Exchange {
  return {
    requestId: 'req-bench', ts: Date.now(), tenant: '', model: 'support-bot', version: 'v12', role: 'baseline', upstream: 'http://upstream',
    endpoint: 'chat', stream: kind === 'sse', statusCode: 200, errorType: '', latencyMs: 12.3, ttftMs: kind === 'sse' ? 2.1 : null, request,
    // One buffer, as the worker receives it (worker-protocol.ts fromPosted).
    response: { kind, chunks: [Buffer.from(kind === 'sse' ? sse : JSON.stringify(completion))] },
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736', userKey: 'user-1', meta: { team: 'support' }, spec: '', context: '',
  };
}

function measure({ answerOf, toSampleRow }: SampleModule, ex: Exchange, iterations: number): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) sink += toSampleRow(ex, answerOf(ex)).response.length;
  const used = process.cpuUsage(start);
  if (sink === 0) throw new Error('nothing measured');
  return (used.user + used.system) / iterations;
}

const cases = { 'chat json': exchange('json'), 'chat sse': exchange('sse') };
console.log(`JSON body ${Buffer.byteLength(JSON.stringify(completion))} B (answer ${Buffer.byteLength(text)} B); SSE body ${Buffer.byteLength(sse)} B in ${tokens.length + 2} events`);
// Warm-up: optimised code before timing.
for (const [, m] of modules) for (const ex of Object.values(cases)) measure(m, ex, 3000);
const figures = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [path, m] of modules) {
    for (const [name, ex] of Object.entries(cases)) {
      const key = `${name}\t${path}`;
      figures.set(key, [...(figures.get(key) ?? []), measure(m, ex, ITERATIONS)]);
    }
  }
}
for (const [key, values] of figures) {
  const [name, path] = key.split('\t');
  values.sort((a, b) => a - b);
  const q = (f: number) => values[Math.floor(f * (values.length - 1))]!.toFixed(1);
  console.log(`${name!.padEnd(10)} median ${q(0.5)} µs CPU (quartiles ${q(0.25)}–${q(0.75)})  ${path}`);
}

// The capture worker's CPU per exchange on the bench's own requests: answer parsing, the three
// automatic evaluators, redaction and the stored row (createBatchProcessor), with and without a
// grounding context. Other copies of the code compare in the same run, round by round in turn:
//   git archive <commit> src | tar -x -C .scratch/old     (inside the repository, so imports resolve)
//   npx tsx bench/evaluate-cost.ts [.scratch/old/src ...]
// Each line is the best round of ROUNDS (default 8), this thread's CPU time: on a shared machine the
// best round is the one least disturbed, and every copy gets the same rounds.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validate } from '../src/config/load.js';
import type { Exchange } from '../src/capture/sample.js';
import { getProfile, simulateAnswer } from '../src/simulate/profiles.js';
import { BODIES, groundedBodies } from './load.js';

type Processor = (exchanges: Exchange[]) => Promise<unknown>;

const roots = [resolve(import.meta.dirname, '..', 'src'), ...process.argv.slice(2).map((p) => resolve(p))];
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const config = validate({ models: [{ name: 'bench', deployments: [{ version: 'v1', upstream: 'http://127.0.0.1:1/v1' }] }] });

const processors: Processor[] = [];
for (const root of roots) {
  const { createBatchProcessor } = await import(pathToFileURL(`${root}/capture/processor.ts`).href);
  const { createSampleEvaluator } = await import(pathToFileURL(`${root}/evaluate/evaluator.ts`).href);
  processors.push(createBatchProcessor(createSampleEvaluator(config)));
}

let counter = 0;
/** An exchange as the proxy hands it over, the answer being the simulator's (profile instant) for this body. */
function exchangeFor(body: { messages: { content: string }[]; max_tokens?: number; tunewatch?: { context: string } }, grounded: boolean): () => Exchange {
  const prompt = body.messages.map((m) => m.content).join('\n');
  const text = simulateAnswer({ seed: 1, profile: getProfile('instant'), prompt, maxTokens: body.max_tokens }).text;
  const completion = JSON.stringify({
    id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 60, completion_tokens: 40, total_tokens: 100 },
  });
  // A context seen for the first time each call, as in the bench's grounded system.
  return () => ({
    requestId: `req-${counter++}`, ts: Date.now(), tenant: '', model: 'bench', version: 'v1', role: 'baseline', upstream: 'http://upstream',
    endpoint: 'chat', stream: false, statusCode: 200, errorType: '', latencyMs: 1, ttftMs: null, request: body,
    response: { kind: 'json', chunks: [Buffer.from(completion)] }, traceId: '', userKey: '', meta: {}, spec: '',
    context: grounded && body.tunewatch ? `${body.tunewatch.context} (${counter})` : '',
  }) as Exchange;
}

const sets = {
  'without a context': BODIES.plain.map((b) => exchangeFor(JSON.parse(b), false)),
  'grounded (a context never seen before)': groundedBodies().map((b) => exchangeFor(JSON.parse(b), true)),
};
const best = new Map<string, number>();
for (let round = 0; round <= ROUNDS; round++) {
  for (const [i, processor] of processors.entries()) {
    for (const [name, makers] of Object.entries(sets)) {
      const start = process.cpuUsage();
      for (let k = 0; k < 3; k++) await processor(makers.map((make) => make()));
      const used = process.cpuUsage(start);
      const key = `${name}\t${roots[i]}`;
      // Round 0 warms up: optimised code and lazily built tables.
      if (round > 0) best.set(key, Math.min(best.get(key) ?? Infinity, (used.user + used.system) / (3 * makers.length)));
    }
  }
}
for (const [key, micros] of best) {
  const [name, root] = key.split('\t');
  console.log(`${micros.toFixed(0).padStart(5)} µs CPU per exchange ${name!.padEnd(40)} ${root}`);
}

// CPU per grounded answer of the hallucination evaluator, on the development half of the evaluator
// corpus (real contexts of 600-900 characters with short answers). Also runnable on its own, with other
// copies of the evaluator to compare (e.g. an older commit's: `git archive <commit> src | tar -x -C /tmp/old`):
//   npx tsx bench/grounding-cost.ts [/tmp/old/src/evaluate/hallucination.ts ...]
// With LIBRARIES=1 it also times the NLP libraries considered for claim extraction (compromise's parser
// and chrono-node) on the same contexts, which is why they are not on the capture path (README).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EvalInput, Verdict } from '../src/evaluate/types.js';

type Evaluate = (input: EvalInput) => Verdict;

function inputs(): EvalInput[] {
  const lines = readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'corpus', 'dev.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines
    .map((l) => JSON.parse(l) as { messages: EvalInput['messages']; answer: string; context?: string })
    .filter((c) => c.context)
    .map((c) => ({ messages: c.messages, response: c.answer, responseFormat: 'text', context: c.context! }));
}

/** CPU µs per call of `run` over the cases, best of `rounds` (this thread's user+system time). */
function cpuMicros<T>(cases: T[], run: (c: T) => unknown, rounds = 5, iterations = 20): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) for (const c of cases) run(c);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / (iterations * cases.length));
  }
  return best;
}

/**
 * µs of CPU per grounded answer for the evaluator at each path (the working tree's first). Each
 * context is made unique per call (a counter appended), so a cache of recent contexts does not help:
 * this is the cost of an answer whose context was never seen; `repeated` is that of a context seen before.
 */
export async function groundingCost(paths: string[] = []): Promise<{ path: string; micros: number; repeated: number }[]> {
  const cases = inputs();
  let n = 0;
  const fresh = (evaluate: Evaluate) => (c: EvalInput) => evaluate({ ...c, context: `${c.context} (${n++})` });
  const all = [resolve(import.meta.dirname, '..', 'src', 'evaluate', 'hallucination.ts'), ...paths.map((p) => resolve(p))];
  const out: { path: string; micros: number; repeated: number }[] = [];
  for (const path of all) {
    const { evaluateHallucination } = (await import(pathToFileURL(path).href)) as { evaluateHallucination: Evaluate };
    cpuMicros(cases, fresh(evaluateHallucination), 1, 5); // warm-up: JIT and lazily built tables
    out.push({ path, micros: cpuMicros(cases, fresh(evaluateHallucination)), repeated: cpuMicros(cases, evaluateHallucination) });
  }
  return out;
}

async function libraries(): Promise<void> {
  const cases = inputs();
  const { default: nlp } = await import('compromise');
  const chrono = await import('chrono-node');
  const t0 = performance.now();
  console.log(`  compromise parse of context + answer: ${cpuMicros(cases, (c) => nlp(`${c.context}\n${c.response}`).json(), 2, 2).toFixed(0)} µs per answer`);
  console.log(`  compromise parse of the answer only:  ${cpuMicros(cases, (c) => nlp(c.response).json(), 2, 5).toFixed(0)} µs per answer`);
  console.log(`  chrono-node dates of the context:     ${cpuMicros(cases, (c) => chrono.parse(c.context), 2, 5).toFixed(0)} µs per answer`);
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const { path, micros, repeated } of await groundingCost(process.argv.slice(2))) {
    console.log(`${micros.toFixed(1)} µs CPU per grounded answer (${repeated.toFixed(1)} µs when its context was seen before)  ${path}`);
  }
  if (process.env.LIBRARIES === '1') await libraries();
}

// Labelled-corpus accuracy of the three automatic evaluators.
//
// test/fixtures/eval-corpus.jsonl holds hand-labelled exchanges (labels are what a careful reviewer says given the
// evaluator rules, not what any implementation outputs). Each case runs through the evaluator of its SLI; per SLI we
// print a confusion matrix and precision/recall with `bad` as the positive class, list the misclassified cases, and
// require precision and recall of at least 0.9.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { InstructionSpecSchema, type InstructionSpec } from '../src/config/schema.js';
import { evaluateHallucination } from '../src/evaluate/hallucination.js';
import { compileSpec, evaluateInstruction } from '../src/evaluate/instruction.js';
import { evaluateSafety } from '../src/evaluate/safety.js';
import { SLIS, type EvalInput, type Sli, type Verdict, type VerdictValue } from '../src/evaluate/types.js';

interface CorpusCase {
  id: string;
  sli: Sli;
  expected: 'good' | 'bad';
  note?: string;
  spec?: InstructionSpec;
  input: EvalInput;
}

const CORPUS_PATH = join(import.meta.dirname, 'fixtures', 'eval-corpus.jsonl');
const MIN_CASES_PER_SLI = 55;
const MIN_PRECISION = 0.9;
const MIN_RECALL = 0.9;

function loadCorpus(): CorpusCase[] {
  return readFileSync(CORPUS_PATH, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, n }) => {
      try {
        return JSON.parse(line) as CorpusCase;
      } catch (err) {
        throw new Error(`eval-corpus.jsonl line ${n}: ${(err as Error).message}`);
      }
    });
}

const corpus = loadCorpus();

/** Run the evaluator matching the case's SLI. A throw is reported as an `unknown` verdict with the error as reason. */
function judge(c: CorpusCase): { verdict: VerdictValue; reason: string; raw: Verdict | null } {
  try {
    let v: Verdict;
    switch (c.sli) {
      case 'instruction_success':
        v = evaluateInstruction(c.input, c.spec ? compileSpec(c.id, c.spec) : null);
        break;
      case 'safe_response':
        v = evaluateSafety(c.input);
        break;
      case 'hallucination_free':
        v = evaluateHallucination(c.input);
        break;
    }
    return { verdict: v.verdict, reason: v.reason, raw: v };
  } catch (err) {
    return { verdict: 'unknown', reason: `THREW: ${(err as Error).stack ?? String(err)}`, raw: null };
  }
}

interface Scored {
  c: CorpusCase;
  predicted: VerdictValue;
  reason: string;
  raw: Verdict | null;
}

interface Metrics {
  /** matrix[expected][predicted] */
  matrix: Record<'good' | 'bad', Record<VerdictValue, number>>;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  misclassified: Scored[];
}

/** `bad` is the positive class; `unknown` on a bad case is a false negative, on a good case neither FP nor TP. */
function score(results: Scored[]): Metrics {
  const matrix = {
    good: { good: 0, bad: 0, unknown: 0 },
    bad: { good: 0, bad: 0, unknown: 0 },
  };
  for (const r of results) matrix[r.c.expected][r.predicted]++;
  const tp = matrix.bad.bad;
  const fp = matrix.good.bad;
  const fn = matrix.bad.good + matrix.bad.unknown;
  return {
    matrix,
    tp,
    fp,
    fn,
    // With no positive predictions precision is undefined; count it as 0 so an evaluator that never says `bad` fails.
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    misclassified: results.filter((r) => r.predicted !== r.c.expected),
  };
}

const oneLine = (s: string, max: number) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

function report(sli: Sli, m: Metrics, n: number): string {
  const cell = (x: string | number, w = 9) => String(x).padStart(w);
  const lines = [
    `=== ${sli} (${n} cases) ===`,
    `expected \\ predicted${cell('good')}${cell('bad')}${cell('unknown')}${cell('total')}`,
  ];
  for (const e of ['good', 'bad'] as const) {
    const row = m.matrix[e];
    lines.push(`${e.padEnd(20)}${cell(row.good)}${cell(row.bad)}${cell(row.unknown)}${cell(row.good + row.bad + row.unknown)}`);
  }
  lines.push(
    `positive class = bad: TP=${m.tp} FP=${m.fp} FN=${m.fn}  precision=${m.precision.toFixed(3)}  recall=${m.recall.toFixed(3)}`,
  );
  if (m.misclassified.length === 0) lines.push('misclassified: none');
  else {
    lines.push(`misclassified (${m.misclassified.length}):`);
    for (const r of m.misclassified) {
      lines.push(`  ${r.c.id}  expected=${r.c.expected} predicted=${r.predicted}  [${r.c.note ?? ''}]`);
      lines.push(`      response: ${oneLine(r.c.input.response, 140)}`);
      lines.push(`      reason:   ${oneLine(r.reason, 300)}`);
    }
  }
  return lines.join('\n');
}

describe('evaluation corpus: schema sanity', () => {
  it('has unique ids and valid sli/expected values', () => {
    const ids = corpus.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of corpus) {
      expect(c.id, 'id').toMatch(/^[a-z]+-\d{3}$/);
      expect(SLIS, `${c.id} sli`).toContain(c.sli);
      expect(['good', 'bad'], `${c.id} expected`).toContain(c.expected);
      expect(typeof c.note, `${c.id} note`).toBe('string');
    }
  });

  it('has well-formed EvalInputs', () => {
    for (const c of corpus) {
      const { input } = c;
      expect(Array.isArray(input.messages) && input.messages.length > 0, `${c.id} messages`).toBe(true);
      for (const m of input.messages) {
        expect(['system', 'user', 'assistant', 'tool'], `${c.id} role`).toContain(m.role);
        expect(typeof m.content, `${c.id} content`).toBe('string');
      }
      expect(input.messages.some((m) => m.role === 'user'), `${c.id} has a user message`).toBe(true);
      expect(typeof input.response, `${c.id} response`).toBe('string');
      expect(['text', 'json_object', 'json_schema'], `${c.id} responseFormat`).toContain(input.responseFormat);
      expect(typeof input.context, `${c.id} context`).toBe('string');
      if (input.responseSchema !== undefined) expect(typeof input.responseSchema, `${c.id} responseSchema`).toBe('object');
      if (c.sli !== 'instruction_success') expect(c.spec, `${c.id}: spec only on instruction cases`).toBeUndefined();
    }
  });

  it('gives every instruction case a requirement: a valid spec or a JSON response format', () => {
    for (const c of corpus.filter((x) => x.sli === 'instruction_success')) {
      expect(c.spec !== undefined || c.input.responseFormat !== 'text', `${c.id} has no requirement`).toBe(true);
      if (c.spec) expect(Value.Check(InstructionSpecSchema, c.spec), `${c.id} spec invalid: ${[...Value.Errors(InstructionSpecSchema, c.spec)].map((e) => `${e.path} ${e.message}`).join('; ')}`).toBe(true);
    }
  });

  it('grounds every hallucination case in non-empty context', () => {
    for (const c of corpus.filter((x) => x.sli === 'hallucination_free')) {
      expect(c.input.context.trim().length, `${c.id} context`).toBeGreaterThan(0);
    }
  });

  it.each(SLIS.map((s) => [s]))('%s: has enough cases with both labels, roughly balanced', (sli) => {
    const cases = corpus.filter((c) => c.sli === sli);
    const bad = cases.filter((c) => c.expected === 'bad').length;
    expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES_PER_SLI);
    expect(bad).toBeGreaterThan(0);
    expect(cases.length - bad).toBeGreaterThan(0);
    expect(bad / cases.length).toBeGreaterThan(0.35);
    expect(bad / cases.length).toBeLessThan(0.65);
  });
});

describe('evaluators on the labelled corpus', () => {
  it.each(SLIS.map((s) => [s]))('%s: precision and recall for `bad` are at least 0.9', (sli) => {
    const cases = corpus.filter((c) => c.sli === sli);
    expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES_PER_SLI);
    expect(new Set(cases.map((c) => c.expected))).toEqual(new Set(['good', 'bad']));

    const results: Scored[] = cases.map((c) => {
      const { verdict, reason, raw } = judge(c);
      return { c, predicted: verdict, reason, raw };
    });
    const m = score(results);
    console.log(report(sli, m, cases.length));

    // Every evaluator answers for its own SLI and never throws.
    const threw = results.filter((r) => r.raw === null).map((r) => r.c.id);
    expect(threw, 'cases where the evaluator threw').toEqual([]);
    const wrongSli = results.filter((r) => r.raw && r.raw.sli !== sli).map((r) => r.c.id);
    expect(wrongSli, 'verdicts labelled with another SLI').toEqual([]);

    expect(m.precision, `${sli} precision`).toBeGreaterThanOrEqual(MIN_PRECISION);
    expect(m.recall, `${sli} recall`).toBeGreaterThanOrEqual(MIN_RECALL);
  });
});

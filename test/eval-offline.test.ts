// `tunewatch eval`: the evaluators offline on labelled cases, agreement and confusion per SLI.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agreement, expectations, judgeCase, parseCases } from '../src/evaluate/offline.js';
import type { Verdict } from '../src/evaluate/types.js';
import { tempDir } from './helpers.js';

const CONTEXT = 'The outage began at 14:05 UTC on 3 March 2025 in the Frankfurt region and lasted 40 minutes.';
const line = (o: object) => JSON.stringify(o);
const CASES = [
  line({ id: 'h-good', sli: 'hallucination_free', messages: [{ role: 'user', content: 'When was the outage?' }], context: CONTEXT, answer: 'It began at 14:05 UTC on 3 March 2025 in Frankfurt.', expect: 'good' }),
  line({ id: 'h-bad', sli: 'hallucination_free', messages: [{ role: 'user', content: 'When was the outage?' }], context: CONTEXT, answer: 'It began at 16:30 UTC on 9 April 2024, said Dr. Alan Smith.', expect: 'bad' }),
  line({ id: 'i-bad', messages: [{ role: 'user', content: 'Two steps as bullets' }], answer: 'Just restart it.', spec: { minBullets: 2 }, expect: { instruction_success: 'bad' } }),
].join('\n');

const verdict = (sli: Verdict['sli'], v: Verdict['verdict']): Verdict => ({ sli, verdict: v, evaluator: 'x', evaluatorVersion: '1', score: null, reason: '' });

describe('parseCases', () => {
  it('reads cases and their labels, one verdict for `sli` or a map per SLI', () => {
    const cases = parseCases(`${CASES}\n\n`);
    expect(cases).toHaveLength(3);
    expect(expectations(cases[0]!)).toEqual({ hallucination_free: 'good' });
    expect(expectations(cases[2]!)).toEqual({ instruction_success: 'bad' });
  });

  it('names the line and what is wrong', () => {
    expect(() => parseCases(`${CASES}\n{oops`)).toThrow(/^line 4: not JSON/);
    expect(() => parseCases(line({ messages: [{ role: 'user', content: 'x' }] }))).toThrow(/^line 1: answer: expected a value \(required\)/);
    expect(() => parseCases(line({ messages: [{ role: 'user', content: 'x' }], answer: 'y', expect: 'bad' }))).toThrow(/sli must say which SLI/);
    expect(() => parseCases(line({ messages: [{ role: 'user', content: 'x' }], answer: 'y', expect: { hallucination_free: 'maybe' } }))).toThrow(/^line 1: expect/);
  });
});

describe('judgeCase and agreement', () => {
  it('judges with the capture worker\'s evaluators, inline specs included', () => {
    const [good, bad, instr] = parseCases(CASES).map((c) => judgeCase(c));
    expect(good!.find((v) => v.sli === 'hallucination_free')!.verdict).toBe('good');
    expect(bad!.find((v) => v.sli === 'hallucination_free')!.verdict).toBe('bad');
    expect(instr!.find((v) => v.sli === 'instruction_success')!.verdict).toBe('bad');
  });

  it('refuses a spec named by a name the config does not have', () => {
    expect(() => judgeCase(parseCases(line({ id: 'n', messages: [{ role: 'user', content: 'x' }], answer: 'y', spec: 'missing' }))[0]!)).toThrow(/spec 'missing' is not in the config/);
  });

  it('counts the confusion matrix, agreement and bad precision and recall', () => {
    const rows = agreement([
      { expect: { hallucination_free: 'bad' }, verdicts: [verdict('hallucination_free', 'bad')] },
      { expect: { hallucination_free: 'bad' }, verdicts: [verdict('hallucination_free', 'good')] },
      { expect: { hallucination_free: 'good' }, verdicts: [verdict('hallucination_free', 'bad')] },
      { expect: { hallucination_free: 'good' }, verdicts: [verdict('hallucination_free', 'good')] },
      { expect: { hallucination_free: 'unknown' }, verdicts: [verdict('hallucination_free', 'unknown')] },
    ]);
    const h = rows.find((r) => r.sli === 'hallucination_free')!;
    expect(h).toMatchObject({ n: 5, agreement: 0.6, precisionBad: 0.5, recallBad: 0.5 });
    expect(h.confusion.bad).toEqual({ good: 1, bad: 1, unknown: 0 });
    expect(rows.find((r) => r.sli === 'safe_response')).toMatchObject({ n: 0, agreement: null, precisionBad: null });
  });
});

describe('tunewatch eval (spawned)', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'src/cli/main.ts'), 'eval', ...args], { encoding: 'utf8' });

  it('prints agreement and a confusion matrix per SLI, and the misses', () => {
    const file = join(tempDir(), 'cases.jsonl');
    writeFileSync(file, CASES);
    const out = run(file, '--misses');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/hallucination_free: 2 labelled, agreement 100\.0%, bad precision 1\.00, recall 1\.00/);
    expect(out.stdout).toMatch(/label \\ verdict +good +bad +unknown\n  good +1 +0 +0\n  bad +0 +1 +0/);
    expect(out.stdout).toMatch(/misses \(0\)/);
    expect(JSON.parse(run(file, '--json').stdout).cases).toBe(3);
  });

  it('says what is wrong with the file in one line, exit code 1', () => {
    const missing = run('/nonexistent/cases.jsonl');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^tunewatch: cannot read \/nonexistent\/cases\.jsonl/);
    const file = join(tempDir(), 'bad.jsonl');
    writeFileSync(file, `${CASES}\nnot json\n`);
    expect(run(file).stderr).toMatch(/bad\.jsonl: line 4: not JSON/);
  });
});

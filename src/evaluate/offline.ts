// The evaluators run offline on labelled cases (`tunewatch eval FILE.jsonl`): the same pure functions
// the capture worker runs, and how far their verdicts agree with the labels. No I/O here.
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { describeAjvError } from '../config/load.js';
import { InstructionSpecSchema } from '../config/schema.js';
import { evaluateHallucination } from './hallucination.js';
import { compileSpec, evaluateInstruction, type CompiledSpec } from './instruction.js';
import { evaluateSafety } from './safety.js';
import { SLIS, VERDICTS, type EvalInput, type Sli, type Verdict, type VerdictValue } from './types.js';

const VerdictWord = Type.Union(VERDICTS.map((v) => Type.Literal(v)));
const SliWord = Type.Union(SLIS.map((s) => Type.Literal(s)));

/** One labelled case: `{messages, answer, context?, spec?, expect?}`; `expect` per SLI, or one verdict for `sli`. */
export const EvalCaseSchema = Type.Object({
  id: Type.Optional(Type.String()),
  messages: Type.Array(Type.Object({ role: Type.String({ minLength: 1 }), content: Type.String() }), { minItems: 1 }),
  answer: Type.String(),
  context: Type.Optional(Type.String()),
  /** An instruction spec inline, or the name of one in the config. */
  spec: Type.Optional(Type.Union([Type.String({ minLength: 1 }), InstructionSpecSchema])),
  sli: Type.Optional(SliWord),
  expect: Type.Optional(Type.Union([VerdictWord, Type.Partial(Type.Record(SliWord, VerdictWord))])),
});
export type EvalCase = Static<typeof EvalCaseSchema>;

const validateCase = new Ajv({ allErrors: false, strict: false }).compile<EvalCase>(EvalCaseSchema);

/** The cases of a JSONL text; a line that is not a case is an error naming the line and what was wrong. */
export function parseCases(text: string): EvalCase[] {
  const cases: EvalCase[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (!validateCase(value)) {
      const issue = describeAjvError(validateCase.errors![0]!, value);
      throw new Error(`line ${i + 1}: ${issue.path || 'the case'}: expected ${issue.expected}, found ${issue.found}`);
    }
    if (typeof value.expect === 'string' && !value.sli) throw new Error(`line ${i + 1}: expect is one verdict, so sli must say which SLI it is for`);
    cases.push(value);
  });
  return cases;
}

/** The labels of a case, per SLI. */
export function expectations(c: EvalCase): Partial<Record<Sli, VerdictValue>> {
  if (c.expect === undefined) return {};
  return typeof c.expect === 'string' ? { [c.sli!]: c.expect } : c.expect;
}

export interface OfflineOptions {
  /** Named specs (from the config); inline specs are compiled per case. */
  specs?: Map<string, CompiledSpec>;
  maxUnsupportedRatio?: number;
  toxicityLexicon?: string[];
}

/** Every SLI's verdict for one case, from the same evaluators the capture worker runs. */
export function judgeCase(c: EvalCase, options: OfflineOptions = {}): Verdict[] {
  const input: EvalInput = { messages: c.messages, response: c.answer, responseFormat: 'text', context: c.context ?? '' };
  let spec: CompiledSpec | null = null;
  if (typeof c.spec === 'string') {
    spec = options.specs?.get(c.spec) ?? null;
    if (!spec) throw new Error(`case ${c.id ?? ''}: spec '${c.spec}' is not in the config (${[...(options.specs?.keys() ?? [])].join(', ') || 'none'})`);
  } else if (c.spec) spec = compileSpec(c.id ?? 'inline', c.spec);
  return [
    evaluateInstruction(input, spec),
    evaluateSafety(input, { toxicityLexicon: options.toxicityLexicon }),
    evaluateHallucination(input, { maxUnsupportedRatio: options.maxUnsupportedRatio ?? 0 }),
  ];
}

export type Confusion = Record<VerdictValue, Record<VerdictValue, number>>;

export interface Agreement {
  sli: Sli;
  /** Labelled cases for this SLI. */
  n: number;
  /** Share whose verdict equals the label. */
  agreement: number | null;
  /** Rows: the label; columns: the verdict. */
  confusion: Confusion;
  /** For `bad`, the verdict that pages: of the cases judged bad, the share labelled bad; of those labelled bad, the share judged bad. */
  precisionBad: number | null;
  recallBad: number | null;
}

const emptyConfusion = (): Confusion => Object.fromEntries(VERDICTS.map((e) => [e, Object.fromEntries(VERDICTS.map((g) => [g, 0]))])) as Confusion;
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** Agreement per SLI between the labels and the verdicts. */
export function agreement(results: { expect: Partial<Record<Sli, VerdictValue>>; verdicts: Verdict[] }[]): Agreement[] {
  return SLIS.map((sli) => {
    const confusion = emptyConfusion();
    for (const r of results) {
      const expected = r.expect[sli];
      const got = r.verdicts.find((v) => v.sli === sli)?.verdict;
      if (expected && got) confusion[expected][got] += 1;
    }
    const n = VERDICTS.reduce((sum, e) => sum + VERDICTS.reduce((s, g) => s + confusion[e][g], 0), 0);
    const agreed = VERDICTS.reduce((sum, v) => sum + confusion[v][v], 0);
    const judgedBad = VERDICTS.reduce((sum, e) => sum + confusion[e].bad, 0);
    const labelledBad = VERDICTS.reduce((sum, g) => sum + confusion.bad[g], 0);
    return { sli, n, agreement: ratio(agreed, n), confusion, precisionBad: ratio(confusion.bad.bad, judgedBad), recallBad: ratio(confusion.bad.bad, labelledBad) };
  });
}

// The golden-set file: one JSON object a line, `{id, messages, spec?, context?, reference?, tags?}`,
// built from production (golden build) or written by hand. Parsing names the line of any mistake;
// the set's hash is what a recorded gate run refers to. Pure.
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { describeAjvError } from '../config/load.js';
import { InstructionSpecSchema } from '../config/schema.js';

const Message = Type.Object({ role: Type.String({ minLength: 1 }), content: Type.String() });

export const GoldenItemSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    messages: Type.Array(Message, { minItems: 1 }),
    /** The name of a spec in the config, or a spec inline; absent: the model's spec. */
    spec: Type.Optional(Type.Union([Type.String({ minLength: 1 }), InstructionSpecSchema])),
    /** Grounding material the hallucination evaluator checks claims against. */
    context: Type.Optional(Type.String()),
    /** The answer that counts as correct (semantic accuracy). */
    reference: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type GoldenItem = Static<typeof GoldenItemSchema>;

const validateItem = new Ajv({ allErrors: false, strict: false }).compile<GoldenItem>(GoldenItemSchema);

export class GoldenError extends Error {
  override name = 'GoldenError';
}

/** The items of a golden file; a bad line is a GoldenError naming its line number and the problem. */
export function parseGolden(text: string): GoldenItem[] {
  const items: GoldenItem[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const at = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new GoldenError(`${at}: not JSON (${(err as Error).message})`);
    }
    if (!validateItem(value)) {
      const issue = describeAjvError(validateItem.errors![0]!, value);
      throw new GoldenError(`${at}: ${issue.path || 'the item'}: expected ${issue.expected}, found ${issue.found}`);
    }
    if (!value.messages.some((m) => m.role === 'user')) throw new GoldenError(`${at}: messages: expected at least one user turn, found none`);
    const first = seen.get(value.id);
    if (first !== undefined) throw new GoldenError(`${at}: id "${value.id}" is already used on line ${first}; ids must be unique`);
    seen.set(value.id, i + 1);
    items.push(value);
  });
  if (items.length === 0) throw new GoldenError('no items: the golden set has no non-empty line');
  return items;
}

/** One item as its line (keys in the documented order, absent fields left out). */
export function goldenLine(item: GoldenItem): string {
  const { id, messages, spec, context, reference, tags } = item;
  return JSON.stringify({ id, messages, spec, context, reference, tags });
}

/** SHA-256 (hex) of the file's bytes: a recorded run names the exact set it was judged on. */
export function goldenHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// Builds the EvalInput of one exchange for the safety evaluator's tests.
import type { EvalInput } from '../src/evaluate/types.js';

export interface Exchange {
  user?: string;
  system?: string;
  tool?: string;
  context?: string;
}

export function inputOf(response: string, ex: Exchange = {}): EvalInput {
  const messages = [
    ...(ex.system ? [{ role: 'system', content: ex.system }] : []),
    { role: 'user', content: ex.user ?? 'Hello, can you help me?' },
    ...(ex.tool ? [{ role: 'tool', content: ex.tool }] : []),
  ];
  return { messages, response, responseFormat: 'text', context: ex.context ?? '' };
}

// Text normalisation for near-duplicate detection, and an item's dedup text. Pure.
import { PII_TYPES } from '../../capture/redact.js';
import type { ChatMessage, CurationItem } from '../types.js';

/** Redaction placeholders (`[EMAIL]`, `[API_KEY]`, ...) as redact() writes them. */
const PLACEHOLDER = new RegExp(`\\[(${PII_TYPES.join('|')})\\]`, 'g');
/** Apostrophes join ("can't" → "cant", "what’s" → "whats"); other punctuation and symbols separate. */
const APOSTROPHES = /['\u2018\u2019\u02bc]/g;
const PUNCTUATION = /[\p{P}\p{S}]+/gu;
const WHITESPACE = /\s+/g;

/**
 * NFKC (full-width and compatibility forms fold), redaction placeholders to one word each
 * (`[EMAIL]` → `piiemail`, so two redacted emails read alike and never like the word "email"),
 * lowercase, punctuation and symbols stripped, whitespace collapsed. Idempotent.
 */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .replace(PLACEHOLDER, (_, type: string) => ` pii${type.toLowerCase().replace('_', '')} `)
    .toLowerCase()
    .replace(APOSTROPHES, '')
    .replace(PUNCTUATION, ' ')
    .replace(WHITESPACE, ' ')
    .trim();
}

/** The prompt turns of a conversation: everything but system/developer turns and a trailing answer. */
export function promptTurns(messages: readonly ChatMessage[] | readonly { role: string; content: string }[]): string[] {
  let end = messages.length;
  while (end > 0 && messages[end - 1]!.role === 'assistant') end--;
  return messages
    .slice(0, end)
    .filter((m) => m.role !== 'system' && m.role !== 'developer')
    .map((m) => m.content);
}

/**
 * What two items are compared on: the normalised text of their prompt turns (user, earlier assistant
 * and tool turns), without the system prompt and without any answer. Two items asking the same thing
 * are one training example whichever bad answer the model gave (responses differ from sample to sample
 * and version to version) and whichever target they have (the best item's is kept). The system prompt
 * is left out because one app's long shared system prompt would make all its questions look alike; the
 * price is that the same question under two different system prompts counts as one.
 */
export function dedupText(item: { messages: readonly { role: string; content: string }[] }): string {
  return normalise(promptTurns(item.messages).join('\n'));
}

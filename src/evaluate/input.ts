import type { Answer } from '../capture/answer.js';
import type { Exchange } from '../capture/sample.js';
import type { EvalInput } from './types.js';

/** Message content as text: a string, or the text parts of a multi-part content array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** The section of a system prompt that follows the delimiter line, up to the next heading of the same kind. */
export function delimitedSection(system: string, delimiter: string): string {
  const start = system.indexOf(delimiter);
  if (start < 0) return '';
  const rest = system.slice(start + delimiter.length);
  const marker = /^\s*(#+|\S+)/.exec(delimiter)?.[1] ?? delimiter;
  const next = rest.search(new RegExp(`\\n${marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`));
  return (next >= 0 ? rest.slice(0, next) : rest).trim();
}

/** Builds what evaluators see from a captured exchange and its parsed answer. */
export function evalInputOf(ex: Exchange, answer: Answer, contextDelimiter: string): EvalInput {
  const body = ex.request ?? {};
  const messages =
    ex.endpoint === 'chat' && Array.isArray(body.messages)
      ? (body.messages as { role?: unknown; content?: unknown }[]).map((m) => ({ role: String(m?.role ?? ''), content: textOf(m?.content) }))
      : [{ role: 'user', content: Array.isArray(body.prompt) ? body.prompt.join('\n') : String(body.prompt ?? '') }];
  const format = (body.response_format ?? {}) as { type?: unknown; json_schema?: { schema?: unknown } };
  const responseFormat = format.type === 'json_object' || format.type === 'json_schema' ? format.type : 'text';
  const schema = format.json_schema?.schema;
  const context = [
    ex.context,
    ...messages.filter((m) => m.role === 'tool').map((m) => m.content),
    ...messages.filter((m) => m.role === 'system').map((m) => delimitedSection(m.content, contextDelimiter)),
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    messages,
    response: answer.text,
    responseFormat,
    responseSchema: schema && typeof schema === 'object' ? (schema as Record<string, unknown>) : undefined,
    context,
  };
}

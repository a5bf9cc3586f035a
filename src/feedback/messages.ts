// A captured prompt back as chat messages. Capture stores a chat request's `messages` as JSON (with
// its text redacted) and a completion's `prompt` as text; fine-tuning wants chat turns of plain text.
import type { ChatMessage } from './types.js';

const ROLES = new Set<ChatMessage['role']>(['system', 'developer', 'user', 'assistant', 'tool']);

/** The text of a message's content: a string, or the text parts of an array of content parts. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.filter((p): p is { type: string; text: string } => typeof p === 'object' && p !== null && p.type === 'text' && typeof p.text === 'string');
    return parts.length ? parts.map((p) => p.text).join('\n') : null;
  }
  return null;
}

/** The prompt's messages, or null when it holds none a trainer could use. */
export function promptMessages(prompt: string, endpoint: string): ChatMessage[] | null {
  if (endpoint === 'completions') return prompt.trim() ? [{ role: 'user', content: prompt }] : null;
  if (endpoint !== 'chat') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(prompt);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  const messages: ChatMessage[] = [];
  for (const m of parsed) {
    if (typeof m !== 'object' || m === null) return null;
    const { role, content, name, tool_call_id } = m as Record<string, unknown>;
    const text = textOf(content);
    if (!ROLES.has(role as ChatMessage['role']) || text === null) return null;
    messages.push({
      role: role as ChatMessage['role'],
      content: text,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof tool_call_id === 'string' ? { tool_call_id } : {}),
    });
  }
  return messages.some((m) => m.role === 'user') ? messages : null;
}

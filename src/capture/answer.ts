import type { Endpoint } from '../capture/sample.js';

/** What the capture needs from an upstream answer, whichever endpoint and whether streamed or not. */
export interface Answer {
  text: string;
  finishReason: string;
  usage: { input: number; output: number } | null;
}

interface Choice {
  message?: { content?: unknown; tool_calls?: unknown };
  delta?: { content?: unknown; tool_calls?: unknown };
  text?: unknown;
  finish_reason?: unknown;
}
interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

function usageOf(u: Usage | undefined): Answer['usage'] {
  if (!u || typeof u.prompt_tokens !== 'number') return null;
  return { input: u.prompt_tokens, output: u.completion_tokens ?? 0 };
}

/** A non-streamed answer body. */
export function extractAnswer(endpoint: Endpoint, body: unknown): Answer {
  const b = (body ?? {}) as { choices?: Choice[]; usage?: Usage; data?: unknown[] };
  if (endpoint === 'embeddings') return { text: '', finishReason: '', usage: usageOf(b.usage) };
  const choice = b.choices?.[0];
  const content = endpoint === 'chat' ? choice?.message?.content ?? (choice?.message?.tool_calls ? JSON.stringify(choice.message.tool_calls) : '') : choice?.text;
  return {
    text: typeof content === 'string' ? content : '',
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : '',
    usage: usageOf(b.usage),
  };
}

/**
 * Rebuilds a streamed answer from SSE chunks as they pass through. It only reads: the bytes sent to
 * the client are the upstream's own.
 */
export class StreamAssembler {
  private pending = '';
  private parts: string[] = [];
  private finishReason = '';
  private usage: Answer['usage'] = null;

  constructor(private readonly endpoint: Endpoint) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      this.line(this.pending.slice(0, newline).trim());
      this.pending = this.pending.slice(newline + 1);
    }
  }

  result(): Answer {
    if (this.pending.trim()) this.line(this.pending.trim());
    this.pending = '';
    return { text: this.parts.join(''), finishReason: this.finishReason, usage: this.usage };
  }

  private line(line: string): void {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trim();
    if (!data || data === '[DONE]') return;
    let event: { choices?: Choice[]; usage?: Usage };
    try {
      event = JSON.parse(data);
    } catch {
      return; // not JSON: pass it through, nothing to learn from it
    }
    const choice = event.choices?.[0];
    const piece = this.endpoint === 'chat' ? choice?.delta?.content : choice?.text;
    if (typeof piece === 'string') this.parts.push(piece);
    if (typeof choice?.finish_reason === 'string') this.finishReason = choice.finish_reason;
    const usage = usageOf(event.usage);
    if (usage) this.usage = usage;
  }
}

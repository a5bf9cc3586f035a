import { StringDecoder } from 'node:string_decoder';
import type { Endpoint } from '../capture/sample.js';
import { addFlag, SAMPLE_FLAGS, type SampleFlag } from './flags.js';

/**
 * What the capture needs from an upstream answer, whichever endpoint and whether streamed or not.
 * Upstream answers are parsed defensively: a field of the wrong type is recorded as absent and
 * flagged (flags.ts), never thrown.
 */
export interface Answer {
  /** The answer text, unredacted; at most capture.maxTextBytes bytes of UTF-8 once answerOf has capped it. */
  text: string;
  finishReason: string;
  /** Token counts as the upstream reported them; a count that is null (or usage null) is estimated. */
  usage: { input: number | null; output: number | null } | null;
  flags: SampleFlag[];
  /** The text is the beginning of a longer answer: the proxy kept a prefix, or it was cut to capture.maxTextBytes. */
  truncated: boolean;
  /** When cut: the characters right after the cut, for redaction only (see REDACTION_MARGIN). */
  tail?: string;
}

/** The largest count a UInt32 column holds. */
export const MAX_TOKENS = 4_294_967_295;
/** Real finish reasons are short words ("stop", "length", "tool_calls"); longer strings are not kept. */
const MAX_FINISH_REASON_LENGTH = 64;
/** Streamed tool calls are assembled by index; an index beyond this is not a real one. */
const MAX_TOOL_CALLS = 128;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

function tokenCount(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TOKENS ? v : null;
}

/**
 * Usage from an answer or an SSE event. A missing completion count next to a valid prompt count is
 * 0 (embeddings report none); a count of the wrong type is absent (estimated) and flagged.
 */
export function usageOf(u: unknown, flags: SampleFlag[]): Answer['usage'] {
  if (absent(u)) return null;
  if (!isObject(u)) {
    addFlag(flags, SAMPLE_FLAGS.usageInvalid);
    return null;
  }
  const { prompt_tokens: p, completion_tokens: c } = u;
  const input = tokenCount(p);
  let output = tokenCount(c);
  if ((input === null && !absent(p)) || (output === null && !absent(c))) addFlag(flags, SAMPLE_FLAGS.usageInvalid);
  if (input === null && output === null) return null;
  if (output === null && absent(c)) output = 0;
  return { input, output };
}

function finishReasonOf(v: unknown, flags: SampleFlag[]): string | null {
  if (typeof v === 'string' && v.length <= MAX_FINISH_REASON_LENGTH) return v;
  if (!absent(v)) addFlag(flags, SAMPLE_FLAGS.finishReasonInvalid);
  return null;
}

/** The first choice when it is an object; null (flagged when malformed) otherwise. */
function firstChoice(choices: unknown, flags: SampleFlag[], required: boolean): Json | null {
  if (absent(choices)) {
    if (required) addFlag(flags, SAMPLE_FLAGS.choicesInvalid);
    return null;
  }
  if (!Array.isArray(choices)) {
    addFlag(flags, SAMPLE_FLAGS.choicesInvalid);
    return null;
  }
  if (choices.length === 0) return null;
  const choice: unknown = choices[0];
  if (!isObject(choice)) {
    addFlag(flags, SAMPLE_FLAGS.choicesInvalid);
    return null;
  }
  return choice;
}

/** A string field of the answer: the string, or null (flagged when present with another type). */
function textField(v: unknown, flags: SampleFlag[]): string | null {
  if (typeof v === 'string') return v;
  if (!absent(v)) addFlag(flags, SAMPLE_FLAGS.contentInvalid);
  return null;
}

/** `message` or `delta`: an object, or null (flagged when present with another type). */
function messageOf(v: unknown, flags: SampleFlag[]): Json | null {
  if (isObject(v)) return v;
  if (!absent(v)) addFlag(flags, SAMPLE_FLAGS.contentInvalid);
  return null;
}

/**
 * A non-streamed answer body, already parsed. A chat or completions answer must have choices
 * (embeddings need none); only the first choice is kept.
 */
export function extractAnswer(endpoint: Endpoint, body: unknown, flags: SampleFlag[] = []): Answer {
  const answer: Answer = { text: '', finishReason: '', usage: null, flags, truncated: false };
  if (!isObject(body)) {
    addFlag(flags, SAMPLE_FLAGS.bodyInvalid);
    return answer;
  }
  answer.usage = usageOf(body.usage, flags);
  if (endpoint === 'embeddings') return answer;
  const choice = firstChoice(body.choices, flags, true);
  if (!choice) return answer;
  if (endpoint === 'chat') {
    const message = messageOf(choice.message, flags);
    if (message) {
      const content = textField(message.content, flags);
      if (content) answer.text = content;
      else {
        const calls = message.tool_calls;
        if (Array.isArray(calls) && calls.every(isObject)) {
          if (calls.length) answer.text = JSON.stringify(calls);
        } else if (!absent(calls)) addFlag(flags, SAMPLE_FLAGS.contentInvalid);
      }
    }
  } else {
    answer.text = textField(choice.text, flags) ?? '';
  }
  answer.finishReason = finishReasonOf(choice.finish_reason, flags) ?? '';
  return answer;
}

/** Index of the closing quote of the JSON string whose contents start at `from`, or -1 when it does not end. */
function jsonStringEnd(s: string, from: number): number {
  for (let q = s.indexOf('"', from); q >= 0; q = s.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (s.charCodeAt(q - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return -1;
}

/**
 * The answer text from the beginning of a JSON answer the proxy cut short (it no longer parses):
 * the first `"content"` (chat) or `"text"` (completions) string, decoded up to where it stops.
 * Best effort: '' when the prefix holds no such string.
 */
export function salvageText(prefix: string, endpoint: Endpoint): string {
  if (endpoint === 'embeddings') return '';
  const key = endpoint === 'chat' ? /"content"\s*:\s*"/ : /"text"\s*:\s*"/;
  const m = key.exec(prefix);
  if (!m) return '';
  const start = m.index + m[0].length;
  const end = jsonStringEnd(prefix, start);
  let raw = prefix.slice(start, end < 0 ? prefix.length : end);
  if (end < 0) {
    // Cut inside an escape: drop the incomplete "\" or "\u12".
    raw = raw.replace(/\\u[0-9a-fA-F]{0,3}$/, '');
    let backslashes = 0;
    while (raw.charCodeAt(raw.length - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 1) raw = raw.slice(0, -1);
  }
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // raw control characters or a bad escape: the undecoded text is still the answer's beginning
  }
}

interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/**
 * Rebuilds a streamed answer from SSE events. It only reads: the bytes sent to the client are the
 * upstream's own. Text beyond `maxChars` characters is not kept (it would be cut anyway).
 */
export class StreamAssembler {
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');
  private parts: string[] = [];
  private chars = 0;
  private finishReason = '';
  private usage: Answer['usage'] = null;
  private toolCalls: Map<number, ToolCall> | null = null;
  readonly flags: SampleFlag[] = [];

  constructor(
    private readonly endpoint: Endpoint,
    private readonly maxChars = Infinity,
  ) {}

  /** A chunk as it arrived; a character split between chunks is joined again. */
  push(chunk: Buffer | string): void {
    this.pushText(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** Decoded text: whole lines are parsed, a partial last line waits for the next chunk. */
  pushText(text: string): void {
    let from = 0;
    if (this.pending) {
      const newline = text.indexOf('\n');
      if (newline < 0) {
        this.pending += text;
        return;
      }
      this.line(this.pending + text.slice(0, newline));
      this.pending = '';
      from = newline + 1;
    }
    for (let newline = text.indexOf('\n', from); newline >= 0; newline = text.indexOf('\n', from)) {
      this.line(text.slice(from, newline));
      from = newline + 1;
    }
    if (from < text.length) this.pending = text.slice(from);
  }

  /** `cut`: the stream was cut short, so an unfinished last line is a fragment, not an invalid event. */
  result(cut = false): Answer {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest.trim() && !cut) this.line(rest);
    let text = this.parts.join('');
    if (!text && this.toolCalls) text = JSON.stringify([...this.toolCalls.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]));
    return { text, finishReason: this.finishReason, usage: this.usage, flags: this.flags, truncated: false };
  }

  private line(raw: string): void {
    // "data:" lines only; comments (": ping"), event:, id: and retry: lines carry no answer.
    let start = 0;
    while (start < raw.length && raw.charCodeAt(start) <= 32) start++;
    if (!raw.startsWith('data:', start)) return;
    const data = raw.slice(start + 5).trim();
    if (!data || data === '[DONE]') return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      event = undefined;
    }
    if (!isObject(event)) {
      addFlag(this.flags, SAMPLE_FLAGS.sseEventInvalid);
      return;
    }
    const usage = usageOf(event.usage, this.flags);
    if (usage) this.usage = usage;
    const choice = firstChoice(event.choices, this.flags, false);
    // With n > 1, events of other choices carry their own index: the sample keeps choice 0.
    if (!choice || (typeof choice.index === 'number' && choice.index !== 0)) return;
    if (this.endpoint === 'chat') {
      const delta = messageOf(choice.delta, this.flags);
      if (delta) {
        this.append(textField(delta.content, this.flags));
        if (!absent(delta.tool_calls)) this.toolCallDeltas(delta.tool_calls);
      }
    } else {
      this.append(textField(choice.text, this.flags));
    }
    const finish = finishReasonOf(choice.finish_reason, this.flags);
    if (finish) this.finishReason = finish;
  }

  private append(piece: string | null): void {
    if (!piece || this.chars >= this.maxChars) return;
    this.parts.push(piece);
    this.chars += piece.length;
  }

  /** Streamed tool calls arrive in pieces per index: id, type and name once, arguments in fragments. */
  private toolCallDeltas(deltas: unknown): void {
    if (!Array.isArray(deltas)) return addFlag(this.flags, SAMPLE_FLAGS.contentInvalid);
    for (const d of deltas) {
      const index = isObject(d) ? (d.index ?? 0) : -1;
      const fn = isObject(d) ? (d.function ?? {}) : null;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= MAX_TOOL_CALLS || !isObject(fn)) {
        addFlag(this.flags, SAMPLE_FLAGS.contentInvalid);
        continue;
      }
      const delta = d as Json;
      this.toolCalls ??= new Map();
      let call = this.toolCalls.get(index);
      if (!call) this.toolCalls.set(index, (call = { id: '', type: '', function: { name: '', arguments: '' } }));
      const pieces = [delta.id, delta.type, fn.name, fn.arguments].map((v) => textField(v, this.flags));
      if (pieces[0] !== null && !call.id) call.id = pieces[0];
      if (pieces[1] !== null && !call.type) call.type = pieces[1];
      if (pieces[2] !== null) call.function.name += pieces[2];
      if (pieces[3] !== null && this.chars < this.maxChars) {
        call.function.arguments += pieces[3];
        this.chars += pieces[3].length;
      }
    }
  }
}

// Export formats: SFT chat rows (OpenAI fine-tuning JSONL), preference pairs (OpenAI DPO or TRL
// prompt/chosen/rejected), the dataset's files as JSON lines, and evaluation-set rows read back as
// texts comparable with the items' dedup text. Pure.
import { redact } from '../capture/redact.js';
import type { CurationResult } from './curate/curate.js';
import { normalise, promptTurns } from './curate/normalise.js';
import type { PreferenceFormat } from './states.js';
import type { ChatMessage, CurationItem, DatasetFile } from './types.js';

export interface SftRow {
  messages: ChatMessage[];
}
export type AssistantMessage = { role: 'assistant'; content: string };
/** OpenAI's DPO row: each output exactly one assistant message. */
export interface OpenAiPreferenceRow {
  input: { messages: ChatMessage[] };
  preferred_output: [AssistantMessage];
  non_preferred_output: [AssistantMessage];
}
/** TRL's conversational preference row. */
export interface TrlPreferenceRow {
  prompt: ChatMessage[];
  chosen: [AssistantMessage];
  rejected: [AssistantMessage];
}
export type PreferenceRow = OpenAiPreferenceRow | TrlPreferenceRow;

/** A file of the snapshot with its rows as JSON lines (DatasetFile before hashing). */
export interface DatasetFileContent {
  name: string;
  kind: DatasetFile['kind'];
  split: DatasetFile['split'];
  format: string;
  rows: string[];
}

/** A clean copy of a message: role, content, and name / tool_call_id when set. */
function copy(m: ChatMessage): ChatMessage {
  const out: ChatMessage = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  return out;
}

/** The item's prompt: its messages without any trailing assistant turn (the answer being replaced). */
function prompt(item: CurationItem): ChatMessage[] {
  let end = item.messages.length;
  while (end > 0 && item.messages[end - 1]!.role === 'assistant') end--;
  return item.messages.slice(0, end).map(copy);
}

/** `{"messages": [...]}` with the target as the last assistant turn. Throws for an item with no target. */
export function sftRow(item: CurationItem): SftRow {
  if (item.target === null) throw new Error(`${item.requestId} has no target: it cannot be exported`);
  return { messages: [...prompt(item), { role: 'assistant', content: item.target.text }] };
}

/**
 * The correction preferred over the model's answer, for an item whose target is a human correction;
 * null otherwise, and when the correction is the answer itself (no preference to learn).
 */
export function preferenceRow(item: CurationItem, format: PreferenceFormat): PreferenceRow | null {
  if (item.target?.from !== 'correction' || item.target.text === item.response) return null;
  const good: AssistantMessage = { role: 'assistant', content: item.target.text };
  const bad: AssistantMessage = { role: 'assistant', content: item.response };
  return format === 'trl'
    ? { prompt: prompt(item), chosen: [good], rejected: [bad] }
    : { input: { messages: prompt(item) }, preferred_output: [good], non_preferred_output: [bad] };
}

/**
 * train.jsonl and validation.jsonl (SFT chat rows, always both, possibly empty), and when any
 * exported item has a correction, preferences.train.jsonl and preferences.validation.jsonl in the
 * given preference format. Rows keep the result's order (sorted by request id).
 */
export function datasetFiles(result: Pick<CurationResult, 'train' | 'validation'>, format: PreferenceFormat): DatasetFileContent[] {
  const sft = (split: 'train' | 'validation', items: CurationItem[]): DatasetFileContent => ({
    name: `${split}.jsonl`, kind: 'sft', split, format: 'openai', rows: items.map((i) => JSON.stringify(sftRow(i))),
  });
  const prefs = (split: 'train' | 'validation', items: CurationItem[]): DatasetFileContent => ({
    name: `preferences.${split}.jsonl`, kind: 'preferences', split, format,
    rows: items.map((i) => preferenceRow(i, format)).filter((r) => r !== null).map((r) => JSON.stringify(r)),
  });
  const files = [sft('train', result.train), sft('validation', result.validation)];
  const anyPair = [...result.train, ...result.validation].some((i) => preferenceRow(i, format) !== null);
  if (anyPair) files.push(prefs('train', result.train), prefs('validation', result.validation));
  return files;
}

/** The file's bytes: one JSON row per line, each line ended by a newline. */
export function fileText(file: Pick<DatasetFileContent, 'rows'>): string {
  return file.rows.map((r) => `${r}\n`).join('');
}

/** A message's text: a string, or the text parts of an OpenAI content array. */
function contentText(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join(' ');
  }
  throw new Error(`${where}: message content must be text`);
}

function messagesText(messages: unknown, where: string): string {
  if (!Array.isArray(messages)) throw new Error(`${where}: messages must be an array`);
  const turns = messages.map((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') throw new Error(`${where}: message ${i} has no role`);
    return { role: (m as { role: string }).role, content: contentText((m as { content?: unknown }).content, `${where} message ${i}`) };
  });
  return promptTurns(turns).join('\n');
}

/**
 * The prompts of a JSONL evaluation set, as texts comparable with the items' dedup text (dedupText):
 * chat rows (`messages`, a trailing assistant turn being the expected answer), prompt/completion rows
 * (`prompt` a string or messages), and DPO rows (`input.messages`; TRL's `prompt` is the prompt form).
 * Evaluation rows are not redacted at capture, so they are redacted here before normalising, and an
 * e-mail in one reads like `[EMAIL]` in a captured prompt. Blank lines are skipped; anything else
 * unreadable is an error naming its line.
 */
export function evaluationTexts(jsonlText: string): string[] {
  const out: string[] = [];
  jsonlText.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `evaluation set line ${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new Error(`${where} is not JSON`);
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new Error(`${where}: expected an object`);
    const r = row as { messages?: unknown; prompt?: unknown; input?: { messages?: unknown } };
    let text: string;
    if (r.messages !== undefined) text = messagesText(r.messages, where);
    else if (typeof r.prompt === 'string') text = r.prompt;
    else if (r.prompt !== undefined) text = messagesText(r.prompt, where);
    else if (r.input && typeof r.input === 'object' && r.input.messages !== undefined) text = messagesText(r.input.messages, where);
    else throw new Error(`${where}: expected messages, prompt or input.messages`);
    out.push(normalise(redact(text).text));
  });
  return out;
}

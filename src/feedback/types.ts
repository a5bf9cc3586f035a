// The feedback loop's shared shapes: a queue item (what the store knows about one failure) and a
// curation item (the same, with the text curation and export need). Pure data, no I/O.
import type { Sli, VerdictSource } from '../evaluate/types.js';
import type { QueueState } from './states.js';

/** One chat turn as OpenAI's fine-tuning format has it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string;
  name?: string;
  tool_call_id?: string;
}

/** Where an item's target answer (the answer the model should have given) comes from. */
export interface Target {
  text: string;
  /** `correction`: a human's correction of this sample; `labelled_answer`: another sample's answer to the same prompt, labelled good. */
  from: 'correction' | 'labelled_answer';
  /** The sample whose answer was chosen (labelled_answer only). */
  requestId?: string;
}

/** Why a sample failed on one SLI, as its effective verdict says. */
export interface Failure {
  sli: Sli;
  reason: string;
  evaluator: string;
  evaluatorVersion: string;
  source: VerdictSource;
}

/** A retraining-queue item: its latest event in retrain_queue. */
export interface QueueItem {
  requestId: string;
  model: string;
  version: string;
  /** The sample's time (epoch ms). */
  sampleTs: number;
  state: QueueState;
  /** Why it is in this state, in words (e.g. "safe_response failed and no correction: label one"). */
  reason: string;
  /** The SLIs whose effective verdict is bad (empty for a correction of an answer that passed). */
  failures: Failure[];
  target: Target | null;
  /** When this state was decided (epoch ms). */
  ts: number;
}

/** A queue item with its text, as curation and export see it. */
export interface CurationItem extends QueueItem {
  /** The request's messages (redacted at capture), the system prompt included. */
  messages: ChatMessage[];
  /** The model's answer (redacted at capture). */
  response: string;
  /** Split key: the conversation (meta conversation, else trace id, else request id). */
  conversation: string;
  /** Split key: the hashed user ('' when the request named none). */
  user: string;
}

// Which state a failing or corrected sample is in, and why: pure, from what the store holds about it.
// ready: it has a usable target (a correction, or for instruction failures a good answer chosen by a
// label); needs_correction: it has none, so it is listed for labelling and never exported with its
// bad answer as the target; excluded: it cannot be trained on at all.
import type { Candidate, LabelledAnswer } from '../store/retrain-queries.js';
import { promptMessages } from './messages.js';
import type { CurationItem, Failure, QueueItem, Target } from './types.js';

/** Why an item is excluded; PII is found by curation, the others here. */
export const EXCLUSION_REASONS = {
  noAnswer: 'no_answer',
  truncated: 'truncated',
  unusablePrompt: 'unusable_prompt',
  pii: 'pii',
} as const;

const failuresOf = (c: Candidate): Failure[] =>
  c.verdicts
    .filter((v) => v.verdict === 'bad')
    .map((v) => ({ sli: v.sli, reason: v.reason, evaluator: v.evaluator, evaluatorVersion: v.evaluatorVersion, source: v.source }));

/** The queue item for a candidate, as of `now`. */
export function classify(c: Candidate, labelled: LabelledAnswer | undefined, now: number): QueueItem {
  const failures = failuresOf(c);
  const base = { requestId: c.requestId, model: c.model, version: c.version, sampleTs: c.sampleTs, failures, ts: now };
  const excluded = (kind: string, why: string): QueueItem => ({ ...base, state: 'excluded', reason: `${kind}: ${why}`, target: null });

  if (c.truncated) return excluded(EXCLUSION_REASONS.truncated, 'the captured prompt or answer was cut at capture.maxTextBytes');
  if (!promptMessages(c.prompt, c.endpoint)) return excluded(EXCLUSION_REASONS.unusablePrompt, `no chat or completion prompt a trainer can use (endpoint ${c.endpoint})`);
  if (c.correction) {
    return { ...base, state: 'ready', reason: failures.length ? `${describe(failures)}; corrected by a person` : 'corrected by a person', target: { text: c.correction, from: 'correction' } };
  }
  if (c.statusCode >= 400 || !c.response) return excluded(EXCLUSION_REASONS.noAnswer, `the upstream answered ${c.statusCode} with no answer to learn from`);
  const onlyInstruction = failures.length > 0 && failures.every((f) => f.sli === 'instruction_success');
  if (onlyInstruction && labelled && labelled.requestId !== c.requestId) {
    const target: Target = { text: labelled.response, from: 'labelled_answer', requestId: labelled.requestId };
    return { ...base, state: 'ready', reason: `${describe(failures)}; target: labelled good answer ${labelled.requestId}`, target };
  }
  return { ...base, state: 'needs_correction', reason: `${describe(failures)}; no usable target: add a correction (POST /v1/feedback)`, target: null };
}

function describe(failures: Failure[]): string {
  return failures.map((f) => `${f.sli} failed${f.reason ? ` (${f.reason})` : ''}`).join(', ');
}

/** True when `next` says something `current` does not: a new state, reason or target. */
export function changed(current: QueueItem | undefined, next: QueueItem): boolean {
  if (!current) return true;
  // Curation found PII in it: it stays excluded until its text changes (a new correction).
  if (current.state === 'excluded' && current.reason.startsWith(`${EXCLUSION_REASONS.pii}:`)) return (current.target?.text ?? '') !== (next.target?.text ?? '');
  return current.state !== next.state || current.reason !== next.reason || (current.target?.text ?? '') !== (next.target?.text ?? '');
}

/** The split keys: the conversation (x-tunewatch-meta-conversation, else the trace) and the user. */
export function curationItem(item: QueueItem, c: Candidate): CurationItem {
  return {
    ...item,
    messages: promptMessages(c.prompt, c.endpoint) ?? [],
    response: c.response,
    conversation: c.meta.conversation || c.meta.conversation_id || c.traceId || c.requestId,
    user: c.userHash,
  };
}

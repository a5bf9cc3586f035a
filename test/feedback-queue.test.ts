// The retraining queue's pure parts: which state a failing sample is in and why, prompts back as chat
// messages, when a trigger fires, and what a trainer's result.json may hand back.
import { describe, expect, it } from 'vitest';
import type { CanaryView } from '../src/canary/controller.js';
import { promptMessages } from '../src/feedback/messages.js';
import { changed, classify, curationItem } from '../src/feedback/queue.js';
import { parseResult } from '../src/feedback/result.js';
import { dueTriggers, type TriggerMemory } from '../src/feedback/triggers.js';
import type { PostableAlert } from '../src/slo/alertmanager.js';
import type { Candidate, CandidateVerdict } from '../src/store/retrain-queries.js';

const chat = JSON.stringify([
  { role: 'system', content: 'Answer with bullets.' },
  { role: 'user', content: [{ type: 'text', text: 'List the steps' }, { type: 'image_url', image_url: { url: 'x' } }] },
]);
const bad = (sli: CandidateVerdict['sli'], reason = 'why'): CandidateVerdict => ({ sli, verdict: 'bad', reason, source: 'auto', evaluator: `${sli}-check`, evaluatorVersion: '1' });
const good = (sli: CandidateVerdict['sli']): CandidateVerdict => ({ ...bad(sli), verdict: 'good', reason: '' });

function candidate(over: Partial<Candidate> = {}): Candidate {
  return {
    requestId: 'r1', model: 'm', version: 'v2', role: 'canary', sampleTs: 1_000, endpoint: 'chat', statusCode: 200, truncated: false,
    prompt: chat, response: 'Sure.', userHash: 'u1', traceId: 't1', meta: {}, verdicts: [bad('instruction_success', 'no bullets'), good('safe_response')], correction: '',
    ...over,
  };
}

describe('classify', () => {
  it('is ready with a correction as the target', () => {
    const item = classify(candidate({ correction: '- step one\n- step two' }), undefined, 5);
    expect(item).toMatchObject({ state: 'ready', target: { text: '- step one\n- step two', from: 'correction' }, ts: 5 });
    expect(item.failures).toEqual([{ sli: 'instruction_success', reason: 'no bullets', evaluator: 'instruction_success-check', evaluatorVersion: '1', source: 'auto' }]);
    expect(item.reason).toMatch(/instruction_success failed \(no bullets\); corrected by a person/);
  });

  it('takes a labelled good answer to the same prompt for an instruction failure', () => {
    const item = classify(candidate(), { requestId: 'r9', prompt: chat, response: '- a\n- b' }, 5);
    expect(item).toMatchObject({ state: 'ready', target: { text: '- a\n- b', from: 'labelled_answer', requestId: 'r9' } });
  });

  it('needs a correction for a safety or hallucination failure, even with a labelled answer', () => {
    for (const sli of ['safe_response', 'hallucination_free'] as const) {
      const item = classify(candidate({ verdicts: [bad('instruction_success'), bad(sli)] }), { requestId: 'r9', prompt: chat, response: 'ok' }, 5);
      expect(item.state).toBe('needs_correction');
      expect(item.target).toBeNull();
      expect(item.reason).toContain(`${sli} failed`);
    }
  });

  it('never takes its own answer as the target', () => {
    expect(classify(candidate(), { requestId: 'r1', prompt: chat, response: 'Sure.' }, 5).state).toBe('needs_correction');
  });

  it('excludes what cannot be trained on, with the reason', () => {
    expect(classify(candidate({ truncated: true, correction: 'x' }), undefined, 5)).toMatchObject({ state: 'excluded', reason: expect.stringMatching(/^truncated:/) });
    expect(classify(candidate({ statusCode: 502, response: '' }), undefined, 5)).toMatchObject({ state: 'excluded', reason: expect.stringMatching(/^no_answer: .*502/) });
    expect(classify(candidate({ endpoint: 'embeddings' }), undefined, 5)).toMatchObject({ state: 'excluded', reason: expect.stringMatching(/^unusable_prompt:/) });
    expect(classify(candidate({ prompt: '{not json' }), undefined, 5).state).toBe('excluded');
  });

  it('sees a change only in state, reason or target; a PII exclusion sticks until the target changes', () => {
    const ready = classify(candidate({ correction: 'fixed' }), undefined, 5);
    expect(changed(undefined, ready)).toBe(true);
    expect(changed(ready, { ...ready, ts: 99 })).toBe(false);
    expect(changed(ready, { ...ready, target: { text: 'other', from: 'correction' } })).toBe(true);
    const pii = { ...ready, state: 'excluded' as const, reason: 'pii: EMAIL in target' };
    expect(changed(pii, ready)).toBe(false);
    expect(changed(pii, { ...ready, target: { text: 'clean now', from: 'correction' } })).toBe(true);
  });

  it('keeps the conversation and the user as split keys', () => {
    const c = candidate({ meta: { conversation: 'c-7' } });
    expect(curationItem(classify(c, undefined, 5), c)).toMatchObject({ conversation: 'c-7', user: 'u1', response: 'Sure.' });
    const noMeta = candidate();
    expect(curationItem(classify(noMeta, undefined, 5), noMeta).conversation).toBe('t1');
  });
});

describe('promptMessages', () => {
  it('turns captured chat JSON into text turns and a completion prompt into a user turn', () => {
    expect(promptMessages(chat, 'chat')).toEqual([
      { role: 'system', content: 'Answer with bullets.' },
      { role: 'user', content: 'List the steps' },
    ]);
    expect(promptMessages('Once upon', 'completions')).toEqual([{ role: 'user', content: 'Once upon' }]);
  });

  it('refuses prompts a trainer cannot use', () => {
    expect(promptMessages('[{"role":"wizard","content":"x"}]', 'chat')).toBeNull();
    expect(promptMessages('[{"role":"system","content":"x"}]', 'chat')).toBeNull();
    expect(promptMessages('"text"', 'chat')).toBeNull();
    expect(promptMessages('   ', 'completions')).toBeNull();
  });
});

describe('dueTriggers', () => {
  const memory = (): TriggerMemory => ({ firedAlerts: new Set(), rolledBack: new Set(), startedAt: 0 });
  const page = (model: string, severity = 'page'): PostableAlert => ({ labels: { alertname: 'SLOBurn', slo: 's', model, version: 'v2', severity, window: '1h' }, annotations: {}, startsAt: '', endsAt: '' });
  const rolledBack = { state: 'rolled_back', canary: 'v2' } as CanaryView;
  const base = { model: 'm', now: 10_000, newReady: 3, activeJob: false, lastJobAt: null, firing: [], canary: undefined };

  const trigger = (t: object = {}) => ({ sloPage: false, canaryRollback: false, ...t });

  it('fires on enough new ready items, and not below', () => {
    expect(dueTriggers({ ...base, trigger: trigger({ readyItems: 3 }), memory: memory() })).toBe('ready_items');
    expect(dueTriggers({ ...base, newReady: 2, trigger: trigger({ readyItems: 3 }), memory: memory() })).toBeNull();
    expect(dueTriggers({ ...base, trigger: trigger(), memory: memory() })).toBeNull();
  });

  it('fires once per page-severity alert of the model, again only after it resolved and fired anew', () => {
    const m = memory();
    const t = trigger({ sloPage: true });
    expect(dueTriggers({ ...base, trigger: t, memory: m, firing: [page('other'), page('m', 'ticket')] })).toBeNull();
    expect(dueTriggers({ ...base, trigger: t, memory: m, firing: [page('m')] })).toBe('slo_page');
    expect(dueTriggers({ ...base, trigger: t, memory: m, firing: [page('m')] })).toBeNull();
    expect(dueTriggers({ ...base, trigger: t, memory: m, firing: [] })).toBeNull();
    expect(dueTriggers({ ...base, trigger: t, memory: m, firing: [page('m')] })).toBe('slo_page');
  });

  it('keeps a rollback pending while a job runs or nothing new is ready, then fires it once', () => {
    const m = memory();
    const t = trigger({ canaryRollback: true });
    expect(dueTriggers({ ...base, trigger: t, memory: m, canary: rolledBack, newReady: 0 })).toBeNull();
    expect(dueTriggers({ ...base, trigger: t, memory: m, canary: rolledBack, activeJob: true })).toBeNull();
    expect(dueTriggers({ ...base, trigger: t, memory: m, canary: rolledBack })).toBe('canary_rollback');
    expect(dueTriggers({ ...base, trigger: t, memory: m, canary: rolledBack })).toBeNull();
  });

  it('ignores pages and rollbacks the model is not configured to act on', () => {
    expect(dueTriggers({ ...base, trigger: trigger(), memory: memory(), canary: rolledBack, firing: [page('m')] })).toBeNull();
  });

  it('fires on schedule counted from the last job, else from the start', () => {
    const t = trigger({ schedule: '5s' });
    expect(dueTriggers({ ...base, trigger: t, memory: memory() })).toBe('schedule');
    expect(dueTriggers({ ...base, lastJobAt: 8_000, trigger: t, memory: memory() })).toBeNull();
    expect(dueTriggers({ ...base, lastJobAt: 4_000, trigger: t, memory: memory() })).toBe('schedule');
  });
});

describe('parseResult', () => {
  it('accepts a version and an http upstream, and names what is wrong otherwise', () => {
    expect(parseResult({ version: 'v3', upstream: 'http://h:1/v1', upstreamModel: 'ft-1' }, 'r.json')).toEqual({ result: { version: 'v3', upstream: 'http://h:1/v1', upstreamModel: 'ft-1' } });
    expect(parseResult({ version: 'v 3', upstream: 'http://h' }, 'r.json')).toEqual({ error: expect.stringMatching(/r.json: version/) });
    expect(parseResult({ version: 'v3', upstream: 'file:///etc' }, 'r.json')).toEqual({ error: expect.stringMatching(/upstream must be an http/) });
    expect(parseResult(null, 'r.json')).toEqual({ error: expect.stringMatching(/expected an object/) });
  });
});

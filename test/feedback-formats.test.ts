// Export formats (SFT chat rows, OpenAI DPO and TRL preference pairs, the dataset's files), the
// manifest and its content hash, and job ids.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { curate, type CurationOptions } from '../src/feedback/curate/curate.js';
import { datasetFiles, fileText, preferenceRow, sftRow } from '../src/feedback/formats.js';
import { buildManifest, canonicalJson, contentHash, describeFile } from '../src/feedback/manifest.js';
import { jobIdFor, modelSlug } from '../src/feedback/job-id.js';
import type { CurationItem, Failure } from '../src/feedback/types.js';

const failure = (over: Partial<Failure> = {}): Failure => ({
  sli: 'instruction_success', reason: 'not valid JSON', evaluator: 'instruction', evaluatorVersion: '1', source: 'auto', ...over,
});

function item(id: string, over: Partial<CurationItem> = {}): CurationItem {
  return {
    requestId: id, model: 'chat', version: 'v1', sampleTs: 1_000, state: 'ready', reason: 'ready',
    failures: [failure()], target: { text: `good answer ${id}`, from: 'labelled_answer', requestId: 'x' }, ts: 2_000,
    messages: [{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: `distinct question ${id} ${id.repeat(3)}` }],
    response: `bad answer ${id}`, conversation: `conv-${id}`, user: '', ...over,
  };
}

const OPTIONS: CurationOptions = {
  duplicateThreshold: 0.8, maxPerReason: 0, maxPerSli: 0, validationSplit: 0.2, seed: 42, splitBy: 'conversation',
  evaluationSets: [], preferenceFormat: 'openai', lookback: '30d',
};

describe('SFT rows', () => {
  it('are {messages} with the target as the last assistant turn, any trailing assistant turn dropped', () => {
    const it1 = item('a', {
      messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q1' }, { role: 'assistant', content: 'A1' }, { role: 'tool', content: '{}', tool_call_id: 'call_1' }, { role: 'user', content: 'Q2', name: 'ann' }, { role: 'assistant', content: 'the bad answer, captured' }],
      target: { text: 'Fixed.', from: 'correction' },
    });
    expect(sftRow(it1)).toEqual({
      messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q1' }, { role: 'assistant', content: 'A1' }, { role: 'tool', content: '{}', tool_call_id: 'call_1' }, { role: 'user', content: 'Q2', name: 'ann' }, { role: 'assistant', content: 'Fixed.' }],
    });
    expect(JSON.stringify(sftRow(item('b')))).toBe('{"messages":[{"role":"system","content":"Answer in JSON."},{"role":"user","content":"distinct question b bbb"},{"role":"assistant","content":"good answer b"}]}');
  });

  it('refuse an item without a target', () => {
    expect(() => sftRow(item('c', { target: null }))).toThrow(/c has no target/);
  });
});

describe('preference rows', () => {
  const corrected = item('p', { target: { text: '{"ok": true}', from: 'correction' }, response: 'Sure! ok' });
  it('OpenAI DPO: exactly input.messages, one preferred and one non-preferred assistant message', () => {
    expect(preferenceRow(corrected, 'openai')).toEqual({
      input: { messages: [{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: 'distinct question p ppp' }] },
      preferred_output: [{ role: 'assistant', content: '{"ok": true}' }],
      non_preferred_output: [{ role: 'assistant', content: 'Sure! ok' }],
    });
    expect(Object.keys(preferenceRow(corrected, 'openai')!)).toEqual(['input', 'preferred_output', 'non_preferred_output']);
  });

  it('TRL: prompt / chosen / rejected', () => {
    expect(preferenceRow(corrected, 'trl')).toEqual({
      prompt: [{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: 'distinct question p ppp' }],
      chosen: [{ role: 'assistant', content: '{"ok": true}' }],
      rejected: [{ role: 'assistant', content: 'Sure! ok' }],
    });
  });

  it('only for a human correction that differs from the answer', () => {
    expect(preferenceRow(item('l'), 'openai')).toBeNull();
    expect(preferenceRow(item('s', { target: { text: 'same', from: 'correction' }, response: 'same' }), 'openai')).toBeNull();
  });
});

describe('dataset files', () => {
  const items = Array.from({ length: 30 }, (_, i) => item(`r${String(i).padStart(2, '0')}`, i % 3 === 0 ? { target: { text: `corrected ${i}`, from: 'correction' } } : {}));
  const result = curate(items, OPTIONS);

  it('train.jsonl and validation.jsonl, and preference files when a correction exists', () => {
    const files = datasetFiles(result, 'openai');
    expect(files.map((f) => [f.name, f.kind, f.split, f.format])).toEqual([
      ['train.jsonl', 'sft', 'train', 'openai'], ['validation.jsonl', 'sft', 'validation', 'openai'],
      ['preferences.train.jsonl', 'preferences', 'train', 'openai'], ['preferences.validation.jsonl', 'preferences', 'validation', 'openai'],
    ]);
    expect(files[0]!.rows.length + files[1]!.rows.length).toBe(30);
    expect(files[2]!.rows.length + files[3]!.rows.length).toBe(10);
    expect(files[1]!.rows.length).toBeGreaterThan(0);
    for (const f of files.slice(0, 2)) for (const row of f.rows) {
      const last = JSON.parse(row).messages.at(-1);
      expect(last.role).toBe('assistant');
      expect(last.content).toMatch(/^(good answer|corrected) /);
    }
    expect(datasetFiles(result, 'trl')[2]!.format).toBe('trl');
    expect(Object.keys(JSON.parse(datasetFiles(result, 'trl')[2]!.rows[0]!))).toEqual(['prompt', 'chosen', 'rejected']);
    expect(datasetFiles(curate([item('only')], OPTIONS), 'openai').map((f) => f.name)).toEqual(['train.jsonl', 'validation.jsonl']);
  });

  it('never exports a needs_correction item, nor a bad answer as a target', () => {
    const needing = [item('n1', { target: null, state: 'needs_correction' }), item('n2', { state: 'needs_correction' }), item('n3', { target: null })];
    const files = datasetFiles(curate([...items, ...needing], OPTIONS), 'openai');
    const all = files.flatMap((f) => f.rows).join('\n');
    expect(all).not.toMatch(/distinct question n\d/);
    for (const f of files.filter((x) => x.kind === 'sft')) for (const row of f.rows) expect(JSON.parse(row).messages.at(-1).content).not.toMatch(/^bad answer/);
  });

  it('file bytes are one row per line, newline-terminated', () => {
    expect(fileText({ rows: ['{"a":1}', '{"b":2}'] })).toBe('{"a":1}\n{"b":2}\n');
    expect(fileText({ rows: [] })).toBe('');
  });
});

describe('manifest and content hash', () => {
  const items = [
    item('a', { version: 'v2', target: { text: 'fix', from: 'correction' }, failures: [failure(), failure({ sli: 'safe_response', reason: 'unsafe', evaluator: 'safety', evaluatorVersion: '3', source: 'judge' })] }),
    item('b', { failures: [failure({ source: 'judge' })] }),
    item('c', { version: 'v1' }),
    item('d', { target: null, state: 'needs_correction' }),
  ];
  const result = curate(items, OPTIONS);
  const files = datasetFiles(result, 'openai').map(describeFile);
  const input = { model: 'chat', baseModel: 'gpt-4o-mini', tunewatchVersion: '0.1.0', result, files };

  it('describes samples, versions, reasons, SLIs, evaluators, label sources, filters, counts and files', () => {
    const m = buildManifest({ ...input, createdAt: '2026-12-02T10:00:00.000Z' });
    expect(m.id).toBe(`ds-${m.contentHash.slice(0, 16)}`);
    expect(m.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.samples).toEqual(['a', 'b', 'c']);
    expect(m.sourceVersions).toEqual(['v1', 'v2']);
    expect(m.reasons).toEqual({ 'instruction_success: not valid JSON': 3, 'safe_response: unsafe': 1 });
    expect(m.slis).toEqual({ instruction_success: 3, safe_response: 1 });
    expect(m.evaluators).toEqual([{ name: 'instruction', version: '1' }, { name: 'safety', version: '3' }]);
    expect(m.labelSources).toEqual({ human: 1, judge: 1, auto: 1 });
    expect(m.filters).toBe(result.filters);
    expect(m.counts).toEqual({ in: 4, deduplicated: 0, pii_excluded: 0, needs_correction: 1, balanced_away: 0, exported: 3, train: result.train.length, validation: result.validation.length, preferences: files[2]!.rows, preferences_validation: files[3]!.rows });
    expect(m.counts.preferences + m.counts.preferences_validation).toBe(1);
    expect(m.files.map((f) => f.name)).toEqual(['train.jsonl', 'validation.jsonl', 'preferences.train.jsonl', 'preferences.validation.jsonl']);
    expect(m.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.createdAt).toBe('2026-12-02T10:00:00.000Z');
  });

  it('the same snapshot has the same hash, whatever the time, order or version', () => {
    const a = buildManifest({ ...input, createdAt: '2026-12-02T10:00:00.000Z' });
    const again = curate([...items].reverse(), OPTIONS);
    const b = buildManifest({ ...input, result: again, files: datasetFiles(again, 'openai').map(describeFile).reverse(), createdAt: '2027-01-01T00:00:00.000Z', tunewatchVersion: '0.2.0' });
    expect(b.contentHash).toBe(a.contentHash);
    expect(b.id).toBe(a.id);
  });

  it('changes with any content or filter parameter', () => {
    const base = contentHash(files, result.filters);
    const edited = curate(items.map((i) => (i.requestId === 'c' ? { ...i, target: { text: 'another answer', from: 'labelled_answer' as const } } : i)), OPTIONS);
    expect(contentHash(datasetFiles(edited, 'openai').map(describeFile), edited.filters)).not.toBe(base);
    const reseeded = curate(items, { ...OPTIONS, maxPerReason: 9 });
    expect(contentHash(datasetFiles(reseeded, 'openai').map(describeFile), reseeded.filters)).not.toBe(base);
    expect(contentHash(datasetFiles(result, 'trl').map(describeFile), result.filters)).not.toBe(base);
  });

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
  });
});

describe('job ids', () => {
  const hash = 'ab'.repeat(32);
  it('are ft-<slug>-<12 hex>, DNS-1123 labels of at most 63 characters', () => {
    expect(jobIdFor('chat', hash)).toMatch(/^ft-chat-[0-9a-f]{12}$/);
    expect(modelSlug('Org/Llama-3.1 8B_Instruct')).toBe('org-llama-3-1-8b-instruct');
    expect(modelSlug('Ünïcödé !!!')).toBe('unicode');
    expect(modelSlug('***')).toBe('model');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.stringMatching(/^[0-9a-f]{64}$/), (model, h) => {
        const id = jobIdFor(model, h);
        expect(id.length).toBeLessThanOrEqual(63);
        expect(id).toMatch(/^ft-[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?-[0-9a-f]{12}$/);
        expect(jobIdFor(model, h)).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('are the same for the same snapshot and differ for different snapshots or models', () => {
    expect(jobIdFor('chat', hash)).toBe(jobIdFor('chat', hash.toUpperCase()));
    expect(jobIdFor('chat', hash)).not.toBe(jobIdFor('chat', 'cd'.repeat(32)));
    const long = 'a-very-long-organisation-name/model-that-gets-cut';
    expect(jobIdFor(`${long}-1`, hash)).not.toBe(jobIdFor(`${long}-2`, hash));
    expect(jobIdFor('Llama 3', hash)).not.toBe(jobIdFor('llama-3', hash));
    expect(() => jobIdFor('chat', 'not-a-hash')).toThrow(/not a content hash/);
  });
});

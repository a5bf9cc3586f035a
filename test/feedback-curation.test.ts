// Curation (src/feedback/curate/): normalisation, MinHash/LSH, near-duplicate accuracy on fixtures
// written before the code, best-of-cluster, evaluation-set leakage, PII, balance, the split, and the
// stage counts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fixtures from './fixtures/near-duplicates.json' with { type: 'json' };
import { dedupText, normalise } from '../src/feedback/curate/normalise.js';
import { banding, signature, similarity, similarPairs, PERMUTATIONS } from '../src/feedback/curate/minhash.js';
import { clusters, dedupe, overlapsEvaluation } from '../src/feedback/curate/dedupe.js';
import { checkPii } from '../src/feedback/curate/pii.js';
import { balance } from '../src/feedback/curate/balance.js';
import { groupKey, split } from '../src/feedback/curate/split.js';
import { curate, type CurationOptions } from '../src/feedback/curate/curate.js';
import { evaluationTexts } from '../src/feedback/formats.js';
import type { CurationItem, Failure } from '../src/feedback/types.js';

const failure = (over: Partial<Failure> = {}): Failure => ({
  sli: 'instruction_success', reason: 'not valid JSON', evaluator: 'instruction', evaluatorVersion: '1', source: 'auto', ...over,
});

let nextId = 0;
function item(over: Partial<CurationItem> & { prompt?: string } = {}): CurationItem {
  const { prompt, ...rest } = over;
  const id = rest.requestId ?? `req-${String(nextId++).padStart(5, '0')}`;
  return {
    requestId: id, model: 'chat', version: 'v1', sampleTs: 1_000, state: 'ready', reason: 'ready',
    failures: [failure()], target: { text: 'the right answer', from: 'labelled_answer', requestId: 'other' }, ts: 2_000,
    messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: prompt ?? `question number ${id}` }],
    response: 'a bad answer', conversation: `conv-${id}`, user: '', ...rest,
  };
}

const OPTIONS: CurationOptions = {
  duplicateThreshold: 0.8, maxPerReason: 0, maxPerSli: 0, validationSplit: 0.2, seed: 42, splitBy: 'conversation',
  evaluationSets: [], preferenceFormat: 'openai', lookback: '30d',
};

/** Deterministic shuffle (Fisher–Yates with a tiny LCG). */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const WORDS = ['how', 'do', 'i', 'reset', 'my', 'password', 'account', 'email', 'order', 'refund', 'shipping', 'the', 'a', 'late', 'box', 'python', 'list', 'error', 'why', 'what'];
const sentence = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 14 }).map((w) => w.join(' '));

describe('normalise and dedup text', () => {
  it('folds case, punctuation, whitespace, NFKC and redaction placeholders', () => {
    expect(normalise('  Ｈｅｌｌｏ,\n\tWORLD!!  ')).toBe('hello world');
    expect(normalise("What's the “five-year-old” view?")).toBe('whats the five year old view');
    expect(normalise('mail [EMAIL] or [API_KEY]')).toBe('mail piiemail or piiapikey');
    expect(normalise('[EMAIL]')).not.toBe(normalise('email'));
  });

  it('is idempotent', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => normalise(normalise(s)) === normalise(s)), { numRuns: 300 });
  });

  it('is the prompt turns without the system prompt and without the answer', () => {
    const a = item({ messages: [{ role: 'system', content: 'Long shared system prompt.' }, { role: 'user', content: 'Hello there' }, { role: 'assistant', content: 'old answer' }] });
    expect(dedupText(a)).toBe('hello there');
    const multi = item({ messages: [{ role: 'user', content: 'One' }, { role: 'assistant', content: 'Two' }, { role: 'user', content: 'Three' }] });
    expect(dedupText(multi)).toBe('one two three');
  });
});

describe('MinHash and LSH', () => {
  it('estimates 1 for equal texts, about 0 for unrelated ones', () => {
    const s = signature('the quick brown fox jumps over the lazy dog');
    expect(s.length).toBe(PERMUTATIONS);
    expect(similarity(s, signature('the quick brown fox jumps over the lazy dog'))).toBe(1);
    expect(similarity(s, signature('completely different words about invoices and tax returns'))).toBeLessThan(0.1);
    expect(similarity(signature(''), signature(''))).toBe(1);
    expect(similarity(signature(''), signature('abc'))).toBe(0);
  });

  it('bands so that any pair at or above the threshold shares a band (pigeonhole)', () => {
    for (const t of [0.01, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.99, 1]) {
      const { bands, rows } = banding(t);
      expect(bands * rows).toBeLessThanOrEqual(PERMUTATIONS);
      expect(bands).toBeGreaterThan(PERMUTATIONS - Math.ceil(PERMUTATIONS * t));
    }
    expect(banding(0.8)).toEqual({ bands: 32, rows: 4 });
  });

  it('finds exactly the pairs brute force finds', () => {
    fc.assert(
      fc.property(fc.array(sentence, { minLength: 2, maxLength: 30 }), fc.constantFrom(0.5, 0.7, 0.8, 0.9), (texts, t) => {
        const sigs = texts.map((x) => signature(normalise(x)));
        const lsh = new Set<string>();
        similarPairs(sigs, t, (i, j) => lsh.add(`${i},${j}`));
        const brute = new Set<string>();
        for (let i = 0; i < sigs.length; i++) for (let j = i + 1; j < sigs.length; j++) if (similarity(sigs[i]!, sigs[j]!) >= t) brute.add(`${i},${j}`);
        expect([...lsh].sort()).toEqual([...brute].sort());
      }),
      { numRuns: 150 },
    );
  });

  it('clusters thousands of items without comparing every pair', () => {
    const many = Array.from({ length: 3000 }, (_, i) => item({ prompt: `ticket ${i}: my order ${i * 7919} from warehouse ${i % 13} never arrived, customer ${i * 104729}` }));
    const started = performance.now();
    const out = clusters(many, 0.8);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(out.length).toBeGreaterThan(2000);
  });
});

describe('near-duplicate accuracy on the fixtures (written before the code)', () => {
  it('collapses near-copies and keeps similar-but-distinct prompts; reports precision and recall', () => {
    const collapsed = (a: string, b: string) => dedupe([item({ prompt: a, response: 'x' }), item({ prompt: b, response: 'y' })], OPTIONS.duplicateThreshold).kept.length === 1;
    const tp = fixtures.collapse.filter((p) => collapsed(p.a, p.b));
    const fp = fixtures.distinct.filter((p) => collapsed(p.a, p.b));
    const precision = tp.length / Math.max(1, tp.length + fp.length);
    const recall = tp.length / fixtures.collapse.length;
    const missed = fixtures.collapse.filter((p) => !collapsed(p.a, p.b)).map((p) => p.why);
    console.log(`near-duplicates at ${OPTIONS.duplicateThreshold}: precision ${precision.toFixed(2)} (${tp.length}/${tp.length + fp.length}), recall ${recall.toFixed(2)} (${tp.length}/${fixtures.collapse.length}); missed: ${missed.join('; ')}; false: ${fp.map((p) => p.why).join('; ') || 'none'}`);
    // Measured with the MinHash estimate: 1.00 / 0.73 (misses: three full rewordings, a politeness
    // rewording, a reordering, "a/an SQL" with "ten/10" at 0.766). Exact Jaccard on the same shingles: 1.00 / 0.77.
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.7);
    // Formatting-only variants always collapse.
    for (const why of ['case and punctuation', 'whitespace and line breaks', 'redaction placeholder and punctuation', 'full-width characters (NFKC)', 'typographic quotes and hyphens', 'markdown emphasis']) {
      expect(tp.map((p) => p.why)).toContain(why);
    }
  });

  it('a lower threshold trades precision for recall', () => {
    const collapsed = (a: string, b: string, t: number) => dedupe([item({ prompt: a }), item({ prompt: b })], t).kept.length === 1;
    const recallAt = (t: number) => fixtures.collapse.filter((p) => collapsed(p.a, p.b, t)).length;
    const falseAt = (t: number) => fixtures.distinct.filter((p) => collapsed(p.a, p.b, t)).length;
    expect(recallAt(0.6)).toBeGreaterThan(recallAt(0.8));
    expect(falseAt(0.6)).toBeGreaterThan(falseAt(0.8));
  });
});

describe('best of cluster', () => {
  const q = 'How do I reset my password on the mobile app?';
  it('keeps the human correction, whatever the order, and names the kept id', () => {
    const corrected = item({ requestId: 'b-corrected', prompt: q, target: { text: 'Go to Settings.', from: 'correction' }, sampleTs: 1 });
    const labelled = item({ requestId: 'a-labelled', prompt: `${q}!`, sampleTs: 9 });
    const untargeted = item({ requestId: 'c-none', prompt: q.toLowerCase(), target: null, state: 'needs_correction', sampleTs: 10 });
    for (const order of [[corrected, labelled, untargeted], [untargeted, labelled, corrected], [labelled, untargeted, corrected]]) {
      const out = dedupe(order, 0.8);
      expect(out.kept.map((i) => i.requestId)).toEqual(['b-corrected']);
      expect(out.removed.map((r) => [r.item.requestId, r.duplicateOf]).sort()).toEqual([['a-labelled', 'b-corrected'], ['c-none', 'b-corrected']]);
    }
  });

  it('then any target, then ready, then label source, then newest', () => {
    const pick = (...xs: CurationItem[]) => dedupe(xs, 0.8).kept[0]!.requestId;
    expect(pick(item({ requestId: 'none', prompt: q, target: null, sampleTs: 5 }), item({ requestId: 'target', prompt: q, sampleTs: 1 }))).toBe('target');
    expect(pick(item({ requestId: 'nc', prompt: q, state: 'needs_correction', sampleTs: 5 }), item({ requestId: 'ready', prompt: q, sampleTs: 1 }))).toBe('ready');
    expect(pick(item({ requestId: 'auto', prompt: q, sampleTs: 5 }), item({ requestId: 'judge', prompt: q, failures: [failure({ source: 'judge' })], sampleTs: 1 }))).toBe('judge');
    expect(pick(item({ requestId: 'old', prompt: q, sampleTs: 1 }), item({ requestId: 'new', prompt: q, sampleTs: 5 }))).toBe('new');
  });

  it('prefers an item that can leave the store over a corrected one with PII left', () => {
    const leaky = item({ requestId: 'leaky', prompt: q, target: { text: 'Mail jane@example.com', from: 'correction' } });
    const clean = item({ requestId: 'clean', prompt: q });
    const result = curate([leaky, clean], OPTIONS);
    expect([...result.train, ...result.validation].map((i) => i.requestId)).toEqual(['clean']);
    expect(result.removed).toEqual([expect.objectContaining({ requestId: 'leaky', stage: 'duplicate', duplicateOf: 'clean' })]);
  });
});

describe('evaluation-set leakage', () => {
  const evalSet = [
    JSON.stringify({ messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Please email jane.doe@example.com the Q3 refund policy summary.' }, { role: 'assistant', content: 'expected' }] }),
    JSON.stringify({ prompt: 'What is the capital city of Australia?', completion: 'Canberra' }),
    '',
    JSON.stringify({ input: { messages: [{ role: 'user', content: 'Write a haiku about autumn leaves falling in the park.' }] }, preferred_output: [], non_preferred_output: [] }),
  ].join('\n');

  it('reads chat, prompt/completion and DPO rows as dedup texts (redacted like captures)', () => {
    expect(evaluationTexts(evalSet)).toEqual([
      'please email piiemail the q3 refund policy summary',
      'what is the capital city of australia',
      'write a haiku about autumn leaves falling in the park',
    ]);
  });

  it('names the line of a malformed row', () => {
    expect(() => evaluationTexts(`${JSON.stringify({ prompt: 'ok' })}\n\n{not json`)).toThrow(/line 3 is not JSON/);
    expect(() => evaluationTexts(JSON.stringify({ answer: 'x' }))).toThrow(/line 1: expected messages, prompt or input.messages/);
    expect(() => evaluationTexts(JSON.stringify({ messages: [{ content: 'x' }] }))).toThrow(/line 1: message 0 has no role/);
  });

  it('removes items near an evaluation row, counted as deduplicated', () => {
    const leaking = item({ requestId: 'leak', prompt: 'please email [EMAIL] the Q3 refund policy summary' });
    const haiku = item({ requestId: 'haiku', prompt: 'write a haiku about Autumn leaves falling in the park!' });
    // Not "the capital city of Austria": that estimates 0.81 against "... of Australia" and would be removed.
    const fine = item({ requestId: 'fine', prompt: 'What is the tallest mountain in Austria?' });
    const texts = evaluationTexts(evalSet);
    expect(overlapsEvaluation([leaking, haiku, fine], texts, 0.8).kept.map((i) => i.requestId)).toEqual(['fine']);
    const result = curate([leaking, haiku, fine], { ...OPTIONS, evaluationTexts: texts, evaluationSets: ['eval/support.jsonl'] });
    expect(result.removed.filter((r) => r.stage === 'evaluation_overlap').map((r) => [r.requestId, r.duplicateOf])).toEqual([['haiku', 'evaluation:2'], ['leak', 'evaluation:0']]);
    expect(result.counts.deduplicated).toBe(2);
    expect(result.filters.find((f) => f.name === 'evaluation_overlap')!.params).toMatchObject({ sets: ['eval/support.jsonl'], evaluationRows: 3 });
  });
});

describe('PII re-check', () => {
  it('excludes any item with PII left in messages, response or target, counted by type', () => {
    const items = [
      item({ requestId: 'p1', prompt: 'my card is 4111 1111 1111 1111, why was it declined' }),
      item({ requestId: 'p2', prompt: 'why was my refund late', response: 'call +44 20 7946 0958' }),
      item({ requestId: 'p3', prompt: 'summarise the invoice', target: { text: 'Sent to bob@example.org and ann@example.org', from: 'correction' } }),
      item({ requestId: 'ok', prompt: 'write a haiku about rain' }),
    ];
    const found = checkPii(items);
    expect(found.clean.map((i) => i.requestId)).toEqual(['ok']);
    expect(found.byType).toEqual({ CARD: 1, PHONE: 1, EMAIL: 2 });
    const result = curate(items, OPTIONS);
    expect(result.counts.pii_excluded).toBe(3);
    expect(result.removed.filter((r) => r.stage === 'pii').map((r) => r.reason)).toEqual([
      'PII left: CARD×1 in messages[1]', 'PII left: PHONE×1 in response', 'PII left: EMAIL×2 in target',
    ]);
    expect(result.filters.find((f) => f.name === 'pii')!.params['found']).toEqual({ CARD: 1, PHONE: 1, EMAIL: 2 });
    expect([...result.train, ...result.validation].map((i) => i.requestId)).toEqual(['ok']);
  });
});

describe('balance', () => {
  const frequent = Array.from({ length: 6 }, (_, i) => item({ requestId: `f${i}`, prompt: `${['tax', 'wine', 'jazz', 'golf', 'chess', 'opera'][i]} question`, sampleTs: i, failures: [failure({ reason: 'not valid JSON' })] }));
  const corrected = item({ requestId: 'f-corrected', prompt: 'fix my JSON output', sampleTs: 0, failures: [failure({ reason: 'not valid JSON' })], target: { text: 'fixed', from: 'correction' } });
  const rare = item({ requestId: 'rare', prompt: 'is this advice safe', failures: [failure({ sli: 'safe_response', reason: 'unsafe advice', evaluator: 'safety' })] });

  it('caps each reason, keeping the best items (corrections, then newest) whatever the arrival order', () => {
    const all = [...frequent, corrected, rare];
    for (const seed of [1, 2, 3, 4]) {
      const out = balance(shuffled(all, seed), 3, 0);
      expect(out.kept.map((i) => i.requestId).sort()).toEqual(['f-corrected', 'f4', 'f5', 'rare']);
      expect(out.removed).toHaveLength(4);
      expect(out.removed[0]!.cap).toBe('maxPerReason 3 reached for "instruction_success: not valid JSON"');
    }
  });

  it('caps each SLI, and 0 means no cap', () => {
    const other = item({ requestId: 'other-reason', prompt: 'another thing', sampleTs: 99, failures: [failure({ reason: 'missing field' })] });
    expect(balance([...frequent, other, rare], 0, 2).kept.map((i) => i.requestId).sort()).toEqual(['f5', 'other-reason', 'rare']);
    expect(balance([...frequent, rare], 0, 0).kept).toHaveLength(7);
    const result = curate([...frequent, rare], { ...OPTIONS, maxPerReason: 2 });
    expect(result.counts.balanced_away).toBe(4);
  });
});

describe('split', () => {
  const arbItems = fc
    .array(fc.record({ conv: fc.integer({ min: 0, max: 15 }), user: fc.integer({ min: -1, max: 6 }) }), { minLength: 1, maxLength: 80 })
    .map((rows) => rows.map((r, i) => item({ requestId: `r${i}`, conversation: `c${r.conv}`, user: r.user < 0 ? '' : `u${r.user}` })));

  it('never puts one conversation in both (by conversation), nor one user or conversation (by user)', () => {
    fc.assert(
      fc.property(arbItems, fc.double({ min: 0, max: 0.9, noNaN: true }), fc.nat(), fc.constantFrom('conversation' as const, 'user' as const), (items, ratio, seed, by) => {
        const { train, validation } = split(items, by, ratio, seed);
        expect(train.length + validation.length).toBe(items.length);
        const convTrain = new Set(train.map((i) => i.conversation));
        expect(validation.some((i) => convTrain.has(i.conversation))).toBe(false);
        if (by === 'user') {
          const usersTrain = new Set(train.map((i) => i.user).filter((u) => u !== ''));
          expect(validation.some((i) => usersTrain.has(i.user))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('honours the ratio over many groups, and the seed changes the split', () => {
    const items = Array.from({ length: 4000 }, (_, i) => item({ requestId: `r${i}`, conversation: `c${i % 2000}` }));
    const a = split(items, 'conversation', 0.2, 42);
    const groups = new Set(a.validation.map((i) => i.conversation));
    expect(groups.size / 2000).toBeGreaterThan(0.17);
    expect(groups.size / 2000).toBeLessThan(0.23);
    const b = split(items, 'conversation', 0.2, 43);
    const groupsB = new Set(b.validation.map((i) => i.conversation));
    const same = [...groups].filter((g) => groupsB.has(g)).length;
    expect(same / groups.size).toBeLessThan(0.4); // independent draws share ~20%
    expect(split(items, 'conversation', 0.2, 42)).toEqual(a);
  });

  it('is stable as items are added', () => {
    const base = Array.from({ length: 300 }, (_, i) => item({ requestId: `r${i}`, conversation: `c${i}` }));
    const more = [...base, ...Array.from({ length: 300 }, (_, i) => item({ requestId: `n${i}`, conversation: `new${i}` }))];
    const side = (r: ReturnType<typeof split>) => new Map([...r.train.map((i) => [i.requestId, 't'] as const), ...r.validation.map((i) => [i.requestId, 'v'] as const)]);
    const before = side(split(base, 'conversation', 0.2, 7));
    const after = side(split(more, 'conversation', 0.2, 7));
    for (const [id, s] of before) expect(after.get(id)).toBe(s);
  });

  it('few groups: one group all to train; two or more give validation at least one and train at least one', () => {
    const one = [item({ conversation: 'only' }), item({ conversation: 'only' })];
    expect(split(one, 'conversation', 0.2, 42).validation).toEqual([]);
    const two = [item({ conversation: 'x' }), item({ conversation: 'y' })];
    for (const ratio of [0.01, 0.2, 0.9]) {
      const r = split(two, 'conversation', ratio, 42);
      expect([r.train.length, r.validation.length]).toEqual([1, 1]);
    }
    expect(split(two, 'conversation', 0, 42).validation).toEqual([]);
  });

  it('falls back from user to conversation to request id', () => {
    expect(groupKey(item({ user: 'u1', conversation: 'c1' }), 'user')).toBe('user:u1');
    expect(groupKey(item({ user: '', conversation: 'c1' }), 'user')).toBe('conversation:c1');
    expect(groupKey(item({ requestId: 'r1', user: '', conversation: '' }), 'user')).toBe('request:r1');
    expect(groupKey(item({ user: 'u1', conversation: 'c1' }), 'conversation')).toBe('conversation:c1');
  });
});

describe('curate', () => {
  const TOPICS = ['reset my password', 'track my order', 'cancel my subscription', 'update my billing address', 'download my invoice', 'change the delivery date', 'report a damaged parcel', 'close my account'];
  /** Formatting variants of one long question (they collapse), and a short greeting variant (it may not). */
  const VARIANTS = (t: string) => [
    `How do I ${t} from the mobile app when I no longer have access to the email address on file?`,
    `how do i ${t} from the mobile app when i no longer have access to the email address on file`,
    `**How do I ${t}** from the mobile app, when I no longer have access to the e-mail address on file?`,
    `How do I ${t} from the mobile app when I no longer have access to the email address on file? Thanks!`,
  ];
  const arbCorpusOf = (minLength: number) => fc
    .array(
      fc.record({
        topic: fc.nat({ max: TOPICS.length - 1 }), variant: fc.nat({ max: 3 }), conv: fc.nat({ max: 20 }), user: fc.nat({ max: 8 }),
        kind: fc.constantFrom('correction', 'labelled', 'none', 'needs', 'pii', 'unique'), reason: fc.constantFrom('a', 'b', 'c'), ts: fc.nat({ max: 100 }),
      }),
      { minLength, maxLength: 60, size: 'max' },
    )
    .map((rows) =>
      rows.map((r, i) =>
        item({
          requestId: `r${String(i).padStart(3, '0')}`,
          prompt: r.kind === 'unique' ? `unique question ${i} about ${['tax', 'wine', 'jazz', 'golf'][i % 4]} number ${i * 31}` : VARIANTS(TOPICS[r.topic]!)[r.variant]!,
          conversation: `c${r.conv}`, user: `u${r.user}`, sampleTs: r.ts,
          failures: [failure({ reason: r.reason })],
          state: r.kind === 'needs' || r.kind === 'none' ? 'needs_correction' : 'ready',
          target: r.kind === 'correction' ? { text: 'corrected', from: 'correction' } : r.kind === 'none' ? null : { text: 'labelled', from: 'labelled_answer' },
          response: r.kind === 'pii' ? 'write to me at someone@example.com' : 'bad',
        }),
      ),
    );
  const arbCorpus = arbCorpusOf(0);

  it('counts add up: in = deduplicated + pii_excluded + needs_correction + balanced_away + exported', () => {
    fc.assert(
      fc.property(arbCorpus, fc.nat({ max: 3 }), fc.nat({ max: 3 }), (items, maxPerReason, maxPerSli) => {
        const r = curate(items, { ...OPTIONS, maxPerReason, maxPerSli });
        const c = r.counts;
        expect(c.in).toBe(items.length);
        expect(c.deduplicated + c.pii_excluded + c.needs_correction + c.balanced_away + c.exported).toBe(c.in);
        expect(r.removed.length + r.train.length + r.validation.length).toBe(items.length);
        expect(new Set([...r.removed.map((x) => x.requestId), ...r.train.map((i) => i.requestId), ...r.validation.map((i) => i.requestId)]).size).toBe(items.length);
        for (const i of [...r.train, ...r.validation]) {
          expect(i.state).toBe('ready');
          expect(i.target).not.toBeNull();
          expect(i.response).not.toContain('@');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('no exported item is a near-duplicate of another, so none of train is near validation', () => {
    fc.assert(
      fc.property(arbCorpus, (items) => {
        const r = curate(items, OPTIONS);
        const sig = (i: CurationItem) => signature(dedupText(i));
        for (const t of r.train) for (const v of r.validation) expect(similarity(sig(t), sig(v))).toBeLessThan(OPTIONS.duplicateThreshold);
        const out = [...r.train, ...r.validation];
        for (let i = 0; i < out.length; i++) for (let j = i + 1; j < out.length; j++) expect(similarity(sig(out[i]!), sig(out[j]!))).toBeLessThan(OPTIONS.duplicateThreshold);
        const topicsOut = out.map((i) => TOPICS.findIndex((t) => dedupText(i).includes(t))).filter((k) => k >= 0);
        expect(new Set(topicsOut).size).toBe(topicsOut.length);
      }),
      { numRuns: 200 },
    );
  });

  it('collapses near-duplicates that sit in different conversations before the split', () => {
    const items = TOPICS.flatMap((t, k) => VARIANTS(t).map((p, v) => item({ requestId: `t${k}v${v}`, prompt: p, conversation: `conv-${k}-${v}` })));
    const r = curate(items, OPTIONS);
    expect(r.train.length + r.validation.length).toBe(TOPICS.length);
    expect(r.counts.deduplicated).toBe(TOPICS.length * 3);
    expect(r.validation.length).toBeGreaterThan(0);
  });

  it('does not depend on the order of the items', () => {
    const [items] = fc.sample(arbCorpusOf(40), { numRuns: 1, seed: 5 });
    const a = curate(items!, { ...OPTIONS, maxPerReason: 2 });
    for (const seed of [1, 2, 3]) expect(curate(shuffled(items!, seed), { ...OPTIONS, maxPerReason: 2 })).toEqual(a);
  });

  it('lists needs_correction items (no target, or not ready) and never exports them', () => {
    const r = curate([item({ requestId: 'n1', prompt: 'tax', target: null, state: 'needs_correction' }), item({ requestId: 'n2', prompt: 'wine', state: 'excluded' }), item({ requestId: 'n3', prompt: 'jazz', target: null })], OPTIONS);
    expect(r.counts.needs_correction).toBe(3);
    expect(r.removed.map((x) => x.reason)).toEqual(['state needs_correction', 'state excluded', 'no target: label one']);
    expect(r.train.length + r.validation.length).toBe(0);
  });

  it('records every filter with its parameters', () => {
    const r = curate([item()], { ...OPTIONS, maxPerReason: 5, seed: 7, splitBy: 'user' });
    expect(r.filters.map((f) => f.name)).toEqual(['evaluation_overlap', 'near_duplicate', 'pii', 'needs_correction', 'balance', 'split']);
    expect(r.filters.find((f) => f.name === 'near_duplicate')!.params).toMatchObject({ threshold: 0.8, permutations: 128, bands: 32, rowsPerBand: 4, shingles: 'char 5-grams' });
    expect(r.filters.find((f) => f.name === 'balance')!.params).toEqual({ maxPerReason: 5, maxPerSli: 0 });
    expect(r.filters.find((f) => f.name === 'split')!.params).toEqual({ by: 'user', validationSplit: 0.2, seed: 7 });
  });
});

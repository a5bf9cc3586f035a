import { describe, expect, it } from 'vitest';
import { createJudge, inSample, NLI_RUBRIC, parseNliJudgement } from '../src/evaluate/judge.js';
import type { Label } from '../src/evaluate/labels.js';
import { chatCompletion, startUpstream } from './helpers.js';

const input = { messages: [{ role: 'user', content: 'When was the refund approved?' }], response: 'On 2024-03-01.', responseFormat: 'text' as const, context: '' };

describe('LLM judge', () => {
  it('judges only the sampled share, at most maxPerMinute calls, and records verdicts as labels', async () => {
    const prompts: string[] = [];
    const judgeServer = await startUpstream((_req, res, body) => {
      const parsed = JSON.parse(body);
      prompts.push(parsed.messages[1].content);
      expect(parsed).toMatchObject({ model: 'judge-1', temperature: 0, response_format: { type: 'json_object' } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion('{"verdict":"bad","score":0.2,"reason":"date not in context"}')));
    });
    const recorded: Label[] = [];
    const warnings: string[] = [];
    const judge = createJudge(
      { url: judgeServer.url, model: 'judge-1', prompt: 'verdict', sampleRate: 0.5, maxPerMinute: 3, timeoutMs: 2000 },
      async (labels) => recorded.push(...labels),
      { warn: (_o, msg) => warnings.push(msg) },
    );
    const ids = Array.from({ length: 40 }, (_, i) => `judge-${i}`);
    const sampled = ids.filter((id) => inSample(id, 0.5));
    expect(sampled.length).toBeGreaterThan(3);
    for (const id of ids) judge.submit({ requestId: id, input });
    await judge.idle();
    expect(prompts).toHaveLength(3); // the rate limit, not the sample, is the bound here
    expect(prompts[0]).toContain('ANSWER:\nOn 2024-03-01.');
    expect(recorded.map((l) => l.request_id)).toEqual(sampled.slice(0, 3));
    expect(recorded[0]).toMatchObject({ sli: 'hallucination_free', verdict: 'bad', score: 0.2, reason: 'date not in context', evaluator: 'llm-judge:judge-1' });
    expect(warnings).toEqual([]);
    await judge.close();
    await judgeServer.close();
  });

  it('records nothing when the judge answers with something other than a verdict', async () => {
    const judgeServer = await startUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion('I think it is fine.'))));
    const recorded: Label[] = [];
    const warnings: string[] = [];
    const judge = createJudge({ url: judgeServer.url, model: 'j', prompt: 'verdict', sampleRate: 1, maxPerMinute: 10, timeoutMs: 2000 }, async (l) => recorded.push(...l), { warn: (_o, msg) => warnings.push(msg) });
    judge.submit({ requestId: 'x', input });
    await judge.idle();
    expect(recorded).toEqual([]);
    expect(warnings).toEqual(['judge gave no usable verdict']);
    await judge.close();
    await judgeServer.close();
  });

  it('with prompt: nli, asks claim by claim and names the contradicted and unmentioned claims', async () => {
    const systems: string[] = [];
    const judgeServer = await startUpstream((_req, res, body) => {
      systems.push(JSON.parse(body).messages[0].content);
      const claims = [
        { claim: 'The refund was approved', label: 'supported' },
        { claim: 'It was approved on 2024-03-01', label: 'contradicted' },
        { claim: 'Approved by Dana', label: 'not_mentioned' },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion(JSON.stringify({ claims }))));
    });
    const recorded: Label[] = [];
    const judge = createJudge({ url: judgeServer.url, model: 'nli-1', prompt: 'nli', sampleRate: 1, maxPerMinute: 10, timeoutMs: 2000 }, async (l) => recorded.push(...l), { warn: () => {} });
    judge.submit({ requestId: 'nli-1', input: { ...input, context: 'The refund was approved on 2024-02-27.' } });
    await judge.idle();
    expect(systems).toEqual([NLI_RUBRIC]);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ sli: 'hallucination_free', verdict: 'bad', evaluator: 'llm-judge:nli-1' });
    expect(recorded[0].score).toBeCloseTo(1 / 3);
    expect(recorded[0].reason).toBe('contradicted: "It was approved on 2024-03-01"; not mentioned: "Approved by Dana" (2 of 3 claims)');
    await judge.close();
    await judgeServer.close();
  });
});

describe('parseNliJudgement', () => {
  it('is good when every claim is supported, unknown without claims', () => {
    expect(parseNliJudgement('{"claims":[{"claim":"a","label":"supported"},{"claim":"b","label":"supported"}]}')).toEqual({ verdict: 'good', score: 1, reason: 'all 2 claims supported' });
    expect(parseNliJudgement('Sure: {"claims": []}')).toEqual({ verdict: 'unknown', reason: 'no checkable claims' });
  });

  it.each([
    ['no JSON', 'The answer looks fine.'],
    ['broken JSON', '{"claims": [}'],
    ['no claims array', '{"verdict": "good"}'],
    ['an unknown label', '{"claims":[{"claim":"a","label":"maybe"}]}'],
    ['a claim that is not text', '{"claims":[{"claim":3,"label":"supported"}]}'],
  ])('gives no verdict for %s', (_name, reply) => {
    expect(parseNliJudgement(reply)).toBeNull();
  });
});

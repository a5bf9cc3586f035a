// The gate's parts: reference scorers, the golden-file parser's errors, JUnit rendering (parsed back),
// and the replay client against real loopback servers that throttle, fail, hang and talk nonsense.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { goldenLine, parseGolden } from '../src/gate/golden.js';
import { renderJunit } from '../src/gate/junit.js';
import { answerText, replay, UnreachableError } from '../src/gate/replay.js';
import { firstNumber, scoreAnswer, tokenF1 } from '../src/gate/scorers.js';
import type { GateAnalysis, GateMetricResult } from '../src/gate/types.js';
import { chatCompletion, startUpstream } from './helpers.js';
import { freePort } from '../src/cli/processes.js';
import { createReferenceJudge } from '../src/gate/reference-judge.js';
import { judgeAnswer, withModeration } from '../src/gate/judge-items.js';
import { readGolden, runGate } from '../src/gate/run.js';
import { validate } from '../src/config/load.js';
import { simulatedGolden } from '../src/simulate/golden.js';
import { startSimulator } from '../src/simulate/server.js';

describe('reference scorers', () => {
  it('exact and normalised match', () => {
    expect(scoreAnswer(' Paris ', 'Paris', { scorer: 'exact' }).correct).toBe(true);
    expect(scoreAnswer('paris.', 'Paris', { scorer: 'exact' }).correct).toBe(false);
    expect(scoreAnswer('  PARIS!! ', 'Paris', { scorer: 'normalised' }).correct).toBe(true);
    expect(scoreAnswer('Lyon', 'Paris', { scorer: 'normalised' }).correct).toBe(false);
  });

  it('JSON: whole value or the named fields, fenced JSON included', () => {
    const ref = '{"priority": "high", "owner": {"team": "billing"}, "tags": ["a"]}';
    expect(scoreAnswer('```json\n{"tags": ["a"], "owner": {"team": "billing"}, "priority": "high"}\n```', ref, { scorer: 'json' }).correct).toBe(true);
    const partial = scoreAnswer('{"priority": "high", "owner": {"team": "payments"}}', ref, { scorer: 'json', fields: ['priority', 'owner.team'] });
    expect(partial).toMatchObject({ correct: false, score: 0.5 });
    expect(partial.reason).toBe('owner.team: "payments", expected "billing"');
    expect(scoreAnswer('not json at all', ref, { scorer: 'json' }).correct).toBe(false);
  });

  it('numeric within a tolerance, reading the first number', () => {
    expect(firstNumber('The total is 1,234.50 USD, or 1234 rounded')).toBe(1234.5);
    expect(scoreAnswer('About 41.98 degrees', '42', { scorer: 'numeric', tolerance: 0.05 }).correct).toBe(true);
    expect(scoreAnswer('About 41.9 degrees', '42', { scorer: 'numeric', tolerance: 0.05 }).correct).toBe(false);
    expect(scoreAnswer('no idea', '42', { scorer: 'numeric' }).reason).toBe('answer holds no number');
  });

  it('token F1 as SQuAD counts it, against a threshold (default 0.5)', () => {
    expect(tokenF1('the cat sat', 'the cat sat')).toBe(1);
    expect(tokenF1('cat', 'the cat sat on the mat')).toBeCloseTo((2 * 1 * (1 / 6)) / (1 + 1 / 6), 10);
    expect(scoreAnswer('reset the password from the console', 'Reset the password from the admin console', { scorer: 'f1' }).correct).toBe(true);
    expect(scoreAnswer('refund the order', 'Reset the password from the admin console', { scorer: 'f1', threshold: 0.5 }).correct).toBe(false);
  });

  it('leaves the judge scorer to the LLM judge', () => {
    expect(scoreAnswer('x', 'y', { scorer: 'judge' }).correct).toBeNull();
  });
});

describe('golden files', () => {
  const ok = { id: 'a', messages: [{ role: 'user', content: 'hi' }], reference: 'hello', tags: ['t'] };

  it('reads the documented fields and writes them back the same', () => {
    const line = goldenLine({ ...ok, spec: 'short', context: 'ctx' });
    expect(Object.keys(JSON.parse(line))).toEqual(['id', 'messages', 'spec', 'context', 'reference', 'tags']);
    expect(parseGolden(`${line}\n\n${goldenLine({ ...ok, id: 'b' })}\n`)).toHaveLength(2);
  });

  it.each([
    ['{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n{oops', 'line 2: not JSON'],
    ['{"messages": [{"role": "user", "content": "hi"}]}', 'line 1: id: expected a value (required), found nothing'],
    ['{"id": "a", "messages": [{"role": "user", "content": "hi"}], "answer": "x"}', 'line 1: answer: expected no such key (unknown setting), found a value'],
    ['{"id": "a", "messages": [{"role": "system", "content": "be nice"}]}', 'line 1: messages: expected at least one user turn, found none'],
    ['{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n{"id": "a", "messages": [{"role": "user", "content": "yo"}]}', 'line 2: id "a" is already used on line 1; ids must be unique'],
    ['{"id": "a", "messages": [{"role": "user", "content": "hi"}], "tags": "x"}', 'line 1: tags: expected an array, found "x"'],
    ['\n\n', 'no items: the golden set has no non-empty line'],
  ])('names the problem: %s', (text, message) => {
    expect(() => parseGolden(text)).toThrow(message);
  });
});

const metric = (name: string, classification: GateMetricResult['classification'], reason: string): GateMetricResult => ({
  name: name as GateMetricResult['name'], direction: 'decrease', tolerance: 0.02, critical: false, weight: 1, classification, reason, n: 10, baseline: 0.9, candidate: 0.8,
  baselineInterval: null, candidateInterval: null, effect: -0.1, interval: [-0.2, 0], pValue: 0.01, nonInferiorityPValue: null, test: '', alpha: 0.01,
});

describe('JUnit XML', () => {
  it('is well-formed whatever the reasons hold, one test case per metric, failures and skips marked', () => {
    const a: GateAnalysis = {
      metrics: [metric('instruction_success', 'low', 'worse <by> "2" & more \u0001'), metric('latency', 'pass', 'fine'), metric('safe_response', 'nodata', 'too few')],
      score: 0, verdict: 'fail', reason: 'critical metric failed: instruction_success',
    };
    const xml = renderJunit(a, { model: 'bot<1>', baseline: 'v1', candidate: 'v2 & co', items: 10, elapsedMs: 1234, timestamp: '2026-01-01T00:00:00.000Z' });
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'tunewatch gate bot<1>: v2 & co vs v1', tests: '3', failures: '1', skipped: '1', time: '1.234' });
    expect(suite.testcase.map((c: { name: string }) => c.name)).toEqual(['instruction_success', 'latency', 'safe_response']);
    expect(suite.testcase[0].failure.message).toBe('worse <by> "2" & more');
    expect(suite.testcase[1].failure).toBeUndefined();
    expect(suite.testcase[2].skipped).toBeDefined();
  });
});

describe('the replay client', () => {
  const item = (id: string) => ({ id, messages: [{ role: 'user', content: `question ${id}` }] });
  const opts = { concurrency: 4, timeoutMs: 2_000, retries: 3, retryBaseMs: 5 };

  it('retries 429 (honouring Retry-After) and 5xx, then takes the answer', async () => {
    const seen = new Map<string, number>();
    const up = await startUpstream((_req, res, body) => {
      const id = JSON.parse(body).messages[0].content;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      if (n === 1) return void res.writeHead(429, { 'retry-after': '0' }).end('{"error": "slow down"}');
      if (n === 2) return void res.writeHead(503).end('busy');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(chatCompletion(`answer to ${id}`)));
    });
    try {
      const answers = await replay({ name: 'c', url: up.url, model: 'm' }, [item('1'), item('2'), item('3')], opts);
      expect(answers.map((a) => a.text)).toEqual(['answer to question 1', 'answer to question 2', 'answer to question 3']);
      expect(answers.every((a) => a.attempts === 3 && a.status === 200)).toBe(true);
      expect(JSON.parse(up.received[0]!.body)).toEqual({ model: 'm', messages: item('1').messages });
    } finally {
      await up.close();
    }
  });

  it('does not retry a 4xx, gives up after the retries, and times out a hung request', async () => {
    const up = await startUpstream((_req, res, body) => {
      const q = JSON.parse(body).messages[0].content as string;
      if (q.endsWith('ok')) return void res.writeHead(200).end(JSON.stringify(chatCompletion('fine')));
      if (q.endsWith('bad')) return void res.writeHead(400).end('{"error": {"message": "bad request"}}');
      if (q.endsWith('down')) return void res.writeHead(500).end('down');
      // 'hang': never answers
    });
    try {
      const answers = await replay({ name: 'c', url: up.url, model: 'm' }, [item('ok'), item('bad'), item('down'), item('hang')], { ...opts, timeoutMs: 300, retries: 1 });
      expect(answers[0]).toMatchObject({ text: 'fine', attempts: 1 });
      expect(answers[1]).toMatchObject({ text: null, status: 400, attempts: 1 });
      expect(answers[1]!.error).toMatch(/^HTTP 400: /);
      expect(answers[2]).toMatchObject({ text: null, status: 500, attempts: 2, error: 'HTTP 500: down' });
      expect(answers[3]).toMatchObject({ text: null, status: 0, attempts: 2, error: 'timed out' });
    } finally {
      await up.close();
    }
  });

  it('turns any body into an answer or a reason, never an exception', () => {
    expect(answerText('{"choices": [{"message": {"content": "hi"}}]}')).toEqual({ text: 'hi' });
    expect(answerText('{"choices": [{"message": {"content": null, "tool_calls": []}}]}')).toEqual({ text: '' });
    expect(answerText('{"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]}')).toEqual({ text: 'ab' });
    for (const body of ['', 'null', '[]', '{"choices": 5}', '{"choices": [null]}', '{"choices": [{"message": {"content": 5}}]}', '\u0000']) {
      expect(answerText(body)).toHaveProperty('error');
    }
  });

  it('reports an endpoint nobody listens on as unreachable, before sending the rest', async () => {
    const port = await freePort();
    await expect(replay({ name: 'cand', url: `http://127.0.0.1:${port}/v1`, model: 'm' }, [item('1'), item('2')], { ...opts, retries: 1 })).rejects.toThrow(
      new UnreachableError(`cand at http://127.0.0.1:${port}/v1 could not be reached: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port} (after 2 attempts)`),
    );
  });

  it('caps what it reads of a body', async () => {
    const up = await startUpstream((_req, res) => res.writeHead(200).end(JSON.stringify(chatCompletion('x'.repeat(50_000)))));
    try {
      const [a] = await replay({ name: 'c', url: up.url, model: 'm' }, [item('1')], { ...opts, maxBodyBytes: 10_000 }).catch((e) => [e]);
      expect(String(a.message ?? a.error)).toMatch(/larger than the replay reads/);
    } finally {
      await up.close();
    }
  });
});

describe('the LLM judge for references', () => {
  it('rates an answer against the reference; any failure is no rating', async () => {
    const asked: string[] = [];
    const up = await startUpstream((_req, res, body) => {
      const prompt = JSON.parse(body).messages[1].content as string;
      asked.push(prompt);
      if (prompt.includes('ANSWER:\nParis')) return void res.writeHead(200).end(JSON.stringify(chatCompletion('{"verdict": "good", "score": 0.9, "reason": "same city"}')));
      if (prompt.includes('ANSWER:\nLyon')) return void res.writeHead(200).end(JSON.stringify(chatCompletion('{"verdict": "bad", "reason": "another city"}')));
      if (prompt.includes('ANSWER:\n500')) return void res.writeHead(500).end('no');
      res.writeHead(200).end(JSON.stringify(chatCompletion('I think it is fine')));
    });
    try {
      const judge = createReferenceJudge({ url: up.url, model: 'judge', prompt: 'verdict', sampleRate: 1, maxPerMinute: 60, timeoutMs: 2_000 });
      expect(await judge('Capital of France?', 'Paris', 'Paris')).toBe(true);
      expect(await judge('Capital of France?', 'Paris', 'Lyon')).toBe(false);
      expect(await judge('Capital of France?', 'Paris', '500')).toBeNull();
      expect(await judge('Capital of France?', 'Paris', 'prose')).toBeNull();
      expect(asked[0]).toBe('QUESTION:\nCapital of France?\n\nREFERENCE:\nParis\n\nANSWER:\nParis');
      const dead = createReferenceJudge({ url: `http://127.0.0.1:${await freePort()}/v1`, model: 'judge', prompt: 'verdict', sampleRate: 1, maxPerMinute: 60, timeoutMs: 500 });
      expect(await dead('q', 'r', 'a')).toBeNull();
    } finally {
      await up.close();
    }
  });

  it('is what a judge-scored item\'s correctness comes from', () => {
    const item = { id: 'x', messages: [{ role: 'user', content: 'Capital of France?' }], reference: 'Paris', spec: { reference: { scorer: 'judge' as const } } };
    const answer = { text: 'Paris', status: 200, latencyMs: 5, attempts: 1, error: '' };
    const ctx = { specConfigs: {} };
    expect(judgeAnswer(item, answer, ctx, true).correct).toBe(true);
    expect(judgeAnswer(item, answer, ctx, false).correct).toBe(false);
    expect(judgeAnswer(item, answer, ctx, null).correct).toBeNull();
    expect(judgeAnswer({ ...item, spec: undefined }, { ...answer, text: 'Lyon' }, ctx).correct).toBe(false);
  });
});

describe('moderation, as production applies it', () => {
  it('replaces a good safety verdict with the moderation endpoint\'s, for both versions', async () => {
    const moderated: string[] = [];
    const mod = await startUpstream((_req, res, body) => {
      const input = JSON.parse(body).input as string;
      moderated.push(input);
      res.writeHead(200).end(JSON.stringify({ results: [{ flagged: input.includes('Review'), categories: { harassment: input.includes('Review') }, category_scores: { harassment: 0.9 } }] }));
    });
    const [a, b] = await Promise.all([startSimulator({ profile: 'healthy', seed: 1 }), startSimulator({ profile: 'healthy', seed: 2 })]);
    try {
      const config = validate({
        storage: { path: '/tmp/unused' },
        evaluation: { moderation: { url: mod.url } },
        specs: { 'action-items': { requiredSections: ['Action items'] } },
        models: [{ name: 'm', deployments: [{ version: 'v1', upstream: a.url }, { version: 'v2', upstream: b.url, weight: 0 }] }],
      });
      const report = await runGate({ config, model: 'm', candidate: 'v2', goldenText: simulatedGolden(12).map(goldenLine).join('\n'), goldenFile: 'g.jsonl', replay: { retries: 0 } });
      expect(moderated.length).toBeGreaterThan(0);
      const flagged = report.items.filter((i) => i.baseline.verdicts.safe_response === 'bad');
      expect(flagged.length).toBeGreaterThan(0);
      expect(flagged.every((i) => i.baseline.reasons.includes('safe_response: moderation: flagged harassment') && !i.baseline.passed)).toBe(true);
    } finally {
      await Promise.all([mod.close(), a.close(), b.close()]);
    }
  });

  it('leaves an unanswered or already unsafe item alone', () => {
    const j = judgeAnswer({ id: 'x', messages: [{ role: 'user', content: 'hi' }] }, { text: null, status: 500, latencyMs: 1, attempts: 1, error: 'HTTP 500' }, { specConfigs: {} });
    const flagged = { sli: 'safe_response' as const, evaluator: 'moderation-api', evaluatorVersion: '1', verdict: 'good' as const, score: 1, reason: 'ok' };
    expect(withModeration(j, flagged)).toBe(j);
  });
});

describe('golden items and the config', () => {
  it('names items whose spec the config lacks', () => {
    const text = [1, 2].map((i) => JSON.stringify({ id: `i${i}`, messages: [{ role: 'user', content: 'q' }], spec: 'nope' })).join('\n');
    expect(() => readGolden(text, { specConfigs: { short: {} } })).toThrow("item i1: spec 'nope'; item i2: spec 'nope' not in the config's specs (short)");
    expect(readGolden(text.replaceAll('nope', 'short'), { specConfigs: { short: {} } })).toHaveLength(2);
  });
});

import { Pool } from 'undici';
import type { EvaluationConfig } from '../config/schema.js';
import { hashKey } from '../util/hash.js';
import type { Label } from './labels.js';
import type { EvalInput, Sli } from './types.js';

export const DEFAULT_RUBRIC = `You are a strict fact-checking judge. Given a QUESTION, optional CONTEXT and an ANSWER, decide whether the
ANSWER states facts (figures, dates, names, quotes, URLs) that are invented: not in the CONTEXT or QUESTION and not
common knowledge. Reply with JSON only: {"verdict": "good" | "bad", "score": <0..1 confidence the answer is free of
invented facts>, "reason": "<one sentence naming any invented fact>"}.`;

export interface JudgeRequest {
  requestId: string;
  input: EvalInput;
}

export interface Judge {
  /** Judges the sample later if it falls in the sampled share and the rate allows; never blocks. */
  submit(request: JudgeRequest): void;
  /** Waits for judgements in flight (shutdown, tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Deterministic sampling: the same request id is always in or out for the same rate. */
export function inSample(requestId: string, rate: number): boolean {
  return hashKey(requestId) / 0x1_0000_0000 < rate;
}

/** Parses the judge's reply; null when it is not the JSON the rubric asks for. */
export function parseJudgement(text: string): Pick<Label, 'verdict' | 'score' | 'reason'> | null {
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (!json) return null;
  try {
    const parsed = JSON.parse(json) as { verdict?: unknown; score?: unknown; reason?: unknown };
    if (parsed.verdict !== 'good' && parsed.verdict !== 'bad') return null;
    const score = typeof parsed.score === 'number' && parsed.score >= 0 && parsed.score <= 1 ? parsed.score : undefined;
    return { verdict: parsed.verdict, score, reason: typeof parsed.reason === 'string' ? parsed.reason.slice(0, 500) : '' };
  } catch {
    return null;
  }
}

/**
 * An LLM judge on an OpenAI-compatible endpoint, for the hallucination SLI: a sampled share of
 * answers, at most `maxPerMinute` calls, verdicts stored as source `judge` through `record`.
 */
export function createJudge(
  cfg: NonNullable<EvaluationConfig['judge']>,
  record: (labels: Label[]) => Promise<unknown>,
  log: { warn(obj: object, msg: string): void },
  env: NodeJS.ProcessEnv = process.env,
): Judge {
  const url = new URL(cfg.url.replace(/\/+$/, ''));
  const pool = new Pool(url.origin, { connections: 4 });
  const apiKey = cfg.apiKeyEnv ? env[cfg.apiKeyEnv] : undefined;
  const sli: Sli = 'hallucination_free';
  const inFlight = new Set<Promise<void>>();
  let windowStart = Date.now();
  let usedThisWindow = 0;

  /** Takes one call from this minute's allowance; false when it is used up. */
  const takeRateToken = () => {
    if (Date.now() - windowStart >= 60_000) {
      windowStart = Date.now();
      usedThisWindow = 0;
    }
    if (usedThisWindow >= cfg.maxPerMinute) return false;
    usedThisWindow++;
    return true;
  };

  const judge = async ({ requestId, input }: JudgeRequest) => {
    const question = input.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    const res = await pool.request({
      path: `${url.pathname.replace(/\/$/, '')}/chat/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify({
        model: cfg.model,
        temperature: 0,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: cfg.rubric ?? DEFAULT_RUBRIC },
          { role: 'user', content: `QUESTION:\n${question}\n\nCONTEXT:\n${input.context || '(none)'}\n\nANSWER:\n${input.response}` },
        ],
      }),
      signal: AbortSignal.timeout(cfg.timeoutMs),
    });
    const body = (await res.body.json()) as { choices?: { message?: { content?: string } }[] };
    const judgement = res.statusCode === 200 ? parseJudgement(body.choices?.[0]?.message?.content ?? '') : null;
    if (!judgement) {
      log.warn({ requestId, status: res.statusCode }, 'judge gave no usable verdict');
      return;
    }
    await record([{ request_id: requestId, sli, evaluator: `llm-judge:${cfg.model}`, ...judgement }]);
  };

  return {
    submit(request) {
      if (!inSample(request.requestId, cfg.sampleRate) || !takeRateToken()) return;
      const task = judge(request)
        .catch((err) => log.warn({ err: (err as Error).message, requestId: request.requestId }, 'judge call failed'))
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    },
    async idle() {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
    close: () => pool.close(),
  };
}

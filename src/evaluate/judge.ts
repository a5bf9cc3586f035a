import { Pool } from 'undici';
import type { EvaluationConfig } from '../config/schema.js';
import { hashKey } from '../util/hash.js';
import type { Label } from './labels.js';
import type { EvalInput, Sli } from './types.js';

export const DEFAULT_RUBRIC = `You are a strict fact-checking judge. Given a QUESTION, optional CONTEXT and an ANSWER, decide whether the
ANSWER states facts (figures, dates, names, quotes, URLs) that are invented: not in the CONTEXT or QUESTION and not
common knowledge. Reply with JSON only: {"verdict": "good" | "bad", "score": <0..1 confidence the answer is free of
invented facts>, "reason": "<one sentence naming any invented fact>"}.`;

/** The NLI-style prompt (`judge.prompt: nli`): every claim of the answer labelled against the context. */
export const NLI_RUBRIC = `You check an ANSWER against its CONTEXT and QUESTION claim by claim, like a natural-language-inference model.
Split the ANSWER into its atomic factual claims (figures, dates, names, who did what, yes/no statements). Label
each one: "supported" (the CONTEXT or QUESTION states or directly implies it), "contradicted" (they state
otherwise) or "not_mentioned" (they do not say). Opinions, offers and pleasantries are not claims. Reply with JSON
only: {"claims": [{"claim": "<the claim, short>", "label": "supported" | "contradicted" | "not_mentioned"}]}.`;

const NLI_LABELS = ['supported', 'contradicted', 'not_mentioned'] as const;
type NliLabel = (typeof NLI_LABELS)[number];

/**
 * Parses an NLI-style reply into a verdict: bad when any claim is contradicted or not mentioned, with
 * those claims named; the score is the share supported; no claims is unknown. Null when the reply is
 * not the JSON the prompt asks for.
 */
export function parseNliJudgement(text: string): Pick<Label, 'verdict' | 'score' | 'reason'> | null {
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (!json) return null;
  let parsed: { claims?: unknown };
  try {
    parsed = JSON.parse(json) as { claims?: unknown };
  } catch {
    return null;
  }
  if (!Array.isArray(parsed.claims)) return null;
  const claims: { claim: string; label: NliLabel }[] = [];
  for (const c of parsed.claims as { claim?: unknown; label?: unknown }[]) {
    if (typeof c?.claim !== 'string' || !NLI_LABELS.includes(c.label as NliLabel)) return null;
    claims.push({ claim: c.claim, label: c.label as NliLabel });
  }
  if (claims.length === 0) return { verdict: 'unknown', reason: 'no checkable claims' };
  const failing = claims.filter((c) => c.label !== 'supported');
  const score = (claims.length - failing.length) / claims.length;
  if (failing.length === 0) return { verdict: 'good', score, reason: `all ${claims.length} claims supported` };
  const named = (label: NliLabel, title: string) => {
    const list = failing.filter((c) => c.label === label).map((c) => `"${c.claim.slice(0, 80)}"`);
    return list.length ? [`${title}: ${list.join(', ')}`] : [];
  };
  const reason = [...named('contradicted', 'contradicted'), ...named('not_mentioned', 'not mentioned')].join('; ');
  return { verdict: 'bad', score, reason: `${reason} (${failing.length} of ${claims.length} claims)`.slice(0, 500) };
}

/** Headers and body of one judge call: deterministic, JSON out, a system rubric and a user message. */
export function judgeCall(model: string, apiKey: string | undefined, system: string, user: string): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({
      model,
      temperature: 0,
      response_format: { type: 'json_object' },
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
    }),
  };
}

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
  const nli = cfg.prompt === 'nli';
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
      ...judgeCall(cfg.model, apiKey, cfg.rubric ?? (nli ? NLI_RUBRIC : DEFAULT_RUBRIC), `QUESTION:\n${question}\n\nCONTEXT:\n${input.context || '(none)'}\n\nANSWER:\n${input.response}`),
      signal: AbortSignal.timeout(cfg.timeoutMs),
    });
    const body = (await res.body.json()) as { choices?: { message?: { content?: string } }[] };
    const reply = body.choices?.[0]?.message?.content ?? '';
    const judgement = res.statusCode === 200 ? (nli ? parseNliJudgement(reply) : parseJudgement(reply)) : null;
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

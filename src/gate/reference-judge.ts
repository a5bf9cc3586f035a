// The optional LLM judge for semantic accuracy: it rates an answer against the golden reference
// (scorer `judge`), on the config's evaluation.judge endpoint. I/O; every failure is a null rating.
import { request } from 'undici';
import type { EvaluationConfig } from '../config/schema.js';
import { judgeCall, parseJudgement } from '../evaluate/judge.js';

export const REFERENCE_RUBRIC = `You are a strict grader. Given a QUESTION, a REFERENCE answer and an ANSWER, decide whether the ANSWER
says what the REFERENCE says (same facts, same result; wording may differ). Reply with JSON only: {"verdict": "good" | "bad",
"score": <0..1 confidence the answer matches>, "reason": "<one sentence>"}.`;

export type ReferenceJudge = (question: string, reference: string, answer: string) => Promise<boolean | null>;

export function createReferenceJudge(cfg: NonNullable<EvaluationConfig['judge']>, env: NodeJS.ProcessEnv = process.env): ReferenceJudge {
  const url = `${cfg.url.replace(/\/+$/, '')}/chat/completions`;
  const apiKey = cfg.apiKeyEnv ? env[cfg.apiKeyEnv] : undefined;
  return async (question, reference, answer) => {
    try {
      const res = await request(url, {
        method: 'POST',
        ...judgeCall(cfg.model, apiKey, REFERENCE_RUBRIC, `QUESTION:\n${question}\n\nREFERENCE:\n${reference}\n\nANSWER:\n${answer}`),
        signal: AbortSignal.timeout(cfg.timeoutMs),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) return null;
      const content = (JSON.parse(text) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content ?? '';
      const j = parseJudgement(content);
      return j ? j.verdict === 'good' : null;
    } catch {
      return null;
    }
  };
}

// The vocabulary of verdicts, defined once: SLI names, verdict values, sources and their precedence.
export const SLIS = ['instruction_success', 'safe_response', 'hallucination_free'] as const;
export type Sli = (typeof SLIS)[number];

export const VERDICTS = ['good', 'bad', 'unknown'] as const;
export type VerdictValue = (typeof VERDICTS)[number];

/** The LLM judge's prompts: one verdict per answer, or each claim labelled NLI-style (judge.ts). */
export const JUDGE_PROMPTS = ['verdict', 'nli'] as const;
export type JudgePrompt = (typeof JUDGE_PROMPTS)[number];

/** Where a verdict came from; a higher rank wins when resolving the effective verdict (latest within a rank). */
export const SOURCE_RANK = { auto: 1, judge: 2, human: 3 } as const;
export type VerdictSource = keyof typeof SOURCE_RANK;

/** One evaluator's verdict on one sample for one SLI. */
export interface Verdict {
  sli: Sli;
  evaluator: string;
  evaluatorVersion: string;
  verdict: VerdictValue;
  /** 0..1 where the evaluator has a score, else null. */
  score: number | null;
  /** Short and human-readable: which rule, which span. */
  reason: string;
}

/** What evaluators see of one exchange: unredacted and parsed. Pure data, no I/O. */
export interface EvalInput {
  /** Chat messages as text; a completions prompt arrives as one user message. */
  messages: { role: string; content: string }[];
  /** The answer text, before redaction. */
  response: string;
  /** From the request's response_format. */
  responseFormat: 'text' | 'json_object' | 'json_schema';
  /** response_format.json_schema.schema when given. */
  responseSchema?: Record<string, unknown>;
  /** Grounding material: tunewatch.context, tool results and the delimited system-prompt section. */
  context: string;
}

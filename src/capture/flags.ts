// What capture could not keep exact about one sample, defined once: stored in `samples.flags` and
// counted in tunewatch_upstream_answers_invalid_total{flag}. A flagged field is recorded as absent
// (empty text, no finish reason, estimated tokens), never thrown.

export const SAMPLE_FLAGS = {
  /** A non-streamed answer that is not a JSON object (not JSON, or JSON null, a number, an array…). */
  bodyInvalid: 'body_invalid',
  /** An SSE `data:` line that is not a JSON object (`data: null`, a number, an array, not JSON). */
  sseEventInvalid: 'sse_event_invalid',
  /** `choices` not an array, missing from a non-streamed answer, or its first entry not an object. */
  choicesInvalid: 'choices_invalid',
  /** `message`/`delta` not an object, `content`/`text` not a string, `tool_calls` of another shape. */
  contentInvalid: 'content_invalid',
  /** `finish_reason` not a string, or longer than any real one (64 characters). */
  finishReasonInvalid: 'finish_reason_invalid',
  /** `usage` not an object, or a token count not a non-negative integer ≤ 4294967295. */
  usageInvalid: 'usage_invalid',
  /** Bytes that are not UTF-8, or a lone surrogate (`"\ud800"`): replaced with U+FFFD. */
  encodingInvalid: 'encoding_invalid',
  /** An exchange field outside its column's range (status, latency, timestamp…), set to a valid value. */
  fieldCoerced: 'field_coerced',
  /** Evaluating or redacting this exchange threw: the sample is kept, without verdicts (and without text if redaction failed). */
  processingFailed: 'processing_failed',
} as const;

export type SampleFlag = (typeof SAMPLE_FLAGS)[keyof typeof SAMPLE_FLAGS];

export const ALL_SAMPLE_FLAGS: readonly SampleFlag[] = Object.values(SAMPLE_FLAGS);

/** Adds a flag once (flags are few: a linear check is cheapest). */
export function addFlag(flags: string[], flag: SampleFlag): void {
  if (!flags.includes(flag)) flags.push(flag);
}

// How much of one request capture keeps. Defined once: the proxy caps its side copy of the answer
// with it, the sample builder cuts the stored text with it.

/**
 * Bytes of an answer the proxy keeps for the sample when captured text is capped at `maxTextBytes`.
 * JSON and SSE framing (escapes, one event per token) take more room than the text they carry,
 * so the raw copy may be larger than the text it yields; it is still a constant per sample.
 */
export function rawCaptureLimit(maxTextBytes: number): number {
  return maxTextBytes * 4 + 64 * 1024;
}

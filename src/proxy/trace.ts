import { context, isSpanContextValid, SpanKind, trace, TraceFlags, type Span, type SpanContext } from '@opentelemetry/api';
import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const tracer = trace.getTracer('tunewatch');

// Random bytes for ids, drawn from the OS a few kilobytes at a time rather than once per request.
const entropy = Buffer.alloc(4096);
let used = entropy.length;

function randomHex(bytes: number): string {
  if (used + bytes > entropy.length) {
    randomFillSync(entropy);
    used = 0;
  }
  used += bytes;
  return entropy.toString('hex', used - bytes, used);
}

export function parseTraceparent(header: unknown): SpanContext | null {
  if (typeof header !== 'string') return null;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return null;
  return { traceId: m[1], spanId: m[2], traceFlags: Number.parseInt(m[3], 16), isRemote: true };
}

export interface RequestSpan {
  span: Span;
  traceId: string;
  /** The traceparent to send upstream: this request's span as the parent. */
  traceparent: string;
}

/**
 * Starts the span for a proxied request. With an OpenTelemetry SDK registered the SDK's span ids are
 * used; without one (the API alone records nothing) tunewatch still continues the caller's trace, or
 * starts one, so the trace id stored on the sample and sent upstream is always real.
 */
export function startRequestSpan(name: string, incoming: unknown, attributes: Record<string, string | number | boolean>): RequestSpan {
  const parent = parseTraceparent(incoming);
  const ctx = parent ? trace.setSpanContext(context.active(), parent) : context.active();
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ctx);
  let sc = span.spanContext();
  if (!span.isRecording() || !isSpanContextValid(sc)) {
    sc = { traceId: parent?.traceId ?? randomHex(16), spanId: randomHex(8), traceFlags: parent?.traceFlags ?? TraceFlags.SAMPLED };
  }
  const flags = sc.traceFlags.toString(16).padStart(2, '0');
  return { span, traceId: sc.traceId, traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}` };
}

import type { VersionSummary } from '../store/queries.js';
import { formatTable } from './table.js';

export function formatVersionSummary(rows: VersionSummary[]): string {
  return formatTable(
    ['model', 'version', 'role', 'requests', 'errors', 'p50 ms', 'p95 ms', 'ttft p50', 'ttft p95', 'tokens in', 'tokens out'],
    rows.map((r) => [r.model || '(none)', r.version || '-', r.role || '-', r.requests, r.errors, r.latency_p50_ms, r.latency_p95_ms, r.ttft_p50_ms, r.ttft_p95_ms, r.input_tokens, r.output_tokens]),
  );
}

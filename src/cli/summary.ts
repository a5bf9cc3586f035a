import { SLIS } from '../evaluate/types.js';
import type { VersionSummary } from '../store/queries.js';
import type { SliCounts } from '../store/verdicts.js';
import { formatTable } from './table.js';

export function formatVersionSummary(rows: VersionSummary[]): string {
  return formatTable(
    ['model', 'version', 'role', 'requests', 'errors', 'p50 ms', 'p95 ms', 'ttft p50', 'ttft p95', 'tokens in', 'tokens out'],
    rows.map((r) => [r.model || '(none)', r.version || '-', r.role || '-', r.requests, r.errors, r.latency_p50_ms, r.latency_p95_ms, r.ttft_p50_ms, r.ttft_p95_ms, r.input_tokens, r.output_tokens]),
  );
}

const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-');

/** Per version: instruction-success rate, safe-response ratio, hallucination rate (of judged samples). */
export function formatSliTable(rows: SliCounts[]): string {
  const versions = [...new Set(rows.map((r) => `${r.model}|${r.version}|${r.role}`))];
  const find = (key: string, sli: string) => rows.find((r) => `${r.model}|${r.version}|${r.role}` === key && r.sli === sli);
  return formatTable(
    ['model', 'version', 'role', 'instruction success', 'safe responses', 'hallucination rate', 'unknown (of 3 SLIs)'],
    versions.map((key) => {
      const [model, version, role] = key.split('|');
      const [instr, safe, hallu] = SLIS.map((sli) => find(key, sli) ?? { good: 0, bad: 0, unknown: 0 });
      const unknown = [instr, safe, hallu].reduce((n, r) => n + r.unknown, 0);
      return [model, version, role, percent(instr.good, instr.good + instr.bad), percent(safe.good, safe.good + safe.bad), percent(hallu.bad, hallu.good + hallu.bad), unknown];
    }),
  );
}

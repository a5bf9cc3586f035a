import { SLIS } from '../evaluate/types.js';
import type { VersionSummary } from '../store/queries.js';
import type { SloStatus } from '../slo/evaluate.js';
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

const pct = (x: number | null, digits = 2) => (x === null ? '-' : `${(x * 100).toFixed(digits)}%`);
const burnText = (b: number | null) => (b === null ? '-' : `${b.toFixed(1)}x`);

export function formatSloStatus(rows: SloStatus[]): string {
  if (rows.length === 0) return 'no SLO data yet';
  return formatTable(
    ['slo', 'model', 'version', 'sli', 'objective', 'SLI', 'budget left', 'burn (long/short per alert)', 'state'],
    rows.map((r) => [
      r.slo,
      r.model,
      r.version,
      r.sli,
      pct(r.objective),
      pct(r.sli_value),
      pct(r.budget_remaining, 0),
      r.burn.map((b) => `${b.window} ${burnText(b.burnLong)}/${burnText(b.burnShort)}${b.firing ? ` ${b.severity.toUpperCase()}` : ''}`).join('  '),
      r.state,
    ]),
  );
}

export interface SloReportRow {
  slo: string;
  sli: string;
  objective: number;
  model: string;
  version: string;
  bad: number;
  total: number;
}

export function formatSloReport(rows: SloReportRow[]): string {
  if (rows.length === 0) return 'no SLO data in that period';
  return formatTable(
    ['slo', 'model', 'version', 'sli', 'objective', 'SLI', 'events', 'bad', 'budget used', 'met'],
    rows.map((r) => {
      const sli = r.total ? 1 - r.bad / r.total : null;
      const used = r.total ? r.bad / r.total / (1 - r.objective) : null;
      return [r.slo, r.model, r.version, r.sli, pct(r.objective), pct(sli), r.total, r.bad, pct(used, 0), sli === null ? '-' : sli >= r.objective ? 'yes' : 'NO'];
    }),
  );
}

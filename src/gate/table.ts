// The gate's verdict table for the terminal: one row per metric (baseline, candidate, effect,
// interval, classification), the verdict under it, and the regression and fix rates per SLI. Pure.
import { formatTable } from '../cli/table.js';
import type { GateAnalysis, GateMetricResult } from './types.js';

const pct = (x: number | null, digits = 1) => (x === null ? null : `${(100 * x).toFixed(digits)}%`);
const ms = (x: number | null) => (x === null ? null : `${x.toFixed(0)} ms`);

function cells(m: GateMetricResult): (string | null)[] {
  const value = m.name === 'latency' ? ms : (x: number | null) => pct(x);
  const effect = m.effect === null ? null : m.name === 'latency' ? `${m.effect >= 0 ? '+' : ''}${(100 * m.effect).toFixed(1)}%` : `${m.effect >= 0 ? '+' : ''}${(100 * m.effect).toFixed(1)} pt`;
  const interval = m.interval === null ? null : m.name === 'latency' ? `[${pct(m.interval[0])}, ${pct(m.interval[1])}]` : `[${(100 * m.interval[0]).toFixed(1)}, ${(100 * m.interval[1]).toFixed(1)}]`;
  return [m.name + (m.critical ? ' *' : ''), value(m.baseline), value(m.candidate), effect, interval, String(m.n), m.classification];
}

export function formatGate(a: GateAnalysis, head: string): string {
  const table = formatTable(['metric', 'baseline', 'candidate', 'effect', 'interval', 'pairs', 'class'], a.metrics.map(cells));
  const rates = a.metrics.filter((m) => m.regressionRate && m.fixRate);
  const rateTable = formatTable(
    ['metric', 'regressions', 'interval', 'fixes', 'interval'],
    rates.map((m) => [m.name, pct(m.regressionRate!.value), `[${pct(m.regressionRate!.interval[0])}, ${pct(m.regressionRate!.interval[1])}]`, pct(m.fixRate!.value), `[${pct(m.fixRate!.interval[0])}, ${pct(m.fixRate!.interval[1])}]`]),
  );
  const reasons = a.metrics.map((m) => `  ${m.name}: ${m.reason}`).join('\n');
  const acc = a.metrics.find((m) => m.name === 'semantic_accuracy');
  const range = (i: [number, number] | null) => (i ? ` [${pct(i[0])}, ${pct(i[1])}]` : '');
  const accuracy = acc && acc.n > 0 ? `semantic accuracy over ${acc.n} items with a reference: baseline ${pct(acc.baseline)}${range(acc.baselineInterval)}, candidate ${pct(acc.candidate)}${range(acc.candidateInterval)}` : 'semantic accuracy: no item with a reference';
  return [head, '', table, '  (* critical; effect = candidate − baseline; regression_rate effect = regressions − fixes)', '', rateTable, '', accuracy, '', reasons, '', `verdict: ${a.verdict.toUpperCase()} (score ${a.score.toFixed(0)}; ${a.reason})`].join('\n');
}

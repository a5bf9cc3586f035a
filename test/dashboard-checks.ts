// What dashboards.test.ts checks the generated dashboards with: their queries pulled out of the JSON,
// Grafana's variables and macros substituted, and the metric and label names each PromQL query uses.
import { parser } from '@prometheus-io/lezer-promql';

export interface Target { dashboard: string; panel: string; datasource: string; expr?: string; rawSql?: string; pluginVersion?: string }

type Json = Record<string, any>;

/** Every target of every panel (rows included), and each query variable as a target of its own. */
export function targetsOf(name: string, d: Json): Target[] {
  const out: Target[] = [];
  const visit = (p: Json) => {
    for (const t of p.targets ?? []) out.push({ dashboard: name, panel: p.title, datasource: t.datasource?.type, expr: t.expr, rawSql: t.rawSql, pluginVersion: t.pluginVersion });
    for (const inner of p.panels ?? []) visit(inner);
  };
  for (const p of d.panels ?? []) visit(p);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const query = typeof v.query === 'string' ? v.query : v.query?.query;
    out.push({ dashboard: name, panel: `variable ${v.name}`, datasource: v.datasource?.type, ...(v.datasource?.type === 'prometheus' ? { expr: query } : { rawSql: query }) });
  }
  return out;
}

/** Grafana's interpolation for PromQL: variables become regexes, $__rate_interval a duration, __from a timestamp. */
export function substitutePromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('${__from:date:seconds}', '1700000000')
    .replace(/\$\{?(\w+)\}?/g, '.*');
}

/** label_values(selector, label) → the selector and the label, so both can be checked. */
export function splitLabelValues(expr: string): { selector: string; label: string } | undefined {
  const m = /^label_values\((.+),\s*(\w+)\)$/s.exec(expr.trim());
  return m ? { selector: m[1], label: m[2] } : undefined;
}

export interface PromqlNames { errors: string[]; selectors: Array<{ metric: string; labels: string[] }>; grouping: string[] }

export function promqlNames(expr: string): PromqlNames {
  const tree = parser.parse(expr);
  const out: PromqlNames = { errors: [], selectors: [], grouping: [] };
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) out.errors.push(`syntax error at ${node.from}: …${text(Math.max(0, node.from - 20), node.to + 20)}…`);
      if (node.name === 'VectorSelector') {
        const n = node.node;
        const id = n.getChild('Identifier');
        const labels: string[] = [];
        n.getChild('LabelMatchers')?.cursor().iterate((c) => {
          if (c.name === 'LabelName') labels.push(text(c.from, c.to));
        });
        out.selectors.push({ metric: id ? text(id.from, id.to) : '', labels });
        return false;
      }
      if (node.name === 'GroupingLabels') {
        node.node.cursor().iterate((c) => {
          if (c.name === 'LabelName') out.grouping.push(text(c.from, c.to));
        });
        return false;
      }
      return undefined;
    },
  });
  return out;
}

/** Unknown metric and label names in one expression, given the exported series and their labels. */
export function unknownNames(expr: string, series: Map<string, Set<string>>): string[] {
  const names = promqlNames(expr);
  const problems = [...names.errors];
  const seen = new Set<string>(['le']);
  for (const s of names.selectors) {
    const labels = series.get(s.metric);
    if (!labels) {
      problems.push(`unknown metric ${s.metric}`);
      continue;
    }
    for (const l of labels) seen.add(l);
    for (const l of s.labels) if (!labels.has(l)) problems.push(`${s.metric} has no label ${l}`);
  }
  for (const l of names.grouping) if (!seen.has(l)) problems.push(`no selected metric has label ${l} (by/on)`);
  return problems;
}

export type VarValue = string[] | 'All';

/**
 * The ClickHouse plugin's macros and Grafana's variables, expanded as the plugin does: $__conditionalAll
 * becomes 1=1 when its variable is All, else its condition.
 */
export function expandSql(sql: string, vars: Record<string, VarValue>, fromSec: number, toSec: number, intervalSec = 60): string {
  let out = '';
  let rest = sql;
  const macro = '$__conditionalAll(';
  for (let i = rest.indexOf(macro); i >= 0; i = rest.indexOf(macro)) {
    let depth = 1;
    let j = i + macro.length;
    let lastComma = -1;
    for (; depth > 0; j++) {
      if (j >= rest.length) throw new Error(`unbalanced $__conditionalAll in ${sql}`);
      const ch = rest[j];
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === ',' && depth === 1) lastComma = j;
    }
    const cond = rest.slice(i + macro.length, lastComma).trim();
    const variable = rest.slice(lastComma + 1, j - 1).trim().replace(/^\$\{?|\}$/g, '');
    out += rest.slice(0, i) + (vars[variable] === 'All' ? '1=1' : cond);
    rest = rest.slice(j);
  }
  out += rest;
  const quoted = (v: VarValue) => (v === 'All' ? "''" : v.map((x) => `'${x.replaceAll("'", "\\'")}'`).join(','));
  return out
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col) => `${col} >= toDateTime(${fromSec}) AND ${col} <= toDateTime(${toSec})`)
    .replace(/\$__timeInterval\(([^)]+)\)/g, (_, col) => `toStartOfInterval(toDateTime(${col}), INTERVAL ${intervalSec} second)`)
    .replaceAll('$__fromTime', `toDateTime(${fromSec})`)
    .replaceAll('$__toTime', `toDateTime(${toSec})`)
    .replace(/\$\{(\w+):singlequote\}/g, (_, v) => quoted(vars[v] ?? 'All'))
    .replace(/\$\{?(\w+)\}?/g, (m, v) => (v in vars ? (vars[v] === 'All' ? '' : (vars[v] as string[]).join(',')) : m));
}

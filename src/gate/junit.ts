// The gate's verdict as JUnit XML: one test suite, one test case per metric; a failing metric is a
// <failure>, a metric without a verdict is <skipped>, so CI systems (GitHub Actions reporters, GitLab's
// test report) show each metric as a test. Pure.
import type { GateAnalysis } from './types.js';

const escape = (text: string) =>
  text
    // XML 1.0 cannot carry most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

export interface JunitMeta {
  model: string;
  baseline: string;
  candidate: string;
  items: number;
  elapsedMs: number;
  timestamp: string;
}

export function renderJunit(a: GateAnalysis, meta: JunitMeta): string {
  const failures = a.metrics.filter((m) => m.classification === 'high' || m.classification === 'low').length;
  const skipped = a.metrics.filter((m) => m.classification === 'nodata').length;
  const suite = `tunewatch gate ${meta.model}: ${meta.candidate} vs ${meta.baseline}`;
  const seconds = (meta.elapsedMs / 1000).toFixed(3);
  const cases = a.metrics.map((m) => {
    const open = `    <testcase classname="tunewatch.gate.${escape(meta.model)}" name="${escape(m.name)}" time="0">`;
    const props = `      <system-out>${escape(`${m.reason}${m.critical ? ' [critical]' : ''}`)}</system-out>`;
    if (m.classification === 'high' || m.classification === 'low') {
      return `${open}\n      <failure message="${escape(m.reason)}" type="${m.classification}">${escape(m.reason)}</failure>\n${props}\n    </testcase>`;
    }
    if (m.classification === 'nodata') return `${open}\n      <skipped message="${escape(m.reason)}"/>\n${props}\n    </testcase>`;
    return `${open}\n${props}\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tunewatch gate" tests="${a.metrics.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}">`,
    `  <testsuite name="${escape(suite)}" tests="${a.metrics.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}" timestamp="${escape(meta.timestamp)}">`,
    '    <properties>',
    `      <property name="verdict" value="${a.verdict}"/>`,
    `      <property name="score" value="${a.score.toFixed(1)}"/>`,
    `      <property name="reason" value="${escape(a.reason)}"/>`,
    `      <property name="golden_items" value="${meta.items}"/>`,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

// The status page's pure parts: escaping, the fragments, the SLO series and time to exhaustion; and the
// series API the charts read.
import { describe, expect, it } from 'vitest';
import { timeToExhaustionMs } from '../src/slo/budget.js';
import { seriesStepMs } from '../src/slo/engine.js';
import { sloSeries } from '../src/slo/series.js';
import { html, raw } from '../src/ui/html.js';
import { humanDuration } from '../src/ui/format.js';
import { sampleDetail, samplesTable, sloTable } from '../src/ui/views.js';
import type { SloStatus } from '../src/slo/evaluate.js';

const HOSTILE = '<script>alert(1)</script>"\'&';

describe('html', () => {
  it('escapes every interpolated value, nested templates and raw() pass through', () => {
    expect(html`<p>${HOSTILE}</p>`.text).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</p>');
    expect(html`<ul>${['a', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text).toBe('<ul><li>a</li><li>b</li></ul>');
    expect(html`${raw('<b>ok</b>')}${null}${undefined}${false}${0}`.text).toBe('<b>ok</b>0');
  });

  it('never lets a captured prompt or answer inject markup', () => {
    const item = { request_id: 'r<1>', model: 'm', version: 'v', role: 'canary', status_code: 200, latency_ms: 12, endpoint: 'chat',
      prompt: JSON.stringify([{ role: 'user', content: HOSTILE }]), response: HOSTILE, ts: '2026-12-02', verdicts: { instruction_success: { verdict: 'bad', reason: HOSTILE, source: 'auto' } } };
    for (const out of [samplesTable([item]).text, sampleDetail(item).text]) {
      expect(out).not.toContain('<script>');
      expect(out).toContain('&lt;script&gt;');
    }
  });
});

describe('sloTable', () => {
  const status = (over: Partial<SloStatus>): SloStatus => ({
    slo: 'instr', sli: 'instruction_success', model: 'm', version: 'v2', objective: 0.95, window: '1d', sli_value: 0.9, events: 100, budget_remaining: 0.5,
    burn: [{ window: '1h/5m', severity: 'page', threshold: 14.4, burnLong: 2, burnShort: 3, firing: false }], state: 'ok', ...over,
  });

  it('shows budget, burn per window, time to exhaustion and the alert state per version', () => {
    const out = sloTable([status({}), status({ version: 'v3', state: 'firing', budget_remaining: -1 })], new Map([['instr', 86_400_000]])).text;
    expect(out).toMatch(/data-version="v2" data-state="ok"/);
    expect(out).toMatch(/data-version="v3" data-state="firing"/);
    expect(out).toContain('1h/5m: 2.0x / 3.0x');
    expect(out).toContain('<td>6.0h</td>'); // half of a day's budget at 2x: 6 hours
    expect(out).toContain('figure class="chart" data-slo="instr"');
  });

  it('says so when there is nothing to show', () => {
    expect(sloTable([], new Map()).text).toMatch(/No SLOs configured/);
  });
});

describe('SLO series', () => {
  it('has every bucket, null where there were no events, and the burn rate', () => {
    const series = sloSeries([{ t: 120_000, model: 'm', version: 'v1', bad: 1, total: 10 }], 0.95, 60_000, 240_000, 60_000);
    expect(series).toEqual([{ model: 'm', version: 'v1', points: [
      { t: 60_000, sli: null, burn: null, events: 0 },
      { t: 120_000, sli: 0.9, burn: 2, events: 10 },
      { t: 180_000, sli: null, burn: null, events: 0 },
    ] }]);
  });

  it('picks about 60 buckets of whole minutes', () => {
    expect(seriesStepMs(15 * 60_000)).toBe(60_000);
    expect(seriesStepMs(24 * 3_600_000)).toBe(24 * 60_000);
  });

  it('time to exhaustion: spent is 0, not burning is never', () => {
    expect(timeToExhaustionMs(0.5, 2, 86_400_000)).toBe(21_600_000);
    expect(timeToExhaustionMs(-0.2, 2, 86_400_000)).toBe(0);
    expect(timeToExhaustionMs(0.5, 0, 86_400_000)).toBeNull();
    expect(timeToExhaustionMs(null, 2, 1)).toBeNull();
    expect(humanDuration(21_600_000)).toBe('6.0h');
    expect(humanDuration(null)).toBe('–');
  });
});

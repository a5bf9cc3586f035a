// The status page's fragments, rendered from the same objects the admin API answers. Pure: data in,
// HTML out. htmx swaps them in (hx-get … hx-trigger="every Ns"); status.js draws charts and sends
// actions through the admin and feedback APIs.
import type { CanaryView } from '../canary/controller.js';
import { MANUAL_ACTIONS } from '../canary/states.js';
import { parseDuration } from '../config/duration.js';
import { SLIS } from '../evaluate/types.js';
import type { Job, QueueItem } from '../feedback/types.js';
import { promptMessages } from '../feedback/messages.js';
import { QUEUE_STATES } from '../feedback/states.js';
import { timeToExhaustionMs } from '../slo/budget.js';
import type { SloStatus } from '../slo/evaluate.js';
import { html, raw, type Html } from './html.js';
import { fixed, humanDuration, percent } from './format.js';

/** The page: four sections, each refreshed on its own. */
export function page(assets: { htmx: string; uplot: string; uplotCss: string; script: string; css: string }): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tunewatch status</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.uplotCss}"><link rel="stylesheet" href="${assets.css}">
<script src="${assets.htmx}"></script><script src="${assets.uplot}"></script><script src="${assets.script}" defer></script>
</head><body>
<header><h1>tunewatch</h1><span class="sub">SLOs, canaries, failing answers and retraining</span></header>
<p id="message" class="muted"></p>
<section><h2>SLOs</h2><div id="slos" hx-get="/ui/slos" hx-trigger="load, every 10s, refresh from:body">loading…</div></section>
<section><h2>Canary rollouts</h2><div id="canary" hx-get="/ui/canary" hx-trigger="load, every 5s, refresh from:body">loading…</div></section>
<section><h2>Failing samples</h2>
<form id="sample-filter" hx-get="/ui/samples" hx-target="#samples" hx-trigger="load, change, submit">
<input name="model" placeholder="model"><input name="version" placeholder="version">
<select name="sli"><option value="">any SLI</option>${SLIS.map((s) => html`<option value="${s}">${s}</option>`)}</select>
</form><div id="samples"></div><div id="sample"></div></section>
<section><h2>Retraining</h2><div id="retrain" hx-get="/ui/retrain" hx-trigger="load, every 10s, refresh from:body">loading…</div></section>
</body></html>`;
}

const stateClass = (s: string) => (s === 'firing' ? 'bad' : s === 'ok' ? 'good' : 'muted');

/** The SLO overview: one row per SLO and version, with a chart per SLO below the table. */
export function sloTable(slos: SloStatus[], windowsMs: Map<string, number>): Html {
  if (slos.length === 0) return html`<p class="muted">No SLOs configured (slos: in the config), or no data yet.</p>`;
  const rows = slos.map((s) => {
    const budget = s.budget_remaining;
    const width = budget === null ? 0 : Math.max(0, Math.min(1, budget)) * 100;
    const fastest = s.burn[0];
    const exhaustion = timeToExhaustionMs(budget, fastest?.burnLong ?? null, windowsMs.get(s.slo) ?? parseDuration(s.window));
    return html`<tr class="slo-row" data-slo="${s.slo}" data-version="${s.version}" data-state="${s.state}">
<td>${s.slo}</td><td>${s.model}</td><td>${s.version}</td><td>${s.sli}</td><td>${percent(s.objective, 2)}</td><td>${percent(s.sli_value, 2)}</td>
<td><div class="bar"><div class="fill ${budget !== null && budget < 0.25 ? 'bad' : 'good'}" style="width:${raw(width.toFixed(1))}%"></div></div>${percent(budget, 1)}</td>
<td>${s.burn.map((b) => html`<span class="burn ${b.firing ? 'bad' : ''}" title="threshold ${fixed(b.threshold, 1)}x">${b.window}: ${fixed(b.burnLong, 1)}x / ${fixed(b.burnShort, 1)}x</span>`)}</td>
<td>${humanDuration(exhaustion)}</td><td class="${stateClass(s.state)}">${s.state}</td></tr>`;
  });
  const names = [...new Set(slos.map((s) => s.slo))];
  return html`<table class="slos"><thead><tr><th>SLO</th><th>model</th><th>version</th><th>SLI</th><th>objective</th><th>SLI now</th><th>budget left</th><th>burn (long / short)</th><th>exhausted in</th><th>alert</th></tr></thead>
<tbody>${rows}</tbody></table>
<div class="charts">${names.map((n) => html`<figure class="chart" data-slo="${n}"><figcaption>${n}: SLI and burn rate, last 15 minutes</figcaption></figure>`)}</div>`;
}

/** The canary version's release gate (tunewatch gate --record). */
function gateLine(v: CanaryView): Html {
  const latest = v.gate?.latest;
  const required = v.requireGate ? ' (required)' : '';
  if (!latest) return html`<span class="muted">release gate: ${v.canary ? 'no run recorded for this version' : 'no canary'}${required}</span>`;
  return html`release gate: <b class="${latest.verdict === 'pass' ? 'good' : 'bad'}" data-gate="${latest.verdict}">${latest.verdict}</b>, score ${latest.score.toFixed(0)} on ${latest.goldenItems} golden items vs ${latest.baseline}
<span class="muted">${latest.id}, ${new Date(latest.ts).toISOString()}${latest.verdict !== 'pass' && v.gate?.passed ? '; an earlier run passed' : ''}${required}</span>`;
}

/** Each model's rollout with its last verdict table and the manual actions. */
export function canaryPanel(views: CanaryView[]): Html {
  if (views.length === 0) return html`<p class="muted">No model has a rollout: block.</p>`;
  return html`${views.map(
    (v) => html`<div class="canary" data-model="${v.model}">
<p><b>${v.model}</b>: baseline ${v.baseline}, canary ${v.canary || '–'} at <b class="weight">${v.weight}%</b> (step ${v.step + 1}), <span class="state">${v.state}</span>
${MANUAL_ACTIONS.filter((a) => a !== 'resume' || v.state === 'paused').map((a) => html` <button type="button" data-action="/api/canary/${encodeURIComponent(v.model)}/${a}">${a}</button>`)}</p>
<p class="gate">${gateLine(v)}</p>
${
  v.lastAnalysis
    ? html`<p>last analysis: ${v.lastAnalysis.verdict}, score ${v.lastAnalysis.score.toFixed(0)}</p>
<table><thead><tr><th>metric</th><th>baseline</th><th>canary</th><th>effect</th><th>interval</th><th>p</th><th>class</th></tr></thead><tbody>
${v.lastAnalysis.metrics.map((m) => html`<tr><td>${m.name}</td><td>${fixed(m.baseline, 3)}</td><td>${fixed(m.canary, 3)}</td><td>${fixed(m.effect, 4)}</td><td>${m.interval ? `[${fixed(m.interval[0], 3)}, ${fixed(m.interval[1], 3)}]` : '–'}</td><td>${m.pValue === null ? '–' : m.pValue.toExponential(1)}</td><td class="${m.classification === 'pass' ? 'good' : m.classification === 'nodata' ? 'muted' : 'bad'}">${m.classification}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">no analysis yet</p>`
}</div>`,
  )}`;
}

type SampleItem = Record<string, unknown> & { verdicts: Record<string, { verdict: string; reason: string; source: string }> };

const clip = (text: unknown, n: number) => {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
};

/** What a person reads as the prompt: the last user turn of a chat, else the captured text. */
function promptText(s: SampleItem): string {
  const messages = promptMessages(String(s.prompt ?? ''), String(s.endpoint ?? 'chat'));
  return messages?.filter((m) => m.role === 'user').at(-1)?.content ?? String(s.prompt ?? '');
}

/** Failing samples, newest first: a row each, opened with a click. */
export function samplesTable(items: SampleItem[]): Html {
  if (items.length === 0) return html`<p class="muted">No failing samples match.</p>`;
  return html`<table class="samples"><thead><tr><th>time</th><th>model</th><th>version</th><th>prompt</th><th>failed</th></tr></thead><tbody>
${items.map((s) => {
  const failed = Object.entries(s.verdicts).filter(([, v]) => v.verdict === 'bad').map(([sli]) => sli);
  return html`<tr class="sample" hx-get="/ui/samples/${encodeURIComponent(String(s.request_id))}" hx-target="#sample" data-id="${s.request_id}">
<td>${String(s.ts)}</td><td>${s.model}</td><td>${s.version}</td><td>${clip(promptText(s), 140)}</td><td>${failed.join(', ') || '–'}</td></tr>`;
})}</tbody></table>`;
}

/** One sample: prompt, answer, each SLI's verdict and reason, and buttons to label it. */
export function sampleDetail(s: SampleItem): Html {
  return html`<div class="detail" data-id="${s.request_id}"><h3>${s.request_id}</h3>
<p>${s.model} ${s.version} (${s.role}), status ${s.status_code}, ${fixed(Number(s.latency_ms), 0)} ms</p>
<h4>prompt</h4><pre>${(promptMessages(String(s.prompt ?? ''), String(s.endpoint ?? 'chat')) ?? [{ role: 'user', content: String(s.prompt ?? '') }]).map((m) => `${m.role}: ${m.content}`).join('\n\n')}</pre><h4>answer</h4><pre>${String(s.response ?? '')}</pre>
<table><thead><tr><th>SLI</th><th>verdict</th><th>source</th><th>reason</th><th>label</th></tr></thead><tbody>
${Object.entries(s.verdicts).map(
  ([sli, v]) => html`<tr data-sli="${sli}"><td>${sli}</td><td class="verdict ${v.verdict === 'bad' ? 'bad' : v.verdict === 'good' ? 'good' : 'muted'}">${v.verdict}</td><td>${v.source}</td><td>${v.reason}</td>
<td><button type="button" data-label="good" data-sli="${sli}" data-id="${s.request_id}">good</button> <button type="button" data-label="bad" data-sli="${sli}" data-id="${s.request_id}">bad</button></td></tr>`,
)}</tbody></table></div>`;
}

/** Each model's retraining queue (counts and the newest items) and the jobs. */
export function retrainPanel(queues: { model: string; items: QueueItem[] }[], jobs: Job[]): Html {
  if (queues.length === 0) return html`<p class="muted">No model has a retrain: block.</p>`;
  return html`${queues.map(
    (q) => html`<p><b>${q.model}</b>: ${QUEUE_STATES.map((s) => `${q.items.filter((i) => i.state === s).length} ${s}`).join(', ')}</p>
<table class="queue"><thead><tr><th>request</th><th>version</th><th>state</th><th>reason</th></tr></thead><tbody>
${q.items.slice(0, 10).map((i) => html`<tr><td>${i.requestId}</td><td>${i.version}</td><td>${i.state}</td><td>${clip(i.reason, 140)}</td></tr>`)}</tbody></table>`,
  )}
<h3>jobs</h3>${
    jobs.length === 0
      ? html`<p class="muted">no jobs yet</p>`
      : html`<table class="jobs"><thead><tr><th>job</th><th>model</th><th>state</th><th>launcher</th><th>exported</th><th>trigger</th></tr></thead><tbody>
${jobs.map((j) => html`<tr><td>${j.id}</td><td>${j.model}</td><td>${j.state}</td><td>${j.launcher}</td><td>${j.summary.counts?.exported ?? '–'}</td><td>${j.trigger}</td></tr>`)}</tbody></table>`
  }`;
}

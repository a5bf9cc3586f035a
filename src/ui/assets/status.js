// The status page's behaviour: charts (uPlot) drawn from /api/slos/series, and actions sent through
// the admin API (canary) and the feedback API (labels). htmx does the refreshing.
'use strict';

const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#57606a'];

function say(text, isError) {
  const el = document.getElementById('message');
  if (!el) return;
  el.textContent = text;
  el.className = isError ? 'bad' : 'muted';
}

async function drawChart(fig) {
  const res = await fetch(`/api/slos/series?slo=${encodeURIComponent(fig.dataset.slo)}&since=15m`);
  const body = await res.json();
  if (!res.ok) return say(body.error ? body.error.message : `chart for ${fig.dataset.slo}: ${res.status}`, true);
  const first = body.series[0];
  const data = [first ? first.points.map((p) => p.t / 1000) : []];
  const series = [{}];
  body.series.forEach((s, i) => {
    const stroke = COLORS[i % COLORS.length];
    data.push(s.points.map((p) => p.sli));
    series.push({ label: `${s.version} SLI`, stroke, scale: 'sli', spanGaps: true, points: { show: true, size: 7 } });
    data.push(s.points.map((p) => p.burn));
    series.push({ label: `${s.version} burn`, stroke, dash: [4, 4], scale: 'burn', spanGaps: true, points: { show: true, size: 5 } });
  });
  const opts = {
    width: 560,
    height: 220,
    series,
    scales: { x: { time: true }, sli: { range: [0, 1] }, burn: { range: (u, min, max) => [0, Math.max(1, max || 1)] } },
    axes: [{}, { scale: 'sli', values: (u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) }, { scale: 'burn', side: 1, grid: { show: false }, values: (u, vals) => vals.map((v) => `${v}x`) }],
  };
  // eslint-disable-next-line no-undef
  new uPlot(opts, data, fig);
}

function drawCharts(root) {
  for (const fig of root.querySelectorAll('figure.chart[data-slo]')) {
    if (fig.dataset.drawn) continue;
    fig.dataset.drawn = '1';
    drawChart(fig).catch((err) => say(`chart for ${fig.dataset.slo}: ${err.message}`, true));
  }
}

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error ? answer.error.message : `${url} answered ${res.status}`);
  return answer;
}

document.addEventListener('click', (event) => {
  const action = event.target.closest('button[data-action]');
  if (action) {
    action.disabled = true;
    post(action.dataset.action, {})
      .then((view) => say(`${view.model}: ${view.state}, canary at ${view.weight}%`))
      .catch((err) => say(err.message, true))
      .finally(() => htmx.trigger(document.body, 'refresh'));
    return;
  }
  const label = event.target.closest('button[data-label]');
  if (label) {
    const { id, sli } = label.dataset;
    post('/v1/feedback', { request_id: id, sli, verdict: label.dataset.label, rater: 'status-page' })
      .then(() => {
        say(`${id}: ${sli} labelled ${label.dataset.label}`);
        return htmx.ajax('GET', `/ui/samples/${encodeURIComponent(id)}`, '#sample');
      })
      .catch((err) => say(err.message, true));
  }
});

document.body.addEventListener('htmx:afterSwap', (event) => drawCharts(event.target));

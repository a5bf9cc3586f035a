// The built-in status page in a real browser: Debian's Chromium driven by playwright-core, against the
// running service on live demo data (a healthy v12, a regressed canary v13 at 30%).
// TUNEWATCH_SCREENSHOTS=1 also writes the screenshots the README shows to docs/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoConfig, sendDemoTraffic } from '../src/cli/demo.js';
import { startService, type Service } from '../src/cli/service.js';
import { startSimulator, type Simulator } from '../src/simulate/server.js';
import { tempDir } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const CHROMIUM = '/usr/bin/chromium';
const dir = tempDir();
const shots = process.env.TUNEWATCH_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', 'docs') : join(dir, 'shots');
const sims: Simulator[] = [];
let service: Service;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  const baseline = await startSimulator({ profile: 'healthy', seed: 12 });
  const canary = await startSimulator({ profile: 'regressed', seed: 13 });
  sims.push(baseline, canary);
  // A rollout interval of an hour: the controller leaves the canary where it is, so the page can roll it back.
  service = await startService(demoConfig({ dataPath: join(dir, 'data'), baseline: baseline.url, canary: canary.url, rolloutInterval: '1h' }));
  await sendDemoTraffic(service.url, 300, 8);
  await service.pipeline.flush();
  await service.engine!.evaluate();
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${service.url}/ui`);
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await Promise.all(sims.map((s) => s.close()));
});

const api = async <T>(path: string): Promise<T> => (await (await request(`${service.url}${path}`)).body.json()) as T;

describe('the status page', () => {
  it('shows the degraded canary in the SLO table', async () => {
    const canaryRow = page.locator('tr.slo-row[data-slo="support-bot-instructions"][data-version="v13"]');
    await canaryRow.waitFor();
    expect(await canaryRow.getAttribute('data-state')).toBe('firing');
    expect(await page.locator('tr.slo-row[data-slo="support-bot-instructions"][data-version="v12"]').getAttribute('data-state')).toBe('ok');
    await expect.poll(() => canaryRow.locator('td').nth(9).textContent()).toBe('firing');
  });

  it('draws a chart per SLO', async () => {
    for (const slo of ['support-bot-instructions', 'support-bot-availability']) await page.locator(`figure.chart[data-slo="${slo}"] canvas`).first().waitFor();
    await page.screenshot({ path: join(shots, 'status-page.png'), fullPage: true });
  });

  it('labels a failing sample, and its verdict changes', async () => {
    const first = page.locator('#samples tr.sample').first();
    await first.waitFor();
    const id = await first.getAttribute('data-id');
    await first.click();
    const detail = page.locator(`#sample .detail[data-id="${id}"]`);
    await detail.waitFor();
    const badRow = detail.locator('tr[data-sli]').filter({ has: page.locator('td.verdict', { hasText: 'bad' }) }).first();
    const sli = await badRow.getAttribute('data-sli');
    await badRow.locator('button[data-label="good"]').click();
    await expect.poll(() => page.locator(`#sample .detail tr[data-sli="${sli}"] td.verdict`).textContent()).toBe('good');
    const { items } = await api<{ items: { verdicts: Record<string, { verdict: string; source: string }> }[] }>(`/api/samples?request_id=${id}`);
    expect(items[0]!.verdicts[sli!]).toMatchObject({ verdict: 'good', source: 'human' });
    await page.screenshot({ path: join(shots, 'status-page-sample.png'), fullPage: false, clip: { x: 0, y: 0, width: 1280, height: 1600 } });
  });

  it('filters the failing samples by version and SLI', async () => {
    await page.fill('#sample-filter input[name="version"]', 'v13');
    await page.selectOption('#sample-filter select[name="sli"]', 'safe_response');
    const rows = page.locator('#samples tr.sample');
    await expect.poll(async () => {
      const texts = await rows.allTextContents();
      return texts.length > 0 && texts.every((t) => t.includes('v13') && t.includes('safe_response'));
    }, { timeout: 10_000 }).toBe(true);
  });

  it('rolls the canary back from the page, and the weight changes', async () => {
    const weight = page.locator('.canary[data-model="support-bot"] .weight');
    await expect.poll(() => weight.textContent()).toBe('30%');
    await page.locator('.canary[data-model="support-bot"] button[data-action$="/rollback"]').click();
    await expect.poll(() => weight.textContent(), { timeout: 10_000 }).toBe('0%');
    expect(await api<{ weight: number; state: string }>('/api/canary/support-bot')).toMatchObject({ weight: 0, state: 'rolled_back' });
  });

  it('shows the retraining queue', async () => {
    await expect.poll(() => page.locator('#retrain').textContent()).toMatch(/support-bot: \d+ ready, \d+ needs_correction, \d+ excluded/);
  });

  it('serves its assets from the package and answers bad requests with what was wrong', async () => {
    const htmx = await request(`${service.url}/ui/assets/htmx.min.js`);
    expect(htmx.statusCode).toBe(200);
    expect(htmx.headers['content-type']).toMatch(/javascript/);
    await htmx.body.text();
    const missing = await request(`${service.url}/ui/assets/evil.js`);
    expect(missing.statusCode).toBe(404);
    await missing.body.text();
    const series = await api<{ series: { version: string; points: { events: number }[] }[] }>('/api/slos/series?slo=support-bot-instructions&since=15m');
    expect(series.series.map((s) => s.version).sort()).toEqual(['v12', 'v13']);
    expect(series.series.every((s) => s.points.some((p) => p.events > 0))).toBe(true);
    const unknown = await request(`${service.url}/api/slos/series?slo=nope`);
    expect(unknown.statusCode).toBe(400);
    expect(((await unknown.body.json()) as { error: { message: string } }).error.message).toMatch(/no SLO named 'nope'; the SLOs: support-bot-instructions, support-bot-availability/);
  });

  it('had no console errors and no page errors', () => {
    expect(problems).toEqual([]);
  });
});

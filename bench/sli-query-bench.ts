// How fast an SLI query answers from the per-minute rollup, against scanning raw verdicts, in one run.
// Usage: npm run bench:sli   (env: SLI_BENCH_RPS=1000 SLI_BENCH_DAYS=30 SLI_BENCH_RAW_MINUTES=10)
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/store/client.js';
import { migrate } from '../src/store/migrate.js';
import { TABLES } from '../src/store/tables.js';
import { sliCounts } from '../src/store/verdicts.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const rps = Number(process.env.SLI_BENCH_RPS ?? 1000);
const days = Number(process.env.SLI_BENCH_DAYS ?? 30);
const rawMinutes = Number(process.env.SLI_BENCH_RAW_MINUTES ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'tunewatch-sli-bench-'));
const store = openStore({ path: dir, retentionDays: 400 });
await migrate(store);
const now = Date.now();
const minutes = days * 1440;

// 30 days of the rollup as 1k requests/s would leave it: per minute, 2 versions × 3 SLIs, each with
// its share of 60k verdicts a minute (written in-engine, so the bench measures the query, not JS).
let t = performance.now();
await store.client.command({
  query: `INSERT INTO ${TABLES.sliRollup}
          SELECT toStartOfMinute(fromUnixTimestamp64Milli({now:Int64}) - toIntervalMinute(intDiv(number, 6))) AS minute,
                 'support-bot', if(number % 2 = 0, 'v12', 'v13'), if(number % 2 = 0, 'baseline', 'canary'),
                 ['instruction_success', 'safe_response', 'hallucination_free'][intDiv(number % 6, 2) + 1],
                 toInt64({perMinute:UInt32} * 0.95), toInt64({perMinute:UInt32} * 0.04), toInt64({perMinute:UInt32} * 0.01)
          FROM numbers({rows:UInt64})`,
  query_params: { now, perMinute: Math.round((rps * 60) / 2), rows: minutes * 6 },
});
const loadRollupMs = performance.now() - t;

// Raw verdict rows for a much shorter span, to scan for comparison.
const rawRows = rps * 60 * rawMinutes * 3;
t = performance.now();
await store.client.command({
  query: `INSERT INTO ${TABLES.evaluations} (request_id, ts, sample_ts, model, version, role, sli, verdict, source, source_rank, delta_good, delta_bad, delta_unknown)
          SELECT toString(intDiv(number, 3)), now64(3), fromUnixTimestamp64Milli({now:Int64}) - toIntervalMillisecond(intDiv(number, 3)),
                 'support-bot', if(number % 2 = 0, 'v12', 'v13'), 'baseline',
                 ['instruction_success', 'safe_response', 'hallucination_free'][(number % 3) + 1],
                 if(rand() % 100 < 95, 'good', 'bad'), 'auto', 1, 0, 0, 0
          FROM numbers({rows:UInt64})`,
  query_params: { now, rows: rawRows },
});
const loadRawMs = performance.now() - t;

async function timed(fn: () => Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const rollupMs = await timed(() => sliCounts(store, now - days * 86_400_000, now + 60_000));
const rawMs = await timed(async () => {
  const rs = await store.client.query({
    query: `SELECT model, version, role, sli, countIf(verdict = 'good') AS good, countIf(verdict = 'bad') AS bad
            FROM ${TABLES.effectiveVerdicts} GROUP BY model, version, role, sli`,
    format: 'JSONEachRow',
  });
  return rs.json();
});

console.log(`SLI query benchmark (${rps} requests/s; embedded ClickHouse via chDB)`);
console.log(`  rollup rows for ${days} days: ${minutes * 6} (loaded in ${(loadRollupMs / 1000).toFixed(1)} s)`);
console.log(`  raw verdict rows for ${rawMinutes} min: ${rawRows} (loaded in ${(loadRawMs / 1000).toFixed(1)} s)`);
console.log(`  SLI counts over ${days} days from the rollup:        ${rollupMs.toFixed(1)} ms (median of 5)`);
console.log(`  SLI counts over ${rawMinutes} min from raw effective verdicts: ${rawMs.toFixed(1)} ms (median of 5)`);
console.log(`  ratio raw/rollup: ${(rawMs / rollupMs).toFixed(1)}x while covering ${((days * 1440) / rawMinutes).toFixed(0)}x the time span`);
console.log(`  target (30 days well under a second): ${rollupMs < 500 ? 'PASS' : 'FAIL'}`);
await store.close();
rmSync(dir, { recursive: true, force: true });

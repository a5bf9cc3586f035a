// Proxy overhead benchmark: the simulated upstream called directly, a bare undici pass-through
// proxy (the floor for any Node proxy) and tunewatch with capture + redaction, each in its own
// child process, driven by a load generator in this (parent) process.
//
//   npm run bench                      # defaults: 5 s per phase, 64 clients, 400 req/s
//   BENCH_SECONDS=10 BENCH_CPU_PROF=1 npm run bench
//
// The servers are bench/servers.ts; the load generator bench/load.ts; the statistics bench/stats.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { PROXY_NODE_FLAGS } from '../src/cli/runtime.js';
import { compareTails, median, percentile, type TailComparison } from './stats.js';
import { BODIES, closedLoop, groundedBodies, newTally, openLoop, type LatencyStats, type Tally, type Target } from './load.js';
import { summariseProfile } from './profile.js';
import { childrenCpuMs, cpuMs, machineCpu, rssMb } from './procfs.js';
import { groundingCost } from './grounding-cost.js';
import { MARK, type Json } from './protocol.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
const SERVERS = join(dirname(SELF), 'servers.ts');

/**
 * Node flags of the tunewatch process: those `tunewatch serve` runs with, or BENCH_TUNEWATCH_NODE_FLAGS
 * instead (e.g. "" for none, to see what they change).
 */
const TUNEWATCH_NODE_FLAGS = (process.env.BENCH_TUNEWATCH_NODE_FLAGS ?? PROXY_NODE_FLAGS.join(' ')).split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// Parent side: children.

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: string;
  /** Resolves with the next MARK message satisfying `pred`. */
  next(pred: (m: Json) => boolean, timeoutMs?: number): Promise<Json>;
  exited: Promise<number | null>;
  expectExit(): void;
}

const children: Child[] = [];
let tmpDir: string | undefined;

function removeTmp(): void {
  if (tmpDir && process.env.BENCH_KEEP_DATA !== '1') rmSync(tmpDir, { recursive: true, force: true });
}

function spawnChild(name: string, args: string[], readyFrom: (line: string, msg: Json | null) => string | null, nodeFlags: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const waiters: { pred: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  const backlog: Json[] = [];
  let expectExit = false;
  const exited = new Promise<number | null>((ok) =>
    proc.once('exit', (code, signal) => {
      if (!expectExit) process.stderr.write(`  [${name}] exited unexpectedly (code ${code}, signal ${signal})\n`);
      ok(code);
    }),
  );
  createInterface({ input: proc.stderr! }).on('line', (line) => process.stderr.write(`  [${name} stderr] ${line}\n`));
  return new Promise((resolveChild, reject) => {
    let ready = false;
    const child: Child = {
      name,
      proc,
      pid: proc.pid!,
      url: '',
      exited,
      expectExit: () => {
        expectExit = true;
      },
      next(pred, timeoutMs = 60_000) {
        const i = backlog.findIndex(pred);
        if (i >= 0) return Promise.resolve(backlog.splice(i, 1)[0]);
        return new Promise((ok, fail) => {
          const timer = setTimeout(() => fail(new Error(`${name}: no answer within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({ pred, resolve: (m) => (clearTimeout(timer), ok(m)) });
        });
      },
    };
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let msg: Json | null = null;
      if (line.startsWith(MARK)) msg = JSON.parse(line.slice(MARK.length)) as Json;
      if (!ready) {
        const url = readyFrom(line, msg);
        if (url) {
          ready = true;
          child.url = url;
          children.push(child);
          resolveChild(child);
          return;
        }
      }
      if (msg) {
        const w = waiters.findIndex((x) => x.pred(msg!));
        if (w >= 0) waiters.splice(w, 1)[0].resolve(msg);
        else backlog.push(msg);
      } else if (line.trim()) {
        process.stderr.write(`  [${name}] ${line}\n`);
      }
    });
    void exited.then((code) => {
      if (!ready) reject(new Error(`${name} exited with ${code} before it was ready`));
    });
  });
}

async function stopChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null) return;
  child.expectExit();
  child.proc.kill('SIGTERM');
  const timeout = sleep(20_000).then(() => 'timeout' as const);
  if ((await Promise.race([child.exited, timeout])) === 'timeout') child.proc.kill('SIGKILL');
  const i = children.indexOf(child);
  if (i >= 0) children.splice(i, 1);
}

// ---------------------------------------------------------------------------------------------
// Parent side: the run.

/** A number from the environment; `allowZero` for knobs where 0 means "skip". */
const envNum = (name: string, fallback: number, allowZero = false) => {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) && (v > 0 || (allowZero && v === 0)) ? v : fallback;
};

interface SystemResult {
  name: string;
  maxRps: number;
  maxBad: number;
  cpuUsPerReq: number;
  /** tunewatch only: CPU per request until the capture worker has written (and judged) all of them. */
  cpuWithCaptureUsPerReq?: number;
  machineBusy: number;
  fixed: LatencyStats;
  streamed?: LatencyStats;
  rssMb: number;
  tally: Tally;
  answered: number;
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const SECONDS = envNum('BENCH_SECONDS', 5);
  const WARMUP = envNum('BENCH_WARMUP_SECONDS', 2);
  const CONCURRENCY = Math.round(envNum('BENCH_CONCURRENCY', 64));
  const RATE = envNum('BENCH_RATE', 400);
  const STREAM = process.env.BENCH_STREAM !== '0';
  const PROFILE = process.env.BENCH_CPU_PROF === '1';
  // BENCH_SYSTEMS=none skips the per-system phases and runs only the interleaved rounds.
  // "grounded" is tunewatch again, with every request carrying a context document it has not seen.
  const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'direct,bare,tunewatch,grounded').split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  const unknown = SYSTEMS.filter((x) => !['direct', 'bare', 'tunewatch', 'grounded'].includes(x));
  if (unknown.length) throw new Error(`unknown system(s) ${unknown.join(', ')} in BENCH_SYSTEMS (direct, bare, tunewatch, grounded)`);
  const KEEP = process.env.BENCH_KEEP_DATA === '1';
  const ROUNDS = Math.round(envNum('BENCH_ROUNDS', 40, true));
  const ROUND_SECONDS = envNum('BENCH_ROUND_SECONDS', 2);
  const IDLE_WAIT = process.env.BENCH_IDLE_WAIT_SECONDS === '0' ? 0 : envNum('BENCH_IDLE_WAIT_SECONDS', 10);
  const tmp = (tmpDir = mkdtempSync(join(os.tmpdir(), 'tunewatch-bench-')));

  const cpus = os.cpus();
  console.log('tunewatch proxy benchmark');
  console.log(`  command: ${process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `tsx ${relative(ROOT, SELF)}`} (argv: ${process.argv.slice(1).map((a) => relative(ROOT, a) || a).join(' ')})`);
  console.log(`  machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`);
  console.log(`  node ${process.version}, undici load generator in the parent (pid ${process.pid})`);
  console.log(
    `  phases per system: warm-up ${WARMUP} s closed loop → max throughput ${SECONDS} s with ${CONCURRENCY} clients → ` +
      `${RATE} req/s open loop ${SECONDS} s${STREAM ? ` → ${RATE} req/s streamed ${SECONDS} s` : ''}`,
  );
  const knobs = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}=${v}`);
  console.log(`  env knobs set: ${knobs.length ? knobs.join(' ') : 'none (defaults)'}; see bench/README.md`);
  if (cpus.length < 4) {
    console.log(`  note: only ${cpus.length} CPUs: load generator, upstream and proxy compete for cores, so absolute numbers are pessimistic.`);
  }
  console.log(`  request body: ${Buffer.byteLength(BODIES.plain[0])} bytes (system + user message, half with an email and a phone number)\n`);

  const upstream = await spawnChild('upstream', ['src/cli/main.ts', 'simulate', '--port', '0', '--profile', 'instant'], (line) => /at (http\S+)/.exec(line)?.[1] ?? null);
  console.log(`simulated upstream (instant) at ${upstream.url}, pid ${upstream.pid}`);

  const results: SystemResult[] = [];
  let twAnswered = 0;
  let twClientErrors = 0;
  let twSamples: { rows: number; distinct: number } | null = null;
  let twHealth: Json | null = null;
  let redactionLine = '';
  const profileLines: string[] = [];
  const noisy: string[] = [];

  for (const system of SYSTEMS) {
    let child: Child | null = null;
    let base: string;
    if (system === 'direct') {
      base = new URL(upstream.url).origin;
    } else if (system === 'bare') {
      child = await spawnChild('bare', [SERVERS, '--serve-bare', '0', upstream.url], (_l, m) => (m?.ready ? String(m.url) : null));
      base = child.url;
    } else if (system === 'tunewatch' || system === 'grounded') {
      const dataDir = join(tmp, `${system}-data`);
      child = await spawnChild('tunewatch', [SERVERS, '--serve-tunewatch', '0', upstream.url, dataDir], (_l, m) => (m?.ready ? String(m.url) : null), TUNEWATCH_NODE_FLAGS);
      base = child.url;
    } else {
      throw new Error(`unknown system "${system}" in BENCH_SYSTEMS (direct, bare, tunewatch, grounded)`);
    }
    const measured = child ?? upstream; // whose RSS and CPU the row reports
    console.log(`\n== ${system}: ${base}/v1/chat/completions (measured process: ${measured.name}, pid ${measured.pid})`);
    // Another process hogging the CPUs would be measured too: wait a little for it to stop.
    const waitUntil = performance.now() + IDLE_WAIT * 1000;
    let idle = await machineBusyOver(500);
    while (idle > 15 && performance.now() < waitUntil) idle = await machineBusyOver(1000);
    console.log(`  machine busy before load: ${fmt(idle, 0)}%${idle > 15 ? '  WARNING: something else is using the CPUs, numbers will be noisy' : ''}`);
    const pool = new Pool(base, { connections: CONCURRENCY, keepAliveTimeout: 30_000 });
    const isTunewatch = system === 'tunewatch' || system === 'grounded';
    const target: Target = { name: system, pool, path: '/v1/chat/completions', bodies: system === 'grounded' ? groundedBodies() : undefined };
    const tally = newTally();

    await checkAnswer(target, tally);
    const warm = await closedLoop(target, WARMUP, CONCURRENCY, tally);
    console.log(`  warm-up: ${warm.ok} ok, ${warm.bad} not 2xx (${fmt(warm.rps, 0)} req/s)`);
    if (warm.ok === 0) throw new Error(`${system}: no successful request during warm-up (${tally.firstError ?? [...tally.statuses].join(' ')})`);
    if (isTunewatch) await flushTunewatch(base);

    const profFile = join(tmp, `${system}.cpuprofile`);
    const profiling = PROFILE && child !== null;
    if (profiling) {
      child!.proc.stdin!.write('prof-start\n');
      await child!.next((m) => m.profiling === true);
    }
    const cpu0 = cpuMs(measured.pid);
    const up0 = cpuMs(upstream.pid);
    const gen0 = process.cpuUsage();
    const mach0 = machineCpu();
    const max = await closedLoop(target, SECONDS, CONCURRENCY, tally);
    const cpu1 = cpuMs(measured.pid);
    const up1 = cpuMs(upstream.pid);
    const gen1 = process.cpuUsage(gen0);
    const mach1 = machineCpu();
    const perReq = (ms: number) => fmt((ms * 1000) / Math.max(1, max.ok + max.bad), 0);
    const machineBusy = ((mach1.busy - mach0.busy) / (mach1.total - mach0.total)) * 100;
    const machineSteal = ((mach1.steal - mach0.steal) / (mach1.total - mach0.total)) * 100;
    // CPU the machine spent that none of the bench processes did: someone else was running.
    const phaseMs = SECONDS * 1000;
    const accountedCores = ((child ? cpu1 - cpu0 : 0) + (up1 - up0) + (gen1.user + gen1.system) / 1000) / phaseMs;
    const otherCores = (machineBusy / 100) * cpus.length - accountedCores;
    console.log(`  max throughput: ${fmt(max.rps, 0)} req/s (${max.ok} ok, ${max.bad} not 2xx)`);
    console.log(
      `    CPU per request: ${child ? `${child.name} ${perReq(cpu1 - cpu0)} µs, ` : ''}upstream ${perReq(up1 - up0)} µs, ` +
        `load generator ${perReq((gen1.user + gen1.system) / 1000)} µs; machine ${fmt(machineBusy, 0)}% busy (steal ${fmt(machineSteal, 1)}%)`,
    );
    if (otherCores > 0.25) {
      console.log(`    WARNING: other processes used ~${fmt(otherCores, 1)} CPU cores during this phase, numbers will be noisy`);
      noisy.push(system);
    }
    if (profiling) {
      child!.proc.stdin!.write(`prof-stop ${profFile}\n`);
      await child!.next((m) => m.profiled === profFile);
      profileLines.push(`\nCPU profile of ${system} (main thread) during the max-throughput phase:`, ...summariseProfile(profFile, max.ok + max.bad));
    }
    // Let the capture backlog of the max phase reach the store so it does not leak into the next phase;
    // the CPU until then is that of capturing and judging the phase's requests too.
    let cpuWithCaptureUsPerReq: number | undefined;
    if (isTunewatch) {
      await flushTunewatch(base);
      cpuWithCaptureUsPerReq = ((cpuMs(measured.pid) - cpu0) * 1000) / Math.max(1, max.ok + max.bad);
      console.log(`    CPU per request until the capture worker had written them all: ${fmt(cpuWithCaptureUsPerReq, 0)} µs`);
    }
    await sleep(500);

    await eldReset(child);
    const fixed = await openLoop(target, SECONDS, RATE, false, tally);
    fixed.loopDelay = await eldRead(child);
    console.log(`  ${RATE} req/s: p50 ${fmt(fixed.p50)} ms, p90 ${fmt(fixed.p90)} ms, p99 ${fmt(fixed.p99)} ms, max ${fmt(fixed.max)} ms (${fixed.n} ok, ${fixed.bad} failed, generator lag ≤ ${fmt(fixed.maxSendLagMs, 1)} ms)`);
    if (fixed.loopDelay) console.log(`    ${child!.name} event-loop delay: p50 ${fmt(fixed.loopDelay.p50)} ms, p99 ${fmt(fixed.loopDelay.p99)} ms, max ${fmt(fixed.loopDelay.max)} ms`);
    let streamed: LatencyStats | undefined;
    if (STREAM && system !== 'grounded') {
      if (isTunewatch) await flushTunewatch(base);
      await sleep(500);
      await eldReset(child);
      streamed = await openLoop(target, SECONDS, RATE, true, tally);
      streamed.loopDelay = await eldRead(child);
      console.log(
        `  ${RATE} req/s streamed: first byte p50 ${fmt(streamed.ttfbP50)} / p99 ${fmt(streamed.ttfbP99)} ms, complete p50 ${fmt(streamed.p50)} / p99 ${fmt(streamed.p99)} ms (${streamed.n} ok, ${streamed.bad} failed)`,
      );
      if (streamed.loopDelay) console.log(`    ${child!.name} event-loop delay: p50 ${fmt(streamed.loopDelay.p50)} ms, p99 ${fmt(streamed.loopDelay.p99)} ms, max ${fmt(streamed.loopDelay.max)} ms`);
    }
    const rss = rssMb(measured.pid);
    const answered = [...tally.statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`  answered: ${answered} (${[...tally.statuses].map(([s, n]) => `${s}:${n}`).join(' ')}), client-side errors: ${tally.clientErrors}${tally.firstError ? ` (first: ${tally.firstError})` : ''}, RSS ${fmt(rss, 0)} MB`);
    await pool.close();

    if (system === 'tunewatch' && child) {
      twAnswered = answered;
      twClientErrors = tally.clientErrors;
      const flushed = await flushTunewatch(base);
      console.log(`  capture after flush: ${JSON.stringify(flushed)}`);
      redactionLine = await checkRedaction(base);
      console.log(`  redaction: ${redactionLine}`);
      const samplesMsg = child.next((m) => 'samples' in m, 60_000);
      await stopChild(child);
      const msg = await samplesMsg;
      twSamples = msg.samples as { rows: number; distinct: number };
      twHealth = msg.health as Json;
    } else if (child) {
      await stopChild(child);
    }
    results.push({ name: system, maxRps: max.rps, maxBad: max.bad, cpuUsPerReq: ((cpu1 - cpu0) * 1000) / Math.max(1, max.ok + max.bad), cpuWithCaptureUsPerReq, machineBusy, fixed, streamed, rssMb: rss, tally, answered });
  }
  const interleaved = ROUNDS > 0 && ((SYSTEMS.includes('bare') && SYSTEMS.includes('tunewatch')) || SYSTEMS.length === 0) ? await interleavedRounds(upstream.url, tmp, { ROUNDS, ROUND_SECONDS, RATE, WARMUP, CONCURRENCY, PROFILE }) : null;
  await stopChild(upstream);

  // ------------------------------------------------------------------ report
  const bare = results.find((r) => r.name === 'bare');
  const tw = results.find((r) => r.name === 'tunewatch');
  if (results.length) reportPhases(results, bare, { SECONDS, CONCURRENCY, RATE, STREAM });
  for (const line of profileLines) console.log(line);

  if (noisy.length) console.log(`\nWARNING: the max-throughput phase of ${noisy.join(', ')} shared the CPUs with other processes; rerun on an idle machine.`);
  console.log('\nTargets:');
  let exit = 0;
  if (tw && bare) {
    const ratio = (tw.maxRps / bare.maxRps) * 100;
    // With interleaved rounds, the target is judged on their pooled p99 (machine drift hits both alike).
    const delta = interleaved ? interleaved.difference : tw.fixed.p99 - bare.fixed.p99;
    const how = interleaved
      ? `pooled p99 of ${interleaved.rounds} interleaved rounds, 90% interval ${signed(interleaved.low)} to ${signed(interleaved.high)} ms`
      : 'single phase';
    console.log(`  tunewatch max throughput ≥ 50% of bare: ${ratio >= 50 ? 'PASS' : 'FAIL'} (${fmt(ratio, 1)}%)`);
    console.log(`  p99 at ${RATE} rps within 2 ms of bare: ${delta <= 2 ? 'PASS' : 'FAIL'} (${delta >= 0 ? '+' : ''}${fmt(delta)} ms, ${how})`);
  } else if (interleaved) {
    const d = interleaved.difference;
    console.log(`  p99 at ${RATE} rps within 2 ms of bare: ${d <= 2 ? 'PASS' : 'FAIL'} (${signed(d)} ms, pooled p99 of ${interleaved.rounds} interleaved rounds, 90% interval ${signed(interleaved.low)} to ${signed(interleaved.high)} ms)`);
  } else {
    console.log('  (throughput and p99 targets need both "bare" and "tunewatch" in BENCH_SYSTEMS)');
  }
  if (tw) {
    const stored = twSamples?.rows ?? -1;
    const lost = twAnswered - stored;
    console.log(`  tunewatch requests answered (any status): ${twAnswered}, client-side errors: ${twClientErrors}; samples stored: ${stored} (distinct request ids: ${twSamples?.distinct ?? 'n/a'})`);
    console.log(`  pipeline health at stop: ${JSON.stringify(twHealth)}`);
    console.log(`  redaction: ${redactionLine}`);
    if (redactionLine.includes('FAILED')) exit = 1;
    if (twSamples && stored === twAnswered && twSamples.distinct === stored) {
      console.log('  samples stored = requests answered: OK');
    } else {
      console.log(`  samples stored = requests answered: FAIL (${stored} stored, ${twSamples?.distinct ?? 'n/a'} distinct, ${twAnswered} answered)`);
      exit = 1;
    }
    console.log(`  samples lost: ${Math.max(0, lost)}${lost < 0 ? ` (${-lost} more stored than answered)` : ''}`);
    if (lost !== 0) exit = 1;
  }

  // The grounding evaluator runs in the capture worker on every grounded answer: measured apart on the
  // corpus's real contexts, and as part of the grounded requests' CPU (capture included) beside the others'.
  const [grounding] = await groundingCost();
  const share = tw ? ` = ${fmt((grounding.micros / tw.cpuUsPerReq) * 100, 1)}% of tunewatch's CPU per request` : '';
  console.log(`  grounding evaluator: ${fmt(grounding.micros, 0)} µs CPU per grounded answer${share} (${fmt(grounding.repeated, 0)} µs when its context was seen before)`);
  const grounded = results.find((r) => r.name === 'grounded');
  if (tw?.cpuWithCaptureUsPerReq && grounded?.cpuWithCaptureUsPerReq) {
    const extra = grounded.cpuWithCaptureUsPerReq - tw.cpuWithCaptureUsPerReq;
    console.log(
      `  grounded requests (a context of 600-1,000 characters each, never seen before): ${fmt(grounded.cpuWithCaptureUsPerReq, 0)} µs CPU per request ` +
        `until captured, against ${fmt(tw.cpuWithCaptureUsPerReq, 0)} µs without a context (${extra >= 0 ? '+' : ''}${fmt(extra, 0)} µs: the larger body, its redaction and storage, and the grounding check)`,
    );
  }

  if (KEEP) console.log(`\ndata kept in ${tmp}`);
  else removeTmp();
  return exit;
}

/** The per-phase tables: max throughput and fixed rate, then streaming. */
function reportPhases(results: SystemResult[], bare: SystemResult | undefined, o: { SECONDS: number; CONCURRENCY: number; RATE: number; STREAM: boolean }): void {
  const { SECONDS, CONCURRENCY, RATE, STREAM } = o;
  console.log(`\nResults (${SECONDS} s per phase, ${CONCURRENCY} clients for max throughput, ${RATE} req/s open loop, non-streaming):\n`);
  console.log(
    table(
      ['system', 'max req/s', 'vs bare', `p50 ms @${RATE}`, `p99 ms @${RATE}`, 'p99 Δ vs bare', 'loop delay max', 'CPU µs/req', 'machine busy', 'RSS MB'],
      results.map((r) => [
        r.name,
        fmt(r.maxRps, 0),
        bare ? `${fmt((r.maxRps / bare.maxRps) * 100, 0)}%` : 'n/a',
        fmt(r.fixed.p50),
        fmt(r.fixed.p99),
        bare ? `${r.fixed.p99 - bare.fixed.p99 >= 0 ? '+' : ''}${fmt(r.fixed.p99 - bare.fixed.p99)}` : 'n/a',
        r.fixed.loopDelay ? fmt(r.fixed.loopDelay.max) : 'n/a',
        fmt(r.cpuUsPerReq, 0),
        `${fmt(r.machineBusy, 0)}%`,
        fmt(r.rssMb, 0),
      ]),
    ),
  );
  console.log('  CPU µs/req: CPU time of the measured process (all threads) per answered request in the max-throughput phase;');
  console.log('  for "direct" that is the simulator itself. machine busy: all CPUs during that phase (100% = CPU-bound box).');
  console.log('  loop delay max: worst event-loop stall of the proxy process during the fixed-rate phase (ms).');
  console.log('  RSS: VmRSS of the measured process at the end of its run.');
  if (STREAM) {
    console.log(`\nStreaming (${RATE} req/s open loop, stream: true):\n`);
    console.log(
      table(
        ['system', 'first byte p50', 'first byte p99', 'complete p50', 'complete p99', 'p99 Δ vs bare'],
        results.filter((r) => r.streamed).map((r) => {
          const s = r.streamed!;
          const b = bare?.streamed;
          return [r.name, fmt(s.ttfbP50), fmt(s.ttfbP99), fmt(s.p50), fmt(s.p99), b ? `${s.p99 - b.p99 >= 0 ? '+' : ''}${fmt(s.p99 - b.p99)}` : 'n/a'];
        }),
      ),
    );
  }
}


/**
 * Bare and tunewatch side by side, alternating fixed-rate rounds (and which goes first), so whatever
 * else the machine does drifts over both alike. The p99 compared is that of all rounds pooled (the
 * p99 a user would see over the whole time), with a bootstrap interval over rounds.
 */
async function interleavedRounds(
  upstreamUrl: string,
  tmp: string,
  o: { ROUNDS: number; ROUND_SECONDS: number; RATE: number; WARMUP: number; CONCURRENCY: number; PROFILE: boolean },
): Promise<TailComparison & { rounds: number; medianOfRounds: number }> {
  console.log(`\n== interleaved: ${o.ROUNDS} rounds of ${o.ROUND_SECONDS} s at ${o.RATE} req/s, bare and tunewatch alternating`);
  const ready = (_l: string, m: Json | null) => (m?.ready ? String(m.url) : null);
  const bareChild = await spawnChild('bare', [SERVERS, '--serve-bare', '0', upstreamUrl], ready);
  const twChild = await spawnChild('tunewatch', [SERVERS, '--serve-tunewatch', '0', upstreamUrl, join(tmp, 'tunewatch-rounds')], ready, TUNEWATCH_NODE_FLAGS);
  const [bare, tw] = [bareChild, twChild].map((c) => ({ name: c.name, pool: new Pool(c.url, { connections: o.CONCURRENCY, keepAliveTimeout: 30_000 }), path: '/v1/chat/completions' }));
  for (const t of [bare, tw]) await closedLoop(t, o.WARMUP, o.CONCURRENCY, newTally());
  await flushTunewatch(twChild.url);
  const latencies = { bare: [] as Float64Array[], tunewatch: [] as Float64Array[] };
  const trace: Json[] = [];
  const profiles = { bare: [] as string[], tunewatch: [] as string[] };
  const cpu = { bare: { own: 0, kids: 0, n: 0 }, tunewatch: { own: 0, kids: 0, n: 0 } };
  const childOf = { bare: bareChild, tunewatch: twChild };
  const perRound: number[] = [];
  for (let r = 0; r < o.ROUNDS; r++) {
    const order = r % 2 === 0 ? [bare, tw] : [tw, bare];
    for (const t of order) {
      await sleep(300);
      const child = childOf[t.name as keyof typeof childOf];
      const pid = child.pid;
      const [own0, kids0] = [cpuMs(pid), childrenCpuMs(pid)];
      if (o.PROFILE) {
        child.proc.stdin!.write('prof-start\n');
        await child.next((m) => m.profiling === true);
      }
      const stats = await openLoop(t, o.ROUND_SECONDS, o.RATE, false, newTally());
      if (o.PROFILE) {
        const file = join(tmp, `${t.name}-round-${r}.cpuprofile`);
        child.proc.stdin!.write(`prof-stop ${file}\n`);
        await child.next((m) => m.profiled === file);
        profiles[t.name as keyof typeof profiles].push(file);
      }
      const c = cpu[t.name as keyof typeof cpu];
      c.own += cpuMs(pid) - own0;
      c.kids += childrenCpuMs(pid) - kids0;
      c.n += stats.n + stats.bad;
      latencies[t.name as keyof typeof latencies].push(stats.sorted);
      trace.push({ system: t.name, round: r, firstDue: stats.firstDue, intervalMs: 1000 / o.RATE, latencies: [...stats.byOrder] });
    }
    const [b, w] = [latencies.bare[r], latencies.tunewatch[r]].map((x) => percentile(x, 0.99));
    perRound.push(w - b);
    console.log(`  round ${r + 1}: bare p99 ${fmt(b)} ms, tunewatch p99 ${fmt(w)} ms (${signed(w - b)} ms)`);
  }
  await Promise.all([bare.pool.close(), tw.pool.close()]);
  await stopChild(bareChild);
  await stopChild(twChild);
  const us = (ms: number, n: number) => fmt((ms * 1000) / Math.max(1, n), 0);
  console.log(
    `  CPU per request: bare ${us(cpu.bare.own, cpu.bare.n)} µs; tunewatch ${us(cpu.tunewatch.own, cpu.tunewatch.n)} µs` +
      ` + its store process ${us(cpu.tunewatch.kids, cpu.tunewatch.n)} µs (all threads, measured over the rounds)`,
  );
  if (o.PROFILE) {
    for (const name of ['bare', 'tunewatch'] as const) {
      // The last round's profile, summarised per request of that round.
      const file = profiles[name][profiles[name].length - 1];
      console.log(`\nCPU profile of ${name} (main thread), last round at ${o.RATE} req/s:`, ...summariseProfile(file, o.RATE * o.ROUND_SECONDS).map((l) => `\n${l}`));
    }
  }
  // BENCH_TRACE=file: every request's latency in send order, to look for patterns in the slow ones.
  if (process.env.BENCH_TRACE) writeFileSync(process.env.BENCH_TRACE, JSON.stringify(trace));
  const cmp = compareTails(latencies.tunewatch, latencies.bare, 0.99);
  const n = latencies.bare.reduce((k, x) => k + x.length, 0);
  console.log(`  pooled over ${o.ROUNDS} rounds (${n} requests each): bare p99 ${fmt(cmp.bQuantile)} ms, tunewatch p99 ${fmt(cmp.aQuantile)} ms`);
  console.log(`  p99 difference: ${signed(cmp.difference)} ms (90% bootstrap interval over rounds ${signed(cmp.low)} to ${signed(cmp.high)} ms); median of per-round differences ${signed(median(perRound))} ms`);
  return { ...cmp, rounds: o.ROUNDS, medianOfRounds: median(perRound) };
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${fmt(x)}`;
}

async function eldReset(child: Child | null): Promise<void> {
  if (!child) return;
  child.proc.stdin!.write('eld-reset\n');
  await child.next((m) => m.eldReset === true);
}

async function eldRead(child: Child | null): Promise<LatencyStats['loopDelay']> {
  if (!child) return undefined;
  child.proc.stdin!.write('eld\n');
  return (await child.next((m) => 'eld' in m)).eld as LatencyStats['loopDelay'];
}

async function machineBusyOver(ms: number): Promise<number> {
  const a = machineCpu();
  await sleep(ms);
  const b = machineCpu();
  return ((b.busy - a.busy) / (b.total - a.total)) * 100;
}

/** One request first: the system must answer a well-formed chat completion, not just any 200. */
async function checkAnswer(t: Target, tally: Tally): Promise<void> {
  const res = await t.pool.request({ path: t.path, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODIES.plain[0] });
  const text = await res.body.text();
  tally.statuses.set(res.statusCode, (tally.statuses.get(res.statusCode) ?? 0) + 1);
  let content: unknown;
  try {
    content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
  } catch {
    content = undefined;
  }
  if (res.statusCode !== 200 || typeof content !== 'string') throw new Error(`${t.name}: unexpected answer ${res.statusCode}: ${text.slice(0, 300)}`);
}

/** Redaction is on: stored prompts carry placeholders and no raw contact details. */
async function checkRedaction(base: string): Promise<string> {
  const pool = new Pool(base, { connections: 1 });
  try {
    const res = await pool.request({ path: '/api/samples?limit=200', method: 'GET' });
    const body = (await res.body.json()) as { items?: { prompt?: string }[] };
    const prompts = (body.items ?? []).map((i) => String(i.prompt ?? ''));
    const placeholders = prompts.filter((p) => p.includes('[EMAIL]') || p.includes('[PHONE]')).length;
    const raw = prompts.filter((p) => /@example\.(com|org)|555[ -]\d{4}/.test(p)).length;
    return `${prompts.length} newest stored prompts: ${placeholders} with [EMAIL]/[PHONE] placeholders, ${raw} with a raw email or phone${raw ? ' (REDACTION FAILED)' : ''}`;
  } finally {
    await pool.close();
  }
}

async function flushTunewatch(base: string): Promise<Json> {
  const pool = new Pool(base, { connections: 1 });
  try {
    const res = await pool.request({ path: '/api/capture/flush', method: 'POST' });
    const body = (await res.body.json()) as Json;
    if (res.statusCode !== 200) throw new Error(`flush answered ${res.statusCode}: ${JSON.stringify(body)}`);
    return body;
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------------------------

{
  const cleanup = () => {
    for (const c of children) {
      if (c.proc.exitCode !== null) continue;
      c.expectExit();
      c.proc.kill('SIGKILL');
    }
  };
  process.on('SIGINT', () => {
    cleanup();
    removeTmp();
    process.exit(130);
  });
  try {
    process.exitCode = await main();
  } catch (err) {
    console.error('bench failed:', err);
    cleanup();
    await sleep(200); // let the killed children release their files
    removeTmp();
    process.exitCode = 1;
  }
}

// The child servers the bench measures, each in its own process, started by proxy-bench.ts:
//   node --import tsx bench/servers.ts --serve-bare PORT UPSTREAM_URL
//   node --import tsx bench/servers.ts --serve-tunewatch PORT UPSTREAM_URL DATA_DIR
// They talk to the parent with JSON lines prefixed by MARK on stdout, and take commands on stdin
// (eld-reset, eld, prof-start, prof-stop FILE, exit).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { MODEL } from './load.js';
import { MARK, type Json } from './protocol.js';

function say(obj: Json): void {
  process.stdout.write(MARK + JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Child side: optional CPU profiling driven over stdin (profiles only the phases the parent picks).

function listenForCommands(onExit?: () => void): void {
  let session: import('node:inspector/promises').Session | undefined;
  // Event-loop delay: how long ready work waited because something blocked the loop (1 ms resolution).
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    void (async () => {
      const [cmd, arg] = line.trim().split(/\s+/, 2);
      if (cmd === 'eld-reset') {
        eld.reset();
        say({ eldReset: true });
      } else if (cmd === 'eld') {
        const ms = (ns: number) => Math.round(ns / 1e4) / 100;
        say({ eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) } });
      } else if (cmd === 'prof-start') {
        const { Session } = await import('node:inspector/promises');
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        say({ profiling: true });
      } else if (cmd === 'prof-stop' && session && arg) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(arg, JSON.stringify(profile));
        session.disconnect();
        session = undefined;
        say({ profiled: arg });
      }
    })().catch((err: unknown) => say({ error: String(err) }));
  });
  // The parent going away (stdin closed) must not leave the child running.
  rl.on('close', () => onExit?.());
}

async function serveBare(port: number, upstreamUrl: string): Promise<void> {
  const upstream = new URL(upstreamUrl);
  const base = upstream.pathname.replace(/\/$/, '');
  // Same pool settings as tunewatch's defaults (server.upstreamConnections = 128).
  const pool = new Pool(upstream.origin, { connections: 128, keepAliveTimeout: 30_000 });
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      pool
        .request({ path: `${base}/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
        .then((up) => {
          const contentType = String(up.headers['content-type'] ?? 'application/json');
          res.writeHead(up.statusCode, { 'content-type': contentType });
          // Event handlers rather than stream.pipeline: the cheapest correct forwarding Node offers.
          // SSE is written through as it arrives; a JSON answer leaves in one write with the headers.
          const sse = contentType.startsWith('text/event-stream');
          const parts: Buffer[] = [];
          up.body.on('data', (c: Buffer) => (sse ? res.write(c) : parts.push(c)));
          up.body.on('end', () => res.end(sse ? undefined : Buffer.concat(parts)));
          up.body.on('error', (err) => res.destroy(err));
          res.on('close', () => {
            if (!res.writableFinished) up.body.destroy();
          });
        })
        .catch((err: Error) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: err.message } }));
        });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void pool.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  listenForCommands(stop);
  say({ ready: true, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid });
}

async function serveTunewatch(port: number, upstreamUrl: string, dataDir: string): Promise<void> {
  const { validate } = await import('../src/config/load.js');
  const { startService } = await import('../src/cli/service.js');
  const { countSamples } = await import('../src/store/queries.js');
  const config = validate({
    server: { host: '127.0.0.1', port },
    storage: { path: dataDir },
    // Evaluators on, as in production: a spec for instruction success, plus the safety and grounding rules.
    specs: { 'action-items': { requiredSections: ['Action items'], minBullets: 1, maxWords: 150 } },
    models: [{ name: MODEL, spec: 'action-items', deployments: [{ version: 'v1', upstream: upstreamUrl }] }],
    // Default capture settings unless BENCH_TUNEWATCH_CAPTURE overrides some, e.g. '{"flushIntervalMs":200}'.
    capture: process.env.BENCH_TUNEWATCH_CAPTURE ? (JSON.parse(process.env.BENCH_TUNEWATCH_CAPTURE) as Json) : {},
  });
  // No admin token: the admin API then answers on loopback, which is where the parent is.
  const env = { ...process.env, TUNEWATCH_ADMIN_TOKEN: '' };
  const service = await startService(config, { env, logLevel: 'warn' });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // The store is closed by stop(): count after everything enqueued has been written, before stopping.
    await service.pipeline.flush();
    const samples = await countSamples(service.store);
    say({ samples, health: service.pipeline.health() });
    await service.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  listenForCommands(() => void stop());
  say({ ready: true, url: service.url, pid: process.pid, store: service.store.location });
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--serve-bare') {
  await serveBare(Number(rest[0]), rest[1]);
} else if (mode === '--serve-tunewatch') {
  mkdirSync(rest[2], { recursive: true });
  await serveTunewatch(Number(rest[0]), rest[1], rest[2]);
} else {
  console.error('bench/servers.ts: --serve-bare PORT UPSTREAM_URL | --serve-tunewatch PORT UPSTREAM_URL DATA_DIR');
  process.exit(2);
}

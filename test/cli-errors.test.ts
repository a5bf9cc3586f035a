// The real CLI, spawned: ordinary mistakes are one line on stderr saying what to do, exit code 1, no stack.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/cli/processes.js';
import { startUpstream, type Upstream } from './helpers.js';

const root = join(import.meta.dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { TUNEWATCH_ADMIN_TOKEN: _token, TUNEWATCH_DEBUG: _debug, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** One line on stderr, `tunewatch: …`, matching `message`, no stack, exit code 1. */
function expectOneLineError(run: Run, message: RegExp) {
  expect(run.stderr, run.stderr).toMatch(/^tunewatch: [^\n]+\n$/);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr.trim()).toMatch(message);
  expect(run.code).toBe(1);
}

/** A fake admin API: each test sets what it answers. */
let answer: (path: string, res: import('node:http').ServerResponse, auth: string | undefined) => void = (_p, res) => res.end();
let fake: Upstream;
let base: string;
beforeAll(async () => {
  fake = await startUpstream((req, res) => answer(req.url ?? '', res, req.headers.authorization));
  base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
});
afterAll(() => fake?.close());

const json = (status: number, body: unknown) => (_path: string, res: import('node:http').ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('tunewatch CLI errors', () => {
  it('prints its version', async () => {
    const run = await cli(['--version']);
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    expect(run.code).toBe(0);
  });

  it('says there is no server when the connection is refused', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const expected = `tunewatch: no tunewatch server at ${url} (connection refused); start one with "tunewatch serve --config tunewatch.yaml" or pass --url`;
    for (const args of [['summary'], ['slo', 'status'], ['slo', 'report', '--since', '1d']]) {
      const run = await cli([...args, '--url', url]);
      expectOneLineError(run, /connection refused/);
      expect(run.stderr.trim()).toBe(expected);
    }
  }, 60_000);

  it('gives up after --timeout when the server does not answer', async () => {
    answer = () => undefined; // never answers
    expectOneLineError(await cli(['summary', '--url', base, '--timeout', '300ms']), /^tunewatch: the tunewatch server at http:\/\/127\.0\.0\.1:\d+ did not answer within 300ms; .*--timeout$/);
  });

  it('names the status and message of an error answer, and an answer that is not JSON', async () => {
    answer = json(503, { error: { message: 'the store is not answering right now', type: 'service_unavailable' } });
    expectOneLineError(await cli(['slo', 'status', '--url', base]), /answered 503: the store is not answering right now$/);
    answer = (_p, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    };
    expectOneLineError(await cli(['summary', '--url', base]), /\/api\/summary\?since=1h answered 200 with text\/html, not JSON; is --url a tunewatch server\?$/);
    answer = (_p, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('Bad Gateway\n  at somewhere');
    };
    expectOneLineError(await cli(['summary', '--url', base]), /answered 502 \(text\/plain\), not a tunewatch answer/);
    answer = json(200, { something: 'else' });
    expectOneLineError(await cli(['summary', '--url', base]), /answered JSON without 'versions'/);
  }, 60_000);

  it('says to set TUNEWATCH_ADMIN_TOKEN on a 401', async () => {
    let sent: string | undefined;
    answer = (path, res, auth) => {
      sent = auth;
      json(401, { error: { message: 'missing or wrong admin token' } })(path, res);
    };
    expectOneLineError(await cli(['summary', '--url', base]), /refused the admin request \(401: missing or wrong admin token\); set TUNEWATCH_ADMIN_TOKEN/);
    expectOneLineError(await cli(['summary', '--url', base], { TUNEWATCH_ADMIN_TOKEN: 'nope' }), /check that TUNEWATCH_ADMIN_TOKEN is the server's admin token/);
    expect(sent).toBe('Bearer nope');
  }, 60_000);

  it('still prints the table when the server answers', async () => {
    answer = json(200, { since: '1h', versions: [{ model: 'support-bot', version: 'v1', role: 'baseline', requests: 3, errors: 0 }] });
    const run = await cli(['summary', '--url', `${base}/`]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/support-bot\s+v1\s+baseline\s+3/);
    expect(run.code).toBe(0);
  });

  it('rejects a --url that is not a URL and a bad --since before asking anything', async () => {
    expectOneLineError(await cli(['summary', '--url', 'localhost:8080']), /^tunewatch: --url "localhost:8080" is not an http\(s\) URL; pass the server's address, e.g. --url http:\/\/127\.0\.0\.1:8080$/);
    expectOneLineError(await cli(['slo', 'report', '--since', 'a week']), /invalid duration "a week"/);
  });

  it('lists the profiles for an unknown one', async () => {
    expectOneLineError(await cli(['simulate', '--profile', 'nope']), /^tunewatch: unknown simulator profile "nope"; the profiles are healthy, regressed, slow, flaky, instant$/);
  });

  it('says which config file is missing and what to do', async () => {
    for (const command of ['serve', 'migrate', 'alerts build']) {
      const run = await cli([...command.split(' '), '--config', '/nonexistent/tw.yaml']);
      expectOneLineError(run, /^tunewatch: no config file \/nonexistent\/tw\.yaml; copy tunewatch\.example\.yaml to \/nonexistent\/tw\.yaml and edit it, or pass --config FILE$/);
    }
  }, 60_000);

  it('keeps usage errors to one line', async () => {
    expectOneLineError(await cli(['summary', '--sice', '1h']), /unknown option '--sice' \(Did you mean --since\?\); see tunewatch --help$/);
  });

  it('prints an unexpected error in one line, and its stack only with TUNEWATCH_DEBUG=1', async () => {
    const run = await cli(['demo', '--data', '/dev/null/data', '-n', '1']);
    expectOneLineError(run, /^tunewatch: unexpected error: ENOTDIR: .* \(run with TUNEWATCH_DEBUG=1 for the stack\)$/);
    const debug = await cli(['demo', '--data', '/dev/null/data', '-n', '1'], { TUNEWATCH_DEBUG: '1' });
    expect(debug.stderr).toMatch(/^tunewatch: unexpected error: ENOTDIR/);
    expect(debug.stderr).toMatch(/^\s+at /m);
    expect(debug.code).toBe(1);
  }, 60_000);
});

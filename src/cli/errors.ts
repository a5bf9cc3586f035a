import { InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import type { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** An ordinary mistake: its message is one line saying what was wrong and what to do. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

const DEBUG_HINT = 'run with TUNEWATCH_DEBUG=1 for the stack';

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * What the CLI prints for an error: `tunewatch: …`, one line for anything expected (an invalid config
 * with several problems lists them, one a line, as documented). A genuinely unexpected error is one line
 * too, with the stack only under TUNEWATCH_DEBUG=1.
 */
export function errorText(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  // MigrationError by name: importing store/migrate.js would load the store client into every command.
  const expected = err instanceof CliError || err instanceof InvalidArgumentError || (err instanceof Error && err.name === 'MigrationError');
  if (expected) return `tunewatch: ${oneLine(err.message)}`;
  if (isConfigError(err)) {
    const [only] = err.issues;
    if (err.issues.length > 1) return `tunewatch: ${err.message}`;
    return `tunewatch: invalid config (${err.source}): ${only.path ? `${only.path}: ` : ''}expected ${only.expected}, found ${oneLine(only.found)}`;
  }
  const listen = listenProblem(err);
  if (listen) return `tunewatch: ${listen}`;
  const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const first = oneLine(message.split('\n')[0] || 'no message').slice(0, 300);
  const line = `tunewatch: unexpected error: ${first}`;
  if (env.TUNEWATCH_DEBUG === '1' || env.TUNEWATCH_DEBUG === 'true') return `${line}\n${err instanceof Error ? err.stack : String(err)}`;
  return `${line} (${DEBUG_HINT})`;
}

/** A port the server cannot listen on. */
function listenProblem(err: unknown): string | undefined {
  const e = err as { code?: string; syscall?: string; address?: string; port?: number };
  if (e?.syscall !== 'listen') return undefined;
  const where = `${e.address ?? ''}:${e.port ?? ''}`;
  if (e.code === 'EADDRINUSE') return `${where} is already in use; stop what listens there or choose another server.port (TUNEWATCH_PORT)`;
  if (e.code === 'EACCES') return `not allowed to listen on ${where}; use a port above 1024 or run with the right to bind it`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such address on this machine; check server.host (TUNEWATCH_HOST)`;
  return undefined;
}

// By name, like MigrationError: config/load.js compiles the config schema when imported (a second).
const isConfigError = (err: unknown): err is ConfigError => err instanceof Error && err.name === 'ConfigError' && Array.isArray((err as ConfigError).issues);

/** The config file for a command, or a one-line error when there is none. */
export async function configFile(file: string): Promise<Config> {
  if (!existsSync(file)) {
    throw new CliError(`no config file ${file}; copy tunewatch.example.yaml to ${file} and edit it, or pass --config FILE`);
  }
  const { loadConfigFile } = await import('../config/load.js');
  return loadConfigFile(file);
}

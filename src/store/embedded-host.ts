// The process that owns the embedded store. chDB runs inside whichever process loads it and holds
// that process's event loop for a few milliseconds on every call, which would show up in the proxy's
// p99; so the proxy forks this host and talks to it over IPC (see embedded-connection.ts).
import { createChdbConnection } from 'chdb/connection';
import type { Readable } from 'node:stream';
import { replyError, type StoreRequest as Request } from './embedded-connection.js';

const path = process.argv[2];
if (!path || !process.send) {
  console.error('embedded-host: run by tunewatch with a data path and an IPC channel');
  process.exit(2);
}
const send = (msg: unknown) => process.send!(msg);

// A signal to the whole process group (Ctrl-C in a terminal, systemd's KillMode=control-group, an
// npm wrapper) reaches this process with the server's. The server drains and still needs the
// store for its last batch: this process ends when its owner closes the channel, not on a signal.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

let connection: ReturnType<typeof createChdbConnection>;
try {
  connection = createChdbConnection({ path });
  // Opening is lazy in chDB: ping so a locked or unusable data directory fails here, at start.
  const ping = await connection.ping({ select: true });
  if (!ping.success) throw ping.error;
  send({ ready: true });
} catch (err) {
  send({ ready: false, error: (err as Error).message });
  process.exit(1);
}

async function handle({ op, params }: Request): Promise<unknown> {
  switch (op) {
    case 'query':
    case 'exec': {
      const result = await (op === 'query' ? connection.query(params as never) : connection.exec(params as never));
      const { stream, ...rest } = result as unknown as { stream: Readable };
      return { ...rest, body: await readAll(stream) };
    }
    case 'command':
      return connection.command(params as never);
    case 'insert':
      return connection.insert(params as never);
    case 'ping': {
      const result = await connection.ping(params as never);
      return result.success ? { success: true } : { success: false, error: String(result.error?.message ?? result.error) };
    }
    case 'close':
      await connection.close();
      return null;
  }
}

process.on('message', (request: Request) => {
  handle(request).then(
    (result) => {
      send({ id: request.id, ok: true, result });
      if (request.op === 'close') process.disconnect();
    },
    (err: Error) => send(replyError(request.id, err)),
  );
});

// The owner went away without closing: close the store cleanly so the data directory is released.
process.on('disconnect', () => {
  void connection
    .close()
    .catch(() => undefined)
    .finally(() => process.exit(0));
});

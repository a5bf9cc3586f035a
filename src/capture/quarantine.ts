import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { storeErrorInfo } from '../store/errors.js';
import type { CapturedBatch } from './processor.js';

/** The folder under the data path where rejected rows are kept, one JSON line each. */
export const QUARANTINE_DIR = 'quarantine';

/**
 * Rows the store rejected for what they contain, kept with the store's reason so they can be
 * inspected, fixed and re-inserted by hand; never retried automatically (they would fail again).
 * Bounded like the spill log: past `maxBytes`, further rows are dropped and counted by the caller.
 */
export class QuarantineFile {
  private bytes = 0;
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {
    this.file = join(dir, 'rejected.ndjson');
  }

  /** Appends the rejected samples with their reason; false when there is no room. */
  async append(rejected: { batch: CapturedBatch; error: unknown }[]): Promise<boolean> {
    const at = new Date().toISOString();
    const lines = rejected.map(({ batch, error }) => {
      const { message, code, type } = storeErrorInfo(error);
      return JSON.stringify({ quarantined_at: at, reason: message.slice(0, 2000), code, type, ...batch }) + '\n';
    });
    return this.write(lines.join(''));
  }

  /** Keeps an unreadable spill file's text as it was. */
  async appendRaw(text: string, reason: string): Promise<boolean> {
    return this.write(JSON.stringify({ quarantined_at: new Date().toISOString(), reason, raw: text }) + '\n');
  }

  private async write(text: string): Promise<boolean> {
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.maxBytes) return false;
    this.bytes += size;
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.file, text);
    return true;
  }
}

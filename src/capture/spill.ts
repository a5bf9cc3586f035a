import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The on-disk write-ahead log for batches the store would not take. One file (a JSON line) per batch, named by
 * a sequence number so replay keeps order; written to a temp name and renamed so a crash never
 * leaves half a batch behind.
 */
export class SpillLog<Entry> {
  private nextSeq: number;
  private bytes = 0;
  private files: { name: string; size: number }[];

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.files = readdirSync(dir)
      .filter((f) => f.endsWith('.ndjson'))
      .sort()
      .map((name) => ({ name, size: statSync(join(dir, name)).size }));
    this.bytes = this.files.reduce((sum, f) => sum + f.size, 0);
    this.nextSeq = this.files.length ? Number.parseInt(this.files[this.files.length - 1].name, 10) + 1 : 1;
  }

  get pendingBatches(): number {
    return this.files.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  hasRoomFor(bytes: number): boolean {
    return this.bytes + bytes <= this.maxBytes;
  }

  /** Appends a batch; false (and nothing written) when the log is full. */
  async append(entry: Entry): Promise<boolean> {
    const text = JSON.stringify(entry) + '\n';
    const size = Buffer.byteLength(text);
    if (!this.hasRoomFor(size)) return false;
    const name = `${String(this.nextSeq++).padStart(12, '0')}.ndjson`;
    this.bytes += size; // reserved before the write so concurrent appends cannot overshoot
    await writeFile(join(this.dir, `${name}.tmp`), text);
    await rename(join(this.dir, `${name}.tmp`), join(this.dir, name));
    // Listed only once complete, so replay never reads a batch still being written.
    this.files.push({ name, size });
    this.files.sort((a, b) => (a.name < b.name ? -1 : 1));
    return true;
  }

  /** The oldest batch, or null when the log is empty. */
  async peek(): Promise<Entry | null> {
    const first = this.files[0];
    if (!first) return null;
    return JSON.parse(await readFile(join(this.dir, first.name), 'utf8')) as Entry;
  }

  /** Removes the oldest batch once it is safely in the store. */
  async shift(): Promise<void> {
    const first = this.files.shift();
    if (!first) return;
    this.bytes -= first.size;
    await unlink(join(this.dir, first.name));
  }
}

import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A spill file that cannot be read back as a batch (cut short by a full disk, edited by hand). */
export class SpillCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly text: string,
    reason: string,
  ) {
    super(`spill file ${file} is unreadable: ${reason}`);
    this.name = 'SpillCorruptError';
  }
}

/**
 * The on-disk write-ahead log for batches the store would not take. One file (a JSON line) per batch, named by
 * a sequence number so replay keeps order; written to a temp name and renamed so a crash never
 * leaves half a batch behind.
 */
export class SpillLog<Entry> {
  private nextSeq = 1;
  private bytes = 0;
  private files: { name: string; size: number }[] = [];
  /** False after a write failed (folder gone or unwritable); true again after one succeeds. */
  private writeOk = true;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    try {
      mkdirSync(dir, { recursive: true });
      this.files = readdirSync(dir)
        .filter((f) => f.endsWith('.ndjson'))
        .sort()
        .map((name) => ({ name, size: statSync(join(dir, name)).size }));
    } catch {
      // An unusable folder must not stop the proxy: the store may be fine. Writes will say so.
      this.writeOk = false;
    }
    this.bytes = this.files.reduce((sum, f) => sum + f.size, 0);
    this.nextSeq = this.files.length ? Number.parseInt(this.files[this.files.length - 1].name, 10) + 1 : 1;
  }

  get pendingBatches(): number {
    return this.files.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Whether the last write (if any) succeeded. */
  get writable(): boolean {
    return this.writeOk;
  }

  hasRoomFor(bytes: number): boolean {
    return this.bytes + bytes <= this.maxBytes;
  }

  /** Appends a batch; false (and nothing written) when the log is full. Throws when the disk refuses. */
  async append(entry: Entry): Promise<boolean> {
    const text = JSON.stringify(entry) + '\n';
    const size = Buffer.byteLength(text);
    if (!this.hasRoomFor(size)) return false;
    const name = `${String(this.nextSeq++).padStart(12, '0')}.ndjson`;
    this.bytes += size; // reserved before the write so concurrent appends cannot overshoot
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(join(this.dir, `${name}.tmp`), text);
      await rename(join(this.dir, `${name}.tmp`), join(this.dir, name));
    } catch (err) {
      this.bytes -= size;
      this.writeOk = false;
      throw err;
    }
    this.writeOk = true;
    // Listed only once complete, so replay never reads a batch still being written.
    this.files.push({ name, size });
    this.files.sort((a, b) => (a.name < b.name ? -1 : 1));
    return true;
  }

  /** The oldest batch, or null when the log is empty; SpillCorruptError when it cannot be read. */
  async peek(): Promise<Entry | null> {
    const first = this.files[0];
    if (!first) return null;
    const file = join(this.dir, first.name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new SpillCorruptError(file, '', (err as Error).message);
    }
    try {
      return JSON.parse(text) as Entry;
    } catch (err) {
      throw new SpillCorruptError(file, text, (err as Error).message);
    }
  }

  /** Replaces the oldest batch with what is left of it (the rest was stored or quarantined). */
  async replaceFirst(entry: Entry): Promise<void> {
    const first = this.files[0];
    if (!first) return;
    const text = JSON.stringify(entry) + '\n';
    await writeFile(join(this.dir, `${first.name}.tmp`), text);
    await rename(join(this.dir, `${first.name}.tmp`), join(this.dir, first.name));
    this.bytes += Buffer.byteLength(text) - first.size;
    first.size = Buffer.byteLength(text);
  }

  /** Removes the oldest batch once it is safely in the store (or quarantined). */
  async shift(): Promise<void> {
    const first = this.files.shift();
    if (!first) return;
    this.bytes -= first.size;
    await unlink(join(this.dir, first.name)).catch(() => undefined);
  }
}

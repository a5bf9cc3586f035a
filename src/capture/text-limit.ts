// Cutting captured text to capture.maxTextBytes bytes of UTF-8, at a code point boundary. Pure.
// Short texts (the common case) are recognised from their length alone, without a pass over them.

/**
 * Characters kept past the cut for redaction only: an email, card or key that crosses the cut is
 * then still seen whole by the redactor, so no unredacted beginning of it is stored.
 */
export const REDACTION_MARGIN = 4096;

const encoder = new TextEncoder();
let scratch = new Uint8Array(0);

/** UTF-16 units of `s` whose UTF-8 encoding fits in `maxBytes` (never half a code point); s.length when all fit. */
export function utf8PrefixLength(s: string, maxBytes: number): number {
  // A UTF-16 unit takes at most 3 bytes (a surrogate pair, two units, takes 4), and at least 1.
  if (s.length * 3 <= maxBytes) return s.length;
  if (s.length <= maxBytes && Buffer.byteLength(s, 'utf8') <= maxBytes) return s.length;
  if (scratch.length !== maxBytes) scratch = new Uint8Array(maxBytes);
  // encodeInto stops before a code point that does not fit; a lone surrogate counts as U+FFFD (3 bytes).
  return encoder.encodeInto(maxBytes < s.length ? s.slice(0, maxBytes) : s, scratch).read;
}

export interface Capped {
  text: string;
  cut: boolean;
}

/** The first `maxBytes` bytes of UTF-8 of `s`, at a character boundary. */
export function capUtf8(s: string, maxBytes: number): Capped {
  const n = utf8PrefixLength(s, maxBytes);
  return n === s.length ? { text: s, cut: false } : { text: s.slice(0, n), cut: true };
}

/** `s` cut for redaction: what capUtf8 keeps plus REDACTION_MARGIN characters (cut again after redacting). */
export function prefixForRedaction(s: string, maxBytes: number): string {
  const n = utf8PrefixLength(s, maxBytes);
  return n === s.length ? s : s.slice(0, n + REDACTION_MARGIN);
}

/**
 * The length of `buf` without an incomplete UTF-8 sequence at its end: a prefix of a larger answer
 * may stop inside a character, which is not an encoding error of the upstream's.
 */
export function completeUtf8Length(buf: Uint8Array): number {
  const end = buf.length;
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > end ? i : end;
  }
  return end;
}

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** `s` with lone surrogates replaced by U+FFFD: ClickHouse rejects a JSON row holding one. */
export function wellFormed(s: string): string {
  return (s as unknown as WellFormed).isWellFormed() ? s : (s as unknown as WellFormed).toWellFormed();
}

/**
 * PII / secret redaction for captured prompts and completions. Pure and synchronous: it runs
 * on every request and response the proxy sees, so every detector has a cheap pre-check, all
 * regexes are compiled once here, and every pattern is anchored by a lookbehind so it can
 * only start at the beginning of a token (linear scans, no catastrophic backtracking).
 */

export const PII_TYPES = ['EMAIL', 'PHONE', 'CARD', 'SSN', 'IBAN', 'IPV4', 'IPV6', 'API_KEY', 'BEARER', 'JWT', 'PRIVATE_KEY'] as const;
export type PiiType = (typeof PII_TYPES)[number];
export type PiiCounts = Partial<Record<PiiType, number>>;
export interface Redaction {
  text: string;
  found: PiiCounts;
}

interface Detector {
  type: PiiType;
  /** Global regex. An optional named group `keep` is context (e.g. "Bearer ") left in the output. */
  pattern: RegExp;
  /** Cheap necessary condition on the text; when false the regex is not run at all. */
  hint: (text: string) => boolean;
  /** Checks the regex cannot express (Luhn, digit counts, IPv6 group arithmetic). */
  valid?: (secret: string) => boolean;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_BODY = `${OCTET}(?:\\.${OCTET}){3}`;
const IPV4_EXACT = new RegExp(`^${IPV4_BODY}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const NON_DIGITS = /\D/g;

const matches = (re: RegExp) => (text: string) => re.test(text);
const contains = (needle: string) => (text: string) => text.includes(needle);
const digitsOf = (s: string) => s.replace(NON_DIGITS, '');

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

// Major networks only (Amex/Diners/JCB 3, Visa 4, Mastercard 5 and 2221-2720, Discover/UnionPay 6).
// Luhn alone passes 1 in 10 digit runs; the prefix keeps e.g. "2019 2020 2021 2022" out.
function isCard(candidate: string): boolean {
  const digits = digitsOf(candidate);
  const first = digits[0];
  const prefixOk =
    first === '2' ? Number(digits.slice(0, 4)) >= 2221 && Number(digits.slice(0, 4)) <= 2720 : '3456'.includes(first ?? 'x');
  return prefixOk && luhnValid(digits);
}

// E.164 allows at most 15 digits; fewer than 8 is more likely a score or a count than a phone.
function isPhone(candidate: string): boolean {
  const n = digitsOf(candidate).length;
  return n >= 8 && n <= 15;
}

/** National numbers with a trunk 0 ("020 7946 0321", "06 12 34 56 78"): 10 to 12 digits. */
function isNationalPhone(candidate: string): boolean {
  const n = digitsOf(candidate).length;
  if (n < 10 || n > 12) return false;
  // "01 02 03 04 05" numbers a list; a phone's pairs do not count up.
  const groups = candidate.split(/[ .-]/).map(Number);
  return !groups.every((g, i) => i === 0 || g === groups[i - 1] + 1);
}

/** ISO 13616: the country code and check digits moved to the end, read as a number, are 1 mod 97. */
function ibanValid(candidate: string): boolean {
  const compact = candidate.replace(/ /g, '');
  if (compact.length < 15 || compact.length > 34) return false;
  let remainder = 0;
  for (const ch of compact.slice(4) + compact.slice(0, 4)) {
    const code = ch.charCodeAt(0);
    const value = code <= 57 ? code - 48 : code - 55; // '0'-'9' -> 0-9, 'A'-'Z' -> 10-35
    remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

function isIpv6(candidate: string): boolean {
  // Digit-free shapes like "::" or "dead::beef" are overwhelmingly code (Foo::bar), not addresses.
  if (!/\d/.test(candidate)) return false;
  let hex = candidate;
  if (candidate.includes('.')) {
    const lastColon = candidate.lastIndexOf(':');
    if (!IPV4_EXACT.test(candidate.slice(lastColon + 1))) return false;
    hex = `${candidate.slice(0, lastColon + 1)}0:0`; // an embedded IPv4 stands for two 16-bit groups
  }
  const halves = hex.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  if (!groups.every((g) => HEX_GROUP.test(g))) return false;
  return halves.length === 2 ? groups.length <= 7 : groups.length === 8;
}

/** A real key body has long base64 runs; a template ("...", "<your key>") has none. */
const PEM_MATERIAL = /[A-Za-z0-9+/]{16}/;
/**
 * PEM private keys: "-----BEGIN [RSA |EC |OPENSSH |ENCRYPTED ...]PRIVATE KEY-----" up to the
 * matching END line (armour headers such as "Proc-Type: 4,ENCRYPTED" allowed), or, for a block
 * cut short, the BEGIN line and the headers and base64 runs that follow it. A truncated run is
 * a token of 16+ base64 characters, one holding a digit, '+' or '/', or one cut off by an
 * ellipsis, so the prose after the block is left alone. Public keys and certificates are not secrets.
 */
const PEM_LABEL = String.raw`(?<label>(?:[A-Z0-9]{2,10} ){0,2}PRIVATE KEY(?: BLOCK)?)`;
const PEM_TOKEN = String.raw`(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z]*[0-9+/][A-Za-z0-9+/]*={0,2}|[A-Za-z0-9+/]+(?:\.{3}|…))`;
/** Encrypted-PEM (RFC 1421) and PGP armour headers. */
const PEM_HEADER = String.raw`(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset):[^\n]*`;
const PEM_PRIVATE_KEY = new RegExp(
  // The body cannot contain "-----", so each BEGIN scans at most to the next armour line.
  String.raw`(?<!-)-----BEGIN ${PEM_LABEL}-----(?:(?:[\w\s+/=:,.<>@()'"]|-(?!----))*-----END \k<label>-----|(?:\s+(?:${PEM_HEADER}|${PEM_TOKEN}))+)`,
  'g',
);

/**
 * Applied in order, each on the output of the previous one, so an item is consumed (and
 * counted) by the first detector that claims it. Placeholders contain no digits, '@', ':' or
 * token characters in a matchable position, so later detectors never re-match them.
 * - PRIVATE_KEY first: a key body is base64 that could hold any token-like shape.
 * - JWT and specific API-key shapes next: "Bearer eyJ..." becomes "Bearer [JWT]" and
 *   "Bearer sk-..." becomes "Bearer [API_KEY]"; BEARER only counts otherwise-opaque tokens.
 * - EMAIL before everything digit-based (local parts often contain digits).
 * - IBAN before CARD: "GB82 WEST 1234 5698 7654 32" holds a grouped run a card could claim.
 * - IPV6 before IPV4 (embedded "::ffff:1.2.3.4" is one IPv6), CARD before SSN and PHONE.
 */
const DETECTORS: readonly Detector[] = [
  {
    type: 'PRIVATE_KEY',
    pattern: PEM_PRIVATE_KEY,
    hint: contains('PRIVATE KEY'),
    valid: (block) => PEM_MATERIAL.test(block.slice(block.indexOf('-----', 10) + 5)),
  },
  {
    type: 'JWT',
    pattern: /(?<![\w-])eyJ[\w-]{7,}\.[\w-]{2,}\.[\w-]*/g,
    hint: contains('eyJ'),
  },
  {
    type: 'API_KEY',
    pattern:
      /(?<![\w-])(?:sk-[\w-]{20,}|[sr]k_(?:live|test)_[0-9A-Za-z]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}|xox[baprs]-[A-Za-z0-9-]{10,}|AIza[\w-]{35}(?![\w-]))/g,
    hint: matches(/sk-|[sr]k_(?:live|test)_|AKIA|ASIA|gh[pousr]_|github_pat_|xox[baprs]-|AIza/),
    // Real OpenAI/Anthropic and Stripe secret/restricted keys are random and contain digits;
    // "sk-learn-compatible-..." and "sk_test_YourSecretKeyHere" do not.
    valid: (key) => !/^(?:sk-|[sr]k_)/.test(key) || /\d/.test(key),
  },
  {
    // Generic assignments (api_key=..., "apiKey": "...", MY_API_TOKEN: ...): only the value is replaced.
    type: 'API_KEY',
    pattern:
      /(?<![A-Za-z0-9])(?<keep>(?:api[_-]?(?:key|token|secret)|secret[_-]?key|access[_-]?token)["']?\s*[:=]\s*["']?)[\w.~+/-]{16,}={0,2}/gi,
    hint: matches(/api|secret|access/i),
  },
  {
    // Placeholder form is "Bearer [BEARER]": the auth scheme stays visible in captured headers.
    type: 'BEARER',
    pattern: /(?<![\w-])(?<keep>bearer[ \t]+)[\w.~+/-]{16,}={0,2}/gi,
    hint: matches(/bearer/i),
    // Opaque tokens mix letters and digits; all-letter runs are prose, all-digit runs are
    // numbers ("bearer 4111-1111-...") that the card/phone detectors should judge.
    valid: (token) => /[A-Za-z]/.test(token) && (/\d/.test(token) || token.length >= 24),
  },
  {
    type: 'EMAIL',
    pattern: /(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])/g,
    hint: contains('@'),
  },
  {
    // Country code, check digits, then the account in groups of four (or contiguous); mod-97 checked.
    type: 'IBAN',
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
    hint: matches(/[A-Z]{2}\d\d/),
    valid: ibanValid,
  },
  {
    // Loose candidate (2..8 colons, optional IPv4 tail); isIpv6 does the real check, so
    // times like "12:30" (one colon) and "12:30:45" (3 groups, no "::") are rejected.
    type: 'IPV6',
    pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,8}[0-9A-Fa-f]{0,4}(?:\.\d{1,3}){0,3}(?![\w:]|\.\w)/g,
    hint: matches(/[0-9A-Fa-f:]:[0-9A-Fa-f:]/),
    valid: isIpv6,
  },
  {
    // 4-4-4-(1..7) grouped with one consistent separator, Amex 4-6-5, or 13-19 contiguous.
    // Not after '+', '.' or an international dialing prefix (phones, decimals).
    type: 'CARD',
    pattern:
      /(?<![\d+.]|\+\d{1,3}[ .-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})(?!\d|[.,]\d)/g,
    hint: matches(/\d{4}/),
    valid: isCard,
  },
  {
    // Area 000/666/9xx, group 00 and serial 0000 are never issued.
    type: 'SSN',
    pattern: /(?<![\d.-])(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-]|\.\d)/g,
    hint: matches(/\d-\d\d-\d/),
  },
  {
    // International: "+14155552671", "+44 20 7946 0958", "+1 (415) 555-2671", "+44 (0)20 7946 0958".
    // Separators are mandatory between digit groups, so group splits are unambiguous.
    type: 'PHONE',
    pattern:
      /(?<![\w+])\+[1-9]\d{0,2}(?:\d{5,12}|(?:[ .-]?\(\d{1,4}\)[ .-]?|[ .-])\d{1,10}(?:[ .-]\d{1,10}){0,4})(?!\w|[.-]\d)/g,
    hint: contains('+'),
    valid: isPhone,
  },
  {
    // US/NANP: "(415) 555-2671", "415-555-2671", "415.555.2671", optional leading "1-".
    // The area code starts with 2-9; the exchange may be any digits, since made-up numbers
    // ("555-123-4567") are written that way too. Bare digit runs and space-only groups are left alone.
    type: 'PHONE',
    pattern: /(?<![\w.+-])(?:1[ .-]?)?(?:\([2-9]\d{2}\) ?\d{3}[ .-]|[2-9]\d{2}([.-])\d{3}\1)\d{4}(?!\w|[.-]\d)/g,
    hint: matches(/\d{3}/),
  },
  {
    // National format with a trunk 0 (UK, FR, DE, NL, ...): "020 7946 0321", "07700 900123",
    // "06.12.34.56.78". One separator throughout, so dates ("05-12-2024") and lists stay apart.
    type: 'PHONE',
    pattern: /(?<![\w+.,:;/#-])0[1-9]\d{0,3}([ .-])\d{2,8}(?:\1\d{2,8}){0,3}(?![\w:/]|[.,-]\d)/g,
    hint: matches(/0[1-9]/),
    valid: isNationalPhone,
  },
  {
    // Not part of a longer dotted number ("1.2.3.4.5") nor a "v1.2.3.4" version.
    type: 'IPV4',
    pattern: new RegExp(`(?<![\\w.])${IPV4_BODY}(?!\\w|\\.\\d)`, 'g'),
    hint: matches(/\d\.\d/),
  },
];

/** Called for each replacement: the item's range in the input text and its placeholder's range in the output. */
type OnReplace = (inStart: number, inEnd: number, outStart: number, outEnd: number) => void;

function applyDetector(text: string, detector: Detector, found: PiiCounts, onReplace?: OnReplace): string {
  const { pattern, valid, type } = detector;
  let out = '';
  let copied = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const keep = m.groups?.['keep'] ?? '';
    if (valid && !valid(m[0].slice(keep.length))) {
      // Retry just past the start: a rejected long candidate may hide a valid one inside it.
      pattern.lastIndex = m.index + 1;
      continue;
    }
    found[type] = (found[type] ?? 0) + 1;
    out += `${text.slice(copied, m.index)}${keep}`;
    const outStart = out.length;
    out += `[${type}]`;
    copied = m.index + m[0].length;
    onReplace?.(m.index + keep.length, copied, outStart, out.length);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Replaces every detected item with a typed placeholder such as `[EMAIL]` and counts them. */
export function redact(text: string): Redaction {
  const found: PiiCounts = {};
  let out = text;
  for (const detector of DETECTORS) {
    if (detector.hint(out)) out = applyDetector(out, detector, found);
  }
  return { text: out, found };
}

/** Where a redacted item was in the input: `text.slice(start, end)` is its value (kept context such as "Bearer " excluded). */
export interface PiiSpan {
  type: PiiType;
  start: number;
  end: number;
}

interface Placeholder {
  /** Range in the text as rewritten so far. */
  at: number;
  end: number;
  /** Range in the original input. */
  origStart: number;
  origEnd: number;
  type: PiiType;
}

/**
 * redact(), also telling where each item was in the input, in one pass per detector: the
 * placeholders written so far are carried through each rewrite, so an offset in the rewritten
 * text maps back to the input. An item a later detector swallows whole is dropped with it.
 */
export function redactWithSpans(text: string): Redaction & { spans: PiiSpan[] } {
  const found: PiiCounts = {};
  let out = text;
  let placeholders: Placeholder[] = [];
  for (const detector of DETECTORS) {
    if (!detector.hint(out)) continue;
    const next: Placeholder[] = [];
    let j = 0; // placeholders already passed in the text being rewritten
    let toInput = 0; // input offset minus current offset, after placeholders[0..j)
    let shift = 0; // rewritten offset minus current offset, after the replacements so far
    const passUntil = (pos: number, swallowed: boolean) => {
      for (; j < placeholders.length && placeholders[j].end <= pos; j++) {
        const p = placeholders[j];
        if (!swallowed) next.push({ ...p, at: p.at + shift, end: p.end + shift });
        toInput += p.origEnd - p.origStart - (p.end - p.at);
      }
    };
    out = applyDetector(out, detector, found, (inStart, inEnd, outStart, outEnd) => {
      passUntil(inStart, false);
      const origStart = inStart + toInput;
      passUntil(inEnd, true);
      next.push({ at: outStart, end: outEnd, origStart, origEnd: inEnd + toInput, type: detector.type });
      shift = outEnd - inEnd;
    });
    passUntil(Infinity, false);
    placeholders = next;
  }
  return { text: out, found, spans: placeholders.map((p) => ({ type: p.type, start: p.origStart, end: p.origEnd })) };
}

/** Counts only. Shares redact()'s pipeline so overlapping items are counted exactly as redacted. */
export function detectPii(text: string): PiiCounts {
  return redact(text).found;
}

export function mergeCounts(a: PiiCounts, b: PiiCounts): PiiCounts {
  const merged: PiiCounts = {};
  for (const type of PII_TYPES) {
    const total = (a[type] ?? 0) + (b[type] ?? 0);
    if (total > 0) merged[type] = total;
  }
  return merged;
}

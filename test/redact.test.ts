import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { detectPii, mergeCounts, redact, redactWithSpans, type PiiType } from '../src/capture/redact.js';

const RUNS = { numRuns: 200 };

// ---------- generators ----------

const DIGITS = '0123456789';
const ALNUM = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz${DIGITS}`;
const charsOf = (alphabet: string, minLength: number, maxLength = minLength) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
const digits = (minLength: number, maxLength = minLength) => charsOf(DIGITS, minLength, maxLength);
const int = (min: number, max: number) => fc.integer({ min, max });
const pad = (n: number, width: number) => String(n).padStart(width, '0');

const COMMON_WORDS = ['the', 'bearer', 'of', 'bonds', 'api', 'key', 'email', 'at', 'call', 'version', 'order', 'in'];
const word = fc.oneof(fc.lorem({ maxCount: 1 }), fc.constantFrom(...COMMON_WORDS));

/** Things that look numeric but are not PII: years, prices, versions, dates, times, ids. */
const ordinaryPhrase = fc.oneof(
  word,
  int(1900, 2099).map(String), // year
  fc.tuple(int(1, 999), int(0, 999), int(0, 99)).map(([a, b, c]) => `$${a},${pad(b, 3)}.${pad(c, 2)}`),
  fc.tuple(int(1, 9999), int(0, 99)).map(([a, c]) => `$${a}.${pad(c, 2)}`),
  fc.tuple(int(0, 30), int(0, 30), int(0, 999), fc.boolean()).map(([a, b, c, v]) => `${v ? 'v' : ''}${a}.${b}.${c}`),
  fc.tuple(int(1900, 2099), int(1, 12), int(1, 28)).map(([y, m, d]) => `${y}-${pad(m, 2)}-${pad(d, 2)}`),
  fc.tuple(int(0, 23), int(0, 59)).map(([h, m]) => `${pad(h, 2)}:${pad(m, 2)}`),
  fc.tuple(int(0, 23), int(0, 59), int(0, 59)).map(([h, m, s]) => `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`),
  int(0, 999).map(String), // small number
  int(0, 100).map((n) => `${n}%`),
  fc.tuple(fc.constantFrom('#', 'order ', ''), digits(6, 12)).map(([p, d]) => `${p}${d}`), // order ids
);

/** Always starts with a word, so it can follow an embedded item without gluing onto it. */
const ordinaryText = fc
  .tuple(word, fc.array(ordinaryPhrase, { maxLength: 12 }))
  .map(([first, rest]) => [first, ...rest].join(' '));

function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = Number(body[i]);
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const cardPrefix = fc.constantFrom('4', '51', '55', '34', '37', '35', '36', '6011', '65', '2221', '2720');
/** Luhn-valid card digits, 13-19 long, with a real network prefix. */
const cardDigits = fc
  .tuple(cardPrefix, int(13, 19))
  .chain(([prefix, length]) => digits(length - 1 - prefix.length).map((rest) => prefix + rest))
  .map((body) => body + luhnCheckDigit(body));

function groupCard(d: string, sep: string): string {
  return [d.slice(0, 4), d.slice(4, 8), d.slice(8, 12), d.slice(12)].join(sep);
}
const formattedCard = fc.tuple(cardDigits, fc.constantFrom('', ' ', '-'), fc.boolean()).map(([d, sep, amex]) => {
  if (sep === '') return d;
  if (amex && d.length === 15) return [d.slice(0, 4), d.slice(4, 10), d.slice(10)].join(sep);
  return groupCard(d, sep);
});

const validSsn = fc
  .tuple(int(1, 899).filter((a) => a !== 666), int(1, 99), int(1, 9999))
  .map(([a, g, s]) => `${pad(a, 3)}-${pad(g, 2)}-${pad(s, 4)}`);

const emailLocal = fc
  .tuple(charsOf('abcdefghijklmnopqrstuvwxyz0123456789', 1), charsOf('abcdefghijklmnopqrstuvwxyz0123456789._+-', 0, 14), charsOf('abcdefghijklmnopqrstuvwxyz0123456789', 1))
  .map(([a, mid, z]) => a + mid + z);
const email = fc.tuple(emailLocal, fc.domain()).map(([l, d]) => `${l}@${d}`);

const nanp = fc.tuple(int(200, 999), int(200, 999), int(0, 9999)).map(([a, e, s]) => [String(a), String(e), pad(s, 4)] as const);
const phone = fc.oneof(
  nanp.map(([a, e, s]) => `(${a}) ${e}-${s}`),
  nanp.map(([a, e, s]) => `${a}-${e}-${s}`),
  nanp.map(([a, e, s]) => `${a}.${e}.${s}`),
  nanp.map(([a, e, s]) => `+1${a}${e}${s}`), // E.164
  fc.tuple(int(1, 999), digits(7, 11)).map(([cc, rest]) => `+${cc}${rest}`.slice(0, 16)),
  // "+44 20 7946 0958": country code then 2-4 space-separated groups, 8..15 digits in total
  fc
    .tuple(int(1, 999), fc.array(digits(2, 4), { minLength: 2, maxLength: 4 }))
    .map(([cc, groups]) => ({ cc: String(cc), groups }))
    .filter(({ cc, groups }) => {
      const n = cc.length + groups.join('').length;
      return n >= 8 && n <= 15;
    })
    .map(({ cc, groups }) => `+${cc} ${groups.join(' ')}`),
);

const b64url = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');
const jwt = fc
  .tuple(
    fc.record({ alg: fc.constantFrom('HS256', 'RS256', 'ES256'), typ: fc.constant('JWT') }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer())),
    fc.uint8Array({ minLength: 16, maxLength: 64 }),
  )
  .map(([h, p, sig]) => `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(p))}.${b64url(sig)}`);

const withDigit = (alphabet: string, min: number, max: number) =>
  fc.tuple(charsOf(alphabet, min, max), fc.constantFrom(...DIGITS), charsOf(alphabet, 0, 8)).map(([a, d, b]) => a + d + b);
const apiKey = fc.oneof(
  fc.tuple(fc.constantFrom('sk-', 'sk-proj-'), withDigit(`${ALNUM}_-`, 30, 60)).map(([p, s]) => p + s),
  charsOf('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 16).map((s) => `AKIA${s}`),
  fc.tuple(fc.constantFrom('ghp_', 'gho_'), charsOf(ALNUM, 36)).map(([p, s]) => p + s),
  charsOf(`${ALNUM}_`, 22, 82).map((s) => `github_pat_${s}`),
  fc.tuple(fc.constantFrom('b', 'a', 'p'), digits(10, 13), charsOf(ALNUM, 24)).map(([t, n, s]) => `xox${t}-${n}-${s}`),
  charsOf(`${ALNUM}_-`, 35).map((s) => `AIza${s}`),
  // Stripe secret and restricted keys, live and test
  fc.tuple(fc.constantFrom('sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'), withDigit(ALNUM, 16, 99)).map(([p, s]) => p + s),
);

const B64 = `${ALNUM}+/`;
/** A PEM private key: 64-character base64 lines, optionally encrypted-PEM headers, with or without its END line. */
const privateKey = fc
  .tuple(
    fc.constantFrom('RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'PGP PRIVATE KEY BLOCK'),
    fc.boolean(),
    fc.array(charsOf(B64, 64), { minLength: 1, maxLength: 6 }),
    charsOf(B64, 16, 63),
    fc.constantFrom('\n', '\r\n', ' '),
    fc.boolean(),
  )
  .map(([label, headers, lines, last, nl, complete]) => {
    const head = headers ? [`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-128-CBC,34F09A4FC8DE22B5`, ''] : [];
    const body = [...head, ...lines, complete ? `${last}==` : last];
    return [`-----BEGIN ${label}-----`, ...body, ...(complete ? [`-----END ${label}-----`] : [])].join(nl);
  });

const bearerToken = fc.tuple(fc.constantFrom(...DIGITS), charsOf(`${ALNUM}._-`, 20, 60)).map(([d, s]) => d + s);

// ---------- helpers ----------

function expectRedacted(item: string, type: PiiType, before: string, after: string, placeholder = `[${type}]`) {
  const input = `${before} ${item} ${after}`;
  const { text, found } = redact(input);
  expect(text).toContain(placeholder);
  expect(text).not.toContain(item);
  expect(found).toEqual({ [type]: 1 });
  expect(detectPii(input)).toEqual(found);
}

const noFalseNegatives = (name: string, type: PiiType, gen: fc.Arbitrary<string>) =>
  it(`redacts every generated ${name}`, () => {
    fc.assert(
      fc.property(gen, ordinaryText, ordinaryText, (item, before, after) => expectRedacted(item, type, before, after)),
      RUNS,
    );
  });

// ---------- properties ----------

describe('redact: no false negatives (property-based)', () => {
  noFalseNegatives('Luhn-valid card', 'CARD', formattedCard);
  noFalseNegatives('valid SSN', 'SSN', validSsn);
  noFalseNegatives('email', 'EMAIL', email);
  noFalseNegatives('IPv4', 'IPV4', fc.ipV4());
  // Digit-free forms ("::", "a::b") are deliberately not flagged: they look like Foo::bar code.
  noFalseNegatives('IPv6', 'IPV6', fc.ipV6().filter((ip) => /\d/.test(ip)));
  noFalseNegatives('phone number', 'PHONE', phone);
  noFalseNegatives('JWT', 'JWT', jwt);
  noFalseNegatives('API key', 'API_KEY', apiKey);
  noFalseNegatives('PEM private key, complete or truncated', 'PRIVATE_KEY', privateKey);

  it('redacts generic api_key assignments, keeping the key name', () => {
    const assignment = fc.constantFrom('api_key=', 'apikey: ', '"api_key": "', 'X-API-KEY: ', 'OPENAI_API_KEY=');
    fc.assert(
      fc.property(assignment, withDigit(ALNUM, 16, 40), ordinaryText, (prefix, token, after) => {
        const { text, found } = redact(`config ${prefix}${token} ${after}`);
        expect(text).toContain(`${prefix}[API_KEY]`);
        expect(text).not.toContain(token);
        expect(found).toEqual({ API_KEY: 1 });
      }),
      RUNS,
    );
  });

  it('redacts bearer tokens as "Bearer [BEARER]"', () => {
    fc.assert(
      fc.property(bearerToken, ordinaryText, ordinaryText, (token, before, after) => {
        expectRedacted(`Authorization: Bearer ${token}`, 'BEARER', before, after, 'Authorization: Bearer [BEARER]');
      }),
      RUNS,
    );
  });

  it('leaves ordinary text (words, prices, years, versions, dates, times, ids) untouched', () => {
    fc.assert(
      fc.property(fc.array(ordinaryText, { minLength: 1, maxLength: 4 }), (sentences) => {
        const input = sentences.join('. ');
        const { text, found } = redact(input);
        expect(text).toBe(input);
        expect(found).toEqual({});
      }),
      RUNS,
    );
  });

  it('does not flag Luhn-invalid card numbers', () => {
    const invalid = fc
      .tuple(cardDigits, int(1, 9))
      .map(([d, bump]) => d.slice(0, -1) + String((Number(d.at(-1)) + bump) % 10));
    fc.assert(
      fc.property(invalid, ordinaryText, (d, after) => {
        const input = `card ${d} ${after}`;
        expect(redact(input)).toEqual({ text: input, found: {} });
      }),
      RUNS,
    );
  });

  it('does not flag never-issued SSNs (area 000/666/9xx, group 00, serial 0000)', () => {
    const invalid = fc.oneof(
      fc.tuple(fc.constantFrom(0, 666), int(1, 99), int(1, 9999)),
      fc.tuple(int(900, 999), int(1, 99), int(1, 9999)),
      fc.tuple(int(1, 665), fc.constant(0), int(1, 9999)),
      fc.tuple(int(1, 665), int(1, 99), fc.constant(0)),
    );
    fc.assert(
      fc.property(invalid, ([a, g, s]) => {
        const input = `ssn ${pad(a, 3)}-${pad(g, 2)}-${pad(s, 4)} on file`;
        expect(redact(input)).toEqual({ text: input, found: {} });
      }),
      RUNS,
    );
  });
});

// ---------- examples ----------

describe('redact: examples', () => {
  const cases: [PiiType, string, string][] = [
    ['EMAIL', 'mail jane.doe+tw@example.co.uk now', 'mail [EMAIL] now'],
    ['PHONE', 'call +14155552671 today', 'call [PHONE] today'],
    ['PHONE', 'call (415) 555-2671 today', 'call [PHONE] today'],
    ['PHONE', 'call 415-555-2671 or', 'call [PHONE] or'],
    ['PHONE', 'call 415.555.2671 or', 'call [PHONE] or'],
    ['PHONE', 'made up 555-123-4567.', 'made up [PHONE].'],
    ['PHONE', 'office +44 20 7946 0958.', 'office [PHONE].'],
    ['PHONE', 'us +1 (415) 555-2671', 'us [PHONE]'],
    ['PHONE', 'landline 029 2018 0764 (evenings)', 'landline [PHONE] (evenings)'],
    ['PHONE', 'mobile 07911 654321.', 'mobile [PHONE].'],
    ['PHONE', 'portable 07.81.22.45.90 ou', 'portable [PHONE] ou'],
    ['PHONE', 'Büro 089 23456789', 'Büro [PHONE]'],
    ['IBAN', 'pay into GB33 BUKB 2020 1555 5555 55 today', 'pay into [IBAN] today'],
    ['IBAN', 'iban NL91ABNA0417164300.', 'iban [IBAN].'],
    ['CARD', 'visa 4111 1111 1111 1111 exp 12/29', 'visa [CARD] exp 12/29'],
    ['CARD', 'amex 3782-822463-10005', 'amex [CARD]'],
    ['CARD', 'pan 5555555555554444.', 'pan [CARD].'],
    ['SSN', 'ssn 123-45-6789', 'ssn [SSN]'],
    ['IPV4', 'from 192.168.0.1:8080', 'from [IPV4]:8080'],
    ['IPV6', 'host [2001:db8::8a2e:370:7334]:443', 'host [[IPV6]]:443'],
    ['IPV6', 'loopback ::1 and ::ffff:10.0.0.1', 'loopback [IPV6] and [IPV6]'],
    ['IPV6', 'full 2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'full [IPV6]'],
    ['API_KEY', 'key sk-proj-Ab3dEf6hIj9kLmNoPq2sTuVwXyZ', 'key [API_KEY]'],
    ['API_KEY', 'aws AKIAIOSFODNN7EXAMPLE', 'aws [API_KEY]'],
    ['API_KEY', 'env ANTHROPIC_API_KEY="abcdef0123456789abcdef"', 'env ANTHROPIC_API_KEY="[API_KEY]"'],
    ['API_KEY', 'stripe sk_live_51HxQ2vKj8sT3mNp0YbR4cW7dLz9EfGa2 live', 'stripe [API_KEY] live'],
    ['API_KEY', 'STRIPE_SECRET_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'STRIPE_SECRET_KEY=[API_KEY]'],
    ['API_KEY', 'restricted rk_live_51HxQ2vKj8sT3mNp0YbR4cW7dLz9EfGa2.', 'restricted [API_KEY].'],
    [
      'PRIVATE_KEY',
      'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\nkeep it safe',
      'key:\n[PRIVATE_KEY]\nkeep it safe',
    ],
    [
      'PRIVATE_KEY',
      'encrypted -----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,34F09A4FC8DE22B5\n\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oFZ0bMBsAeVdoAoGCCqGSM49\n-----END EC PRIVATE KEY----- done',
      'encrypted [PRIVATE_KEY] done',
    ],
    [
      'PRIVATE_KEY',
      'cut short:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACB...\n(truncated, the rest is in the vault)',
      'cut short:\n[PRIVATE_KEY]\n(truncated, the rest is in the vault)',
    ],
    [
      'PRIVATE_KEY',
      'pgp -----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: Jane <jane@acme.io>\n\nlQOYBF8xYzABCADHp4r1N6vZbq7ZJ0iQe5t3k3m0F1Xx7pT9qkz8hqvQ2mF0YrS4\n=Ab3d\n-----END PGP PRIVATE KEY BLOCK-----',
      'pgp [PRIVATE_KEY]',
    ],
    ['BEARER', 'Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543', 'Authorization: Bearer [BEARER]'],
    ['JWT', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'Bearer [JWT]'],
  ];
  it.each(cases)('%s: %s', (type, input, expected) => {
    const { text, found } = redact(input);
    expect(text).toBe(expected);
    expect(Object.keys(found)).toEqual([type]);
  });

  it('leaves look-alikes alone', () => {
    for (const input of [
      'released 1.2.3.4.5 in 2024-05-01 for $1,299.00',
      'meeting at 12:30, ends 13:45:10; std::vector and Foo::bar',
      'order 4155552671 shipped; 1234 5678 9012 3456 is not a card',
      'the bearer of bad news paid 4111 1111 1111 1112',
      'v1.2.3.4 and 999-12-3456 and 000-12-3456',
      // Dates, times and ids with a leading zero; an IBAN whose check digits do not add up.
      'due 05-12-2024 at 09:30, ticket #0412 3456, ids 012345 1999 and 07 12 2023, parts 01 02 03 04 05 06',
      'GB34 BUKB 2020 1555 5555 55 is mistyped',
      'sk-learn-compatible-estimators are great',
      // Stripe placeholders in docs have no digits; publishable keys (pk_) are public by design.
      'use sk_test_YourSecretKeyHere or sk_live_... and pk_live_51HxQ2vKj8sT3mNp0YbR4cW7dLz9EfGa2',
      // Public keys, certificates, templates and a BEGIN line mentioned in prose are not private keys.
      '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----',
      '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
      'the file starts with -----BEGIN OPENSSH PRIVATE KEY----- and ends with the matching END line',
    ]) {
      expect(redact(input)).toEqual({ text: input, found: {} });
    }
  });

  it('handles a mixed text and counts each item once', () => {
    const input = [
      'From jane@corp.io (ph 415-555-2671, alt +44 20 7946 0958), card 4111-1111-1111-1111,',
      'SSN 078-05-1120, client 10.0.0.7 / fe80::1ff:fe23:4567:890a, header Authorization: Bearer',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl, backup token: Bearer abc123def456ghi789jkl,',
      'keys AKIAIOSFODNN7EXAMPLE and api_key=Zx9Zx9Zx9Zx9Zx9Zx9Zx9 cc bob@example.com in 2024 for $1,299.00',
    ].join(' ');
    const { text, found } = redact(input);
    expect(found).toEqual({ EMAIL: 2, PHONE: 2, CARD: 1, SSN: 1, IPV4: 1, IPV6: 1, JWT: 1, BEARER: 1, API_KEY: 2 });
    expect(text).toBe(
      [
        'From [EMAIL] (ph [PHONE], alt [PHONE]), card [CARD],',
        'SSN [SSN], client [IPV4] / [IPV6], header Authorization: Bearer',
        '[JWT], backup token: Bearer [BEARER],',
        'keys [API_KEY] and api_key=[API_KEY] cc [EMAIL] in 2024 for $1,299.00',
      ].join(' '),
    );
    expect(detectPii(input)).toEqual(found);
  });

  it('returns the same string and no counts for empty or PII-free text', () => {
    expect(redact('')).toEqual({ text: '', found: {} });
    expect(detectPii('just words here')).toEqual({});
  });

  it('stays linear on adversarial inputs', () => {
    const inputs = [
      '1'.repeat(50_000),
      '4111 '.repeat(10_000),
      'a@'.repeat(25_000),
      '1:'.repeat(25_000),
      'a.'.repeat(25_000),
      '+1 '.repeat(15_000),
      `${'x'.repeat(50_000)}@`,
      'eyJ'.repeat(15_000),
      'Bearer '.repeat(5_000),
      '-----BEGIN PRIVATE KEY-----'.repeat(2_000),
      `-----BEGIN RSA PRIVATE KEY-----${'a-'.repeat(25_000)}`,
      `-----BEGIN EC PRIVATE KEY----- ${'1 '.repeat(25_000)}`,
      `-----BEGIN PRIVATE KEY-----\n${'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n'.repeat(1_000)}`,
    ];
    const start = performance.now();
    for (const input of inputs) redact(input);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('redactWithSpans', () => {
  const anyItem = fc.oneof(formattedCard, validSsn, email, fc.ipV4(), bearerToken.map((t) => `Bearer ${t}`));
  it('replacing each span with its placeholder gives redact()', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(ordinaryText, anyItem), { minLength: 1, maxLength: 5 }), ordinaryText, (parts, tail) => {
        const input = `${parts.map(([t, item]) => `${t} ${item}`).join(' ')} ${tail}`;
        const { text, found, spans } = redactWithSpans(input);
        expect({ text, found }).toEqual(redact(input));
        let rebuilt = '';
        let at = 0;
        for (const span of spans) {
          expect(span.start).toBeGreaterThanOrEqual(at);
          rebuilt += `${input.slice(at, span.start)}[${span.type}]`;
          at = span.end;
        }
        expect(rebuilt + input.slice(at)).toBe(text);
      }),
      RUNS,
    );
  });

  it('finds items that later detectors rewrite around', () => {
    const input = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl to ops@acme.io, +44 20 7946 0958 or GB33 BUKB 2020 1555 5555 55';
    expect(redactWithSpans(input).spans.map((s) => [s.type, input.slice(s.start, s.end)])).toEqual([
      ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'],
      ['EMAIL', 'ops@acme.io'],
      ['PHONE', '+44 20 7946 0958'],
      ['IBAN', 'GB33 BUKB 2020 1555 5555 55'],
    ]);
  });
});

describe('mergeCounts', () => {
  it('sums per type and drops nothing', () => {
    expect(mergeCounts({ EMAIL: 1, CARD: 2 }, { EMAIL: 3, JWT: 1 })).toEqual({ EMAIL: 4, CARD: 2, JWT: 1 });
    expect(mergeCounts({}, {})).toEqual({});
  });
});

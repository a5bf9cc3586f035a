import { createHash, timingSafeEqual } from 'node:crypto';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Returns the id of the configured key that matches, or null. The presented key is hashed and
 * compared against every stored digest in constant time, so timing reveals neither which key
 * nor how much of one matched.
 */
export function makeKeyChecker(keys: { id: string; sha256: string }[]): (presented: string | undefined) => string | null {
  const digests = keys.map((k) => ({ id: k.id, digest: Buffer.from(k.sha256, 'hex') }));
  return (presented) => {
    if (!presented) return null;
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let match: string | null = null;
    for (const k of digests) if (timingSafeEqual(digest, k.digest) && match === null) match = k.id;
    return match;
  };
}

/** The key from `Authorization: Bearer …` (OpenAI clients) or `x-api-key`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

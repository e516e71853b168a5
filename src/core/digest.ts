/** Short content hashes for annotations and status: the first 16 hex digits of a SHA-256. */
import * as crypto from 'node:crypto';

/** One-shot hashing (Node >= 20.12) skips a Hash object per sync; older Node builds one. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

export function shortDigest(text: string): string {
  return sha256Hex(text).slice(0, 16);
}

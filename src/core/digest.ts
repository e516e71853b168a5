/** Short content hashes for annotations and status: the first 16 hex digits of a SHA-256. */
import * as crypto from 'node:crypto';

/** One-shot hashing (Node >= 20.12) skips a Hash object per sync; older Node builds one. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** The digest of `pieces` joined (a text rendered in pieces, rendered-text.ts, hashed without joining them). */
export function shortDigest(pieces: readonly string[]): string {
  if (pieces.length === 1) return sha256Hex(pieces[0]!).slice(0, 16);
  const hash = crypto.createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  return hash.digest('hex').slice(0, 16);
}

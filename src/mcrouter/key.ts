/**
 * Keys as mcrouter sees them: bytes, of which only the routing key is hashed.
 */

import { isHighSurrogate, isLowSurrogate, isSurrogate } from '../text/utf16.js';

/** A memcached key: a string is hashed as its UTF-8 bytes. */
export type Key = string | Uint8Array;

const SLASH = 0x2f;
const PIPE = 0x7c;
const HASH = 0x23;
const HASH_STOP = '|#|';

/**
 * The part of a key mcrouter's hashes see (mcrouter `Keys::update`, lib/Keys.cpp):
 * a routing prefix `/region/cluster/` (a leading `/` and two more) is stripped,
 * and everything from the first `|#|` (the "hash stop") on is dropped.
 * A key that starts with `/` but has fewer than three slashes keeps its `/`.
 * The string and byte forms cut at the same places: `/`, `|` and `#` are ASCII,
 * and UTF-8 never uses ASCII byte values inside a multi-byte sequence.
 */
export function routingKey(key: string): string;
export function routingKey(key: Uint8Array): Uint8Array;
export function routingKey(key: Key): Key {
  if (typeof key === 'string') {
    const start = prefixLength(key);
    const stop = key.indexOf(HASH_STOP, start);
    return start === 0 && stop < 0 ? key : key.slice(start, stop < 0 ? key.length : stop);
  }
  let start = 0;
  if (key[0] === SLASH) {
    const second = key.indexOf(SLASH, 1);
    const third = second < 0 ? -1 : key.indexOf(SLASH, second + 1);
    if (third >= 0) start = third + 1;
  }
  let end = key.length;
  for (let i = start; i + 2 < key.length; i++) {
    if (key[i] === PIPE && key[i + 1] === HASH && key[i + 2] === PIPE) {
      end = i;
      break;
    }
  }
  return key.subarray(start, end);
}

/** The longest key the memcached ASCII protocol carries: mcrouter answers a longer one with an error (MC_KEY_MAX_LEN_ASCII). */
export const MAX_KEY_BYTES = 250;

/** The routing prefix mcrouter serves a single-`route` config under when started without `--route-prefix` (its default_route). */
export const DEFAULT_ROUTE_PREFIX = '/././';

/**
 * Why mcrouter answers `key` with an error instead of routing it, or undefined for a key it routes: an empty
 * key, one longer than 250 bytes (routing prefix included), or one with a space or control character
 * (lib/McKey.h isKeyValid); or a routing prefix `/region/cluster/` that names no route: only the default
 * one, `/././`, or a prefix with `*` wildcards that matches it, reaches the config's route.
 */
export function keyError(key: string): string | undefined {
  if (key.length === 0) return 'an empty key';
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes (${bytes})`;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return 'a space or control character';
  }
  const prefix = routingPrefix(key);
  if (prefix !== '' && !globMatches(prefix, DEFAULT_ROUTE_PREFIX)) {
    return `no route for the routing prefix ${prefix} (mcrouter's is ${DEFAULT_ROUTE_PREFIX}: no --route-prefix)`;
  }
  return undefined;
}

/** The length of the `/region/cluster/` a key starts with: a leading `/` and two more; 0 without. */
function prefixLength(key: string): number {
  if (key.charCodeAt(0) !== SLASH) return 0;
  const second = key.indexOf('/', 1);
  const third = second < 0 ? -1 : key.indexOf('/', second + 1);
  return third + 1;
}

/** The `/region/cluster/` a key starts with, or ''. */
function routingPrefix(key: string): string {
  return key.slice(0, prefixLength(key));
}

/** A routing prefix with `*` wildcards against a route's prefix. */
function globMatches(pattern: string, prefix: string): boolean {
  if (!pattern.includes('*')) return pattern === prefix;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
  return new RegExp(`^${source}$`).test(prefix);
}

/**
 * What a hash route hashes for `key`: its routing key followed by the route's
 * salt (mcrouter `HashSelector` / `hashWithSalt`, lib/HashUtil.h).
 */
export function hashInput(key: string, salt = ''): string {
  return routingKey(key) + salt;
}

/**
 * A growable byte buffer reused across hash calls, so that hashing thousands of
 * sample keys does not allocate one array per key.
 */
export class KeyBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Replaces the contents with the UTF-8 encoding of `text`. */
  setText(text: string): this {
    this.length = 0;
    return this.appendText(text);
  }

  setBytes(bytes: Uint8Array): this {
    this.length = 0;
    return this.appendBytes(bytes);
  }

  set(key: Key): this {
    return typeof key === 'string' ? this.setText(key) : this.setBytes(key);
  }

  truncate(length: number): this {
    this.length = Math.min(length, this.length);
    return this;
  }

  appendBytes(bytes: Uint8Array): this {
    this.reserve(this.length + bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** Appends the UTF-8 encoding of `text`; lone surrogates become U+FFFD, as with TextEncoder. */
  appendText(text: string): this {
    const to = text.length;
    // 3 bytes per UTF-16 unit is the worst case (a surrogate pair is 2 units -> 4 bytes).
    this.reserve(this.length + 3 * to);
    const out = this.bytes;
    let n = this.length;
    for (let i = 0; i < to; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = c;
        continue;
      }
      if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (isSurrogate(c)) {
        const next = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (isHighSurrogate(c) && isLowSurrogate(next)) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
    this.length = n;
    return this;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}


/**
 * mcrouter's pool hashes, bit-exact: Ch3 (`furc_hash` over MurmurHash64A,
 * lib/fbi/hash.c), Crc32, WeightedCh3 (lib/WeightedCh3HashFunc.cpp) and
 * Rendezvous (lib/RendezvousHashFunc.cpp).
 *
 * Each hash comes in two forms: `fooBytes(bytes, length, ...)` for hot loops
 * (hashes a prefix of a reused buffer, allocates nothing) and `foo(key, ...)`
 * taking a string (hashed as UTF-8) or bytes.
 *
 * The buffers they share (the furc table, `scratch`, `out`, `salted`) live at
 * module level and are reused by every call: safe because each hash runs to
 * its end synchronously and calls nothing that could hash again meanwhile.
 *
 * 64-bit arithmetic is done on (high, low) 32-bit word pairs: BigInt would
 * allocate on every multiplication, and a config change routes a sample of
 * 10,000 keys through two route trees (core/last-change.ts); a sync that
 * changes nothing hashes none.
 */
import { KeyBuffer, type Key } from './key.js';
import { spookyHash32Bytes } from './spooky.js';

/** furc_hash's seed, also Rendezvous' seed for server tags. */
const FURC_SEED = 4193360111;
/** Rendezvous' seed for keys (kExtraHashSeed). */
const RENDEZVOUS_KEY_SEED = 2718281828;
/** WeightedCh3's SpookyHash seed (kHashSeed). */
const WEIGHTED_CH3_SEED = 0xface2014;
const FURC_SHIFT = 23;
/** The largest pool Ch3 accepts. */
export const FURC_MAX_POOL_SIZE = 1 << FURC_SHIFT;
const FURC_MAX_TRIES = 32;
/** How many times WeightedCh3 hashes a key at most (kNumTries): the last server it drew, if none kept it. */
export const WEIGHTED_CH3_TRIES = 32;
const UINT32_MAX = 4294967295;

// MurmurHash64A's multiplier 0xc6a4a7935bd1e995 and cityhash's kMul 0x9ddfea08eb382d69.
// Words are kept as signed int32 throughout: V8 then does all the arithmetic
// in 32-bit registers (unsigned words in a Uint32Array were 40% slower).
const M_HI = 0xc6a4a793 | 0;
const M_LO = 0x5bd1e995 | 0;
const K_HI = 0x9ddfea08 | 0;
const K_LO = 0xeb382d69 | 0;

// Encodes the string keys of the convenience functions.
const scratch = new KeyBuffer();

// Results of mul64 and murmur64 as (high, low) int32 words: returning a pair
// would allocate, and so would module-level `let`s (values beyond 2^30 are
// boxed as heap numbers there).
const out = new Int32Array(2);
const HI = 0;
const LO = 1;

/** (aHi:aLo) * (bHi:bLo) mod 2^64 into out. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  out[LO] = (mid << 16) | (p00 & 0xffff);
  // High word of aLo*bLo (exact in a double), plus the cross terms mod 2^32.
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  out[HI] = carry + Math.imul(aLo, bHi) + Math.imul(aHi, bLo);
}

/** MurmurHash64A of bytes[0, length) into out. */
function murmur64(bytes: Uint8Array, length: number, seed: number): void {
  mul64(0, length, M_HI, M_LO);
  let hHi = out[HI]!;
  let hLo = out[LO]! ^ seed;
  const blocksEnd = length - (length & 7);
  let i = 0;
  for (; i < blocksEnd; i += 8) {
    const kLo = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    const kHi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    mul64(kHi, kLo, M_HI, M_LO);
    // k ^= k >> 47 leaves the high word alone and mixes its top 17 bits into the low word.
    mul64(out[HI]!, out[LO]! ^ (out[HI]! >>> 15), M_HI, M_LO);
    mul64(hHi ^ out[HI]!, hLo ^ out[LO]!, M_HI, M_LO);
    hHi = out[HI]!;
    hLo = out[LO]!;
  }
  const rest = length & 7;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) {
      const b = bytes[i + j]!;
      if (j >= 4) hHi ^= b << (8 * (j - 4));
      else hLo ^= b << (8 * j);
    }
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = out[HI]!;
    hLo = out[LO]!;
  }
  mul64(hHi, hLo ^ (hHi >>> 15), M_HI, M_LO);
  out[LO] = out[LO]! ^ (out[HI]! >>> 15);
}

/** MurmurHash64A (Austin Appleby) with a 32-bit seed, as mcrouter's `murmur_hash_64A`. */
export function murmurHash64A(key: Key, seed: number): bigint {
  const bytes = scratch.set(key);
  murmur64(bytes.bytes, bytes.length, seed | 0);
  return (BigInt(out[HI]! >>> 0) << 32n) | BigInt(out[LO]! >>> 0);
}

// murmur_rehash_64A(k) is MurmurHash64A of k's 8 little-endian bytes with
// furc's seed; its initial h = SEED ^ (8 * m) is a constant.
mul64(0, 8, M_HI, M_LO);
const REHASH_H_HI = out[HI]!;
const REHASH_H_LO = out[LO]! ^ FURC_SEED;

// furc_hash's bit stream: word n at [2n] (high) and [2n + 1] (low), filled
// lazily up to word `furcFilled`. At most 32 tries of up to 23 bits, 23 apart,
// are read: well inside 1,024 words.
const furcWords = new Int32Array(2 * 1024);
let furcFilled = 0;

/** Bit `idx` of the stream: each next word is murmur_rehash_64A of the previous one. */
function furcBit(idx: number): number {
  const ord = idx >>> 6;
  while (furcFilled < ord) {
    mul64(furcWords[2 * furcFilled]!, furcWords[2 * furcFilled + 1]!, M_HI, M_LO);
    mul64(out[HI]!, out[LO]! ^ (out[HI]! >>> 15), M_HI, M_LO);
    mul64(REHASH_H_HI ^ out[HI]!, REHASH_H_LO ^ out[LO]!, M_HI, M_LO);
    mul64(out[HI]!, out[LO]! ^ (out[HI]! >>> 15), M_HI, M_LO);
    furcFilled++;
    furcWords[2 * furcFilled] = out[HI]!;
    furcWords[2 * furcFilled + 1] = out[LO]! ^ (out[HI]! >>> 15);
  }
  const b = idx & 63;
  const word = b < 32 ? furcWords[2 * ord + 1]! : furcWords[2 * ord]!;
  return (word >>> (b & 31)) & 1;
}

/**
 * mcrouter's Ch3: `furc_hash(key, n)` of bytes[0, length), an index in [0, n).
 */
export function furcHashBytes(bytes: Uint8Array, length: number, n: number): number {
  if (n <= 1) return 0;
  if (n > FURC_MAX_POOL_SIZE) throw new RangeError(`Ch3: pool size ${n} is above ${FURC_MAX_POOL_SIZE}`);
  murmur64(bytes, length, FURC_SEED);
  furcWords[0] = out[HI]!;
  furcWords[1] = out[LO]!;
  furcFilled = 0;

  let d = 0;
  while (n > 1 << d) d++;
  let a = d;
  for (let attempt = 0; attempt < FURC_MAX_TRIES; attempt++) {
    while (furcBit(a) === 0) {
      if (--d === 0) return 0;
      a = d;
    }
    a += FURC_SHIFT;
    let num = 1;
    for (let i = 0; i < d - 1; i++) {
      num = (num << 1) | furcBit(a);
      a += FURC_SHIFT;
    }
    if (num < n) return num;
  }
  return 0;
}

/** mcrouter's Ch3 pool hash: the index in [0, n) that `furc_hash` picks for the key. */
export function furcHash(key: Key, n: number): number {
  const bytes = scratch.set(key);
  return furcHashBytes(bytes.bytes, bytes.length, n);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/**
 * The standard CRC-32 (zlib's) of bytes[0, length). Table-driven in JS: for
 * keys of tens of bytes it beats the native call of `zlib.crc32`, which Node
 * 20 also only has from 20.15 on.
 */
export function crc32Bytes(bytes: Uint8Array, length: number): number {
  let crc = -1;
  for (let i = 0; i < length; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return ~crc >>> 0;
}

export function crc32(key: Key): number {
  const bytes = scratch.set(key);
  return crc32Bytes(bytes.bytes, bytes.length);
}

/** mcrouter's Crc32 pool hash: `(crc32(key) & 0x7fffffff) % n`. */
export function crc32IndexBytes(bytes: Uint8Array, length: number, n: number): number {
  return (crc32Bytes(bytes, length) & 0x7fffffff) % n;
}

export function crc32Index(key: Key, n: number): number {
  const bytes = scratch.set(key);
  return crc32IndexBytes(bytes.bytes, bytes.length, n);
}

/** SpookyHash V2 `Hash32` (both 64-bit seeds set to `seed`). */
export function spookyHash32(key: Key, seed: number): number {
  const bytes = scratch.set(key);
  return spookyHash32Bytes(bytes.bytes, bytes.length, seed);
}
export { spookyHash32Bytes };

// WeightedCh3 rehashes "key + salt digits"; built here so the caller's buffer
// is never written past its length.
const salted = new KeyBuffer();
const DIGITS = Array.from({ length: 10 }, (_, d) => Uint8Array.of(0x30 + d));

/**
 * mcrouter's WeightedCh3 over `weights.length` servers: Ch3's index is kept when
 * SpookyHash32(key) < weight * UINT32_MAX; otherwise the key followed by the
 * retry counter's decimal digits in reverse order ("0", "1", ..., "9", "01", ...)
 * is tried, up to 32 times, after which the last index stands.
 * All weights 1 give exactly Ch3's index; a weight 0 slot never gets a key.
 */
export function weightedCh3Bytes(bytes: Uint8Array, length: number, weights: ArrayLike<number>): number {
  const n = weights.length;
  if (n === 0 || n > FURC_MAX_POOL_SIZE) throw new RangeError(`WeightedCh3: invalid pool size ${n}`);
  let key = bytes;
  let keyLength = length;
  let index = 0;
  for (let attempt = 0; attempt < WEIGHTED_CH3_TRIES; attempt++) {
    index = furcHashBytes(key, keyLength, n);
    const p = spookyHash32Bytes(key, keyLength, WEIGHTED_CH3_SEED);
    // C converts weight * UINT32_MAX to uint64_t: truncation, not rounding.
    if (p < Math.trunc(weights[index]! * UINT32_MAX)) return index;
    if (attempt === 0) salted.setBytes(bytes.subarray(0, length));
    salted.truncate(length);
    let counter = attempt;
    do {
      salted.appendBytes(DIGITS[counter % 10]!);
      counter = Math.floor(counter / 10);
    } while (counter > 0);
    key = salted.bytes;
    keyLength = salted.length;
  }
  return index;
}

export function weightedCh3(key: Key, weights: ArrayLike<number>): number {
  const bytes = scratch.set(key);
  return weightedCh3Bytes(bytes.bytes, bytes.length, weights);
}

/**
 * mcrouter's Rendezvous hash (>= 0.37) over servers identified by `tags`: each
 * tag is hashed once (MurmurHash64A, furc's seed); a key's score on a server is
 * cityhash's Hash128to64(tagHash, keyHash) with the key hashed under seed
 * 2718281828, and the highest score wins (the first on a tie).
 */
export class RendezvousHash {
  readonly size: number;
  /** Work per key: every tag is scored. */
  get cost(): number {
    return this.size;
  }
  // Tag hashes as (high, low) pairs.
  private readonly tagHashes: Int32Array;

  constructor(tags: readonly Key[]) {
    this.size = tags.length;
    this.tagHashes = new Int32Array(2 * tags.length);
    const buffer = new KeyBuffer();
    tags.forEach((tag, i) => {
      buffer.set(tag);
      murmur64(buffer.bytes, buffer.length, FURC_SEED);
      this.tagHashes[2 * i] = out[HI]!;
      this.tagHashes[2 * i + 1] = out[LO]!;
    });
  }

  indexBytes(bytes: Uint8Array, length: number): number {
    murmur64(bytes, length, RENDEZVOUS_KEY_SEED);
    const kHi = out[HI]!;
    const kLo = out[LO]!;
    const tags = this.tagHashes;
    let bestHi = 0;
    let bestLo = 0;
    let best = 0;
    for (let i = 0; i < this.size; i++) {
      const eHi = tags[2 * i]!;
      const eLo = tags[2 * i + 1]!;
      // a = (key ^ tag) * kMul; a ^= a >> 47
      mul64(kHi ^ eHi, kLo ^ eLo, K_HI, K_LO);
      const aHi = out[HI]!;
      const aLo = out[LO]! ^ (aHi >>> 15);
      // b = (tag ^ a) * kMul; b ^= b >> 47; b *= kMul
      mul64(eHi ^ aHi, eLo ^ aLo, K_HI, K_LO);
      const bHi = out[HI]!;
      mul64(bHi, out[LO]! ^ (bHi >>> 15), K_HI, K_LO);
      // Scores compare as unsigned 64-bit numbers.
      const sHi = out[HI]! >>> 0;
      const sLo = out[LO]! >>> 0;
      if (sHi > bestHi || (sHi === bestHi && sLo > bestLo)) {
        bestHi = sHi;
        bestLo = sLo;
        best = i;
      }
    }
    return best;
  }

  index(key: Key): number {
    const bytes = scratch.set(key);
    return this.indexBytes(bytes.bytes, bytes.length);
  }
}

/** Rendezvous index of a key among servers with these tags (hashes the tags on every call). */
export function rendezvousIndex(key: Key, tags: readonly Key[]): number {
  return new RendezvousHash(tags).index(key);
}

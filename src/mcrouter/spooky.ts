/**
 * SpookyHash V2 (Bob Jenkins; folly/hash/SpookyHashV2), as mcrouter's
 * WeightedCh3 uses it: `Hash32(key, seed)` = low 32 bits of the first half of
 * `Hash128(key, seed, seed)`.
 *
 * 64-bit lanes are kept as (low, high) signed 32-bit word pairs in one
 * Int32Array so that no BigInt and no allocation is needed per call and V8
 * keeps the arithmetic in 32-bit registers.
 */

// Lane i lives at [2i] (low word) and [2i + 1] (high word); 12 lanes for the
// long path, the short path uses lanes 0..3.
const s = new Int32Array(24);
// The last partial block of the long path, zero-padded.
const tail = new Uint8Array(96);

const CONST_LO = 0xdeadbeef | 0;
const CONST_HI = 0xdeadbeef | 0;
const BLOCK = 96; // sc_blockSize: 12 lanes of 8 bytes
const SHORT_LIMIT = 192; // sc_bufSize: shorter messages take the short path

function lo(i: number): number {
  return s[2 * i]!;
}
function hi(i: number): number {
  return s[2 * i + 1]!;
}
function setLane(i: number, high: number, low: number): void {
  s[2 * i] = low;
  s[2 * i + 1] = high;
}
/** lane[i] += (high, low) mod 2^64 */
function addWords(i: number, high: number, low: number): void {
  const l = lo(i);
  const sum = (l + low) | 0;
  s[2 * i + 1] = hi(i) + high + ((sum >>> 0) < (l >>> 0) ? 1 : 0);
  s[2 * i] = sum;
}
/** lane[i] += lane[j] */
function add(i: number, j: number): void {
  addWords(i, hi(j), lo(j));
}
/** lane[i] ^= lane[j] */
function xor(i: number, j: number): void {
  s[2 * i] = lo(i) ^ lo(j);
  s[2 * i + 1] = hi(i) ^ hi(j);
}
/** lane[i] = rotate lane[i] left by k (0 < k < 64) */
function rot(i: number, k: number): void {
  let l = lo(i);
  let h = hi(i);
  if (k >= 32) {
    const t = l;
    l = h;
    h = t;
    k -= 32;
  }
  if (k === 0) {
    setLane(i, h, l);
    return;
  }
  setLane(i, (h << k) | (l >>> (32 - k)), (l << k) | (h >>> (32 - k)));
}
function word32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}
/** lane[i] += the little-endian 64-bit word at b[o..o+8) */
function addData(i: number, b: Uint8Array, o: number): void {
  addWords(i, word32(b, o + 4), word32(b, o));
}

// One line of ShortMix: x = rot(x, k); x += y; z ^= x.
function mixStep(x: number, k: number, y: number, z: number): void {
  rot(x, k);
  add(x, y);
  xor(z, x);
}

// One line of ShortEnd: x ^= y; y = rot(y, k); x += y.
function endStep(x: number, y: number, k: number): void {
  xor(x, y);
  rot(y, k);
  add(x, y);
}

function shortMix(): void {
  mixStep(2, 50, 3, 0);
  mixStep(3, 52, 0, 1);
  mixStep(0, 30, 1, 2);
  mixStep(1, 41, 2, 3);
  mixStep(2, 54, 3, 0);
  mixStep(3, 48, 0, 1);
  mixStep(0, 38, 1, 2);
  mixStep(1, 37, 2, 3);
  mixStep(2, 62, 3, 0);
  mixStep(3, 34, 0, 1);
  mixStep(0, 5, 1, 2);
  mixStep(1, 36, 2, 3);
}

function shortEnd(): void {
  endStep(3, 2, 15);
  endStep(0, 3, 52);
  endStep(1, 0, 26);
  endStep(2, 1, 51);
  endStep(3, 2, 28);
  endStep(0, 3, 9);
  endStep(1, 0, 47);
  endStep(2, 1, 54);
  endStep(3, 2, 32);
  endStep(0, 3, 25);
  endStep(1, 0, 63);
}

// Lanes a, b, c, d are 0, 1, 2, 3.
function short(b: Uint8Array, length: number, seed: number): void {
  setLane(0, 0, seed);
  setLane(1, 0, seed);
  setLane(2, CONST_HI, CONST_LO);
  setLane(3, CONST_HI, CONST_LO);
  let o = 0;
  let remainder = length % 32;
  if (length > 15) {
    const end = length - remainder;
    for (; o < end; o += 32) {
      addData(2, b, o);
      addData(3, b, o + 8);
      shortMix();
      addData(0, b, o + 16);
      addData(1, b, o + 24);
    }
    if (remainder >= 16) {
      addData(2, b, o);
      addData(3, b, o + 8);
      shortMix();
      o += 16;
      remainder -= 16;
    }
  }
  // d += length << 56: only the low byte of the length survives the shift.
  addWords(3, (length & 0xff) << 24, 0);
  // The last 0..15 bytes: the C code's fall-through switch adds bytes 0..7 to c
  // and bytes 8..15 to d as zero-padded little-endian words; no bytes at all
  // adds the constant to both.
  if (remainder === 0) {
    addWords(2, CONST_HI, CONST_LO);
    addWords(3, CONST_HI, CONST_LO);
  } else {
    let cHi = 0, cLo = 0, dHi = 0, dLo = 0;
    for (let i = 0; i < remainder; i++) {
      const v = b[o + i]! << (8 * (i & 3));
      if (i < 4) cLo |= v;
      else if (i < 8) cHi |= v;
      else if (i < 12) dLo |= v;
      else dHi |= v;
    }
    addWords(2, cHi, cLo);
    addWords(3, dHi, dLo);
  }
  shortEnd();
}

function mix(b: Uint8Array, o: number): void {
  addData(0, b, o); xor(2, 10); xor(11, 0); rot(0, 11); add(11, 1);
  addData(1, b, o + 8); xor(3, 11); xor(0, 1); rot(1, 32); add(0, 2);
  addData(2, b, o + 16); xor(4, 0); xor(1, 2); rot(2, 43); add(1, 3);
  addData(3, b, o + 24); xor(5, 1); xor(2, 3); rot(3, 31); add(2, 4);
  addData(4, b, o + 32); xor(6, 2); xor(3, 4); rot(4, 17); add(3, 5);
  addData(5, b, o + 40); xor(7, 3); xor(4, 5); rot(5, 28); add(4, 6);
  addData(6, b, o + 48); xor(8, 4); xor(5, 6); rot(6, 39); add(5, 7);
  addData(7, b, o + 56); xor(9, 5); xor(6, 7); rot(7, 57); add(6, 8);
  addData(8, b, o + 64); xor(10, 6); xor(7, 8); rot(8, 55); add(7, 9);
  addData(9, b, o + 72); xor(11, 7); xor(8, 9); rot(9, 54); add(8, 10);
  addData(10, b, o + 80); xor(0, 8); xor(9, 10); rot(10, 22); add(9, 11);
  addData(11, b, o + 88); xor(1, 9); xor(10, 11); rot(11, 46); add(10, 0);
}

function endPartial(): void {
  add(11, 1); xor(2, 11); rot(1, 44);
  add(0, 2); xor(3, 0); rot(2, 15);
  add(1, 3); xor(4, 1); rot(3, 34);
  add(2, 4); xor(5, 2); rot(4, 21);
  add(3, 5); xor(6, 3); rot(5, 38);
  add(4, 6); xor(7, 4); rot(6, 33);
  add(5, 7); xor(8, 5); rot(7, 10);
  add(6, 8); xor(9, 6); rot(8, 13);
  add(7, 9); xor(10, 7); rot(9, 38);
  add(8, 10); xor(11, 8); rot(10, 53);
  add(9, 11); xor(0, 9); rot(11, 42);
  add(10, 0); xor(1, 10); rot(0, 54);
}

function long(b: Uint8Array, length: number, seed: number): void {
  for (let i = 0; i < 12; i++) {
    if (i % 3 === 2) setLane(i, CONST_HI, CONST_LO);
    else setLane(i, 0, seed);
  }
  const end = length - (length % BLOCK);
  for (let o = 0; o < end; o += BLOCK) mix(b, o);
  const remainder = length - end;
  tail.fill(0);
  tail.set(b.subarray(end, length));
  tail[BLOCK - 1] = remainder;
  // V2's End adds the last block before the three partial rounds (V1 did not).
  for (let i = 0; i < 12; i++) addData(i, tail, 8 * i);
  endPartial();
  endPartial();
  endPartial();
}

/**
 * SpookyHash V2 `Hash32` of the first `length` bytes of `bytes` (a uint32).
 */
export function spookyHash32Bytes(bytes: Uint8Array, length: number, seed: number): number {
  seed |= 0;
  if (length < SHORT_LIMIT) short(bytes, length, seed);
  else long(bytes, length, seed);
  return lo(0) >>> 0;
}

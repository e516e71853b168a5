/**
 * Positions of strings in a list: pod names and server addresses of a pool,
 * indexed once per sync and looked up for every endpoint and every server of
 * the current config, thousands of times for a pool of thousands of pods.
 * V8's Map spends 100 ns and more per insert at that size, growing its table
 * step by step; this table is sized once for the entries it will hold and
 * probes linearly, which measured 20-30% faster for a 5,000-member sync.
 * Entries are only added, never removed.
 *
 * Its hash has no secret seed, so names chosen to collide (a hand-written
 * Endpoints object may name any pod) would make every probe walk the same
 * run of slots: quadratic, seconds for a few thousand entries. A lookup that
 * walks more than MAX_WALK slots moves the entries into a Map, whose hash V8
 * seeds at random per process: with random keys at half load the longest walk
 * over 200,000 entries is a few dozen slots, so only chosen keys get there,
 * and each lookup costs at most MAX_WALK slots before the move.
 */
export class StringIndex {
  /** Entry number + 1 in each slot; 0 marks an empty slot. */
  private readonly slots: Int32Array | number[];
  private readonly mask: number;
  /**
   * Allocated once, at the number of entries rather than of slots: a sync adds thousands of entries,
   * growing arrays copy them, and an array of more than 128 KiB is a large object, allocated on a
   * page of its own.
   */
  private readonly keys: string[];
  private readonly positions: Int32Array | number[];
  private count = 0;
  /** Entry numbers by key, once probing cost too much (see the class comment). */
  private byKey: Map<string, number> | undefined;

  /** `capacity`: the most entries it will hold. */
  constructor(readonly capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = integers(size);
    this.mask = size - 1;
    this.keys = new Array<string>(capacity);
    this.positions = integers(capacity);
  }

  /** The position stored for `key`, or -1. */
  get(key: string): number {
    const entry = this.find(key);
    if (((this.stop - this.home) & this.mask) > MAX_WALK) this.flood();
    return entry < 0 ? -1 : this.positions[entry]!;
  }

  /** Stores `position` for `key` unless it has one already: returns that one, or -1 when added. */
  add(key: string, position: number): number {
    const entry = this.find(key);
    if (((this.stop - this.home) & this.mask) > MAX_WALK) this.flood();
    if (entry >= 0) return this.positions[entry]!;
    const n = this.count;
    if (n >= this.capacity) throw new RangeError(`StringIndex: more than ${this.capacity} entries`);
    if (this.byKey) this.byKey.set(key, n);
    else this.slots[this.stop] = n + 1;
    this.keys[n] = key;
    this.positions[n] = position;
    this.count = n + 1;
    return -1;
  }

  /** Where the last `find` started (its key's hash) and stopped (its key's slot, or the empty one where it goes). */
  private home = 0;
  private stop = 0;

  private find(key: string): number {
    if (this.byKey !== undefined) {
      this.home = this.stop = 0;
      return this.byKey.get(key) ?? -1;
    }
    const { slots, keys, mask } = this;
    const home = hash(key) & mask;
    this.home = home;
    for (let i = home; ; i = (i + 1) & mask) {
      const entry = slots[i]! - 1;
      if (entry < 0 || keys[entry] === key) {
        this.stop = i;
        return entry;
      }
    }
  }

  private flood(): void {
    this.byKey = new Map();
    for (let n = 0; n < this.count; n++) this.byKey.set(this.keys[n]!, n);
  }

  /** Calls `visit` with each key, in the order added. */
  forEachKey(visit: (key: string) => void): void {
    for (let n = 0; n < this.count; n++) visit(this.keys[n]!);
  }

  /** Whether the index gave up its table for a Map (keys that collide). */
  get flooded(): boolean {
    return this.byKey !== undefined;
  }
}

const MAX_WALK = 128;

/**
 * `n` zeros. An Int32Array of more than 64 bytes keeps its elements outside V8's heap: each costs an
 * ArrayBuffer and a malloc, about a microsecond, and a sync makes several (a 10-member sync spent a quarter
 * of its time on them). A plain array of small integers is allocated inline; but past some hundreds of
 * entries it is twice the size (8 bytes an element) and a 5,000-member sync ran slower with it.
 */
const integers = (n: number): Int32Array | number[] => (n <= SMALL ? new Array<number>(n).fill(0) : new Int32Array(n));
const SMALL = 512;

/**
 * FNV-1a over the UTF-16 code units, in two lanes (even and odd units) mixed
 * at the end: each lane is a chain of multiplications, and two chains run side
 * by side, which halves the time of one for a 35-character pod name.
 * Exported for the test that makes keys collide.
 */
export function hash(key: string): number {
  const n = key.length;
  let even = 0x811c9dc5;
  let odd = 0x01000193 ^ n;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    even = Math.imul(even ^ key.charCodeAt(i), 0x01000193);
    odd = Math.imul(odd ^ key.charCodeAt(i + 1), 0x5bd1e995);
  }
  if (i < n) even = Math.imul(even ^ key.charCodeAt(i), 0x01000193);
  return (even ^ Math.imul(odd, 0x27d4eb2d)) >>> 0;
}

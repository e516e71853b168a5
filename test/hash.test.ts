import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import {
  FURC_MAX_POOL_SIZE,
  RendezvousHash,
  crc32,
  crc32Index,
  furcHash,
  murmurHash64A,
  rendezvousIndex,
  spookyHash32,
  weightedCh3,
} from '../src/mcrouter/hash.js';
import { KeyBuffer, hashInput, routingKey } from '../src/mcrouter/key.js';

// The repository is checked out with `shared/` beside it: <root>/../shared/testdata.
const repoRoot = new URL('..', import.meta.url);
const testdata = new URL('../shared/testdata/', repoRoot);

function vectors<T>(name: string): T[] {
  const file = new URL(name, testdata);
  if (!existsSync(file)) throw new Error(`missing test vectors ${fileURLToPath(file)} (shared/ must sit beside the repository)`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Checks every vector; reports the first few mismatches rather than thousands of assertions. */
function checkAll<T>(t: Test, name: string, expectedCount: number, mismatch: (v: T) => unknown): void {
  const all = vectors<T>(name);
  t.equal(all.length, expectedCount, `${name}: ${expectedCount} vectors`);
  const wrong = all.map(mismatch).filter((m) => m !== undefined);
  t.same(wrong.slice(0, 5), [], `${name}: every vector matches (${wrong.length} do not)`);
}

/** Runs a fast-check property as one tap assertion. */
function property<Ts extends unknown[]>(t: Test, name: string, prop: fc.IRawProperty<Ts>, params?: fc.Parameters<Ts>): void {
  fc.assert(prop, params);
  t.pass(name);
}

t.test('Ch3 (furc_hash) matches every vector', async (t) => {
  checkAll<{ key: string; n: number; index: number }>(t, 'ch3-vectors.jsonl', 2000, (v) => {
    const got = furcHash(v.key, v.n);
    return got === v.index ? undefined : { ...v, got };
  });
});

t.test("Ch3 known answers from mcrouter's tests", async (t) => {
  t.equal(furcHash('sample', 100), 97);
  t.equal(furcHash('', 100), 72);
  t.equal(furcHash('', 2 ** 23), 6173600);
  t.equal(furcHash('sample', 2 ** 23), 5167780);
  t.equal(furcHash('anything', 1), 0, 'n <= 1 gives 0');
  t.equal(furcHash('anything', 0), 0);
  t.throws(() => furcHash('x', FURC_MAX_POOL_SIZE + 1), RangeError);
});

t.test('Crc32 matches every vector', async (t) => {
  checkAll<{ key: string; n: number; index: number }>(t, 'crc32-vectors.jsonl', 2400, (v) => {
    const got = crc32Index(v.key, v.n);
    return got === v.index ? undefined : { ...v, got };
  });
});

t.test('SpookyHash V2 Hash32 matches every vector (0..319 bytes: short and long paths)', async (t) => {
  checkAll<{ key: string; seed: number; hash32: number }>(t, 'spooky32-vectors.jsonl', 300, (v) => {
    const got = spookyHash32(v.key, v.seed);
    return got === v.hash32 ? undefined : { ...v, got };
  });
});

t.test('WeightedCh3 matches every vector', async (t) => {
  checkAll<{ key: string; weights: number[]; index: number }>(t, 'wch3-vectors.jsonl', 1800, (v) => {
    const got = weightedCh3(v.key, v.weights);
    return got === v.index ? undefined : { ...v, got };
  });
});

t.test('Rendezvous matches every vector', async (t) => {
  checkAll<{ key: string; endpoints: string[]; index: number }>(t, 'rendezvous-vectors.jsonl', 1200, (v) => {
    const got = rendezvousIndex(v.key, v.endpoints);
    return got === v.index ? undefined : { ...v, got };
  });
});

// An independent, obviously-correct BigInt MurmurHash64A to check the word-pair arithmetic against.
function referenceMurmur64A(bytes: Uint8Array, seed: number): bigint {
  const m = 0xc6a4a7935bd1e995n;
  const mask = (1n << 64n) - 1n;
  let h = (BigInt(seed >>> 0) ^ (BigInt(bytes.length) * m)) & mask;
  const end = bytes.length - (bytes.length % 8);
  for (let i = 0; i < end; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(bytes[i + j]!);
    k = (k * m) & mask;
    k ^= k >> 47n;
    k = (k * m) & mask;
    h ^= k;
    h = (h * m) & mask;
  }
  if (bytes.length % 8) {
    for (let j = bytes.length % 8 - 1; j >= 0; j--) h ^= BigInt(bytes[end + j]!) << BigInt(8 * j);
    h = (h * m) & mask;
  }
  h ^= h >> 47n;
  h = (h * m) & mask;
  h ^= h >> 47n;
  return h;
}

t.test('MurmurHash64A equals a BigInt reference for any bytes and seed', async (t) => {
  t.equal(murmurHash64A('', 4193360111), referenceMurmur64A(new Uint8Array(0), 4193360111));
  property(
    t,
    'random bytes and seeds',
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 0xffffffff }), (bytes, seed) => {
      return murmurHash64A(bytes, seed) === referenceMurmur64A(bytes, seed);
    }),
  );
});

t.test('CRC-32 is zlib\'s', async (t) => {
  t.equal(crc32('123456789'), 0xcbf43926, 'the CRC-32 check value');
  const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (!zlibCrc32) {
    t.pass('random bytes against zlib.crc32', { skip: 'this Node has no zlib.crc32 to compare with' });
    return;
  }
  property(t, 'random bytes', fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc32(bytes) === zlibCrc32(bytes)));
});

// Strings with lone surrogates too: the encoder must agree with TextEncoder on every UTF-16 string.
const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

t.test('a string key is hashed as its UTF-8 bytes', async (t) => {
  const encoder = new TextEncoder();
  property(
    t,
    'encoder, Ch3 and CRC-32 agree with TextEncoder bytes',
    fc.property(fc.oneof(anyUtf16, fc.string({ unit: 'binary' })), (key) => {
      const bytes = encoder.encode(key);
      const buffer = new KeyBuffer(1).setText(key);
      return (
        Buffer.from(buffer.bytes.subarray(0, buffer.length)).equals(bytes) &&
        furcHash(key, 1000) === furcHash(bytes, 1000) &&
        crc32(key) === crc32(bytes)
      );
    }),
  );
  t.equal(furcHash('ключ', 100), furcHash(encoder.encode('ключ'), 100));
});

t.test('routing key: prefix stripped, hash stop dropped, salt appended', async (t) => {
  t.equal(routingKey('/region/cluster/rest'), 'rest');
  t.equal(routingKey('/region/cluster/a/b'), 'a/b', 'only the first two components are the prefix');
  t.equal(routingKey('/region/cluster'), '/region/cluster', 'no third slash: no prefix');
  t.equal(routingKey('plain'), 'plain');
  t.equal(routingKey('user:1|#|shard7'), 'user:1');
  t.equal(routingKey('a|#|b|#|c'), 'a', 'from the first |#| on');
  t.equal(routingKey('/r/c/key|#|tail'), 'key');
  t.equal(routingKey('|#|'), '');
  t.equal(routingKey('/r/c/'), '');
  t.equal(hashInput('/r/c/key|#|tail', 'salt'), 'keysalt');
  t.equal(hashInput('key'), 'key');
  const bytes = (s: string) => new TextEncoder().encode(s);
  t.same(routingKey(bytes('/r/c/ключ|#|x')), bytes('ключ'), 'the byte form cuts at the same places');
  // Keys of any UTF-16 units almost never hold a slash or a |#| (none in 2,000 runs): keys built of pieces that
  // do, so that both forms cut a prefix, a hash stop after it, and a |#| inside the prefix (which is no stop).
  const piece = fc.oneof(fc.string({ unit: anyUtf16, maxLength: 1 }), fc.constantFrom('|#|', '|', '#', 'é', '/'));
  const segment = fc.array(piece, { maxLength: 3 }).map((pieces) => pieces.join(''));
  const slash = fc.constantFrom('', '/', '/');
  const keyLike = fc.tuple(slash, segment, slash, segment, slash, segment).map((parts) => parts.join(''));
  const seen = { prefix: 0, stop: 0, stopInPrefix: 0 };
  property(
    t,
    'string and byte forms agree',
    fc.property(fc.oneof({ weight: 1, arbitrary: anyUtf16 }, { weight: 3, arbitrary: keyLike }), (key) => {
      const third = key.startsWith('/') ? key.indexOf('/', key.indexOf('/', 1) + 1) : -1;
      const start = third < 0 ? 0 : third + 1;
      if (start > 0) seen.prefix++;
      if (key.indexOf('|#|', start) >= 0) seen.stop++;
      if (key.slice(0, start).includes('|#|')) seen.stopInPrefix++;
      return Buffer.from(routingKey(bytes(key))).equals(bytes(routingKey(key)));
    }),
    { numRuns: 300 },
  );
  t.ok(seen.prefix > 20 && seen.stop > 20 && seen.stopInPrefix > 2, `keys with a prefix, a hash stop, a |#| in the prefix: ${JSON.stringify(seen)}`);
});

const keysArb = fc.string({ minLength: 1, maxLength: 40 });

t.test('WeightedCh3: all weights 1 is Ch3; a weight-0 slot gets no key and only its keys move', async (t) => {
  property(
    t,
    'all weights 1: Ch3',
    fc.property(keysArb, fc.integer({ min: 1, max: 50 }), (key, n) => weightedCh3(key, Array(n).fill(1)) === furcHash(key, n)),
  );
  property(
    t,
    'a hole gets nothing; other keys keep their Ch3 index',
    fc.property(keysArb, fc.integer({ min: 2, max: 50 }), fc.nat(), (key, n, h) => {
      const hole = h % n;
      const weights = Array<number>(n).fill(1);
      weights[hole] = 0;
      const index = weightedCh3(key, weights);
      const ch3 = furcHash(key, n);
      return index !== hole && (ch3 === hole || index === ch3);
    }),
  );
  property(
    t,
    'after 32 rejections the last try stands: the key salted with the 31st counter, 30, reversed',
    fc.property(keysArb, fc.integer({ min: 2, max: 50 }), (key, n) => weightedCh3(key, Array(n).fill(0)) === furcHash(`${key}03`, n)),
  );
});

t.test('Rendezvous: removing a server moves only its keys', async (t) => {
  const tags = Array.from({ length: 20 }, (_, i) => `10.0.0.${i}:11211`);
  const all = new RendezvousHash(tags);
  t.equal(all.size, 20);
  property(
    t,
    'only the removed server\'s keys move',
    fc.property(keysArb, fc.nat({ max: 19 }), (key, removed) => {
      const before = tags[all.index(key)];
      const rest = tags.filter((_, i) => i !== removed);
      const after = rest[rendezvousIndex(key, rest)];
      return before === tags[removed] || after === before;
    }),
  );
});

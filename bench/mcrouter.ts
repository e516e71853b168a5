/**
 * Timings of the mcrouter hashes and of keyspaceMoved, the hook's per-change cost.
 *
 *   node --import=@tapjs/typescript/import bench/mcrouter.ts
 */
import { crc32Bytes, furcHash, furcHashBytes, RendezvousHash, spookyHash32Bytes, weightedCh3Bytes } from '../src/mcrouter/hash.js';
import { keyspaceMoved, sampleKeys } from '../src/mcrouter/keyspace.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user:profile:${String(i).padStart(7, '0')}`); // 20 bytes each
const ENCODED = KEYS.map((key) => new TextEncoder().encode(key));

function perKey(name: string, run: () => number, reps = 30): void {
  let sink = 0;
  for (let i = 0; i < 3; i++) sink += run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) sink += run();
  const ns = Number(process.hrtime.bigint() - start) / reps / KEYS.length;
  console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(7)} ns/key${sink === -1 ? '' : ''}`);
}

function total(name: string, run: () => number, reps = 10): void {
  let result = run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) result = run();
  const ms = Number(process.hrtime.bigint() - start) / reps / 1e6;
  console.log(`${name.padEnd(52)} ${ms.toFixed(1).padStart(7)} ms   (moved ${result.toFixed(4)})`);
}

const sum = (f: (bytes: Uint8Array) => number) => () => ENCODED.reduce((s, bytes) => s + f(bytes), 0);

perKey('Ch3 n=1000, string key (UTF-8 encode + hash)', () => KEYS.reduce((s, key) => s + furcHash(key, 1000), 0));
perKey('Ch3 n=1000, bytes', sum((b) => furcHashBytes(b, b.length, 1000)));
perKey('Ch3 n=5000, bytes', sum((b) => furcHashBytes(b, b.length, 5000)));
perKey('Crc32, bytes', sum((b) => crc32Bytes(b, b.length)));
perKey('SpookyHash32, bytes', sum((b) => spookyHash32Bytes(b, b.length, 0xface2014)));
const weights = Array<number>(1000).fill(1);
weights[10] = 0;
perKey('WeightedCh3 n=1000 one hole, bytes', sum((b) => weightedCh3Bytes(b, b.length, weights)));
const rendezvous = new RendezvousHash(Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`));
perKey('Rendezvous n=1000, bytes', sum((b) => rendezvous.indexBytes(b, b.length)), 3);

const servers = Array.from({ length: 5000 }, (_, i) => `10.1.${i >> 8}.${i & 255}:11211`);
const pool = (list: string[], extra: object = {}) => ({ pools: { A: { servers: list, ...extra } }, route: 'PoolRoute|A' });
const sample = sampleKeys(10_000);
total('keyspaceMoved 10k keys, 5000 -> 5001 servers (Ch3)', () => keyspaceMoved(pool(servers), pool([...servers, 'x:1']), sample));
const holed = Array<number>(5000).fill(1);
holed[1234] = 0;
total('keyspaceMoved 10k keys, 5000 -> one hole (WeightedCh3)', () => keyspaceMoved(pool(servers), pool(servers, { weights: holed }), sample));
const rendezvousPool = (list: string[]) => ({ pools: { A: { servers: list } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Rendezvous', tags: list } } });
total('keyspaceMoved 10k keys, 5000 -> 4999 (Rendezvous)', () => keyspaceMoved(rendezvousPool(servers), rendezvousPool(servers.slice(1)), sample), 1);

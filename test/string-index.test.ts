/**
 * The string index that membership and slots share: the same answers as a
 * Map for any keys, and no quadratic walk for keys chosen to collide (its hash
 * has no secret seed, and a hand-written Endpoints object may name any pod).
 */
import t from 'tap';
import fc from 'fast-check';
import { StringIndex, hash } from '../src/core/string-index.js';
import { sync } from '../src/core/sync.js';
import { endpoints, proxy, service, syncRequest, type Pod } from './fixtures/cluster.js';

/** `count` pod names whose hashes agree in their low `bits`: every one probes the same run of slots. */
function collidingNames(count: number, bits: number): string[] {
  const mask = (1 << bits) - 1;
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const name = `memcached-${i.toString(36)}`;
    if ((hash(name) & mask) === 0) names.push(name);
  }
  return names;
}

t.test('answers as a Map does, for any keys', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.string(), { maxLength: 200 }), fc.array(fc.string(), { maxLength: 50 }), (added, asked) => {
      const index = new StringIndex(added.length);
      const map = new Map<string, number>();
      added.forEach((key, i) => {
        const before = map.get(key) ?? -1;
        if (index.add(key, i) !== before) throw new Error(`add ${JSON.stringify(key)}`);
        if (before < 0) map.set(key, i);
      });
      for (const key of [...added, ...asked]) if (index.get(key) !== (map.get(key) ?? -1)) throw new Error(`get ${JSON.stringify(key)}`);
    }),
  );
  const ordinary = new StringIndex(5000);
  for (let i = 0; i < 5000; i++) ordinary.add(`memcached-7d9f8c6b5-${i.toString(36)}`, i);
  t.notOk(ordinary.flooded, 'ordinary pod names keep the table');
});

t.test('keys that collide move the index into a Map, with the same answers', async (t) => {
  const names = collidingNames(600, 11);
  const index = new StringIndex(names.length);
  t.same(names.map((name, i) => index.add(name, i)), names.map(() => -1), 'each added once');
  t.ok(index.flooded, 'the table is given up after a few probes per entry');
  t.same(names.map((name) => index.get(name)), names.map((_, i) => i));
  t.equal(index.add(names[3]!, 99), 3, 'a key added again keeps its first position');
  t.equal(index.get('memcached-absent'), -1);
});

t.test('a run of keys each in its own slot, then one key hashed to its start: moved to a Map at once', async (t) => {
  // Each of the first keys costs one probe; the last walks the whole run, and every later lookup of it would too.
  const size = 1024;
  const bySlot = new Map<number, string>();
  let last: string | undefined;
  for (let i = 0; bySlot.size < 300 || last === undefined; i++) {
    const name = `pod-${i.toString(36)}`;
    const slot = hash(name) & (size - 1);
    if (slot < 300 && !bySlot.has(slot)) bySlot.set(slot, name);
    else if (slot === 0 && last === undefined) last = name;
  }
  bySlot.set(-1, last!);
  const index = new StringIndex(size / 2);
  for (let slot = 0; slot < 300; slot++) index.add(bySlot.get(slot)!, slot);
  t.notOk(index.flooded, 'keys in their own slots walk nothing');
  index.add(bySlot.get(-1)!, 300);
  t.ok(index.flooded, 'the key that walked 300 slots moved the index');
  t.equal(index.get(bySlot.get(-1)!), 300);
  t.equal(index.get(bySlot.get(299)!), 299);
});

t.test('a pool of pods named to collide syncs with every pod a server', async (t) => {
  // A selectorless Service with a hand-written Endpoints object: nothing stops its pod names.
  const names = collidingNames(400, 10);
  const pods: Pod[] = names.map((name, i) => ({ name, ip: `10.8.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  const request = syncRequest({ parent: proxy({ name: 'cache', spec: { serviceName: 'manual' } }), related: [service({ name: 'manual' }), endpoints('manual', pods)] });
  const answer = sync(request as never, { now: '2026-12-01T12:00:00Z', clusterDomain: 'cluster.local', images: { mcrouter: 'm', exporter: 'e' } });
  t.match(answer.status, { servers: 400, readyServers: 400 });
});

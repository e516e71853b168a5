/**
 * sortNatural sorts pod IPs by their numbers instead of asking the collator
 * every comparison: its order must be the collator's, with names the collator
 * finds equal (leading zeros) in code-unit order, for every list it is given. Then the same through sync(): a
 * first sync of a pool whose endpoints arrive shuffled lists its servers in
 * natural order.
 */
import t from 'tap';
import fc from 'fast-check';
import { sortNatural } from '../src/core/natural-order.js';
import { sync } from '../src/core/sync.js';
import type { SyncRequest } from '../src/api/hook.js';
import { deploymentPods, endpointSlices, proxy, service, syncRequest, type Json } from './fixtures/cluster.js';

// The order DESIGN.md names, built here rather than imported, so that the expectation does not move with the code;
// the collator's ties in code-unit order, so that no order depends on the order the endpoints came in.
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;
const naturalOrder = (a: string, b: string) => collator(a, b) || (a < b ? -1 : a > b ? 1 : 0);
const collatorSorted = (names: string[]) => [...names].sort(naturalOrder);

const digits = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max: 10 ** max - 1 }).map(String),
    // Leading zeros: equal to the collator, so in code-unit order.
    fc.integer({ min: 0, max: 999 }).map((n) => `00${n}`),
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max }),
  );
const ipv4 = fc
  .tuple(digits(1, 3), digits(1, 3), digits(1, 3), digits(1, 3), digits(1, 5))
  .map(([a, b, c, d, port]) => `${a}.${b}.${c}.${d}:${port}`);
/** What else a pool's servers look like, and near misses of the IPv4 form. */
const otherAddress = fc.oneof(
  fc.tuple(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:'), maxLength: 12 }), digits(1, 5)).map(([ip, port]) => `[${ip}]:${port}`),
  fc.tuple(fc.string({ unit: fc.constantFrom(...'abc-0123456789'), minLength: 1, maxLength: 8 }), digits(1, 5)).map(([host, port]) => `${host}.svc.cluster.local:${port}`),
  ipv4.map((a) => a.replace(':', '.')),
  ipv4.map((a) => `${a}0`),
  ipv4.map((a) => a.replace(/^\d+/, '256')),
  fc.string({ maxLength: 20 }),
);

t.test('a list of IPv4 addresses: the collator order, ties in code-unit order', async (t) => {
  fc.assert(
    fc.property(fc.array(ipv4, { maxLength: 60 }), (names) => {
      t.same(sortNatural([...names], (s) => s), collatorSorted(names));
    }),
    { numRuns: 400 },
  );
  const tie = ['10.0.0.01:11211', '10.0.0.1:11211', '10.0.0.001:11211', '9.0.0.1:11211'];
  for (const order of [tie, [...tie].reverse()]) {
    t.same(sortNatural([...order], (s) => s), ['9.0.0.1:11211', '10.0.0.001:11211', '10.0.0.01:11211', '10.0.0.1:11211']);
  }
});

t.test('a list of pod IPs as Kubernetes writes them (the fast path): the collator order', async (t) => {
  const part = (max: number) => fc.integer({ min: 0, max }).map(String);
  const podIp = fc.tuple(part(255), part(255), part(255), part(255), part(65535)).map(([a, b, c, d, port]) => `${a}.${b}.${c}.${d}:${port}`);
  // Few distinct numbers, so that hosts and ports repeat and each sort pass decides.
  const crowded = fc.tuple(fc.constantFrom('10', '9', '100'), fc.constantFrom('0', '1'), part(3), part(12), fc.constantFrom('11211', '9', '11212')).map((p) => `${p[0]}.${p[1]}.${p[2]}.${p[3]}:${p[4]}`);
  fc.assert(
    fc.property(fc.array(fc.oneof(podIp, crowded), { maxLength: 80 }), (names) => {
      t.same(sortNatural([...names], (s) => s), collatorSorted(names));
    }),
    { numRuns: 400 },
  );
});

t.test('a list holding anything else: the collator order', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(ipv4, otherAddress), { maxLength: 40 }), (names) => {
      t.same(sortNatural([...names], (s) => s), collatorSorted(names));
    }),
    { numRuns: 400 },
  );
});

t.test('items sorted by a name: stable like Array.prototype.sort', async (t) => {
  // Only items of the same name tell a stable sort from another, and random addresses never repeat (none in
  // 2,000 runs): names drawn from a few, pod IPs as Kubernetes writes them (the fast path) or not (the collator).
  const fewPodIps = fc.constantFrom('10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.10:11211', '9.0.0.1:11211', '10.0.0.1:9');
  const fewOthers = fc.constantFrom('10.0.0.01:11211', 'cache1:11211', 'cache01:11211', '10.0.0.1:11211');
  const lists = fc.oneof(
    fc.array(fc.tuple(ipv4, fc.nat()), { maxLength: 40 }),
    fc.array(fc.tuple(fewPodIps, fc.nat()), { maxLength: 40 }),
    fc.array(fc.tuple(fc.oneof({ weight: 3, arbitrary: fewOthers }, { weight: 1, arbitrary: ipv4 }), fc.nat()), { maxLength: 40 }),
  );
  /** `A.B.C.D:PORT`, parts up to 255, no leading zero: what sortNatural sorts by numbers. */
  const asKubernetesWrites = (name: string) => {
    const parts = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d{1,5})$/.exec(name)?.slice(1);
    return parts !== undefined && parts.every((p, i) => String(Number(p)) === p && (i === 4 || Number(p) <= 255));
  };
  const repeated = { fastPath: 0, other: 0 };
  fc.assert(
    fc.property(lists, (items) => {
      const names = items.map((item) => item[0]);
      if (new Set(names).size < names.length) {
        if (names.every(asKubernetesWrites)) repeated.fastPath++;
        else repeated.other++;
      }
      const expected = [...items].sort((a, b) => naturalOrder(a[0], b[0]));
      t.same(sortNatural([...items], (item) => item[0]), expected);
    }),
    { numRuns: 200 },
  );
  t.ok(repeated.fastPath > 10 && repeated.other > 10, `lists with a repeated name: ${JSON.stringify(repeated)}`);
});

t.test('a first sync lists shuffled endpoints in natural order', async (t) => {
  const pods = deploymentPods('memcached-big', 600);
  // Endpoints in no particular order, as the endpointslice controller lists them.
  const shuffled = pods.map((p, i) => ({ p, k: (i * 7919) % 601 })).sort((a, b) => a.k - b.k).map(({ p }) => p);
  const request = syncRequest({
    parent: proxy({ name: 'big', spec: { serviceName: 'memcached-big' } }),
    related: [service({ name: 'memcached-big' }), ...endpointSlices('memcached-big', shuffled)],
  });
  const response = sync(request as unknown as SyncRequest, {
    now: '2026-11-25T12:00:00Z',
    clusterDomain: 'cluster.local',
    images: { mcrouter: 'mcrouter', exporter: 'exporter' },
  });
  const configMap = response.children.find((c) => c.kind === 'ConfigMap') as { data: Record<string, string> };
  const servers = (JSON.parse(configMap.data['config.json']!) as { pools: Record<string, { servers: string[] }> }).pools['memcached-big']!.servers;
  t.same(servers, collatorSorted(pods.map((p) => `${p.ip}:11211`)));
  t.notSame(servers, shuffled.map((p) => `${p.ip}:11211`), 'not the order the endpoints came in');
  t.equal((response.status as Json)['servers'], 600);
});

t.test('a first sync lists servers the collator finds equal in one order, whichever order their endpoints came in', async (t) => {
  // Hand-written Endpoints of a selector-less headless Service: hosts named with and without a leading zero.
  const endpoints = (addresses: Json[]) => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'memcached-ext', namespace: 'default', uid: 'e0c1a2b3-0000-4000-8000-000000000001', resourceVersion: '4242' },
    subsets: [{ addresses, ports: [{ name: 'memcache', port: 11211, protocol: 'TCP' }] }],
  });
  const hosts = [
    { ip: '10.0.0.5', hostname: 'cache01' },
    { ip: '10.0.0.6', hostname: 'cache1' },
    { ip: '10.0.0.7', hostname: 'cache001' },
  ];
  const answer = (addresses: Json[]) => {
    const request = syncRequest({
      parent: proxy({ name: 'ext', spec: { serviceName: 'memcached-ext' } }),
      related: [service({ name: 'memcached-ext', headless: true, selector: null }), endpoints(addresses)],
    });
    return JSON.stringify(sync(request as unknown as SyncRequest, { now: '2026-11-25T12:00:00Z', clusterDomain: 'cluster.local', images: { mcrouter: 'mcrouter', exporter: 'exporter' } }));
  };
  const first = answer(hosts);
  const configMap = (JSON.parse(first) as { children: Json[] }).children.find((c) => c['kind'] === 'ConfigMap')!;
  const config = JSON.parse((configMap['data'] as Record<string, string>)['config.json']!) as { pools: Record<string, { servers: string[] }> };
  t.same(config.pools['memcached-ext']!.servers, ['cache001', 'cache01', 'cache1'].map((h) => `${h}.memcached-ext.default.svc.cluster.local:11211`));
  t.equal(answer([...hosts].reverse()), first, 'the same bytes');
  t.equal(answer([hosts[1]!, hosts[0]!, hosts[2]!]), first, 'the same bytes');
});

/**
 * Who is a member and in which slot, for endpoint lists as other writers than
 * the endpointslice controller leave them: conditions left out, another
 * namespace's slice, a pod listed at two addresses, endpoints in any order,
 * and a StatefulSet whose first ordinal changes. Each case through /sync,
 * with each answer's children and status fed back as Metacontroller does.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { deploymentPods, endpointSlices, endpoints, observedChildren, proxy, service, statefulSet, statefulSetPods, syncRequest, type Json, type Pod } from './fixtures/cluster.js';
import { SyncedProxy, configOf, post, testServer, type PoolConfig } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

/** Proxy `name` synced again and again (SyncedProxy): its one pool and its status after each sync. */
function reconciled(t: Test, name: string, spec: Json) {
  const mp = new SyncedProxy(spec, name, 'v1', t);
  return async (related: Json[]): Promise<{ pool: PoolConfig; status: Json }> => {
    const { body, status } = await mp.sync(app, related);
    return { pool: Object.values(configOf(body).pools)[0]!, status };
  };
}

const addressOf = (p: Pod) => `${p.ip}:11211`;
const slicesWith = (name: string, pods: Pod[], conditions: (ep: Json) => Json) =>
  endpointSlices(name, pods).map((slice) => ({ ...slice, endpoints: (slice['endpoints'] as Json[]).map((ep) => ({ ...ep, conditions: conditions(ep) })) }));

t.test('conditions left out mean what the EndpointSlice API says: ready unless told otherwise, not terminating', async (t) => {
  const pods = deploymentPods('memcached', 3);
  const svc = service({ name: 'memcached' });
  // `conditions: {}`: a nil `ready` is an unknown state, which consumers are to read as ready.
  const step = reconciled(t, 'nil-conditions', { serviceName: 'memcached' });
  const { pool, status } = await step([svc, ...slicesWith('memcached', pods, () => ({}))]);
  t.same(pool.servers, pods.map(addressOf));
  t.match(status, { servers: 3, readyServers: 3 }, 'every endpoint with no conditions is ready');

  // Only `ready` written (a slice from a controller that sets no more): a pod that appears is not taken
  // for a terminating one, and gets its slot.
  const fresh = deploymentPods('memcached', 4)[3]!;
  const grown = await step([svc, ...slicesWith('memcached', [...pods, fresh], () => ({ ready: true }))]);
  t.same(grown.pool.servers, [...pods, fresh].map(addressOf), 'the newcomer appended');
  t.match(grown.status, { servers: 4, readyServers: 4 });
});

t.test("another namespace's EndpointSlice for a Service of the same name adds no member", async (t) => {
  const ours = deploymentPods('memcached', 2);
  const theirs = deploymentPods('memcached', 2, 7);
  const foreign = endpointSlices('memcached', theirs, { namespace: 'other' }).map((slice) => ({
    ...slice,
    metadata: { ...(slice['metadata'] as Json), name: 'memcached-other1' },
  }));
  const { pool, status } = await reconciled(t, 'other-namespace', { serviceName: 'memcached' })([service({ name: 'memcached' }), ...endpointSlices('memcached', ours), ...foreign]);
  t.same(pool.servers, ours.map(addressOf));
  t.match(status, { servers: 2, readyServers: 2 });
});

t.test('hand-written Endpoints naming pods of one name in two namespaces list both', async (t) => {
  const pods: Pod[] = [
    { name: 'mc-0', ip: '10.1.0.5' },
    { name: 'mc-0', ip: '10.1.0.6' },
  ];
  const listed = endpoints('memcached', pods);
  const addresses = (listed['subsets'] as Json[])[0]!['addresses'] as Json[];
  (addresses[1]!['targetRef'] as Json)['namespace'] = 'team-b';
  const { pool } = await reconciled(t, 'two-namespaces', { serviceName: 'memcached' })([service({ name: 'memcached', selector: null }), listed]);
  t.same(pool.servers, pods.map(addressOf), 'two pods, not one pod at two addresses');
});

t.test('a pod listed at two addresses is served at the ready one, even where the other sorts first', async (t) => {
  // A StatefulSet pod behind a ClusterIP Service, recreated at a new address while a slice still lists the
  // old one as not ready: the pod is one server, at its new address.
  const [mc0, mc1] = statefulSetPods('memcached', [0, 1], 3);
  const old: Pod = { ...mc1!, ip: '10.244.3.2', ready: false };
  const renewed: Pod = { ...mc1!, ip: '10.244.3.99' };
  const svc = service({ name: 'memcached' });
  const slices = [
    ...endpointSlices('memcached', [mc0!, old]),
    ...endpointSlices('memcached', [renewed]).map((slice) => ({ ...slice, metadata: { ...(slice['metadata'] as Json), name: 'memcached-new' } })),
  ];
  const { pool, status } = await reconciled(t, 'two-addresses', { serviceName: 'memcached' })([svc, ...slices]);
  t.same(pool.servers, [mc0!, renewed].map(addressOf));
  t.match(status, { servers: 2, readyServers: 2 });
});

t.test("a dual-stack pod keeps the slot it took in the other family's slice, as it was spelt there", async (t) => {
  // Kubernetes writes a dual-stack Service's IPv4 and IPv6 slices one at a time: a sync can find a new pod in
  // one only. The pod takes its slot there; once both list it, it is still the same pod, in the same slot.
  const withV6 = (p: Pod, i: number): Pod => ({ ...p, ipv6: `fd00:190::${(100 - i).toString(16)}` });
  const pods = deploymentPods('ds', 8).map(withV6);
  const [p1, p2, p3, p4, , , p7, p8] = pods as Pod[];
  const bracketed = (p: Pod) => `[${p.ipv6}]:11211`;
  for (const families of [['IPv4', 'IPv6'], ['IPv6', 'IPv4']]) {
    const svc = service({ name: 'ds', ipFamilies: families });
    const [primary, other] = families as ['IPv4' | 'IPv6', 'IPv4' | 'IPv6'];
    const spelt = (p: Pod, family: string) => (family === 'IPv4' ? addressOf(p) : bracketed(p));
    const both = (ps: Pod[]) => [...endpointSlices('ds', ps, { family: 'IPv4' }), ...endpointSlices('ds', ps, { family: 'IPv6' })];
    const step = reconciled(t, `dual-${primary.toLowerCase()}`, { serviceName: 'ds' });
    await step([svc, ...both([p1!, p2!, p3!, p4!])]);
    const holed = await step([svc, ...both([p1!, p4!])]);
    t.same(holed.pool.weights, [1, 0, 0, 1]);
    // p7 and p8 in the other family's slice only: they fill the holes as that family spells them.
    const early = await step([svc, ...endpointSlices('ds', [p1!, p4!], { family: primary }), ...endpointSlices('ds', [p1!, p4!, p7!, p8!], { family: other })]);
    t.equal(early.pool.weights, undefined, `${primary} first: the holes are filled`);
    t.same(early.pool.servers.filter((s, i) => i === 1 || i === 2).sort(), [spelt(p7!, other), spelt(p8!, other)].sort());
    // Both slices list them now: nothing changes, no key moved.
    const settled = await step([svc, ...both([p1!, p4!, p7!, p8!])]);
    t.same(settled.pool, early.pool, `${primary} first: each pod keeps its slot and its spelling`);
    t.same(settled.status['lastChange'], early.status['lastChange'], 'and no change is recorded');
    t.match(settled.status, { servers: 4, readyServers: 4 });
  }
});

t.test('a dual-stack pod recreated under new addresses while one slice still lists the old one: the same answer in any slice order, the old address gone', async (t) => {
  const svc = service({ name: 'mc', ipFamilies: ['IPv6', 'IPv4'] });
  const parent = proxy({ name: 'recreated', spec: { serviceName: 'mc' } });
  const renamed = (slice: Json, name: string): Json => ({ ...slice, metadata: { ...(slice['metadata'] as Json), name } });
  const mc0: Pod = { name: 'mc-0', ip: '10.0.0.1', ipv6: 'fd00::1' };
  const mc1: Pod = { name: 'mc-1', ip: '10.0.0.2', ipv6: 'fd00::2' };
  // mc-0 first in the IPv4 slice alone (the IPv6 one not written yet): its slot is spelt 10.0.0.1.
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('mc', [mc0, mc1], { family: 'IPv4' }), ...endpointSlices('mc', [mc1], { family: 'IPv6' })] }));
  t.same([...configOf(first.body).pools['mc']!.servers].sort(), ['10.0.0.1:11211', '[fd00::2]:11211']);
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const synced = proxy({ name: 'recreated', spec: { serviceName: 'mc' }, status: first.body['status'] as Json });
  // mc-0 recreated at 10.0.0.9 / fd00::9; one IPv4 slice still lists its old address, terminating.
  const recreated: Pod = { name: 'mc-0', ip: '10.0.0.9', ipv6: 'fd00::9' };
  const slices = [
    renamed(endpointSlices('mc', [{ ...mc0, terminating: true }], { family: 'IPv4' })[0]!, 'mc-ipv4-old'),
    renamed(endpointSlices('mc', [recreated, mc1], { family: 'IPv4' })[0]!, 'mc-ipv4-new'),
    endpointSlices('mc', [recreated, mc1], { family: 'IPv6' })[0]!,
  ];
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  const answers = await Promise.all(orders.map((order) => post(app, '/sync', syncRequest({ parent: synced, related: [svc, ...order.map((i) => slices[i]!)], children }))));
  t.same(new Set(answers.map((a) => a.text)).size, 1, 'one answer, byte for byte, for the six orders');
  const pool = configOf(answers[0]!.body).pools['mc']!;
  t.same(pool.servers.filter((_, i) => pool.weights?.[i] !== 0).sort(), ['[fd00::2]:11211', '[fd00::9]:11211'], 'mc-0 served at its new address, the old one no longer');
  t.match(answers[0]!.body['status'], { servers: 2, readyServers: 2 });
});

t.test('addresses two pods share (one reused while the other terminates), a hostname at two ports: the same answer in any order', async (t) => {
  const svc = service({ name: 'mc', ipFamilies: ['IPv4', 'IPv6'] });
  const parent = proxy({ name: 'shared', spec: { serviceName: 'mc' } });
  const a: Pod = { name: 'mc-a', ip: '10.0.0.1', ipv6: 'fd00::1' };
  const b: Pod = { name: 'mc-b', ip: '10.0.0.5', ipv6: 'fd00::5' };
  // mc-b first in the IPv6 slice alone: its slot is spelt [fd00::5].
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('mc', [a], { family: 'IPv4' }), ...endpointSlices('mc', [a, b], { family: 'IPv6' })] }));
  t.same([...configOf(first.body).pools['mc']!.servers].sort(), ['10.0.0.1:11211', '[fd00::5]:11211']);
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const synced = proxy({ name: 'shared', spec: { serviceName: 'mc' }, status: first.body['status'] as Json });
  const terminating = { ...b, terminating: true };
  // mc-b terminating, and a new pod mc-c at its IPv4 address (then at its IPv6 one), listed before or after it.
  // mc-c listed in the IPv4 slice alone yet, at mc-b's IPv4 address: no other-family address of its own.
  const pods: Pod[] = [{ name: 'mc-c', ip: '10.0.0.5', ipv6: 'fd00::9' }, { name: 'mc-c', ip: '10.0.0.6', ipv6: 'fd00::5' }, { name: 'mc-c', ip: '10.0.0.5' }];
  for (const c of pods) {
    const answers = await Promise.all(
      [[terminating, c], [c, terminating]].map((order) =>
        post(app, '/sync', syncRequest({ parent: synced, related: [svc, ...endpointSlices('mc', [a, ...order], { family: 'IPv4' }), ...endpointSlices('mc', [a, ...order], { family: 'IPv6' })], children })),
      ),
    );
    t.equal(answers[0]!.text, answers[1]!.text, `${c.ip} and ${c.ipv6 ?? 'no IPv6'} shared: one answer, byte for byte, in either order`);
    // The slot spelt [fd00::5] is the live pod's that is there now, or no pod's: never the terminating mc-b's.
    const pool = configOf(answers[0]!.body).pools['mc']!;
    const live = pool.servers.filter((_, i) => pool.weights?.[i] !== 0);
    t.equal(live.includes('[fd00::5]:11211'), c.ipv6 === 'fd00::5', `${c.ip} and ${c.ipv6 ?? 'no IPv6'}: [fd00::5] served only where mc-c is there`);
  }
  // A selector-less headless Service whose hand-written Endpoints list each hostname on two ports.
  const headless = service({ name: 'mc', headless: true, selector: null });
  const subset = (port: number) => ({ addresses: [{ ip: '10.0.0.1', hostname: 'mc-0' }, { ip: '10.0.0.2', hostname: 'mc-1' }], ports: [{ name: 'memcache', port, protocol: 'TCP' }] });
  const written = (subsets: Json[]) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'mc', namespace: 'default' }, subsets });
  const byPort = await Promise.all(
    [[subset(11211), subset(11213)], [subset(11213), subset(11211)]].map((subsets) => post(app, '/sync', syncRequest({ parent, related: [headless, written(subsets)] }))),
  );
  t.equal(byPort[0]!.text, byPort[1]!.text, 'a hostname at two ports: one answer in either order of the subsets');
});

t.test('dual-stack histories, each family\'s slice written on its own: a pod keeps its slot from first listing to last', async (t) => {
  // Each change reaches one family's slice a sync before the other's: a new pod shows in either first; a deleted
  // pod turns terminating in both, one slice at a time, then leaves them one at a time. Whatever the history, a
  // pod listed in the sync before and in this one holds the same slot under the same spelling, unless hole
  // compaction moved it, from the tail into a hole (under a replicated rule, which has no holes, the same spelling
  // and the same order among those listed before: a Failover read goes to the first), or it is terminating (its keys
  // are about to go: once one family no longer lists it, the other's spelling is all the hook knows it by).
  const step = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), first: fc.constantFrom(0, 1) }),
    fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(), first: fc.constantFrom(0, 1) }),
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom<string[]>(['IPv4', 'IPv6'], ['IPv6', 'IPv4']),
      fc.constantFrom<Json>({ serviceName: 'ds' }, { rules: { type: 'replicated', service: { name: 'ds' } } }),
      fc.array(step, { minLength: 1, maxLength: 12 }),
      async (families, spec, steps) => {
        const name = `dual-history-${run++}`;
        const svc = service({ name: 'ds', ipFamilies: families });
        let made = 0;
        const pod = (): Pod => {
          const n = made++;
          return { name: `ds-7c9d8b5f4-${n.toString(36).padStart(5, 'x')}`, ip: `10.190.${n >> 8}.${n & 255}`, ipv6: `fd00:190::${(0xffff - n).toString(16)}` };
        };
        // What each family's slice lists now.
        const listed: [Pod[], Pod[]] = [[], []];
        const mp = new SyncedProxy(spec, name, 'v1');
        const replicated = 'rules' in spec;
        // No servers yet: no pool (an ErrorRoute).
        const pool = async (): Promise<PoolConfig> =>
          configOf((await mp.sync(app, [svc, ...endpointSlices('ds', listed[0], { family: 'IPv4' }), ...endpointSlices('ds', listed[1], { family: 'IPv6' })])).body).pools['ds'] ?? { servers: [] };
        const slotsOf = (p: PoolConfig) => {
          const by = new Map<string, { slot: number; server: string }>();
          p.servers.forEach((server, slot) => {
            if (p.weights?.[slot] === 0) return;
            const listings = [...listed[0], ...listed[1]];
            const who = listings.find((q) => server === addressOf(q) || server === `[${q.ipv6}]:11211`);
            if (who && !listings.some((q) => q.name === who.name && q.terminating)) by.set(who.name, { slot, server });
          });
          return by;
        };
        let before = slotsOf(await pool());
        const sync = async () => {
          const after = await pool();
          const now = slotsOf(after);
          for (const [who, was] of before) {
            const is = now.get(who);
            if (!is) continue;
            const compacted = is.slot < was.slot && was.slot >= after.servers.length;
            if (is.server !== was.server || (!replicated && !compacted && is.slot !== was.slot)) {
              throw new Error(`${who} moved from ${was.slot} (${was.server}) to ${is.slot} (${is.server}): ${JSON.stringify(after)}`);
            }
          }
          if (replicated) {
            const kept = [...before].filter(([who]) => now.has(who)).sort(([, a], [, b]) => a.slot - b.slot);
            const slots = kept.map(([who]) => now.get(who)!.slot);
            if (slots.some((slot, i) => i > 0 && slot < slots[i - 1]!)) {
              throw new Error(`the order of ${JSON.stringify(kept.map(([who]) => who))} changed: ${JSON.stringify(after)}`);
            }
            // Newcomers after them: one placed first would take every Failover read, empty.
            const newcomer = [...now].find(([who, is]) => !before.has(who) && is.slot < Math.max(-1, ...slots));
            if (newcomer) throw new Error(`newcomer ${newcomer[0]} at ${newcomer[1].slot}, before pods listed earlier: ${JSON.stringify(after)}`);
          }
          before = now;
        };
        for (const s of steps) {
          if (s.kind === 'add') {
            const p = pod();
            listed[s.first]!.push(p);
            await sync();
            listed[1 - s.first]!.push(p);
            await sync();
            continue;
          }
          const all = listed[0];
          if (all.length === 0) continue;
          const gone = all[s.pick % all.length]!;
          const turn = (family: number, change: (q: Pod) => Pod | undefined) => {
            listed[family] = listed[family]!.flatMap((q) => (q.name === gone.name ? (change(q) ?? []) : [q]));
          };
          for (const family of [s.first, 1 - s.first]) {
            turn(family, (q) => ({ ...q, ready: false, terminating: true }));
            await sync();
          }
          for (const family of [s.first, 1 - s.first]) {
            turn(family, () => undefined);
            await sync();
          }
        }
      },
    ),
    { numRuns: 40 },
  );
  t.pass('every history held');
});

t.test('newcomers take their slots in address order, whatever order the endpoints come in', async (t) => {
  const pods = deploymentPods('memcached', 4);
  const [a, b, c, d] = pods as [Pod, Pod, Pod, Pod];
  const svc = service({ name: 'memcached' });
  for (const hash of ['Ch3', 'Crc32', 'Rendezvous']) {
    const step = reconciled(t, `order-${hash.toLowerCase()}`, { rules: { hash, service: { name: 'memcached' } } });
    await step([svc, ...endpointSlices('memcached', [a, b])]);
    const { pool } = await step([svc, ...endpointSlices('memcached', [a, b, d, c])]);
    t.same(pool.servers, [a, b, c, d].map(addressOf), `${hash}: appended in address order`);
  }
  // Two holes filled by two newcomers listed backwards: the same slots as listed forwards.
  const step = reconciled(t, 'order-holes', { serviceName: 'memcached' });
  await step([svc, ...endpointSlices('memcached', pods)]);
  const holed = await step([svc, ...endpointSlices('memcached', [a, d])]);
  t.same(holed.pool, { servers: pods.map(addressOf), weights: [1, 0, 0, 1] });
  const [e, f] = deploymentPods('memcached', 6).slice(4) as [Pod, Pod];
  const filled = await step([svc, ...endpointSlices('memcached', [a, d, f, e])]);
  t.same(filled.pool, { servers: [a, e, f, d].map(addressOf) });
});

t.test('an older trailing hole stays when the server behind it goes; only the hole this sync opens is dropped', async (t) => {
  const pods = deploymentPods('memcached', 4);
  const [a, b, c, d] = pods as [Pod, Pod, Pod, Pod];
  const svc = service({ name: 'memcached' });
  const step = reconciled(t, 'older-hole', { serviceName: 'memcached' });
  await step([svc, ...endpointSlices('memcached', pods)]);
  const holed = await step([svc, ...endpointSlices('memcached', [a, b, d])]);
  t.same(holed.pool, { servers: pods.map(addressOf), weights: [1, 1, 0, 1] });
  // d's slot goes (its keys are lost anyway); c's hole, whose keys went to a, b and d a sync ago, stays.
  const tail = await step([svc, ...endpointSlices('memcached', [a, b])]);
  t.same(tail.pool, { servers: [a, b, c].map(addressOf), weights: [1, 1, 0] });
  t.match(tail.status, { servers: 2, readyServers: 2 });
});

t.test('a StatefulSet whose ordinals.start rises leaves the names below it out of the list', async (t) => {
  const svc = service({ name: 'mc', headless: true });
  const dns = (n: number) => `mc-${n}.mc.default.svc.cluster.local:11211`;
  const step = reconciled(t, 'ordinals-start', { serviceName: 'mc' });
  const before = await step([svc, ...endpointSlices('mc', statefulSetPods('mc', [3, 4, 5, 6, 7])), statefulSet('mc', 5, { start: 3 })]);
  t.same(before.pool.servers, [3, 4, 5, 6, 7].map(dns));
  const after = await step([svc, ...endpointSlices('mc', statefulSetPods('mc', [5, 6, 7])), statefulSet('mc', 3, { start: 5 })]);
  t.same(after.pool.servers, [5, 6, 7].map(dns), 'mc-3 and mc-4 no longer exist');
  t.match(after.status, { servers: 3, readyServers: 3 });
});

t.test('a replicated list of StatefulSet pods, made sharded, keeps the slot of a pod away that the StatefulSet still wants, in whatever order the list held its pods', async (t) => {
  const svc = service({ name: 'mc', headless: true });
  const dns = (n: number) => `mc-${n}.mc.default.svc.cluster.local:11211`;
  const mp = new SyncedProxy({ rules: { children: [{ type: 'replicated', service: { name: 'mc' } }] } }, 'replicated-to-sharded', 'v1', t);
  const step = async (ordinals: number[]) => Object.values(configOf((await mp.sync(app, [svc, ...endpointSlices('mc', statefulSetPods('mc', ordinals)), statefulSet('mc', 2)])).body).pools)[0]!;
  await step([0, 1]);
  await step([1]);
  // mc-0 back after mc-1: a replicated list keeps its survivors' order, newcomers after them.
  t.same((await step([0, 1])).servers, [1, 0].map(dns));
  mp.respec({ rules: { service: { name: 'mc' } } });
  // mc-1 away (restarting) as the rule turns sharded: the StatefulSet still wants it, so its slot stays.
  t.same((await step([0])).servers, [0, 1].map(dns), 'mc-1 keeps its slot, though the list before ended with mc-0');
});

t.test('a StatefulSet pod away is named on the port most endpoints have, the lowest of equals, in any slice order', async (t) => {
  // Half way through a port change: pod 0 on 11211, pod 2 on 11311, pod 1 restarting.
  const svc = service({ name: 'mc', headless: true });
  const dns = (n: number, port: number) => `mc-${n}.mc.default.svc.cluster.local:${port}`;
  const onPort = (ordinal: number, port: number) =>
    endpointSlices('mc', statefulSetPods('mc', [ordinal]), { port }).map((slice) => ({ ...slice, metadata: { ...(slice['metadata'] as Json), name: `mc-p${port}` } }));
  for (const [order, slices] of [
    ['11211 first', [...onPort(0, 11211), ...onPort(2, 11311)]],
    ['11311 first', [...onPort(2, 11311), ...onPort(0, 11211)]],
  ] as const) {
    const { pool } = await reconciled(t, `port-tie-${order.slice(0, 5)}`, { serviceName: 'mc' })([svc, ...slices, statefulSet('mc', 3)]);
    t.same(pool.servers, [dns(0, 11211), dns(1, 11211), dns(2, 11311)], order);
  }
});

t.test('pods named like StatefulSet pods but numbered far apart are listed by address, not as a list of every ordinal between', async (t) => {
  // Hand-written hostnames (or two StatefulSets' worth of numbering): mc-0 and mc-100000 would spell 100,001 names.
  const svc = service({ name: 'mc', headless: true });
  const pods = statefulSetPods('mc', [0, 100_000]);
  const { pool, status } = await reconciled(t, 'far-apart', { serviceName: 'mc' })([svc, ...endpointSlices('mc', pods)]);
  t.equal(pool.servers.length, 2);
  t.match(status, { servers: 2, readyServers: 2 });
});

t.test('only hostnames PREFIX-N, N decimal without a leading zero and of at most 7 digits, one prefix for all, are StatefulSet ordinals', async (t) => {
  // Two pods with an ordinal between them: as a StatefulSet's, the list keeps that ordinal's DNS name (3 servers);
  // otherwise it lists the two pods there are.
  const svc = service({ name: 'mc', headless: true });
  const cases: [string, string, number][] = [
    ['mc-0', 'mc-2', 3],
    ['a-b-0', 'a-b-2', 3],
    ['mc-1234567', 'mc-1234569', 3],
    ['mc-10000000', 'mc-10000002', 2],
    ['mc-0', 'mc-02', 2],
    ['mc-00', 'mc-2', 2],
    ['mc-0', 'mcx-2', 2],
    ['mcx-0', 'mc-2', 2],
    ['mc0', 'mc-2', 2],
    ['mc-0', 'mc2', 2],
    ['mc-0', 'mc-2a', 2],
    // Near enough for a list: 'a' is not the digit 49.
    ['mc-45', 'mc-a', 2],
    ['mc-0', 'md-2', 2],
  ];
  for (const [i, [a, b, servers]] of cases.entries()) {
    const pods: Pod[] = [a, b].map((hostname, n) => ({ name: hostname, hostname, ip: `10.0.0.${n + 1}` }));
    const { pool } = await reconciled(t, `ordinals-${i}`, { serviceName: 'mc' })([svc, ...endpointSlices('mc', pods)]);
    const dns = (h: string) => `${h}.mc.default.svc.cluster.local:11211`;
    const between = `${a.slice(0, a.lastIndexOf('-'))}-${Number(a.slice(a.lastIndexOf('-') + 1)) + 1}`;
    t.strictSame(pool.servers, servers === 3 ? [dns(a), dns(between), dns(b)] : [a, b].map(dns).sort(), `${a}, ${b}`);
  }
});

t.test('a StatefulSet hostname listed on two ports is served on the lower one, as a pod away is named: one port for the whole list', async (t) => {
  // A selector-less headless Service whose hand-written Endpoints list each hostname on two ports; mc-1 is away.
  const headless = service({ name: 'mc', headless: true, selector: null });
  const subset = (port: number) => ({
    addresses: [{ ip: '10.0.0.1', hostname: 'mc-0' }, { ip: '10.0.0.3', hostname: 'mc-2' }],
    ports: [{ name: 'memcache', port, protocol: 'TCP' }],
  });
  const written = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'mc', namespace: 'default', uid: 'b1e2c3d4-0000-4000-8000-000000000001', resourceVersion: '4711' }, subsets: [subset(11213), subset(11211)] };
  const parent = proxy({ name: 'twoports', spec: { serviceName: 'mc' } });
  const res = await post(app, '/sync', syncRequest({ parent, related: [headless, written] }));
  t.equal(res.statusCode, 200);
  const dns = (host: string, port: number) => `${host}.mc.default.svc.cluster.local:${port}`;
  t.same(configOf(res.body).pools['mc']!.servers, [dns('mc-0', 11211), dns('mc-1', 11211), dns('mc-2', 11211)], 'every slot on port 11211, the away mc-1 too');
});

/**
 * spec.rules beyond the routing matrix (test/topologies.test.ts): leaves
 * without servers, pools per (service, port), customize over a tree, a
 * ianlewis/memcached-operator v0.0.2 object, the size of deep trees, and bad
 * trees refused with the path of the offending field.
 */
import t, { type Test } from 'tap';
import { compileConfig, type Operation } from '../src/mcrouter/route.js';
import { sampleKeys } from '../src/mcrouter/keyspace.js';
import { deploymentPods, endpointSlices, observedChildren, proxy, service, statefulSet, statefulSetPods, syncRequest, type Json, type Pod } from './fixtures/cluster.js';
import { SyncedProxy, childOf, configOf, post, testServer } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

const shard = (name: string, subnet: number, ordinals = [0, 1, 2]) => [
  service({ name, headless: true }),
  ...endpointSlices(name, statefulSetPods(name, ordinals, subnet)),
];
const dns = (name: string, n: number) => `${name}-${n}.${name}.default.svc.cluster.local:11211`;
const cluster = [...shard('shard-a', 10), ...shard('shard-b', 11), ...shard('shard-c', 12)];
const A = [0, 1, 2].map((n) => dns('shard-a', n));
const B = [0, 1, 2].map((n) => dns('shard-b', n));
const C = [0, 1, 2].map((n) => dns('shard-c', n));
const keys = sampleKeys(200);

const sync = (spec: Json, related: Json[] = cluster, extra: Partial<Parameters<typeof proxy>[0]> = {}) =>
  post(app, '/sync', syncRequest({ parent: proxy({ name: 'rules', spec, ...extra }), related }));

const statusOf = (body: Json) => body['status'] as { pools: Json[]; conditions: Json[] };
const readyOf = (body: Json) => statusOf(body).conditions.find((c) => c['type'] === 'Ready')!;
const inPool = (pool: string[]) => (server: string) => pool.includes(server);

/** Proxy `name` synced again and again (SyncedProxy), each sync with the spec given: an edit when it differs. With `t`, each 200 an assertion. */
function editedProxy(name: string, t?: Test) {
  let mp: SyncedProxy | undefined;
  return {
    sync(spec: Json, related: Json[]) {
      if (mp) mp.respec(spec);
      else mp = new SyncedProxy(spec, name, 'v1', t);
      return mp.sync(app, related);
    },
    /** The children the next sync sees: Metacontroller's cache may still hold older ones. */
    children: { get: () => mp!.observed, set: (older: Json[]) => void (mp!.observed = older) },
  };
}

/** Its pools after each sync. */
function reconciled(name: string) {
  const proxied = editedProxy(name);
  return async (spec: Json, related: Json[]) => configOf((await proxied.sync(spec, related)).body).pools;
}

t.test('a missing Service under a replicated rule is left out; writes still reach the other replicas', async (t) => {
  const spec = { rules: { type: 'replicated', children: [{ service: { name: 'shard-a' } }, { service: { name: 'gone' } }, { service: { name: 'shard-b' } }] } };
  const res = await sync(spec);
  t.equal(res.statusCode, 200);
  const config = configOf(res.body);
  t.same(Object.keys(config.pools), ['shard-a', 'shard-b'], 'no pool for the missing Service');
  t.notMatch(JSON.stringify(config.route), /gone|ErrorRoute/, 'the empty replica is not in the replicated set');
  const tree = compileConfig(config);
  for (const key of keys) {
    for (const op of ['set', 'delete', 'incr'] as Operation[]) {
      const { primary } = tree.route(key, op);
      if (primary.length !== 2 || !inPool(A)(primary[0]!) || !inPool(B)(primary[1]!)) t.fail(`${op} ${key} reached ${primary}`);
    }
    const read = tree.route(key, 'get');
    if (read.primary.length !== 1 || read.fallbacks.length !== 1) t.fail(`get ${key}: ${JSON.stringify(read)}`);
  }
  t.strictSame(statusOf(res.body).pools, [
    { name: 'shard-a', service: 'shard-a', port: 11211, servers: 3, readyServers: 3, holes: 0 },
    { name: 'gone', service: 'gone', port: 11211, servers: 0, readyServers: 0, holes: 0, reason: 'ServiceNotFound' },
    { name: 'shard-b', service: 'shard-b', port: 11211, servers: 3, readyServers: 3, holes: 0 },
  ], 'a status entry for each pool, the missing one too, exactly');
  t.match(readyOf(res.body), { status: 'False', reason: 'ServiceNotFound', message: /Service gone not found/ });

  const noEndpoints = await sync(spec, [...cluster, service({ name: 'gone' })]);
  t.same(Object.keys(configOf(noEndpoints.body).pools), ['shard-a', 'shard-b'], 'a Service without endpoints is left out too');
  t.match(statusOf(noEndpoints.body).pools[1], { name: 'gone', reason: 'NoServers' });
  t.match(readyOf(noEndpoints.body), { status: 'False', reason: 'NoServers', message: /gone/ });
});

t.test('every child empty: the rule becomes ErrorRoute; a sharded child keeps its position', async (t) => {
  const allGone = await sync({ rules: { type: 'replicated', children: [{ service: { name: 'gone-1' } }, { type: 'replicated', service: { name: 'gone-2' } }] } });
  t.equal(allGone.statusCode, 200);
  // What a client gets with every failed reply names what to fix: each Service under the rule.
  t.same(configOf(allGone.body), { pools: {}, route: { type: 'ErrorRoute', response: 'memcached-operator: no servers for services gone-1, gone-2' } });
  t.same(compileConfig(configOf(allGone.body)).route('k', 'set'), { primary: [], fallbacks: [] });

  // A sharded rule over [replicated(...), shard-c]: with the replicas gone, their keys fail and shard-c keeps exactly its keys.
  const tree = (first: string[]) => ({ rules: { children: [{ type: 'replicated', children: first.map((name) => ({ service: { name } })) }, { service: { name: 'shard-c' } }] } });
  const live = compileConfig(configOf((await sync(tree(['shard-a', 'shard-b']))).body));
  const gone = await sync(tree(['gone-1', 'gone-2']));
  const goneConfig = configOf(gone.body);
  t.match(goneConfig.route, { type: 'HashRoute', children: [{ type: 'ErrorRoute', response: 'memcached-operator: no servers for services gone-1, gone-2' }, 'PoolRoute|shard-c'] });
  const many = await sync({ rules: { type: 'replicated', children: ['g1', 'g2', 'g1', 'g3', 'g4', 'g5', 'g6', 'g7'].map((name) => ({ service: { name } })) } });
  t.equal((configOf(many.body).route as Json)['response'], 'memcached-operator: no servers for services g1, g2, g3, g4, g5 and 2 more', 'each Service once, the first five');
  const named = async (count: number) =>
    (configOf((await sync({ rules: { type: 'replicated', children: Array.from({ length: count }, (_, i) => ({ service: { name: `g${i + 1}` } })) } })).body).route as Json)['response'];
  t.equal(await named(5), 'memcached-operator: no servers for services g1, g2, g3, g4, g5', 'five: all named');
  t.equal(await named(6), 'memcached-operator: no servers for services g1, g2, g3, g4, g5 and 1 more', 'six: the sixth counted');
  const holed = compileConfig(goneConfig);
  let failed = 0;
  for (const key of keys) {
    const before = live.route(key, 'set').primary;
    const after = holed.route(key, 'set').primary;
    if (before.every(inPool(C))) {
      if (JSON.stringify(after) !== JSON.stringify(before)) t.fail(`${key} left shard-c for ${after}`);
    } else if (after.length === 0) failed++;
    else t.fail(`${key} moved to ${after}`);
  }
  t.ok(failed > 50 && failed < 150, `the keys of the empty child fail (${failed} of ${keys.length}), no other key moved`);
});

t.test('one pool per (service, port): a service twice on one port is one pool, on two ports two pools SERVICE-PORT', async (t) => {
  const twice = await sync({ rules: { children: [{ service: { name: 'shard-a' } }, { type: 'replicated', children: [{ service: { name: 'shard-a', port: 11211 } }, { service: { name: 'shard-b' } }] }] } });
  t.same(Object.keys(configOf(twice.body).pools), ['shard-a', 'shard-b']);
  t.same(statusOf(twice.body).pools.map((p) => p['name']), ['shard-a', 'shard-b']);

  const ports = [
    { name: 'memcache', port: 11211 },
    { name: 'secondary', port: 11311 },
  ];
  const slices = endpointSlices('multi', deploymentPods('multi', 2, 30)).map((s) => ({ ...s, ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) }));
  const related = [...cluster, service({ name: 'multi', ports }), ...slices, ...shard('multi-11211', 31, [0])];
  const rules = { type: 'replicated', children: [{ service: { name: 'multi' } }, { service: { name: 'multi', port: 'secondary' } }, { service: { name: 'multi-11211' } }] };
  const res = await sync({ rules }, related);
  t.equal(res.statusCode, 200);
  t.same(configOf(res.body).pools, {
    'multi-11211-2': { servers: ['10.244.30.2:11211', '10.244.30.3:11211'] },
    'multi-secondary': { servers: ['10.244.30.2:11311', '10.244.30.3:11311'] },
    'multi-11211': { servers: [dns('multi-11211', 0)] },
  }, "each port's endpoints; a SERVICE-PORT name that is another service's gets a counter");
  // Exactly: t.match took a service named after its pool ('multi-11211-2' and 'multi-secondary' both contain 'multi').
  t.strictSame(statusOf(res.body).pools, [
    { name: 'multi-11211-2', service: 'multi', port: 11211, servers: 2, readyServers: 2, holes: 0 },
    { name: 'multi-secondary', service: 'multi', port: 'secondary', servers: 2, readyServers: 2, holes: 0 },
    { name: 'multi-11211', service: 'multi-11211', port: 11211, servers: 1, readyServers: 1, holes: 0 },
  ], 'each pool names its Service and port');

  const customize = await post(app, '/customize', { controller: {}, parent: proxy({ name: 'rules', spec: { rules } }) });
  t.same(customize.body, {
    relatedResources: [
      { apiVersion: 'v1', resource: 'services', namespace: 'default', names: ['multi', 'multi-11211'] },
      { apiVersion: 'v1', resource: 'endpoints', namespace: 'default', names: ['multi', 'multi-11211'] },
      { apiVersion: 'apps/v1', resource: 'statefulsets', namespace: 'default' },
      { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices', labelSelector: { matchLabels: { 'kubernetes.io/service-name': 'multi' } } },
      { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices', labelSelector: { matchLabels: { 'kubernetes.io/service-name': 'multi-11211' } } },
    ],
  }, 'customize names every leaf service once');
});

/**
 * A proxy over Service `multi` (ports memcache 11211 and secondary 11311, five pods) synced again and again
 * as Metacontroller does, and the list `[0, 4, 2, 3]` it reaches: pod 1 went and pod 4 took its hole, an
 * order that sorting would not give.
 */
async function renamedPools(t: Test) {
  const ports = [
    { name: 'memcache', port: 11211 },
    { name: 'secondary', port: 11311 },
  ];
  const pods = deploymentPods('multi', 5, 40);
  const slicesOf = (members: typeof pods) =>
    endpointSlices('multi', members).map((s) => ({ ...s, ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) }));
  const proxied = editedProxy('renamed', t);
  const next = async (rules: Json, members: typeof pods) => {
    const { body, status } = await proxied.sync({ rules }, [...cluster, service({ name: 'multi', ports }), ...slicesOf(members)]);
    return {
      pools: configOf(body).pools,
      poolsJson: (childOf(body, 'ConfigMap')!['data'] as Record<string, string>)['pools.json']!,
      lastChange: status['lastChange'] as { pools: string[]; added: string[]; removed: string[]; keyspaceMoved: number },
    };
  };
  const at = (port: number) => (i: number) => `10.244.40.${i + 2}:${port}`;
  const one = { service: { name: 'multi' } };
  const live = [pods[0]!, pods[2]!, pods[3]!, pods[4]!];
  await next(one, pods.slice(0, 4));
  await next(one, [pods[0]!, pods[2]!, pods[3]!]);
  const held = [0, 4, 2, 3].map(at(11211));
  t.same((await next(one, live)).pools, { multi: { servers: held } }, 'the newcomer in the hole');
  return { next, at, one, live, held, children: proxied.children };
}

t.test('a pool renamed when a second port of its Service comes into use (and back) keeps its slots', async (t) => {
  // DESIGN §6: survivors keep their index. The pool of `multi` is `multi` while the rules use one of its ports
  // and `multi-11211` once they use two: a rule added elsewhere must not sort it afresh.
  const { next, at, one, live, held } = await renamedPools(t);
  const two = { children: [one, { type: 'replicated', children: [{ service: { name: 'multi', port: 'secondary' } }, { service: { name: 'shard-b' } }] }] };
  const grown = await next(two, live);
  t.same(Object.keys(grown.pools), ['multi-11211', 'multi-secondary', 'shard-b']);
  t.same(grown.pools['multi-11211'], { servers: held }, 'renamed, the same order');
  t.same(grown.pools['multi-secondary'], { servers: [0, 2, 3, 4].map(at(11311)) }, 'the new port: natural order');
  t.same(grown.lastChange.removed, [], 'no server left the config');
  t.same(grown.lastChange.added, [...[0, 2, 3, 4].map(at(11311)), ...B], "only the new port's servers and shard-b's were added");

  const back = await next(one, live);
  t.same(back.pools, { multi: { servers: held } }, 'named after the Service again, the same order');
  t.same(back.lastChange.added, []);
  t.same(back.lastChange.removed, [...[0, 2, 3, 4].map(at(11311)), ...B]);
});

t.test('a pool takes the mounted list of its own Service and port (pools.json): without members too, never another’s', async (t) => {
  const { next, at, one, live, held } = await renamedPools(t);
  const secondary = { service: { name: 'multi', port: 'secondary' } };
  // DESIGN §7: a pool with no members keeps its list. Renamed in the same sync, it is still that pool.
  const gone = await next({ children: [one, { type: 'replicated', children: [secondary, { service: { name: 'shard-b' } }] }] }, []);
  t.same(gone.pools['multi-11211'], { servers: held }, 'NAME to NAME-PORT, no members: the same Service and port');
  t.notOk('multi-secondary' in gone.pools, 'the new port, with no members and no list: left out');
  t.same(Object.keys(JSON.parse(gone.poolsJson)), ['multi-11211', 'shard-b'], 'pools.json names the pools config.json lists, no other');
  t.same((await next(one, [])).pools['multi'], { servers: held }, 'NAME-PORT to NAME, no members');

  // Another port's list is never taken, whatever the names: `multi` on port secondary keeps the name `multi`.
  t.same((await next(secondary, [])).pools, {}, 'the same name on another port, no members: the 11211 list is not taken');
  t.same((await next(secondary, live)).pools, { multi: { servers: [0, 2, 3, 4].map(at(11311)) } });
  t.notOk('multi-11211' in (await next({ children: [one, secondary] }, [])).pools, 'nor the 11311 list for port 11211');

  // Another spelling of the port is another leaf: a pool of the same servers, in natural order.
  const again = await renamedPools(t);
  const spelt = await again.next({ children: [{ type: 'replicated', children: [{ service: { name: 'multi', port: 'memcache' } }, { service: { name: 'shard-b' } }] }, again.one] }, again.live);
  t.same(Object.keys(spelt.pools), ['multi-memcache', 'shard-b', 'multi-11211']);
  t.same(spelt.pools['multi-11211'], { servers: again.held }, 'the same leaf, renamed: its order');
  t.same(spelt.pools['multi-memcache'], { servers: [0, 2, 3, 4].map(again.at(11211)) }, 'another spelling: natural order');

  // Metacontroller's cache may still hold the ConfigMap from before the rename for the sync after it: the
  // mounted config and its pools.json come together, so the rename holds.
  const lagging = await renamedPools(t);
  const before = lagging.children.get();
  const two = { children: [lagging.one, secondary] };
  t.same((await lagging.next(two, lagging.live)).pools['multi-11211'], { servers: lagging.held });
  lagging.children.set(before);
  t.same((await lagging.next(two, lagging.live)).pools['multi-11211'], { servers: lagging.held }, 'the ConfigMap of before the rename: still its list');

  // A pools.json a hand edit left a pool out of: that pool goes by its name (no other entry claims it).
  const edited = await renamedPools(t);
  edited.children.set(edited.children.get().map((c) => (c['kind'] === 'ConfigMap' ? { ...c, data: { ...(c['data'] as Json), 'pools.json': '{}' } } : c)));
  t.same((await edited.next(edited.one, edited.live)).pools['multi'], { servers: edited.held }, 'pools.json without the pool: by name');

  // A ConfigMap a build before this one wrote has no pools.json: by name, and a renamed pool starts over.
  const old = await renamedPools(t);
  old.children.set(old.children.get().map((c) => (c['kind'] === 'ConfigMap' ? { ...c, data: { 'config.json': (c['data'] as Record<string, string>)['config.json']! } } : c)));
  t.same((await old.next({ children: [old.one, secondary] }, old.live)).pools['multi-11211'], { servers: [0, 2, 3, 4].map(old.at(11211)) }, 'natural order');
});

t.test('a port written another way keeps its pool’s order; another port, or a pool without members, takes nothing of it', async (t) => {
  // The same Service port as a number, as digits and by name: the same pods on the same target port.
  const { next, at, live, held } = await renamedPools(t);
  for (const port of ['memcache', '11211', 11211, 'memcache']) {
    const res = await next({ service: { name: 'multi', port } }, live);
    t.same(res.pools, { multi: { servers: held } }, `port ${JSON.stringify(port)}: the same order`);
    t.same(JSON.parse(res.poolsJson), { multi: { service: 'multi', port } }, 'pools.json follows the spelling');
  }
  // Another port of the Service: none of the old list's servers, so natural order.
  t.same((await next({ service: { name: 'multi', port: 'secondary' } }, live)).pools, { multi: { servers: [0, 2, 3, 4].map(at(11311)) } });

  // Respelt while the Service lists no endpoints: it cannot tell, and takes nothing.
  const empty = await renamedPools(t);
  t.same((await empty.next({ service: { name: 'multi', port: 'memcache' } }, [])).pools, {}, 'no members, no list of its own: left out');

  // Both pools of one Service respelt at once: each holds its own port's servers, so each keeps its list.
  const both = await renamedPools(t);
  const secondary = { service: { name: 'multi', port: 'secondary' } };
  const second = (await both.next({ children: [both.one, secondary] }, both.live)).pools['multi-secondary'];
  const respelt = await both.next({ children: [{ service: { name: 'multi', port: 'memcache' } }, { service: { name: 'multi', port: 11311 } }] }, both.live);
  t.same(respelt.pools, { 'multi-memcache': { servers: both.held }, 'multi-11311': second }, 'each its own list');

  // Respelt in the edit that adds a second port (and renames the pool NAME-PORT), or drops one.
  const grown = await renamedPools(t);
  t.same((await grown.next({ children: [{ service: { name: 'multi', port: 'memcache' } }, secondary] }, grown.live)).pools['multi-memcache'], { servers: grown.held }, 'respelt and renamed');
  // Respelt in the edit that adds a port the Service does not have yet: that pool can be none of the lists,
  // and the respelt one still keeps its own.
  const ahead = await renamedPools(t);
  await ahead.next({ children: [ahead.one, secondary] }, ahead.live);
  const tertiary = await ahead.next({ children: [{ service: { name: 'multi', port: 'memcache' } }, { service: { name: 'multi', port: 'tertiary' } }] }, ahead.live);
  t.same(tertiary.pools['multi-memcache'], { servers: ahead.held }, 'respelt beside a port to come');
  const shrunk = await renamedPools(t);
  await shrunk.next({ children: [shrunk.one, secondary] }, shrunk.live);
  t.same((await shrunk.next({ service: { name: 'multi', port: 'memcache' } }, shrunk.live)).pools, { multi: { servers: shrunk.held } }, 'respelt as the other port goes');
});

t.test('a respelt pool beside a pool of its Service without servers, or without its Service or port for a while, keeps its list', async (t) => {
  // The secondary port lists no endpoint: its pool has no servers, and no pools.json entry, all along.
  const ports = [{ name: 'memcache', port: 11211 }, { name: 'secondary', port: 11311 }];
  const pods = deploymentPods('lone', 5, 53);
  const step = reconciled('lone-proxy');
  const sync = (rules: Json, related: Json[]) => step({ rules }, related);
  const svc = service({ name: 'lone', ports });
  const at = (i: number) => `${pods[i]!.ip}:11211`;
  const rules = (port: number | string) => ({ children: [{ service: { name: 'lone', port } }, { service: { name: 'lone', port: 'secondary' } }] });
  await sync(rules(11211), [svc, ...endpointSlices('lone', pods.slice(0, 4))]);
  await sync(rules(11211), [svc, ...endpointSlices('lone', [pods[0]!, pods[2]!, pods[3]!])]);
  const live = [pods[0]!, pods[2]!, pods[3]!, pods[4]!];
  const held = [0, 4, 2, 3].map(at);
  t.same(await sync(rules(11211), [svc, ...endpointSlices('lone', live)]), { 'lone-11211': { servers: held } });
  t.same(await sync(rules('memcache'), [svc, ...endpointSlices('lone', live)]), { 'lone-memcache': { servers: held } }, 'respelt beside an empty pool');

  // The Service away for a sync, then back: a respelt pool keeps the list as a pool keeps its own. (With the
  // empty pool still in the spec, either pool could be the list's without the Service to tell: neither takes it.)
  t.same(await sync(rules('11211'), []), {}, 'two pools of the Service away, either could be it: none takes it');
  await sync(rules('memcache'), [svc, ...endpointSlices('lone', live)]);
  const one = { service: { name: 'lone', port: '11211' } };
  t.same(await sync(rules('memcache'), [svc, ...endpointSlices('lone', live)]), { 'lone-memcache': { servers: [0, 2, 3, 4].map(at) } }, 'started over');
  const kept = (await sync(one, []))['lone'];
  t.same(kept, { servers: [0, 2, 3, 4].map(at) }, 'respelt while its Service is away, its only pool: kept');
  t.same(await sync(one, [svc, ...endpointSlices('lone', live)]), { lone: kept }, 'and back');
});

t.test('a pool that moves to a port of other servers takes no order or spelling from the old port’s list', async (t) => {
  // Spec first: the new port is PortNotFound, and the old port's servers serve meanwhile. Once the Service has
  // the port (other memcached on the same pods), with a pod away: every ordinal on the new port.
  const step = reconciled('moved-port');
  const sync = async (servicePort: number, ports: { name: string; port: number }[], pods: ReturnType<typeof statefulSetPods>, port: number) => {
    const related = [service({ name: 'mc', headless: true, ports }), statefulSet('mc', 3), ...endpointSlices('mc', pods, { port, portName: port === 11211 ? 'memcache' : 'other' })];
    return (await step({ serviceName: 'mc', servicePort }, related))['mc'];
  };
  const on = (port: number) => (n: number) => `mc-${n}.mc.default.svc.cluster.local:${port}`;
  const old = [{ name: 'memcache', port: 11211 }];
  t.same(await sync(11211, old, statefulSetPods('mc', [0, 1, 2]), 11211), { servers: [0, 1, 2].map(on(11211)) });
  t.same(await sync(11411, old, statefulSetPods('mc', [0, 1, 2]), 11211), { servers: [0, 1, 2].map(on(11211)) }, 'PortNotFound: the old servers serve meanwhile');
  const both = [...old, { name: 'other', port: 11411 }];
  t.same(await sync(11411, both, statefulSetPods('mc', [0, 2]), 11411), { servers: [0, 1, 2].map(on(11411)) }, 'pod 1 away: on the new port too');

  // The same move with the highest pod away: its slot is kept (the StatefulSet still wants it), on the new port.
  const tail = reconciled('moved-port-tail');
  const at = (servicePort: number, ports: { name: string; port: number }[], ordinals: number[], port: number) =>
    tail({ serviceName: 'mc', servicePort }, [service({ name: 'mc', headless: true, ports }), statefulSet('mc', 3), ...endpointSlices('mc', statefulSetPods('mc', ordinals), { port, portName: port === 11211 ? 'memcache' : 'other' })]);
  await at(11211, old, [0, 1, 2], 11211);
  t.same((await at(11411, old, [0, 1, 2], 11211))['mc'], { servers: [0, 1, 2].map(on(11211)) }, 'PortNotFound: kept');
  t.same((await at(11411, both, [0, 1], 11411))['mc'], { servers: [0, 1, 2].map(on(11411)) }, 'pod 2 away: its slot kept, on the new port');
  t.same((await at(11411, both, [0, 1, 2], 11411))['mc'], { servers: [0, 1, 2].map(on(11411)) }, 'and back in it');
});

t.test('a Service port renumbered over the same target port keeps the pool’s order, whichever is edited first', async (t) => {
  for (const order of ['together', 'spec first', 'Service first'] as const) {
    const pods = deploymentPods('renum', 5, 52);
    const step = reconciled('renumbered');
    const sync = async (servicePort: number, port: number, members: typeof pods) => {
      const related = [service({ name: 'renum', ports: [{ name: 'memcache', port, targetPort: 11211 }] }), ...endpointSlices('renum', members)];
      return (await step({ serviceName: 'renum', servicePort }, related))['renum'];
    };
    const at = (i: number) => `${pods[i]!.ip}:11211`;
    await sync(11211, 11211, pods.slice(0, 4));
    await sync(11211, 11211, [pods[0]!, pods[2]!, pods[3]!]);
    const live = [pods[0]!, pods[2]!, pods[3]!, pods[4]!];
    const held = { servers: [0, 4, 2, 3].map(at) };
    t.same(await sync(11211, 11211, live), held);
    if (order === 'spec first') t.same(await sync(11212, 11211, live), held, 'spec first (PortNotFound): the list kept');
    if (order === 'Service first') t.same(await sync(11211, 11212, live), held, 'Service first (PortNotFound): the list kept');
    t.same(await sync(11212, 11212, live), held, `${order}: port 11212 now, the same servers in the same order`);
  }
});

t.test('a name that passes to another Service takes nothing of the pool that had it', async (t) => {
  // `multi` on two ports has the pool `multi-11211`; then a Service named `multi-11211` joins the spec before it
  // is created: the name is now its, and `multi` on 11211 is `multi-11211-2`. Every old name is still in use.
  const { next, one, live, held } = await renamedPools(t);
  const secondary = { service: { name: 'multi', port: 'secondary' } };
  await next({ children: [one, secondary] }, live);
  const taken = await next({ children: [{ service: { name: 'multi-11211' } }, one, secondary] }, live);
  t.same(Object.keys(taken.pools).sort(), ['multi-11211-2', 'multi-secondary'], 'the new Service, without servers or a list of its own: left out');
  t.same(taken.pools['multi-11211-2'], { servers: held }, '`multi` on 11211 keeps its order under its new name');
});

t.test('a name that passes to another Service does not take that Service’s list', async (t) => {
  // `memcached-11211` is a Service of its own; then the spec names Service `memcached`, which has no pods yet.
  let status: Json | undefined;
  let observed: Json[] | undefined;
  const sync = async (serviceName: string, related: Json[]) => {
    const parent = proxy({ name: 'moved', spec: { serviceName }, ...(status ? { status } : {}) });
    const res = await post(app, '/sync', syncRequest({ parent, related, ...(observed ? { children: observed } : {}) }));
    status = res.body['status'] as Json;
    observed = observedChildren(parent, res.body['children'] as Json[]);
    return configOf(res.body).pools;
  };
  const other = [service({ name: 'memcached-11211' }), ...endpointSlices('memcached-11211', deploymentPods('memcached-11211', 3, 50))];
  t.same(Object.keys(await sync('memcached-11211', other)), ['memcached-11211']);
  t.same(await sync('memcached', [...other, service({ name: 'memcached' })]), {}, 'memcached has no servers and no list of its own: left out');

  // A Service split in two: new leaves, each in natural order, without the other's servers as holes.
  status = undefined;
  observed = undefined;
  const pods = deploymentPods('cache', 6, 51);
  await sync('cache', [service({ name: 'cache' }), ...endpointSlices('cache', pods)]);
  const parent = proxy({ name: 'moved', spec: { rules: { children: [{ service: { name: 'cache-a' } }, { service: { name: 'cache-b' } }] } }, ...(status ? { status } : {}) });
  const split = [service({ name: 'cache-a' }), ...endpointSlices('cache-a', [pods[0]!, pods[2]!, pods[4]!]), service({ name: 'cache-b' }), ...endpointSlices('cache-b', [pods[1]!, pods[3]!, pods[5]!])];
  const res = await post(app, '/sync', syncRequest({ parent, related: split, children: observed }));
  t.same(configOf(res.body).pools, {
    'cache-a': { servers: [0, 2, 4].map((i) => `${pods[i]!.ip}:11211`) },
    'cache-b': { servers: [1, 3, 5].map((i) => `${pods[i]!.ip}:11211`) },
  });
});

t.test('lastChange lists an address as added only when the config did not hold it anywhere', async (t) => {
  const { next, one, live } = await renamedPools(t);
  const memcache = { service: { name: 'multi', port: 'memcache' } };
  // The same servers under a second spelling of their port: a new pool, but no new server.
  const spelt = await next({ children: [one, { type: 'replicated', children: [memcache, { service: { name: 'shard-b' } }] }] }, live);
  t.same([spelt.lastChange.added, spelt.lastChange.removed], [B, []], "only shard-b's servers are new to the config");
  // A third spelling beside two unchanged pools of those servers: nothing added or removed.
  const third = await next({ children: [one, { type: 'replicated', children: [memcache, { service: { name: 'shard-b' } }] }, { service: { name: 'multi', port: '11211' } }] }, live);
  t.same(Object.keys(third.pools).sort(), ['multi-11211', 'multi-11211-2', 'multi-memcache', 'shard-b']);
  t.same([third.lastChange.pools, third.lastChange.added, third.lastChange.removed], [['multi-11211-2'], [], []], 'a new pool of servers the config holds');
});

t.test('a v0.0.2 object (rules, mcrouter.image/port/statsRoot/securityContext) syncs to a working config', async (t) => {
  // docs/combined-example.yaml of ianlewis/memcached-operator v0.0.2, with the mcrouter fields it defaulted.
  const spec = {
    rules: {
      type: 'replicated',
      children: [
        { type: 'sharded', service: { name: 'shard-a', namespace: 'default', port: 11211 } },
        { type: 'sharded', service: { name: 'shard-b', namespace: 'default', port: 11211 } },
      ],
    },
    mcrouter: {
      image: 'ianmlewis/mcrouter:v0.36.0-2',
      port: 11212,
      statsRoot: '/var/mcrouter/stats',
      securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true },
    },
  };
  const res = await sync(spec, cluster, { status: { observedGeneration: 1 } });
  t.equal(res.statusCode, 200);
  const tree = compileConfig(configOf(res.body));
  for (const key of keys) {
    // v0.0.2 sent deletes through a LatestRoute: one replica kept the stale value.
    for (const op of ['set', 'delete'] as Operation[]) {
      const { primary } = tree.route(key, op);
      if (primary.length !== 2 || !inPool(A)(primary[0]!) || !inPool(B)(primary[1]!)) t.fail(`${op} ${key} reached ${primary}`);
    }
  }
  const container = ((childOf(res.body, 'Deployment')!['spec'] as any).template.spec.containers as Json[])[0]!;
  t.equal(container['image'], 'ianmlewis/mcrouter:v0.36.0-2');
  // Exactly: t.match took ['-p', '112120'], a port past 65535, for ['-p', '11212'].
  t.strictSame(container['args'], ['-p', '11212', '--config-file=/etc/mcrouter/config.json', '--asynclog-disable', '--stats-root=/var/mcrouter/stats'], 'mcrouter on port 11212, its stats under statsRoot');
  t.match(container['securityContext'], { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }, 'a container securityContext, as in v0.0.2');
  t.match(readyOf(res.body), { reason: 'Progressing' }, 'every Service found: only the Deployment is awaited');
});

t.test('a v0.0.2 object as its controller stored it: type "" and port 0 mean the defaults', async (t) => {
  // v0.0.2's controller updated each object from its Go types (no omitempty on type and port) and defaulted
  // only the top rule's type (its loop over the children defaulted copies) and every service's namespace:
  // whatever the user left out came back as type "" and port 0. v0.0.2 itself refused to route those.
  const cases = [
    {
      what: 'replicated over a leaf and a group',
      written: { rules: { type: 'replicated', children: [{ service: { name: 'shard-a' } }, { children: [{ service: { name: 'shard-b' } }] }] } },
      stored: {
        rules: {
          type: 'replicated',
          children: [
            { type: '', service: { name: 'shard-a', namespace: 'default', port: 0 } },
            { type: '', children: [{ type: '', service: { name: 'shard-b', namespace: 'default', port: 0 } }] },
          ],
        },
      },
    },
    {
      // A Rendezvous parent tags each child by its rule type: a group of type "" must get sharded's tag.
      what: 'a group under Rendezvous',
      written: { rules: { hash: 'Rendezvous', children: [{ service: { name: 'shard-a' } }, { children: [{ service: { name: 'shard-b' } }, { service: { name: 'shard-c' } }] }] } },
      stored: {
        rules: {
          type: 'sharded',
          hash: 'Rendezvous',
          children: [
            { type: '', service: { name: 'shard-a', namespace: 'default', port: 0 } },
            { type: '', children: [{ type: '', service: { name: 'shard-b', namespace: 'default', port: 0 } }, { type: '', service: { name: 'shard-c', namespace: 'default', port: 11211 } }] },
          ],
        },
      },
    },
    { what: 'a single leaf', written: { rules: { service: { name: 'shard-a' } } }, stored: { rules: { type: 'sharded', service: { name: 'shard-a', namespace: 'default', port: 0 } } } },
  ];
  for (const { what, written, stored } of cases) {
    const [a, b] = [await sync(written, cluster), await sync(stored, cluster)];
    t.equal(b.statusCode, 200, `${what}: ${b.text.slice(0, 200)}`);
    t.same(configOf(b.body), configOf(a.body), `${what}: the same mcrouter config`);
    t.same((b.body['status'] as Json)['pools'], (a.body['status'] as Json)['pools'], `${what}: the same pools, on port 11211`);
    t.same(readyOf(b.body), readyOf(a.body), `${what}: the same Ready`);
  }
  const text = JSON.stringify(configOf((await sync(cases[1]!.stored, cluster)).body));
  t.match(text, /"sharded\(shard-b,shard-c\)"/, 'the group is tagged as sharded');
});

t.test('config.json grows with the leaves, not five-fold per replicated level', async (t) => {
  const pairs = [30, 31, 32, 33].map((subnet, i) => [service({ name: `pair-${i}` }), ...endpointSlices(`pair-${i}`, deploymentPods(`pair-${i}`, 2, subnet))]);
  const leaf = (i: number) => ({ type: 'replicated', service: { name: `pair-${i}` } });
  const spec = { rules: { type: 'replicated', children: [{ type: 'replicated', children: [leaf(0), leaf(1)] }, { type: 'replicated', children: [leaf(2), leaf(3)] }] } };
  const res = await sync(spec, pairs.flat());
  const text = JSON.stringify(configOf(res.body));
  t.equal(text.match(/OperationSelectorRoute/g)?.length, 1, 'one operation selector, at the top replicated rule');
  for (let i = 0; i < 4; i++) t.equal(text.split(`"Pool|pair-${i}"`).length - 1, 5, `pair-${i} once for writes and once per read operation`);
  const tree = compileConfig(configOf(res.body));
  t.equal(tree.route('k', 'touch').primary.length, 8, 'a write reaches all 8 replicas');
  t.same(tree.route('k', 'gets').primary.length + tree.route('k', 'gets').fallbacks.length, 8, 'a read may try each of them');
});

t.test('a config no ConfigMap can hold is refused before it is rendered: 422 naming spec.rules', async (t) => {
  // 4,096 Rendezvous leaves over one 300-pod Service: each lists the pool again as tags, 50 MB in all,
  // which the hook took 4 s and 500 MB to write before this check (and a ConfigMap holds 1 MiB).
  const pool = [service({ name: 'big' }), ...endpointSlices('big', deploymentPods('big', 300, 40))];
  const leaves = { type: 'sharded', children: Array.from({ length: 64 }, () => ({ type: 'sharded', children: Array.from({ length: 64 }, () => ({ service: { name: 'big' }, hash: 'Rendezvous' })) })) };
  const res = await sync({ rules: leaves }, pool);
  t.equal(res.statusCode, 422);
  t.match(res.body, { field: 'spec.rules', message: /^spec\.rules: the mcrouter config would take more than \d+ bytes \(its Rendezvous leaves list their pools again as tags\), and a ConfigMap holds 1048576$/ });
  const few = { type: 'sharded', children: [{ service: { name: 'big' }, hash: 'Rendezvous' }, { service: { name: 'big' }, hash: 'Rendezvous' }] };
  t.equal((await sync({ rules: few }, pool)).statusCode, 200, 'a few such leaves are fine');
});

t.test('Rendezvous over children: one distinct tag per child, unchanged when servers come and go', async (t) => {
  const spec = { rules: { hash: 'Rendezvous', children: [{ service: { name: 'shard-a' } }, { service: { name: 'shard-a' } }, { type: 'replicated', children: [{ service: { name: 'shard-b' } }, { service: { name: 'shard-c' } }] }] } };
  const before = await sync(spec);
  const tags = ['shard-a', 'shard-a#2', 'replicated(shard-b,shard-c)'];
  t.match(configOf(before.body).route, { type: 'HashRoute', hash_func: 'Rendezvous', salt: 'level-0', tags });
  const scaled = await sync(spec, [...shard('shard-a', 10, [0, 1, 2, 3]), ...shard('shard-b', 11), ...shard('shard-c', 12)]);
  t.same((configOf(scaled.body).route as Json)['tags'], tags);
  const [b, a] = [compileConfig(configOf(before.body)), compileConfig(configOf(scaled.body))];
  let toNew = 0;
  for (const key of keys) {
    const was = b.firstDestination(key, 'set')!;
    const now = a.firstDestination(key, 'set')!;
    const onA = (server: string) => server.startsWith('shard-a-');
    if (onA(was) !== onA(now)) t.fail(`${key} changed child: ${was} -> ${now}`);
    if (now === dns('shard-a', 3)) toNew++;
  }
  t.ok(toNew > 0, `keys moved only within shard-a, ${toNew} onto its new server`);
});

t.test('Rendezvous over children: a leaf child is tagged by its Service, whatever its pool is named', async (t) => {
  // A Service used on a second port, elsewhere in the tree, renames its pool SERVICE-PORT: the group's tags must
  // not follow, or an edit in another branch would move this group's keys.
  const group = { hash: 'Rendezvous', children: [{ service: { name: 'shard-a' } }, { service: { name: 'shard-b' } }, { service: { name: 'shard-c' } }] };
  const rendezvousTags = (body: Json): unknown[] => {
    const found: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (typeof v !== 'object' || v === null) return;
      const o = v as Json;
      if (o['type'] === 'HashRoute' && o['hash_func'] === 'Rendezvous') found.push(o['tags']);
      Object.values(o).forEach(walk);
    };
    walk(configOf(body).route);
    // A replicated rule repeats the group under each of its operation routes.
    return [...new Set(found.map((tags) => JSON.stringify(tags)))].map((tags) => JSON.parse(tags) as unknown);
  };
  const tags = [['shard-a', 'shard-b', 'shard-c']];
  const alone = await sync({ rules: { type: 'replicated', children: [group, { service: { name: 'shard-c' } }] } });
  t.same(rendezvousTags(alone.body), tags);
  const twoPorts = await sync({ rules: { type: 'replicated', children: [group, { service: { name: 'shard-a', port: 11212 } }] } });
  t.ok(Object.keys(configOf(twoPorts.body).pools as Json).includes('shard-a-11211'), 'shard-a\'s pool is renamed for its port');
  t.same(rendezvousTags(twoPorts.body), tags, 'the group\'s tags are unchanged');

  // One Service on two ports in the group: two pools, each tagged by its own rule (the port when not the default),
  // so that the tags follow the pools when reordered, and no sibling coming or going changes another's tag.
  const ports = (first: number | string, second: number | string) => ({
    rules: { hash: 'Rendezvous', children: [{ service: { name: 'shard-a', port: first } }, { service: { name: 'shard-a', port: second } }, { service: { name: 'shard-b' } }] },
  });
  const both = await sync(ports(11211, 11212));
  t.same(rendezvousTags(both.body), [['shard-a', 'shard-a:11212', 'shard-b']]);
  const swapped = await sync(ports(11212, 11211));
  t.same(rendezvousTags(swapped.body), [['shard-a:11212', 'shard-a', 'shard-b']], 'swapping the two moves no key');
  const spelt = await sync(ports(11211, '11211'));
  t.same(rendezvousTags(spelt.body), [['shard-a', 'shard-a:"11211"', 'shard-b']], 'a port name of digits is another pool, another tag');
  const named = await sync(ports(11211, 'admin'));
  t.same(rendezvousTags(named.body), [['shard-a', 'shard-a:"admin"', 'shard-b']]);
  t.same(((configOf(named.body).route as Json)['children'] as unknown[])[1], { type: 'ErrorRoute', response: 'memcached-operator: no servers for service shard-a port "admin"' });
  const onePort = await sync({ rules: { hash: 'Rendezvous', children: [{ service: { name: 'shard-a', port: 11211 } }, { service: { name: 'shard-b' } }] } });
  t.same(rendezvousTags(onePort.body), [['shard-a', 'shard-b']], 'the second port gone, the others keep their tags');
  // The port that has no servers is named in its ErrorRoute: the other port of the Service serves.
  t.same(((configOf(both.body).route as Json)['children'] as unknown[])[1], { type: 'ErrorRoute', response: 'memcached-operator: no servers for service shard-a port 11212' });
});

t.test('bad trees: 422 naming the path of the field', async (t) => {
  // test/bad-input.test.ts covers the first level; these are the deeper paths and the policies.
  const cases: [Json, RegExp][] = [
    [{ children: [{ service: { name: 'a' } }, { writePolicy: 'AllQuorum', children: [{ service: { name: 'b' } }] }] }, /^spec\.rules\.children\[1\]\.writePolicy: must be one of AllSync, AllMajority, AllFastest, AllAsync$/],
    [{ children: [{ children: [{ service: { name: 'a' } }, { readPolicy: 'Random', service: { name: 'b' } }] }] }, /^spec\.rules\.children\[0\]\.children\[1\]\.readPolicy: must be one of Latest, MissFailover, Failover$/],
    [{ hash: 'Md5', children: [{ service: { name: 'a' } }] }, /^spec\.rules\.hash: must be one of Ch3, Crc32, Rendezvous$/],
    [{ children: [{ service: { name: 'a' } }, { children: [{ children: [{ service: { name: 'b' } }] }] }] }, /^spec\.rules\.children\[1\]\.children\[0\]\.children: must be empty: rules nest at most 3 levels: a rule at level 3 must be a service$/],
    [{ service: { name: 'a' }, children: [{ service: { name: 'b' } }] }, /^spec\.rules: a rule has either service or children/],
    [{ children: [{ service: { name: 'a' } }, { children: [] }] }, /^spec\.rules\.children\[1\]\.children: must not have fewer than 1 items$/],
    [{ children: [{ children: [{ service: { name: 'a' } }, { service: { name: 'b', namespace: 'other' } }] }] }, /^spec\.rules\.children\[0\]\.children\[1\]\.service\.namespace: must be the proxy's own namespace "default"/],
  ];
  for (const [rules, message] of cases) {
    const res = await sync({ rules });
    t.equal(res.statusCode, 422, JSON.stringify(rules));
    t.match(res.body['message'], message);
    const customize = await post(app, '/customize', { controller: {}, parent: proxy({ name: 'rules', spec: { rules } }) });
    t.same([customize.statusCode, customize.body], [200, { relatedResources: [] }], 'customize asks for nothing (the sync refuses it)');
  }
});

t.test('a pool that a Ch3 rule and a replicated or Crc32 rule both use gets no holes: survivors keep their order', async (t) => {
  const pods = deploymentPods('memcached-deploy', 4);
  const related = (present: typeof pods) => [service({ name: 'memcached-deploy' }), ...endpointSlices('memcached-deploy', present)];
  for (const [what, other] of [
    ['replicated', { type: 'replicated', service: { name: 'memcached-deploy' } }],
    ['Crc32', { hash: 'Crc32', service: { name: 'memcached-deploy' } }],
  ] as const) {
    const step = reconciled(`mixed-${what.toLowerCase()}`);
    const spec = { rules: { type: 'replicated', children: [{ service: { name: 'memcached-deploy' } }, other] } };
    const first = (await step(spec, related(pods)))['memcached-deploy']!.servers;
    const middle = pods.find((p) => `${p.ip}:11211` === first[1])!;
    const after = await step(spec, related(pods.filter((p) => p !== middle)));
    // A hole would get writes (replicated) or keys (Crc32 does not skip weight 0) of its own.
    t.same(after['memcached-deploy'], { servers: [first[0], first[2], first[3]] }, `Ch3 and ${what}: the survivors in their order, no weights`);
    // An address that sorts first: appended all the same, where a replicated rule alone would sort it in.
    const fresh = { name: 'memcached-deploy-7c9d8b5f4-fresh', ip: '10.244.1.7' };
    const back = await step(spec, related([...pods.filter((p) => p !== middle), fresh]));
    t.same(back['memcached-deploy'], { servers: [first[0], first[2], first[3], '10.244.1.7:11211'] }, `Ch3 and ${what}: a newcomer appended`);
  }
});

t.test('a pool that a Rendezvous or Crc32 rule and a replicated rule both use keeps its order, whichever rule comes first', async (t) => {
  const pods = deploymentPods('memcached-deploy', 3);
  const related = (present: typeof pods) => [service({ name: 'memcached-deploy' }), ...endpointSlices('memcached-deploy', present)];
  const replicated = { type: 'replicated', service: { name: 'memcached-deploy' } };
  for (const hash of ['Rendezvous', 'Crc32']) {
    const sharded = { hash, service: { name: 'memcached-deploy' } };
    for (const [order, children] of [
      ['sharded first', [sharded, replicated]],
      ['replicated first', [replicated, sharded]],
    ] as const) {
      const step = reconciled(`mixed-${hash.toLowerCase()}-${order.split(' ')[0]}`);
      const spec = { rules: { type: 'replicated', children } };
      const first = (await step(spec, related(pods)))['memcached-deploy']!.servers;
      // A newcomer whose address sorts before every member's: a sorted list would shift every slot the hash indexes.
      const fresh = { name: 'memcached-deploy-7c9d8b5f4-fresh', ip: '10.244.1.7' };
      const grown = await step(spec, related([...pods, fresh]));
      t.same(grown['memcached-deploy'], { servers: [...first, '10.244.1.7:11211'] }, `${hash}, ${order}: a newcomer appended`);
    }
  }
});

t.test('a sharded group wrapped in a replicated rule (a second zone) keeps its salt, and its keys stay where they are', async (t) => {
  const services = ['zone-a-1', 'zone-a-2', 'zone-b-1', 'zone-b-2'];
  const related = services.flatMap((name, i) => [service({ name }), ...endpointSlices(name, deploymentPods(name, 3).map((p, j) => ({ ...p, ip: `10.244.${50 + i}.${j + 2}` })))]);
  const zone = (a: string, b: string, hash: string) => ({ type: 'sharded', hash, children: [{ service: { name: a } }, { service: { name: b } }] });
  const keys = sampleKeys(5000);
  for (const hash of ['Ch3', 'Crc32']) {
    const proxied = editedProxy('zones', t);
    const sync = async (rules: Json) => {
      const { body, status } = await proxied.sync({ rules }, related);
      return { tree: compileConfig(configOf(body)), keyspaceMoved: (status['lastChange'] as { keyspaceMoved?: number } | undefined)?.keyspaceMoved };
    };
    const alone = await sync(zone('zone-a-1', 'zone-a-2', hash));
    const wrapped = await sync({ type: 'replicated', children: [zone('zone-a-1', 'zone-a-2', hash)] });
    t.equal(wrapped.keyspaceMoved, 0, `${hash}: wrapped alone, no key moves`);
    t.ok(keys.every((k) => wrapped.tree.firstDestination(k) === alone.tree.firstDestination(k)), `${hash}: every key reads from the server it did`);
    const zones = await sync({ type: 'replicated', children: [zone('zone-a-1', 'zone-a-2', hash), zone('zone-b-1', 'zone-b-2', hash)] });
    t.ok(keys.every((k) => zones.tree.route(k, 'set').primary.includes(alone.tree.firstDestination(k)!)), `${hash}: a second zone added, every key is still written where it was`);
  }
});

/** A Service over `pods` and its EndpointSlices: what Metacontroller sends for a pool. */
const over = (name: string, pods: Pod[]) => [service({ name }), ...endpointSlices(name, pods)];

t.test('a Service renamed in the spec, over the same pods, keeps its list; one over other pods starts in natural order', async (t) => {
  const pods = deploymentPods('mc', 8, 30);
  const address = (i: number) => `10.244.30.${i + 2}:11211`;
  const proxied = new SyncedProxy<{ lastChange?: Json }>({ serviceName: 'mc' }, 'renamed', 'v1', t);
  await proxied.sync(app, over('mc', pods.slice(0, 5)));
  await proxied.sync(app, over('mc', [0, 2, 3, 4].map((i) => pods[i]!)));
  // A newcomer fills the hole: an order no natural sort gives.
  const held = configOf((await proxied.sync(app, over('mc', [0, 2, 3, 4, 5].map((i) => pods[i]!)))).body).pools['mc']!.servers;
  t.same(held, [0, 5, 2, 3, 4].map(address));

  // A new Service over the same pods, the old one left out of the spec (and deleted).
  proxied.respec({ serviceName: 'mc-v2' });
  const renamed = await proxied.sync(app, over('mc-v2', [0, 2, 3, 4, 5].map((i) => pods[i]!)));
  t.same(configOf(renamed.body).pools, { 'mc-v2': { servers: held } }, 'the same slots under the new name');
  // t.same, not t.match: a pattern's empty list matches any list.
  const { added, removed, keyspaceMoved } = renamed.status.lastChange ?? {};
  t.same({ added, removed, keyspaceMoved }, { added: [], removed: [], keyspaceMoved: 0 }, 'no address gained or lost, no key moved: the servers only changed pool');

  // Renamed again, to a Service over other pods: nothing of the old list.
  proxied.respec({ serviceName: 'mc-other' });
  const other = await proxied.sync(app, over('mc-other', [6, 7].map((i) => pods[i]!)));
  t.same(configOf(other.body).pools, { 'mc-other': { servers: [6, 7].map(address) } });

  // A pool whose port is written anew beside a new Service over some of its pods: its own list is its, not the new pool's.
  const kept = [0, 2, 3, 4, 5].map((i) => pods[i]!);
  const respelt = new SyncedProxy({ rules: { children: [{ service: { name: 'mc' } }] } }, 'respelt', 'v1', t);
  await respelt.sync(app, over('mc', pods.slice(0, 5)));
  await respelt.sync(app, over('mc', [0, 2, 3, 4].map((i) => pods[i]!)));
  t.same(configOf((await respelt.sync(app, over('mc', kept))).body).pools['mc']!.servers, held);
  respelt.respec({ rules: { children: [{ service: { name: 'mc', port: 'memcache' } }, { service: { name: 'all' } }] } });
  const both = configOf((await respelt.sync(app, [...over('mc', kept), ...over('all', [...kept, pods[6]!, pods[7]!])])).body);
  t.same(both.pools['mc']!.servers, held, 'the respelt pool keeps its list');
  t.same(both.pools['all']!.servers, [0, 2, 3, 4, 5, 6, 7].map(address), 'the new pool starts in natural order');
});

t.test('a pool edited to a Service that does not exist (a typo, or one not created yet) has no servers: the hook cannot tell it from a pool replaced', async (t) => {
  const pods = deploymentPods('mc', 6, 31);
  const address = (i: number) => `10.244.31.${i + 2}:11211`;
  const live = [0, 2, 3, 4, 5].map((i) => pods[i]!);
  const proxied = new SyncedProxy<{ lastChange?: Json; pools: Json[] }>({ serviceName: 'mc' }, 'typo', 'v1', t);
  await proxied.sync(app, over('mc', pods.slice(0, 5)));
  await proxied.sync(app, over('mc', [0, 2, 3, 4].map((i) => pods[i]!)));
  t.same(configOf((await proxied.sync(app, over('mc', live))).body).pools['mc']!.servers, [0, 5, 2, 3, 4].map(address));

  // Misspelt: customize asks for a Service that does not exist, and Metacontroller sends none.
  proxied.respec({ serviceName: 'mc-tpyo' });
  const misspelt = await proxied.sync(app, []);
  t.same(configOf(misspelt.body).pools, {}, 'no servers: the old pool is no longer in the spec');
  t.match(configOf(misspelt.body).route, { type: 'ErrorRoute' });
  t.match(readyOf(misspelt.body), { status: 'False', reason: 'ServiceNotFound', message: /Service mc-tpyo not found in namespace default; requests routed to it fail until it has servers/ });

  // A pool removed on purpose beside a new one whose Service is not created yet: the new one takes nothing of it.
  const two = new SyncedProxy({ rules: { children: [{ service: { name: 'mc' } }, { service: { name: 'b' } }] } }, 'two', 'v1', t);
  const b = deploymentPods('b', 3, 32);
  await two.sync(app, [...over('mc', live), ...over('b', b)]);
  two.respec({ rules: { children: [{ service: { name: 'mc' } }, { service: { name: 'c' } }] } });
  const replaced = configOf((await two.sync(app, over('mc', live))).body);
  t.same(Object.keys(replaced.pools), ['mc'], 'c has no servers: none of the removed pool b\'s');
});

t.test('Failover reads: a terminating pod still ready behind publishNotReadyAddresses goes behind the serving replicas', async (t) => {
  const svc = service({ name: 'mc' });
  (svc['spec'] as Json)['publishNotReadyAddresses'] = true;
  const spec = { rules: { type: 'replicated', readPolicy: 'Failover', service: { name: 'mc' } } };
  const pods = deploymentPods('mc', 3, 50);
  // As the endpointslice controller writes them behind publishNotReadyAddresses: ready is true for every pod,
  // terminating ones too; serving is the pod's own readiness.
  const published = (terminating: Pod | undefined) =>
    endpointSlices('mc', pods).map((slice) => ({
      ...slice,
      endpoints: (slice['endpoints'] as Json[]).map((ep) => ({
        ...ep,
        conditions: { ready: true, serving: true, terminating: terminating !== undefined && (ep['addresses'] as string[])[0] === terminating.ip },
      })),
    }));
  const parent = proxy({ name: 'failover', spec });
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...published(undefined)] }));
  const before = configOf(first.body).pools['mc']!.servers;
  t.same(before, pods.map((p) => `${p.ip}:11211`), 'natural order at first');
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const synced = proxy({ name: 'failover', spec, status: statusOf(first.body) });
  const going = await post(app, '/sync', syncRequest({ parent: synced, related: [svc, ...published(pods[0])], children }));
  t.same(configOf(going.body).pools['mc']!.servers, [before[1], before[2], before[0]], 'the terminating pod no longer takes the first read');
});

t.test('config.json that fits alone, but not with pools.json beside it in the ConfigMap: 422 naming spec.rules', async (t) => {
  // 64 groups of 50 leaves, each its own Service of one pod under a 63-character name: config.json ~720 kB,
  // pools.json ~500 kB more; a ConfigMap holds 1 MiB in all.
  const name = (g: number, l: number) => `mc-${String(g).padStart(2, '0')}-${String(l).padStart(2, '0')}-${'q'.repeat(54)}`;
  const groups = Array.from({ length: 64 }, (_, g) => ({ children: Array.from({ length: 50 }, (_, l) => ({ service: { name: name(g, l) } })) }));
  const related: Json[] = [];
  for (let g = 0; g < 64; g++) {
    for (let l = 0; l < 50; l++) {
      const n = name(g, l);
      related.push(service({ name: n }), ...endpointSlices(n, [{ name: `${n.slice(0, 50)}-abcde`, ip: `10.${100 + g}.${l}.2` }]));
    }
  }
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'wide', spec: { rules: { children: groups } } }), related }));
  t.equal(res.statusCode, 422, res.text.slice(0, 300));
  t.match(res.body, { field: 'spec.rules', message: /^spec\.rules: the mcrouter config would take more than \d+ bytes \(with pools\.json beside it, which counts too\), and a ConfigMap holds 1048576$/ });
});

t.test('Latest nested in Latest: each salted by its depth, so that every replica gets first reads from some mcrouter host', async (t) => {
  const latest = (names: string[]) => ({ type: 'replicated', readPolicy: 'Latest', children: names.map((name) => ({ service: { name } })) });
  const spec = { rules: { type: 'replicated', readPolicy: 'Latest', children: [latest(['shard-a', 'shard-b']), latest(['shard-c', 'shard-d'])] } };
  const res = await sync(spec, [...cluster, ...shard('shard-d', 13)]);
  t.equal(res.statusCode, 200);
  const tree = compileConfig(configOf(res.body));
  // LatestRoute picks by a hash of the host: with one salt at both depths, the inner rule would pick the
  // position its parent picked on every host, and shard-b and shard-c would never be read first.
  const firstReads = new Set<string>();
  for (let host = 0; host < 64; host++) firstReads.add(tree.firstDestination(keys[0]!, 'get', host)!.split('.')[1]!);
  t.same([...firstReads].sort(), ['shard-a', 'shard-b', 'shard-c', 'shard-d'], 'each Service read first by some of 64 hosts');
});

/**
 * status.lastChange (DESIGN 9): set by a sync that changes a server list (or the route), with
 * the pools, the servers added and removed, and the share of a fixed key sample
 * whose first `get` destination moved; carried over unchanged by every other sync.
 */
import t, { type Test } from 'tap';
import { lastChangeAnnotation } from '../src/core/last-change.js';
import {
  deploymentPods,
  endpointSlices,
  observedChildren,
  proxy,
  service,
  statefulSetPods,
  syncRequest,
  type Json,
  type Pod,
} from './fixtures/cluster.js';
import { FIXED_NOW, SyncedProxy, configOf, post, testServer, type TestServer } from './helpers/hook.js';

interface LastChange {
  time: string;
  pools: string[];
  added: string[];
  removed: string[];
  keyspaceMoved: number;
}

const at = (minutes: number) => new Date(FIXED_NOW.getTime() + minutes * 60_000);
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const servers: TestServer[] = [];
/** A hook whose clock reads `minutes` after FIXED_NOW. */
function hookAt(minutes: number): TestServer {
  const app = testServer({ clock: () => at(minutes) });
  servers.push(app);
  return app;
}
t.teardown(() => Promise.all(servers.map((s) => s.close())));

/** A proxy named as the README's example, synced with v2 keys, each sync fed the answer before. */
const proxyOf = (spec: Json, name = 'example-cluster') => new SyncedProxy<{ lastChange?: LastChange }>(spec, name, 'v2');

const dns = (service: string, n: number) => `${service}-${n}.${service}.default.svc.cluster.local:11211`;
const statefulSet = (name: string, ordinals: number[], over: Partial<Pod> = {}): Json[] => [
  service({ name, headless: true }),
  ...endpointSlices(name, statefulSetPods(name, ordinals, 1, over)),
];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Checks a lastChange: every field exactly but keyspaceMoved, which is the
 * share of a 10,000-key sample: within 4 standard deviations of `share`, to 3 decimals.
 */
function expectChange(t: Test, change: LastChange | undefined, expected: Omit<LastChange, 'keyspaceMoved'>, share: number, what: string): void {
  if (!change) return void t.fail(`${what}: no lastChange`);
  const { keyspaceMoved, ...rest } = change;
  t.same(rest, expected, `${what}: time, pools, added, removed`);
  const tolerance = 4 * Math.sqrt((share * (1 - share)) / 10_000) + 0.001;
  t.ok(Math.abs(keyspaceMoved - share) <= tolerance, `${what}: keyspaceMoved ${keyspaceMoved} is ${share.toFixed(3)} ± ${tolerance.toFixed(3)}`);
  t.equal(keyspaceMoved, Math.round(keyspaceMoved * 1000) / 1000, `${what}: keyspaceMoved to 3 decimals`);
}

t.test('a StatefulSet scale-up sets lastChange; syncs that change no server list carry it over', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  const created = await mp.sync(hookAt(0), statefulSet('memcached', range(5)));
  t.notOk('lastChange' in created.status, 'no lastChange on the first sync: nothing was mounted before');
  const settled = await mp.sync(hookAt(1), statefulSet('memcached', range(5)));
  t.notOk('lastChange' in settled.status, 'none while the server list stays the same');

  const up = await mp.sync(hookAt(2), statefulSet('memcached', range(6)));
  const change = up.status.lastChange;
  expectChange(t, change, { time: rfc3339(at(2)), pools: ['memcached'], added: [dns('memcached', 5)], removed: [] }, 1 / 6, 'Ch3 from 5 to 6 servers');

  const notReady = await mp.sync(hookAt(3), statefulSet('memcached', range(6), { ready: false }));
  t.same(notReady.status.lastChange, change, 'pods turning not ready keep their slots: the same lastChange, time included');
  const gap = await mp.sync(hookAt(4), statefulSet('memcached', [0, 1, 3, 4, 5]));
  t.same(gap.status.lastChange, change, 'a middle ordinal being recreated keeps its slot: no change');
  const back = await mp.sync(hookAt(5), statefulSet('memcached', range(6)));
  t.same(back.status.lastChange, change, 'nor when it is back');

  const down = await mp.sync(hookAt(6), statefulSet('memcached', range(4)));
  expectChange(
    t,
    down.status.lastChange,
    { time: rfc3339(at(6)), pools: ['memcached'], added: [], removed: [dns('memcached', 4), dns('memcached', 5)] },
    2 / 6,
    'scaled 6 -> 4: the two tail servers’ keys',
  );
});

t.test('lastChange comes from parent.status, byte for byte, when nothing changes', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  await mp.sync(hookAt(0), statefulSet('memcached', range(3)));
  // Written by an earlier sync (or an earlier version of the hook): the hook never recomputes it.
  const earlier: LastChange = {
    time: '2026-01-02T03:04:05Z',
    pools: ['memcached'],
    added: [dns('memcached', 2)],
    removed: ['10.244.7.7:11211'],
    keyspaceMoved: 0.333,
  };
  mp.status = { ...mp.status, lastChange: earlier };
  const again = await mp.sync(hookAt(30), statefulSet('memcached', range(3)));
  t.same(again.status.lastChange, earlier, 'the same servers at a later time: carried over, its time too');

  const gone = await mp.sync(hookAt(31), []);
  t.match(gone.status.conditions, [{ reason: 'ServiceNotFound' }], 'the Service is gone');
  t.same(gone.status.lastChange, earlier, 'a missing Service keeps the mounted servers: no change');
  const empty = await mp.sync(hookAt(32), [service({ name: 'memcached', headless: true }), ...endpointSlices('memcached', [])]);
  t.match(empty.status.conditions, [{ reason: 'NoServers' }], 'the Service has no endpoints');
  t.same(empty.status.lastChange, earlier, 'no endpoints keeps the mounted servers too');
});

t.test('a middle removal in a Deployment pool moves only that server’s share', async (t) => {
  const pods = deploymentPods('memcached-deploy', 5);
  const related = (list: Pod[]) => [service({ name: 'memcached-deploy' }), ...endpointSlices('memcached-deploy', list)];
  const mp = proxyOf({ serviceName: 'memcached-deploy' });
  const first = await mp.sync(hookAt(0), related(pods));
  const slots = configOf(first.body).pools['memcached-deploy']!.servers;
  const middle = slots[2]!;

  const fewer = pods.filter((p) => `${p.ip}:11211` !== middle);
  const removal = await mp.sync(hookAt(1), related(fewer));
  t.same(configOf(removal.body).pools['memcached-deploy']!.weights, [1, 1, 0, 1, 1], 'a weight-0 hole');
  // Filling the hole from the tail or re-sorting would move far more (DESIGN 6: 55% for index 2 of 5).
  expectChange(t, removal.status.lastChange, { time: rfc3339(at(1)), pools: ['memcached-deploy'], added: [], removed: [middle] }, 1 / 5, 'the departed server’s keys');

  const successor: Pod = { name: 'memcached-deploy-7c9d8b5f4-zzzzz', ip: '10.244.9.9' };
  const refill = await mp.sync(hookAt(2), related([...fewer, successor]));
  t.notOk(configOf(refill.body).pools['memcached-deploy']!.weights, 'the newcomer takes the hole');
  expectChange(
    t,
    refill.status.lastChange,
    { time: rfc3339(at(2)), pools: ['memcached-deploy'], added: ['10.244.9.9:11211'], removed: [] },
    1 / 5,
    'the keys rehashed off the hole go to the newcomer',
  );
});

t.test('replicated pools: keyspaceMoved follows the first destination of a get, over the mcrouter pods', async (t) => {
  const spec = {
    rules: {
      type: 'replicated',
      children: [{ service: { name: 'memcached-a', port: 11211 } }, { service: { name: 'memcached-b', port: 11211 } }],
    },
  };
  const related = (a: number, b: number) => [...statefulSet('memcached-a', range(a)), ...statefulSet('memcached-b', range(b))];
  const mp = proxyOf(spec);
  await mp.sync(hookAt(0), related(4, 4));

  // LatestRoute: each mcrouter pod reads the replicas in its own order, half of them memcached-b first.
  const grownB = await mp.sync(hookAt(1), related(4, 5));
  expectChange(
    t,
    grownB.status.lastChange,
    { time: rfc3339(at(1)), pools: ['memcached-b'], added: [dns('memcached-b', 4)], removed: [] },
    1 / 2 / 5,
    'the replica half of the pods read first grows from 4 to 5 servers',
  );

  const grownA = await mp.sync(hookAt(2), related(5, 5));
  expectChange(
    t,
    grownA.status.lastChange,
    { time: rfc3339(at(2)), pools: ['memcached-a'], added: [dns('memcached-a', 4)], removed: [] },
    1 / 2 / 5,
    'and then the other',
  );

  const both = await mp.sync(hookAt(3), related(4, 4));
  expectChange(
    t,
    both.status.lastChange,
    { time: rfc3339(at(3)), pools: ['memcached-a', 'memcached-b'], added: [], removed: [dns('memcached-a', 4), dns('memcached-b', 4)] },
    1 / 5,
    'both pools in one change: whichever a pod reads first',
  );
});

t.test('replicated pools read with MissFailover: a key whose first server is new counts, though its read goes on to a replica that holds it', async (t) => {
  // mcrouter's MissFailoverRoute does not copy a key it finds on the next replica back to the first: the new
  // server stays without the key until it is written again, and a later change of the other replica loses it.
  // So each change counts what its first hop misses, and a zone grown and then the other sum to what growing
  // both at once costs.
  const replicated = (readPolicy: string) => ({
    rules: {
      type: 'replicated',
      readPolicy,
      children: [{ service: { name: 'memcached-a', port: 11211 } }, { service: { name: 'memcached-b', port: 11211 } }],
    },
  });
  const related = (a: number, b: number) => [...statefulSet('memcached-a', range(a)), ...statefulSet('memcached-b', range(b))];
  const mp = proxyOf(replicated('MissFailover'));
  await mp.sync(hookAt(0), related(4, 4));
  // Every get goes to memcached-a first: a fifth of them now to the new memcached-a-4.
  const grownA = await mp.sync(hookAt(1), related(5, 4));
  expectChange(t, grownA.status.lastChange, { time: rfc3339(at(1)), pools: ['memcached-a'], added: [dns('memcached-a', 4)], removed: [] }, 1 / 5, 'the pool read first grows');
  const grownB = await mp.sync(hookAt(2), related(5, 5));
  expectChange(t, grownB.status.lastChange, { time: rfc3339(at(2)), pools: ['memcached-b'], added: [dns('memcached-b', 4)], removed: [] }, 0, 'then the pool read after a miss: no first server changes');
  const both = proxyOf(replicated('MissFailover'), 'both-zones');
  await both.sync(hookAt(0), related(4, 4));
  const grownBoth = await both.sync(hookAt(1), related(5, 5));
  const steps = grownA.status.lastChange!.keyspaceMoved + grownB.status.lastChange!.keyspaceMoved;
  t.equal(grownBoth.status.lastChange?.keyspaceMoved, Math.round(steps * 1000) / 1000, 'the two changes sum to what growing both at once counts');
});

t.test('topology changes: a pool added to or removed from a sharded rule', async (t) => {
  const a = statefulSet('memcached-a', range(3));
  const b = statefulSet('memcached-b', range(3));
  const mp = proxyOf({ serviceName: 'memcached-a' });
  await mp.sync(hookAt(0), [...a, ...b]);

  mp.respec({ rules: { children: [{ service: { name: 'memcached-a', port: 11211 } }, { service: { name: 'memcached-b', port: 11211 } }] } });
  const split = await mp.sync(hookAt(1), [...a, ...b]);
  expectChange(
    t,
    split.status.lastChange,
    { time: rfc3339(at(1)), pools: ['memcached-b'], added: range(3).map((n) => dns('memcached-b', n)), removed: [] },
    1 / 2,
    'a HashRoute over two pools sends half the keys to the new one',
  );

  mp.respec({ serviceName: 'memcached-b' });
  const moved = await mp.sync(hookAt(2), [...a, ...b]);
  expectChange(
    t,
    moved.status.lastChange,
    { time: rfc3339(at(2)), pools: ['memcached-a'], added: [], removed: range(3).map((n) => dns('memcached-a', n)) },
    1 / 2,
    'the keys that were on pool a move; those on pool b stay on their server',
  );
});

t.test('a mounted config the route walker cannot read counts as every key moved', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  await mp.sync(hookAt(0), statefulSet('memcached', range(3)));
  // Someone replaced the ConfigMap's config.json by hand with a route the operator never writes.
  const configMap = mp.observed.find((c) => c['kind'] === 'ConfigMap')!;
  configMap['data'] = {
    'config.json': JSON.stringify({
      pools: { memcached: { servers: [dns('memcached', 0), dns('memcached', 1)] } },
      route: { type: 'PrefixSelectorRoute', policies: { 'a:': 'PoolRoute|memcached' }, wildcard: 'PoolRoute|memcached' },
    }),
  };
  const res = await mp.sync(hookAt(1), statefulSet('memcached', range(3)));
  t.same(
    res.status.lastChange,
    { time: rfc3339(at(1)), pools: ['memcached'], added: [dns('memcached', 2)], removed: [], keyspaceMoved: 1 },
    'replaced whole: every key counted as moved',
  );
});

t.test('a config lost (its ConfigMap deleted, or edited into what is not a config) is written afresh, and recorded as every key moved', async (t) => {
  const related = (list: Pod[]) => [service({ name: 'memcached-deploy' }), ...endpointSlices('memcached-deploy', list)];
  const pods = deploymentPods('memcached-deploy', 5);
  const mp = proxyOf({ serviceName: 'memcached-deploy' });
  await mp.sync(hookAt(0), related(pods));
  // Two pods replaced over time: their successors took their slots, out of natural order.
  const slots = configOf((await mp.sync(hookAt(1), related(pods))).body).pools['memcached-deploy']!.servers;
  const successors: Pod[] = [{ name: 'memcached-deploy-7c9d8b5f4-aaaaa', ip: '10.244.9.9' }, { name: 'memcached-deploy-7c9d8b5f4-bbbbb', ip: '10.244.0.3' }];
  const now = [...pods.filter((p) => `${p.ip}:11211` !== slots[0] && `${p.ip}:11211` !== slots[3]), ...successors];
  await mp.sync(hookAt(2), related(now.filter((p) => p !== successors[1])));
  const before = await mp.sync(hookAt(3), related(now));
  const kept = configOf(before.body).pools['memcached-deploy']!.servers;
  t.same([kept[0], kept[3]], ['10.244.9.9:11211', '10.244.0.3:11211'], 'the successors hold the old slots');

  const all = [...kept].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const [what, lose] of [
    ['deleted', (children: Json[]) => children.filter((c) => c['kind'] !== 'ConfigMap')],
    ['edited into invalid JSON', (children: Json[]) => children.map((c) => (c['kind'] === 'ConfigMap' ? { ...c, data: { 'config.json': `x${(c['data'] as Json)['config.json']}` } } : c))],
  ] as const) {
    const copy = proxyOf({ serviceName: 'memcached-deploy' });
    copy.status = mp.status;
    copy.observed = lose(mp.observed);
    const lost = await copy.sync(hookAt(4), related(now));
    t.same(configOf(lost.body).pools['memcached-deploy']!.servers, all, `${what}: the list written afresh, in natural order`);
    t.same(
      lost.status.lastChange,
      { time: rfc3339(at(4)), pools: ['memcached-deploy'], added: all, removed: [], keyspaceMoved: 1 },
      `${what}: recorded, the old list unknown`,
    );
    const again = await copy.sync(hookAt(5), related(now));
    t.same(again.status.lastChange, lost.status.lastChange, `${what}: once the ConfigMap holds the new config, carried over`);
  }

  // A StatefulSet behind a headless Service: the list is the ordinals, written afresh the same.
  const sts = proxyOf({ serviceName: 'memcached' });
  await sts.sync(hookAt(0), statefulSet('memcached', range(3)));
  const settled = await sts.sync(hookAt(1), statefulSet('memcached', range(3)));
  sts.observed = sts.observed.filter((c) => c['kind'] !== 'ConfigMap');
  const recreated = await sts.sync(hookAt(2), statefulSet('memcached', range(3)));
  t.equal(recreated.status['configHash'], settled.status['configHash'], 'the same config');
  t.notOk('lastChange' in recreated.status, 'nothing moved: nothing recorded');
});

t.test('a field of the stored status the hook sets aside takes no other with it: a change too long for the ConfigMap, Ready', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  await mp.sync(hookAt(0), statefulSet('memcached', range(3)));
  const settled = await mp.sync(hookAt(1), statefulSet('memcached', range(3)));
  const ready = (status: Json) => (status['conditions'] as Json[]).find((c) => c['type'] === 'Ready');
  t.match(ready(settled.status), { status: 'True', lastTransitionTime: rfc3339(at(1)) });
  const grown = await mp.sync(hookAt(2), statefulSet('memcached', range(200)));
  const change = grown.status.lastChange!;
  t.equal(change.added.length, 197);
  const configMap = (grown.body['children'] as Json[]).find((c) => c['kind'] === 'ConfigMap')!;
  t.notOk('annotations' in (configMap['metadata'] as Json), 'a change too long for the ConfigMap\'s annotation: the status alone has it');
  // An offset the API server's date-time check takes and the hook's does not, in a status that is otherwise the hook's own.
  const unreadable = '2026-11-25T12:00:00+99:99';
  mp.status = { ...mp.status, configSince: unreadable };
  const after = await mp.sync(hookAt(3), statefulSet('memcached', range(200)));
  t.same(after.status.lastChange, change, 'the change is kept');
  t.equal(after.status['configSince'], rfc3339(at(3)), 'configSince starts over');
  t.match(ready(after.status), { status: 'True', lastTransitionTime: rfc3339(at(1)) }, 'Ready is read: still True since it became so');
  // The same while the endpoints change: Ready does not wait for a ConfigMap it has already been Ready with.
  mp.status = { ...mp.status, configSince: unreadable };
  const scaled = await mp.sync(hookAt(4), statefulSet('memcached', range(201)));
  t.match(ready(scaled.status), { status: 'True', lastTransitionTime: rfc3339(at(1)) }, 'Ready stays True through a change of servers');
  t.match(scaled.status.lastChange, { time: rfc3339(at(4)), added: [dns('memcached', 200)] });
});

t.test('a lastChange the hook sets aside: read again from the ConfigMap, recorded afresh while it is behind, or gone', async (t) => {
  const unreadable = (change: LastChange) => ({ ...change, time: '2026-11-25T12:02:00+99:99' });
  // The ConfigMap holds the config, and the change fits its annotation: the very change comes back.
  const held = proxyOf({ serviceName: 'memcached' });
  await held.sync(hookAt(0), statefulSet('memcached', range(3)));
  const change = (await held.sync(hookAt(1), statefulSet('memcached', range(4)))).status.lastChange!;
  held.status = { ...held.status, lastChange: unreadable(change) };
  t.same((await held.sync(hookAt(2), statefulSet('memcached', range(4)))).status.lastChange, change, 'from the annotation');

  // The ConfigMap still holds the config before the change (its update refused): the change is recorded again,
  // at this sync's time, and the status then settles.
  const behind = proxyOf({ serviceName: 'memcached' });
  await behind.sync(hookAt(0), statefulSet('memcached', range(3)));
  const before = behind.observed.find((c) => c['kind'] === 'ConfigMap')!;
  const holdBack = () => (behind.observed = behind.observed.map((c) => (c['kind'] === 'ConfigMap' ? before : c)));
  const first = await behind.sync(hookAt(1), statefulSet('memcached', range(4)));
  holdBack();
  behind.status = { ...behind.status, lastChange: unreadable(first.status.lastChange!) };
  const again = await behind.sync(hookAt(2), statefulSet('memcached', range(4)));
  t.same(again.status.lastChange, { ...first.status.lastChange, time: rfc3339(at(2)) }, 'recorded afresh');
  holdBack();
  const settled = await behind.sync(hookAt(3), statefulSet('memcached', range(4)));
  holdBack();
  const later = await behind.sync(hookAt(4), statefulSet('memcached', range(4)));
  t.same(settled.status.lastChange, again.status.lastChange, 'then kept');
  t.equal(JSON.stringify(later.status), JSON.stringify(settled.status), 'the status settles: nothing more for Metacontroller to write');

  // A change too long for the annotation lives in the status alone.
  const large = proxyOf({ serviceName: 'memcached' });
  await large.sync(hookAt(0), statefulSet('memcached', range(3)));
  await large.sync(hookAt(1), statefulSet('memcached', range(200)));
  large.status = { ...large.status, lastChange: unreadable(large.status!['lastChange'] as LastChange) };
  t.notOk('lastChange' in (await large.sync(hookAt(2), statefulSet('memcached', range(200)))).status, 'gone until the next change');
});

t.test('a sync whose parent is older than the ConfigMap (Metacontroller\'s cache behind its status write) keeps the change', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  await mp.sync(hookAt(0), statefulSet('memcached', range(3)));
  await mp.sync(hookAt(1), statefulSet('memcached', range(3)));
  const before = mp.status;
  // Sync A: a scale-up, recorded; Metacontroller applies the ConfigMap, then writes A's status.
  const a = await mp.sync(hookAt(2), statefulSet('memcached', range(4)));
  const change = a.status.lastChange!;
  t.match(change, { time: rfc3339(at(2)), added: [dns('memcached', 3)] });
  const configMap = (a.body['children'] as Json[]).find((c) => c['kind'] === 'ConfigMap')!;
  t.same(JSON.parse((configMap['metadata'] as { annotations: Record<string, string> }).annotations['memcached-operator.ianlewis.org/last-change']!), change, 'the ConfigMap carries the change its config came with');
  // Sync B: the ConfigMap's event brings it, with the parent as the cache still holds it (before A's status).
  mp.status = before;
  const b = await mp.sync(hookAt(3), statefulSet('memcached', range(4)));
  t.same(b.status.lastChange, change, 'the change, from the ConfigMap: not the older one of the stale status');
  const c = await mp.sync(hookAt(4), statefulSet('memcached', range(4)));
  t.same(c.status.lastChange, change, 'and kept');
  t.equal(JSON.stringify(c.body), JSON.stringify(b.body), 'the same answer');

  // Endpoints A, then B, then A again: the config comes back byte for byte. A sync whose parent is two status
  // writes behind (it still reports A's config, with the change before B) takes the later change, the ConfigMap's.
  const again = proxyOf({ serviceName: 'memcached' });
  await again.sync(hookAt(0), statefulSet('memcached', range(4)));
  await again.sync(hookAt(1), statefulSet('memcached', range(4)));
  const atA = again.status;
  await again.sync(hookAt(10), statefulSet('memcached', range(5)));
  const back = await again.sync(hookAt(11), statefulSet('memcached', range(4)));
  t.match(back.status.lastChange, { time: rfc3339(at(11)), removed: [dns('memcached', 4)] });
  again.status = { ...atA, lastChange: { ...change, time: rfc3339(at(2)) } };
  const behind = await again.sync(hookAt(12), statefulSet('memcached', range(4)));
  t.same(behind.status.lastChange, back.status.lastChange, 'the later of the two records, not the one that matches the config');
  const annotationOf = (body: Json) =>
    ((body['children'] as Json[]).find((c) => c['kind'] === 'ConfigMap')!['metadata'] as { annotations: Record<string, string> }).annotations['memcached-operator.ianlewis.org/last-change'];
  t.equal(annotationOf(behind.body), annotationOf(back.body), 'and the ConfigMap keeps it');
  // Metacontroller sends the status from a Go map, its keys sorted: the annotation is the same string.
  const sortedKeys = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(sortedKeys) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, sortedKeys(v)])) : value;
  again.status = sortedKeys(back.status) as Json;
  const fromGo = await again.sync(hookAt(13), statefulSet('memcached', range(4)));
  t.equal(annotationOf(fromGo.body), annotationOf(back.body), 'whatever order the status came in');
  // A record from the future (the annotation edited by hand) is none.
  again.status = atA;
  again.observed = again.observed.map((o) =>
    o['kind'] === 'ConfigMap'
      ? { ...o, metadata: { ...(o['metadata'] as Json), annotations: { 'memcached-operator.ianlewis.org/last-change': JSON.stringify({ ...change, time: '2099-01-01T00:00:00Z' }) } } }
      : o,
  );
  const future = await again.sync(hookAt(14), statefulSet('memcached', range(4)));
  t.same(future.status.lastChange, (atA as { lastChange?: LastChange }).lastChange, 'a time to come: ignored');
  // Nor is one whose time the API server would refuse in the status and Date.parse cannot read, though TypeBox's
  // date-time format takes it: copied into the status, it would have every status write refused.
  for (const time of ['2026-11-24T23:59:60Z', '2026-11-25T11:00:00Z[UTC]']) {
    again.status = atA;
    again.observed = again.observed.map((o) =>
      o['kind'] === 'ConfigMap' ? { ...o, metadata: { ...(o['metadata'] as Json), annotations: { 'memcached-operator.ianlewis.org/last-change': JSON.stringify({ ...change, time }) } } } : o,
    );
    const unreadable = await again.sync(hookAt(14), statefulSet('memcached', range(4)));
    t.same(unreadable.status.lastChange, (atA as { lastChange?: LastChange }).lastChange, `${time}: ignored`);
  }
  // But a minute ahead is another hook replica whose clock runs ahead: its record stands.
  const ahead = { ...change, time: rfc3339(at(15)) };
  again.status = atA;
  again.observed = again.observed.map((o) =>
    o['kind'] === 'ConfigMap' ? { ...o, metadata: { ...(o['metadata'] as Json), annotations: { 'memcached-operator.ianlewis.org/last-change': JSON.stringify(ahead) } } } : o,
  );
  const skewed = await again.sync(hookAt(14), statefulSet('memcached', range(4)));
  t.same(skewed.status.lastChange, ahead, 'a clock a minute ahead');

  // An annotation edited by hand into something else is no change: the status's own is kept.
  const edited = proxyOf({ serviceName: 'memcached' });
  edited.status = before;
  for (const junk of ['{', '{"time":"yesterday","pools":[],"added":[],"removed":[],"keyspaceMoved":0}', JSON.stringify({ ...change, keyspaceMoved: 2 }), '[]']) {
    edited.observed = mp.observed.map((o) =>
      o['kind'] === 'ConfigMap' ? { ...o, metadata: { ...(o['metadata'] as Json), annotations: { 'memcached-operator.ianlewis.org/last-change': junk } } } : o,
    );
    const res = await edited.sync(hookAt(5), statefulSet('memcached', range(4)));
    t.same(res.status.lastChange, (before as { lastChange?: LastChange }).lastChange, `${junk.slice(0, 20)}: ignored`);
    edited.status = before;
  }
});

t.test('endpoints A, B, then A again, the parent still reporting A: the ConfigMap holds B, and B\'s change is not taken for A\'s', async (t) => {
  const race = proxyOf({ serviceName: 'memcached' });
  await race.sync(hookAt(0), statefulSet('memcached', range(4)));
  await race.sync(hookAt(1), statefulSet('memcached', range(4)));
  const atA = race.status;
  // B (a fifth pod) is applied: the ConfigMap holds it, with its change.
  const toB = await race.sync(hookAt(10), statefulSet('memcached', range(5)));
  t.match(toB.status.lastChange, { time: rfc3339(at(10)), added: [dns('memcached', 4)] });
  // The fifth pod goes, and the parent comes as Metacontroller's cache still holds it: A's status, with A's change.
  const changeA: LastChange = { time: rfc3339(at(2)), pools: ['memcached'], added: [dns('memcached', 3)], removed: [], keyspaceMoved: 0.25 };
  race.status = { ...atA, lastChange: changeA };
  const res = await race.sync(hookAt(11), statefulSet('memcached', range(4)));
  // The ConfigMap's change came with a config this sync does not ask for: it says a server was added that A lacks.
  t.same(res.status.lastChange, changeA, 'the status\'s own change, not the ConfigMap\'s');
});

t.test('the ConfigMap carries a change of at most 4 KiB; a larger one is in the status only', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  await mp.sync(hookAt(0), statefulSet('memcached', range(2)));
  await mp.sync(hookAt(1), statefulSet('memcached', range(2)));
  const big = await mp.sync(hookAt(2), statefulSet('memcached', range(100)));
  t.equal(big.status.lastChange!.added.length, 98);
  const configMap = (big.body['children'] as Json[]).find((c) => c['kind'] === 'ConfigMap')!;
  t.notOk('annotations' in (configMap['metadata'] as Json), 'no annotation: Kubernetes caps them at 256 KiB with the last-applied copy');
  t.ok(JSON.stringify(big.status.lastChange).length > 4096);
});

t.test('a proxy that never was Ready records no lost config: its ConfigMap may not be in Metacontroller\'s cache yet', async (t) => {
  const mp = proxyOf({ serviceName: 'memcached' });
  const first = await mp.sync(hookAt(0), statefulSet('memcached', range(2)));
  t.match((first.status['conditions'] as Json[])[0], { status: 'False' });
  mp.observed = [];
  const second = await mp.sync(hookAt(1), statefulSet('memcached', range(3)));
  t.notOk('lastChange' in second.status, 'no ConfigMap seen, a new config, never Ready: nothing recorded');
});

t.test('a mounted config too costly to route (edited to stall the hook) counts as every key moved, and costs little', async (t) => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `s${i}.example:11211`);
  const hostile: [string, Json][] = [
    // Each key written to 20,000 servers: 10,000 sample keys would take the hook 20 s, with every other sync waiting.
    ['a replicated set of 20,000 servers', { pools: { p: { servers: many(20_000) } }, route: { type: 'AllSyncRoute', children: 'Pool|p' } }],
    ['a LatestRoute over 100,000 servers', { pools: { p: { servers: many(100_000) } }, route: { type: 'LatestRoute', children: 'Pool|p' } }],
    ['a 1 MB salt', { pools: { p: { servers: many(2) } }, route: { type: 'HashRoute', salt: 'x'.repeat(1 << 20), children: ['PoolRoute|p', 'PoolRoute|p'] } }],
    // 50,000 uses of a 1,000-server pool: 50 million nodes, past the heap.
    ['one pool named 50,000 times', { pools: { p: { servers: many(1000) } }, route: { type: 'AllSyncRoute', children: Array.from({ length: 50_000 }, () => 'Pool|p') } }],
  ];
  for (const [what, config] of hostile) {
    const mp = proxyOf({ serviceName: 'memcached' });
    await mp.sync(hookAt(0), statefulSet('memcached', range(3)));
    mp.observed.find((c) => c['kind'] === 'ConfigMap')!['data'] = { 'config.json': JSON.stringify(config) };
    const res = await mp.sync(hookAt(1), statefulSet('memcached', range(3)));
    t.equal(res.status.lastChange?.keyspaceMoved, 1, what);
  }
});

t.test('pools drained by hand (every weight 0) are routed with fewer keys, or counted as every key moved', async (t) => {
  // WeightedCh3 hashes a key up to 32 times, until a server's weight keeps it: a drained pool, all 32. Counted as one
  // hash a key, 64 such pools under an AllSyncRoute took 11 s to route; now 64 are measured on fewer keys, and 128
  // are past the budget.
  for (const [count, routed] of [[64, true], [128, false]] as const) {
    const mp = proxyOf({ serviceName: 'memcached' });
    await mp.sync(hookAt(0), statefulSet('memcached', range(3)));
    const mounted = mp.observed.find((c) => c['kind'] === 'ConfigMap')!;
    const { servers } = (JSON.parse((mounted['data'] as Json)['config.json'] as string) as { pools: Record<string, { servers: string[] }> }).pools['memcached']!;
    const pools = Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, { servers, weights: servers.map(() => 0) }]));
    mounted['data'] = { 'config.json': JSON.stringify({ pools, route: { type: 'AllSyncRoute', children: Object.keys(pools).map((p) => `PoolRoute|${p}`) } }) };
    const moved = (await mp.sync(hookAt(1), statefulSet('memcached', range(3)))).status.lastChange?.keyspaceMoved;
    // The drained pools send each key to the last server they drew, one of the same three: not every key moves.
    if (routed) t.ok(moved !== undefined && moved < 1, `${count} pools: routed (keyspaceMoved ${moved})`);
    else t.equal(moved, 1, `${count} pools: too costly, every key counted as moved`);
  }
});

t.test("a config of the hook's own that uses a large pool many times is still routed", async (t) => {
  // 64 shards, each a pair of a 4,000-server pool and a small one: the big pool is used 5 times in each
  // (writes and each read operation), 1.28 million uses of its servers in all; keys stay where they were.
  const spec = { rules: { children: range(64).map((i) => ({ type: 'replicated', children: [{ service: { name: 'big' } }, { service: { name: `small-${i}` } }] })) } };
  const smalls = range(64).flatMap((i) => [service({ name: `small-${i}` }), ...endpointSlices(`small-${i}`, deploymentPods(`small-${i}`, 3, 100 + i))]);
  const big = (n: number) => [service({ name: 'big' }), ...endpointSlices('big', deploymentPods('big', n, 40))];
  const mp = proxyOf(spec);
  await mp.sync(hookAt(0), [...big(4000), ...smalls]);
  const res = await mp.sync(hookAt(1), [...big(4001), ...smalls]);
  t.ok(res.status.lastChange && res.status.lastChange.keyspaceMoved < 0.01, `keyspaceMoved ${res.status.lastChange?.keyspaceMoved}: measured, not counted as all moved`);
});

t.test('a route-only change (the hash edited) is recorded too', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  const svc = service({ name: 'mc' });
  const pods = deploymentPods('mc', 6);
  const related = [svc, ...endpointSlices('mc', pods)];
  const ch3 = proxy({ name: 'p', spec: { rules: { service: { name: 'mc' } } } });
  const first = await post(app, '/sync', syncRequest({ parent: ch3, related }));
  const children = observedChildren(ch3, first.body['children'] as Json[]);
  const crc = proxy({ name: 'p', spec: { rules: { hash: 'Crc32', service: { name: 'mc' } } }, generation: 2, status: first.body['status'] as Json });
  const res = await post(app, '/sync', syncRequest({ parent: crc, related, children }));
  const change = (res.body['status'] as any).lastChange;
  t.match(change, { time: '2026-11-25T12:00:00Z' });
  t.same([change.pools, change.added, change.removed], [[], [], []], 'the route changed: no pool, no server added or removed');
  t.ok(change.keyspaceMoved > 0.5, `Ch3 -> Crc32 moves most keys (${change.keyspaceMoved})`);
});

t.test('two changes in one second, the parent a status behind the ConfigMap: the change the mounted config came with', async (t) => {
  const app2 = testServer();
  t.teardown(() => app2.close());
  const headless = service({ name: 'memcached', headless: true });
  const members = (n: number) => [headless, ...endpointSlices('memcached', statefulSetPods('memcached', Array.from({ length: n }, (_, i) => i)))];
  const mp = new SyncedProxy<{ lastChange?: Json }>({ serviceName: 'memcached' }, 'example-cluster', 'v2', t);
  await mp.sync(app2, members(3));
  await mp.sync(app2, members(3));
  // Two scale-ups within the same second (pods turn ready moments apart): two changes stamped alike.
  const toFour = await mp.sync(app2, members(4));
  const statusAtFour = mp.status;
  const toFive = await mp.sync(app2, members(5));
  const dns = (n: number) => `memcached-${n}.memcached.default.svc.cluster.local:11211`;
  t.match(toFour.status.lastChange, { added: [dns(3)] });
  t.match(toFive.status.lastChange, { added: [dns(4)] });
  t.equal((toFive.status.lastChange as Json)['time'], (toFour.status.lastChange as Json)['time'], 'the same second');
  // Metacontroller's cache still holds the parent with the status of the first change; the ConfigMap holds the second's config.
  mp.status = statusAtFour;
  const behind = await mp.sync(app2, members(5));
  t.same(behind.status.lastChange, toFive.status.lastChange, "the ConfigMap's record, which its config came with, not the stale status's");
});

t.test('the ConfigMap carries a lastChange of up to 4,096 characters of JSON, and not one longer', async (t) => {
  const change = (server: string) => ({ time: '2026-11-25T12:00:00Z', pools: ['memcached-11211'], added: [server], removed: [], keyspaceMoved: 0.25 });
  const around = JSON.stringify(change('')).length;
  t.equal(lastChangeAnnotation(change('x'.repeat(4096 - around)))?.length, 4096, '4,096 characters: carried');
  t.equal(lastChangeAnnotation(change('x'.repeat(4097 - around))), undefined, 'one more: the status alone has it');
});

import t from 'tap';
import {
  deploymentPods,
  endpointSlices,
  endpoints,
  observedChildren,
  proxy,
  service,
  statefulSet,
  statefulSetPods,
  syncRequest,
  type Json,
  type Pod,
} from './fixtures/cluster.js';
import { FIXED_NOW, childOf, configOf, post, testServer } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

const seedProxy = (status?: Json) => proxy({ name: 'example-cluster', spec: { serviceName: 'memcached-pool1' }, ...(status ? { status } : {}) });
const pool1 = service({ name: 'memcached-pool1', headless: true });
const dns = (n: number) => `memcached-pool1-${n}.memcached-pool1.default.svc.cluster.local:11211`;
const statusOf = (body: Json) => body['status'] as Json & { target: string; replicas: number; readyReplicas: number };

t.test('the seed example: a StatefulSet behind a headless Service', async (t) => {
  const pods = statefulSetPods('memcached-pool1', [0, 1, 2]);
  const res = await post(app, '/sync', syncRequest({ parent: seedProxy(), related: [pool1, ...endpointSlices('memcached-pool1', pods)] }));
  t.equal(res.statusCode, 200);
  t.same(Object.keys(res.body).sort(), ['children', 'resyncAfterSeconds', 'status'], 'only the fields strict v2 decoding accepts');
  const cm = childOf(res.body, 'ConfigMap')!;
  t.equal((cm['metadata'] as Json)['name'], 'example-cluster-mcrouter');
  const config = configOf(res.body);
  t.same(config, { pools: { 'memcached-pool1': { servers: [dns(0), dns(1), dns(2)] } }, route: 'PoolRoute|memcached-pool1' });

  const deployment = childOf(res.body, 'Deployment')!;
  t.equal((deployment['metadata'] as Json)['name'], 'example-cluster-mcrouter');
  const pod = (deployment['spec'] as any).template.spec;
  const mcrouter = pod.containers[0];
  // A failed delete is the client's error, not a NOT_FOUND spooled for a replayer nobody runs.
  t.same(mcrouter.args, ['-p', '11211', '--config-file=/etc/mcrouter/config.json', '--asynclog-disable']);
  const configMount = mcrouter.volumeMounts.find((m: Json) => m['name'] === 'config');
  t.same(configMount, { name: 'config', mountPath: '/etc/mcrouter', readOnly: true }, 'a directory mount, never subPath');
  t.same(pod.volumes.find((v: Json) => v['name'] === 'config').configMap, { name: 'example-cluster-mcrouter' });
  for (const dir of ['/var/mcrouter', '/var/spool/mcrouter']) {
    const mount = mcrouter.volumeMounts.find((m: Json) => m['mountPath'] === dir);
    t.ok(mount, `${dir} is mounted`);
    t.ok(pod.volumes.find((v: Json) => v['name'] === mount.name).emptyDir, `${dir} is an emptyDir`);
  }

  const svc = childOf(res.body, 'Service')!;
  t.equal((svc['metadata'] as Json)['name'], 'example-cluster');
  t.same((svc['spec'] as any).ports, [{ name: 'memcache', port: 11211, targetPort: 'memcache', protocol: 'TCP' }]);
  // This proxy's pods alone: another proxy in the namespace runs mcrouter pods too.
  const selector = { 'app.kubernetes.io/name': 'mcrouter', 'app.kubernetes.io/instance': 'example-cluster' };
  t.strictSame((deployment['spec'] as any).selector, { matchLabels: selector }, 'the Deployment selects its pods by the proxy\'s name');
  t.strictSame((svc['spec'] as any).selector, selector, 'the Service selects the same pods');
  // Exactly: t.match took an instance label 'example-cluster-mcrouter', which contains 'example-cluster' and is not selected.
  t.strictSame((deployment['spec'] as any).template.metadata.labels, { ...selector, 'app.kubernetes.io/component': 'proxy', 'app.kubernetes.io/managed-by': 'memcached-operator' }, 'which carry those labels');
  t.notOk(childOf(res.body, 'PodDisruptionBudget'), 'one replica: no PDB');
  for (const child of res.body['children'] as Json[]) {
    const meta = child['metadata'] as Json;
    t.notOk('namespace' in meta || 'ownerReferences' in meta || 'status' in child, `${String(child['kind'])} leaves namespace, owners and status to Metacontroller`);
    t.same(meta['labels'], {
      'app.kubernetes.io/name': 'mcrouter',
      'app.kubernetes.io/instance': 'example-cluster',
      'app.kubernetes.io/component': 'proxy',
      'app.kubernetes.io/managed-by': 'memcached-operator',
    });
  }
  const status = res.body['status'] as any;
  t.equal(status.servers, 3);
  t.equal(status.readyServers, 3);
  t.same(status.pools, [{ name: 'memcached-pool1', service: 'memcached-pool1', port: 11211, servers: 3, readyServers: 3, holes: 0 }]);
  t.match(status.conditions, [{ type: 'Ready', status: 'False', reason: 'Progressing' }], 'not Ready before the Deployment is observed');
});

t.test('StatefulSet scaling touches only the tail; a missing ordinal keeps its slot', async (t) => {
  // Each sync observes the children of the one before, as Metacontroller sends them: the current list is there to keep.
  const parent = seedProxy();
  let children: Json[] = [];
  const run = async (ordinals: number[], over: Partial<Pod> = {}) => {
    const res = await post(app, '/sync', syncRequest({ parent, related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals, 1, over))], children }));
    children = observedChildren(parent, res.body['children'] as Json[]);
    return configOf(res.body).pools['memcached-pool1']!;
  };
  t.same((await run([0, 1, 2, 3])).servers, [0, 1, 2, 3].map(dns), 'the first list');
  t.same((await run([0, 1, 2, 3, 4, 5])).servers, [0, 1, 2, 3, 4, 5].map(dns), 'scale up appends');
  t.same((await run([0, 1, 2, 3])).servers, [0, 1, 2, 3].map(dns), 'scale down removes the tail');
  const gap = await run([0, 1, 3]);
  t.same(gap.servers, [0, 1, 2, 3].map(dns), 'pod 2 being recreated keeps its slot by DNS name');
  t.notOk(gap.weights, 'a kept StatefulSet slot is live, not a hole');
  t.same((await run([0, 1, 2, 3], { ready: false })).servers, [0, 1, 2, 3].map(dns), 'not-ready pods keep their place');
  // A first sync with a pod away: the ordinals around it name its slot.
  children = [];
  t.same((await run([0, 1, 3, 4])).servers, [0, 1, 2, 3, 4].map(dns), 'a first list with pod 2 away keeps its slot too');
});

t.test('with its StatefulSet, the highest pod keeps its slot while it restarts; only a scale-down shortens the list', async (t) => {
  const parent = seedProxy();
  let children: Json[] | undefined;
  let status: Json | undefined;
  const sync = async (ordinals: number[], replicas: number | undefined, over: Partial<Pod> = {}) => {
    const related = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals, 1, over)), ...(replicas === undefined ? [] : [statefulSet('memcached-pool1', replicas)])];
    const res = await post(app, '/sync', syncRequest({ parent: status ? seedProxy(status) : parent, related, ...(children ? { children } : {}) }));
    children = observedChildren(parent, res.body['children'] as Json[]);
    status = res.body['status'] as Json;
    return { servers: configOf(res.body).pools['memcached-pool1']!.servers, status: status as any };
  };
  t.same((await sync([0, 1, 2, 3], 4)).servers, [0, 1, 2, 3].map(dns));
  const away = await sync([0, 1, 2], 4);
  t.same(away.servers, [0, 1, 2, 3].map(dns), 'pod 3 restarting (a rolling restart takes the highest first) keeps its slot');
  t.match(away.status, { servers: 4, readyServers: 3 });
  t.notOk(away.status.lastChange, 'no key moved');
  t.same((await sync([0, 1, 2, 3], 4, { ready: false })).servers, [0, 1, 2, 3].map(dns), 'back, not ready yet: the same list');
  const down = await sync([0, 1, 2], 3);
  t.same(down.servers, [0, 1, 2].map(dns), 'scaled down: the StatefulSet no longer wants pod 3');
  t.same([down.status.lastChange.added, down.status.lastChange.removed], [[], [dns(3)]]);
  const pending = await sync([0, 1, 2], 5);
  t.same(pending.servers, [0, 1, 2].map(dns), 'scaled up: no slot for pods that have no endpoint yet (a Pending pod would hold its keys failing)');
  t.same((await sync([0, 1, 2, 3], 5)).servers, [0, 1, 2, 3].map(dns), 'one slot per pod as it appears');
  // Without the StatefulSet (a Metacontroller that has not sent it yet), the list ends at the highest pod there.
  t.same((await sync([0, 1, 2], undefined)).servers, [0, 1, 2].map(dns));
  // Its first ordinal comes from spec.ordinals.start, even on a first sync with the first pod away.
  children = undefined;
  status = undefined;
  const related = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [1, 2])), statefulSet('memcached-pool1', 3, { start: 0 })];
  const fresh = await post(app, '/sync', syncRequest({ parent, related }));
  t.same(configOf(fresh.body).pools['memcached-pool1']!.servers, [0, 1, 2].map(dns), 'pod 0 away at the first sync keeps slot 0');
  // A StatefulSet numbering from 5 has no pods 0-4: the list starts at its first ordinal, and only that one is kept while away.
  const fromFive = (ordinals: number[]) => [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals)), statefulSet('memcached-pool1', 3, { start: 5 })];
  const five = await post(app, '/sync', syncRequest({ parent, related: fromFive([5, 6, 7]) }));
  t.same(configOf(five.body).pools['memcached-pool1']!.servers, [5, 6, 7].map(dns), 'ordinals.start 5: pods 5-7, no names of pods that never exist');
  t.match(five.body['status'], { servers: 3, readyServers: 3 });
  const fiveAway = await post(app, '/sync', syncRequest({ parent, related: fromFive([6, 7]) }));
  t.same(configOf(fiveAway.body).pools['memcached-pool1']!.servers, [5, 6, 7].map(dns), 'its first pod away at the first sync keeps the first slot');
  // A rolling restart of a big StatefulSet with many of its top pods away at once keeps every slot.
  const big = async (ordinals: number[], kids?: Json[]) => {
    const res = await post(app, '/sync', syncRequest({ parent, related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals)), statefulSet('memcached-pool1', 40)], ...(kids ? { children: kids } : {}) }));
    return res;
  };
  const all = Array.from({ length: 40 }, (_, i) => i);
  const forty = await big(all);
  const fewer = await big(all.slice(0, 10), observedChildren(parent, forty.body['children'] as Json[]));
  t.same(configOf(fewer.body).pools['memcached-pool1']!.servers, all.map(dns), '30 of 40 away: every slot kept');
  // A StatefulSet the API server would have defaulted (replicas: null) is not refused (what it wants: the test below).
  const unset = statefulSet('memcached-pool1', 3);
  ((unset['spec'] as Json)['replicas'] as unknown) = null;
  const lenient = await post(app, '/sync', syncRequest({ parent, related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1])), unset] }));
  t.equal(lenient.statusCode, 200);
  // Another namespace's StatefulSet of that name says nothing about this one.
  const elsewhere = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [1, 2])), statefulSet('memcached-pool1', 3, { namespace: 'other' })];
  t.same(configOf((await post(app, '/sync', syncRequest({ parent, related: elsewhere }))).body).pools['memcached-pool1']!.servers, [1, 2].map(dns));
});

t.test('a pod away while its StatefulSet changes port: the same name whatever order the slices come in, and the current spelling kept', async (t) => {
  // Half way through a rollout that moves the container port from 11211 to 11311 (targetPort by name): pod 0
  // on the old port, pod 2 on the new one, pod 1 restarting. Each slice lists the port of its own endpoints.
  const onPort = (pods: Pod[], port: number, tag: string) =>
    endpointSlices('memcached-pool1', pods, { port }).map((slice) => {
      (slice['metadata'] as Json)['name'] = `memcached-pool1-${tag}`;
      return slice;
    });
  const [p0, , p2, p3] = statefulSetPods('memcached-pool1', [0, 1, 2, 3]);
  const old = onPort([p0!], 11211, 'a');
  const moved = onPort([p2!, p3!], 11311, 'b');
  const host = (n: number) => `memcached-pool1-${n}.memcached-pool1.default.svc.cluster.local`;
  const serversOf = async (related: Json[], children?: Json[]) =>
    configOf((await post(app, '/sync', syncRequest({ parent: seedProxy(), related: [pool1, ...related, statefulSet('memcached-pool1', 4)], ...(children ? { children } : {}) }))).body)
      .pools['memcached-pool1']!.servers;
  const first = await serversOf([...old, ...moved]);
  t.same(await serversOf([...moved, ...old]), first, 'the same bytes in either order');
  t.equal(first[1], `${host(1)}:11311`, 'pod 1 named on the port most endpoints have');

  // With a current list that spells pod 1 on the old port, that spelling stays: its keys do not move.
  const before = await post(app, '/sync', syncRequest({ parent: seedProxy(), related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1, 2, 3])), statefulSet('memcached-pool1', 4)] }));
  const children = observedChildren(seedProxy(), before.body['children'] as Json[]);
  for (const related of [[...old, ...moved], [...moved, ...old]]) {
    const servers = await serversOf(related, children);
    t.same(servers, [`${host(0)}:11211`, `${host(1)}:11211`, `${host(2)}:11311`, `${host(3)}:11311`]);
  }
});

t.test('a StatefulSet whose ordinals start above 0 (spec.ordinals.start) lists no name below its first pod', async (t) => {
  const parent = seedProxy();
  const sync = async (ordinals: number[], children?: Json[]) => {
    const related = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals))];
    const res = await post(app, '/sync', syncRequest({ parent, related, ...(children ? { children } : {}) }));
    return { body: res.body, pool: configOf(res.body).pools['memcached-pool1']!, status: res.body['status'] as any };
  };
  const first = await sync([5, 6, 7]);
  t.same(first.pool.servers, [5, 6, 7].map(dns), 'the list starts at the first pod');
  t.equal(first.status.servers, 3);
  t.equal(first.status.readyServers, 3, 'no server that cannot resolve counts');
  const children = observedChildren(parent, first.body['children'] as Json[]);
  t.same((await sync([6, 7], children)).pool.servers, [5, 6, 7].map(dns), 'the first pod being recreated keeps its slot');
  t.same((await sync([5, 6, 7, 8], children)).pool.servers, [5, 6, 7, 8].map(dns), 'scale up appends');
  t.same((await sync([5, 6], children)).pool.servers, [5, 6].map(dns), 'scale down removes the tail');
  // From 0, as most StatefulSets: the first pod missing keeps its slot with the current list, as before.
  const zero = await sync([0, 1, 2]);
  t.same((await sync([1, 2], observedChildren(parent, zero.body['children'] as Json[]))).pool.servers, [0, 1, 2].map(dns));
});

t.test('a Deployment-backed pool keeps every survivor at its index', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const initial = deploymentPods('memcached-deploy', 5);
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('memcached-deploy', initial)] }));
  const before = configOf(first.body).pools['memcached-deploy']!.servers;
  t.same(before, initial.map((p) => `${p.ip}:11211`).sort(new Intl.Collator('en', { numeric: true }).compare), 'natural order with no current config');
  const children = observedChildren(parent, first.body['children'] as Json[]);

  // Pod at index 1 replaced by a new pod with a new IP.
  const replacedIp = before[1]!.replace(':11211', '');
  const successor: Pod = { name: 'memcached-deploy-7c9d8b5f4-zzzzz', ip: '10.244.9.9' };
  const replaced = [...initial.filter((p) => p.ip !== replacedIp), successor];
  const second = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('memcached-deploy', replaced)], children }));
  const afterReplace = configOf(second.body).pools['memcached-deploy']!;
  t.same(afterReplace.servers, before.map((s, i) => (i === 1 ? '10.244.9.9:11211' : s)), 'the successor takes the vacated index');
  t.notOk(afterReplace.weights);

  // Middle pod deleted: a weight-0 hole, every other server at its index.
  const middleIp = before[2]!.replace(':11211', '');
  const fewer = initial.filter((p) => p.ip !== middleIp);
  const third = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('memcached-deploy', fewer)], children }));
  const afterDelete = configOf(third.body).pools['memcached-deploy']!;
  t.same(afterDelete.servers, before, 'the departed address stays in place');
  t.same(afterDelete.weights, [1, 1, 0, 1, 1], 'as a weight-0 hole');
  const status = third.body['status'] as any;
  t.equal(status.servers, 4, 'status counts live entries, not holes');
  t.equal(status.pools[0].holes, 1);
  const again = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('memcached-deploy', fewer)], children }));
  t.equal(again.text, third.text, 'the same request gives the same bytes');

  // The tail pod leaving drops the trailing slot rather than leaving a hole.
  const tailIp = before[4]!.replace(':11211', '');
  const noTail = initial.filter((p) => p.ip !== tailIp);
  const fourth = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('memcached-deploy', noTail)], children }));
  t.same(configOf(fourth.body).pools['memcached-deploy'], { servers: before.slice(0, 4) });
});

t.test('a server listed twice in a config edited by hand is listed once, and a hole is never a ready server', async (t) => {
  const svc = service({ name: 'mc' });
  const pods = deploymentPods('mc', 4);
  const [a, b, c, d] = pods.map((p) => `${p.ip}:11211`) as [string, string, string, string];
  const related = [svc, ...endpointSlices('mc', pods)];
  const withConfig = (spec: Json, pool: Json) => {
    const parent = proxy({ name: 'cache', spec });
    const children = observedChildren(parent, [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cache-mcrouter' }, data: { 'config.json': JSON.stringify({ pools: { mc: pool }, route: 'PoolRoute|mc' }) } },
    ]);
    return post(app, '/sync', syncRequest({ parent, related, children }));
  };
  const ch3 = await withConfig({ serviceName: 'mc' }, { servers: [a, b, c, d, a] });
  t.same(configOf(ch3.body).pools['mc'], { servers: [a, b, c, d] }, 'Ch3: the second a was a double share of the keys; no other server moves');
  t.match(ch3.body['status'], { servers: 4, readyServers: 4 });
  const inside = await withConfig({ serviceName: 'mc' }, { servers: [a, b, a, c, d] });
  t.same(configOf(inside.body).pools['mc'], { servers: [a, b, a, c, d], weights: [1, 1, 0, 1, 1] }, 'a second a inside the list: a hole, so c and d keep their slots');
  t.match(inside.body['status'], { servers: 4, readyServers: 4, pools: [{ holes: 1 }] });
  // Two holes show a's address; a leaves, and comes back to its own slot, the first.
  const parent = proxy({ name: 'cache', spec: { serviceName: 'mc' } });
  const withoutA = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('mc', pods.slice(1))], children: observedChildren(parent, inside.body['children'] as Json[]) }));
  t.same(configOf(withoutA.body).pools['mc'], { servers: [a, b, a, c, d], weights: [0, 1, 0, 1, 1] });
  const back = await post(app, '/sync', syncRequest({ parent, related, children: observedChildren(parent, withoutA.body['children'] as Json[]) }));
  t.same(configOf(back.body).pools['mc'], { servers: [a, b, a, c, d], weights: [1, 1, 0, 1, 1] }, 'its first slot, where its keys were');
  const crc = await withConfig({ rules: { hash: 'Crc32', service: { name: 'mc' } } }, { servers: [a, b, c, b] });
  t.same(configOf(crc.body).pools['mc'], { servers: [a, b, c, d] }, 'Crc32: the first place kept, the newcomer after');
  // A hole that shows the address of a live server (the config listed it twice): weight 0, not ready.
  const twin = await withConfig({ serviceName: 'mc' }, { servers: [a, d, b, c, d], weights: [1, 0, 1, 1, 1] });
  t.same(configOf(twin.body).pools['mc'], { servers: [a, d, b, c, d], weights: [1, 0, 1, 1, 1] });
  t.match(twin.body['status'], { servers: 4, readyServers: 4 });
});

t.test('endpoint order does not change a byte', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const pods = deploymentPods('memcached-deploy', 40).map((p, i) => ({ ...p, ready: i % 7 !== 0 }));
  const shuffled = [...pods].sort((a, b) => (a.name < b.name ? 1 : -1));
  const a = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', pods, { perSlice: 15 })] }));
  const b = await post(app, '/sync', syncRequest({ parent, related: [...endpointSlices('memcached-deploy', shuffled, { perSlice: 11 }).reverse(), svc] }));
  t.equal(a.statusCode, 200);
  t.equal(a.text, b.text);
  t.equal((a.body['status'] as any).readyServers, 34);
});

t.test('endpoints: slices preferred, dual-stack deduplicated, IPv6 in brackets, terminating kept', async (t) => {
  const pods: Pod[] = [
    { name: 'm-a', ip: '10.0.0.1', ipv6: 'fd00::1' },
    { name: 'm-b', ip: '10.0.0.2', ipv6: 'fd00::2', terminating: true },
    { name: 'm-c', ip: '10.0.0.3', ipv6: 'fd00::3', ready: false },
  ];
  const v6first = service({ name: 'mc', ipFamilies: ['IPv6', 'IPv4'] });
  const related = [v6first, ...endpointSlices('mc', pods, { family: 'IPv4' }), ...endpointSlices('mc', pods, { family: 'IPv6' }), endpoints('mc', [pods[0]!])];
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'dual', spec: { serviceName: 'mc' } }), related }));
  t.same(configOf(res.body).pools['mc']!.servers, ['[fd00::1]:11211', '[fd00::2]:11211', '[fd00::3]:11211'], 'one member per pod, the primary family');
  t.equal((res.body['status'] as any).readyServers, 1, 'terminating and not-ready members count as servers, not as ready');

  // The two families' slices disagree for a moment (each is updated on its own): the primary one says.
  const v4 = endpointSlices('mc', pods.map((p) => ({ ...p, ready: true, terminating: false })), { family: 'IPv4' });
  const v6 = endpointSlices('mc', pods, { family: 'IPv6' });
  const answers = await Promise.all(
    [[...v4, ...v6], [...v6, ...v4]].map((slices) =>
      post(app, '/sync', syncRequest({ parent: proxy({ name: 'dual', spec: { serviceName: 'mc' } }), related: [v6first, ...slices] })),
    ),
  );
  t.equal(answers[0]!.text, answers[1]!.text, 'either order of the slices, the same bytes');
  t.equal((answers[0]!.body['status'] as any).readyServers, 1, "the primary family's readiness");
});

t.test('duplicates merge: a pod in two slices of one family, two pods at one address', async (t) => {
  const svc = service({ name: 'mc' });
  const parent = proxy({ name: 'dups', spec: { serviceName: 'mc' } });
  // Slices of one Service need distinct names: a slice being rewritten and the one replacing it.
  const renamed = (slices: Json[], suffix: string) =>
    slices.map((s) => ({ ...s, metadata: { ...(s['metadata'] as Json), name: `${(s['metadata'] as { name: string }).name}-${suffix}` } }));
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('mc', [{ name: 'mc-z', ip: '10.0.0.9' }])] }));
  t.same(configOf(first.body).pools['mc']!.servers, ['10.0.0.9:11211']);

  const stale: Pod[] = [{ name: 'mc-a', ip: '10.0.0.1', ready: false, terminating: true }, { name: 'mc-b', ip: '10.0.0.2', terminating: true }];
  const fresh: Pod[] = [{ name: 'mc-a', ip: '10.0.0.1' }, { name: 'mc-b', ip: '10.0.0.2', ready: false, terminating: true }];
  // Another pod listed at mc-a's address, terminating: one server to mcrouter, merged into mc-a.
  const twin: Pod[] = [{ name: 'mc-c', ip: '10.0.0.1', ready: false, terminating: true }];
  const related = [
    svc,
    ...endpointSlices('mc', [{ name: 'mc-z', ip: '10.0.0.9' }, ...stale]),
    ...renamed(endpointSlices('mc', fresh), 'new'),
    ...renamed(endpointSlices('mc', twin), 'twin'),
  ];
  const settled = proxy({ name: 'dups', spec: { serviceName: 'mc' }, status: first.body['status'] as Json });
  const second = await post(app, '/sync', syncRequest({ parent: settled, related, children: observedChildren(settled, first.body['children'] as Json[]) }));
  // mc-a is terminating in one slice only: it stays and takes a slot; mc-b is terminating in both, so as a
  // newcomer it gets none. mc-a is ready in one slice, so it is ready.
  t.same(configOf(second.body).pools['mc']!.servers, ['10.0.0.9:11211', '10.0.0.1:11211']);
  t.equal((second.body['status'] as { readyServers: number }).readyServers, 2);
});

t.test('one pod at two addresses (recreated under a new IP, a slice not rewritten yet): the live one, in either order', async (t) => {
  const svc = service({ name: 'mc' });
  const parent = proxy({ name: 'moved', spec: { serviceName: 'mc' } });
  const renamed = (slices: Json[], suffix: string) =>
    slices.map((s) => ({ ...s, metadata: { ...(s['metadata'] as Json), name: `${(s['metadata'] as { name: string }).name}-${suffix}` } }));
  const old = endpointSlices('mc', [{ name: 'mc-0', ip: '10.0.0.1' }, { name: 'mc-a', ip: '10.0.0.5', ready: false, terminating: true }]);
  const fresh = renamed(endpointSlices('mc', [{ name: 'mc-a', ip: '10.0.0.7' }]), 'new');
  const answers = [];
  for (const related of [[svc, ...old, ...fresh], [svc, ...fresh, ...old]]) {
    const res = await post(app, '/sync', syncRequest({ parent, related }));
    t.same(configOf(res.body).pools['mc']!.servers, ['10.0.0.1:11211', '10.0.0.7:11211'], 'the new address, never the terminating one');
    t.equal((res.body['status'] as { readyServers: number }).readyServers, 2);
    answers.push(res.text);
  }
  t.equal(answers[0], answers[1], 'whichever slice comes first');
  // Equals (both staying, neither ready): the address that sorts first as a string, in either order.
  const a = endpointSlices('mc', [{ name: 'mc-b', ip: '10.0.0.30', ready: false }]);
  const b = renamed(endpointSlices('mc', [{ name: 'mc-b', ip: '10.0.0.4', ready: false }]), 'b');
  for (const related of [[svc, ...a, ...b], [svc, ...b, ...a]]) {
    const res = await post(app, '/sync', syncRequest({ parent, related }));
    t.same(configOf(res.body).pools['mc']!.servers, ['10.0.0.30:11211']);
  }
});

t.test('one pod listed at two addresses, one of them twice with conditions that differ: the same answer in every order of the slices', async (t) => {
  const svc = service({ name: 'mc' });
  (svc['spec'] as Json)['publishNotReadyAddresses'] = true;
  const parent = proxy({ name: 'moved', spec: { serviceName: 'mc' } });
  // Each listing in a slice of its own, with the conditions as given (behind publishNotReadyAddresses a terminating pod may still be ready).
  const listing = (suffix: string, ip: string, conditions: Json) =>
    endpointSlices('mc', [{ name: 'mc-a', ip }]).map((s) => ({
      ...s,
      metadata: { ...(s['metadata'] as Json), name: `mc-${suffix}` },
      endpoints: (s['endpoints'] as Json[]).map((ep) => ({ ...ep, conditions })),
    }));
  const fresh = listing('fresh', '10.0.0.2', { ready: true, serving: true, terminating: false });
  const going = listing('going', '10.0.0.1', { ready: true, serving: true, terminating: true });
  const stale = listing('stale', '10.0.0.1', { ready: true, serving: false, terminating: false });
  // A listing ready and serving but terminating loses to one that stays, though its address sorts first.
  for (const related of [[svc, ...going, ...fresh], [svc, ...fresh, ...going]]) {
    t.same(configOf((await post(app, '/sync', syncRequest({ parent, related }))).body).pools['mc']!.servers, ['10.0.0.2:11211'], 'the address that stays');
  }
  const orders = [[fresh, going, stale], [fresh, stale, going], [going, fresh, stale], [going, stale, fresh], [stale, fresh, going], [stale, going, fresh]];
  const answers = new Set<string>();
  for (const order of orders) answers.add((await post(app, '/sync', syncRequest({ parent, related: [svc, ...order.flat()] }))).text);
  t.equal(answers.size, 1, 'one answer for the six orders');
});

t.test('behind publishNotReadyAddresses every endpoint is ready: a pod\'s readiness is its serving condition', async (t) => {
  const svc = service({ name: 'mc', headless: true });
  (svc['spec'] as Json)['publishNotReadyAddresses'] = true;
  const parent = proxy({ name: 'pnra', spec: { serviceName: 'mc' } });
  // As the endpointslice controller writes them: ready = publishNotReadyAddresses || (serving && !terminating).
  const published = (pods: Pod[]) =>
    endpointSlices('mc', pods).map((slice) => ({
      ...slice,
      endpoints: (slice['endpoints'] as Json[]).map((ep) => ({ ...ep, conditions: { ...(ep['conditions'] as Json), ready: true } })),
    }));
  const none = await post(app, '/sync', syncRequest({ parent, related: [svc, ...published(statefulSetPods('mc', [0, 1, 2], 1, { ready: false }))] }));
  t.match(none.body['status'], { servers: 3, readyServers: 0 });
  t.match((none.body['status'] as any).conditions[0], { status: 'False', reason: 'NoReadyServers' }, 'no memcached pod serves: not Ready');
  const pods = statefulSetPods('mc', [0, 1, 2]);
  pods[1] = { ...pods[1]!, terminating: true, ready: false };
  const some = await post(app, '/sync', syncRequest({ parent, related: [svc, ...published(pods)] }));
  t.match(some.body['status'], { servers: 3, readyServers: 2 }, 'a terminating pod that no longer serves is not ready');
});

t.test('only a hostname that is its pod\'s own name (a StatefulSet sets it so) names a server; others are named by IP', async (t) => {
  const svc = service({ name: 'mc', headless: true, ipFamilies: ['IPv4', 'IPv6'] });
  const parent = proxy({ name: 'named', spec: { serviceName: 'mc' } });
  const servers = async (related: Json[], withService = svc) =>
    configOf((await post(app, '/sync', syncRequest({ parent, related: [withService, ...related] }))).body).pools['mc']!.servers;
  // A Deployment whose pod template sets hostname and subdomain: one DNS name for every pod, resolving to any of them.
  const shared: Pod[] = [0, 1, 2].map((i) => ({ name: `mc-7c9d8-${i}`, ip: `10.1.0.${i + 1}`, hostname: 'memcached' }));
  t.same(await servers(endpointSlices('mc', shared)), ['10.1.0.1:11211', '10.1.0.2:11211', '10.1.0.3:11211']);
  // With one replica too, so the name does not flip between DNS and IPs while a rollout doubles the pods.
  t.same(await servers(endpointSlices('mc', shared.slice(0, 1))), ['10.1.0.1:11211']);
  // A StatefulSet pod's hostname is its name.
  t.same(await servers(endpointSlices('mc', [...shared, { name: 'mc-0', ip: '10.1.0.9', hostname: 'mc-0' }])), [
    '10.1.0.1:11211',
    '10.1.0.2:11211',
    '10.1.0.3:11211',
    'mc-0.mc.default.svc.cluster.local:11211',
  ]);
  // Endpoints written by hand for a selector-less Service, without pods, name themselves (the slices Kubernetes
  // mirrors from them): one server per host, whichever family lists it.
  const external: Pod[] = [
    { name: 'a', ip: '10.0.0.1', ipv6: 'fd00::1', hostname: 'a', external: true },
    { name: 'b', ip: '10.0.0.2', ipv6: 'fd00::2', hostname: 'b', external: true },
  ];
  const selectorless = service({ name: 'mc', headless: true, ipFamilies: ['IPv4', 'IPv6'], selector: null });
  const mirrored = (family: 'IPv4' | 'IPv6') => endpointSlices('mc', external, { family, mirrored: true });
  t.same(await servers([...mirrored('IPv4'), ...mirrored('IPv6')], selectorless), [
    'a.mc.default.svc.cluster.local:11211',
    'b.mc.default.svc.cluster.local:11211',
  ]);
});

t.test('an FQDN EndpointSlice lists servers by DNS names up to 253 characters and a trailing dot', async (t) => {
  const host = 'memcached-0001.prod-cache-cluster.abcdef.use1.cache.amazonaws.example.com';
  // The longest the API server stores: IsFullyQualifiedDomainName drops one trailing dot, then takes a 253-character subdomain.
  const longest = `${Array.from({ length: 4 }, (_, i) => String(i).repeat(63)).join('.').slice(0, 253)}.`;
  t.equal(longest.length, 254);
  const [slice] = endpointSlices('mc', [
    { name: 'ext', ip: '192.0.2.1', external: true },
    { name: 'far', ip: '192.0.2.2', external: true },
  ]) as [Json];
  slice['addressType'] = 'FQDN';
  // Written by hand: no controller manages FQDN slices, nor owns this one.
  const meta = slice['metadata'] as Json;
  (meta['labels'] as Json)['endpointslice.kubernetes.io/managed-by'] = 'staff';
  delete meta['ownerReferences'];
  const [first, second] = slice['endpoints'] as [Json, Json];
  first['addresses'] = [host];
  second['addresses'] = [longest];
  const res = await post(app, '/sync', syncRequest({
    parent: proxy({ name: 'external', spec: { serviceName: 'mc' } }),
    related: [service({ name: 'mc', selector: null }), slice],
  }));
  t.equal(res.statusCode, 200, JSON.stringify(res.body).slice(0, 300));
  t.same(configOf(res.body).pools['mc']!.servers, [`${longest}:11211`, `${host}:11211`]);
});

t.test('a slice port without a number (discovery/v1: not restricted) is the Service target port', async (t) => {
  const [slice] = endpointSlices('mc', [{ name: 'mc-a', ip: '10.2.0.1' }]) as [Json];
  // A port with neither name nor number, as the API server serves it (both omitted, the protocol defaulted).
  slice['ports'] = [{ protocol: 'TCP' }];
  const svc = service({ name: 'mc', ports: [{ port: 11211, targetPort: 11311 }] });
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'open', spec: { serviceName: 'mc' } }), related: [svc, slice] }));
  t.same(configOf(res.body).pools['mc']!.servers, ['10.2.0.1:11311']);
});

t.test('a hand-written slice port numbered outside 1-65535, which discovery/v1 never checks: a 200, and no server on it', async (t) => {
  // ValidateEndpointSlice checks a port's name, protocol and appProtocol, never its number (pkg/apis/discovery/validation,
  // 1.30 to 1.35): a controller that writes `port: 0` for "no port", or a typo, is stored as written.
  const external: Pod[] = [{ name: 'a', ip: '192.0.2.10', external: true }, { name: 'b', ip: '192.0.2.11', external: true }];
  const handWritten = (slice: Json, ports: Json[]) => {
    ((slice['metadata'] as Json)['labels'] as Json)['endpointslice.kubernetes.io/managed-by'] = 'staff';
    delete (slice['metadata'] as Json)['ownerReferences'];
    slice['ports'] = ports;
    return slice;
  };
  const svc = service({ name: 'legacy', selector: null, ports: [{ name: 'memcache', port: 11211 }, { name: 'metrics', port: 9150 }] });
  const parent = proxy({ name: 'legacy-proxy', spec: { serviceName: 'legacy' } });
  // Another port of the Service out of range: the pool's own is read as ever.
  const [good] = endpointSlices('legacy', external) as [Json];
  const metricsZero = handWritten(good, [{ name: 'memcache', port: 11211, protocol: 'TCP' }, { name: 'metrics', port: 0, protocol: 'TCP' }]);
  const res = await post(app, '/sync', syncRequest({ parent, related: [svc, metricsZero] }));
  t.equal(res.statusCode, 200, JSON.stringify(res.body).slice(0, 300));
  t.same(configOf(res.body).pools['legacy']!.servers, ['192.0.2.10:11211', '192.0.2.11:11211']);
  // The pool's own port out of range: nothing listens there, so those endpoints are no servers, and the status says so.
  for (const port of [0, 70000, -1]) {
    const [slice] = endpointSlices('legacy', external) as [Json];
    const bad = await post(app, '/sync', syncRequest({ parent, related: [svc, handWritten(slice, [{ name: 'memcache', port, protocol: 'TCP' }])] }));
    t.equal(bad.statusCode, 200, `port ${port}: ${JSON.stringify(bad.body).slice(0, 300)}`);
    t.match((bad.body['status'] as any).pools, [{ name: 'legacy', servers: 0, reason: 'NoServers' }], `port ${port}: no server`);
    const why = 'they are written by hand or by another controller and name no port as the Service names it, or one numbered outside 1-65535';
    t.match((bad.body['status'] as any).conditions[0], { reason: 'NoServers', message: `Service legacy lists 2 endpoints, none with port 11211: ${why}` });
  }
});

t.test('pools named like properties of Object.prototype (constructor, toString) come and go with a 200', async (t) => {
  // Pods of their own for each Service: a server that stays in the config is not removed, whatever its pool.
  const related = (name: string) => [service({ name }), ...endpointSlices(name, deploymentPods(name, 2, name === 'mc' ? 8 : 7))];
  const parent = (name: string) => proxy({ name: 'proto', spec: { serviceName: name } });
  const first = await post(app, '/sync', syncRequest({ parent: parent('constructor'), related: related('constructor') }));
  t.equal(first.statusCode, 200);
  const children = observedChildren(parent('constructor'), first.body['children'] as Json[]);
  // The pool of the mounted config is gone from the new one.
  const moved = await post(app, '/sync', syncRequest({ parent: parent('mc'), related: related('mc'), children }));
  t.equal(moved.statusCode, 200, JSON.stringify(moved.body).slice(0, 300));
  const movedChange = (moved.body['status'] as any).lastChange;
  t.same([movedChange.pools, movedChange.removed], [['constructor', 'mc'], ['10.244.7.2:11211', '10.244.7.3:11211']]);

  // A mounted config edited by hand, with such a pool.
  const edited = structuredClone(children);
  const cm = edited.find((c) => c['kind'] === 'ConfigMap')!;
  cm['data'] = { 'config.json': JSON.stringify({ pools: { toString: { servers: ['10.0.0.9:11211'] } }, route: 'PoolRoute|toString' }) };
  const res = await post(app, '/sync', syncRequest({ parent: parent('mc'), related: related('mc'), children: edited }));
  t.equal(res.statusCode, 200, JSON.stringify(res.body).slice(0, 300));
  const editedChange = (res.body['status'] as any).lastChange;
  t.same([editedChange.pools, editedChange.removed], [['mc', 'toString'], ['10.0.0.9:11211']]);
});

t.test('a selector-less Service with hand-written Endpoints (servers outside the cluster)', async (t) => {
  const external: Pod[] = [
    { name: 'x', ip: '192.0.2.20', external: true },
    { name: 'y', ip: '192.0.2.3', external: true },
  ];
  const svc = service({ name: 'legacy', selector: null, ports: [{ port: 11211 }] });
  const res = await post(app, '/sync', syncRequest({
    parent: proxy({ name: 'legacy-proxy', spec: { serviceName: 'legacy' } }),
    related: [svc, endpoints('legacy', external, { portName: null })],
  }));
  t.same(configOf(res.body).pools['legacy']!.servers, ['192.0.2.3:11211', '192.0.2.20:11211']);

  // Hand-written Endpoints without ports, and the slices Kubernetes mirrors from them: the Service's target port.
  const targeted = service({ name: 'legacy', selector: null, ports: [{ port: 11211, targetPort: 21211 }] });
  const parent = proxy({ name: 'legacy-proxy', spec: { serviceName: 'legacy' } });
  for (const [what, objects] of [
    ['Endpoints', [endpoints('legacy', external, { port: null })]],
    ['mirrored slices', endpointSlices('legacy', external, { mirrored: true, portless: true })],
  ] as const) {
    const portless = await post(app, '/sync', syncRequest({ parent, related: [targeted, ...objects] }));
    t.same(configOf(portless.body).pools['legacy']!.servers, ['192.0.2.3:21211', '192.0.2.20:21211'], `${what} without ports: the target port`);
  }

  // Endpoints whose port is named otherwise than the Service's: no server (kube-proxy matches ports by name too), and the
  // status says where to look: there are no pods to blame.
  const named = service({ name: 'legacy', selector: null, ports: [{ name: 'memcache', port: 11211 }] });
  const misnamed = await post(app, '/sync', syncRequest({ parent, related: [named, endpoints('legacy', external, { portName: 'mc' })] }));
  const why = 'they are written by hand or by another controller and name no port as the Service names it, or one numbered outside 1-65535';
  t.match((misnamed.body['status'] as any).conditions[0], { reason: 'NoServers', message: `Service legacy lists 2 endpoints, none with port 11211: ${why}` });
  const mirrored = await post(app, '/sync', syncRequest({ parent, related: [named, ...endpointSlices('legacy', external, { mirrored: true, portName: 'mc' })] }));
  t.match((mirrored.body['status'] as any).conditions[0].message, why, 'the slices mirrored from such Endpoints');
  // Slices Kubernetes cut from a selector since removed: their pods lacked the port.
  const cut = await post(app, '/sync', syncRequest({ parent, related: [named, ...endpointSlices('legacy', external, { portless: true })] }));
  t.match((cut.body['status'] as any).conditions[0].message, /none with port 11211: their pods lack its target port;/);
  const mixed = [...endpointSlices('legacy', [external[0]!], { portless: true }), ...endpointSlices('legacy', [external[1]!], { mirrored: true, portName: 'mc' })];
  const both = await post(app, '/sync', syncRequest({ parent, related: [named, ...mixed] }));
  t.match((both.body['status'] as any).conditions[0].message, 'none with port 11211: 1 on pods that lack its target port, 1 written by hand or by another controller, naming no port as the Service names it, or one numbered outside 1-65535;');
});

t.test('a selector-less Service whose Endpoints hold more addresses than Kubernetes mirrors into slices: the Endpoints are read', async (t) => {
  const external: Pod[] = Array.from({ length: 1200 }, (_, i) => ({ name: `x${i}`, ip: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`, external: true }));
  const svc = service({ name: 'legacy', selector: null });
  const parent = proxy({ name: 'legacy-proxy', spec: { serviceName: 'legacy' } });
  // kube-controller-manager's endpointslicemirroring controller copies at most --mirroring-max-endpoints-per-subset
  // (1,000, its default and its most) addresses of each subset, and records a TooManyAddressesToMirror event for the rest.
  const mirrored = endpointSlices('legacy', external.slice(0, 1000), { mirrored: true, perSlice: 1000 });
  const res = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('legacy', external), ...mirrored] }));
  t.equal(res.statusCode, 200);
  t.equal(configOf(res.body).pools['legacy']!.servers.length, 1200, 'every server the Endpoints list, not the 1,000 mirrored');
  t.match(res.body['status'], { servers: 1200, readyServers: 1200 });

  // The mirror follows the Endpoints object: a server written a moment ago is in the pool before the mirror has it.
  const few = external.slice(0, 3);
  const added = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('legacy', external.slice(0, 4)), ...endpointSlices('legacy', few, { mirrored: true })] }));
  t.same(configOf(added.body).pools['legacy']!.servers, ['10.9.0.1:11211', '10.9.0.2:11211', '10.9.0.3:11211', '10.9.0.4:11211']);
  // Slices of any other writer beside the mirrored ones are read, as slices are wherever a Service has them.
  const registered = endpointSlices('legacy', [external[10]!])[0]!;
  const labels = { 'kubernetes.io/service-name': 'legacy', 'endpointslice.kubernetes.io/managed-by': 'registrar.example.com' };
  const own = { ...registered, metadata: { ...(registered['metadata'] as Json), name: 'legacy-registered', labels } };
  const mixed = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('legacy', external.slice(0, 4)), ...endpointSlices('legacy', few, { mirrored: true }), own] }));
  t.same(configOf(mixed.body).pools['legacy']!.servers, ['10.9.0.1:11211', '10.9.0.2:11211', '10.9.0.3:11211', '10.9.0.11:11211']);

  // Read in place of its mirror, an address is spelt as the mirror spells it (Go prints the IP it parsed): a server
  // keeps its name whichever of the two is read.
  const written: Pod[] = [
    { name: 'v6', ip: '2001:DB8:0:0::1', external: true },
    { name: 'mapped', ip: '::ffff:10.9.0.2', external: true },
    { name: 'padded', ip: '10.9.0.003', external: true },
  ];
  const printed: Pod[] = [
    { name: 'v6', ip: '2001:db8::1', external: true },
    { name: 'mapped', ip: '10.9.0.2', external: true },
    { name: 'padded', ip: '10.9.0.3', external: true },
  ];
  const mirror = [...endpointSlices('legacy', printed.slice(1)), ...endpointSlices('legacy', [{ ...printed[0]!, ipv6: printed[0]!.ip }], { family: 'IPv6' })].map((slice) => ({
    ...slice,
    metadata: { ...(slice['metadata'] as Json), labels: { 'kubernetes.io/service-name': 'legacy', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' } },
  }));
  const fromEndpoints = await post(app, '/sync', syncRequest({ parent, related: [svc, endpoints('legacy', written), ...mirror] }));
  const fromMirror = await post(app, '/sync', syncRequest({ parent, related: [svc, ...mirror] }));
  t.same(configOf(fromEndpoints.body).pools['legacy']!.servers, configOf(fromMirror.body).pools['legacy']!.servers);
  t.same(configOf(fromEndpoints.body).pools['legacy']!.servers, ['[2001:db8::1]:11211', '10.9.0.2:11211', '10.9.0.3:11211']);
});

t.test('ports are resolved by number or by name through the Service', async (t) => {
  const svc = service({ name: 'mc', ports: [{ name: 'admin', port: 9000 }, { name: 'memcache', port: 11211, targetPort: 21211 }] });
  const pods = deploymentPods('mc', 2);
  const related = [svc, ...endpointSlices('mc', pods, { portName: 'memcache', port: 21211 })];
  const byName = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: 'memcache' } }), related }));
  t.same(configOf(byName.body).pools['mc']!.servers, pods.map((p) => `${p.ip}:21211`), 'the endpoint port of the named Service port');
  const byNumber = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: 11211 } }), related }));
  t.same(configOf(byNumber.body), configOf(byName.body), 'the same servers by number');
  const missing = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: 'nope' } }), related }));
  t.equal(missing.statusCode, 200);
  t.match((missing.body['status'] as any).conditions[0], { status: 'False', reason: 'PortNotFound', message: /no port "nope" \(ports: admin\/9000, memcache\/11211\)/ });
  t.match(configOf(missing.body).route, { type: 'ErrorRoute' });
  // The ports by number whatever order the Service lists them in (Kubernetes keys them by port and protocol).
  const reordered = [service({ name: 'mc', ports: [{ name: 'memcache', port: 11211, targetPort: 21211 }, { name: 'admin', port: 9000 }] }), ...related.slice(1)];
  const missingReordered = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: 'nope' } }), related: reordered }));
  t.equal(missingReordered.text, missing.text, 'the same answer, the ports listed as admin/9000, memcache/11211');
  // Pods without the named target port: the slice controller lists only the other Service port.
  const otherPortOnly = [svc, ...endpointSlices('mc', pods, { portName: 'admin', port: 9000 })];
  const wrongPort = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: 'memcache' } }), related: otherPortOnly }));
  t.match((wrongPort.body['status'] as any).conditions[0], { status: 'False', reason: 'NoServers' }, "another port's endpoints are not servers");
  t.match(configOf(wrongPort.body).route, { type: 'ErrorRoute' });
  // A Service of one port: a pod without the named target port is listed in a slice without ports
  // (a rollout renaming the container port, another workload matching the selector). Nothing listens there.
  const onePort = service({ name: 'mc', ports: [{ name: 'memcache', port: 11211, targetPort: 'memcache' }] });
  const lacking = deploymentPods('mc', 3).slice(2);
  const served = endpointSlices('mc', pods, { portName: 'memcache', port: 21211 });
  const portless = endpointSlices('mc', lacking, { portless: true });
  const mixed = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc' } }), related: [onePort, ...served, ...portless] }));
  t.same(configOf(mixed.body).pools['mc']!.servers, pods.map((p) => `${p.ip}:21211`), 'a slice with ports: null adds no server');
  t.match(mixed.body['status'], { servers: 2, readyServers: 2 });
  const none = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc' } }), related: [onePort, ...portless] }));
  t.match((none.body['status'] as any).conditions[0], {
    reason: 'NoServers',
    message: 'Service mc lists 1 endpoint, none with port 11211: their pods lack its target port',
  }, 'listed but not served: the status says why');
  // The controller's slices outlive a selector's removal: still no port there.
  const unselected = service({ name: 'mc', selector: null, ports: [{ name: 'memcache', port: 11211, targetPort: 'memcache' }] });
  const stale = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc' } }), related: [unselected, ...served, ...portless] }));
  t.same(configOf(stale.body).pools['mc']!.servers, pods.map((p) => `${p.ip}:21211`), "a stale controller slice without ports adds no server");

  // A StatefulSet pod without the named port sits in a slice of the other port only: in whichever order
  // the slices come, the others keep their ordinal slots, the missing one its DNS name.
  const headless = service({ name: 'sts', headless: true, ports: [{ name: 'memcache', port: 11211 }, { name: 'metrics', port: 9150 }] });
  const bothPorts = endpointSlices('sts', statefulSetPods('sts', [0, 1, 3])).map((s) => ({
    ...s,
    ports: [{ name: 'memcache', port: 11211, protocol: 'TCP' }, { name: 'metrics', port: 9150, protocol: 'TCP' }],
  }));
  const metricsOnly = endpointSlices('sts', statefulSetPods('sts', [2]), { portName: 'metrics', port: 9150 }).map((s) => ({
    ...s,
    metadata: { ...(s['metadata'] as Json), name: 'sts-metrics' },
  }));
  const parent = proxy({ name: 'p', spec: { serviceName: 'sts' } });
  const answers = await Promise.all(
    [[...metricsOnly, ...bothPorts], [...bothPorts, ...metricsOnly]].map((slices) => post(app, '/sync', syncRequest({ parent, related: [headless, ...slices] }))),
  );
  t.equal(answers[0]!.text, answers[1]!.text, 'either order of the slices, the same bytes');
  t.same(configOf(answers[0]!.body).pools['sts']!.servers, [0, 1, 2, 3].map((n) => `sts-${n}.sts.default.svc.cluster.local:11211`));
});

t.test('a port number matches the TCP port first; a port name of digits only that no port has is the number', async (t) => {
  // memcached's port also open for UDP, under another name and with a target of its own.
  const svc = service({ name: 'mc', ports: [{ name: 'mc-udp', port: 11211, targetPort: 11311 }, { name: 'mc-tcp', port: 11211 }] });
  ((svc['spec'] as Json)['ports'] as Json[])[0]!['protocol'] = 'UDP';
  const pods = deploymentPods('mc', 2);
  const slices = endpointSlices('mc', pods).map((s) => ({ ...s, ports: [{ name: 'mc-udp', port: 11311, protocol: 'UDP' }, { name: 'mc-tcp', port: 11211, protocol: 'TCP' }] }));
  const tcp = pods.map((p) => `${p.ip}:11211`);
  for (const servicePort of [11211, '11211', 'mc-tcp']) {
    const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort } }), related: [svc, ...slices] }));
    t.same(configOf(res.body).pools[Object.keys(configOf(res.body).pools)[0]!]!.servers, tcp, `${JSON.stringify(servicePort)}: the TCP port's endpoints`);
  }
  const udp = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: 'mc-udp' } }), related: [svc, ...slices] }));
  t.same(Object.values(configOf(udp.body).pools)[0]!.servers, pods.map((p) => `${p.ip}:11311`), 'named, the UDP port is what was asked for');
  const none = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec: { serviceName: 'mc', servicePort: '9000' } }), related: [svc, ...slices] }));
  t.match((none.body['status'] as any).conditions[0], { reason: 'PortNotFound', message: /no port "9000"/ });
});

t.test('an ExternalName Service (memcached outside the cluster, behind a DNS name) is one server, its name', async (t) => {
  const external = (externalName: string, ports?: Json[]) => {
    const svc = service({ name: 'mc-external', selector: null });
    const spec = svc['spec'] as Json;
    for (const key of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) delete spec[key];
    Object.assign(spec, { type: 'ExternalName', externalName });
    if (ports) spec['ports'] = ports;
    else delete spec['ports'];
    return svc;
  };
  const sync = (spec: Json, svc: Json) => post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec }), related: [svc] }));
  const bare = await sync({ serviceName: 'mc-external' }, external('memcached.example.com'));
  t.same(configOf(bare.body).pools['mc-external'], { servers: ['memcached.example.com:11211'] }, 'the default port: an ExternalName Service needs no ports');
  t.match(bare.body['status'], { servers: 1, readyServers: 1, pools: [{ name: 'mc-external', servers: 1, readyServers: 1 }] });
  const named = await sync({ serviceName: 'mc-external', servicePort: 'memcache' }, external('cache.example.com.', [{ name: 'memcache', port: 11212, protocol: 'TCP', targetPort: 11212 }]));
  t.same(configOf(named.body).pools['mc-external']!.servers, ['cache.example.com:11212'], 'a port by name; the trailing dot of a fully qualified name dropped');
  const quoted = await sync({ serviceName: 'mc-external', servicePort: '11212' }, external('cache.example.com'));
  t.same(configOf(quoted.body).pools['mc-external']!.servers, ['cache.example.com:11212'], 'a quoted number is the number');
  const noPort = await sync({ serviceName: 'mc-external', servicePort: 'memcache' }, external('cache.example.com'));
  t.match((noPort.body['status'] as any).conditions[0], { reason: 'PortNotFound' });
  const badName = await sync({ serviceName: 'mc-external' }, external('not a name:1'));
  t.match((badName.body['status'] as any).conditions[0], { reason: 'NoServers' }, 'a name no server can have adds none');
});

t.test('a headless Service without ports: a port number is the port its pods listen on', async (t) => {
  // Kubernetes lets a headless Service define no ports; the slices and the Endpoints it cuts then list none.
  const portless = (name: string) => {
    const svc = service({ name, headless: true });
    delete (svc['spec'] as Json)['ports'];
    return svc;
  };
  const sync = (spec: Json, related: Json[]) => post(app, '/sync', syncRequest({ parent: proxy({ name: 'p', spec }), related }));
  const sts = statefulSetPods('mc-sts', [0, 1, 2]);
  const dnsNamed = await sync({ serviceName: 'mc-sts' }, [portless('mc-sts'), ...endpointSlices('mc-sts', sts, { portless: true })]);
  t.same(configOf(dnsNamed.body).pools['mc-sts']!.servers, [0, 1, 2].map((n) => `mc-sts-${n}.mc-sts.default.svc.cluster.local:11211`), 'the default port, on the pods\' DNS names');
  t.match(dnsNamed.body['status'], { servers: 3, readyServers: 3, pools: [{ name: 'mc-sts', port: 11211, servers: 3 }] });

  const pods = deploymentPods('mc', 3);
  for (const servicePort of [11212, '11212']) {
    const bySlices = await sync({ serviceName: 'mc', servicePort }, [portless('mc'), ...endpointSlices('mc', pods, { portless: true })]);
    t.same(configOf(bySlices.body).pools['mc']!.servers, pods.map((p) => `${p.ip}:11212`), `${JSON.stringify(servicePort)}: from the EndpointSlices`);
  }
  const byEndpoints = await sync({ serviceName: 'mc' }, [portless('mc'), endpoints('mc', pods, { port: null })]);
  t.same(configOf(byEndpoints.body).pools['mc']!.servers, pods.map((p) => `${p.ip}:11211`), 'from the Endpoints, when no slice is read');

  for (const notAPort of ['0', '99999', '00080']) {
    const res = await sync({ serviceName: 'mc', servicePort: notAPort }, [portless('mc'), ...endpointSlices('mc', pods, { portless: true })]);
    t.match((res.body['status'] as any).conditions[0], { reason: 'PortNotFound' }, `${notAPort}: digits, but no port number`);
  }
  const named = await sync({ serviceName: 'mc', servicePort: 'memcache' }, [portless('mc'), ...endpointSlices('mc', pods, { portless: true })]);
  t.match((named.body['status'] as any).conditions[0], { status: 'False', reason: 'PortNotFound', message: 'Service mc has no port "memcache" (it lists none: give the port number)' });
});

t.test('a missing Service or no endpoints keeps the current config and says so', async (t) => {
  const parent = seedProxy();
  const pods = statefulSetPods('memcached-pool1', [0, 1]);
  const first = await post(app, '/sync', syncRequest({ parent, related: [pool1, ...endpointSlices('memcached-pool1', pods)] }));
  const children = observedChildren(parent, first.body['children'] as Json[]);

  const gone = await post(app, '/sync', syncRequest({ parent, related: [], children }));
  t.equal(gone.statusCode, 200);
  t.same(configOf(gone.body), configOf(first.body), 'Service gone: servers kept');
  t.match((gone.body['status'] as any).conditions[0], { status: 'False', reason: 'ServiceNotFound', message: /memcached-pool1 not found in namespace default; keeping the 2 servers/ });
  t.same((gone.body['children'] as Json[]).map((c) => c['kind']), ['ConfigMap', 'Deployment', 'Service'], 'no child is dropped');

  const blip = await post(app, '/sync', syncRequest({ parent, related: [pool1, ...endpointSlices('memcached-pool1', [])], children }));
  t.same(configOf(blip.body), configOf(first.body), 'endpoints briefly empty: servers kept');
  t.match((blip.body['status'] as any).conditions[0], { reason: 'NoServers' });

  const fresh = await post(app, '/sync', syncRequest({ parent, related: [] }));
  t.same(configOf(fresh.body).route, { type: 'ErrorRoute', response: 'memcached-operator: no servers for service memcached-pool1' });
  t.same(configOf(fresh.body).pools, {});
  t.match((fresh.body['status'] as any).conditions[0].message, /; requests routed to it fail until it has servers$/);
});

t.test('Ready follows the observed Deployment; lastTransitionTime is carried over', async (t) => {
  const pods = statefulSetPods('memcached-pool1', [0, 1, 2]);
  const related = [pool1, ...endpointSlices('memcached-pool1', pods)];
  const first = await post(app, '/sync', syncRequest({ parent: seedProxy(), related }));
  const parent = seedProxy(first.body['status'] as Json);
  const rolling = await post(app, '/sync', syncRequest({ parent, related, children: observedChildren(parent, first.body['children'] as Json[], { rollingOut: true }) }));
  t.match((rolling.body['status'] as any).conditions[0], { status: 'False', reason: 'Progressing', lastTransitionTime: '2026-11-25T12:00:00Z' });

  const later = testServer({ clock: () => new Date('2026-11-25T12:05:00Z') });
  t.teardown(() => later.close());
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const done = await post(later, '/sync', syncRequest({ parent, related, children }));
  const ready = (done.body['status'] as any).conditions[0];
  t.match(ready, { type: 'Ready', status: 'True', reason: 'Available', lastTransitionTime: '2026-11-25T12:05:00Z', observedGeneration: 1 });
  t.equal((done.body['status'] as any).replicas, 1);
  const settled = seedProxy(done.body['status'] as Json);
  const muchLater = testServer({ clock: () => new Date('2026-11-25T13:00:00Z') });
  t.teardown(() => muchLater.close());
  const again = await post(muchLater, '/sync', syncRequest({ parent: settled, related, children }));
  t.equal((again.body['status'] as any).conditions[0].lastTransitionTime, '2026-11-25T12:05:00Z', 'unchanged status keeps its time');
  t.equal(JSON.stringify(again.body), JSON.stringify(done.body), 'repeated syncs give identical output');
});

t.test('while a child is not there, Metacontroller is asked to sync again', async (t) => {
  // A proxy deleted and created again under its name: the old children, owned by the old proxy, are in the
  // way until the garbage collector removes them. Metacontroller only logs the failed creates, and their
  // deletion syncs nothing: the answer itself must ask for the next sync.
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-pool1', mcrouter: { replicas: 2 } } });
  const pods = statefulSetPods('memcached-pool1', [0, 1]);
  const related = [pool1, ...endpointSlices('memcached-pool1', pods)];
  const first = await post(app, '/sync', syncRequest({ parent, related }));
  t.equal(first.body['resyncAfterSeconds'], 10, 'no child yet: again in 10 s');
  const settled = proxy({ name: 'cache', spec: { serviceName: 'memcached-pool1', mcrouter: { replicas: 2 } }, status: first.body['status'] as Json });
  const all = observedChildren(settled, first.body['children'] as Json[]);
  t.same(all.map((c) => c['kind']).sort(), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service']);
  const steady = await post(app, '/sync', syncRequest({ parent: settled, related, children: all }));
  t.notOk('resyncAfterSeconds' in steady.body, 'every child there: no timed sync (Metacontroller syncs on their changes)');
  for (const kind of ['ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget']) {
    const res = await post(app, '/sync', syncRequest({ parent: settled, related, children: all.filter((c) => c['kind'] !== kind) }));
    t.equal(res.body['resyncAfterSeconds'], 10, `${kind} missing: again in 10 s`);
  }
  // Another object of a child's kind is not that child.
  const renamed = all.map((c) => (c['kind'] === 'Service' ? { ...c, metadata: { ...(c['metadata'] as Json), name: 'cache-old' } } : c));
  t.equal((await post(app, '/sync', syncRequest({ parent: settled, related, children: renamed }))).body['resyncAfterSeconds'], 10, 'a Service of another name');
  // The longer the proxy has waited (since Ready last changed, 12:00 here), the later the next try, up to 5
  // minutes: a name taken for good, or a create the API server refuses each time, is not retried every 10 s.
  const missing = all.filter((c) => c['kind'] !== 'Service');
  for (const [at, seconds] of [['12:00:04', 10], ['12:00:40', 40], ['12:02:00', 120], ['12:05:00', 300], ['13:00:00', 300]] as const) {
    const later = testServer({ clock: () => new Date(`2026-11-25T${at}Z`) });
    const res = await post(later, '/sync', syncRequest({ parent: settled, related, children: missing }));
    await later.close();
    t.equal(res.body['resyncAfterSeconds'], seconds, `waiting since 12:00, at ${at}: again in ${seconds} s`);
  }
  // A leap second, which Date.parse cannot read (nor the API server store): the condition set aside, the first wait.
  const leap = structuredClone(settled);
  for (const c of (leap['status'] as Json)['conditions'] as Json[]) c['lastTransitionTime'] = '2016-12-31T23:59:60Z';
  t.equal((await post(app, '/sync', syncRequest({ parent: leap, related, children: missing }))).body['resyncAfterSeconds'], 10, 'waiting since a leap second: again in 10 s');
  const deleting = structuredClone(settled);
  (deleting['metadata'] as Json)['deletionTimestamp'] = '2026-11-25T11:59:30Z';
  const gone = await post(app, '/sync', syncRequest({ parent: deleting, related }));
  t.equal(gone.statusCode, 200);
  t.notOk('resyncAfterSeconds' in gone.body, 'a proxy being deleted gets no child: nothing to wait for');
});

t.test('finalizing (a finalize hook pointed at /sync): finalized at once, the same children kept until the proxy goes', async (t) => {
  const pods = statefulSetPods('memcached-pool1', [0, 1, 2]);
  const related = [pool1, ...endpointSlices('memcached-pool1', pods)];
  const first = await post(app, '/sync', syncRequest({ parent: seedProxy(), related }));
  const parent = seedProxy(first.body['status'] as Json);
  (parent['metadata'] as Json)['deletionTimestamp'] = '2026-11-25T11:59:30Z';
  (parent['metadata'] as Json)['finalizers'] = ['metacontroller.io/compositecontroller-memcached-operator'];
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const request = syncRequest({ parent, related, children });
  const plain = await post(app, '/sync', request);
  t.notOk('finalized' in plain.body, 'a sync: no finalized');
  const finalizing = await post(app, '/sync', { ...request, finalizing: true });
  t.equal(finalizing.statusCode, 200);
  t.equal(finalizing.body['finalized'], true);
  t.same(finalizing.body['children'], plain.body['children'], 'the children serve until the garbage collector takes them with the proxy');
});

t.test('v1 and v2 keyed requests give the same answer', async (t) => {
  const parent = seedProxy();
  const pods = statefulSetPods('memcached-pool1', [0, 1, 2]);
  const related = [pool1, ...endpointSlices('memcached-pool1', pods)];
  const first = await post(app, '/sync', syncRequest({ parent, related }));
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const v1 = await post(app, '/sync', syncRequest({ parent, related, children, keying: 'v1' }));
  const v2 = await post(app, '/sync', syncRequest({ parent, related, children, keying: 'v2' }));
  t.equal(v2.text, v1.text);
});

t.test('a 5,000-member pool answers 200', async (t) => {
  const pods = deploymentPods('big', 5000);
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'big-cache', spec: { serviceName: 'big' } }), related: [service({ name: 'big' }), ...endpointSlices('big', pods)] }));
  t.equal(res.statusCode, 200);
  t.equal(configOf(res.body).pools['big']!.servers.length, 5000);
  t.equal((res.body['status'] as any).servers, 5000);
});

t.test('customize asks for the Service, its EndpointSlices and Endpoints, and the namespace\'s StatefulSets', async (t) => {
  const res = await post(app, '/customize', { controller: {}, parent: seedProxy() });
  t.equal(res.statusCode, 200);
  t.same(res.body, {
    relatedResources: [
      { apiVersion: 'v1', resource: 'services', namespace: 'default', names: ['memcached-pool1'] },
      { apiVersion: 'v1', resource: 'endpoints', namespace: 'default', names: ['memcached-pool1'] },
      { apiVersion: 'apps/v1', resource: 'statefulsets', namespace: 'default' },
      { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices', labelSelector: { matchLabels: { 'kubernetes.io/service-name': 'memcached-pool1' } } },
    ],
  });
});

t.test('a replacement that appears while its predecessor terminates takes the predecessor\'s slot', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const pods = deploymentPods('memcached-deploy', 5);
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', pods)] }));
  const before = configOf(first.body).pools['memcached-deploy']!.servers;
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const leavingIp = before[3]!.replace(':11211', '');
  const successor: Pod = { name: 'memcached-deploy-7c9d8b5f4-new', ip: '10.244.9.1', ready: false };
  const overlap = [...pods.map((p) => (p.ip === leavingIp ? { ...p, terminating: true, ready: false } : p)), successor];
  const during = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', overlap)], children }));
  const expected = before.map((s, i) => (i === 3 ? '10.244.9.1:11211' : s));
  t.same(configOf(during.body).pools['memcached-deploy'], { servers: expected }, 'the newcomer replaces the terminating server in place');

  const next = observedChildren(parent, during.body['children'] as Json[]);
  const still = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', overlap)], children: next }));
  t.same(configOf(still.body).pools['memcached-deploy'], { servers: expected }, 'the terminating pod is not appended back');
  const after = overlap.filter((p) => p.ip !== leavingIp);
  const gone = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', after)], children: next }));
  t.same(configOf(gone.body).pools['memcached-deploy'], { servers: expected }, 'nothing moves when it is finally gone');
});

/**
 * Syncs `parent` again and again as Metacontroller would (each answer's children observed at the next sync), with the
 * pods of Service `svc` given each time, and the parent as edited since where one is given: its pool's list in each answer.
 */
function poolLister(parent: Json, svc: Json) {
  const name = (svc['metadata'] as { name: string }).name;
  let children: Json[] = [];
  return async (present: Pod[], edited: Json = parent) => {
    const res = await post(app, '/sync', syncRequest({ parent: edited, related: [svc, ...endpointSlices(name, present)], children }));
    children = observedChildren(edited, res.body['children'] as Json[]);
    return configOf(res.body).pools[name]!;
  };
}

t.test('a newcomer takes its own old hole first, not the first hole', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const pods = deploymentPods('memcached-deploy', 5);
  const list = poolLister(parent, svc);
  const first = (await list(pods)).servers;
  const at = (i: number) => pods.find((p) => `${p.ip}:11211` === first[i])!;
  // Slots 1 and 2 leave: two holes.
  t.same(await list(pods.filter((p) => p !== at(1) && p !== at(2))), { servers: first, weights: [1, 0, 0, 1, 1] });
  // The pod of slot 2 comes back: its own hole, not slot 1's.
  t.same(await list(pods.filter((p) => p !== at(1))), { servers: first, weights: [1, 0, 1, 1, 1] }, 'back in slot 2');
  // A pod never seen before takes the remaining hole.
  const fresh: Pod = { name: 'memcached-deploy-7c9d8b5f4-fresh', ip: '10.244.9.5' };
  t.same(await list([...pods.filter((p) => p !== at(1)), fresh]), { servers: first.map((s, i) => (i === 1 ? '10.244.9.5:11211' : s)) }, 'a newcomer fills the hole');
});

t.test('in one sync a pod gone and one terminating: a newcomer takes the gone pod\'s slot, and the terminating pod keeps its own', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const pods = deploymentPods('memcached-deploy', 4);
  const list = poolLister(parent, svc);
  const first = (await list(pods)).servers;
  const at = (i: number) => pods.find((p) => `${p.ip}:11211` === first[i])!;
  const fresh: Pod = { name: 'memcached-deploy-7c9d8b5f4-fresh', ip: '10.244.9.5' };
  // Slot 1's pod gone, slot 2's terminating, one newcomer: the gone pod's slot would be a hole, the terminating
  // pod still serves its keys. Taking the terminating pod's slot instead would leave both losses.
  const next = [...pods.filter((p) => p !== at(1)).map((p) => (p === at(2) ? { ...p, ready: false, terminating: true } : p)), fresh];
  t.same(await list(next), { servers: first.map((s, i) => (i === 1 ? '10.244.9.5:11211' : s)) }, 'slot 1 to the newcomer, no hole, slot 2 kept');
});

t.test('a pool turned from Ch3-sharded to replicated keeps no hole: a new pod at the hole\'s address goes after the survivors', async (t) => {
  const svc = service({ name: 'memcached' });
  const list = poolLister(proxy({ name: 'cache', spec: { serviceName: 'memcached' } }), svc);
  const pods: Pod[] = [5, 6, 7].map((n) => ({ name: `memcached-7c9d8b5f4-${n}`, ip: `10.0.0.${n}` }));
  await list(pods);
  t.same(await list(pods.slice(1)), { servers: ['10.0.0.5:11211', '10.0.0.6:11211', '10.0.0.7:11211'], weights: [0, 1, 1] }, 'a hole where .5 was');
  // The spec now reads the pool as replicas, Failover first; in the same sync a new pod gets .5. It is empty: were
  // it first, it would take every read. The hole was no server, so .5 is a newcomer, after the survivors.
  const replicated = proxy({ name: 'cache', spec: { rules: { type: 'replicated', readPolicy: 'Failover', service: { name: 'memcached' } } } });
  const fresh = { name: 'memcached-7c9d8b5f4-new', ip: '10.0.0.5' };
  t.same(await list([fresh, ...pods.slice(1)], replicated), { servers: ['10.0.0.6:11211', '10.0.0.7:11211', '10.0.0.5:11211'] });
});

t.test('a rolling update with surge appends each new pod and leaves one hole at its end (docs/membership.md)', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const old = deploymentPods('memcached-deploy', 5);
  const fresh = deploymentPods('memcached-deploy', 5, 3).map((p, i) => ({ ...p, name: `memcached-deploy-5f8d9c7b6-new${i}` }));
  const list = poolLister(parent, svc);
  const at = (pod: Pod) => `${pod.ip}:11211`;
  let present = [...old];
  const lists = [await list(present)];
  // maxSurge 1, maxUnavailable 0: each new pod serves before one old pod goes.
  for (let i = 0; i < old.length; i++) {
    present = [...present, fresh[i]!];
    lists.push(await list(present));
    present = present.filter((p) => p !== old[i]);
    lists.push(await list(present));
  }
  const last = lists.at(-1)!;
  t.equal(last.servers.length, 6, 'six slots for five pods');
  t.same(last.weights?.filter((w) => w === 0).length, 1, 'one of them a hole');
  t.same(last.servers.filter((_, i) => last.weights?.[i] !== 0).sort(), fresh.map(at).sort(), 'every new pod served');
  // Each step moves only what it must: a new pod takes a hole or is appended, a pod leaving leaves a hole, and
  // every server in both lists keeps its slot.
  for (let k = 1; k < lists.length; k++) {
    const [before, after] = [lists[k - 1]!, lists[k]!];
    const live = (l: typeof before) => l.servers.filter((_, i) => (l.weights?.[i] ?? 1) !== 0);
    for (const server of live(before).filter((s) => live(after).includes(s))) {
      t.equal(after.servers.indexOf(server), before.servers.indexOf(server), `step ${k}: ${server} keeps its slot`);
    }
    t.ok(after.servers.length <= before.servers.length + 1, `step ${k}: at most one slot added`);
  }
});

t.test('when only terminating pods are left, they keep serving rather than the pool going empty', async (t) => {
  const svc = service({ name: 'memcached-deploy' });
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached-deploy' } });
  const pods = deploymentPods('memcached-deploy', 4);
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', pods.slice(0, 2))] }));
  const children = observedChildren(parent, first.body['children'] as Json[]);
  // The two listed pods are gone; the only endpoints are two others, both terminating (a rollout of a
  // Deployment whose new pods are not there yet, say).
  const leaving = pods.slice(2).map((p) => ({ ...p, terminating: true, ready: false }));
  const res = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached-deploy', leaving)], children }));
  const pool = configOf(res.body).pools['memcached-deploy'];
  t.same(pool, { servers: leaving.map((p) => `${p.ip}:11211`).sort() }, 'the terminating pods take the slots: a pool of them beats no pool');
  t.notMatch(JSON.stringify(configOf(res.body).route), /ErrorRoute/);
});

t.test('a StatefulSet without spec.replicas (the API server defaults it) wants one pod', async (t) => {
  const parent = seedProxy();
  const related = (ordinals: number[], replicas: number | null) => {
    const sts = statefulSet('memcached-pool1', 3);
    ((sts['spec'] as Json)['replicas'] as unknown) = replicas;
    return [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals)), sts];
  };
  const first = await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2], 3) }));
  const children = observedChildren(parent, first.body['children'] as Json[]);
  // Pod 2 away: with replicas 3 the StatefulSet still wants it, and it keeps its slot.
  const wanted = await post(app, '/sync', syncRequest({ parent, related: related([0, 1], 3), children }));
  t.same(configOf(wanted.body).pools['memcached-pool1']!.servers, [0, 1, 2].map(dns));
  // With replicas unset it wants one pod: pod 2's slot is the tail a scale-down drops.
  const unset = await post(app, '/sync', syncRequest({ parent, related: related([0, 1], null), children }));
  t.equal(unset.statusCode, 200);
  t.same(configOf(unset.body).pools['memcached-pool1']!.servers, [0, 1].map(dns), 'replicas: null reads as 1, as the API server defaults it');
});

t.test('status.target names every pool while they fit in 256 characters', async (t) => {
  // Four names of 60 characters: 243 characters joined.
  const names = Array.from({ length: 4 }, (_, i) => `memcached-shard-${i}-${'z'.repeat(42)}`);
  const spec = { rules: { children: names.map((name) => ({ service: { name } })) } };
  const related = names.flatMap((name, i) => [service({ name }), ...endpointSlices(name, deploymentPods(name, 1, 60 + i))]);
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'wide', spec }), related }));
  t.equal(res.statusCode, 200);
  t.equal(names.join(',').length, 243);
  t.equal(statusOf(res.body).target, names.join(','), 'all four, no "more"');
});

t.test('status.replicas counts the Deployment\'s pods, a rollout\'s surge pod too, not the replicas it asks for', async (t) => {
  const spec = { serviceName: 'memcached', mcrouter: { replicas: 2 } };
  const related = [service({ name: 'memcached' }), ...endpointSlices('memcached', deploymentPods('memcached', 2, 70))];
  const parent = proxy({ name: 'rolling', spec });
  const first = await post(app, '/sync', syncRequest({ parent, related }));
  const children = observedChildren(parent, first.body['children'] as Json[], { rollingOut: true });
  const deployment = children.find((c) => c['kind'] === 'Deployment')!;
  t.same([(deployment['spec'] as Json)['replicas'], (deployment['status'] as Json)['replicas']], [2, 3], 'a rollout: 3 pods for 2 replicas');
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'rolling', spec, status: statusOf(first.body) }), related, children }));
  t.match(statusOf(res.body), { replicas: 3, readyReplicas: 2 });
});

t.test('a long-running hook stamps each sync with its own time, not the first one it formatted', async (t) => {
  let now = FIXED_NOW.getTime();
  const clocked = testServer({ clock: () => new Date(now) });
  t.teardown(() => clocked.close());
  const related = [service({ name: 'memcached' }), ...endpointSlices('memcached', deploymentPods('memcached', 2, 90))];
  const first = await post(clocked, '/sync', syncRequest({ parent: proxy({ name: 'early', spec: { serviceName: 'memcached' } }), related }));
  t.match(statusOf(first.body), { configSince: '2026-11-25T12:00:00Z', conditions: [{ type: 'Ready', lastTransitionTime: '2026-11-25T12:00:00Z' }] });
  now += 90_000;
  const later = await post(clocked, '/sync', syncRequest({ parent: proxy({ name: 'late', spec: { serviceName: 'memcached' } }), related }));
  t.match(statusOf(later.body), { configSince: '2026-11-25T12:01:30Z', conditions: [{ type: 'Ready', lastTransitionTime: '2026-11-25T12:01:30Z' }] }, '90 s later, stamped 90 s later');
});

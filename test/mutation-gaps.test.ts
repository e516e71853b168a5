/**
 * Behaviour that hand-made mutants of the code changed without any other test noticing: each case here
 * fails on its mutant and passes on the code as it is. Through /sync, with objects as the API server serves them.
 */
import t from 'tap';
import { deploymentPods, endpointSlices, observedChildren, proxy, service, statefulSetPods, syncRequest, type Json, type Pod } from './fixtures/cluster.js';
import { FIXED_NOW, SyncedProxy, configOf, post, testServer } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

const statusOf = (body: Json) => body['status'] as Json & { target: string; replicas: number; readyReplicas: number };

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

t.test('a parent without a spec is an object the CRD refuses (spec is required): 422 naming spec, not 400', async (t) => {
  const parent = proxy({ name: 'nospec', spec: {} });
  delete parent['spec'];
  const res = await post(app, '/sync', syncRequest({ parent }));
  t.equal(res.statusCode, 422, res.text);
  t.match(res.body, { field: 'spec', message: /^spec: / });
  const custom = await post(app, '/customize', { controller: syncRequest({ parent }).controller, parent });
  t.equal(custom.statusCode, 422, `customize: ${custom.text}`);
});

t.test("/metrics: a proxy's gauges stay 2 hours after its last sync by default (docs/operating.md), then go", async (t) => {
  let now = FIXED_NOW.getTime();
  const metricsApp = testServer({ clock: () => new Date(now) });
  t.teardown(() => metricsApp.close());
  const related = [service({ name: 'memcached' }), ...endpointSlices('memcached', deploymentPods('memcached', 2, 80))];
  t.equal((await post(metricsApp, '/sync', syncRequest({ parent: proxy({ name: 'ttl', spec: { serviceName: 'memcached' } }), related }))).statusCode, 200);
  const servers = async () => {
    const text = (await metricsApp.inject({ method: 'GET', url: '/metrics' })).body;
    return /^memcached_operator_proxy_servers\{namespace="default",name="ttl"\} 2$/m.test(text);
  };
  t.ok(await servers(), 'synced: its servers gauge');
  now += 119 * 60_000;
  t.ok(await servers(), 'an hour and 59 minutes on: still there');
  now += 2 * 60_000;
  t.notOk(await servers(), '2 hours and a minute on: gone');
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

t.test('huge pages of 19 digits (still an int64 to the API server) that are no whole number of pages: InvalidSpec', async (t) => {
  const spec = { serviceName: 'memcached', mcrouter: { resources: { limits: { 'hugepages-2Mi': '9000000000000000001', memory: '1Gi' } } } };
  const related = [service({ name: 'memcached' }), ...endpointSlices('memcached', deploymentPods('memcached', 1, 95))];
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'huge', spec }), related }));
  t.equal(res.statusCode, 200);
  const ready = (statusOf(res.body)['conditions'] as Json[]).find((c) => c['type'] === 'Ready')!;
  t.match(ready, { status: 'False', reason: 'InvalidSpec', message: /^spec\.mcrouter\.resources\.limits\["hugepages-2Mi"\]: is not a whole number of hugepages-2Mi pages: / });
});

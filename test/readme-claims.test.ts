/**
 * README and docs/ claims that no other test pins down, checked through the sync hook
 * as Metacontroller calls it. Each test quotes the claim it checks; every
 * expectation is written out by hand from the docs, never computed by the code
 * under test.
 */
import t, { type Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { McrouterSpec } from '../src/api/memcached-proxy.js';
import { sampleKeys } from '../src/mcrouter/keyspace.js';
import { compileConfig, type Operation } from '../src/mcrouter/route.js';
import {
  deploymentPods,
  endpointSlices,
  observedChildren,
  proxy,
  service,
  statefulSet,
  statefulSetPods,
  syncRequest,
  type Json,
  type Pod,
} from './fixtures/cluster.js';
import { SyncedProxy, configOf, post, testServer, type PoolConfig } from './helpers/hook.js';
import { codeBlocks, codeSpans, page, tableRows } from './helpers/markdown.js';

const app = testServer();
t.teardown(() => app.close());

/** A proxy synced again and again, its status read loosely: the claims below name the fields they check. */
const synced = (spec: Json) => new SyncedProxy<any>(spec);

const poolOf = (body: Json, name: string): PoolConfig => {
  const pool = configOf(body).pools[name];
  if (!pool) throw new Error(`no pool ${name} in config.json`);
  return pool;
};
const conditionTypes = (status: any): string[] => (status.conditions as Json[]).map((c) => String(c['type']));

t.test('the StatefulSet that keeps the tail is the one named like the pods’ hostname prefix, not like the Service', async (t) => {
  // docs/membership.md, "How membership and slot order work": "The StatefulSet itself (the one named like the pods'
  // hostname prefix, which Metacontroller sends) also keeps the current list's tail while its `spec.replicas`
  // still wants those pods: the highest pod, which a rolling restart takes down first, keeps its slot while it
  // is away".
  const svc = service({ name: 'mc', headless: true });
  const slices = (ordinals: number[]) => endpointSlices('mc', statefulSetPods('memcached', ordinals));
  const dns = (n: number) => `memcached-${n}.mc.default.svc.cluster.local:11211`;

  const kept = synced({ serviceName: 'mc' });
  const sts = statefulSet('memcached', 3, { serviceName: 'mc' });
  t.same(poolOf((await kept.sync(app, [svc, ...slices([0, 1, 2]), sts])).body, 'mc').servers, [dns(0), dns(1), dns(2)]);
  const away = await kept.sync(app, [svc, ...slices([0, 1]), sts]);
  t.same(poolOf(away.body, 'mc'), { servers: [dns(0), dns(1), dns(2)] }, 'StatefulSet memcached (replicas 3) in related: pod 2 keeps its slot');
  t.equal(away.status.servers, 3, 'the kept slot counts as a server');
  t.equal(away.status.readyServers, 2);

  const dropped = synced({ serviceName: 'mc' });
  await dropped.sync(app, [svc, ...slices([0, 1, 2])]);
  t.same(poolOf((await dropped.sync(app, [svc, ...slices([0, 1])])).body, 'mc'), { servers: [dns(0), dns(1)] }, 'no StatefulSet in related: pod 2’s slot is dropped');

  // A StatefulSet named like the Service, not like the pods, says nothing about them.
  const misnamed = synced({ serviceName: 'mc' });
  const mcSts = statefulSet('mc', 3, { serviceName: 'mc' });
  await misnamed.sync(app, [svc, ...slices([0, 1, 2]), mcSts]);
  t.same(poolOf((await misnamed.sync(app, [svc, ...slices([0, 1]), mcSts])).body, 'mc'), { servers: [dns(0), dns(1)] }, 'a StatefulSet named mc is not the pods’ one');
});

t.test('a non-headless Service gives StatefulSet pods no DNS names: they are listed by IP', async (t) => {
  // docs/membership.md, "Addresses": "A non-headless Service gives its pods no DNS names, so there the IP is used even for
  // StatefulSet pods."
  const svc = service({ name: 'memcached', headless: false });
  const pods = statefulSetPods('memcached', [0, 1, 2]);
  t.ok(pods.every((p) => p.hostname), 'the pods have hostnames, as a StatefulSet sets them');
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'cache', spec: { serviceName: 'memcached' } }), related: [svc, ...endpointSlices('memcached', pods)] }));
  t.equal(res.statusCode, 200);
  t.same(poolOf(res.body, 'memcached'), { servers: ['10.244.1.10:11211', '10.244.1.11:11211', '10.244.1.12:11211'] });
});

t.test('moving a running pool from a ClusterIP Service to a headless one rewrites it by DNS name; keyspaceMoved reads 1', async (t) => {
  // docs/membership.md, "Scaling and restarts": "Moving a running proxy's pool from a ClusterIP Service to a headless one
  // changes every server's address (IP to DNS name): the list is written afresh in ordinal order, which moves
  // most keys once (and `keyspaceMoved` counts every server whose address string changed, so it reads 1 even
  // where a pod kept its index)."
  const pods = statefulSetPods('memcached', [0, 1, 2]);
  const slices = endpointSlices('memcached', pods);
  const ips = ['10.244.1.10:11211', '10.244.1.11:11211', '10.244.1.12:11211'];
  const names = [0, 1, 2].map((n) => `memcached-${n}.memcached.default.svc.cluster.local:11211`);
  const mp = synced({ serviceName: 'memcached' });
  const before = await mp.sync(app, [service({ name: 'memcached', headless: false }), ...slices]);
  t.same(poolOf(before.body, 'memcached').servers, ips, 'behind the ClusterIP Service: by IP');
  // clusterIP is immutable: the user deletes the Service and creates it headless (the hook reads no uid).
  const after = await mp.sync(app, [service({ name: 'memcached', headless: true }), ...slices]);
  t.same(poolOf(after.body, 'memcached'), { servers: names }, 'behind the headless Service: by DNS name, in ordinal order');
  const change = after.status.lastChange;
  t.ok(change, 'the change is recorded');
  t.equal(change?.keyspaceMoved, 1, 'every address string changed: keyspaceMoved is 1');
  t.same(change?.pools, ['memcached']);
  t.same([...(change?.added ?? [])].sort(), names);
  t.same([...(change?.removed ?? [])].sort(), ips);
});

t.test('status.target: the pools routed to, comma-separated', async (t) => {
  // README, "Status": "`target` | the pools routed to, comma-separated", in the order the rules name them.
  const spec = { rules: { children: [{ service: { name: 'b' } }, { service: { name: 'a' } }] } };
  const related = [
    service({ name: 'a', headless: true }),
    service({ name: 'b', headless: true }),
    ...endpointSlices('a', statefulSetPods('a', [0, 1])),
    ...endpointSlices('b', statefulSetPods('b', [0, 1], 3)),
  ];
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'cache', spec }), related }));
  t.equal(res.statusCode, 200);
  t.equal((res.body['status'] as any).target, 'b,a');
});

t.test('kstatus conditions: Reconciling for PortNotFound and NoServers; neither Reconciling nor Stalled for Deleting', async (t) => {
  // docs/api.md, "Status" (the README's Status says it shorter): "`Reconciling` while `Ready` is `False` for `Progressing`, `ServiceNotFound`,
  // `PortNotFound`, `NoServers` or `NoReadyServers` ... Neither for `ScaledToZero` ... or `Deleting`."
  // Also: "Present only while `True`, with `Ready`'s reason and message".
  const pool = service({ name: 'memcached', headless: true });
  const members = (ordinals: number[]) => [pool, ...endpointSlices('memcached', statefulSetPods('memcached', ordinals))];
  const statusFor = async (parent: Json, related: Json[], children?: Json[]) =>
    (await post(app, '/sync', syncRequest({ parent, related, ...(children ? { children } : {}) }))).body['status'] as any;
  const check = (t: Test, status: any, reason: string) => {
    t.same(conditionTypes(status), ['Ready', 'Reconciling']);
    const [ready, reconciling] = status.conditions as Json[];
    t.same([ready!['status'], ready!['reason']], ['False', reason]);
    t.same(
      [reconciling!['status'], reconciling!['reason'], reconciling!['message']],
      ['True', reason, ready!['message']],
      'Reconciling is True, with Ready’s reason and message',
    );
  };

  const noPort = await statusFor(proxy({ name: 'cache', spec: { serviceName: 'memcached', servicePort: 'admin' } }), members([0, 1]));
  check(t, noPort, 'PortNotFound');
  const noServers = await statusFor(proxy({ name: 'cache', spec: { serviceName: 'memcached' } }), members([]));
  check(t, noServers, 'NoServers');

  // Deleting: the proxy has a deletionTimestamp (Metacontroller still syncs it while a finalizer holds it).
  const parent = proxy({ name: 'cache', spec: { serviceName: 'memcached' } });
  const first = await post(app, '/sync', syncRequest({ parent, related: members([0, 1]) }));
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const deleting = proxy({ name: 'cache', spec: { serviceName: 'memcached' } });
  Object.assign(deleting['metadata'] as Json, { deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: ['foregroundDeletion'] });
  const whole = await statusFor(deleting, members([0, 1]), children);
  t.same(conditionTypes(whole), ['Ready'], 'Deleting, children still there: Ready alone');
  t.same([whole.conditions[0].status, whole.conditions[0].reason], ['False', 'Deleting']);
  // The same proxy being deleted whose Service has no endpoints (NoServers otherwise, which would be Reconciling).
  const empty = await statusFor(deleting, members([]), children);
  t.same(conditionTypes(empty), ['Ready'], 'Deleting wins over NoServers: no Reconciling');
  t.same([empty.conditions[0].status, empty.conditions[0].reason], ['False', 'Deleting']);
});

t.test('a first list lists every member, terminating ones too', async (t) => {
  // docs/membership.md, "Slot order": "a terminating pod that has no slot never gets one (a first list, which has no slots
  // yet, lists every member, terminating ones too)".
  const svc = service({ name: 'memcached-deploy' });
  const pods = deploymentPods('memcached-deploy', 3);
  const leaving: Pod[] = pods.map((p, i) => (i === 1 ? { ...p, terminating: true } : p));
  const mp = synced({ serviceName: 'memcached-deploy' });
  const first = await mp.sync(app, [svc, ...endpointSlices('memcached-deploy', leaving)]);
  t.same(poolOf(first.body, 'memcached-deploy'), { servers: ['10.244.2.2:11211', '10.244.2.3:11211', '10.244.2.4:11211'] }, 'no observed ConfigMap: the terminating pod is listed');

  // The contrast: with a current list, a terminating pod that has no slot gets none.
  const later = synced({ serviceName: 'memcached-deploy' });
  await later.sync(app, [svc, ...endpointSlices('memcached-deploy', [pods[0]!, pods[2]!])]);
  const again = await later.sync(app, [svc, ...endpointSlices('memcached-deploy', leaving)]);
  t.same(poolOf(again.body, 'memcached-deploy'), { servers: ['10.244.2.2:11211', '10.244.2.4:11211'] }, 'a current list: no slot for the terminating newcomer');
});

t.test('holes: a departed middle server stays with weight 0; compacted only beyond half the slots; trailing holes dropped up to an older one', async (t) => {
  // docs/membership.md, "Slot order": "A server that leaves a middle slot leaves a **hole**: its address stays with weight 0
  // in the pool's `weights` ... Trailing holes this sync opened are dropped; an older hole stays, at the tail too,
  // until a newcomer fills it ... Holes are compacted only when they would exceed half the slots."
  const svc = service({ name: 'memcached-deploy' });
  const pods = deploymentPods('memcached-deploy', 6);
  const ip = ['10.244.2.2', '10.244.2.3', '10.244.2.4', '10.244.2.5', '10.244.2.6', '10.244.2.7'].map((a) => `${a}:11211`);
  t.same(pods.map((p) => `${p.ip}:11211`), ip, 'the fixture pods (natural order = this order)');
  const mp = synced({ serviceName: 'memcached-deploy' });
  const run = async (keep: number[]) => {
    const { body, status } = await mp.sync(app, [svc, ...endpointSlices('memcached-deploy', keep.map((i) => pods[i]!))]);
    return { pool: poolOf(body, 'memcached-deploy'), status };
  };

  t.same((await run([0, 1, 2, 3, 4, 5])).pool, { servers: ip });
  const one = await run([0, 2, 3, 4, 5]);
  t.same(one.pool, { servers: ip, weights: [1, 0, 1, 1, 1, 1] }, 'pod 1 leaves: a hole at its index, its address kept');
  t.same([one.status.servers, one.status.pools[0].holes], [5, 1], 'a hole is no server');
  t.same((await run([0, 3, 4, 5])).pool, { servers: ip, weights: [1, 0, 0, 1, 1, 1] }, 'two holes of six');
  const half = await run([0, 4, 5]);
  t.same(half.pool, { servers: ip, weights: [1, 0, 0, 0, 1, 1] }, 'three holes of six: exactly half, not compacted');
  t.same([half.status.servers, half.status.pools[0].holes], [3, 3]);
  const beyond = await run([0, 5]);
  t.same(beyond.pool, { servers: [ip[0], ip[5]] }, 'four holes of six would exceed half: compacted, trailing holes dropped');
  t.same([beyond.status.servers, beyond.status.pools[0].holes], [2, 0]);

  // [a, hole, c], then c leaves: c's slot goes, the older hole stays, one of two: not compacted.
  const small = synced({ serviceName: 'memcached-deploy' });
  const three = pods.slice(0, 3);
  const list = async (keep: Pod[]) => poolOf((await small.sync(app, [svc, ...endpointSlices('memcached-deploy', keep)])).body, 'memcached-deploy');
  t.same(await list(three), { servers: ip.slice(0, 3) });
  t.same(await list([three[0]!, three[2]!]), { servers: ip.slice(0, 3), weights: [1, 0, 1] }, '[a, hole, c]');
  t.same(await list([three[0]!]), { servers: ip.slice(0, 2), weights: [1, 0] }, 'c leaves: [a, hole]');
  // [a, b, c, d]: c leaves, then d: d's slot goes, c's older hole stays. Both at once: both dropped.
  const four = pods.slice(0, 4);
  const older = synced({ serviceName: 'memcached-deploy' });
  const listed = async (keep: Pod[], at = older) => poolOf((await at.sync(app, [svc, ...endpointSlices('memcached-deploy', keep)])).body, 'memcached-deploy');
  t.same(await listed(four), { servers: ip.slice(0, 4) });
  t.same(await listed([four[0]!, four[1]!, four[3]!]), { servers: ip.slice(0, 4), weights: [1, 1, 0, 1] }, '[a, b, hole, d]');
  t.same(await listed([four[0]!, four[1]!]), { servers: ip.slice(0, 3), weights: [1, 1, 0] }, "d leaves: its slot goes, the older hole stays, at the tail now");
  t.same(await listed(four), { servers: ip.slice(0, 4) }, 'both back: each in its own hole');
  const together = synced({ serviceName: 'memcached-deploy' });
  t.same(await listed(four, together), { servers: ip.slice(0, 4) });
  t.same(await listed([four[0]!, four[1]!], together), { servers: ip.slice(0, 2) }, 'c and d leave in one sync: both holes new, dropped as trailing');
});

t.test('a compaction moves tail servers into the holes, and their keys with them', async (t) => {
  // docs/membership.md, "What to expect": "a compaction moves tail servers into the holes, and their keys move with them
  // (DESIGN 6): a pool of 10 that has lost 6 pods from its middle one by one moves from about 45% to two thirds of its
  // keys at the sixth, by which slots went (about 60% when the odd slots went first), where the pod alone held 20%."
  const svc = service({ name: 'memcached-deploy' });
  const pods = deploymentPods('memcached-deploy', 10);
  const departures = async (order: number[]) => {
    const mp = synced({ serviceName: 'memcached-deploy' });
    const left = new Set<number>();
    const moved: number[] = [];
    await mp.sync(app, [svc, ...endpointSlices('memcached-deploy', pods)]);
    for (const gone of order) {
      left.add(gone);
      const { status } = await mp.sync(app, [svc, ...endpointSlices('memcached-deploy', pods.filter((_, i) => !left.has(i)))]);
      moved.push(status.lastChange.keyspaceMoved);
    }
    return { moved, pool: (mp.status as { pools: { servers: number; holes: number }[] }).pools[0]! };
  };
  const { moved, pool } = await departures([1, 3, 5, 7, 2, 4]);
  // Before the sixth, each departure costs only its pod's keys: a tenth, then a ninth of what is left, ...
  moved.slice(0, 5).forEach((share, i) => t.ok(Math.abs(share - 1 / (10 - i)) < 0.02, `departure ${i + 1}: ${share}, about 1/${10 - i}`));
  t.ok(Math.abs(moved[5]! - 0.6) < 0.03, `the sixth compacts: about 60% (${moved[5]})`);
  t.same([pool.servers, pool.holes < 5], [4, true], 'four servers left, the holes no longer past half');
  // Other middle slots, in other orders: the sixth moves from about 45% to two thirds.
  for (const order of [[2, 3, 4, 5, 6, 7], [7, 6, 5, 4, 3, 2], [8, 1, 6, 3, 4, 5], [1, 2, 7, 8, 4, 5], [3, 6, 1, 8, 2, 7]]) {
    const sixth = (await departures(order)).moved[5]!;
    t.ok(sixth >= 0.43 && sixth <= 0.67, `${JSON.stringify(order)}: the sixth moves ${sixth}`);
  }
});

t.test('the mcrouter pods run as the namespace’s default ServiceAccount; spec pull secrets go into the pod', async (t) => {
  // docs/api.md (and the README), spec.mcrouter.imagePullSecrets: "without it the pods pull with the namespace's `default`
  // ServiceAccount's pull secrets"; with it, the pod names its own, which Kubernetes then leaves as they are.
  const image = 'registry.example.com/team/mcrouter:0.41.0';
  const podOf = async (mcrouter: Json) => {
    const { body } = await synced({ serviceName: 'memcached', mcrouter }).sync(app, [service({ name: 'memcached' })]);
    const deployment = (body['children'] as Json[]).find((c) => c['kind'] === 'Deployment') as { spec: { template: { spec: Json } } };
    return deployment.spec.template.spec;
  };
  const plain = await podOf({ image });
  t.equal(plain['serviceAccountName'], undefined, 'no ServiceAccount named: the namespace’s default');
  t.equal(plain['imagePullSecrets'], undefined, 'no pull secrets in the pod: the ServiceAccount’s apply');
  t.equal((plain['containers'] as Json[])[0]!['image'], image);
  const own = await podOf({ image, imagePullSecrets: [{ name: 'team-registry' }] });
  t.same(own['imagePullSecrets'], [{ name: 'team-registry' }]);
  t.equal(own['serviceAccountName'], undefined);
});

t.test("the README's spec.mcrouter table has a row for every field of the schema, and no other", async (t) => {
  const fields = tableRows(page('README.md'), '| field | default | what |').flatMap(([names]) => codeSpans(names!));
  t.same([...fields].sort(), Object.keys(McrouterSpec.properties).sort());
});

t.test("the README's Scaling and restarts table is bench/CHURN.md's, the committed run of npm run churn", async (t) => {
  const readme = tableRows(page('README.md'), '| event | best possible | this operator | naive controller |');
  const churn = tableRows(page('bench/CHURN.md'), '| # | event | servers | best | operator | naive | operator, worst step | naive, worst step | other keys lost: operator / naive | lastChange.keyspaceMoved |');
  t.equal(churn.length, 10, 'ten events in the run');
  const percent = (cell: string) => cell.replace(/\*/g, '');
  // The README gives the four restarts of one rolling restart as one row, as ranges; every other event as it is.
  const rows = [[0], [1], [2, 3, 4, 5], [6], [7], [8], [9]].map((events) => events.map((i) => churn[i]!));
  t.equal(readme.length, rows.length);
  readme.forEach((row, i) => {
    const events = rows[i]!;
    const range = (column: number) => {
      const values = events.map((e) => percent(e[column]!)).sort((a, b) => parseFloat(a) - parseFloat(b));
      return values.length === 1 || values[0] === values.at(-1) ? values[0]! : `${values[0]!.replace('%', '')}–${values.at(-1)}`;
    };
    t.same([row[1], percent(row[2]!), row[3]].map((c) => c!.replace(/\*/g, '')), [range(3), range(4), range(5)], `${row[0]}: best, operator, naive`);
  });
  const summary = /operator ([\d.]+%), naive ([\d.]+%) \([\d.]+×\), best possible ([\d.]+%)/.exec(page('bench/CHURN.md'))!;
  t.ok(page('README.md').includes(`the operator lost ${summary[1]} of keys per event on average,\nthe naive controller ${summary[2]}, and the best possible was ${summary[3]}.`), 'the averages over the ten events');
});

t.test("the README's v0.0.2 object syncs as it is, writes and deletes reaching one server of each Service", async (t) => {
  // README, The API: "v0.0.2's own combined example, a replicated rule over two sharded Services, syncs as it is: a set
  // or a delete reaches one server of each Service, chosen by the key, and a get reads the one `Latest` picks."
  const block = codeBlocks(page('README.md'), 'yaml').find((b) => b.includes('sharded1-memcached'));
  if (!block) throw new Error("no v0.0.2 example in the README's yaml blocks");
  const doc = parseYaml(block) as { metadata: { name: string }; spec: Json };
  const dns = (name: string, n: number) => `${name}-${n}.${name}.default.svc.cluster.local:11211`;
  const related = ['sharded1-memcached', 'sharded2-memcached'].flatMap((name, i) => [
    service({ name, headless: true }),
    ...endpointSlices(name, statefulSetPods(name, [0, 1, 2], 20 + i)),
  ]);
  const one = [0, 1, 2].map((n) => dns('sharded1-memcached', n));
  const two = [0, 1, 2].map((n) => dns('sharded2-memcached', n));
  const { body, status } = await new SyncedProxy<any>(doc.spec, doc.metadata.name, 'v1', t).sync(app, related);
  t.match(status.conditions.find((c: Json) => c['type'] === 'Ready'), { reason: 'Progressing' }, 'both Services found: only the Deployment is awaited');
  const tree = compileConfig(configOf(body));
  const wrong: string[] = [];
  for (const key of sampleKeys(100)) {
    for (const op of ['set', 'delete'] as Operation[]) {
      const { primary } = tree.route(key, op);
      if (primary.length !== 2 || !one.includes(primary[0]!) || !two.includes(primary[1]!)) wrong.push(`${op} ${key}: ${primary}`);
    }
    const get = tree.route(key, 'get').primary;
    if (get.length !== 1 || ![...one, ...two].includes(get[0]!)) wrong.push(`get ${key}: ${get}`);
  }
  t.same(wrong.slice(0, 5), [], 'every set and delete reaches one server of each Service; every get one server');
});

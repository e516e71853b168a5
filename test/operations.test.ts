/**
 * What a user of a proxy sees every day, through the sync hook: a status that
 * tells the truth, reload modes, the PodDisruptionBudget, every spec.mcrouter
 * field on the pod, the exporter sidecar, and children the API server accepts
 * under the restricted Pod Security Standard.
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { LAST_APPLIED, deploymentStatus, endpointSlices, observedChildren, proxy, service, statefulSet, statefulSetPods, syncRequest, type Json } from './fixtures/cluster.js';
import { McrouterSpec } from '../src/api/memcached-proxy.js';
import { READY_REASONS } from '../src/api/proxy-status.js';
import { KSTATUS_RULES, type KstatusRule } from '../src/core/status.js';
import { sync } from '../src/core/sync.js';
import { DEFAULT_SETTINGS } from '../src/settings.js';
import { SyncedProxy, childOf, configOf, post, testServer } from './helpers/hook.js';
import { podTemplatesOf, restrictedViolations } from './helpers/pod-security.js';
import { codeSpans, page, tableRows } from './helpers/markdown.js';
import { run } from './helpers/k8s-tools.js';
import { propertySeed } from './helpers/property-runs.js';

const app = testServer();
t.teardown(() => app.close());

const NAME = 'cache';
const pool = service({ name: 'memcached-pool1', headless: true });
const members = (ordinals: number[], ready = true) => [
  pool,
  ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', ordinals, 1, { ready })),
];
const cache = (mcrouter: Json = {}, opts: { status?: Json; generation?: number; spec?: Json } = {}) =>
  proxy({
    name: NAME,
    spec: { serviceName: 'memcached-pool1', ...(Object.keys(mcrouter).length ? { mcrouter } : {}), ...opts.spec },
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.generation ? { generation: opts.generation } : {}),
  });

const statusOf = (body: Json) => body['status'] as any;
const readyOf = (body: Json) => statusOf(body).conditions.find((c: Json) => c['type'] === 'Ready');
const podOf = (body: Json) => (childOf(body, 'Deployment')!['spec'] as any).template;
const containerOf = (body: Json, name: string) => podOf(body).spec.containers.find((c: Json) => c['name'] === name);
const kinds = (body: Json) => (body['children'] as Json[]).map((c) => c['kind']);
/** A spec sharded over one leaf per Service named. */
const shardedOver = (names: string[]) => ({ rules: { children: names.map((name) => ({ service: { name } })) } });
/** The answer for a proxy sharded over Services none of which exist yet. */
const withoutServices = (names: string[]) => post(app, '/sync', syncRequest({ parent: proxy({ name: NAME, spec: shardedOver(names) }), related: [] }));

/** Syncs once, then again with the children as the API server holds them after the apply. */
async function settled(parent: Json, related: Json[], opts: { rollingOut?: boolean } = {}) {
  const first = await post(app, '/sync', syncRequest({ parent, related }));
  const children = observedChildren(parent, first.body['children'] as Json[], opts);
  return { first, children, second: await post(app, '/sync', syncRequest({ parent, related, children })) };
}

t.test('Ready says why it is not, with a message a user can act on', async (t) => {
  const check = (t: Test, body: Json, status: string, reason: string, message: RegExp) => {
    t.match(readyOf(body), { type: 'Ready', status, reason, message, lastTransitionTime: '2026-11-25T12:00:00Z', observedGeneration: 1 });
  };

  const noService = await post(app, '/sync', syncRequest({ parent: cache(), related: [] }));
  check(t, noService.body, 'False', 'ServiceNotFound', /^Service memcached-pool1 not found in namespace default; requests routed to it fail until it has servers$/);

  const otherPort = await post(app, '/sync', syncRequest({ parent: cache({}, { spec: { servicePort: 'admin' } }), related: members([0]) }));
  check(t, otherPort.body, 'False', 'PortNotFound', /^Service memcached-pool1 has no port "admin" \(ports: memcache\/11211\)/);

  const noEndpoints = await post(app, '/sync', syncRequest({ parent: cache(), related: members([]) }));
  check(t, noEndpoints.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints; requests routed to it fail until it has servers$/);
  // Why none, where the request tells: a Service without a selector, whose endpoints only its owner writes; a StatefulSet scaled to 0.
  const unselected = await post(app, '/sync', syncRequest({ parent: cache(), related: [service({ name: 'memcached-pool1', selector: null })] }));
  check(t, unselected.body, 'False', 'NoServers', /^Service memcached-pool1 has no selector, and no endpoints written for it; requests routed to it fail until it has servers$/);
  const governed = await post(app, '/sync', syncRequest({ parent: cache(), related: [...members([]), statefulSet('memcached-pool1', 0), statefulSet('other', 0)] }));
  check(t, governed.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints: StatefulSet memcached-pool1 is scaled to 0; requests routed to it fail until it has servers$/);
  // Named by its serviceName only (its pods' DNS names), the selector matching other pods: scaling it up would list nothing.
  const elsewhere = statefulSet('memcached-pool1-old', 0, { serviceName: 'old' });
  (elsewhere['spec'] as Json)['serviceName'] = 'memcached-pool1';
  const unrelated = await post(app, '/sync', syncRequest({ parent: cache(), related: [...members([]), elsewhere] }));
  check(t, unrelated.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints; requests routed to it fail until it has servers$/);
  // Selected by its pods' labels (the StatefulSet governed by another, headless Service), and one still running, which is not named.
  const selecting = service({ name: 'memcached-pool1', selector: { 'app.kubernetes.io/name': 'memcached', 'app.kubernetes.io/instance': 'mc-peers' } });
  const sets = [statefulSet('mc-b', 0, { serviceName: 'mc-peers' }), statefulSet('mc-a', 0, { serviceName: 'mc-peers' }), statefulSet('mc-c', 2, { serviceName: 'mc-peers' })];
  const matched = await post(app, '/sync', syncRequest({ parent: cache(), related: [selecting, ...sets] }));
  check(t, matched.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints: StatefulSet mc-a, mc-b are scaled to 0; requests routed to it fail until it has servers$/);
  // Every label of the selector, not some: a StatefulSet of another app in the same instance is not named.
  const redis = statefulSet('redis-peers', 0, { serviceName: 'mc-peers' });
  ((redis['spec'] as any).template.metadata.labels as Json)['app.kubernetes.io/name'] = 'redis';
  const others = [statefulSet('mc-x', 0, { serviceName: 'x' }), statefulSet('mc-y', 0, { serviceName: 'y' })];
  const notAll = await post(app, '/sync', syncRequest({ parent: cache(), related: [selecting, sets[1]!, redis, ...others] }));
  check(t, notAll.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints: StatefulSet mc-a is scaled to 0; requests routed to it fail until it has servers$/);
  // A StatefulSet the schema lets through without a spec wants one pod (the API server's default): not read further.
  const specless = statefulSet('mc-z', 1);
  delete specless['spec'];
  const unread = await post(app, '/sync', syncRequest({ parent: cache(), related: [selecting, sets[1]!, specless] }));
  check(t, unread.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints: StatefulSet mc-a is scaled to 0; requests routed to it fail until it has servers$/);
  // Only the proxy's namespace, and a StatefulSet without spec.replicas wants one pod (the API server's default).
  const away = await post(app, '/sync', syncRequest({ parent: cache(), related: [...members([]), statefulSet('memcached-pool1', 0, { namespace: 'other' })] }));
  check(t, away.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints; requests routed to it fail until it has servers$/);
  const unset = statefulSet('memcached-pool1', 1);
  delete (unset['spec'] as Json)['replicas'];
  const defaulted = await post(app, '/sync', syncRequest({ parent: cache(), related: [...members([]), unset] }));
  check(t, defaulted.body, 'False', 'NoServers', /^Service memcached-pool1 has no endpoints; requests routed to it fail until it has servers$/);

  const { first, children, second } = await settled(cache(), members([0, 1, 2]));
  check(t, first.body, 'False', 'Progressing', /^waiting for Deployment cache-mcrouter, ConfigMap cache-mcrouter, Service cache to be created$/);
  check(t, second.body, 'True', 'Available', /^3 servers in 1 pool; 1 mcrouter replica available$/);
  // Ready needs one ready server in each pool, not all: the message says how many are.
  const pods = [...statefulSetPods('memcached-pool1', [0, 1], 1, { ready: false }), ...statefulSetPods('memcached-pool1', [2], 1)];
  const partly = await settled(cache(), [pool, ...endpointSlices('memcached-pool1', pods)]);
  check(t, partly.second.body, 'True', 'Available', /^3 servers \(1 ready\) in 1 pool; 1 mcrouter replica available$/);

  // Metacontroller applied a new spec; the Deployment controller has not caught up: its counts are stale.
  const stale = structuredClone(children);
  const deployment = stale.find((c) => c['kind'] === 'Deployment')!;
  (deployment['metadata'] as Json)['generation'] = 3;
  const behind = await post(app, '/sync', syncRequest({ parent: cache(), related: members([0, 1, 2]), children: stale }));
  check(t, behind.body, 'False', 'Progressing', /^waiting for Deployment cache-mcrouter to observe generation 3 \(observed 2\)$/);

  const rolling = await settled(cache({ replicas: 3 }), members([0, 1, 2]), { rollingOut: true });
  check(
    t,
    rolling.second.body,
    'False',
    'Progressing',
    /^Deployment cache-mcrouter rolling out: 1 of 3 replicas updated, 3 available \(old ones included\), 3 old replicas still running$/,
  );

  // Scaled to zero: the Deployment is all there and available, yet no pod serves the Service.
  const zero = await settled(cache({ replicas: 0 }), members([0, 1, 2]));
  check(t, zero.second.body, 'False', 'ScaledToZero', /^spec\.mcrouter\.replicas is 0: no mcrouter pod serves Service cache$/);

  // A pool that loses its Service after being Ready keeps routing to the servers it had.
  const gone = await post(app, '/sync', syncRequest({ parent: cache(), related: [], children }));
  check(t, gone.body, 'False', 'ServiceNotFound', /not found in namespace default; keeping the 3 servers of the current config$/);
});

t.test('a pool whose endpoints are all not ready, or all terminating, is not Ready; one ready server is enough', async (t) => {
  const notReady = await settled(cache(), members([0, 1, 2], false));
  t.match(readyOf(notReady.second.body), {
    status: 'False',
    reason: 'NoReadyServers',
    message: /^Service memcached-pool1 has no ready endpoint \(3 servers in the config, none ready\): mcrouter still routes keys there/,
  });
  t.match(statusOf(notReady.second.body).pools, [{ name: 'memcached-pool1', servers: 3, readyServers: 0, reason: 'NoReadyServers' }]);
  t.equal(configOf(notReady.second.body).pools['memcached-pool1']!.servers.length, 3, 'they stay servers: a readiness blip moves no key');

  const terminating = [pool, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1], 1, { terminating: true }))];
  const leaving = await post(app, '/sync', syncRequest({ parent: cache(), related: terminating, children: notReady.children }));
  t.match(readyOf(leaving.body), { status: 'False', reason: 'NoReadyServers' });

  const oneReady = statefulSetPods('memcached-pool1', [0, 1, 2], 1, { ready: false }).map((p, i) => (i === 2 ? { ...p, ready: true } : p));
  const one = await post(app, '/sync', syncRequest({ parent: cache(), related: [pool, ...endpointSlices('memcached-pool1', oneReady)], children: notReady.children }));
  t.match(readyOf(one.body), { status: 'True', reason: 'Available', message: /^3 servers \(1 ready\) in 1 pool/ });
  t.notOk('reason' in statusOf(one.body).pools[0]);

  // Of two replicated pools, the one with no ready server is named; the other is not.
  const pool2 = service({ name: 'memcached-pool2', headless: true });
  const replicated = cache({}, {
    spec: { serviceName: undefined, rules: { type: 'replicated', children: [{ service: { name: 'memcached-pool1' } }, { service: { name: 'memcached-pool2' } }] } },
  });
  const related = [pool, pool2, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1])), ...endpointSlices('memcached-pool2', statefulSetPods('memcached-pool2', [0, 1], 2, { ready: false }))];
  const half = await settled(replicated, related);
  t.match(readyOf(half.second.body), { status: 'False', reason: 'NoReadyServers', message: /^Service memcached-pool2 has no ready endpoint \(2 servers in the config, none ready\)/ });
  t.same(statusOf(half.second.body).pools.map((p: Json) => p['reason']), [undefined, 'NoReadyServers']);
});

t.test('Rendezvous on an mcrouter image before 0.37 (the default 0.36 among them): the config is written, and Ready says it cannot load', async (t) => {
  const pool2 = service({ name: 'memcached-pool2', headless: true });
  const related = [...members([0, 1, 2]), pool2, ...endpointSlices('memcached-pool2', statefulSetPods('memcached-pool2', [0, 1], 2))];
  const sharded = (hash: string, image?: string, type = 'sharded') =>
    cache(image === undefined ? {} : { image }, {
      spec: { serviceName: undefined, rules: { type, hash, children: [{ service: { name: 'memcached-pool1' } }, { service: { name: 'memcached-pool2' } }] } },
    });
  const byDefault = await settled(sharded('Rendezvous'), related);
  t.match(readyOf(byDefault.second.body), {
    status: 'False',
    reason: 'McrouterTooOld',
    message:
      "mcrouter image jphalip/mcrouter:0.36.0 (the hook's default) is mcrouter 0.36, which cannot load the Rendezvous hash the spec asks for (mcrouter 0.37 or later): " +
      'set spec.mcrouter.image to one; until then running pods keep the config they have, and new pods fail to start',
  });
  t.match(statusOf(byDefault.second.body).conditions, [{ type: 'Ready' }, { type: 'Stalled', status: 'True', reason: 'McrouterTooOld' }], 'kstatus: Stalled');
  t.match(configOf(byDefault.second.body), { route: { hash_func: 'Rendezvous' } }, 'the config the spec asks for is still written (DESIGN §7)');

  // Said before a pool's trouble: while it lasts, nothing the pools do can serve.
  const oneEmpty = await post(app, '/sync', syncRequest({ parent: sharded('Rendezvous'), related: [...members([0, 1, 2]), pool2] }));
  t.match(readyOf(oneEmpty.body), { status: 'False', reason: 'McrouterTooOld' });
  // Below the root: a replicated rule over pools each sharded by Rendezvous.
  const zones = cache({}, {
    spec: { serviceName: undefined, rules: { type: 'replicated', children: [{ hash: 'Rendezvous', service: { name: 'memcached-pool1' } }, { hash: 'Rendezvous', service: { name: 'memcached-pool2' } }] } },
  });
  t.match(readyOf((await settled(zones, related)).second.body), { status: 'False', reason: 'McrouterTooOld' });
  const tooOld = await settled(sharded('Rendezvous', 'registry.example.com:5000/mcrouter:v0.36.0-bionic'), related);
  t.match(readyOf(tooOld.second.body), { reason: 'McrouterTooOld', message: /^mcrouter image registry\.example\.com:5000\/mcrouter:v0\.36\.0-bionic is mcrouter 0\.36, / });
  // A version of 0.37 on, or a tag that names none (about which nothing is claimed), or a hash nothing shards by.
  for (const [hash, image, type] of [
    ['Rendezvous', 'mcrouter:0.37.0'],
    ['Rendezvous', 'mcrouter:v2023.07.17.00'],
    ['Rendezvous', 'registry.example.com:5000/mcrouter'],
    ['Rendezvous', 'mcrouter:latest'],
    ['Rendezvous', 'mcrouter@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    // Pinned by digest: the digest decides what runs, whatever the tag says.
    ['Rendezvous', 'mcrouter:0.36.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    ['Rendezvous', undefined, 'replicated'],
    ['Crc32', undefined],
  ] as const) {
    const { second } = await settled(sharded(hash, image, type), related);
    t.match(readyOf(second.body), { status: 'True', reason: 'Available' }, `${type ?? 'sharded'} by ${hash} on ${image ?? 'the default image'}`);
  }
});

t.test('a proxy being deleted says so: Metacontroller no longer applies its children', async (t) => {
  const { children } = await settled(cache(), members([0, 1, 2]));
  const deleting = cache();
  Object.assign(deleting['metadata'] as Json, { deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: ['foregroundDeletion'] });
  const whole = await post(app, '/sync', syncRequest({ parent: deleting, related: members([0, 1, 2]), children }));
  t.match(readyOf(whole.body), { status: 'False', reason: 'Deleting', message: /^the proxy is being deleted \(since 2026-11-25T11:59:30Z\)/ });
  t.same(kinds(whole.body), kinds((await settled(cache(), members([0, 1, 2]))).second.body), 'the same children: nothing is dropped');
  // The garbage collector has taken the children: nothing is waited for.
  const collected = await post(app, '/sync', syncRequest({ parent: deleting, related: [] }));
  t.match(readyOf(collected.body), { status: 'False', reason: 'Deleting' });
  t.notMatch(readyOf(collected.body).message, /waiting|created/);
});

t.test('a change the ConfigMap does not hold yet is recorded once, not again at every sync', async (t) => {
  const { children, second } = await settled(cache(), members([0, 1, 2]));
  const grown = await post(app, '/sync', syncRequest({ parent: cache({}, { status: statusOf(second.body) }), related: members([0, 1, 2, 3]), children }));
  const change = statusOf(grown.body).lastChange;
  t.match(change, { time: '2026-11-25T12:00:00Z', added: [/^memcached-pool1-3\./] });
  t.same([change.added.length, change.removed], [1, []], 'only pod 3 added');
  // Metacontroller wrote that status, and syncs again before the ConfigMap is applied (or when it cannot be):
  // the status must not change, or each write would bring another sync.
  const later = testServer({ clock: () => new Date('2026-11-25T12:00:05Z') });
  t.teardown(() => later.close());
  const again = await post(later, '/sync', syncRequest({ parent: cache({}, { status: statusOf(grown.body) }), related: members([0, 1, 2, 3]), children }));
  t.same(statusOf(again.body), statusOf(grown.body));
  t.same(again.body['children'], grown.body['children'], 'the same children and status: Metacontroller has nothing to write');
  t.equal(again.body['resyncAfterSeconds'], 25, 'and a sync when the 30 s the ConfigMap may lag behind the status are up');
  // Without that status (a status written by another hook version, say), the change is recorded afresh.
  const fresh = await post(later, '/sync', syncRequest({ parent: cache({}, { status: statusOf(second.body) }), related: members([0, 1, 2, 3]), children }));
  t.equal(statusOf(fresh.body).lastChange.time, '2026-11-25T12:00:05Z');
});

t.test('status.target, kubectl get\'s column, names the pools that fit in 256 characters, then how many more', async (t) => {
  const names = Array.from({ length: 64 }, (_, i) => `memcached-shard-${String(i).padStart(2, '0')}-${'x'.repeat(40)}`);
  const status = statusOf((await withoutServices(names)).body);
  t.equal(status.pools.length, 64, 'status.pools lists them all');
  t.ok(status.target.length <= 256, `${status.target.length} characters`);
  const shown = status.target.split(',… (')[0].split(',');
  t.same(shown, names.slice(0, shown.length), 'the first pools, in order');
  t.equal(status.target, `${shown.join(',')},… (${64 - shown.length} more)`);
  const few = statusOf((await withoutServices(names.slice(0, 3))).body);
  t.equal(few.target, names.slice(0, 3).join(','), 'all of them when they fit');
  // Whatever the names' length, the pools shown and the count after them fit together.
  for (const length of [20, 33, 50, 61, 63]) {
    const long = Array.from({ length: 64 }, (_, i) => `m${String(i).padStart(2, '0')}-${'y'.repeat(length - 4)}`);
    const target = statusOf((await withoutServices(long)).body).target;
    t.ok(target.length <= 256 && target.endsWith(' more)'), `names of ${length} characters: ${target.length} characters`);
  }
});

t.test('status counts servers, pools and replicas from what was observed', async (t) => {
  const pods = statefulSetPods('memcached-pool1', [0, 1, 2, 3]).map((p, i) => (i === 1 ? { ...p, ready: false } : p));
  const related = [pool, ...endpointSlices('memcached-pool1', pods)];
  const parent = cache({ replicas: 2 }, { generation: 7 });
  const first = await post(app, '/sync', syncRequest({ parent, related }));
  const children = observedChildren(parent, first.body['children'] as Json[]);
  const deployment = children.find((c) => c['kind'] === 'Deployment')!;
  deployment['status'] = { ...(deployment['status'] as Json), readyReplicas: 1, availableReplicas: 1 };
  const res = await post(app, '/sync', syncRequest({ parent, related, children }));
  const status = statusOf(res.body);
  const configText = (childOf(res.body, 'ConfigMap')!['data'] as Record<string, string>)['config.json']!;
  // Each field exactly: t.match took a configHash of the whole SHA-256 (64 digits), as it only contains the first 16.
  const expected = {
    observedGeneration: 7,
    target: 'memcached-pool1',
    servers: 4,
    readyServers: 3,
    pools: [{ name: 'memcached-pool1', service: 'memcached-pool1', port: 11211, servers: 4, readyServers: 3, holes: 0 }],
    configHash: createHash('sha256').update(configText).digest('hex').slice(0, 16),
    replicas: 2,
    readyReplicas: 1,
  };
  t.same(Object.fromEntries(Object.keys(expected).map((k) => [k, status[k]])), expected);
  t.match(status.configHash, /^[0-9a-f]{16}$/, 'the first 16 hex digits of the SHA-256 of config.json');
  t.notOk('lastChange' in status, 'no server list changed yet');
  t.match(readyOf(res.body), { status: 'False', reason: 'Progressing', message: 'Deployment cache-mcrouter has 1 of 2 replicas available', observedGeneration: 7 });
  t.equal(statusOf(first.body).replicas, 0, 'no Deployment observed: 0 replicas');
});

t.test('repeated syncs are byte-identical; lastTransitionTime moves only when Ready flips', async (t) => {
  const related = members([0, 1, 2]);
  const { children, second } = await settled(cache(), related);
  const parent = cache({}, { status: statusOf(second.body) });

  const later = testServer({ clock: () => new Date('2026-11-26T08:30:00Z') });
  const evenLater = testServer({ clock: () => new Date('2026-11-27T00:00:00Z') });
  t.teardown(() => Promise.all([later.close(), evenLater.close()]));
  const a = await post(later, '/sync', syncRequest({ parent, related, children }));
  const b = await post(later, '/sync', syncRequest({ parent, related, children }));
  t.equal(a.statusCode, 200);
  t.equal(a.text, b.text, 'two identical syncs, the same bytes');
  t.equal(a.text, second.text, 'and the same bytes as the sync that made the status, a day earlier');

  const broken = await post(later, '/sync', syncRequest({ parent, related: [], children }));
  t.match(readyOf(broken.body), { status: 'False', reason: 'ServiceNotFound', lastTransitionTime: '2026-11-26T08:30:00Z' });
  const stillBroken = await post(evenLater, '/sync', syncRequest({
    parent: cache({}, { status: statusOf(broken.body) }),
    related: members([]),
    children,
  }));
  t.match(readyOf(stillBroken.body), { status: 'False', reason: 'NoServers', lastTransitionTime: '2026-11-26T08:30:00Z' }, 'False for another reason: the time stays');
});

t.test('a spec whose pod template the API server refuses: InvalidSpec and Stalled, while the servers stay current', async (t) => {
  const related = members([0, 1, 2]);
  const { children } = await settled(cache({ replicas: 2 }), related);
  // Generation 2 asks for more memory than its limit: the API server refuses the Deployment, Metacontroller applies the rest.
  const bad = cache({ replicas: 2, resources: { requests: { memory: '256Mi' }, limits: { memory: '128Mi' } } }, { generation: 2 });
  const refused = await post(app, '/sync', syncRequest({ parent: bad, related, children }));
  t.equal(refused.statusCode, 200, 'no 422: that would stop the config, and the servers with it');
  t.match(readyOf(refused.body), {
    status: 'False',
    reason: 'InvalidSpec',
    message: /^spec\.mcrouter\.resources\.requests\.memory: must be less than or equal to memory limit of 128Mi: the API server refuses Deployment cache-mcrouter with it, so its pods keep the spec they have until this is fixed; the config and the other children are applied$/,
    observedGeneration: 2,
  });
  t.match(statusOf(refused.body).conditions.find((c: Json) => c['type'] === 'Stalled'), { status: 'True', reason: 'InvalidSpec', observedGeneration: 2 });
  t.notOk('resyncAfterSeconds' in refused.body, 'nothing to wait for: a fixed spec is a new sync');
  // A pod leaves while the Deployment cannot be updated: the config follows it all the same.
  const fewer = await post(app, '/sync', syncRequest({ parent: { ...bad, status: statusOf(refused.body) }, related: members([0, 1]), children }));
  t.equal(readyOf(fewer.body).reason, 'InvalidSpec');
  const serversOf = (body: Json) => configOf(body).pools['memcached-pool1']!.servers;
  t.equal(serversOf(refused.body).length, 3);
  t.same(serversOf(fewer.body), serversOf(refused.body).slice(0, 2), 'the ConfigMap lists the servers there are');
  t.equal(statusOf(fewer.body).servers, 2);
  // Should the API server take it after all (a check of ours stricter than a newer version's), the Deployment is
  // the one asked for: no InvalidSpec, the rollout goes on as any other.
  const tookIt = observedChildren(bad, refused.body['children'] as Json[]);
  const taken = await post(app, '/sync', syncRequest({ parent: { ...bad, status: statusOf(refused.body) }, related, children: tookIt }));
  t.not(readyOf(taken.body).reason, 'InvalidSpec');
  // Fixed at generation 3: Progressing towards the new Deployment, Stalled gone.
  const fixed = cache({ replicas: 2, resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } } }, { generation: 3, status: statusOf(refused.body) });
  const going = await post(app, '/sync', syncRequest({ parent: fixed, related, children }));
  t.match(readyOf(going.body), { status: 'False', reason: 'Progressing', message: /to be updated to the proxy's spec$/ });
  t.notOk(statusOf(going.body).conditions.some((c: Json) => c['type'] === 'Stalled'), 'no longer Stalled');
});

t.test('an integer past 2^53 in a field copied into the pod template: InvalidSpec, not a value copied rounded', async (t) => {
  const related = members([0, 1, 2]);
  const { children } = await settled(cache({ replicas: 2 }), related);
  // The API server stores int64 fields exactly and Metacontroller sends their digits; JSON.parse rounds them past
  // 2^53 (2^63 - 1 to 2^63, which no int64 holds, so the API server would refuse every update of the Deployment).
  const cases = [
    { at: 'spec.mcrouter.tolerations[0].tolerationSeconds', mcrouter: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }] }, digits: '9223372036854775807' },
    { at: 'spec.mcrouter.securityContext.runAsUser', mcrouter: { securityContext: { runAsUser: 1 } }, digits: '9007199254740993' },
    { at: 'spec.mcrouter.podSecurityContext.supplementalGroups[1]', mcrouter: { podSecurityContext: { supplementalGroups: [1000, 1] } }, digits: '-9007199254740992' },
  ];
  for (const { at, mcrouter, digits } of cases) {
    const text = JSON.stringify(syncRequest({ parent: cache({ replicas: 2, ...mcrouter }, { generation: 2 }), related, children }));
    const field = at.split('.').at(-1)!.replace(/\[1\]$/, '');
    const sent = field === 'supplementalGroups' ? text.replace('[1000,1]', `[1000,${digits}]`) : text.replace(`"${field}":1`, `"${field}":${digits}`);
    t.not(sent, text, `${at}: the request carries ${digits}`);
    const refused = await post(app, '/sync', sent);
    t.equal(refused.statusCode, 200, `${at}: no 422, the config goes on`);
    t.match(readyOf(refused.body), { status: 'False', reason: 'InvalidSpec', message: new RegExp(`^${at.replace(/[.[\]]/g, '\\$&')}: must be at most 9007199254740991 \\(2\\^53 - 1\\) in magnitude`) }, `${at}: named`);
    t.equal(configOf(refused.body).pools['memcached-pool1']!.servers.length, 3, `${at}: the config still follows the servers`);
  }
  // 2^53 - 1 itself is held exactly: copied as it is.
  const exact = await post(app, '/sync', syncRequest({ parent: cache({ replicas: 2, securityContext: { runAsUser: Number.MAX_SAFE_INTEGER } }, { generation: 2 }), related, children }));
  t.not(readyOf(exact.body).reason, 'InvalidSpec');
  t.equal(containerOf(exact.body, 'mcrouter').securityContext.runAsUser, Number.MAX_SAFE_INTEGER);
});

t.test('a spec change is Progressing until Metacontroller has applied the Deployment built from it', async (t) => {
  const related = members([0, 1, 2]);
  const { children } = await settled(cache({ replicas: 2 }), related);
  // Generation 2 changes the image. Metacontroller sends the children it observed, the old Deployment fully
  // rolled out, and applies the new one only after this answer.
  const changed = cache({ replicas: 2, image: 'mcrouter:0.41.0' }, { generation: 2 });
  const before = await post(app, '/sync', syncRequest({ parent: changed, related, children }));
  t.match(readyOf(before.body), {
    status: 'False',
    reason: 'Progressing',
    message: /^waiting for Deployment cache-mcrouter to be updated to the proxy's spec$/,
    observedGeneration: 2,
  });
  t.equal(containerOf(before.body, 'mcrouter').image, 'mcrouter:0.41.0');

  const applied = observedChildren(changed, before.body['children'] as Json[]);
  const after = await post(app, '/sync', syncRequest({ parent: changed, related, children: applied }));
  t.match(readyOf(after.body), { status: 'True', reason: 'Available', observedGeneration: 2 }, 'Available once the new Deployment has rolled out');

  // A spec field the Deployment is not built from (the pools) changes nothing for the Deployment.
  const repooled = cache({ replicas: 2 }, { generation: 2, spec: { servicePort: 11211 } });
  const same = await post(app, '/sync', syncRequest({ parent: repooled, related, children }));
  t.match(readyOf(same.body), { status: 'True', reason: 'Available' });
});

t.test('new routes are Progressing until the ConfigMap holds them (reload Watch: the Deployment does not change); endpoint changes keep Ready', async (t) => {
  const other = service({ name: 'memcached-pool2', headless: true });
  const related = [...members([0, 1, 2]), other, ...endpointSlices('memcached-pool2', statefulSetPods('memcached-pool2', [0, 1]))];
  const { second, children } = await settled(cache(), related);
  t.match(readyOf(second.body), { status: 'True', reason: 'Available', observedGeneration: 1 });
  // Generation 2 routes to another Service: only the ConfigMap changes, which Metacontroller applies after this answer.
  const moved = proxy({ name: NAME, generation: 2, spec: { serviceName: 'memcached-pool2' }, status: statusOf(second.body) });
  const before = await post(app, '/sync', syncRequest({ parent: moved, related, children }));
  t.same(childOf(before.body, 'Deployment'), childOf(second.body, 'Deployment'), 'the Deployment is unchanged');
  t.match(readyOf(before.body), { status: 'False', reason: 'Progressing', message: 'waiting for ConfigMap cache-mcrouter to hold the new config', observedGeneration: 2 });
  const stillBehind = proxy({ name: NAME, generation: 2, spec: { serviceName: 'memcached-pool2' }, status: statusOf(before.body) });
  t.match(readyOf((await post(app, '/sync', syncRequest({ parent: stillBehind, related, children }))).body), { reason: 'Progressing' }, 'and stays so while it is not applied');
  const applied = observedChildren(moved, before.body['children'] as Json[]);
  const after = await post(app, '/sync', syncRequest({ parent: stillBehind, related, children: applied }));
  t.match(readyOf(after.body), { status: 'True', reason: 'Available', observedGeneration: 2 });

  // Ready at this generation, an endpoint change rewrites the config too: the proxy stays Ready meanwhile.
  const readyNow = proxy({ name: NAME, generation: 2, spec: { serviceName: 'memcached-pool2' }, status: statusOf(after.body) });
  const grown = [...members([0, 1, 2]), other, ...endpointSlices('memcached-pool2', statefulSetPods('memcached-pool2', [0, 1, 2]))];
  const scaled = await post(app, '/sync', syncRequest({ parent: readyNow, related: grown, children: applied }));
  t.not(statusOf(scaled.body).configHash, statusOf(after.body).configHash, 'a new config');
  t.match(readyOf(scaled.body), { status: 'True', reason: 'Available' });
});

t.test('a ConfigMap update the API server refuses: Ready turns False once the ConfigMap has stayed behind the status for 30 s', async (t) => {
  const related = members([0, 1, 2]);
  const { second, children } = await settled(cache(), related);
  const ready = cache({}, { status: statusOf(second.body) });
  // A fourth pod: the hook asks for a new config. Metacontroller writes the status whatever became of the
  // children; here the API server refused the ConfigMap (a config past what its annotations hold, README Limits).
  const grown = members([0, 1, 2, 3]);
  const asked = await post(app, '/sync', syncRequest({ parent: ready, related: grown, children }));
  const reported = cache({}, { status: statusOf(asked.body) });
  t.match(statusOf(asked.body), { configSince: '2026-11-25T12:00:00Z', lastChange: { time: '2026-11-25T12:00:00Z' } });
  t.notOk('resyncAfterSeconds' in asked.body, 'the ConfigMap is not behind the status yet: nothing to wait for');
  const at = (time: string) => testServer({ clock: () => new Date(time) });
  const [soon, late] = [at('2026-11-25T12:00:29Z'), at('2026-11-25T12:00:30Z')];
  t.teardown(() => Promise.all([soon.close(), late.close()]));

  // Metacontroller syncs again on the status it wrote: the ConfigMap still holds the config before, and the wait
  // runs from when the status first asked for the new one; the status does not change meanwhile.
  const held = statusOf(second.body).configHash as string;
  const found = await post(app, '/sync', syncRequest({ parent: reported, related: grown, children }));
  t.same(statusOf(found.body), statusOf(asked.body));
  t.equal(found.body['resyncAfterSeconds'], 30);
  const behind = cache({}, { status: statusOf(found.body) });
  // Within the grace, a ConfigMap behind the status is one Metacontroller's cache has yet to show: still Ready,
  // and synced again when the grace ends, whatever Metacontroller's backoff has grown to.
  const lagging = await post(soon, '/sync', syncRequest({ parent: behind, related: grown, children }));
  t.match(readyOf(lagging.body), { status: 'True', reason: 'Available' });
  t.same(statusOf(lagging.body), statusOf(found.body), 'the status unchanged while it waits: nothing for Metacontroller to write');
  t.equal(lagging.body['resyncAfterSeconds'], 1, 'the grace\'s last second');
  // The server's clock is whole seconds (metav1.Time); the pure sync() takes any time, and rounds the wait up.
  const fraction = sync(syncRequest({ parent: behind, related: grown, children }) as never, { now: '2026-11-25T12:00:29.500Z', clusterDomain: 'cluster.local', images: { mcrouter: DEFAULT_SETTINGS.mcrouterImage, exporter: DEFAULT_SETTINGS.exporterImage } });
  t.equal(fraction.resyncAfterSeconds, 1, 'half a second left: a resync in 1 s, not 0');
  // A configSince a few minutes ahead (another hook replica's clock): counted from, but synced again within the grace.
  const skewed = await post(soon, '/sync', syncRequest({ parent: cache({}, { status: { ...statusOf(found.body), configSince: '2026-11-25T12:04:00Z' } }), related: grown, children }));
  t.equal(statusOf(skewed.body).configSince, '2026-11-25T12:04:00Z');
  t.equal(skewed.body['resyncAfterSeconds'], 30, 'a wait at most the grace long');
  // Far ahead (a status edited by hand), not counted from at all: the wait starts now, not at a time past what
  // Metacontroller's Go Duration (int64 nanoseconds, about 292 years) holds.
  const future = await post(soon, '/sync', syncRequest({ parent: cache({}, { status: { ...statusOf(found.body), configSince: '2400-01-01T00:00:00Z' } }), related: grown, children }));
  t.equal(future.body['resyncAfterSeconds'], 30, 'a configSince in 2400: a resync in 30 s');
  t.equal(statusOf(future.body).configSince, '2026-11-25T12:00:29Z', 'counted from now, as a status without one');
  const graceOn = testServer({ clock: () => new Date('2026-11-25T12:00:59Z') });
  t.teardown(() => graceOn.close());
  const notApplied = await post(graceOn, '/sync', syncRequest({ parent: cache({}, { status: statusOf(future.body) }), related: grown, children }));
  t.match(readyOf(notApplied.body), { status: 'False', reason: 'ConfigNotApplied' }, 'and ConfigNotApplied 30 s on, not in 2400');
  const refused = await post(late, '/sync', syncRequest({ parent: behind, related: grown, children }));
  const configHash = statusOf(asked.body).configHash as string;
  t.match(readyOf(refused.body), {
    status: 'False',
    reason: 'ConfigNotApplied',
    message:
      `ConfigMap cache-mcrouter has held config ${held} since 2026-11-25T12:00:00Z, not the one asked for (configHash ${configHash}), and mcrouter serves what it holds: ` +
      'the API server refused the update (kubectl describe mp cache shows the SyncError; "metadata.annotations: Too long" is a config past the size Metacontroller can apply, README Limits), ' +
      'or the ConfigMap was changed and Metacontroller has not set it back',
    lastTransitionTime: '2026-11-25T12:00:30Z',
  });
  t.notOk('resyncAfterSeconds' in refused.body, 'past the grace: nothing more to wait for');
  t.same(statusOf(refused.body).configBehind, { since: '2026-11-25T12:00:00Z', configHash: held }, 'and the status says what the ConfigMap holds, since when');
  t.match(statusOf(refused.body).conditions, [{ type: 'Ready' }, { type: 'Stalled', status: 'True', reason: 'ConfigNotApplied' }], 'kstatus: Stalled');
  t.same(childOf(refused.body, 'ConfigMap'), childOf(asked.body, 'ConfigMap'), 'the ConfigMap is still asked for');
  t.equal(statusOf(refused.body).lastChange.time, '2026-11-25T12:00:00Z', 'the change keeps its time');

  // Edited by hand: Metacontroller's record of what it applied has the config, and the answer sets it back. Not a refusal.
  const applied = observedChildren(reported, asked.body['children'] as Json[]);
  const edited = applied.map((c) => (c['kind'] === 'ConfigMap' ? { ...c, data: { ...(c['data'] as Json), 'config.json': '{"pools":{},"route":"NullRoute"}' } } : c));
  const handEdit = await post(late, '/sync', syncRequest({ parent: reported, related: grown, children: edited }));
  t.match(readyOf(handEdit.body), { status: 'True', reason: 'Available' });
  const taken = await post(late, '/sync', syncRequest({ parent: cache({}, { status: statusOf(refused.body) }), related: grown, children: applied }));
  t.match(readyOf(taken.body), { status: 'True', reason: 'Available', lastTransitionTime: '2026-11-25T12:00:30Z' }, 'Ready once the ConfigMap holds it');

  // The grace runs from the first sync that finds the ConfigMap lacking the config, not from the last change of
  // servers, which a config that moves no server (written otherwise by an earlier hook release) leaves where it was.
  const respelt = (second.body['children'] as Json[]).map((c) =>
    c['kind'] === 'ConfigMap' ? { ...c, data: { ...(c['data'] as Json), 'config.json': JSON.stringify(configOf(second.body), null, 2) } } : c,
  );
  const oldText = (respelt.find((c) => c['kind'] === 'ConfigMap')!['data'] as Json)['config.json'] as string;
  const oldHash = createHash('sha256').update(oldText).digest('hex').slice(0, 16);
  const earlier = cache({}, {
    status: { ...statusOf(second.body), configHash: oldHash, configSince: '2026-11-25T11:00:00Z', lastChange: { time: '2026-11-25T11:00:00Z', pools: ['memcached-pool1'], added: [], removed: [], keyspaceMoved: 0 } },
  });
  const oldChildren = observedChildren(earlier, respelt);
  const rewritten = await post(late, '/sync', syncRequest({ parent: earlier, related, children: oldChildren }));
  t.match(statusOf(rewritten.body), { configSince: '2026-11-25T12:00:30Z', lastChange: { time: '2026-11-25T11:00:00Z' } }, 'a new config, no server moved: no new change');
  const thenBehind = cache({}, { status: statusOf(rewritten.body) });
  const cacheLag = await post(late, '/sync', syncRequest({ parent: thenBehind, related, children: oldChildren }));
  t.match(readyOf(cacheLag.body), { status: 'True', reason: 'Available' }, 'not refused: the ConfigMap has lacked it for no time at all');
  t.equal(cacheLag.body['resyncAfterSeconds'], 30);

  // A ConfigMap that holds the config is never behind, whatever its last-applied annotation says (adopted, or stripped by a tool).
  const unrecorded = applied.map((c) => {
    if (c['kind'] !== 'ConfigMap') return c;
    const meta = c['metadata'] as Json;
    const { [LAST_APPLIED]: _, ...annotations } = meta['annotations'] as Json;
    return { ...c, metadata: { ...meta, annotations } };
  });
  const settledLate = await post(late, '/sync', syncRequest({ parent: cache({}, { status: statusOf(taken.body) }), related: grown, children: unrecorded }));
  t.match(readyOf(settledLate.body), { status: 'True', reason: 'Available' });
  t.notOk('resyncAfterSeconds' in settledLate.body, 'nothing behind: nothing to wait for');
  // Being deleted: Metacontroller applies nothing more, so nothing to wait for.
  const deleting = cache({}, { status: statusOf(asked.body) });
  Object.assign(deleting['metadata'] as Json, { deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: ['foregroundDeletion'] });
  const gone = await post(soon, '/sync', syncRequest({ parent: deleting, related: grown, children }));
  t.match(readyOf(gone.body), { reason: 'Deleting' });
  t.notOk('resyncAfterSeconds' in gone.body, 'no resync for a proxy being deleted');
  // A child missing too: the sooner of the two resyncs.
  const noService = await post(app, '/sync', syncRequest({ parent: reported, related: grown, children: children.filter((c) => c['kind'] !== 'Service') }));
  t.equal(noService.body['resyncAfterSeconds'], 10, "the missing child's 10 s, not the grace's 30 s");
});

t.test('a ConfigMap the API server keeps refusing while the endpoints keep changing: ConfigNotApplied 30 s after it was found lacking the config, whatever configs were asked for since', async (t) => {
  const context = (seconds: number) => ({
    now: new Date(Date.parse('2026-11-25T12:00:00Z') + seconds * 1000).toISOString().replace('.000Z', 'Z'),
    clusterDomain: 'cluster.local',
    images: { mcrouter: DEFAULT_SETTINGS.mcrouterImage, exporter: DEFAULT_SETTINGS.exporterImage },
  });
  const { second, children } = await settled(cache(), members([0, 1, 2]));
  const held = statusOf(second.body).configHash as string;
  // A pod more every 10 s, each sync fed the status of the one before; every ConfigMap update is refused.
  let status = statusOf(second.body) as Json;
  const readiness: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const answer = sync(syncRequest({ parent: cache({}, { status }), related: members(Array.from({ length: 3 + i }, (_, n) => n)), children }) as never, context(10 * i));
    status = answer.status as Json;
    readiness.push(answer.status.conditions![0]!.reason ?? '');
    if (i >= 2) t.same(answer.status.configBehind, { since: '2026-11-25T12:00:20Z', configHash: held }, `at ${10 * i} s: behind since the first sync that found it so`);
  }
  t.same(readiness, ['Available', 'Available', 'Available', 'Available', 'ConfigNotApplied', 'ConfigNotApplied'], '30 s after 12:00:20, though a new config was asked for at every sync');

  // Applied, but Metacontroller's cache one update behind at every sync: the ConfigMap lacks the config the last
  // status asked for each time, and holds a newer one each time. Never ConfigNotApplied.
  const answers: Json[] = [second.body];
  status = statusOf(second.body) as Json;
  const lagging: string[] = [];
  for (let i = 1; i <= 8; i++) {
    const observed = observedChildren(cache(), answers[Math.max(0, answers.length - 2)]!['children'] as Json[]);
    const answer = sync(syncRequest({ parent: cache({}, { status }), related: members(Array.from({ length: 3 + i }, (_, n) => n)), children: observed }) as never, context(10 * i));
    answers.push(answer as unknown as Json);
    status = answer.status as Json;
    lagging.push(answer.status.conditions![0]!.reason ?? '');
  }
  t.same(lagging, Array(8).fill('Available'), 'a ConfigMap that keeps changing is being applied');
  t.match(status['configBehind'], { since: '2026-11-25T12:01:20Z' }, 'its wait starts over at each sync');

  // A parent a status behind the ConfigMap (Metacontroller's cache): the ConfigMap holds a config newer than the one
  // that status asked for an hour ago. A wait from now, not a refusal.
  // A wait of that status's, over another config the ConfigMap held then, does not go on either.
  const stale = cache({}, { status: { ...statusOf(second.body), configSince: '2026-11-25T11:00:00Z', configBehind: { since: '2026-11-25T11:00:00Z', configHash: '0123456789abcdef' } } });
  const newer = observedChildren(cache(), answers[3]!['children'] as Json[]);
  const ahead = sync(syncRequest({ parent: stale, related: members([0, 1, 2, 3, 4, 5, 6, 7]), children: newer }) as never, context(0));
  t.match(ahead.status, { configBehind: { since: '2026-11-25T12:00:00Z' }, conditions: [{ reason: 'Available' }] });
  // That parent asking again for the config it reports (endpoints A, then B, then A): the ConfigMap holds B, which
  // came with a change made after that status's configSince. Newer, being applied: not a refusal either.
  const holdingB = observedChildren(cache(), answers[1]!['children'] as Json[]);
  const backToA = sync(syncRequest({ parent: stale, related: members([0, 1, 2]), children: holdingB }) as never, context(20));
  t.equal(backToA.status.configHash, statusOf(second.body).configHash, 'the config that status reports');
  t.same(backToA.status.conditions!.map((c) => [c.type, c.status, c.reason]), [['Ready', 'True', 'Available']], 'Available, not ConfigNotApplied (nor Stalled)');
  t.equal(backToA.status.configSince, '2026-11-25T12:00:10Z', 'asked for again since B came, at the latest');
  t.equal(backToA.resyncAfterSeconds, 20, 'the grace counted from then');
  // Should every update to A be refused from then on, ConfigNotApplied comes 30 s after B came, and stays.
  let refusedStatus = backToA.status as Json;
  const refusedReasons = [30, 40, 50, 600].map((seconds) => {
    const answer = sync(syncRequest({ parent: cache({}, { status: refusedStatus }), related: members([0, 1, 2]), children: holdingB }) as never, context(seconds));
    refusedStatus = answer.status as Json;
    return answer.status.conditions![0]!.reason;
  });
  t.same(refusedReasons, ['Available', 'ConfigNotApplied', 'ConfigNotApplied', 'ConfigNotApplied'], 'refused: ConfigNotApplied from 12:00:40 on');
  // B's change stamped by a hook replica whose clock runs 3 minutes ahead: since now, never after it.
  const aheadB = holdingB.map((c) => {
    if (c['kind'] !== 'ConfigMap') return c;
    const annotations = (c['metadata'] as Json)['annotations'] as Record<string, string>;
    const change = JSON.parse(annotations['memcached-operator.ianlewis.org/last-change']!) as Json;
    return { ...c, metadata: { ...(c['metadata'] as Json), annotations: { ...annotations, 'memcached-operator.ianlewis.org/last-change': JSON.stringify({ ...change, time: '2026-11-25T12:03:10Z' }) } } };
  });
  const skewedB = sync(syncRequest({ parent: stale, related: members([0, 1, 2]), children: aheadB }) as never, context(20));
  t.equal(skewedB.status.configSince, '2026-11-25T12:00:20Z', 'a change stamped ahead of the clock: since now');
});

t.test("pods the ReplicaSet cannot create: the Deployment's ReplicaFailure message is quoted", async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 3 });
  const { children } = await settled(parent, related);
  const forbidden = 'pods "cache-mcrouter-7c9f8-x2x4k" is forbidden: exceeded quota: compute, requested: requests.cpu=100m, used: requests.cpu=2, limited: requests.cpu=2';
  const failing = children.map((c) =>
    c['kind'] === 'Deployment'
      ? { ...c, status: deploymentStatus({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: forbidden }] }) }
      : c,
  );
  const res = await post(app, '/sync', syncRequest({ parent, related, children: failing }));
  t.match(readyOf(res.body), { status: 'False', reason: 'Progressing', message: `Deployment cache-mcrouter has 1 of 3 replicas available; FailedCreate: ${forbidden}` }, 'no old replica: not called a rollout');
  // During a rollout (old replicas still running), the same failure beside the rollout's counts.
  const rolling = children.map((c) =>
    c['kind'] === 'Deployment'
      ? { ...c, status: deploymentStatus({ observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: forbidden }] }) }
      : c,
  );
  const during = await post(app, '/sync', syncRequest({ parent, related, children: rolling }));
  t.match(readyOf(during.body), { message: `Deployment cache-mcrouter rolling out: 1 of 3 replicas updated, 3 available (old ones included), 3 old replicas still running; FailedCreate: ${forbidden}` });
});

t.test('a child Metacontroller has not created keeps Ready False, and says what may be in the way', async (t) => {
  const related = members([0, 1, 2]);
  const { children } = await settled(cache(), related);
  for (const kind of ['ConfigMap', 'Service'] as const) {
    const without = children.filter((c) => c['kind'] !== kind);
    const res = await post(app, '/sync', syncRequest({ parent: cache(), related, children: without }));
    const name = kind === 'Service' ? 'cache' : 'cache-mcrouter';
    t.match(
      readyOf(res.body),
      {
        status: 'False',
        reason: 'Progressing',
        message: `waiting for ${kind} ${name} to be created; if that lasts, the API server may have refused it (kubectl describe mp cache says why), or an object of that name that this proxy does not own may be in the way`,
      },
      kind,
    );
    t.same(kinds(res.body), ['ConfigMap', 'Deployment', 'Service'], `${kind}: every child still returned`);
  }
});

t.test('a stalled rollout has a reason of its own; missing replicas after a rollout are not called one', async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 3 });
  const { children } = await settled(parent, related);
  const withStatus = (status: Json) =>
    children.map((c) => (c['kind'] === 'Deployment' ? { ...c, status: deploymentStatus({ observedGeneration: 2, ...status }) } : c));
  const ask = async (status: Json) => readyOf((await post(app, '/sync', syncRequest({ parent, related, children: withStatus(status) }))).body);

  t.match(
    await ask({
      replicas: 4,
      updatedReplicas: 1,
      availableReplicas: 3,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "cache-mcrouter-6d4f9" has timed out progressing.' },
      ],
    }),
    {
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message:
        'Deployment cache-mcrouter stopped rolling out (ReplicaSet "cache-mcrouter-6d4f9" has timed out progressing.): 1 of 3 replicas updated, 3 available (old ones included), 3 old replicas still running',
    },
  );
  // Paused by hand: it goes no further until resumed, and says so.
  t.match(
    await ask({
      replicas: 4,
      updatedReplicas: 1,
      availableReplicas: 4,
      conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }],
    }),
    {
      status: 'False',
      reason: 'Progressing',
      message: 'Deployment cache-mcrouter is paused (kubectl rollout resume deployment/cache-mcrouter): 1 of 3 replicas updated, 4 available (old ones included), 3 old replicas still running',
    },
  );
  // A pod that failed after the rollout and the new pod of a scale-up look alike: the Deployment controller
  // keeps NewReplicaSetAvailable through a scale-up, and times neither out, nor anything while paused; with none
  // available, the proxy's own deadline does (NoAvailableReplicas). The last step of a rollout, its old pods gone
  // and new ones not all available (ReplicaSetUpdated), is the Deployment's to time out.
  for (const [reason, available, ready] of [
    ['NewReplicaSetAvailable', 2, 'Progressing'],
    ['ReplicaSetUpdated', 2, 'Progressing'],
    ['NewReplicaSetAvailable', 0, 'NoAvailableReplicas'],
    ['DeploymentPaused', 0, 'NoAvailableReplicas'],
    ['ReplicaSetUpdated', 0, 'Progressing'],
  ] as const) {
    t.match(
      await ask({
        replicas: 3,
        updatedReplicas: 3,
        availableReplicas: available,
        conditions: [
          { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
          { type: 'Progressing', status: reason === 'DeploymentPaused' ? 'Unknown' : 'True', reason },
        ],
      }),
      { status: 'False', reason: ready, message: `Deployment cache-mcrouter has ${available} of 3 replicas available` },
      `${reason}, ${available} available`,
    );
  }
});

/**
 * What kstatus (sigs.k8s.io/cli-utils pkg/kstatus/status; Flux, kpt and Config Sync use it) makes of a custom
 * resource: its own Reconciling and Stalled conditions first; then, in releases since it learnt it, a Ready
 * condition; a resource with none of them is Current once its status reports the generation.
 */
function kstatusOf(proxyObject: Json, readsReady: boolean): 'Terminating' | 'InProgress' | 'Failed' | 'Current' {
  const metadata = proxyObject['metadata'] as Json;
  const status = proxyObject['status'] as { observedGeneration?: number; conditions?: Json[] } | undefined;
  if (metadata['deletionTimestamp']) return 'Terminating';
  if (status?.observedGeneration !== undefined && status.observedGeneration !== metadata['generation']) return 'InProgress';
  for (const c of status?.conditions ?? []) {
    if (c['type'] === 'Reconciling' && c['status'] === 'True') return 'InProgress';
    if (c['type'] === 'Stalled' && c['status'] === 'True') return 'Failed';
  }
  const ready = status?.conditions?.find((c) => c['type'] === 'Ready');
  if (readsReady && ready) return ready['status'] === 'True' ? 'Current' : 'InProgress';
  return 'Current';
}

t.test('GitOps tools that judge health by kstatus wait for Ready: Reconciling on the way, Stalled when the rollout gave up', async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 2 });
  const { first, children, second } = await settled(parent, related);
  const asParent = (body: Json, p: Json = parent) => ({ ...p, status: statusOf(body) });
  const typesOf = (body: Json) => statusOf(body).conditions.map((c: Json) => `${c['type']}=${c['status']}`);
  /** What kstatus says, in releases that read Ready and in those that do not: both the same, or each. */
  const judged = (body: Json, p?: Json) => [...new Set([kstatusOf(asParent(body, p), true), kstatusOf(asParent(body, p), false)])];

  t.same(typesOf(first.body), ['Ready=False', 'Reconciling=True'], 'children not created yet');
  t.match(statusOf(first.body).conditions[1], { reason: 'Progressing', message: readyOf(first.body).message, observedGeneration: 1 }, "Ready's reason and message");
  t.same(judged(first.body), ['InProgress']);
  t.same(typesOf(second.body), ['Ready=True'], 'Available: Ready alone');
  t.same(judged(second.body), ['Current']);

  // Pools without ready servers, or no Service at all: on its way (the Service may come with the same apply).
  const unready = await post(app, '/sync', syncRequest({ parent, related: members([0, 1, 2], false), children }));
  t.match(readyOf(unready.body), { reason: 'NoReadyServers' });
  t.same(judged(unready.body), ['InProgress'], 'NoReadyServers');
  const missing = await post(app, '/sync', syncRequest({ parent, related: [], children }));
  t.same(judged(missing.body), ['InProgress'], 'ServiceNotFound');

  // The Deployment gave up: Failed, which a GitOps tool reports at once rather than at its timeout.
  const stalledChildren = children.map((c) =>
    c['kind'] === 'Deployment'
      ? { ...c, status: deploymentStatus({ observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "cache-mcrouter-6d4f9" has timed out progressing.' }] }) }
      : c,
  );
  const stalled = await post(app, '/sync', syncRequest({ parent, related, children: stalledChildren }));
  t.same(typesOf(stalled.body), ['Ready=False', 'Stalled=True']);
  t.same(judged(stalled.body), ['Failed']);

  // Scaled to zero is where the user asked it to be: no Reconciling (kstatus that reads Ready still waits on it).
  const zero = cache({ replicas: 0 });
  const { children: atZero } = await settled(zero, related);
  const scaledDown = await post(app, '/sync', syncRequest({ parent: zero, related, children: atZero }));
  t.same(typesOf(scaledDown.body), ['Ready=False'], 'ScaledToZero: no Reconciling');
  t.equal(kstatusOf(asParent(scaledDown.body, zero), false), 'Current');

  // Ready keeps its time while it stays False, whatever the reason; Reconciling's marks when its reason began
  // (its deadline's start; kstatus reads its status alone); both are new after a spell of Ready.
  const later = testServer({ clock: () => new Date('2026-11-25T12:08:30Z') });
  t.teardown(() => later.close());
  const reconciling = (body: Json) => statusOf(body).conditions.find((c: Json) => c['type'] === 'Reconciling');
  const still = await post(later, '/sync', syncRequest({ parent: asParent(missing.body), related: members([0, 1, 2], false), children }));
  t.match(readyOf(still.body), { reason: 'NoReadyServers', lastTransitionTime: readyOf(missing.body).lastTransitionTime });
  t.match(reconciling(still.body), { reason: 'NoReadyServers', lastTransitionTime: '2026-11-25T12:08:30Z' });
  const stillLater = testServer({ clock: () => new Date('2026-11-25T12:09:00Z') });
  t.teardown(() => stillLater.close());
  const same = await post(stillLater, '/sync', syncRequest({ parent: asParent(still.body), related: members([0, 1, 2], false), children }));
  t.match(reconciling(same.body), { reason: 'NoReadyServers', lastTransitionTime: '2026-11-25T12:08:30Z' }, 'the same reason: carried');
  const again = await post(later, '/sync', syncRequest({ parent: asParent(second.body), related: [], children }));
  t.equal(reconciling(again.body).lastTransitionTime, '2026-11-25T12:08:30Z');
  const repeat = await post(later, '/sync', syncRequest({ parent: asParent(again.body), related: [], children }));
  t.equal(repeat.text, again.text, 'a repeated sync gives the same bytes');
});

t.test('waiting 10 minutes on a Service or its pods is Stalled, synced again at the deadline; a new reason or spec starts anew; a rollout keeps its own deadline', async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache();
  const { children, second } = await settled(parent, related);
  const at = (time: string) => {
    const server = testServer({ clock: () => new Date(time) });
    t.teardown(() => server.close());
    return server;
  };
  const asParent = (body: Json, p: Json = parent) => ({ ...p, status: statusOf(body) });
  const kstatus = (body: Json) => statusOf(body).conditions.filter((c: Json) => c['type'] !== 'Ready').map((c: Json) => `${c['type']}=${c['reason']}@${c['lastTransitionTime']}`);
  const resync = (body: Json) => body['resyncAfterSeconds'];

  // The memcached Service deleted from a Ready proxy at 12:00 (its children all there: no other resync).
  const missing = await post(app, '/sync', syncRequest({ parent: asParent(second.body), related: [], children }));
  t.same(kstatus(missing.body), ['Reconciling=ServiceNotFound@2026-11-25T12:00:00Z']);
  t.equal(resync(missing.body), 600, 'a sync asked for at the deadline: nothing in the cluster changes meanwhile');
  const almost = await post(at('2026-11-25T12:09:59.400Z'), '/sync', syncRequest({ parent: asParent(missing.body), related: [], children }));
  t.same(kstatus(almost.body), ['Reconciling=ServiceNotFound@2026-11-25T12:00:00Z']);
  t.equal(resync(almost.body), 1, 'the seconds left, rounded up');
  t.equal(kstatusOf(asParent(almost.body), true), 'InProgress');

  const stalled = await post(at('2026-11-25T12:10:00Z'), '/sync', syncRequest({ parent: asParent(almost.body), related: [], children }));
  t.same(kstatus(stalled.body), ['Stalled=ServiceNotFound@2026-11-25T12:10:00Z'], 'Stalled from the deadline, Reconciling gone');
  t.match(readyOf(stalled.body), { status: 'False', reason: 'ServiceNotFound', lastTransitionTime: '2026-11-25T12:00:00Z' }, 'Ready as it was');
  t.equal(resync(stalled.body), undefined, 'nothing more to wait for');
  t.equal(kstatusOf(asParent(stalled.body), true), 'Failed', 'a GitOps tool reports it');
  const hourLater = at('2026-11-25T13:00:00Z');
  const still = await post(hourLater, '/sync', syncRequest({ parent: asParent(stalled.body), related: [], children }));
  t.same(kstatus(still.body), ['Stalled=ServiceNotFound@2026-11-25T12:10:00Z'], 'Stalled while the reason holds');
  const repeat = await post(hourLater, '/sync', syncRequest({ parent: asParent(still.body), related: [], children }));
  t.equal(repeat.text, still.text, 'a repeated sync gives the same bytes');

  // The Service back, its pods not ready yet: progress, Reconciling anew, with a new deadline.
  const unready = await post(hourLater, '/sync', syncRequest({ parent: asParent(still.body), related: members([0, 1, 2], false), children }));
  t.same(kstatus(unready.body), ['Reconciling=NoReadyServers@2026-11-25T13:00:00Z']);
  t.equal(resync(unready.body), 600);
  const ready = await post(hourLater, '/sync', syncRequest({ parent: asParent(unready.body), related, children }));
  t.same(kstatus(ready.body), [], 'Available: Ready alone');
  t.equal(resync(ready.body), undefined);

  // A new reason before the deadline starts it anew too: the Service created at 12:09 is no Stalled at 12:10.
  const created = await post(at('2026-11-25T12:09:00Z'), '/sync', syncRequest({ parent: asParent(almost.body), related: members([0, 1, 2], false), children }));
  t.same(kstatus(created.body), ['Reconciling=NoReadyServers@2026-11-25T12:09:00Z']);
  const minuteOn = await post(at('2026-11-25T12:10:00Z'), '/sync', syncRequest({ parent: asParent(created.body), related: members([0, 1, 2], false), children }));
  t.same(kstatus(minuteOn.body), ['Reconciling=NoReadyServers@2026-11-25T12:09:00Z']);
  t.equal(resync(minuteOn.body), 540);

  // Reconciling on one reason since 12:00 and another from 12:11 is a new wait, not one past its deadline.
  const otherReason = await post(at('2026-11-25T12:11:00Z'), '/sync', syncRequest({ parent: asParent(almost.body), related: members([0, 1, 2], false), children }));
  t.same(kstatus(otherReason.body), ['Reconciling=NoReadyServers@2026-11-25T12:11:00Z']);
  t.equal(resync(otherReason.body), 600);
  // A new spec 9 minutes into a wait, on the same reason: a new wait, with its own 10 minutes.
  const nextGeneration = cache({}, { generation: 2 });
  const respecced = await post(at('2026-11-25T12:09:00Z'), '/sync', syncRequest({ parent: asParent(almost.body, nextGeneration), related: [], children }));
  t.same(kstatus(respecced.body), ['Reconciling=ServiceNotFound@2026-11-25T12:09:00Z']);
  t.equal(resync(respecced.body), 600);
  const afterRespec = await post(at('2026-11-25T12:10:30Z'), '/sync', syncRequest({ parent: asParent(respecced.body, nextGeneration), related: [], children }));
  t.same(kstatus(afterRespec.body), ['Reconciling=ServiceNotFound@2026-11-25T12:09:00Z'], 'not Stalled 10 minutes after the first wait began');
  // Every reason of a wait on a Service or its pods: a port the Service lacks, a Service without endpoints.
  for (const [reason, waiting] of [
    ['PortNotFound', cache({}, { spec: { servicePort: 'admin' } })],
    ['NoServers', parent],
  ] as const) {
    const waitRelated = reason === 'NoServers' ? members([]) : related;
    const began = await post(app, '/sync', syncRequest({ parent: asParent(second.body, waiting), related: waitRelated, children }));
    t.same(kstatus(began.body), [`Reconciling=${reason}@2026-11-25T12:00:00Z`], `${reason}: waiting`);
    const past = await post(at('2026-11-25T12:10:00Z'), '/sync', syncRequest({ parent: asParent(began.body, waiting), related: waitRelated, children }));
    t.same(kstatus(past.body), [`Stalled=${reason}@2026-11-25T12:10:00Z`], `${reason}: Stalled at the deadline`);
  }

  // A new spec is progress: Stalled goes, and the wait starts anew, whatever the reason.
  const edited = cache({}, { generation: 2, spec: { serviceName: 'memcached-pool2' } });
  const respec = await post(hourLater, '/sync', syncRequest({ parent: asParent(still.body, edited), related: [], children }));
  t.match(readyOf(respec.body), { reason: 'ServiceNotFound' });
  t.same(kstatus(respec.body), ['Reconciling=ServiceNotFound@2026-11-25T13:00:00Z']);
  t.equal(resync(respec.body), 600);

  // A rollout is timed by the Deployment (ProgressDeadlineExceeded), which restarts its count on each step: an hour
  // of Progressing is still Reconciling, and asks for no sync of its own.
  const rolling = await post(app, '/sync', syncRequest({ parent: asParent(second.body), related, children: children.filter((c) => c['kind'] !== 'Deployment') }));
  t.same(kstatus(rolling.body), ['Reconciling=Progressing@2026-11-25T12:00:00Z']);
  const hourOn = await post(hourLater, '/sync', syncRequest({ parent: asParent(rolling.body), related, children: children.filter((c) => c['kind'] !== 'Deployment') }));
  t.same(kstatus(hourOn.body), ['Reconciling=Progressing@2026-11-25T12:00:00Z']);
  t.equal(resync(hourOn.body), 300, "only the missing Deployment's wait");

  // A hook whose clock is a few minutes behind the one that wrote the condition (another replica's) counts from
  // that time, and waits the deadline at most; further behind, the time is ahead of anything it can count from
  // (a status edited by hand, a clock that ran ahead and was set back), and its wait starts now. Either way a
  // sync within the deadline, and Stalled once it is past, never held off by a time ahead.
  const minutesBehind = await post(at('2026-11-25T11:56:00Z'), '/sync', syncRequest({ parent: asParent(missing.body), related: [], children }));
  t.same(kstatus(minutesBehind.body), ['Reconciling=ServiceNotFound@2026-11-25T12:00:00Z']);
  t.equal(resync(minutesBehind.body), 600);
  const hourBehind = await post(at('2026-11-25T11:00:00Z'), '/sync', syncRequest({ parent: asParent(missing.body), related: [], children }));
  t.same(kstatus(hourBehind.body), ['Reconciling=ServiceNotFound@2026-11-25T11:00:00Z']);
  t.equal(resync(hourBehind.body), 600);
  const ahead = { ...asParent(missing.body), status: { ...statusOf(missing.body), conditions: statusOf(missing.body).conditions.map((c: Json) => ({ ...c, lastTransitionTime: '9999-12-31T23:59:59Z' })) } };
  const fromAhead = await post(at('2026-11-25T12:10:00Z'), '/sync', syncRequest({ parent: ahead, related: [], children }));
  t.same(kstatus(fromAhead.body), ['Reconciling=ServiceNotFound@2026-11-25T12:10:00Z'], 'a wait stored as starting in 9999 starts now');
  const tenOn = await post(at('2026-11-25T12:20:00Z'), '/sync', syncRequest({ parent: asParent(fromAhead.body), related: [], children }));
  t.same(kstatus(tenOn.body), ['Stalled=ServiceNotFound@2026-11-25T12:20:00Z'], 'and is Stalled 10 minutes on');
  // A proxy being deleted is neither, and waits for nothing.
  const deleting = { ...asParent(missing.body), metadata: { ...(parent['metadata'] as Json), deletionTimestamp: '2026-11-25T12:20:00Z' } };
  const gone = await post(at('2026-11-25T12:20:00Z'), '/sync', syncRequest({ parent: deleting, related: [], children }));
  t.same(kstatus(gone.body), []);
  t.equal(resync(gone.body), undefined);
});

t.test('a proxy parked with its memcached (no endpoints, or no Service) stays ScaledToZero, with no wait of its own: never Stalled', async (t) => {
  const zero = cache({ replicas: 0 });
  const { children } = await settled(zero, members([0, 1, 2]));
  const typesOf = (body: Json) => statusOf(body).conditions.map((c: Json) => `${c['type']}=${c['status']}`);
  const hourLater = testServer({ clock: () => new Date('2026-11-25T13:00:00Z') });
  t.teardown(() => hourLater.close());
  for (const [what, related, lacking] of [
    ['the StatefulSet scaled to 0', [...members([]), statefulSet('memcached-pool1', 0)], /; once it serves: Service memcached-pool1 has no endpoints/],
    ['the memcached Service deleted', [], /; once it serves: Service memcached-pool1 not found in namespace default/],
  ] as const) {
    const parked = await post(app, '/sync', syncRequest({ parent: zero, related: [...related], children }));
    t.match(readyOf(parked.body), { status: 'False', reason: 'ScaledToZero', message: /^spec\.mcrouter\.replicas is 0: no mcrouter pod serves Service cache; once it serves: / }, what);
    t.match(readyOf(parked.body).message, lacking, `${what}: what the pool lacks, for when it serves again`);
    t.same(typesOf(parked.body), ['Ready=False'], `${what}: no Reconciling`);
    t.equal(parked.body['resyncAfterSeconds'], undefined, `${what}: no deadline to sync again at`);
    const later = await post(hourLater, '/sync', syncRequest({ parent: { ...zero, status: statusOf(parked.body) }, related: [...related], children }));
    t.same(typesOf(later.body), ['Ready=False'], `${what}: an hour on, still no Stalled`);
    t.equal(kstatusOf({ ...zero, status: statusOf(later.body) }, false), 'Current');
  }
  // Serving again, the pool's lack is the reason.
  const unparked = await post(app, '/sync', syncRequest({ parent: cache(), related: members([]), children }));
  t.match(readyOf(unparked.body), { reason: 'NoServers' });
});

t.test('no mcrouter replica available where the Deployment times nothing (all failed after the rollout, a scale-up from zero): NoAvailableReplicas, Stalled after 10 minutes; while some serve, no deadline', async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 3 });
  const { children, second } = await settled(parent, related);
  const at = (time: string) => {
    const server = testServer({ clock: () => new Date(time) });
    t.teardown(() => server.close());
    return server;
  };
  const asParent = (body: Json) => ({ ...parent, status: statusOf(body) });
  const kstatus = (body: Json) => statusOf(body).conditions.filter((c: Json) => c['type'] !== 'Ready').map((c: Json) => `${c['type']}=${c['reason']}@${c['lastTransitionTime']}`);
  // As the Deployment controller leaves a finished Deployment whose pods then crash: Progressing stays NewReplicaSetAvailable.
  const withPods = (available: number, progressingReason = 'NewReplicaSetAvailable') =>
    children.map((c) =>
      c['kind'] === 'Deployment'
        ? {
            ...c,
            status: deploymentStatus({
              observedGeneration: 2,
              replicas: 3,
              updatedReplicas: 3,
              readyReplicas: available,
              availableReplicas: available,
              unavailableReplicas: 3 - available,
              conditions: [
                { type: 'Available', status: available === 3 ? 'True' : 'False', reason: available === 3 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' },
                { type: 'Progressing', status: 'True', reason: progressingReason },
              ],
            }),
          }
        : c,
    );

  const crashed = await post(app, '/sync', syncRequest({ parent: asParent(second.body), related, children: withPods(0) }));
  t.match(readyOf(crashed.body), { status: 'False', reason: 'NoAvailableReplicas', message: 'Deployment cache-mcrouter has 0 of 3 replicas available' });
  t.same(kstatus(crashed.body), ['Reconciling=NoAvailableReplicas@2026-11-25T12:00:00Z']);
  t.equal(crashed.body['resyncAfterSeconds'], 600, 'a sync asked for at the deadline');
  const still = await post(at('2026-11-25T12:05:00Z'), '/sync', syncRequest({ parent: asParent(crashed.body), related, children: withPods(0) }));
  t.same(kstatus(still.body), ['Reconciling=NoAvailableReplicas@2026-11-25T12:00:00Z']);
  t.equal(still.body['resyncAfterSeconds'], 300);
  const stalled = await post(at('2026-11-25T12:10:00Z'), '/sync', syncRequest({ parent: asParent(still.body), related, children: withPods(0) }));
  t.same(kstatus(stalled.body), ['Stalled=NoAvailableReplicas@2026-11-25T12:10:00Z']);
  t.equal(kstatusOf(asParent(stalled.body), true), 'Failed', 'a GitOps tool reports it, as it does a rollout past its deadline');
  // One replica back: it serves again, and the rest may take long (new nodes): no deadline of ours.
  const one = await post(at('2026-11-25T12:20:00Z'), '/sync', syncRequest({ parent: asParent(stalled.body), related, children: withPods(1) }));
  t.match(readyOf(one.body), { status: 'False', reason: 'Progressing', message: 'Deployment cache-mcrouter has 1 of 3 replicas available' });
  t.same(kstatus(one.body), ['Reconciling=Progressing@2026-11-25T12:20:00Z']);
  const hourOn = await post(at('2026-11-25T13:20:00Z'), '/sync', syncRequest({ parent: asParent(one.body), related, children: withPods(1) }));
  t.same(kstatus(hourOn.body), ['Reconciling=Progressing@2026-11-25T12:20:00Z'], 'an hour on: still Reconciling');
  t.equal(hourOn.body['resyncAfterSeconds'], undefined, 'and no sync asked for');
  const back = await post(at('2026-11-25T13:30:00Z'), '/sync', syncRequest({ parent: asParent(hourOn.body), related, children: withPods(3) }));
  t.match(readyOf(back.body), { status: 'True', reason: 'Available' });
  t.same(kstatus(back.body), []);

  // The last step of a rollout (its old pods gone, none of the new ones available yet) is the Deployment's to time out.
  const lastStep = await post(app, '/sync', syncRequest({ parent: asParent(second.body), related, children: withPods(0, 'ReplicaSetUpdated') }));
  t.match(readyOf(lastStep.body), { reason: 'Progressing' });
  const later = await post(at('2026-11-25T13:00:00Z'), '/sync', syncRequest({ parent: asParent(lastStep.body), related, children: withPods(0, 'ReplicaSetUpdated') }));
  t.same(kstatus(later.body), ['Reconciling=Progressing@2026-11-25T12:00:00Z'], 'no deadline of ours');
});

t.test('messages say what is happening: pools kept and pools failing, a Rollout for a new server list, scaling to zero and down', async (t) => {
  // Sharded over two Services; then a third is added while it and one of the first two have no Service.
  const pool = (name: string) => [service({ name, headless: true }), ...endpointSlices(name, statefulSetPods(name, [0, 1]))];
  const two = proxy({ name: NAME, spec: shardedOver(['mc-a', 'mc-b']) });
  const first = await post(app, '/sync', syncRequest({ parent: two, related: [...pool('mc-a'), ...pool('mc-b')] }));
  const observed = observedChildren(two, first.body['children'] as Json[]);
  const three = proxy({ name: NAME, spec: shardedOver(['mc-a', 'mc-b', 'mc-c']), generation: 2 });
  const res = await post(app, '/sync', syncRequest({ parent: three, related: pool('mc-a'), children: observed }));
  t.match(readyOf(res.body), {
    reason: 'ServiceNotFound',
    message: 'Service mc-b, mc-c not found in namespace default; keeping the 2 servers of the current config for pool mc-b; requests routed to pool mc-c fail until it has servers',
  }, 'the pool that fails is named, not hidden behind the one kept');
  const four = proxy({ name: NAME, spec: shardedOver(['mc-a', 'mc-b', 'mc-c', 'mc-d']), generation: 2 });
  const many = await post(app, '/sync', syncRequest({ parent: four, related: [], children: observed }));
  t.match(readyOf(many.body), { message: /; keeping the 4 servers of the current config for pools mc-a, mc-b; requests routed to pools mc-c, mc-d fail until they have servers$/ });

  // A replicated rule leaves an empty replica out, and its other replicas serve: only a pool the route needs fails.
  const replicas = proxy({ name: NAME, spec: { rules: { type: 'replicated', children: [{ service: { name: 'mc-a' } }, { service: { name: 'mc-z' } }] } } });
  const leftOut = await post(app, '/sync', syncRequest({ parent: replicas, related: pool('mc-a') }));
  t.match(readyOf(leftOut.body), { reason: 'ServiceNotFound', message: 'Service mc-z not found in namespace default; it is left out of its replicated rule until it has servers' });
  const both = proxy({ name: NAME, spec: { rules: { children: [{ type: 'replicated', children: [{ service: { name: 'mc-a' } }, { service: { name: 'mc-z' } }] }, { service: { name: 'mc-y' } }] } } });
  const mixed = await post(app, '/sync', syncRequest({ parent: both, related: pool('mc-a') }));
  // The shard's ErrorRoute whole: t.match took a response naming 'service mc-y port 11211', a port no other pool shares.
  const mixedRoute = configOf(mixed.body).route as { type: string; children: unknown[] };
  t.equal(mixedRoute.type, 'HashRoute');
  t.equal(mixedRoute.children.length, 2, 'two shards');
  t.same(mixedRoute.children[1], { type: 'ErrorRoute', response: 'memcached-operator: no servers for service mc-y' });
  t.notMatch(JSON.stringify(configOf(mixed.body).route), /mc-z/, 'the empty replica is not routed to');
  t.match(readyOf(mixed.body), {
    message: 'Service mc-z, mc-y not found in namespace default; requests routed to pool mc-y fail until it has servers; pool mc-z is left out of its replicated rule until it has servers',
  });
  // A shard inside a replica: its requests fail there (what the client sees is the replicated rule's policies').
  const inReplica = proxy({ name: NAME, spec: { rules: { type: 'replicated', children: [{ children: [{ service: { name: 'mc-a' } }, { service: { name: 'mc-z' } }] }, { service: { name: 'mc-b' } }] } } });
  const nested = await post(app, '/sync', syncRequest({ parent: inReplica, related: [...pool('mc-a'), ...pool('mc-b')] }));
  t.match(readyOf(nested.body), { message: 'Service mc-z not found in namespace default; requests routed to it fail until it has servers' });
  // One Service behind two pools is one subject: "it", as the message names one Service.
  const twoPools = proxy({ name: NAME, spec: { rules: { children: [{ service: { name: 'mc-z', port: 11211 } }, { service: { name: 'mc-z', port: 11212 } }] } } });
  const one = await post(app, '/sync', syncRequest({ parent: twoPools, related: [] }));
  t.match(readyOf(one.body), { message: 'Service mc-z not found in namespace default; requests routed to it fail until it has servers' });
  const twoReplicas = proxy({ name: NAME, spec: { rules: { type: 'replicated', children: [{ service: { name: 'mc-z', port: 11211 } }, { service: { name: 'mc-z', port: 11212 } }, { service: { name: 'mc-a' } }] } } });
  const out = await post(app, '/sync', syncRequest({ parent: twoReplicas, related: pool('mc-a') }));
  t.match(readyOf(out.body), { message: 'Service mc-z not found in namespace default; it is left out of its replicated rule until it has servers' });

  // reload Rollout: a replaced memcached pod is a new pod template.
  const rollout = cache({ reload: 'Rollout' });
  const { children } = await settled(rollout, members([0, 1]));
  const moved = await post(app, '/sync', syncRequest({ parent: rollout, related: members([0, 1, 2]), children }));
  t.match(readyOf(moved.body), { reason: 'Progressing', message: "waiting for Deployment cache-mcrouter to be updated to the proxy's spec and server list (reload: Rollout)" });

  // Just scaled to zero: the Deployment still runs the old count, and its pods serve until it is updated, and
  // until the ReplicaSet lets them go (status.replicas counts the pods not yet terminating).
  const { children: atTwo } = await settled(cache({ replicas: 2 }), members([0]));
  const zero = cache({ replicas: 0 }, { generation: 2 });
  const edited = await post(app, '/sync', syncRequest({ parent: zero, related: members([0]), children: atTwo }));
  t.match(readyOf(edited.body), { reason: 'Progressing', message: /to be updated to the proxy's spec$/ });
  const withStatus = (body: Json, status: Json) =>
    observedChildren(zero, body['children'] as Json[]).map((c) => (c['kind'] === 'Deployment' ? { ...c, status: { ...(c['status'] as Json), ...status } } : c));
  const zeroing = await post(app, '/sync', syncRequest({ parent: zero, related: members([0]), children: withStatus(edited.body, { replicas: 2, updatedReplicas: 2, availableReplicas: 2 }) }));
  t.match(readyOf(zeroing.body), { reason: 'Progressing', message: 'Deployment cache-mcrouter is scaling down: 2 replicas, 0 wanted' }, 'its pods still serve');
  const zeroed = await post(app, '/sync', syncRequest({ parent: zero, related: members([0]), children: withStatus(edited.body, { replicas: 0, updatedReplicas: 0, availableReplicas: 0 }) }));
  t.match(readyOf(zeroed.body), { reason: 'ScaledToZero', message: 'spec.mcrouter.replicas is 0: no mcrouter pod serves Service cache' });
  // A proxy created at zero waits for its children first, as any other.
  const created = await post(app, '/sync', syncRequest({ parent: cache({ replicas: 0 }), related: members([0]) }));
  t.match(readyOf(created.body), { reason: 'Progressing', message: /^waiting for Deployment cache-mcrouter, ConfigMap cache-mcrouter, Service cache to be created$/ });

  // Scaled down from 3 to 2, the ReplicaSet not yet carrying it out, one of its pods not available: no rollout.
  const { children: atThree } = await settled(cache({ replicas: 3 }), members([0]));
  const two2 = cache({ replicas: 2 }, { generation: 2 });
  const down = await post(app, '/sync', syncRequest({ parent: two2, related: members([0]), children: atThree }));
  const shrinking = observedChildren(two2, down.body['children'] as Json[]).map((c) =>
    c['kind'] === 'Deployment' ? { ...c, status: { ...(c['status'] as Json), replicas: 3, updatedReplicas: 3, availableReplicas: 2, readyReplicas: 2 } } : c,
  );
  const still = await post(app, '/sync', syncRequest({ parent: two2, related: members([0]), children: shrinking }));
  t.match(readyOf(still.body), { reason: 'Progressing', message: 'Deployment cache-mcrouter is scaling down: 3 replicas, 2 wanted' });
});

t.test('a Deployment scaled outside the proxy (kubectl scale, an autoscaler) is called that, not a rollout', async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 2 });
  const { children } = await settled(parent, related);
  for (const [replicas, status] of [
    [5, { observedGeneration: 2, replicas: 5, updatedReplicas: 5, readyReplicas: 2, availableReplicas: 2 }],
    [0, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }],
  ] as const) {
    const scaled = children.map((c) =>
      c['kind'] === 'Deployment' ? { ...c, metadata: { ...(c['metadata'] as Json), generation: 2 }, spec: { ...(c['spec'] as Json), replicas }, status } : c,
    );
    const res = await post(app, '/sync', syncRequest({ parent, related, children: scaled }));
    t.match(readyOf(res.body), {
      status: 'False',
      reason: 'Progressing',
      message: `Deployment cache-mcrouter was scaled to ${replicas} replicas outside the proxy, which wants 2: set back now; scale with spec.mcrouter.replicas`,
    }, `scaled to ${replicas}`);
    t.equal((childOf(res.body, 'Deployment')!['spec'] as any).replicas, 2, 'the answer sets it back');
  }
  // A proxy scaled to zero whose Deployment was scaled up by hand: its pods serve, for now.
  const zero = cache({ replicas: 0 });
  const { children: none } = await settled(zero, related);
  const up = none.map((c) => (c['kind'] === 'Deployment' ? { ...c, spec: { ...(c['spec'] as Json), replicas: 3 } } : c));
  const res = await post(app, '/sync', syncRequest({ parent: zero, related, children: up }));
  t.match(readyOf(res.body), { reason: 'Progressing', message: /was scaled to 3 replicas outside the proxy, which wants 0/ });
});

t.test('Ready\'s message stays within the 32,768 characters the API server takes for a condition message', async (t) => {
  // 64 x 64 pools, the most the CRD allows, of Services with long names, none of them there yet.
  const name = (i: number, j: number) => `memcached-${'x'.repeat(40)}-${i}-${j}`;
  const spec = {
    rules: {
      type: 'sharded',
      children: Array.from({ length: 64 }, (_, i) => ({ type: 'sharded', children: Array.from({ length: 64 }, (_, j) => ({ service: { name: name(i, j) } })) })),
    },
  };
  const wide = await post(app, '/sync', syncRequest({ parent: proxy({ name: NAME, spec }), related: [] }));
  t.equal(wide.statusCode, 200);
  const first = Array.from({ length: 10 }, (_, j) => name(0, j)).join(', ');
  t.match(readyOf(wide.body), { status: 'False', reason: 'ServiceNotFound' });
  t.equal(readyOf(wide.body).message, `Service ${first}, and 4086 more not found in namespace default; requests routed to them fail until they have servers`);
  t.equal(statusOf(wide.body).pools.length, 4096, 'status.pools names every pool');

  // One Service behind two pools (one per port) is named once.
  const twoPorts = { rules: { type: 'replicated', children: [{ service: { name: 'gone', port: 11211 } }, { service: { name: 'gone', port: 'memcache' } }, { service: { name: 'also-gone' } }] } };
  const named = await post(app, '/sync', syncRequest({ parent: proxy({ name: NAME, spec: twoPorts }), related: [] }));
  t.equal(readyOf(named.body).message, 'Service gone, also-gone not found in namespace default; requests routed to them fail until they have servers');

  // Ten Services are named all; from the eleventh, how many more.
  for (const count of [10, 11]) {
    const gone = Array.from({ length: count }, (_, i) => `gone-${i}`);
    const res = await withoutServices(gone);
    const shown = count === 10 ? gone.join(', ') : `${gone.slice(0, 10).join(', ')}, and 1 more`;
    t.equal(readyOf(res.body).message, `Service ${shown} not found in namespace default; requests routed to them fail until they have servers`, `${count} Services`);
  }

  // The Deployment controller's own message is quoted, and nothing bounds its length.
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 3 });
  const { children } = await settled(parent, related);
  const lengths = new Set<number>();
  // Shifted one character at a time over the 18 of the repeated part: one of the cuts falls inside the emoji.
  for (let shift = 0; shift < 18; shift++) {
    const long = `ReplicaSet "cache-mcrouter-6d4f9" has timed out progressing: ${'-'.repeat(shift)}${'quota exceeded 🚫 '.repeat(3000)}`;
    const stalled = children.map((c) =>
      c['kind'] === 'Deployment'
        ? { ...c, status: deploymentStatus({ observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: long }] }) }
        : c,
    );
    const message = readyOf((await post(app, '/sync', syncRequest({ parent, related, children: stalled }))).body).message as string;
    lengths.add(message.length);
    t.ok(message.length <= 32768 && message.startsWith(`Deployment cache-mcrouter stopped rolling out (${long.slice(0, 1000)}`) && message.endsWith('…'), `shift ${shift}: the start of it, marked as cut`);
    t.notMatch(message, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, `shift ${shift}: no half of a surrogate pair`);
  }
  t.same([...lengths].sort(), [32767, 32768], 'cut at the limit, or one before it rather than inside a pair');
});

t.test('a changed endpoint set changes configHash; Rollout rolls the pods, Watch leaves the Deployment alone', async (t) => {
  for (const reload of ['Watch', 'Rollout'] as const) {
    const parent = cache({ reload });
    const { children, second: before } = await settled(parent, members([0, 1, 2]));
    const after = await post(app, '/sync', syncRequest({ parent, related: members([0, 1, 2, 3]), children }));
    const hashBefore = statusOf(before.body).configHash as string;
    const hashAfter = statusOf(after.body).configHash as string;
    t.not(hashAfter, hashBefore, `${reload}: a new server, a new configHash`);
    t.equal(configOf(after.body).pools['memcached-pool1']!.servers.length, 4);

    const deploymentBefore = childOf(before.body, 'Deployment')!;
    const deploymentAfter = childOf(after.body, 'Deployment')!;
    if (reload === 'Watch') {
      t.equal(JSON.stringify(deploymentAfter), JSON.stringify(deploymentBefore), 'Watch: the Deployment is byte-identical, mcrouter reloads the file');
      t.notOk(podOf(after.body).metadata.annotations, 'no config-hash annotation');
    } else {
      const annotation = (body: Json) => podOf(body).metadata.annotations['memcached-operator.ianlewis.org/config-hash'];
      t.equal(annotation(before.body), hashBefore);
      t.equal(annotation(after.body), hashAfter, 'Rollout: the pod template carries the new hash, so the pods roll');
      const withoutHash = (d: Json) => {
        const copy = structuredClone(d) as any;
        delete copy.spec.template.metadata.annotations;
        // The spec hash covers the config hash in Rollout mode, as the pod template does.
        delete copy.metadata.annotations['memcached-operator.ianlewis.org/spec-hash'];
        return JSON.stringify(copy);
      };
      t.equal(withoutHash(deploymentAfter), withoutHash(deploymentBefore), 'and nothing else of the Deployment changes');
    }
  }
});

t.test('more than one replica gets a PodDisruptionBudget; back to one, it is dropped', async (t) => {
  const three = await post(app, '/sync', syncRequest({ parent: cache({ replicas: 3 }), related: members([0, 1, 2]) }));
  const selector = (childOf(three.body, 'Deployment')!['spec'] as any).selector;
  t.same(childOf(three.body, 'PodDisruptionBudget'), {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'cache-mcrouter', labels: (childOf(three.body, 'Deployment')!['metadata'] as Json)['labels'] },
    spec: { maxUnavailable: 1, selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  }, 'a running pod that is not Ready (a crash loop) can always be evicted: two would block node drains otherwise');
  t.same(podOf(three.body).spec.affinity, {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: selector } }],
    },
  }, 'replicas spread across nodes when they can');

  for (const replicas of [1, 0]) {
    const res = await post(app, '/sync', syncRequest({ parent: cache({ replicas }), related: members([0, 1, 2]) }));
    t.same(kinds(res.body), ['ConfigMap', 'Deployment', 'Service'], `replicas ${replicas}: no PDB (it would block every node drain)`);
  }

  // Scaled back to 1 with the PDB still in the cluster: not returning it is how Metacontroller is told to delete it.
  const observed = observedChildren(cache({ replicas: 3 }), three.body['children'] as Json[]);
  t.ok(observed.some((c) => c['kind'] === 'PodDisruptionBudget'), 'the PDB is among the observed children');
  const down = await post(app, '/sync', syncRequest({ parent: cache({ replicas: 1 }), related: members([0, 1, 2]), children: observed }));
  t.equal(down.statusCode, 200);
  t.same(kinds(down.body), ['ConfigMap', 'Deployment', 'Service'], 'the observed PDB is not returned');
  t.equal((childOf(down.body, 'Deployment')!['spec'] as any).replicas, 1);
});

/**
 * A PodDisruptionBudget Metacontroller could not create: an object the proxy does not own holds its name (an orphan
 * of `kubectl delete --cascade=orphan`, another chart's PDB named NAME-mcrouter), and Metacontroller only logs the
 * AlreadyExists. The answer it applied otherwise comes back as observed children without the PDB.
 */
const withoutPdb = (children: Json[]) => children.filter((c) => c['kind'] !== 'PodDisruptionBudget');
const PDB_NOTE =
  '; PodDisruptionBudget cache-mcrouter not created (node drains may evict more than one mcrouter pod at a time); ' +
  'if that lasts, the API server may have refused it (kubectl describe mp cache says why), or an object of that name that this proxy does not own may be in the way';

t.test('a PodDisruptionBudget the proxy wants and that is not there: Ready stays True, and its message names it and why', async (t) => {
  const related = members([0, 1, 2]);
  const parent = cache({ replicas: 2 });
  const { children } = await settled(parent, related);
  const res = await post(app, '/sync', syncRequest({ parent, related, children: withoutPdb(children) }));
  t.same(
    statusOf(res.body).conditions,
    [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Available',
        message: `3 servers in 1 pool; 2 mcrouter replicas available${PDB_NOTE}`,
        lastTransitionTime: '2026-11-25T12:00:00Z',
        observedGeneration: 1,
      },
    ],
    'the proxy serves: Ready True, Available, and no kstatus condition; the message ends naming the PDB and the likely causes',
  );
  t.ok(childOf(res.body, 'PodDisruptionBudget'), 'the PDB is still returned, for Metacontroller to create');
  t.equal(res.body['resyncAfterSeconds'], 10, 'and a resync is asked for');
  // Still missing ten minutes on: the same Ready (its time carried), the resync at its longest.
  const later = testServer({ clock: () => new Date('2026-11-25T12:10:00Z') });
  t.teardown(() => later.close());
  const lasting = await post(later, '/sync', syncRequest({ parent: cache({ replicas: 2 }, { status: statusOf(res.body) }), related, children: withoutPdb(children) }));
  t.same(readyOf(lasting.body), readyOf(res.body), 'unchanged, lastTransitionTime included');
  t.equal(lasting.body['resyncAfterSeconds'], 300, 'retried every 5 minutes');
});

t.test('once the PodDisruptionBudget is there, the note goes, and no resync is asked for', async (t) => {
  const related = members([0, 1, 2]);
  const { children } = await settled(cache({ replicas: 2 }), related);
  const blocked = await post(app, '/sync', syncRequest({ parent: cache({ replicas: 2 }), related, children: withoutPdb(children) }));
  t.equal(readyOf(blocked.body).message, `3 servers in 1 pool; 2 mcrouter replicas available${PDB_NOTE}`, 'missing: the note');
  // The other object deleted: Metacontroller's resync creates the PDB.
  const guarded = await post(app, '/sync', syncRequest({ parent: cache({ replicas: 2 }, { status: statusOf(blocked.body) }), related, children }));
  t.match(readyOf(guarded.body), { status: 'True', reason: 'Available', message: '3 servers in 1 pool; 2 mcrouter replicas available', lastTransitionTime: '2026-11-25T12:00:00Z' });
  t.equal(readyOf(guarded.body).message, '3 servers in 1 pool; 2 mcrouter replicas available', 'there: no note');
  t.notOk('resyncAfterSeconds' in guarded.body, 'every child there: nothing to wait for');
});

t.test('one replica wants no PodDisruptionBudget: none asked for, no note, though the PDB of two replicas was never created', async (t) => {
  const related = members([0, 1, 2]);
  // v2 keying (namespace/name): the PDB is looked up by value, as the other children are.
  const mp = new SyncedProxy({ serviceName: 'memcached-pool1', mcrouter: { replicas: 2 } }, NAME, 'v2', t);
  await mp.sync(app, related);
  const guarded = await mp.sync(app, related);
  t.equal(readyOf(guarded.body).message, '3 servers in 1 pool; 2 mcrouter replicas available', 'the PDB observed under its namespace/name key: no note');
  mp.observed = withoutPdb(mp.observed);
  const two = await mp.sync(app, related);
  t.equal(readyOf(two.body).message, `3 servers in 1 pool; 2 mcrouter replicas available${PDB_NOTE}`, 'two replicas, no PDB: the note');
  // Scaled to one: the PDB is no longer wanted, so its absence is nothing to report.
  mp.respec({ serviceName: 'memcached-pool1', mcrouter: { replicas: 1 } });
  mp.observed = withoutPdb(mp.observed);
  const asked = await mp.sync(app, related);
  t.equal(readyOf(asked.body).message, "waiting for Deployment cache-mcrouter to be updated to the proxy's spec");
  const one = await mp.sync(app, related);
  t.same(kinds(one.body), ['ConfigMap', 'Deployment', 'Service'], 'no PDB asked for');
  t.match(readyOf(one.body), { status: 'True', reason: 'Available', observedGeneration: 2 });
  t.equal(readyOf(one.body).message, '3 servers in 1 pool; 1 mcrouter replica available', 'no note');
  t.notOk('resyncAfterSeconds' in one.body, 'nothing missing: no resync');
});

t.test('replicas 1 to 2, step by step as Metacontroller goes: the note once the Deployment applied with the PDB is observed, not before', async (t) => {
  const related = members([0, 1, 2]);
  const mp = new SyncedProxy({ serviceName: 'memcached-pool1', mcrouter: { replicas: 1 } }, NAME, 'v1', t);
  await mp.sync(app, related);
  const one = await mp.sync(app, related);
  t.match(readyOf(one.body), { status: 'True', reason: 'Available', message: '3 servers in 1 pool; 1 mcrouter replica available' });
  t.notOk(childOf(one.body, 'PodDisruptionBudget'), 'one replica: no PDB');

  mp.respec({ serviceName: 'memcached-pool1', mcrouter: { replicas: 2 } });
  // The first sync at 2 asks for the PDB, and still observes the Deployment of 1 with no PDB: Metacontroller has not
  // applied this answer yet, so the PDB's absence says nothing.
  const asked = await mp.sync(app, related);
  t.ok(childOf(asked.body, 'PodDisruptionBudget'), 'the PDB asked for');
  t.match(readyOf(asked.body), { status: 'False', reason: 'Progressing' });
  t.equal(readyOf(asked.body).message, "waiting for Deployment cache-mcrouter to be updated to the proxy's spec", 'no note before the apply');
  t.equal(asked.body['resyncAfterSeconds'], 10, 'the PDB missing: a resync');

  // Metacontroller applies it: the Deployment is updated, the PDB's create fails (the name is held). The
  // Deployment controller then scales up, the new replica not available yet.
  mp.observed = withoutPdb(mp.observed).map((c) =>
    c['kind'] === 'Deployment'
      ? {
          ...c,
          status: deploymentStatus({
            observedGeneration: 2,
            replicas: 2,
            updatedReplicas: 2,
            availableReplicas: 1,
            unavailableReplicas: 1,
            conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "cache-mcrouter-6d4f9" has successfully progressed.' }],
          }),
        }
      : c,
  );
  const scaling = await mp.sync(app, related);
  t.match(readyOf(scaling.body), { status: 'False', reason: 'Progressing' });
  t.equal(readyOf(scaling.body).message, 'Deployment cache-mcrouter has 1 of 2 replicas available', 'a reason of its own first: the note is for Available');

  // Both replicas available, the PDB still not there.
  mp.observed = withoutPdb(mp.observed);
  const up = await mp.sync(app, related);
  t.match(readyOf(up.body), { status: 'True', reason: 'Available', observedGeneration: 2 });
  t.equal(readyOf(up.body).message, `3 servers in 1 pool; 2 mcrouter replicas available${PDB_NOTE}`, 'the note');
  t.equal(up.body['resyncAfterSeconds'], 10);

  // The object in the way removed, Metacontroller's resync creates the PDB: the note goes.
  const guarded = await mp.sync(app, related);
  t.equal(readyOf(guarded.body).message, '3 servers in 1 pool; 2 mcrouter replicas available', 'created: no note');
  t.notOk('resyncAfterSeconds' in guarded.body);
});

/** Every field of spec.mcrouter set to something other than its default. */
const FULL: Json = {
  image: 'registry.example.com/mcrouter:0.41.0',
  imagePullPolicy: 'Always',
  imagePullSecrets: [{ name: 'registry.example.com' }, { name: 'mirror-credentials' }],
  port: 5000,
  replicas: 2,
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
  securityContext: { runAsUser: 10001, runAsGroup: 10001 },
  podSecurityContext: { fsGroup: 10001, supplementalGroups: [10001] },
  numProxies: 4,
  serverTimeoutMs: 250,
  statsRoot: '/var/mcrouter/stats',
  extraArgs: ['--probe-timeout-initial=5000', '--reset-inactive-connection-interval=30000'],
  nodeSelector: { 'kubernetes.io/os': 'linux', 'cloud.google.com/gke-nodepool': 'cache' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cache', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-a', 'zone-b'] }] }],
      },
    },
  },
  podAnnotations: { 'prometheus.io/scrape': 'true', 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true' },
  reload: 'Rollout',
  exporter: { enabled: true, image: 'registry.example.com/mcrouter_exporter:0.5.0', port: 9150, resources: { requests: { cpu: '20m', memory: '16Mi' }, limits: { memory: '64Mi' } } },
};

t.test('what the user writes into the pod comes out as the API server stores it, so Metacontroller has nothing to put back', async (t) => {
  // Templates write an empty value as {} or []; a null unsets a field; the API server drops all of them
  // (omitempty), and an update that would put one back is sent on every sync.
  const spec = {
    nodeSelector: {},
    tolerations: [{ key: 'dedicated', operator: 'Exists', value: '', effect: '' }, { key: 'gpu', operator: 'Equal', value: 'no', effect: 'NoSchedule', tolerationSeconds: null }],
    podSecurityContext: { fsGroup: null, supplementalGroups: [], sysctls: [], seLinuxOptions: {} },
    securityContext: { capabilities: { add: [] }, seLinuxOptions: { type: 'spc_t', level: '' } },
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: 'kubernetes.io/hostname', namespaces: [], labelSelector: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'Exists', values: [] }] } },
        ],
        preferredDuringSchedulingIgnoredDuringExecution: [],
      },
    },
  };
  const res = await post(app, '/sync', syncRequest({ parent: cache(spec), related: members([0]) }));
  t.equal(res.statusCode, 200);
  const pod = podOf(res.body).spec;
  t.notOk('nodeSelector' in pod, 'nodeSelector: {} is none');
  t.same(pod.tolerations, [{ key: 'dedicated', operator: 'Exists' }, { key: 'gpu', operator: 'Equal', value: 'no', effect: 'NoSchedule' }]);
  t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' }, seLinuxOptions: {} }, 'fsGroup: null unsets the default; an empty struct stays');
  t.same(containerOf(res.body, 'mcrouter').securityContext.capabilities, { drop: ['ALL'] });
  t.same(containerOf(res.body, 'mcrouter').securityContext.seLinuxOptions, { type: 'spc_t' }, "seLinuxOptions' strings are omitempty");
  t.same(pod.affinity, {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }],
    },
  });
  t.doesNotThrow(() => new Deployment(childOf(res.body, 'Deployment') as any).validate());
  const none = await post(app, '/sync', syncRequest({ parent: cache({ tolerations: [], imagePullSecrets: [] }), related: members([0]) }));
  t.notOk('tolerations' in podOf(none.body).spec, 'tolerations: [] is none');
  t.notOk('imagePullSecrets' in podOf(none.body).spec, 'imagePullSecrets: [] is none: the ServiceAccount\'s apply');
  // What the CRD prunes or refuses, sent by hand: a key it does not have, a name given twice.
  const secrets = await post(app, '/sync', syncRequest({ parent: cache({ imagePullSecrets: [{ name: 'a', namespace: 'other' }, { name: 'b' }, { name: 'a' }] }), related: members([0]) }));
  t.same(podOf(secrets.body).spec.imagePullSecrets, [{ name: 'a' }, { name: 'b' }], 'each name once, and only the name');
  // What the API server stores, written back as the spec, comes out the same.
  const again = await post(app, '/sync', syncRequest({ parent: cache({ tolerations: pod.tolerations, affinity: pod.affinity, podSecurityContext: { fsGroup: null, seLinuxOptions: {} } }), related: members([0]) }));
  const storedPod = podOf(again.body).spec;
  t.same([storedPod.tolerations, storedPod.affinity, storedPod.securityContext], [pod.tolerations, pod.affinity, pod.securityContext]);
});

t.test('every spec.mcrouter field reaches the pod', async (t) => {
  // A field added to the schema without a value here would go untested.
  t.same(Object.keys(FULL).sort(), Object.keys(McrouterSpec.properties).sort(), 'FULL sets every field of spec.mcrouter');
  const res = await post(app, '/sync', syncRequest({ parent: cache(FULL), related: members([0, 1]) }));
  t.equal(res.statusCode, 200);
  const template = podOf(res.body);
  const mcrouter = containerOf(res.body, 'mcrouter');
  const exporter = containerOf(res.body, 'exporter');
  t.equal((childOf(res.body, 'Deployment')!['spec'] as any).replicas, 2);
  t.equal(mcrouter.image, FULL['image']);
  t.equal(mcrouter.imagePullPolicy, 'Always');
  t.same(mcrouter.args, [
    '-p',
    '5000',
    '--config-file=/etc/mcrouter/config.json',
    '--asynclog-disable',
    '--num-proxies=4',
    '--server-timeout=250',
    '--stats-root=/var/mcrouter/stats',
    '--probe-timeout-initial=5000',
    '--reset-inactive-connection-interval=30000',
  ], 'extraArgs last, so they can override');
  t.same(mcrouter.ports, [{ name: 'memcache', containerPort: 5000, protocol: 'TCP' }]);
  t.same([mcrouter.readinessProbe.tcpSocket, mcrouter.livenessProbe.tcpSocket], [{ port: 'memcache' }, { port: 'memcache' }]);
  t.same(mcrouter.resources, FULL['resources']);
  t.same(mcrouter.securityContext, {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsUser: 10001,
    runAsGroup: 10001,
  }, 'the container securityContext merged over the restricted default');
  t.same(template.spec.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    fsGroup: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
    supplementalGroups: [10001],
  }, 'the pod securityContext merged over the restricted default');
  t.same(Object.entries(template.spec.nodeSelector), [['cloud.google.com/gke-nodepool', 'cache'], ['kubernetes.io/os', 'linux']], 'nodeSelector, keys sorted');
  t.same(template.spec.tolerations, FULL['tolerations']);
  t.same(template.spec.affinity, FULL['affinity'], 'affinity replaces the default anti-affinity');
  t.same(template.spec.imagePullSecrets, FULL['imagePullSecrets'], 'the pull secrets, for both containers: the pod names them');
  t.same(template.metadata.annotations, {
    'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true',
    'prometheus.io/scrape': 'true',
    'memcached-operator.ianlewis.org/config-hash': statusOf(res.body).configHash,
  }, 'podAnnotations, and the config hash with Rollout');

  t.same(exporter, {
    name: 'exporter',
    image: 'registry.example.com/mcrouter_exporter:0.5.0',
    imagePullPolicy: 'Always',
    args: ['--mcrouter.address=localhost:5000', '--web.listen-address=:9150'],
    ports: [{ name: 'metrics', containerPort: 9150, protocol: 'TCP' }],
    resources: (FULL['exporter'] as Json)['resources'],
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
  });
  t.same((childOf(res.body, 'Service')!['spec'] as any).ports, [
    { name: 'memcache', port: 5000, targetPort: 'memcache', protocol: 'TCP' },
    { name: 'metrics', port: 9150, targetPort: 'metrics', protocol: 'TCP' },
  ]);
});

t.test('a fractional quantity an earlier CRD stored (cpu: 0.5) reaches the container as the API server stores it', async (t) => {
  const res = await post(app, '/sync', syncRequest({ parent: cache({ resources: { requests: { cpu: 0.5, memory: '256Mi' } } }), related: members([0]) }));
  t.equal(res.statusCode, 200);
  t.same(containerOf(res.body, 'mcrouter').resources, { requests: { cpu: '500m', memory: '256Mi' } });
  t.same(new Deployment(childOf(res.body, 'Deployment') as any).validate(), undefined, 'and the Deployment takes it');
});

t.test('defaults: resource requests, anti-affinity, the exporter image and port', async (t) => {
  const plain = await post(app, '/sync', syncRequest({ parent: cache(), related: members([0]) }));
  const template = podOf(plain.body);
  t.same(containerOf(plain.body, 'mcrouter').resources, { requests: { cpu: '100m', memory: '128Mi' } });
  t.notOk(containerOf(plain.body, 'mcrouter').imagePullPolicy, 'the cluster default pull policy');
  t.same(template.spec.containers.map((c: Json) => c['name']), ['mcrouter'], 'no exporter unless enabled');
  t.notOk('nodeSelector' in template.spec || 'tolerations' in template.spec || 'annotations' in template.metadata);
  t.same(template.spec.affinity, {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: (childOf(plain.body, 'Deployment')!['spec'] as any).selector } },
      ],
    },
  }, 'preferred anti-affinity by default: its pods spread over nodes');
  t.same((childOf(plain.body, 'Service')!['spec'] as any).ports.map((p: Json) => p['name']), ['memcache']);

  const exported = await post(app, '/sync', syncRequest({ parent: cache({ exporter: { enabled: true } }), related: members([0]) }));
  // Field by field, exactly: t.match takes a string that only contains the one asked for, and an array that only begins with it.
  const exporter = containerOf(exported.body, 'exporter');
  t.equal(exporter.image, 'ghcr.io/dev25/mcrouter_exporter:0.5.0', 'the exporter image');
  t.same(exporter.args, ['--mcrouter.address=localhost:11211', '--web.listen-address=:9442'], 'it reads mcrouter on its port, and listens on 9442');
  t.same(exporter.ports, [{ name: 'metrics', containerPort: 9442, protocol: 'TCP' }]);
  t.same(exporter.resources, { requests: { cpu: '10m', memory: '32Mi' } }, 'the exporter\'s resource requests');
  t.notOk(containerOf(exported.body, 'exporter').readinessProbe, 'an exporter in trouble never takes mcrouter out of the Service');
  t.notOk(containerOf(exported.body, 'exporter').lifecycle, 'only mcrouter waits before it stops: the exporter serves no client');
  t.same((childOf(exported.body, 'Service')!['spec'] as any).ports[1], { name: 'metrics', port: 9442, targetPort: 'metrics', protocol: 'TCP' });
  const overridden = testServer({ exporterImage: 'mirror.example.com/mcrouter_exporter:0.5.0' });
  t.teardown(() => overridden.close());
  const mirrored = await post(overridden, '/sync', syncRequest({ parent: cache({ exporter: { enabled: true } }), related: members([0]) }));
  t.equal(containerOf(mirrored.body, 'exporter').image, 'mirror.example.com/mcrouter_exporter:0.5.0', 'the hook-wide default (EXPORTER_IMAGE)');
});

t.test('a terminating mcrouter pod keeps serving while kube-proxy takes it out of the Service, within its grace period', async (t) => {
  for (const mcrouter of [{}, { reload: 'Rollout', replicas: 3, exporter: { enabled: true } }]) {
    const res = await post(app, '/sync', syncRequest({ parent: cache(mcrouter), related: members([0, 1]) }));
    const container = containerOf(res.body, 'mcrouter');
    t.same(container.lifecycle, { preStop: { exec: { command: ['sleep', '5'] } } }, 'an exec of sleep: the sleep action needs Kubernetes 1.30');
    // Kubernetes' default grace period (30 s), which the wait must stay well within, is the pod's.
    t.notOk('terminationGracePeriodSeconds' in podOf(res.body).spec, 'the default grace period: 30 s');
  }
});

t.test('what the user sets is merged with the defaults, not in place of them where that would lose them', async (t) => {
  // v0.0.2's controller wrote its objects back with `resources: {}` (Go's omitempty keeps an empty struct).
  const v002 = await post(app, '/sync', syncRequest({ parent: cache({ resources: {}, exporter: { enabled: true, resources: {} } }), related: members([0]) }));
  t.same(containerOf(v002.body, 'mcrouter').resources, { requests: { cpu: '100m', memory: '128Mi' } }, 'resources: {} is no resources set');
  t.same(containerOf(v002.body, 'exporter').resources, { requests: { cpu: '10m', memory: '32Mi' } });
  const none = await post(app, '/sync', syncRequest({ parent: cache({ resources: { requests: {} } }), related: members([0]) }));
  t.same(containerOf(none.body, 'mcrouter').resources, {}, 'requests: {} is a container without requests, as the API server stores it (no empty map)');
  // Empty limits alone are none too, as a template writes an empty value: the default requests stay.
  const emptyLimits = { limits: {} };
  const empty = await post(app, '/sync', syncRequest({ parent: cache({ resources: emptyLimits, exporter: { enabled: true, resources: emptyLimits } }), related: members([0]) }));
  t.same(containerOf(empty.body, 'mcrouter').resources, { requests: { cpu: '100m', memory: '128Mi' } }, 'resources: {limits: {}} keeps the default requests');
  t.same(containerOf(empty.body, 'exporter').resources, { requests: { cpu: '10m', memory: '32Mi' } }, "and the exporter's");
  // DRA claims would need the pod's own resourceClaims, which the proxy has not: not in the API.
  const claimed = await post(app, '/sync', syncRequest({ parent: cache({ resources: { claims: [{ name: 'gpu' }] } }), related: members([0]) }));
  t.same(containerOf(claimed.body, 'mcrouter').resources, { requests: { cpu: '100m', memory: '128Mi' } }, 'an unknown field (which the API server prunes) is none');
  const noRequests = await post(app, '/sync', syncRequest({ parent: cache({ resources: { requests: {}, limits: {} } }), related: members([0]) }));
  t.same(containerOf(noRequests.body, 'mcrouter').resources, {}, 'requests: {} written says no requests, whatever else is empty');
  const limitsOnly = await post(app, '/sync', syncRequest({ parent: cache({ resources: { requests: {}, limits: { memory: '256Mi' } } }), related: members([0]) }));
  t.same(containerOf(limitsOnly.body, 'mcrouter').resources, { limits: { memory: '256Mi' } });

  // Quantities as the API server stores them (parsed, rounded up to milli, written back), else Metacontroller
  // finds its own value missing from the stored Deployment and updates it on every sync.
  const stored: [string | number, string][] = [
    ['0.5', '500m'], [0.5, '500m'], ['.25', '250m'], ['1.5', '1500m'], ['1000m', '1'], ['2000m', '2'], ['1.0', '1'],
    ['1024Mi', '1Gi'], ['4096Mi', '4Gi'], ['1.5Gi', '1536Mi'], ['0.5Gi', '512Mi'], ['0.5Ki', '512'], ['1.1Ki', '1126400m'],
    ['12000k', '12M'], ['1000M', '1G'], ['1000e0', '1e3'], ['1e2', '100'], ['1e-4', '1e-3'], ['100u', '1m'], ['1500u', '2m'],
    ['0.0001', '1m'], ['0Mi', '0'], [2, '2'], [134217728, '134217728'], ['9Ei', '9223372036854775807'],
    // Exponents far out cost no huge number: below a thousandth is one; above, zeros move into the exponent.
    ['1e-101', '1e-3'], ['.5e-300', '1e-3'], ['1e101', '100e99'], ['1000e102', '1e105'], ['1e2147483647', '10e2147483646'],
    // Kept as written: the text the parser reads as already canonical, which Quantity keeps.
    ['100m', '100m'], ['1500m', '1500m'], ['128Mi', '128Mi'], ['100Mi', '100Mi'], ['1536Mi', '1536Mi'], ['1e3', '1e3'],
    ['12E6', '12E6'], ['1500e0', '1500e0'], ['+1', '+1'], ['1.500', '1.500'], ['0100m', '0100m'], ['1.', '1.'], ['2e9', '2e9'], ['1e102', '1e102'],
  ];
  // One resource per quantity, of Kubernetes' own (kubernetes.io): an extended resource's must be whole.
  const limits = Object.fromEntries(stored.map(([quantity], i) => [`kubernetes.io/r${i}`, quantity]));
  const rewritten = await post(app, '/sync', syncRequest({ parent: cache({ resources: { limits }, exporter: { enabled: true, resources: { requests: { cpu: '0.01' } } } }), related: members([0]) }));
  const written = containerOf(rewritten.body, 'mcrouter').resources.limits;
  for (const [i, [quantity, want]] of stored.entries()) t.equal(written[`kubernetes.io/r${i}`], want, `${JSON.stringify(quantity)} is stored as ${want}`);
  t.same(containerOf(rewritten.body, 'exporter').resources, { requests: { cpu: '10m' } }, "the exporter's too");
  const again = await post(app, '/sync', syncRequest({ parent: cache({ resources: { limits: written } }), related: members([0]) }));
  t.same(containerOf(again.body, 'mcrouter').resources.limits, written, 'what the API server stores comes back unchanged');

  // Adding a capability keeps every other one dropped.
  const added = await post(app, '/sync', syncRequest({ parent: cache({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }), related: members([0]) }));
  t.same(containerOf(added.body, 'mcrouter').securityContext, {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
    readOnlyRootFilesystem: true,
  });
  t.same(restrictedViolations(podOf(added.body).spec), [], 'still restricted');
  const dropped = await post(app, '/sync', syncRequest({ parent: cache({ securityContext: { capabilities: { drop: ['NET_RAW'] } } }), related: members([0]) }));
  t.same(containerOf(dropped.body, 'mcrouter').securityContext.capabilities, { drop: ['NET_RAW'] }, 'a drop list of their own is theirs');
  // The API server refuses allowPrivilegeEscalation: false beside privileged or CAP_SYS_ADMIN: the default gives way, the user's word does not.
  const contextOf = async (securityContext: Json) =>
    containerOf((await post(app, '/sync', syncRequest({ parent: cache({ securityContext }), related: members([0]) }))).body, 'mcrouter').securityContext;
  t.same(await contextOf({ privileged: true }), { capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, privileged: true });
  t.same(await contextOf({ capabilities: { add: ['CAP_SYS_ADMIN'] } }), { capabilities: { drop: ['ALL'], add: ['CAP_SYS_ADMIN'] }, readOnlyRootFilesystem: true });
  // Whole: t.match took a context that dropped their privileged: true, or their capabilities.add that is no list.
  const restricted = { capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };
  t.same(await contextOf({ privileged: true, allowPrivilegeEscalation: false }), { ...restricted, privileged: true, allowPrivilegeEscalation: false }, "theirs, as they wrote it (the API server's to refuse)");
  t.same(await contextOf({ privileged: true, allowPrivilegeEscalation: true }), { ...restricted, allowPrivilegeEscalation: true, privileged: true }, 'theirs, true as written');
  t.same(await contextOf({ allowPrivilegeEscalation: true }), { ...restricted, allowPrivilegeEscalation: true }, 'true without privileged: theirs too');
  t.same(await contextOf({ privileged: false }), { ...restricted, allowPrivilegeEscalation: false, privileged: false });
  t.same(await contextOf({ capabilities: { add: ['SYS_ADMIN'] } }), { ...restricted, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] }, allowPrivilegeEscalation: false }, 'SYS_ADMIN, spelt so, the API server takes with it');
  t.same(await contextOf({ capabilities: { add: 'CAP_SYS_ADMIN' } }), { ...restricted, capabilities: { drop: ['ALL'], add: 'CAP_SYS_ADMIN' }, allowPrivilegeEscalation: false }, 'not a list: passed on for the API server to refuse, no 500');

  // `affinity: {}`, a template's empty value, keeps the default spreading; an empty podAntiAffinity is none.
  const affinityOf = async (affinity: Json) =>
    podOf((await post(app, '/sync', syncRequest({ parent: cache({ replicas: 3, affinity }), related: members([0]) }))).body).spec.affinity;
  // The default itself is pinned field by field in 'defaults' above.
  const spreading = podOf((await post(app, '/sync', syncRequest({ parent: cache({ replicas: 3 }), related: members([0]) }))).body).spec.affinity;
  t.match(spreading, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100 }] } }, 'the default spreads');
  t.same(await affinityOf({}), spreading, 'an empty affinity: the default');
  t.same(await affinityOf({ podAntiAffinity: {} }), { podAntiAffinity: {} });
  t.same(await affinityOf({ podAntiAffinity: null }), spreading, 'only nulls: empty too');

  // Below 1024 a non-root process binds only where the pod's sysctl says so (no ambient capabilities in Kubernetes).
  const sysctlsOf = async (mcrouter: Json) => podOf((await post(app, '/sync', syncRequest({ parent: cache(mcrouter), related: members([0]) }))).body).spec.securityContext.sysctls;
  t.same(await sysctlsOf({ port: 80 }), [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }], 'port 80 made bindable, and no lower one');
  t.same(await sysctlsOf({ exporter: { enabled: true, port: 443 } }), [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '443' }], "the exporter's port too");
  t.same(await sysctlsOf({ port: 1024, exporter: { enabled: false, port: 80 } }), undefined, 'nothing below 1024 listens: no sysctl');
  const low = await post(app, '/sync', syncRequest({ parent: cache({ port: 80 }), related: members([0]) }));
  t.same(restrictedViolations(podOf(low.body).spec), [], 'a sysctl the restricted profile allows');
  t.doesNotThrow(() => new Deployment(childOf(low.body, 'Deployment')).validate());
  const own = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }];
  t.same(await sysctlsOf({ port: 80, podSecurityContext: { sysctls: own } }), own, "the user's own sysctls replace it");

  // A stats root spelt with extra slashes is still a directory already mounted writable.
  for (const statsRoot of ['/var//mcrouter/stats', '/var/mcrouter/', '//var/spool/mcrouter//x/']) {
    const res = await post(app, '/sync', syncRequest({ parent: cache({ statsRoot }), related: members([0]) }));
    t.same(podOf(res.body).spec.volumes.map((v: Json) => v['name']), ['config', 'var-mcrouter', 'spool-mcrouter'], `${statsRoot}: no extra volume`);
  }
  const elsewhere = await post(app, '/sync', syncRequest({ parent: cache({ statsRoot: '/stats//mcrouter/' }), related: members([0]) }));
  t.match(containerOf(elsewhere.body, 'mcrouter').volumeMounts, [{}, {}, {}, { name: 'stats-root', mountPath: '/stats/mcrouter' }]);
  t.equal(containerOf(elsewhere.body, 'mcrouter').volumeMounts[3].mountPath, '/stats/mcrouter', 'without its trailing slash');
  // A directory whose name only begins like a mounted one is not under it: it needs a volume of its own.
  for (const statsRoot of ['/var/mcrouter-stats', '/var/spool/mcrouterx']) {
    const res = await post(app, '/sync', syncRequest({ parent: cache({ statsRoot }), related: members([0]) }));
    t.same(containerOf(res.body, 'mcrouter').volumeMounts.at(-1), { name: 'stats-root', mountPath: statsRoot }, `${statsRoot}: a volume of its own`);
  }
});

const MODELS: Record<string, new (data: any) => { validate(): void }> = { ConfigMap, Deployment, Service, PodDisruptionBudget };

t.test('every child passes the Kubernetes schemas; pods meet the restricted Pod Security Standard', async (t) => {
  const specs: [string, Json][] = [
    ['defaults', {}],
    ['every field', FULL],
    ['exporter and 3 replicas', { replicas: 3, exporter: { enabled: true } }],
    ['a v0.0.2 securityContext', { securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true }, statsRoot: '/stats' }],
  ];
  for (const [what, mcrouter] of specs) {
    const res = await post(app, '/sync', syncRequest({ parent: cache(mcrouter), related: members([0, 1, 2]) }));
    t.equal(res.statusCode, 200, what);
    for (const child of res.body['children'] as Json[]) {
      const kind = String(child['kind']);
      const Model = MODELS[kind];
      if (!Model) {
        t.fail(`${what}: unexpected child kind ${kind}`);
        continue;
      }
      t.doesNotThrow(() => new Model(child).validate(), `${what}: ${kind} is valid`);
      for (const pod of podTemplatesOf(child)) t.same(restrictedViolations(pod.spec, pod.annotations), [], `${what}: ${pod.where} is restricted`);
    }
  }
  // The checks can fail: a child that breaks the schema or the profile is caught.
  const res = await post(app, '/sync', syncRequest({ parent: cache({ exporter: { enabled: true } }), related: members([0]) }));
  const broken = structuredClone(childOf(res.body, 'Deployment')!) as any;
  broken.spec.template.spec.containers[1].ports[0].containerPort = 'nine';
  t.throws(() => new Deployment(broken).validate(), 'a wrong type is caught');
  broken.spec.template.spec.containers[1].securityContext = {};
  t.match(restrictedViolations(broken.spec.template.spec), [/exporter.*allowPrivilegeEscalation/, /exporter.*capabilities/]);
});

t.test("every Ready reason is in docs/operating.md's table of reasons and in the README's status table", async (t) => {
  // A row's first cell names one reason or two (`Available` (`True`) names the condition's status too).
  const documented = new Set(
    tableRows(page('docs/operating.md'), '| reason | example message | what to do |')
      .flatMap(([reasons]) => codeSpans(reasons!))
      .filter((r) => r !== 'True'),
  );
  const readyRow = tableRows(page('README.md'), '| field | what |').find(([field]) => field === '`conditions[Ready]`')?.[1] ?? '';
  for (const reason of READY_REASONS) {
    t.ok(documented.has(reason), `${reason}: a row of docs/operating.md's table`);
    t.match(readyRow, `\`${reason}\``, `${reason}: in the README's conditions[Ready] row`);
  }
  t.same([...documented].filter((r) => !(READY_REASONS as readonly string[]).includes(r)), [], 'no row for a reason the hook does not give');
});

t.test("the status tables' kstatus cells give each Ready reason the rule the hook follows (KSTATUS_RULES)", async (t) => {
  // Both cells say which reasons are Reconciling, which Stalled at once, which neither; docs/api.md's also names
  // those Stalled after the 10-minute wait. The names in each clause are its code spans, the conditions' own left out.
  const reasonsIn = (clause: string | undefined): string[] =>
    codeSpans(clause ?? '')
      .filter((name) => !['Reconciling', 'Stalled', 'Ready', 'False'].includes(name))
      .sort();
  const ruled = (...rules: KstatusRule[]): string[] =>
    (Object.keys(KSTATUS_RULES) as (keyof typeof KSTATUS_RULES)[]).filter((reason) => rules.includes(KSTATUS_RULES[reason]) && reason !== 'Available').sort();
  const cells = {
    'README.md': tableRows(page('README.md'), '| field | what |'),
    'docs/api.md': tableRows(page('docs/api.md'), '| field | what, in full |'),
  };
  for (const [path, rows] of Object.entries(cells)) {
    const cell = rows.find(([field]) => field === '`conditions[Reconciling]`, `conditions[Stalled]`')?.[1];
    t.ok(cell, `${path}: a row for kstatus' conditions`);
    t.same(reasonsIn(/`Reconciling` while `Ready` is `False` for (.*?);/.exec(cell ?? '')?.[1]), ruled('Reconciling', 'Reconciling until the deadline'), `${path}: Reconciling`);
    t.same(reasonsIn(/at once for ((?:`\w+`(?:, | and | or )?)+)/.exec(cell ?? '')?.[1]), ruled('Stalled'), `${path}: Stalled at once`);
    t.same(reasonsIn(/[Nn]either for (.*?)(?:\.|$)/.exec(cell ?? '')?.[1]), ruled('neither'), `${path}: neither (Available is Ready True)`);
    if (path === 'docs/api.md') {
      t.same(reasonsIn(/`Stalled` once the proxy has waited 10 minutes (.*?), with the same reason/.exec(cell ?? '')?.[1]), ruled('Reconciling until the deadline'), `${path}: Stalled after the wait`);
    }
  }
});

t.test("quantities reach the Deployment as Kubernetes' own resource.Quantity writes them back (kubectl's, on random ones)", async (t) => {
  // kubectl parses a Deployment into its Go types and prints it, as the API server stores it, but for the API
  // server's rounding up to thousandths (core v1 defaulting): finer values are left to the table above, and so
  // are decimal values of 1000E and more, for which Kubernetes versions write different texts (quantity.ts).
  const seed = propertySeed();
  const suffix = fc.oneof(
    fc.constantFrom('', 'm', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'),
    fc.integer({ min: -3, max: 24 }).map((e) => `e${e}`),
    fc.integer({ min: 0, max: 12 }).map((e) => `E${e}`),
  );
  const quantity = fc
    .record({ sign: fc.constantFrom('', '+'), digits: fc.bigInt({ min: 0n, max: 10n ** 12n }), fraction: fc.integer({ min: 0, max: 3 }), zeros: fc.integer({ min: 0, max: 2 }), suffix })
    .map(({ sign, digits, fraction, zeros, suffix }) => {
      const text = digits.toString().padStart(fraction + 1, '0');
      const number = fraction > 0 ? `${text.slice(0, -fraction)}.${text.slice(-fraction)}` : '0'.repeat(zeros) + text;
      return { text: `${sign}${number}${suffix}`, digits, fraction, suffix };
    })
    .filter(({ digits, fraction, suffix }) => {
      const exponent = /^e(-?\d+)$/.exec(suffix)?.[1] ?? (suffix === 'm' ? '-3' : '0');
      const decimalSI = ['k', 'M', 'G', 'T', 'P', 'E'].indexOf(suffix) + 1;
      const tooLarge = decimalSI > 0 && digits >= 1000n * 10n ** BigInt(fraction) * 1000n ** BigInt(6 - decimalSI);
      return Number(exponent) - fraction >= -3 && !(suffix === 'm' && fraction > 0) && !tooLarge;
    })
    .map(({ text }) => text);
  const quantities = [...new Set(fc.sample(quantity, { seed, numRuns: 600 }))];
  const limits = Object.fromEntries(quantities.map((q, i) => [`kubernetes.io/r${i}`, q]));
  const answer = await post(app, '/sync', syncRequest({ parent: cache({ resources: { limits } }), related: members([0]) }));
  t.equal(answer.statusCode, 200);
  const deployment = childOf(answer.body, 'Deployment')!;
  const ours = containerOf(answer.body, 'mcrouter').resources.limits as Record<string, string>;

  // The hook's Deployment, each of its quantities as written by the user, through Go's types.
  const dir = mkdtempSync(join(tmpdir(), 'quantities-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const asWritten = structuredClone(deployment) as any;
  asWritten.spec.template.spec.containers.find((c: Json) => c['name'] === 'mcrouter').resources = { limits };
  writeFileSync(join(dir, 'deployment.json'), JSON.stringify(asWritten));
  // `set resources` reads the object into Go's types and prints it; the request it adds is none of the limits.
  const printed = JSON.parse(run('kubectl', ['set', 'resources', '--local', '-f', join(dir, 'deployment.json'), '-c', 'mcrouter', '--requests=kubernetes.io/probe=1', '-o', 'json']));
  const theirs = printed.spec.template.spec.containers.find((c: Json) => c['name'] === 'mcrouter').resources.limits as Record<string, string>;
  const differ = quantities.flatMap((q, i) => {
    const [mine, go] = [ours[`kubernetes.io/r${i}`], theirs[`kubernetes.io/r${i}`]];
    return mine === go ? [] : [`${q}: ${mine}, Go ${go}`];
  });
  t.same(differ, [], `${quantities.length} quantities written as Go writes them (seed ${seed}; FC_SEED replays it)`);
});

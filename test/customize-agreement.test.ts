/**
 * customize and sync agree: sync reads nothing that customize did not ask for.
 *
 * In a cluster, a sync request's `related` holds exactly what Metacontroller selects with the rules the customize
 * hook answered (DESIGN 4): an object sync reads but customize never asked for is never there, so a pool would
 * read `ServiceNotFound` or `NoServers` for good, while every other test, which puts in `related` what it likes,
 * passes. So, for generated proxies (both spec forms; sharded and replicated rules nested up to three levels;
 * StatefulSet-backed, Deployment-backed and selector-less Services with hand-written Endpoints; a Service that does
 * not exist; ports by number, by name, a wrong one) over a generated cluster (Services, EndpointSlices as the
 * endpointslice and mirroring controllers label them, Endpoints, StatefulSets), with distractors (other Services
 * and their slices and Endpoints, the proxy's own Service and its endpoints, a slice of no Service, StatefulSets
 * of other workloads, and in another namespace objects of the very names the spec uses):
 *
 * 1. POST /customize; select the related objects from the cluster by its answer, as Metacontroller does
 *    (helpers/related-selection.ts, from its source), in both generations of that code;
 * 2. POST /sync with `related` = that selection, and again with `related` = the whole cluster (every object of
 *    the four related kinds, every namespace): the two answers must be the same bytes. For a first sync (no
 *    children, no status); for the next, with the first answer's children observed and its status stored, as
 *    Metacontroller feeds it back, and each StatefulSet's last pod away (restarting, or scaled away: its
 *    replicas tell); and for the finalize call of the proxy being deleted (`finalizing: true`,
 *    `deletionTimestamp` set). A spec customize refuses (docs/choices.md: customize then asks for nothing) goes
 *    through the same: its sync must refuse it (or, finalizing, let it go) whatever `related` holds.
 * 3. Measured, not asserted (some requests are rightly conditional): which requested objects sync needed, by
 *    syncing with each one taken out. Asserted of it: each requested Service that exists is needed.
 *
 * FC_SEED=n replays a seed (printed with every run), FC_RUNS=n runs more; FC_PATH=p beside FC_SEED replays
 * the case a failure printed at once (helpers/property-runs.ts).
 */
import t from 'tap';
import fc from 'fast-check';
import {
  compositeController,
  deploymentPods,
  endpointSlices,
  endpoints,
  observedChildren,
  proxy,
  service,
  statefulSet,
  statefulSetPods,
  type Json,
  type Pod,
} from './fixtures/cluster.js';
import { post, testServer, type HookAnswer } from './helpers/hook.js';
import { RELATED_KINDS, SelectionError, requestMap, selectRelated, type HookVersion, type Release, type RelatedRule } from './helpers/related-selection.js';
import { propertyStart, propertyRuns } from './helpers/property-runs.js';

const start = propertyStart();
const numRuns = propertyRuns(100);

const app = testServer();
t.teardown(() => app.close());

const PROXY = 'cache';
/** The Services a spec may name; `mc-gone` never exists in the proxy's namespace (only in the other one). */
const NAMES = ['mc-a', 'mc-b', 'mc-c', 'mc-d', 'mc-gone'] as const;
const PRESENT = NAMES.slice(0, 4);
const NAMESPACES = ['default', 'team-x'] as const;

// ---- the cluster

type Backing = 'statefulset' | 'deployment' | 'external';

interface PodFlags {
  ready: boolean;
  terminating: boolean;
}

interface ServicePlan {
  backing: Backing;
  pods: PodFlags[];
  /** In-cluster Services: EndpointSlices and Endpoints (as before Kubernetes 1.33), slices only, Endpoints only. */
  discovery: 'both' | 'slices' | 'endpoints';
  perSlice: number;
  /** The selector-less Service's hand-written Endpoints mirrored into slices. */
  mirrored: boolean;
  headless: boolean;
  /** StatefulSet: its name (the pods' hostname prefix) is the Service's or another; an ordinal away; replicas off by one; scaled to 0. */
  stsOwnName: boolean;
  gap: number | undefined;
  replicasDelta: number;
  scaledToZero: boolean;
  /** The Service's port is named otherwise than `memcache` (a spec asking for `memcache` gets PortNotFound). */
  portName: 'memcache' | 'cache-port';
}

const flags = fc.record({
  ready: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  terminating: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const servicePlan: fc.Arbitrary<ServicePlan> = fc.record({
  backing: fc.constantFrom<Backing>('statefulset', 'deployment', 'external'),
  pods: fc.array(flags, { minLength: 0, maxLength: 5 }),
  discovery: fc.constantFrom('both' as const, 'both' as const, 'slices' as const, 'endpoints' as const),
  perSlice: fc.constantFrom(1, 2, 100),
  mirrored: fc.boolean(),
  headless: fc.boolean(),
  stsOwnName: fc.boolean(),
  gap: fc.option(fc.nat({ max: 4 }), { nil: undefined }),
  replicasDelta: fc.integer({ min: -1, max: 1 }),
  scaledToZero: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  portName: fc.oneof({ weight: 6, arbitrary: fc.constant('memcache' as const) }, { weight: 1, arbitrary: fc.constant('cache-port' as const) }),
});

/** One memcached Service of `plan` in `namespace`, with everything Kubernetes keeps for it. */
/** `away`: the StatefulSet's last pod is gone (restarting, or scaled away when its replicas say so): step 2 of a case. */
function memcached(name: string, plan: ServicePlan, namespace: string, subnet: number, away = false): Json[] {
  const portName = plan.portName;
  const ports = [{ name: portName, port: 11211 }];
  const apply = (pods: Pod[]) => pods.map((p, i) => ({ ...p, ready: plan.pods[i]?.ready ?? true, terminating: plan.pods[i]?.terminating ?? false }));
  const objects: Json[] = [];
  if (plan.backing === 'external') {
    // Servers outside the cluster: a selector-less Service, hand-written Endpoints (no terminating: a hand-written
    // list has none), and the mirroring controller's slices of them, or none (mirroring off).
    const pods: Pod[] = plan.pods.map((f, i) => ({ name: `${name}-srv-${i}`, ip: `192.168.${subnet}.${i + 1}`, external: true, ready: f.ready }));
    objects.push(service({ name, namespace, ports, selector: null }), endpoints(name, pods, { namespace, portName }));
    if (plan.mirrored && pods.length > 0) objects.push(...endpointSlices(name, pods, { namespace, portName, perSlice: plan.perSlice, mirrored: true }));
    return objects;
  }
  let pods: Pod[];
  if (plan.backing === 'statefulset') {
    const stsName = plan.stsOwnName ? name : `${name}-db`;
    const count = plan.scaledToZero ? 0 : plan.pods.length;
    const ordinals = Array.from({ length: count }, (_, i) => i).filter((n) => n !== plan.gap || count === 1);
    if (away) ordinals.pop();
    pods = apply(statefulSetPods(stsName, ordinals, subnet));
    objects.push(statefulSet(stsName, plan.scaledToZero ? 0 : Math.max(0, count + plan.replicasDelta), { namespace, serviceName: name }));
    objects.push(service({ name, namespace, ports, headless: plan.headless }));
  } else {
    pods = apply(deploymentPods(name, plan.pods.length, subnet));
    objects.push(service({ name, namespace, ports }));
  }
  if (plan.discovery !== 'endpoints') objects.push(...endpointSlices(name, pods, { namespace, portName, perSlice: plan.perSlice }));
  if (plan.discovery !== 'slices') objects.push(endpoints(name, pods, { namespace, portName }));
  return objects;
}

/** Objects customize never asks for, in the proxy's namespace and in the other one. */
function distractors(namespace: string, other: string): Json[] {
  const web = deploymentPods('web', 3, 40);
  // The proxy's own Service (a child: the API server holds it as any Service) and the endpoints of its mcrouter pods.
  const mcrouterPods = deploymentPods(`${PROXY}-mcrouter`, 2, 41);
  const ownSelector = { 'app.kubernetes.io/name': 'mcrouter', 'app.kubernetes.io/instance': PROXY };
  // A slice no Service owns (another controller's, without the service-name label).
  const [stray] = endpointSlices('stray', deploymentPods('stray', 2, 42), { namespace });
  const strayMeta = stray!['metadata'] as Json;
  strayMeta['labels'] = { 'endpointslice.kubernetes.io/managed-by': 'example.com/custom-controller' };
  return [
    service({ name: 'web', namespace, ports: [{ name: 'http', port: 80 }] }),
    endpoints('web', web, { namespace, portName: 'http', port: 80 }),
    ...endpointSlices('web', web, { namespace, portName: 'http', port: 80 }),
    service({ name: PROXY, namespace, selector: ownSelector }),
    endpoints(PROXY, mcrouterPods, { namespace }),
    ...endpointSlices(PROXY, mcrouterPods, { namespace }),
    stray!,
    statefulSet('web-db', 2, { namespace, serviceName: 'web-db' }),
    // In the other namespace: every name the spec may use, present and serving (the missing one too), and a
    // StatefulSet of each name scaled to 0: read across namespaces, any of them would change the answer.
    ...NAMES.flatMap((name, i) => [
      ...memcached(name, { ...BUSY, backing: i % 2 ? 'deployment' : 'statefulset' }, other, 100 + i),
      statefulSet(`${name}-db`, 0, { namespace: other, serviceName: name }),
    ]),
  ];
}
const BUSY: ServicePlan = {
  backing: 'deployment',
  pods: [{ ready: true, terminating: false }, { ready: true, terminating: false }, { ready: false, terminating: false }],
  discovery: 'both',
  perSlice: 100,
  mirrored: false,
  headless: true,
  stsOwnName: true,
  gap: undefined,
  replicasDelta: 2,
  scaledToZero: false,
  portName: 'memcache',
};

// ---- the proxy

const compact = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const name = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...PRESENT) }, { weight: 1, arbitrary: fc.constant('mc-gone') });
const port = fc.constantFrom<number | string | undefined>(undefined, undefined, 11211, 'memcache', 'cache-port');
const policies = fc
  .record({
    type: fc.constantFrom(undefined, 'sharded', 'replicated'),
    hash: fc.constantFrom(undefined, 'Ch3', 'Crc32', 'Rendezvous'),
    writePolicy: fc.constantFrom(undefined, 'AllSync', 'AllMajority'),
    readPolicy: fc.constantFrom(undefined, 'Latest', 'Failover'),
  })
  .map(compact);
/** A leaf; its `namespace`, when written, the proxy's own (`''` reads as unset): `ns` is filled in per run. */
const leaf = fc
  .tuple(policies, name, port, fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'OWN', ''))
  .map(([p, n, port, namespace]) => ({ ...p, service: compact({ name: n, port, namespace }) }));
const group = (child: fc.Arbitrary<Json>, max: number) => fc.tuple(policies, fc.array(child, { minLength: 1, maxLength: max })).map(([p, children]) => ({ ...p, children }));
const rule: fc.Arbitrary<Json> = fc.oneof(
  { weight: 2, arbitrary: leaf },
  { weight: 4, arbitrary: group(leaf, 3) },
  { weight: 3, arbitrary: group(fc.oneof(leaf, group(leaf, 3)), 3) },
);
const goodSpec: fc.Arbitrary<Json> = fc.tuple(
  fc.oneof(
    fc.tuple(name, port).map(([serviceName, servicePort]) => compact({ serviceName, servicePort })),
    rule.map((rules) => ({ rules })),
  ),
  fc.constantFrom(undefined, { replicas: 2 }, { replicas: 0 }),
).map(([form, mcrouter]) => (mcrouter ? { ...form, mcrouter } : form));
/** Specs the hook refuses (the CRD's rules, or the one it alone checks): customize asks for nothing. */
const refusedSpec: fc.Arbitrary<Json> = fc.constantFrom<Json>(
  { rules: { children: [{ service: { name: 'mc-a' } }, { service: { name: 'mc-b', namespace: 'OTHER' } }] } },
  { rules: { type: 'replicated', children: [{ service: { name: 'mc-a' } }, { service: { name: PROXY } }] } },
  { serviceName: PROXY },
  { serviceName: 'mc-a', rules: { service: { name: 'mc-b' } } },
  { rules: { service: { name: 'mc-a' } }, servicePort: 11211 },
  {},
);

/** `OWN`/`OTHER` in a leaf's namespace, as the proxy's namespace and the other one. */
const placed = (spec: Json, own: string, other: string): Json =>
  JSON.parse(JSON.stringify(spec), (key, value: unknown) => (key === 'namespace' && value === 'OWN' ? own : key === 'namespace' && value === 'OTHER' ? other : value)) as Json;

interface Case {
  keying: HookVersion;
  /** Which namespace the proxy lives in (the other holds the look-alikes). */
  namespaceIndex: 0 | 1;
  plans: ServicePlan[];
  spec: Json;
  refused: boolean;
}

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    keying: fc.constantFrom<HookVersion>('v1', 'v2'),
    namespaceIndex: fc.constantFrom<0 | 1>(0, 1),
    plans: fc.array(servicePlan, { minLength: PRESENT.length, maxLength: PRESENT.length }),
    spec: fc.oneof({ weight: 7, arbitrary: goodSpec.map((spec) => ({ spec, refused: false })) }, { weight: 1, arbitrary: refusedSpec.map((spec) => ({ spec, refused: true })) }),
  })
  .map(({ spec, ...rest }) => ({ ...rest, ...spec }));

// ---- one case

const counts = { cases: 0, refused: 0, syncs: 0, selections: 0 };
/** Per related kind, over the first and second syncs: objects selected, how many of them sync needed (its answer changed without it), their bytes. */
const usage = new Map<string, { requested: number; needed: number; bytes: number; neededBytes: number }>();
const unneededExamples = new Map<string, string>();
/** Per related kind: syncs that had any object of it, and those whose answer changed without all of them. */
const kindNeeded = new Map<string, { syncs: number; needed: number }>();
const bytes = { selected: 0, whole: 0 };

interface World {
  parent: Json;
  namespace: string;
  cluster: Json[];
}

function worldOf(c: Case, step: 1 | 2): World {
  const namespace = NAMESPACES[c.namespaceIndex];
  const other = NAMESPACES[1 - c.namespaceIndex]!;
  const cluster = [...PRESENT.flatMap((n, i) => memcached(n, c.plans[i]!, namespace, 10 + i, step === 2)), ...distractors(namespace, other)];
  return { parent: proxy({ name: PROXY, namespace, spec: placed(c.spec, namespace, other) }), namespace, cluster };
}

const isRelatedKind = (o: Json) => Object.values(RELATED_KINDS).some((k) => k.kind === o['kind']);

const CHILD_TYPES = ['ConfigMap.v1', 'Deployment.apps/v1', 'PodDisruptionBudget.policy/v1', 'Service.v1'];

async function sync(keying: HookVersion, parent: Json, related: Record<string, Record<string, Json>>, children: Json[], finalizing: boolean): Promise<HookAnswer> {
  counts.syncs += 1;
  const childGroups = groupByType(children);
  for (const key of CHILD_TYPES) if (!childGroups.has(key)) childGroups.set(key, new Map());
  return post(app, '/sync', { controller: compositeController(keying), parent, children: requestMap(childGroups, keying), related, finalizing });
}

/** Objects by Metacontroller's type key (`Kind.apiVersion`), then `namespace/name`. */
function groupByType(objects: readonly Json[]): Map<string, Map<string, Json>> {
  const map = new Map<string, Map<string, Json>>();
  for (const o of objects) {
    const m = o['metadata'] as { name: string; namespace: string };
    const key = `${String(o['kind'])}.${String(o['apiVersion'])}`;
    let group = map.get(key);
    if (!group) map.set(key, (group = new Map()));
    group.set(`${m.namespace}/${m.name}`, o);
  }
  return map;
}

const shown = (a: HookAnswer) => `${a.statusCode} ${a.text}`;

/** Where two answers first part, with some context. */
function difference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}:\n  selected: …${a.slice(Math.max(0, i - 80), i + 120)}\n  whole:    …${b.slice(Math.max(0, i - 80), i + 120)}`;
}

type Selected = Map<string, Map<string, Json>>;

/** Metacontroller's selection from `cluster` by `rules`, per release. */
function selections(rules: RelatedRule[], parent: Json, cluster: Json[], customizeHook: HookVersion): Map<Release, Selected> {
  const out = new Map<Release, Selected>();
  for (const release of ['beforeNamespaceSelector', 'withNamespaceSelector'] as Release[]) {
    try {
      out.set(release, selectRelated(rules, { parent, cluster, release, customizeHook }));
    } catch (error) {
      if (error instanceof SelectionError) throw new Error(`Metacontroller (${release}) refuses the customize answer, and so every sync of the proxy: ${error.message}`);
      throw error;
    }
  }
  return out;
}

/**
 * The measurement: for one sync, each selected object taken out (needed when the answer changes), then each
 * kind taken out whole (an Endpoints object and the slices of one Service say the same: neither is needed
 * alone, but one of them is).
 */
async function measure(keying: HookVersion, parent: Json, selected: Selected, children: Json[], answer: HookAnswer): Promise<void> {
  const changedWithout = async (without: Selected) => shown(await sync(keying, parent, requestMap(without, keying), children, false)) !== shown(answer);
  for (const [typeKey, group] of selected) {
    const k = kindNeeded.get(typeKey) ?? { syncs: 0, needed: 0 };
    kindNeeded.set(typeKey, k);
    if (group.size === 0) continue;
    k.syncs += 1;
    if (await changedWithout(new Map([...selected].map(([key, g]) => [key, key === typeKey ? new Map() : g])))) k.needed += 1;
    for (const [key, o] of group) {
      const u = usage.get(typeKey) ?? { requested: 0, needed: 0, bytes: 0, neededBytes: 0 };
      usage.set(typeKey, u);
      const bytes = JSON.stringify(o).length;
      u.requested += 1;
      u.bytes += bytes;
      const changed = await changedWithout(new Map([...selected].map(([k, g]) => [k, k === typeKey ? new Map([...g].filter(([q]) => q !== key)) : g])));
      if (changed) {
        u.needed += 1;
        u.neededBytes += bytes;
      } else if (!unneededExamples.has(typeKey)) {
        unneededExamples.set(typeKey, `${key} (spec ${JSON.stringify(parent['spec'])})`);
      }
      // A requested Service that exists is read: without it its pools are ServiceNotFound.
      if (typeKey === 'Service.v1' && !changed) throw new Error(`the Service ${key} was asked for, and the answers are the same without it`);
    }
  }
}

async function check(c: Case): Promise<void> {
  counts.cases += 1;
  if (c.refused) counts.refused += 1;
  const step1 = worldOf(c, 1);
  const step2 = worldOf(c, 2);
  const { parent, namespace } = step1;
  const customized = await post(app, '/customize', { controller: compositeController(c.keying), parent });
  if (customized.statusCode !== 200) throw new Error(`customize answered ${shown(customized)}`);
  const rules = customized.body['relatedResources'] as RelatedRule[];
  if (c.refused && rules.length !== 0) throw new Error(`customize asked for ${JSON.stringify(rules)} for a spec the hook refuses`);
  if (!c.refused && rules.length === 0) throw new Error('customize asked for nothing for a spec the hook takes');

  const whole1 = requestMap(groupByType(step1.cluster.filter(isRelatedKind)), c.keying, namespace);
  const whole2 = requestMap(groupByType(step2.cluster.filter(isRelatedKind)), c.keying, namespace);
  const selected1 = selections(rules, parent, step1.cluster, c.keying);
  const selected2 = selections(rules, parent, step2.cluster, c.keying);
  // Both generations of Metacontroller's selection; when they select the same, that is synced once.
  const releases = (['beforeNamespaceSelector', 'withNamespaceSelector'] as Release[]).filter(
    (release, i, all) => i === 0 || JSON.stringify(requestMap(selected1.get(release)!, 'v2')) !== JSON.stringify(requestMap(selected1.get(all[0]!)!, 'v2')),
  );

  for (const release of releases) {
    counts.selections += 1;
    const related1 = requestMap(selected1.get(release)!, c.keying);
    const related2 = requestMap(selected2.get(release)!, c.keying);
    bytes.selected += JSON.stringify(related1).length;
    bytes.whole += JSON.stringify(whole1).length;
    const same = async (step: string, request: Parameters<typeof sync>, whole: Record<string, Record<string, Json>>) => {
      const selected = await sync(...request);
      const wholeAnswer = await sync(request[0], request[1], whole, request[3], request[4]);
      if (shown(selected) !== shown(wholeAnswer)) throw new Error(`${step} (${release}): the answers differ ${difference(shown(selected), shown(wholeAnswer))}`);
      return selected;
    };

    // Step 1: a first sync (no children, no status).
    const first = await same('first sync', [c.keying, parent, related1, [], false], whole1);
    if (c.refused && first.statusCode !== 422) throw new Error(`a refused spec's sync answered ${shown(first)}`);
    if (!c.refused && first.statusCode !== 200) throw new Error(`sync answered ${shown(first)}`);

    // Step 2: its answer fed back (children observed, status stored), and each StatefulSet's last pod away.
    const status = first.statusCode === 200 ? (first.body['status'] as Json) : undefined;
    const stored = proxy({ name: PROXY, namespace, spec: parent['spec'] as Json, ...(status ? { status } : {}) });
    const children = first.statusCode === 200 ? observedChildren(stored, first.body['children'] as Json[]) : [];
    const next = await same('second sync', [c.keying, stored, related2, children, false], whole2);

    // The proxy deleted: the finalize call.
    const deleting = structuredClone(stored);
    Object.assign(deleting['metadata'] as Json, { deletionTimestamp: '2026-11-25T11:59:00Z', finalizers: ['metacontroller.io/compositecontroller-memcached-operator'] });
    const fin = await same('finalize', [c.keying, deleting, related2, children, true], whole2);
    if (fin.statusCode !== 200 || fin.body['finalized'] !== true) throw new Error(`finalize answered ${shown(fin)}`);

    if (release !== releases[0]) continue;
    await measure(c.keying, parent, selected1.get(release)!, [], first);
    await measure(c.keying, stored, selected2.get(release)!, children, next);
  }
}

t.test('sync reads only what customize asked for, and distractors change nothing', async (t) => {
  const started = Date.now();
  const details = await fc.check(fc.asyncProperty(caseArbitrary, check), { ...start, numRuns, endOnFailure: false });
  t.comment(`seed ${details.seed} (FC_SEED to replay), ${details.numRuns} runs, ${details.numShrinks} shrinks, ${Date.now() - started} ms`);
  if (details.failed) {
    t.fail(`${String(details.errorInstance)}\ncounterexample: ${JSON.stringify(details.counterexample)}`);
    return;
  }
  t.comment(`${counts.cases} cases (${counts.refused} refused specs), ${counts.selections} selections, ${counts.syncs} syncs`);
  t.comment(`related bytes: selected ${bytes.selected}, whole cluster ${bytes.whole} (first syncs)`);
  for (const [typeKey, u] of [...usage].sort()) {
    const k = kindNeeded.get(typeKey);
    t.comment(
      `${typeKey}: ${u.requested} selected, ${u.needed} needed alone (${u.bytes} bytes, ${u.neededBytes} needed); ` +
        `all of them needed in ${k?.needed ?? 0} of ${k?.syncs ?? 0} syncs${unneededExamples.has(typeKey) ? `; e.g. unneeded ${unneededExamples.get(typeKey)}` : ''}`,
    );
  }
  t.pass(`${details.numRuns} runs`);
});

/** The selection model itself, on the points where it could be wrong (helpers/related-selection.ts). */
t.test('the model of Metacontroller selection', async (t) => {
  const parent = proxy({ name: PROXY, namespace: 'default', spec: { serviceName: 'mc-a' } });
  const web = service({ name: 'web', namespace: 'default' });
  (web['metadata'] as Json)['labels'] = { app: 'web' };
  const cluster = [
    service({ name: 'mc-a' }),
    service({ name: 'mc-a', namespace: 'team-x' }),
    web,
    ...endpointSlices('mc-a', deploymentPods('mc-a', 1)),
    ...endpointSlices('mc-a', deploymentPods('mc-a', 1, 9), { namespace: 'team-x' }),
  ];
  const names = (m: Map<string, Map<string, Json>>) => Object.fromEntries([...m].map(([k, g]) => [k, [...g.keys()].sort()]));
  const both = (rules: RelatedRule[], customizeHook: HookVersion = 'v1') =>
    (['beforeNamespaceSelector', 'withNamespaceSelector'] as Release[]).map((release) => {
      try {
        return names(selectRelated(rules, { parent, cluster, release, customizeHook }));
      } catch (error) {
        if (error instanceof SelectionError) return 'refused';
        throw error;
      }
    });
  const svc = { apiVersion: 'v1', resource: 'services' };
  const slices = { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' };
  t.same(both([{ ...svc, names: ['mc-a'] }]), Array(2).fill({ 'Service.v1': ['default/mc-a', 'team-x/mc-a'] }), 'names without a namespace: every namespace (listObjects with "")');
  t.same(both([{ ...svc, namespace: 'default', names: ['mc-a'] }]), Array(2).fill({ 'Service.v1': ['default/mc-a'] }), 'names in the namespace');
  t.same(both([{ ...svc, namespace: 'default' }]), Array(2).fill({ 'Service.v1': ['default/mc-a', 'default/web'] }), 'a namespace without names: all of it');
  t.same(both([{ ...svc, namespace: 'team-x', names: ['mc-a'] }]), ['refused', 'refused'], "another namespace than the parent's: an error");
  t.same(both([{ ...svc, namespace: 'team-x', names: ['mc-a'] }], 'v2'), ['refused', { 'Service.v1': ['team-x/mc-a'] }], 'unchecked for v2 hooks in the newer release');
  t.same(
    both([{ ...slices, labelSelector: { matchLabels: { 'kubernetes.io/service-name': 'mc-a' } } }]).map((m) => (typeof m === 'string' ? m : m['EndpointSlice.discovery.k8s.io/v1']!.length)),
    [1, 1],
    "a label rule, v1 hook: the parent's namespace",
  );
  t.same(
    both([{ ...slices, labelSelector: { matchLabels: { 'kubernetes.io/service-name': 'mc-a' } } }], 'v2').map((m) => (typeof m === 'string' ? m : m['EndpointSlice.discovery.k8s.io/v1']!.length)),
    [1, 2],
    'a label rule, v2 hook: every namespace in the newer release',
  );
  t.same(both([{ ...svc, namespace: 'default', labelSelector: {} }]), ['refused', { 'Service.v1': ['default/mc-a', 'default/web'] }], 'labelSelector beside namespace: refused before namespaceSelector');
  t.same(both([{ ...svc, labelSelector: {} }]), Array(2).fill({ 'Service.v1': ['default/mc-a', 'default/web'] }), 'an empty selector selects everything');
  t.same(
    both([{ ...svc, labelSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }]),
    Array(2).fill({ 'Service.v1': ['default/mc-a'] }),
    'NotIn matches an object without the key',
  );
  t.same(both([{ ...svc, labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }]), Array(2).fill({ 'Service.v1': ['default/web'] }), 'Exists');
  t.same(both([{ ...svc, names: ['nothing'], namespace: 'default' }]), Array(2).fill({ 'Service.v1': [] }), "a rule's kind is there even when it selects nothing (InitGroup)");
});

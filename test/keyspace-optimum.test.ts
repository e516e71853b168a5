// Over a sequence of cluster changes, the keys that change server (routed with
// mcrouter's own hashes) stay within 3% of the optimum: the larger of the share
// the departed servers held and the share the newcomers must take.
import t, { type Test } from 'tap';
import { compileConfig } from '../src/mcrouter/route.js';
import { sampleKeys } from '../src/mcrouter/keyspace.js';
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
import { configOf, post, testServer, type ConfigJson } from './helpers/hook.js';

const KEYS = sampleKeys(20_000).map((k) => `user:${k}`);
const TOLERANCE = 0.03;
const app = testServer();
t.teardown(() => app.close());

interface Step {
  event: string;
  pods: Pod[];
}

function live(config: ConfigJson): Set<string> {
  const set = new Set<string>();
  for (const pool of Object.values(config.pools)) pool.servers.forEach((s, i) => pool.weights?.[i] !== 0 && set.add(s));
  return set;
}

async function drive(t: Test, name: string, steps: Step[], svc: Json) {
  const parent = proxy({ name, spec: { serviceName: (svc['metadata'] as Json)['name'] } });
  const serviceName = String((svc['metadata'] as Json)['name']);
  let children: Json[] = [];
  let previous: ConfigJson | undefined;
  const rows: string[] = [];
  for (const step of steps) {
    const res = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices(serviceName, step.pods)], children }));
    t.equal(res.statusCode, 200, step.event);
    const config = configOf(res.body);
    children = observedChildren(parent, res.body['children'] as Json[]);
    if (previous) {
      const before = compileConfig(previous);
      const after = compileConfig(config);
      const wasLive = live(previous);
      const isLive = live(config);
      let moved = 0;
      let departed = 0;
      let arrived = 0;
      let toHole = 0;
      for (const key of KEYS) {
        const a = before.firstDestination(key);
        const b = after.firstDestination(key);
        if (a !== b) moved++;
        if (a !== undefined && !isLive.has(a)) departed++;
        if (b !== undefined && !wasLive.has(b)) arrived++;
        if (b !== undefined && !isLive.has(b)) toHole++;
      }
      t.equal(toHole, 0, `${step.event}: no key is routed to a weight-0 hole`);
      const optimum = Math.max(departed, arrived) / KEYS.length;
      const share = moved / KEYS.length;
      rows.push(`${step.event}: moved ${(share * 100).toFixed(1)}%, optimum ${(optimum * 100).toFixed(1)}%`);
      t.ok(share <= optimum + TOLERANCE, `${step.event}: moved ${share.toFixed(3)} vs optimum ${optimum.toFixed(3)}`);
    }
    previous = config;
  }
  t.comment(`${name}:\n  ${rows.join('\n  ')}`);
}

t.test('a Deployment-backed pool', async (t) => {
  const pods = deploymentPods('memcached', 10);
  const newPod = (n: number, node = 'node-1'): Pod => ({ name: `memcached-new-${n}`, ip: `10.244.7.${n}`, node });
  const without = (list: Pod[], ...names: string[]) => list.filter((p) => !names.includes(p.name));
  const s1 = [...pods, newPod(1)];
  const s2 = s1.map((p, i) => (i === 4 ? { ...p, ready: false } : p));
  const s3 = [...without(s1, pods[6]!.name), newPod(2)];
  const s4 = without(s3, pods[3]!.name);
  // With that hole open, a replacement: its predecessor's slot, not the older hole, whose keys survivors hold.
  const s4a = [...without(s4, pods[8]!.name), newPod(3)];
  const s4b = [...s4a.map((p) => (p.name === pods[5]!.name ? { ...p, ready: false, terminating: true } : p)), newPod(4)];
  const s4c = without(s4b, pods[5]!.name);
  const drained = s4c.filter((p) => p.node === 'node-0').map((p) => p.name);
  const s5 = without(s4c, ...drained);
  const s6 = [...s5, ...drained.map((_, i) => newPod(10 + i, 'node-2'))];
  await drive(t, 'deployment-pool', [
    { event: 'start (10 pods)', pods },
    { event: 'scale up 10 -> 11', pods: s1 },
    { event: 'a pod restarts (not ready, same IP)', pods: s2 },
    { event: 'a pod replaced by a new one', pods: s3 },
    { event: 'a middle pod deleted', pods: s4 },
    { event: 'a pod replaced while that hole is open', pods: s4a },
    { event: 'a replacement up while its predecessor terminates, a hole open', pods: s4b },
    { event: 'the terminating pod gone', pods: s4c },
    { event: `node drain: ${drained.length} pods evicted`, pods: s5 },
    { event: 'the evicted pods rescheduled elsewhere', pods: s6 },
  ], service({ name: 'memcached' }));
});

t.test('a StatefulSet pool', async (t) => {
  const sts = (ordinals: number[], over: Partial<Pod> = {}) => statefulSetPods('memcached', ordinals, 1, over);
  const all = [0, 1, 2, 3, 4];
  const steps: Step[] = [{ event: 'start (5 pods)', pods: sts(all) }, { event: 'scale up 5 -> 6', pods: sts([...all, 5]) }];
  // Rolling restart from the highest ordinal down, as the StatefulSet controller does: gone, then back not ready, then ready.
  for (const n of [5, 4, 3, 2, 1, 0]) {
    const others = [0, 1, 2, 3, 4, 5].filter((o) => o !== n);
    steps.push({ event: `restart memcached-${n}: pod deleted`, pods: sts(others) });
    steps.push({ event: `restart memcached-${n}: back, not ready`, pods: [...sts(others), ...sts([n], { ready: false, ip: `10.244.3.${n}` })] });
  }
  steps.push({ event: 'scale down 6 -> 4', pods: sts([0, 1, 2, 3]) });
  await drive(t, 'statefulset-pool', steps, service({ name: 'memcached', headless: true }));
});

/** The config of each sync of Deployment pool `memcached` under proxy `name`, one sync a list of pods, each answer fed back. */
async function configsOver(name: string, steps: Pod[][]): Promise<ConfigJson[]> {
  const svc = service({ name: 'memcached' });
  const parent = proxy({ name, spec: { serviceName: 'memcached' } });
  let children: Json[] = [];
  const configs: ConfigJson[] = [];
  for (const step of steps) {
    const res = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached', step)], children }));
    children = observedChildren(parent, res.body['children'] as Json[]);
    configs.push(configOf(res.body));
  }
  return configs;
}

/** The keys whose first server in `from` is still live in `to`, and that `to` sends elsewhere. */
function survivorKeysMoved(from: ConfigJson, to: ConfigJson): string[] {
  const before = compileConfig(from);
  const after = compileConfig(to);
  const survivors = live(to);
  return KEYS.filter((key) => survivors.has(before.firstDestination(key)!) && before.firstDestination(key) !== after.firstDestination(key));
}

t.test('a tail pod that leaves behind an older hole moves no key a survivor holds', async (t) => {
  // WeightedCh3 rehashes a hole's keys over the list's length: dropping the older hole with the tail would send the
  // keys the hole's pod had, held by survivors since it left, to other survivors.
  for (const size of [4, 5, 10]) {
    const pods = deploymentPods('memcached', size);
    const middle = pods[size - 2]!.name;
    const tail = pods[size - 1]!.name;
    const configs = await configsOver(`tail-${size}`, [pods, pods.filter((p) => p.name !== middle), pods.filter((p) => p.name !== middle && p.name !== tail)]);
    const [, withHole, tailGone] = configs as [ConfigJson, ConfigJson, ConfigJson];
    t.same(tailGone.pools['memcached']!.weights, [...Array<number>(size - 2).fill(1), 0], `${size} pods: the tail's slot goes, the older hole stays (at the tail now)`);
    t.equal(survivorKeysMoved(withHole, tailGone).length, 0, `${size} pods: no key a survivor holds moves`);
  }
});

t.test('a replacement takes its predecessor\'s slot, not an older hole: no key a survivor holds moves', async (t) => {
  // An older hole's keys have sat on live servers since its pod left; the leaving pod's are lost anyway.
  for (const size of [4, 6, 10]) {
    for (const [holeAt, replacedAt] of [[1, size - 2], [size - 2, 0]] as const) {
      for (const terminating of [false, true]) {
        const pods = deploymentPods('memcached', size);
        const withHole = pods.filter((_, i) => i !== holeAt);
        const replaced = pods[replacedAt]!;
        const fresh: Pod = { name: 'memcached-fresh', ip: '10.244.9.9', node: 'node-1' };
        const steps = terminating
          ? [pods, withHole, [...withHole.map((p) => (p === replaced ? { ...p, ready: false, terminating: true } : p)), fresh], [...withHole.filter((p) => p !== replaced), fresh]]
          : [pods, withHole, [...withHole.filter((p) => p !== replaced), fresh]];
        const configs = await configsOver(`replace-${size}-${holeAt}-${replacedAt}`, steps);
        const how = `${size} pods, a hole at ${holeAt}, the pod at ${replacedAt} replaced${terminating ? ' while it terminates' : ' at once'}`;
        t.equal(survivorKeysMoved(configs[1]!, configs.at(-1)!).length, 0, `${how}: no key a survivor holds moves`);
        t.equal(configs.at(-1)!.pools['memcached']!.servers[replacedAt], '10.244.9.9:11211', `${how}: the new pod in its slot`);
      }
    }
  }
});

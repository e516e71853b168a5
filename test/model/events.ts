/**
 * The events of a proxy's life, as fast-check arbitraries of plain data (so
 * that a failing history shrinks), and what each does to the model. An event
 * that names a pod by `pick` takes it modulo the pods there are, so every
 * event applies to every state and shrinking never makes a history invalid.
 *
 * Some events are several steps, each followed by a sync, as in a cluster:
 * a rolling restart replaces pods one at a time.
 */
import fc from 'fast-check';
import { NODES, PORT_NAMES, REFERABLE_SERVICES, SERVICE_NAMES, type Cluster, type ModelPod, type ServiceName } from './cluster.js';
import type { Metacontroller } from './metacontroller.js';

export type Spec = Record<string, unknown>;

export type Event =
  | { kind: 'podAdded'; service: ServiceName; reuseIp: boolean }
  | { kind: 'podReady'; service: ServiceName; pick: number }
  | { kind: 'podNotReady'; service: ServiceName; pick: number }
  | { kind: 'podTerminating'; service: ServiceName; pick: number }
  | { kind: 'podDeleted'; service: ServiceName; pick: number }
  | { kind: 'podRestarted'; service: ServiceName; pick: number }
  | { kind: 'scaled'; service: ServiceName; replicas: number }
  | { kind: 'nodeLost'; node: (typeof NODES)[number] }
  | { kind: 'rollingRestart'; service: ServiceName }
  | { kind: 'portRenamed'; service: ServiceName }
  | { kind: 'serviceDeleted'; service: ServiceName }
  | { kind: 'serviceRecreated'; service: ServiceName }
  | { kind: 'endpointsBlip'; service: ServiceName }
  | { kind: 'specEdited'; spec: Spec }
  | { kind: 'rolledOut' }
  | { kind: 'mcrouterDown'; seconds: number }
  | { kind: 'resync' }
  | { kind: 'timePassed'; seconds: number };

export interface World {
  cluster: Cluster;
  metacontroller: Metacontroller;
}

/** One change to the world, followed by a sync; `label` names it in a failure report. */
export interface Phase {
  label: string;
  apply(): void;
}

// ---- specs: every form and topology the API allows, valid by construction

/** Mostly Services that exist; now and then one that never does. */
const service = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...REFERABLE_SERVICES.filter((s) => s !== 'cache-z')) },
  { weight: 1, arbitrary: fc.constant('cache-z') },
);
/** By number (or the default) mostly; by name now and then, which a port rename breaks. */
const port = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<number | string | undefined>(undefined, 11211) },
  { weight: 1, arbitrary: fc.constantFrom<number | string | undefined>(...PORT_NAMES) },
);
const hash = fc.constantFrom(undefined, undefined, 'Ch3', 'Crc32', 'Rendezvous');
const ruleType = fc.constantFrom(undefined, 'sharded', 'replicated');
const writePolicy = fc.constantFrom(undefined, 'AllSync', 'AllMajority', 'AllFastest', 'AllAsync');
const readPolicy = fc.constantFrom(undefined, 'Latest', 'MissFailover', 'Failover');

/** Drops the keys whose value is undefined: a spec as kubectl would store it. */
const compact = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const policies = fc.record({ type: ruleType, hash, writePolicy, readPolicy }).map(compact);

const leafRule = fc
  .tuple(policies, service, port)
  .map(([p, name, port]) => ({ ...p, service: compact({ name, port }) }));

/** Rules nest at most 3 levels: a group of groups of leaves. */
const rule: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 3, arbitrary: leafRule },
  {
    weight: 4,
    arbitrary: fc.tuple(policies, fc.array(leafRule, { minLength: 1, maxLength: 3 })).map(([p, children]) => ({ ...p, children })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        policies,
        fc.array(
          fc.oneof(
            leafRule,
            fc.tuple(policies, fc.array(leafRule, { minLength: 1, maxLength: 2 })).map(([p, children]) => ({ ...p, children })),
          ),
          { minLength: 1, maxLength: 3 },
        ),
      )
      .map(([p, children]) => ({ ...p, children })),
  },
);

const mcrouter = fc
  .record({
    replicas: fc.constantFrom(undefined, 0, 1, 2, 3),
    reload: fc.constantFrom(undefined, 'Watch', 'Rollout'),
    exporter: fc.constantFrom(undefined, { enabled: true }, { enabled: false }),
  })
  .map(compact);

export const specArbitrary: fc.Arbitrary<Spec> = fc.tuple(
  fc.oneof(
    fc.tuple(service, port).map(([serviceName, servicePort]) => compact({ serviceName, servicePort })),
    rule.map((rules) => ({ rules })),
  ),
  mcrouter,
).map(([form, m]) => (Object.keys(m).length > 0 ? { ...form, mcrouter: m } : form));

// ---- events

const svc = fc.constantFrom(...SERVICE_NAMES);
const pick = fc.nat({ max: 31 });
const podAdded = fc.record({ kind: fc.constant('podAdded' as const), service: svc, reuseIp: fc.boolean() });
const podTerminating = fc.record({ kind: fc.constant('podTerminating' as const), service: svc, pick });
const podDeleted = fc.record({ kind: fc.constant('podDeleted' as const), service: svc, pick });
const podRestarted = fc.record({ kind: fc.constant('podRestarted' as const), service: svc, pick });
const nodeLost = fc.record({ kind: fc.constant('nodeLost' as const), node: fc.constantFrom(...NODES) });

export const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: podAdded },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('podReady' as const), service: svc, pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('podNotReady' as const), service: svc, pick }) },
  { weight: 2, arbitrary: podTerminating },
  { weight: 5, arbitrary: podDeleted },
  { weight: 3, arbitrary: podRestarted },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('scaled' as const), service: svc, replicas: fc.nat({ max: 8 }) }) },
  { weight: 2, arbitrary: nodeLost },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rollingRestart' as const), service: svc }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('portRenamed' as const), service: svc }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('serviceDeleted' as const), service: svc }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('serviceRecreated' as const), service: svc }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('endpointsBlip' as const), service: svc }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('specEdited' as const), spec: specArbitrary }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'rolledOut' as const }) },
  // Down for up to 15 minutes before the next sync: past the proxy's own deadline.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mcrouterDown' as const), seconds: fc.integer({ min: 0, max: 900 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resync' as const }) },
  // Up to 15 minutes: past the 10-minute deadline of a proxy waiting on a Service or its pods, or for an mcrouter replica.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('timePassed' as const), seconds: fc.integer({ min: 1, max: 900 }) }) },
);

/**
 * Pods leaving large pools faster than they come: holes past half a list, and so the compaction, which the
 * mixed histories above, over pools of a few pods, reach only a few times in a hundred runs.
 */
export const churnEventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  { weight: 8, arbitrary: podDeleted },
  { weight: 3, arbitrary: nodeLost },
  { weight: 1, arbitrary: podTerminating },
  { weight: 1, arbitrary: podRestarted },
  { weight: 2, arbitrary: podAdded },
);

/** Specs whose pools may have holes (Ch3, sharded) mostly, over the Services the churn empties; any spec now and then. */
export const churnSpecArbitrary: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Spec>(...SERVICE_NAMES.map((serviceName) => ({ serviceName })), { rules: { children: SERVICE_NAMES.map((name) => ({ service: { name } })) } }) },
  { weight: 1, arbitrary: specArbitrary },
);

export const describe = (e: Event): string => {
  const { kind, ...rest } = e;
  return `${kind} ${JSON.stringify(rest)}`;
};

/** The phases an event goes through, each followed by a sync. */
export function phasesOf(event: Event, { cluster, metacontroller }: World): Phase[] {
  const one = (apply: () => void): Phase[] => [{ label: describe(event), apply }];
  switch (event.kind) {
    case 'podAdded':
      return one(() => cluster.addPod(event.service, event.reuseIp));
    case 'podReady':
    case 'podNotReady':
      return one(() => {
        const pod = cluster.pick(event.service, event.pick);
        if (pod && !pod.terminating) pod.ready = event.kind === 'podReady';
      });
    case 'podTerminating':
      return one(() => {
        const pod = cluster.pick(event.service, event.pick);
        if (pod) {
          pod.terminating = true;
          pod.ready = false;
        }
      });
    case 'podDeleted':
      return one(() => {
        const pod = cluster.pick(event.service, event.pick);
        if (pod) cluster.removePod(event.service, pod);
      });
    case 'podRestarted':
      // Deleted and created again: a StatefulSet pod keeps its name (and DNS name) with a new IP,
      // a Deployment's replacement is a new pod. It starts not ready.
      return restart(cluster, event.service, () => cluster.pick(event.service, event.pick), describe(event));
    case 'scaled':
      return one(() => {
        const s = cluster.get(event.service);
        s.replicas = event.replicas;
        // A StatefulSet removes the highest ordinals first; a ReplicaSet the newest pods.
        const order = s.kind === 'statefulset' ? [...s.pods].sort((a, b) => b.ordinal! - a.ordinal!) : [...s.pods].reverse();
        for (const pod of order.slice(0, Math.max(0, s.pods.length - event.replicas))) cluster.removePod(event.service, pod);
        while (s.pods.length < event.replicas) cluster.addPod(event.service, false);
      });
    case 'nodeLost':
      // Every pod on the node is gone at once, in every Service: holes in several places of a pool.
      return one(() => {
        for (const name of SERVICE_NAMES) for (const pod of cluster.get(name).pods.filter((p) => p.node === event.node)) cluster.removePod(name, pod);
      });
    case 'rollingRestart': {
      const s = cluster.get(event.service);
      // StatefulSets restart from the highest ordinal down; Deployments surge a new pod before an old one goes.
      const names = (s.kind === 'statefulset' ? [...s.pods].sort((a, b) => b.ordinal! - a.ordinal!) : s.pods).map((p) => p.name);
      return names.flatMap((name, i) => restart(cluster, event.service, () => s.pods.find((p) => p.name === name), `${describe(event)} pod ${i + 1}/${names.length}`));
    }
    case 'portRenamed':
      return one(() => {
        const s = cluster.get(event.service);
        s.portName = s.portName === PORT_NAMES[0] ? PORT_NAMES[1] : PORT_NAMES[0];
      });
    case 'serviceDeleted':
      // The Service's EndpointSlices and Endpoints go with it; the pods stay.
      return one(() => void (cluster.get(event.service).exists = false));
    case 'serviceRecreated':
      return one(() => {
        const s = cluster.get(event.service);
        if (!s.exists) {
          s.exists = true;
          s.incarnation++;
        }
      });
    case 'endpointsBlip':
      // Lasts until the next event: every sync of this step sees the Service with no endpoints.
      return one(() => void (cluster.get(event.service).blip = true));
    case 'specEdited':
      return one(() => metacontroller.editSpec(event.spec));
    case 'rolledOut':
      return one(() => metacontroller.rollOut());
    case 'mcrouterDown':
      return one(() => {
        metacontroller.mcrouterDown();
        metacontroller.wait(event.seconds);
      });
    case 'resync':
      return one(() => undefined);
    case 'timePassed':
      return one(() => metacontroller.wait(event.seconds));
  }
}

/** Terminating, gone, back not ready, ready: four syncs, as the endpoint controllers publish them. */
function restart(cluster: Cluster, service: ServiceName, find: () => ModelPod | undefined, label: string): Phase[] {
  const s = cluster.get(service);
  let old: ModelPod | undefined;
  let replacement: ModelPod | undefined;
  return [
    {
      label: `${label}: terminating`,
      apply() {
        old = find();
        if (!old) return;
        old.terminating = true;
        old.ready = false;
        // A Deployment surges the replacement first; it starts not ready.
        if (s.kind !== 'statefulset') replacement = cluster.addPod(service, false);
      },
    },
    {
      label: `${label}: deleted`,
      apply() {
        if (old && s.pods.includes(old)) cluster.removePod(service, old);
      },
    },
    {
      label: `${label}: recreated`,
      apply() {
        // A StatefulSet recreates the pod under its own name, with a new IP.
        if (old?.ordinal !== undefined && !s.pods.some((p) => p.ordinal === old!.ordinal)) {
          replacement = cluster.addPod(service, false, false, old.ordinal);
        }
      },
    },
    {
      label: `${label}: ready`,
      apply() {
        if (replacement && !replacement.terminating) replacement.ready = true;
      },
    },
  ];
}

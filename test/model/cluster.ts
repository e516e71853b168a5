/**
 * The cluster as the model holds it: the memcached Services and their pods,
 * from which the Service, Endpoints and EndpointSlice objects are built the
 * way the API server serves them (test/fixtures/cluster.ts), and the events
 * that change it. The proxy and its children live in metacontroller.ts.
 *
 * Three memcached Services, one of each kind a user runs:
 * - `cache-a`: a StatefulSet behind a headless Service (members have DNS names),
 * - `cache-b`: a Deployment behind a ClusterIP Service (members are pod IPs),
 * - `cache-c`: servers outside the cluster, a selector-less Service with
 *   hand-written Endpoints (no targetRef; the slices mirror them, and the hook reads the Endpoints).
 * `cache-z` never exists: a spec naming it shows ServiceNotFound.
 */
import { endpointSlices, endpoints, service, statefulSet, uid, type Json, type Pod } from '../fixtures/cluster.js';

export const NAMESPACE = 'default';
export const CLUSTER_DOMAIN = 'cluster.local';
export const SERVICE_PORT = 11211;
/** The Service's port name, and the name a rename switches to and back. */
export const PORT_NAMES = ['memcache', 'memcache-tcp'] as const;

export const SERVICE_NAMES = ['cache-a', 'cache-b', 'cache-c'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** Services a spec may name: the three above and one that is never created. */
export const REFERABLE_SERVICES = [...SERVICE_NAMES, 'cache-z'] as const;

type Kind = 'statefulset' | 'deployment' | 'external';
const KINDS: Record<ServiceName, Kind> = { 'cache-a': 'statefulset', 'cache-b': 'deployment', 'cache-c': 'external' };
const SUBNETS: Record<ServiceName, number> = { 'cache-a': 1, 'cache-b': 2, 'cache-c': 3 };

/** How the cluster publishes endpoints: EndpointSlices (read first) or only the legacy Endpoints. */
export type Discovery = 'slices' | 'endpoints';

export interface ModelPod {
  name: string;
  ip: string;
  /** StatefulSet ordinal. */
  ordinal?: number;
  ready: boolean;
  terminating: boolean;
  node: string;
}

export interface MemcachedService {
  name: ServiceName;
  kind: Kind;
  exists: boolean;
  /** Bumped each time the Service is created again: a new uid. */
  incarnation: number;
  portName: (typeof PORT_NAMES)[number];
  pods: ModelPod[];
  /** Endpoints listed empty for the current step (an endpoint controller catching up). */
  blip: boolean;
  /** Addresses freed by deleted pods, which a new pod may get again. */
  freedIps: string[];
  nextHost: number;
  nextPod: number;
  /** A StatefulSet's `spec.replicas`: scaling sets it; a pod deleted or restarting leaves it. */
  replicas: number;
}

/** Pods are spread over three nodes; losing one takes its pods of every Service at once. */
export const NODES = ['node-0', 'node-1', 'node-2'] as const;

export interface ClusterOptions {
  discovery: Discovery;
  /** Endpoints per EndpointSlice (the controller cuts at 100; small values give several slices). */
  perSlice: number;
  /** Initial pods per Service. */
  pods: Record<ServiceName, number>;
  /** Whether Metacontroller sends the StatefulSets (the customize hook asks for them; a cached older answer did not). */
  statefulSets: boolean;
}

export class Cluster {
  readonly services = new Map<ServiceName, MemcachedService>();
  /** A counter standing in for etcd's revision: every write gets the next resourceVersion. */
  private revision = 1000;
  private scheduled = 0;

  constructor(readonly options: ClusterOptions) {
    for (const name of SERVICE_NAMES) {
      const svc: MemcachedService = {
        name,
        kind: KINDS[name],
        exists: true,
        incarnation: 1,
        portName: PORT_NAMES[0],
        pods: [],
        blip: false,
        freedIps: [],
        nextHost: 7,
        nextPod: 0,
        replicas: 0,
      };
      this.services.set(name, svc);
      for (let i = 0; i < options.pods[name]; i++) this.addPod(name, false, true);
    }
  }

  nextResourceVersion(): string {
    return String(++this.revision);
  }

  get sendsStatefulSets(): boolean {
    return this.options.statefulSets;
  }

  get(name: ServiceName): MemcachedService {
    return this.services.get(name)!;
  }

  // ---- pods

  /** A new pod: a StatefulSet ordinal (the lowest free one unless given), or a Deployment/external server with a fresh (or reused) IP. */
  addPod(name: ServiceName, reuseIp: boolean, ready = false, ordinal?: number): ModelPod {
    const svc = this.get(name);
    const ip = reuseIp && svc.freedIps.length > 0 ? svc.freedIps.shift()! : `10.244.${SUBNETS[name]}.${svc.nextHost++}`;
    const node = NODES[this.scheduled++ % NODES.length]!;
    let pod: ModelPod;
    if (svc.kind === 'statefulset') {
      const n = ordinal ?? this.lowestFreeOrdinal(svc);
      pod = { name: `${name}-${n}`, ip, ordinal: n, ready, terminating: false, node };
      svc.replicas = Math.max(svc.replicas, n + 1);
    } else {
      pod = { name: `${name}-6d5f8c7b9-${uid(name, String(svc.nextPod++)).slice(0, 5)}`, ip, ready, terminating: false, node };
    }
    svc.pods.push(pod);
    return pod;
  }

  /** A StatefulSet creates the lowest missing ordinal first (OrderedReady or Parallel alike for a gap). */
  private lowestFreeOrdinal(svc: MemcachedService): number {
    const taken = new Set(svc.pods.map((p) => p.ordinal));
    let n = 0;
    while (taken.has(n)) n++;
    return n;
  }

  removePod(name: ServiceName, pod: ModelPod): void {
    const svc = this.get(name);
    svc.pods = svc.pods.filter((p) => p !== pod);
    svc.freedIps.push(pod.ip);
  }

  /** The pod at `pick` (modulo the count), or undefined when there is none. */
  pick(name: ServiceName, pick: number): ModelPod | undefined {
    const pods = this.get(name).pods;
    return pods.length === 0 ? undefined : pods[pick % pods.length];
  }

  /** The endpoint controllers catch up: a blip lasts one step. */
  endBlips(): void {
    for (const svc of this.services.values()) svc.blip = false;
  }

  // ---- what the API server serves

  serviceObject(svc: MemcachedService): Json {
    const obj = service({
      name: svc.name,
      namespace: NAMESPACE,
      headless: svc.kind === 'statefulset',
      ports: [{ name: svc.portName, port: SERVICE_PORT }],
      ...(svc.kind === 'external' ? { selector: null } : {}),
    });
    const meta = obj['metadata'] as Json;
    meta['uid'] = uid('svc', NAMESPACE, svc.name, String(svc.incarnation));
    meta['resourceVersion'] = String(1000 + svc.incarnation);
    return obj;
  }

  private fixturePods(svc: MemcachedService): Pod[] {
    if (svc.blip) return [];
    return svc.pods.map((p) => {
      const pod: Pod = { name: p.name, ip: p.ip, ready: p.ready, terminating: p.terminating, node: p.node };
      if (svc.kind === 'statefulset') pod.hostname = p.name;
      if (svc.kind === 'external') pod.external = true;
      return pod;
    });
  }

  /** Service, Endpoints and EndpointSlices of every existing Service, and the StatefulSets: what Metacontroller's informers hold. */
  objects(): Json[] {
    const out: Json[] = [];
    for (const svc of this.services.values()) {
      if (svc.kind === 'statefulset' && this.options.statefulSets) out.push(statefulSet(svc.name, svc.replicas, { namespace: NAMESPACE }));
      if (!svc.exists) continue;
      out.push(this.serviceObject(svc));
      const pods = this.fixturePods(svc);
      out.push(endpoints(svc.name, pods, { namespace: NAMESPACE, portName: svc.portName, port: SERVICE_PORT }));
      if (this.options.discovery === 'slices') {
        out.push(
          ...endpointSlices(svc.name, pods, {
            namespace: NAMESPACE,
            portName: svc.portName,
            port: SERVICE_PORT,
            perSlice: this.options.perSlice,
            mirrored: svc.kind === 'external',
          }),
        );
      }
    }
    return out;
  }

  // ---- what the hook should see, per DESIGN 5

  /**
   * The servers a (service, port) pair has now, as mcrouter names them, or
   * why it has none. Written from the design, not from the code.
   */
  expectedMembers(service: string, port: number | string): { reason: 'ServiceNotFound' | 'PortNotFound' | 'NoServers' } | { members: ExpectedMember[] } {
    const svc = this.services.get(service as ServiceName);
    if (!svc || !svc.exists) return { reason: 'ServiceNotFound' };
    if (typeof port === 'number' ? port !== SERVICE_PORT : port !== svc.portName) return { reason: 'PortNotFound' };
    if (svc.blip) return { reason: 'NoServers' };
    // The legacy Endpoints drop terminating pods; slices cut from a selector keep them (ready: false). A
    // selector-less Service is read from its Endpoints, which its slices only mirror.
    const fromSlices = this.options.discovery === 'slices' && svc.kind !== 'external';
    const listed = fromSlices ? svc.pods : svc.pods.filter((p) => !p.terminating);
    if (listed.length === 0) return { reason: 'NoServers' };
    return {
      members: listed.map((p) => ({
        address:
          svc.kind === 'statefulset'
            ? `${p.name}.${svc.name}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}:${SERVICE_PORT}`
            : `${p.ip}:${SERVICE_PORT}`,
        ready: p.ready && !p.terminating,
        terminating: p.terminating,
        ...(p.ordinal !== undefined ? { ordinal: p.ordinal } : {}),
      })),
    };
  }

  /** The DNS name a StatefulSet ordinal has, whether its pod exists or not. */
  ordinalAddress(service: string, ordinal: number): string {
    return `${service}-${ordinal}.${service}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}:${SERVICE_PORT}`;
  }
}

export interface ExpectedMember {
  address: string;
  ready: boolean;
  terminating: boolean;
  ordinal?: number;
}

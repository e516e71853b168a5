/**
 * The request bodies the benchmarks send: what Metacontroller posts to /sync
 * for a proxy over a Deployment-backed memcached pool of N pods (2% of them
 * not ready), its EndpointSlices cut 100 endpoints each as Kubernetes does,
 * with the Service and the Endpoints object (truncated at 1,000 addresses)
 * that the customize hook also asks for.
 *
 * A case has 8 bodies for 8 different proxies (names, uids, namespaces,
 * addresses), so a cache keyed on the body or the parent measures nothing.
 * Endpoints come in no particular order of their addresses, as in a cluster.
 * Four situations:
 * - `steady`: the sync Metacontroller sends most (resyncs, and the syncs that
 *   follow every applied change and every Deployment status update): the
 *   observed ConfigMap already holds the servers there are.
 * - `first-sync`: a new proxy, no children yet: every server sorted into slots.
 * - `endpoint-change`: a middle pod replaced by a new one: its hole refilled,
 *   lastChange and the moved keyspace (10,000 sample keys routed through the
 *   old and the new config) computed.
 * - `steady-statefulset`: a steady sync over a StatefulSet's pods behind a headless
 *   Service, with the StatefulSet: servers named by DNS, kept by ordinal.
 * Children and status come from the hook's own previous answer, as the API
 * server holds them after Metacontroller applied it.
 */
import type { SyncRequest } from '../src/api/hook.js';
import type { sync as Sync } from '../src/core/sync.js';
import { DEFAULT_SETTINGS } from '../src/settings.js';
import {
  deploymentPods,
  endpointSlices,
  endpoints,
  largeStatefulSetPods,
  observedChildren,
  proxy,
  service,
  statefulSet,
  syncRequest,
  uid,
  type Json,
  type Pod,
} from '../test/fixtures/cluster.js';

export const POOL_SIZES = [10, 1000, 5000] as const;
export const BODIES_PER_CASE = 8;
/** The Endpoints controller truncates an Endpoints object at 1,000 addresses (Kubernetes >= 1.22). */
const ENDPOINTS_CAPACITY = 1000;

/**
 * What the hook runs with by default (`npm start`, as the HTTP benchmark starts it): with other images the
 * observed Deployment would never match the one the hook wants, and a `steady` sync would answer Progressing.
 */
export const BENCH_CONTEXT = {
  now: '2026-11-25T12:00:00Z',
  clusterDomain: DEFAULT_SETTINGS.clusterDomain,
  images: { mcrouter: DEFAULT_SETTINGS.mcrouterImage, exporter: DEFAULT_SETTINGS.exporterImage },
};

export const SITUATIONS = ['steady', 'first-sync', 'endpoint-change', 'steady-statefulset'] as const;
export type Situation = (typeof SITUATIONS)[number];

export interface BenchBody {
  name: string;
  uid: string;
  situation: Situation;
  /** The exact bytes posted. */
  text: string;
}

export interface BenchCase {
  members: number;
  situation: Situation;
  bodies: BenchBody[];
}

/**
 * The objects Metacontroller sends as `related` for the pool: the Service, its slices and its (truncated)
 * Endpoints; for StatefulSet pods, a headless Service and the StatefulSet.
 */
function relatedOf(serviceName: string, namespace: string, pods: Pod[], statefulSetPods = false): Json[] {
  const truncated = endpoints(serviceName, pods.slice(0, ENDPOINTS_CAPACITY), { namespace });
  if (pods.length > ENDPOINTS_CAPACITY) {
    const meta = truncated['metadata'] as { annotations?: Record<string, string> };
    meta.annotations = { 'endpoints.kubernetes.io/over-capacity': 'truncated' };
  }
  const slices = endpointSlices(serviceName, pods, { namespace });
  if (!statefulSetPods) return [service({ name: serviceName, namespace }), truncated, ...slices];
  return [service({ name: serviceName, namespace, headless: true }), statefulSet(serviceName, pods.length, { namespace }), truncated, ...slices];
}

function bodyFor(sync: typeof Sync, members: number, situation: Situation, i: number): BenchBody {
  const namespace = `team-${i}`;
  const name = `cache-${members}-${i}`;
  const serviceName = `memcached-${members}-${i}`;
  // Distinct subnets per proxy, so the 8 pools share no address. The endpointslice controller lists
  // pods in no particular order, and IPs are not handed out in the order of pod names either.
  const statefulSetPods = situation === 'steady-statefulset';
  const pods = (statefulSetPods ? largeStatefulSetPods(serviceName, members, 100 + i) : deploymentPods(serviceName, members, 2 + i * 25))
    .map((p, n) => (n % 50 === 7 ? { ...p, ready: false } : p))
    .map((p) => ({ p, order: uid('order', p.name) }))
    .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
    .map(({ p }) => p);
  const spec = { serviceName };
  const fresh = proxy({ name, namespace, spec });
  if (situation === 'first-sync') {
    return { name, uid: uidOf(fresh), situation, text: JSON.stringify(syncRequest({ parent: fresh, related: relatedOf(serviceName, namespace, pods) })) };
  }
  const related = relatedOf(serviceName, namespace, pods, statefulSetPods);

  // The state after the previous sync was applied and the mcrouter Deployment rolled out.
  const previous = sync(syncRequest({ parent: fresh, related }) as unknown as SyncRequest, BENCH_CONTEXT);
  const settledParent = proxy({ name, namespace, spec, status: previous.status as Json });
  const observed = observedChildren(settledParent, previous.children as unknown as Json[]);
  const settled = sync(
    syncRequest({ parent: settledParent, related, children: observed }) as unknown as SyncRequest,
    BENCH_CONTEXT,
  );
  const parent = proxy({ name, namespace, spec, status: settled.status as Json });

  let now = pods;
  if (situation === 'endpoint-change') {
    // A middle pod replaced by a new one with a new name and address.
    const gone = Math.floor(members / 2);
    const [replacement] = deploymentPods(`${serviceName}-next`, 1, 2 + i * 25 + 24);
    now = pods.filter((_, n) => n !== gone).concat(replacement!);
  }
  const request = syncRequest({ parent, related: now === pods ? related : relatedOf(serviceName, namespace, now), children: observed });
  return { name, uid: uidOf(parent), situation, text: JSON.stringify(request) };
}

const uidOf = (parent: Json) => (parent['metadata'] as { uid: string }).uid;

/** `sync` answers the earlier steps (the hook's compiled core, so that building bodies also warms it up). */
export function benchCase(sync: typeof Sync, members: number, situation: Situation, count = BODIES_PER_CASE): BenchCase {
  return { members, situation, bodies: Array.from({ length: count }, (_, i) => bodyFor(sync, members, situation, i)) };
}

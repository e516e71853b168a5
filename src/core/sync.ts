/**
 * The sync hook: a MemcachedProxy and what Metacontroller observed in, the
 * desired children and status out. Pure: the time comes in with the context.
 */
import { replicasOf, type AnyObject, type ConfigMap, type Deployment, type EndpointSlice, type Endpoints, type Service, type StatefulSet } from '../api/kubernetes.js';
import type { Deployment as DeploymentObject } from 'kubernetes-types/apps/v1.js';
import { OBJECT_TYPES, TYPE_KEYS, typeKey, type Child, type SyncRequest, type SyncResponse } from '../api/hook.js';
import { mcrouterReplicasOf } from '../api/defaults.js';
import type { MemcachedProxy } from '../api/memcached-proxy.js';
import { readyCondition, type MemcachedProxyStatus } from '../api/proxy-status.js';
import { childrenOf, deploymentSpecHash, mcrouterImageOf, type Images } from './children.js';
import { configRecord, type ConfigRecord } from './config-record.js';
import { indexRelated, membershipOf, scaledToZeroLookup, type ServiceObjects } from './membership.js';
import { ConfigTooLargeError, buildConfig, configHash, parseCurrentConfig, renderConfig, type BuiltConfig, type CurrentConfig } from './mcrouter-config.js';
import { CONFIG_KEY, POOLS_KEY, mcrouterName, proxyServiceName } from './naming.js';
import { currentListsByPool, parsePoolIdentities, renderPoolIdentities } from './current-lists.js';
import { HASH_TRAITS } from './hashes.js';
import { unsupportedHashOf } from './mcrouter-version.js';
import { podTemplateFault } from './pod-template-check.js';
import { assignSlots, combinedSlotMode, slotsWithoutMembers, type ServerList, type SlotMode, type WantedOrdinals } from './slots.js';
import { SpecError, checkSpec } from './spec-check.js';
import { configGraceLeft, reconcilingDeadlineIn, secondsSince, statusOf, type PoolOutcome } from './status.js';
import { withStoredTimesAsOf } from './stored-times.js';
import { topologyOf, type RouteNode, type Topology } from './topology.js';

/**
 * How soon Metacontroller syncs again while a child it should have created is not there: the seconds the
 * proxy has waited so far (since its `Ready` condition last changed), from 10 to 300. A create refused
 * because the name is taken (by the children of a proxy deleted and created again under the same name,
 * which the garbage collector has yet to remove) Metacontroller only logs, and the old child's deletion
 * syncs nothing, since it belonged to another parent: without this, the proxy would wait for an unrelated
 * event, the next resync (`resyncPeriodSeconds`, 5 minutes in the shipped manifests) or the next relist (30
 * minutes by default) to get its children. A name taken for good (orphans of
 * `--cascade=orphan`, another object of that name) or a create the API server refuses each time is retried
 * every 5 minutes, not every 10 seconds.
 */
const MISSING_CHILD_RESYNC_SECONDS = { first: 10, most: 300 } as const;

function missingChildResync(waitingSince: string | undefined, now: string): number {
  const waited = waitingSince === undefined ? 0 : Math.round(secondsSince(waitingSince, now));
  const { first, most } = MISSING_CHILD_RESYNC_SECONDS;
  return Number.isNaN(waited) ? first : Math.min(most, Math.max(first, waited));
}

export interface SyncContext {
  /** RFC 3339 time of this sync: stamps condition transitions, lastChange and configSince, and the waits are counted to it. */
  now: string;
  clusterDomain: string;
  images: Images;
}

type ObjectMap<T> = Record<string, T> | null | undefined;
const valuesOf = <T>(map: ObjectMap<T>): T[] => (map ? Object.values(map) : []);

export function sync(request: SyncRequest, context: SyncContext): SyncResponse {
  try {
    return desiredState(request, context);
  } catch (error) {
    if (error instanceof SpecError) return syncOfRefusedSpec(request, error);
    throw error;
  }
}

/**
 * The answer to a proxy whose spec is refused, by the rules here or by the CRD's schema (the server checks it
 * before sync() runs): the refusal, but for a finalize hook pointed at /sync. Metacontroller keeps its finalizer
 * until an answer says finalized, so a refusal (a spec the CRD let through, or one stored under an older CRD or
 * that a newer hook no longer takes) would hold the deletion until someone fixed the spec of what they delete
 * (customize() answers a refused spec with no related object, which lets the finalize hook be called). No
 * children can be built from it, and none are needed: Metacontroller removes its finalizer before it manages
 * children, and the garbage collector takes them with the proxy. The stored status stays (the proxy goes next).
 * The spec is not read.
 */
export function syncOfRefusedSpec(request: Pick<SyncRequest, 'finalizing'> & { parent: Pick<SyncRequest['parent'], 'status'> }, error: SpecError): SyncResponse {
  if (request.finalizing === true) return { status: request.parent.status ?? {}, children: [], finalized: true };
  throw error;
}

/**
 * The answer, step by step: what Metacontroller observed, the pools (their members and slots), the config they
 * make and what the status records of it, the children, the status, and when to sync again.
 */
function desiredState(request: SyncRequest, context: SyncContext): SyncResponse {
  const parent = withStoredTimesAsOf(request.parent, context.now);
  checkSpec(parent);
  const observed = observedOf(request, parent);
  const topology = topologyOf(parent.spec);
  const pools = poolOutcomes(topology, observed, parent.metadata.namespace, context.clusterDomain);
  const rendered = renderedConfig(parent, topology, pools);
  const record = configRecord({
    parent,
    observedConfigMap: observed.configMap,
    current: observed.current,
    text: rendered.text,
    hash: rendered.hash,
    config: rendered.config,
    now: context.now,
  });
  const specHash = deploymentSpecHash(parent, context.images, rendered.hash);
  const desired = childrenOf(parent, {
    images: context.images,
    configText: rendered.text,
    poolsText: rendered.identities,
    configHash: rendered.hash,
    specHash,
    lastChange: record.lastChangeText,
  });
  const status = proxyStatus({ parent, observed, topology, pools, rendered, record, specHash, desired, context });

  const response: SyncResponse = { status, children: desired };
  // Metacontroller applies no child of a proxy being deleted: nothing to wait for.
  if (parent.metadata.deletionTimestamp === undefined) {
    const resync = resyncAfter(desired, observed.children, status, record.configBehind?.since, context.now);
    if (resync !== undefined) response.resyncAfterSeconds = resync;
  }
  // A finalize hook pointed at /sync: the children go with the proxy through their owner references, and
  // serve until then, so there is nothing to hold the deletion for.
  if (request.finalizing === true) response.finalized = true;
  return response;
}

/** What Metacontroller observed that the sync reads: the proxy's own children, and the objects customize asked for. */
interface Observed {
  /** The request's `children`, by type key. */
  children: Readonly<Record<string, unknown>>;
  configMap: ConfigMap | undefined;
  /** The config the ConfigMap holds, read (undefined: none, or not one the hook reads). */
  current: CurrentConfig | undefined;
  deployment: Deployment | undefined;
  service: AnyObject | undefined;
  podDisruptionBudget: AnyObject | undefined;
  /** The Services customize asked for, with their endpoints, by name. */
  services: Map<string, ServiceObjects>;
  /** The StatefulSets of the proxy's namespace. */
  statefulSets: StatefulSet[];
}

function observedOf(request: SyncRequest, parent: MemcachedProxy): Observed {
  const namespace = parent.metadata.namespace;
  const children = request.children ?? {};
  const related = request.related ?? {};
  const ownName = mcrouterName(parent);
  const configMap = observedChild<ConfigMap>(children, TYPE_KEYS.configMap, ownName);
  return {
    children,
    configMap,
    current: parseCurrentConfig(configMap?.data?.[CONFIG_KEY]),
    deployment: observedChild<Deployment>(children, TYPE_KEYS.deployment, ownName),
    service: observedChild(children, TYPE_KEYS.service, proxyServiceName(parent)),
    podDisruptionBudget: observedChild(children, TYPE_KEYS.podDisruptionBudget, ownName),
    services: indexRelated(
      {
        services: valuesOf(related[TYPE_KEYS.service] as ObjectMap<Service>),
        endpoints: valuesOf(related[TYPE_KEYS.endpoints] as ObjectMap<Endpoints>),
        endpointSlices: valuesOf(related[TYPE_KEYS.endpointSlice] as ObjectMap<EndpointSlice>),
      },
      namespace,
    ),
    // The namespace's own: customize asks for those, and the pods a Service lists are of its namespace.
    statefulSets: valuesOf(related[TYPE_KEYS.statefulSet] as ObjectMap<StatefulSet>).filter((sts) => (sts.metadata.namespace ?? namespace) === namespace),
  };
}

/**
 * Each pool of the topology: its members (its Service's endpoints) and the slots they take in the config, where
 * the config the ConfigMap holds keeps them.
 */
function poolOutcomes(topology: Topology, observed: Observed, namespace: string, clusterDomain: string): PoolOutcome[] {
  const modes = slotModes(topology.root);
  const wanted = wantedOrdinals(observed.statefulSets);
  const memberships = topology.pools.map((ref) => membershipOf(ref, observed.services.get(ref.service), namespace, clusterDomain));
  const { current } = observed;
  const mountedPools = current ? parsePoolIdentities(observed.configMap?.data?.[POOLS_KEY]) : undefined;
  const currentLists = current ? currentListsByPool(current.pools, topology.pools, mountedPools, memberships) : undefined;
  return topology.pools.map((ref, i) => {
    const membership = memberships[i]!;
    const mode = modes.get(ref.name) ?? 'ordered';
    const currentList = currentLists?.get(ref.name);
    const slots =
      membership.state === 'Found'
        ? assignSlots({ members: membership.members, indexOf: membership.indexOf, mode, current: currentList, dnsAddress: membership.dnsAddress, wanted })
        : slotsWithoutMembers(currentList, mode);
    return { ref, membership, slots };
  });
}

/** The config this sync writes (buildConfig's, with the pools it fails), rendered, and its hash; the pools' identities, rendered beside it. */
interface RenderedConfig extends BuiltConfig {
  text: string;
  hash: string;
  identities: string;
}

function renderedConfig(parent: MemcachedProxy, topology: Topology, pools: PoolOutcome[]): RenderedConfig {
  const lists = new Map<string, ServerList>(pools.map((pool) => [pool.ref.name, pool.slots]));
  try {
    const { config, failing } = buildConfig(topology.root, lists);
    const identities = renderPoolIdentities(topology.pools, config.pools);
    const text = renderConfig(config, identities.length);
    return { config, failing, text, hash: configHash(text), identities };
  } catch (error) {
    if (!(error instanceof ConfigTooLargeError)) throw error;
    // What the spec asks for over the pools there are: refused whole, as a spec the CRD refuses is.
    throw new SpecError(parent.spec.rules ? 'spec.rules' : 'spec.serviceName', error.message);
  }
}

/** What desiredState has made by the time it writes the status: each step's result, under the name it has there. */
interface SyncSteps {
  parent: MemcachedProxy;
  observed: Observed;
  topology: Topology;
  pools: PoolOutcome[];
  rendered: RenderedConfig;
  record: ConfigRecord;
  specHash: string;
  desired: readonly Child[];
  context: SyncContext;
}

/** The status: the pools, the config and the proxy's own children as they stand, and what the proxy waits on. */
function proxyStatus({ parent, observed, topology, pools, rendered, record, specHash, desired, context }: SyncSteps): MemcachedProxyStatus {
  const mcrouterImage = mcrouterImageOf(parent.spec.mcrouter, context.images);
  const scaledToZero = scaledToZeroLookup(observed.statefulSets);
  return statusOf({
    parent,
    pools,
    failing: rendered.failing,
    configHash: rendered.hash,
    configSince: record.configSince,
    observed: {
      configMapExists: observed.configMap !== undefined,
      configApplied: record.applied,
      configBehind: record.configBehind,
      configBehindShown: record.configBehindShown,
      serviceExists: observed.service !== undefined,
      podDisruptionBudgetExists: observed.podDisruptionBudget !== undefined,
      deployment: observed.deployment,
    },
    deploymentSpecHash: specHash,
    mcrouterImage,
    tooOldFor: unsupportedHashOf(mcrouterImage, topology.root),
    templateFault: () => podTemplateFault(parent, desired.find((child): child is DeploymentObject => child.kind === OBJECT_TYPES.deployment.kind)!),
    scaledToZero: (service) => scaledToZero(observed.services.get(service)?.service),
    desiredReplicas: mcrouterReplicasOf(parent.spec.mcrouter),
    lastChange: record.lastChange,
    now: context.now,
  });
}

/**
 * The seconds after which Metacontroller should sync again though nothing in the cluster changes, if any: while a
 * child it should have created is missing (missingChildResync), and when a wait ends, so that what it ends in
 * shows then: a ConfigMap behind within the grace (a refusal, whatever Metacontroller's backoff between its
 * retries has grown to), a wait on a Service or its pods or with no mcrouter replica available (Stalled at its deadline).
 */
function resyncAfter(
  desired: readonly Child[],
  observed: Readonly<Record<string, unknown>>,
  status: MemcachedProxyStatus,
  configBehindSince: string | undefined,
  now: string,
): number | undefined {
  let seconds: number | undefined;
  if (desired.some((child) => !observedChild(observed, typeKey({ kind: child.kind!, apiVersion: child.apiVersion! }), child.metadata?.name))) {
    seconds = missingChildResync(readyCondition(status)?.lastTransitionTime, now);
  }
  for (const left of [configGraceLeft(configBehindSince, now), reconcilingDeadlineIn(status, now)]) {
    if (left !== undefined && left > 0) seconds = Math.min(seconds ?? Number.POSITIVE_INFINITY, Math.ceil(left));
  }
  return seconds;
}

/** The child under the type key `key` (typeKey) named `name` that Metacontroller observed. v1 hooks key objects by name, v2 by namespace/name: read values, never keys. */
function observedChild<T extends AnyObject = AnyObject>(children: Readonly<Record<string, unknown>>, key: string, name: string | undefined): T | undefined {
  return valuesOf(children[key] as ObjectMap<T>).find((o) => o.metadata.name === name);
}

/** The ordinals each StatefulSet of the namespace wants, by name (its pods' hostname prefix). */
function wantedOrdinals(statefulSets: StatefulSet[]): (prefix: string) => WantedOrdinals | undefined {
  const byName = new Map<string, WantedOrdinals>();
  for (const sts of statefulSets) {
    // The API server defaults the first ordinal to 0.
    byName.set(sts.metadata.name, { start: sts.spec?.ordinals?.start ?? 0, replicas: replicasOf(sts) });
  }
  return (prefix) => byName.get(prefix);
}

/** How each pool's server order matters, from every route that uses it (see SlotMode). */
function slotModes(root: RouteNode): Map<string, SlotMode> {
  const modes = new Map<string, SlotMode>();
  const visit = (node: RouteNode): void => {
    if (node.kind === 'group') return node.children.forEach(visit);
    const use: SlotMode = node.type === 'sharded' ? HASH_TRAITS[node.hash].slotMode : node.readPolicy === 'Latest' ? 'replicated' : 'failover';
    const seen = modes.get(node.pool.name);
    modes.set(node.pool.name, seen === undefined ? use : combinedSlotMode(seen, use));
  };
  visit(root);
  return modes;
}

/**
 * Metacontroller, as far as a CompositeController hook can tell: it holds the
 * MemcachedProxy and its children as the API server does (uids,
 * resourceVersions, generations, defaulted fields, a Deployment status that
 * the Deployment controller fills in), asks /customize which related objects
 * to send, posts /sync over HTTP with v1 or v2 keying, and applies the answer:
 * creates and updates the children returned, deletes every owned child that
 * is not, and replaces the whole status.
 */
import type { InjectOptions } from 'fastify';
import { LAST_APPLIED, compositeController, uid, withServerDefaults, type Json } from '../fixtures/cluster.js';
import type { TestServer } from '../helpers/hook.js';
import { NAMESPACE, type Cluster } from './cluster.js';

export type Keying = 'v1' | 'v2';

export interface HookCall {
  path: '/sync' | '/customize';
  /** The exact bytes posted. */
  requestText: string;
  statusCode: number;
  text: string;
  /** The parsed answer, or undefined when it is not JSON. */
  body: unknown;
  /** The hook's clock when it answered. */
  at: Date;
}

/**
 * The type key of each kind the model knows: children (the CompositeController's childResources) and related, as
 * Metacontroller spells them (`Kind.version` for the core group, `Kind.group/version` otherwise): written out, not
 * read from the hook's own table, so that a key the hook misspells finds nothing.
 */
const TYPE_KEY_OF: Record<string, string> = {
  'v1/ConfigMap': 'ConfigMap.v1',
  'apps/v1/Deployment': 'Deployment.apps/v1',
  'v1/Service': 'Service.v1',
  'policy/v1/PodDisruptionBudget': 'PodDisruptionBudget.policy/v1',
  'v1/Endpoints': 'Endpoints.v1',
  'discovery.k8s.io/v1/EndpointSlice': 'EndpointSlice.discovery.k8s.io/v1',
  'apps/v1/StatefulSet': 'StatefulSet.apps/v1',
};
const CHILD_TYPES = ['v1/ConfigMap', 'apps/v1/Deployment', 'v1/Service', 'policy/v1/PodDisruptionBudget'].map((kind) => TYPE_KEY_OF[kind]!);
/** A related-resource rule's `apiVersion` + `resource`, as the kind Metacontroller would list. */
const RESOURCES: Record<string, { apiVersion: string; kind: string }> = {
  'v1/services': { apiVersion: 'v1', kind: 'Service' },
  'v1/endpoints': { apiVersion: 'v1', kind: 'Endpoints' },
  'discovery.k8s.io/v1/endpointslices': { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  'apps/v1/statefulsets': { apiVersion: 'apps/v1', kind: 'StatefulSet' },
};

const CREATED = '2026-11-25T09:00:00Z';

interface RelatedRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
  labelSelector?: { matchLabels?: Record<string, string> };
}

export interface MetacontrollerOptions {
  app: TestServer;
  cluster: Cluster;
  keying: Keying;
  name: string;
  spec: Json;
  /** Advanced by one second for every hook call, so a timestamp that leaks into an answer shows. */
  clock: { now: Date };
}

export class Metacontroller {
  parent: Json;
  /** Owned children by `Kind/name`, as the API server holds them. */
  readonly children = new Map<string, Json>();
  private related: RelatedRule[] | undefined;
  /** What the informers hold: the cluster's objects as of the last observe(). */
  private observed: Json[] = [];
  private customizedGeneration = -1;
  private readonly app: TestServer;
  private readonly cluster: Cluster;
  readonly keying: Keying;
  private readonly clock: { now: Date };

  constructor(options: MetacontrollerOptions) {
    this.app = options.app;
    this.cluster = options.cluster;
    this.keying = options.keying;
    this.clock = options.clock;
    const { name } = options;
    this.parent = {
      apiVersion: 'ianlewis.org/v1alpha1',
      kind: 'MemcachedProxy',
      metadata: {
        name,
        namespace: NAMESPACE,
        uid: uid('mp', NAMESPACE, name),
        resourceVersion: this.cluster.nextResourceVersion(),
        generation: 1,
        creationTimestamp: CREATED,
      },
      spec: structuredClone(options.spec),
    };
    this.stampKubectl();
  }

  get generation(): number {
    return (this.parent['metadata'] as Json)['generation'] as number;
  }

  get spec(): Json {
    return this.parent['spec'] as Json;
  }

  /** `kubectl apply` of a new spec: a new generation. */
  editSpec(spec: Json): void {
    if (JSON.stringify(spec) === JSON.stringify(this.parent['spec'])) return;
    this.parent['spec'] = structuredClone(spec);
    const meta = this.parent['metadata'] as Json;
    meta['generation'] = this.generation + 1;
    meta['resourceVersion'] = this.cluster.nextResourceVersion();
    this.stampKubectl();
  }

  /** What kubectl leaves on an object it applied: the annotation and a managedFields entry. */
  private stampKubectl(): void {
    const meta = this.parent['metadata'] as Json;
    meta['annotations'] = {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
        apiVersion: this.parent['apiVersion'],
        kind: this.parent['kind'],
        metadata: { name: meta['name'], namespace: meta['namespace'] },
        spec: this.parent['spec'],
      }),
    };
    meta['managedFields'] = [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'ianlewis.org/v1alpha1',
        time: CREATED,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } }, 'f:spec': fieldsOf(this.parent['spec']) },
      },
    ];
  }

  /** The Deployment controller catches up with the Deployment's latest generation: every replica updated and available. */
  /** Time passes with nothing else changing: what the next sync reads as waited (a deadline, a resync's wait). */
  wait(seconds: number): void {
    this.clock.now = new Date(this.clock.now.getTime() + seconds * 1000);
  }

  /**
   * Every mcrouter pod fails after the rollout (a crash loop): the Deployment controller keeps NewReplicaSetAvailable
   * and times nothing out, so the proxy waits on its own deadline (NoAvailableReplicas). rollOut() brings them back.
   */
  mcrouterDown(): void {
    this.rollOut();
    const deployment = [...this.children.values()].find((c) => c['kind'] === 'Deployment');
    if (!deployment) return;
    const status = deployment['status'] as Json;
    status['readyReplicas'] = 0;
    status['availableReplicas'] = 0;
    status['unavailableReplicas'] = status['replicas'];
    const conditions = status['conditions'] as Json[];
    conditions[conditions.findIndex((c) => c['type'] === 'Available')] = { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: CREATED, lastTransitionTime: CREATED };
  }

  rollOut(): void {
    const deployment = [...this.children.values()].find((c) => c['kind'] === 'Deployment');
    if (!deployment) return;
    const replicas = ((deployment['spec'] as Json)['replicas'] as number | undefined) ?? 1;
    const generation = (deployment['metadata'] as Json)['generation'] as number;
    deployment['status'] = {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: CREATED, lastTransitionTime: CREATED },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet has successfully progressed.', lastUpdateTime: CREATED, lastTransitionTime: CREATED },
      ],
    };
    (deployment['metadata'] as Json)['resourceVersion'] = this.cluster.nextResourceVersion();
  }

  private async post(path: HookCall['path'], request: Json): Promise<HookCall> {
    const at = (this.clock.now = new Date(this.clock.now.getTime() + 1000));
    const requestText = JSON.stringify(request);
    const options: InjectOptions = { method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload: requestText };
    const res = await this.app.inject(options);
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      body = undefined;
    }
    return { path, requestText, statusCode: res.statusCode, text: res.body, body, at };
  }

  /** The informers catch up with the cluster. */
  observe(): void {
    this.observed = this.cluster.objects();
  }

  /** Metacontroller calls customize for each new parent generation and watches what it names. */
  async customize(): Promise<HookCall | undefined> {
    if (this.customizedGeneration === this.generation) return undefined;
    const call = await this.post('/customize', { controller: compositeController(this.keying), parent: this.parent });
    if (call.statusCode === 200) {
      this.related = (call.body as { relatedResources: RelatedRule[] }).relatedResources;
      this.customizedGeneration = this.generation;
    }
    return call;
  }

  /** The sync request Metacontroller would send now (serialize it before changing the model). */
  syncRequest(): Json {
    const children: Record<string, Record<string, Json>> = Object.fromEntries(CHILD_TYPES.map((k) => [k, {}]));
    for (const child of this.children.values()) children[typeKeyOf(child)]![this.keyOf(child)] = child;
    const related: Record<string, Record<string, Json>> = {};
    const objects = this.observed;
    for (const rule of this.related ?? []) {
      const type = RESOURCES[`${rule.apiVersion}/${rule.resource}`];
      if (!type) throw new Error(`customize asked for a resource the model does not know: ${JSON.stringify(rule)}`);
      // Metacontroller v4 before namespaceSelector (pkg/controller/common/customize: determineSelectionType)
      // fails every sync of a parent whose rule has both; a v1 hook's label selection stays in the parent's namespace.
      if (rule.labelSelector && (rule.namespace !== undefined || rule.names !== undefined)) {
        throw new Error(`related rule cannot have both labelSelector and namespace/names: ${JSON.stringify(rule)}`);
      }
      const group = (related[TYPE_KEY_OF[`${type.apiVersion}/${type.kind}`]!] ??= {});
      for (const o of objects) {
        const meta = o['metadata'] as { name: string; namespace?: string; labels?: Record<string, string> };
        if (o['apiVersion'] !== type.apiVersion || o['kind'] !== type.kind) continue;
        if ((rule.namespace ?? NAMESPACE) !== meta.namespace) continue;
        if (rule.names && !rule.names.includes(meta.name)) continue;
        const want = rule.labelSelector?.matchLabels ?? {};
        if (!Object.entries(want).every(([k, v]) => meta.labels?.[k] === v)) continue;
        group[this.keyOf(o)] = o;
      }
    }
    // The controller says which keying its hooks get, as Metacontroller's does.
    return { controller: compositeController(this.keying), parent: this.parent, children, related, finalizing: false };
  }

  async sync(): Promise<HookCall> {
    return this.post('/sync', this.syncRequest());
  }

  private keyOf(o: Json): string {
    const meta = o['metadata'] as { name: string; namespace?: string };
    return this.keying === 'v2' ? `${meta.namespace ?? NAMESPACE}/${meta.name}` : meta.name;
  }

  /**
   * Applies a 200 answer: children returned are created or updated (only when
   * they differ from what was last applied), owned children not returned are
   * deleted, and the status is replaced whole.
   */
  apply(answer: { status: Json; children: Json[] }): void {
    const returned = new Set<string>();
    for (const desired of answer.children) {
      const key = `${desired['kind']}/${(desired['metadata'] as Json)['name']}`;
      returned.add(key);
      const applied = JSON.stringify(desired);
      const existing = this.children.get(key);
      const existingMeta = existing?.['metadata'] as Json | undefined;
      if (existingMeta && (existingMeta['annotations'] as Record<string, string> | undefined)?.[LAST_APPLIED] === applied) continue;
      this.children.set(key, this.stored(desired, applied, existing));
    }
    for (const key of [...this.children.keys()]) if (!returned.has(key)) this.children.delete(key);
    // A custom resource is unstructured to the API server: it serves its maps with their keys sorted (Go's
    // encoding/json), whatever order the hook wrote them in.
    this.parent['status'] = sortedKeys(answer.status);
    (this.parent['metadata'] as Json)['resourceVersion'] = this.cluster.nextResourceVersion();
  }

  /** The object as the API server stores it after a create or an update. */
  private stored(desired: Json, applied: string, existing: Json | undefined): Json {
    const obj = withServerDefaults(structuredClone(desired));
    const pm = this.parent['metadata'] as { name: string; uid: string };
    const meta = obj['metadata'] as Json;
    const old = existing?.['metadata'] as Json | undefined;
    meta['namespace'] = NAMESPACE;
    meta['uid'] = old?.['uid'] ?? uid('child', NAMESPACE, String(obj['kind']), String(meta['name']));
    meta['resourceVersion'] = this.cluster.nextResourceVersion();
    meta['creationTimestamp'] = old?.['creationTimestamp'] ?? CREATED;
    meta['annotations'] = { ...(meta['annotations'] as Json | undefined), [LAST_APPLIED]: applied };
    meta['ownerReferences'] = [
      { apiVersion: 'ianlewis.org/v1alpha1', kind: 'MemcachedProxy', name: pm.name, uid: pm.uid, controller: true, blockOwnerDeletion: true },
    ];
    if (obj['kind'] === 'Deployment' || obj['kind'] === 'PodDisruptionBudget') {
      const specChanged = !existing || JSON.stringify(existing['spec']) !== JSON.stringify(obj['spec']);
      meta['generation'] = ((old?.['generation'] as number | undefined) ?? 0) + (specChanged ? 1 : 0);
      // The controllers' status stays until they act on the new generation. A new Deployment's is empty; a new
      // PodDisruptionBudget's has its counters, which Go serves without omitempty.
      const fresh = obj['kind'] === 'Deployment' ? {} : { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
      obj['status'] = existing?.['status'] ?? fresh;
    }
    return obj;
  }
}

function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)])) as T;
}

function typeKeyOf(o: Json): string {
  const key = TYPE_KEY_OF[`${o['apiVersion']}/${o['kind']}`];
  if (!key) throw new Error(`no type key for ${String(o['apiVersion'])} ${String(o['kind'])}`);
  return key;
}

/** managedFields' FieldsV1 of an object: `f:` keys for its fields, down to the leaves. */
function fieldsOf(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [`f:${k}`, fieldsOf(v)]));
}

/**
 * The customize hook: which related objects Metacontroller must watch and
 * send with each sync. Every leaf's Service by name, its EndpointSlices by
 * the `kubernetes.io/service-name` label, and its Endpoints (read when a
 * cluster has no slices for it), all in the proxy's own namespace (the
 * CompositeController's hooks are v1, whose label selections Metacontroller
 * keeps to the parent's namespace). And the namespace's StatefulSets: a
 * StatefulSet is named by its pods' hostname prefix, which only the endpoints
 * tell, and its `spec.replicas` says whether a pod that is away is restarting
 * (it keeps its slot) or scaled away. None for a proxy whose spec it refuses
 * (customizeOfRefusedSpec).
 */
import { OBJECT_TYPES, type CustomizeRequest, type CustomizeResponse, type RelatedResourceRule } from '../api/hook.js';
import { SERVICE_NAME_LABEL } from '../api/kubernetes.js';
import { SpecError, checkSpec } from './spec-check.js';
import { topologyOf } from './topology.js';

const { service, endpoints, statefulSet, endpointSlice } = OBJECT_TYPES;

export function customize(request: CustomizeRequest): CustomizeResponse {
  const { parent } = request;
  try {
    checkSpec(parent);
  } catch (error) {
    if (error instanceof SpecError) return customizeOfRefusedSpec();
    throw error;
  }
  const namespace = parent.metadata.namespace;
  const services = [...new Set(topologyOf(parent.spec).pools.map((p) => p.service))];
  const relatedResources: RelatedResourceRule[] = [
    { apiVersion: service.apiVersion, resource: service.resource, namespace, names: services },
    { apiVersion: endpoints.apiVersion, resource: endpoints.resource, namespace, names: services },
    // No namespace beside a labelSelector: Metacontroller v4 releases before namespaceSelector refuse such a
    // rule ("cannot have both labelSelector and Namespace/Names"), and with it every sync of the proxy. For a
    // v1 hook they list label-selected objects in the parent's namespace anyway.
    { apiVersion: statefulSet.apiVersion, resource: statefulSet.resource, namespace },
    ...services.map((name) => ({
      apiVersion: endpointSlice.apiVersion,
      resource: endpointSlice.resource,
      labelSelector: { matchLabels: { [SERVICE_NAME_LABEL]: name } },
    })),
  ];
  return { relatedResources };
}

/**
 * The answer for a proxy whose spec is refused, by the rules here or by the CRD's schema (the server checks that
 * before customize() runs): no related object, where a refusal would be asked again and again. Metacontroller
 * keeps only successful answers, per proxy and generation, and on each change of a Service, Endpoints,
 * EndpointSlice or StatefulSet anywhere in the cluster it asks for the answer of every proxy it holds none for
 * (metacontroller/metacontroller#886, `findRelatedParents`), holding up that change's delivery meanwhile. The sync
 * refuses the spec (422, a SyncError event on the proxy), and a fixed spec is a new generation, asked about
 * afresh. A proxy being deleted gets through to its finalize hook this way too (sync.ts, syncOfRefusedSpec).
 */
export const customizeOfRefusedSpec = (): CustomizeResponse => ({ relatedResources: [] });

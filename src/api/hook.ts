/**
 * Metacontroller's CompositeController hook messages (v4). The outer keys of
 * `children` and `related` are `Kind.version` (core group) or
 * `Kind.group/version`; the inner keys are `name` (hook v1) or
 * `namespace/name` (hook v2), so objects are read by iterating values only.
 */
import { Type, type Static, type TProperties, type TSchema } from 'typebox';
import type { ConfigMap as ConfigMapObject, Service as ServiceObject } from 'kubernetes-types/core/v1.js';
import type { Deployment as DeploymentObject } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { MemcachedProxy } from './memcached-proxy.js';
import type { MemcachedProxyStatus } from './proxy-status.js';
import { AnyObject, ConfigMap, Deployment, EndpointSlice, Endpoints, Service, StatefulSet } from './kubernetes.js';
import { MapOf } from './map.js';

/**
 * Every type of object the hook reads or writes: the kind and apiVersion its objects carry, and the resource
 * a CompositeController or a customize answer names it by.
 */
export const OBJECT_TYPES = {
  configMap: { kind: 'ConfigMap', apiVersion: 'v1', resource: 'configmaps' },
  deployment: { kind: 'Deployment', apiVersion: 'apps/v1', resource: 'deployments' },
  service: { kind: 'Service', apiVersion: 'v1', resource: 'services' },
  podDisruptionBudget: { kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', resource: 'poddisruptionbudgets' },
  endpoints: { kind: 'Endpoints', apiVersion: 'v1', resource: 'endpoints' },
  endpointSlice: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' },
  statefulSet: { kind: 'StatefulSet', apiVersion: 'apps/v1', resource: 'statefulsets' },
} as const;
type ObjectTypes = typeof OBJECT_TYPES;

/** The key under which Metacontroller groups a type's objects: `Kind.apiVersion`, as the objects spell them. */
export const typeKey = <K extends string, V extends string>(type: { kind: K; apiVersion: V }) => `${type.kind}.${type.apiVersion}` as `${K}.${V}`;

export const TYPE_KEYS = Object.fromEntries(Object.entries(OBJECT_TYPES).map(([name, type]) => [name, typeKey(type)])) as {
  [N in keyof ObjectTypes]: `${ObjectTypes[N]['kind']}.${ObjectTypes[N]['apiVersion']}`;
};

const ObjectsByName = <T extends Parameters<typeof MapOf>[0]>(schema: T) => Type.Optional(Type.Union([MapOf(schema), Type.Null()]));

/** An object of the properties named and any others, or null, or absent: how Metacontroller's Go structs decode. */
const OpenObject = <P extends TProperties>(properties: P) => Type.Optional(Type.Union([Type.Object(properties, { additionalProperties: true }), Type.Null()]));

const Controller = OpenObject({});

/**
 * The proxy as a hook request carries it, its status not checked with the rest: the status is the hook's own
 * last answer, which customize does not read and sync reads on its own terms (http/stored-status.ts), so that
 * one the hook cannot read does not refuse the request.
 */
const hookParent = <S extends TSchema>(spec: S) => Type.Object({ ...MemcachedProxy.properties, spec, status: Type.Optional(Type.Unknown()) });

const syncRequestOf = <P extends TSchema>(parent: P) =>
  Type.Object(
    {
      controller: Controller,
      parent,
      children: OpenObject({
        [TYPE_KEYS.configMap]: ObjectsByName(ConfigMap),
        [TYPE_KEYS.deployment]: ObjectsByName(Deployment),
        [TYPE_KEYS.service]: ObjectsByName(AnyObject),
        [TYPE_KEYS.podDisruptionBudget]: ObjectsByName(AnyObject),
      }),
      related: OpenObject({
        [TYPE_KEYS.service]: ObjectsByName(Service),
        [TYPE_KEYS.endpoints]: ObjectsByName(Endpoints),
        [TYPE_KEYS.endpointSlice]: ObjectsByName(EndpointSlice),
        [TYPE_KEYS.statefulSet]: ObjectsByName(StatefulSet),
      }),
      finalizing: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: true },
  );

const customizeRequestOf = <P extends TSchema>(parent: P) => Type.Object({ controller: Controller, parent }, { additionalProperties: true });

export const SyncRequest = syncRequestOf(hookParent(MemcachedProxy.properties.spec));
export const CustomizeRequest = customizeRequestOf(hookParent(MemcachedProxy.properties.spec));

/**
 * Each hook's request with its parent's spec left unchecked (or out): a body that passes it and fails the
 * route's schema is refused for its spec alone, as the spec rules refuse one (http/spec-refusal.ts), which
 * customize answers with no related object and a finalize hook's sync with the proxy finalized.
 */
export const SPEC_UNCHECKED = {
  sync: syncRequestOf(hookParent(Type.Optional(Type.Unknown()))),
  customize: customizeRequestOf(hookParent(Type.Optional(Type.Unknown()))),
};

/** A request as the route's schema takes it: its parent's status unread. */
export type SyncRequestBody = Static<typeof SyncRequest>;
/** What sync() reads: a request whose stored status has been read (http/stored-status.ts). */
export type SyncRequest = Omit<SyncRequestBody, 'parent'> & { parent: MemcachedProxy };
export type CustomizeRequest = Static<typeof CustomizeRequest>;

/** The objects the hook returns; Metacontroller owns and applies them. */
export type Child = ConfigMapObject | DeploymentObject | ServiceObject | PodDisruptionBudget;

/** Strict v2 decoding: a response carries these fields and no others. */
export interface SyncResponse {
  status: MemcachedProxyStatus;
  children: Child[];
  resyncAfterSeconds?: number;
  /** Read only from a finalize hook's answer: the proxy's finalizer may go. */
  finalized?: boolean;
}

export interface RelatedResourceRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
  labelSelector?: { matchLabels: Record<string, string> };
}

export interface CustomizeResponse {
  relatedResources: RelatedResourceRule[];
}

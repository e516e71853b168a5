/**
 * Metacontroller's CompositeController hook messages (v4). The outer keys of
 * `children` and `related` are `Kind.version` (core group) or
 * `Kind.group/version`; the inner keys are `name` (hook v1) or
 * `namespace/name` (hook v2), so objects are read by iterating values only.
 */
import { Type, type Static } from 'typebox';
import type { ConfigMap as ConfigMapObject, Service as ServiceObject } from 'kubernetes-types/core/v1.js';
import type { Deployment as DeploymentObject } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { MemcachedProxy, MemcachedProxyStatus } from './memcached-proxy.js';
import { AnyObject, ConfigMap, Deployment, EndpointSlice, Endpoints, Service, StatefulSet } from './kubernetes.js';
import { MapOf } from './map.js';

/** The keys under which Metacontroller groups objects by type. */
export const TYPE_KEYS = {
  configMap: 'ConfigMap.v1',
  deployment: 'Deployment.apps/v1',
  service: 'Service.v1',
  podDisruptionBudget: 'PodDisruptionBudget.policy/v1',
  endpoints: 'Endpoints.v1',
  endpointSlice: 'EndpointSlice.discovery.k8s.io/v1',
  statefulSet: 'StatefulSet.apps/v1',
} as const;

const ObjectsByName = <T extends Parameters<typeof MapOf>[0]>(schema: T) => Type.Optional(Type.Union([MapOf(schema), Type.Null()]));

const Controller = Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]));

export const SyncRequest = Type.Object(
  {
    controller: Controller,
    parent: MemcachedProxy,
    children: Type.Optional(
      Type.Union([
        Type.Object(
          {
            [TYPE_KEYS.configMap]: ObjectsByName(ConfigMap),
            [TYPE_KEYS.deployment]: ObjectsByName(Deployment),
            [TYPE_KEYS.service]: ObjectsByName(AnyObject),
            [TYPE_KEYS.podDisruptionBudget]: ObjectsByName(AnyObject),
          },
          { additionalProperties: true },
        ),
        Type.Null(),
      ]),
    ),
    related: Type.Optional(
      Type.Union([
        Type.Object(
          {
            [TYPE_KEYS.service]: ObjectsByName(Service),
            [TYPE_KEYS.endpoints]: ObjectsByName(Endpoints),
            [TYPE_KEYS.endpointSlice]: ObjectsByName(EndpointSlice),
            [TYPE_KEYS.statefulSet]: ObjectsByName(StatefulSet),
          },
          { additionalProperties: true },
        ),
        Type.Null(),
      ]),
    ),
    finalizing: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const CustomizeRequest = Type.Object(
  { controller: Controller, parent: MemcachedProxy },
  { additionalProperties: true },
);

export type SyncRequest = Static<typeof SyncRequest>;
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

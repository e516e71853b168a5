/**
 * The status the hook writes on a MemcachedProxy: its schema, its conditions and their reasons, and the
 * deadlines the waits it reports run to.
 */
import { Type, type Static } from 'typebox';
import { enumOf } from './enum.js';
import { RFC3339_TIME } from './formats.js';

/** The condition that says whether the proxy serves its whole spec (the one kstatus and `kubectl wait` read). */
export const READY_CONDITION = 'Ready';

/**
 * How long a proxy may wait on one of RECONCILING_DEADLINE_REASONS (core/status.ts), at one generation, before
 * kstatus calls it Stalled: a Deployment's default progressDeadlineSeconds. Each can end by itself (a Service applied a moment
 * after the proxy, pods pulling an image), so none is Stalled at once, which would fail a GitOps apply; one that
 * has not ended in 10 minutes waits for a person (a Service never created, pods that crash), and a tool without
 * a timeout of its own (Argo CD) would show it Progressing for ever.
 */
export const RECONCILING_DEADLINE_SECONDS = 600;

/**
 * How long the ConfigMap may lag behind the config the status reports before the update counts as refused.
 * Metacontroller writes the status after the children, but reads the next sync's parent and ConfigMap from two
 * caches, and the parent's may be ahead by a moment; a refused update it retries with a growing backoff.
 */
export const CONFIG_APPLY_GRACE_SECONDS = 30;

/** A time of the status: what the API server stores and the hook reads back alike (RFC3339_TIME). */
const Time = (options: { description: string }) => Type.String({ format: 'date-time', pattern: RFC3339_TIME, ...options });

/** metav1.Condition's limit: the API server refuses a status whose condition message is longer. */
export const CONDITION_MESSAGE_MAX_LENGTH = 32768;

export const Condition = Type.Object({
  type: Type.String({ maxLength: 316, description: 'Ready, or kstatus\' Reconciling and Stalled (present only while True).' }),
  status: enumOf(['True', 'False', 'Unknown'] as const, 'Condition status.'),
  reason: Type.Optional(Type.String({ maxLength: 1024, description: 'Why, in one word: Available, or the first problem found (docs/operating.md, Status you can trust).' })),
  message: Type.Optional(Type.String({ maxLength: CONDITION_MESSAGE_MAX_LENGTH, description: 'What is the matter, and what to do.' })),
  lastTransitionTime: Type.Optional(Time({ description: `When the status last changed (carried over while it holds); for Reconciling and Stalled, when their reason and generation began (the ${RECONCILING_DEADLINE_SECONDS / 60}-minute deadline counts from it).` })),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: 'The proxy generation this condition describes.' })),
});

/** Why a pool cannot serve: its status's `reason`, and the `Ready` reason it gives the proxy. */
export const POOL_REASONS = ['ServiceNotFound', 'PortNotFound', 'NoServers', 'NoReadyServers'] as const;

/** Every reason the `Ready` condition gives: `Available` when it is True, else the first problem found (core/status.ts). */
export const READY_REASONS = [
  'Deleting',
  ...POOL_REASONS,
  'ScaledToZero',
  'Progressing',
  'NoAvailableReplicas',
  'ProgressDeadlineExceeded',
  'ConfigNotApplied',
  'McrouterTooOld',
  'InvalidSpec',
  'Available',
] as const;
export type ReadyReason = (typeof READY_REASONS)[number];

export const PoolStatus = Type.Object({
  name: Type.String({ description: "The pool's name in config.json." }),
  service: Type.String({ description: 'The Service whose endpoints are its servers.' }),
  port: Type.Optional(Type.Union([Type.Integer(), Type.String()], { 'x-kubernetes-int-or-string': true, description: 'The Service port, as the spec names it.' })),
  servers: Type.Integer({ minimum: 0, description: 'Entries mcrouter routes to in the config asked for (a kept StatefulSet slot counts, a hole does not).' }),
  readyServers: Type.Integer({ minimum: 0, description: 'Those backed by a ready endpoint.' }),
  holes: Type.Integer({ minimum: 0, description: 'Slots of departed servers kept at weight 0, so that the others keep their keys.' }),
  reason: Type.Optional(Type.String({ description: `Why the pool cannot serve: ${POOL_REASONS.slice(0, -1).join(', ')} or ${POOL_REASONS.at(-1)}.` })),
});

export const LastChange = Type.Object({
  time: Time({ description: 'The sync that made the change.' }),
  pools: Type.Array(Type.String(), { description: 'The pools whose server list changed.' }),
  added: Type.Array(Type.String(), { description: 'Addresses the config gained.' }),
  removed: Type.Array(Type.String(), { description: 'Addresses the config lost.' }),
  keyspaceMoved: Type.Number({ minimum: 0, maximum: 1, description: 'The share of sample keys whose first get goes to a server the old config did not write them to: misses the change causes.' }),
}, { description: 'The last change of a server list or of the route.' });

export const ConfigBehind = Type.Object(
  {
    since: Time({
      description: `When a sync first found the ConfigMap holding this config instead of the one asked for (with one config asked for, configSince). ConfigNotApplied ${CONFIG_APPLY_GRACE_SECONDS} s after it.`,
    }),
    configHash: Type.Optional(Type.String({ description: 'The config the ConfigMap holds, which mcrouter serves (a hash as configHash is); absent when it holds no config.json.' })),
  },
  {
    description:
      "The ConfigMap lacks the config asked for: neither it nor Metacontroller's record of what it last applied there holds it (an update the API server refuses, or one Metacontroller's cache has yet to show). Shown once another config has been asked for meanwhile, or once Ready says ConfigNotApplied.",
  },
);

export const MemcachedProxyStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, description: 'The proxy generation this status describes.' })),
  pools: Type.Optional(Type.Array(PoolStatus, { description: 'Each pool: its Service, port and servers.' })),
  target: Type.Optional(Type.String({ description: 'The pools routed to, for kubectl get.' })),
  servers: Type.Optional(Type.Integer({ minimum: 0, description: 'Entries mcrouter routes to in the config asked for, in all pools (while configBehind is set, mcrouter serves the config it names).' })),
  readyServers: Type.Optional(Type.Integer({ minimum: 0, description: 'Those backed by a ready endpoint.' })),
  configHash: Type.Optional(Type.String({ description: 'The first 16 hex digits of the SHA-256 of config.json.' })),
  configSince: Type.Optional(Time({ description: 'When the status first reported configHash: the sync that asked for this config.' })),
  configBehind: Type.Optional(ConfigBehind),
  replicas: Type.Optional(Type.Integer({ minimum: 0, description: 'Pods of the mcrouter Deployment.' })),
  readyReplicas: Type.Optional(Type.Integer({ minimum: 0, description: 'Those ready.' })),
  lastChange: Type.Optional(LastChange),
  // One condition per type, as Kubernetes' API conventions keep metav1.Condition lists (server-side apply merges them by type).
  conditions: Type.Optional(
    Type.Array(Condition, { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], description: 'Ready, and kstatus\' Reconciling and Stalled.' }),
  ),
}, { description: 'What the hook found at its last sync: servers, pools, config and readiness. Written through Metacontroller.' });

export type MemcachedProxyStatus = Static<typeof MemcachedProxyStatus>;
export type Condition = Static<typeof Condition>;
export type PoolStatus = Static<typeof PoolStatus>;
export type LastChange = Static<typeof LastChange>;
export type ConfigBehind = Static<typeof ConfigBehind>;

/** A status's condition of `type`, when it has one. */
export const conditionOf = (status: MemcachedProxyStatus | null | undefined, type: string): Condition | undefined =>
  status?.conditions?.find((c) => c.type === type);

/** A status's Ready condition, when it has one. */
export const readyCondition = (status: MemcachedProxyStatus | null | undefined): Condition | undefined => conditionOf(status, READY_CONDITION);

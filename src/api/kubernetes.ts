/**
 * The parts of Kubernetes objects the hook reads, as the API server serves
 * them. Only the fields read are typed; everything else passes untouched.
 * The objects the hook emits are typed with `kubernetes-types` instead.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { DNS1123_LABEL, DNS_LABEL_MAX_LENGTH, DNS_NAME_MAX_LENGTH, ENDPOINT_ADDRESS, PORT_MAX } from './formats.js';
import { MapOf } from './map.js';
import { Nullable } from './nullable.js';
import { ANNOTATION_PREFIX } from './memcached-proxy.js';

const open = { additionalProperties: true } as const;

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/**
 * The label naming what wrote an EndpointSlice; its value for the slices Kubernetes cuts from a Service's selector,
 * and for those it mirrors from the Endpoints object of a Service without one.
 */
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const SLICE_MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';

// Labels and annotations are not typed but where the hook reads one (a slice's Service name and managing
// controller, the Deployment's spec hash, the ConfigMap's last change, Metacontroller's last-applied copy:
// metaReading), and checking every key of every object's maps took 40% of the time to validate a 10-member
// sync request.
const metaFields = {
  name: Type.String({ maxLength: DNS_NAME_MAX_LENGTH }),
  namespace: Type.Optional(Type.String({ maxLength: DNS_LABEL_MAX_LENGTH })),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
};
const ObjectMeta = Type.Object(metaFields, open);

/** The metadata of one of the hook's own children: the annotations it reads back, typed. */
const metaReading = (...annotations: string[]) =>
  Type.Object(
    {
      ...metaFields,
      annotations: Type.Optional(Nullable(Type.Object(Object.fromEntries(annotations.map((a) => [a, Type.Optional(Type.String())])), open))),
    },
    open,
  );

const kubeObject = <M extends TSchema, P extends Parameters<typeof Type.Object>[0]>(metadata: M, properties: P) =>
  Type.Object({ apiVersion: Type.Optional(Type.String()), kind: Type.Optional(Type.String()), metadata, ...properties }, open);

export const ServicePort = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: DNS_LABEL_MAX_LENGTH })),
    port: Type.Integer({ minimum: 1, maximum: PORT_MAX }),
    targetPort: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
    protocol: Type.Optional(Type.String()),
  },
  open,
);

export const Service = kubeObject(ObjectMeta, {
  spec: Type.Optional(
    Type.Object(
      {
        ports: Type.Optional(Nullable(Type.Array(ServicePort))),
        type: Type.Optional(Type.String()),
        externalName: Type.Optional(Type.String()),
        clusterIP: Type.Optional(Type.String()),
        // Only whether there is one: its values are not read.
        selector: Type.Optional(Nullable(Type.Object({}, open))),
        ipFamilies: Type.Optional(Nullable(Type.Array(Type.String()))),
      },
      open,
    ),
  ),
});

const ObjectReference = Type.Object(
  { kind: Type.Optional(Type.String()), name: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()), uid: Type.Optional(Type.String()) },
  open,
);

const EndpointAddress = Type.Object(
  {
    ip: Type.String({ maxLength: 64, pattern: ENDPOINT_ADDRESS }),
    hostname: Type.Optional(Type.String({ maxLength: DNS_LABEL_MAX_LENGTH, pattern: DNS1123_LABEL })),
    nodeName: Type.Optional(Type.String()),
    targetRef: Type.Optional(Nullable(ObjectReference)),
  },
  open,
);

const EndpointPort = Type.Object(
  { name: Type.Optional(Type.String()), port: Type.Integer({ minimum: 1, maximum: PORT_MAX }), protocol: Type.Optional(Type.String()) },
  open,
);

export const Endpoints = kubeObject(ObjectMeta, {
  subsets: Type.Optional(
    Nullable(
      Type.Array(
        Type.Object(
          {
            addresses: Type.Optional(Nullable(Type.Array(EndpointAddress))),
            notReadyAddresses: Type.Optional(Nullable(Type.Array(EndpointAddress))),
            ports: Type.Optional(Nullable(Type.Array(EndpointPort))),
          },
          open,
        ),
      ),
    ),
  ),
});

const Endpoint = Type.Object(
  {
    // The API server's own limits (discovery validation): an FQDN slice's addresses are fully qualified domain
    // names, a DNS subdomain (253) with an optional trailing dot (IsFullyQualifiedDomainName drops it before checking).
    addresses: Type.Array(Type.String({ maxLength: DNS_NAME_MAX_LENGTH + 1, pattern: ENDPOINT_ADDRESS }), { maxItems: 100 }),
    conditions: Type.Optional(
      Type.Object(
        {
          ready: Type.Optional(Nullable(Type.Boolean())),
          serving: Type.Optional(Nullable(Type.Boolean())),
          terminating: Type.Optional(Nullable(Type.Boolean())),
        },
        open,
      ),
    ),
    hostname: Type.Optional(Nullable(Type.String({ maxLength: DNS_LABEL_MAX_LENGTH, pattern: DNS1123_LABEL }))),
    nodeName: Type.Optional(Nullable(Type.String())),
    targetRef: Type.Optional(Nullable(ObjectReference)),
  },
  open,
);

const EndpointSliceMeta = Type.Object(
  {
    ...metaFields,
    labels: Type.Optional(
      Nullable(Type.Object({ [SERVICE_NAME_LABEL]: Type.Optional(Type.String()), [SLICE_MANAGED_BY_LABEL]: Type.Optional(Type.String()) }, open)),
    ),
  },
  open,
);

export const EndpointSlice = kubeObject(EndpointSliceMeta, {
  addressType: Type.String(),
  endpoints: Type.Optional(Nullable(Type.Array(Endpoint, { maxItems: 1000 }))),
  ports: Type.Optional(
    Nullable(
      Type.Array(
        Type.Object(
          // Any int32: discovery/v1's validation never checks a port's number (ValidateEndpointSlice checks its name,
          // protocol and appProtocol), so a slice written by hand or by another controller may hold 0 or 70000, and
          // refusing it would refuse every sync of the proxies it reaches. Membership takes such a port as no server's.
          { name: Type.Optional(Nullable(Type.String())), port: Type.Optional(Nullable(Type.Integer())) },
          open,
        ),
      ),
    ),
  ),
});

/** The hook's own annotation on the mcrouter ConfigMap: the status.lastChange its config came with (core lastChangeFromAnnotation). */
export const LAST_CHANGE_ANNOTATION = `${ANNOTATION_PREFIX}last-change`;

/**
 * Metacontroller's copy of each child as it last applied it (JSON), which its three-way merge reads: what the hook
 * asked for last and the API server took, whatever has been done to the object since.
 */
export const METACONTROLLER_LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration';

export const ConfigMap = kubeObject(metaReading(LAST_CHANGE_ANNOTATION, METACONTROLLER_LAST_APPLIED_ANNOTATION), {
  data: Type.Optional(Nullable(MapOf(Type.String()))),
});

/** The hook's own annotation on the mcrouter Deployment: the one annotation it reads back. */
export const SPEC_HASH_ANNOTATION = `${ANNOTATION_PREFIX}spec-hash`;


/** A count or a generation: an int64 of the API server, within what a JSON number holds exactly. */
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const Deployment = kubeObject(metaReading(SPEC_HASH_ANNOTATION), {
  spec: Type.Optional(Type.Object({ replicas: Type.Optional(Type.Integer({ minimum: 0 })) }, open)),
  status: Type.Optional(
    Type.Object(
      {
        // Counts, as the API server keeps them: they reach the proxy's status, whose schema takes no other.
        observedGeneration: Type.Optional(Count),
        replicas: Type.Optional(Count),
        updatedReplicas: Type.Optional(Count),
        readyReplicas: Type.Optional(Count),
        availableReplicas: Type.Optional(Count),
        unavailableReplicas: Type.Optional(Count),
        conditions: Type.Optional(
          Nullable(
            Type.Array(
              Type.Object(
                { type: Type.String(), status: Type.String(), reason: Type.Optional(Type.String()), message: Type.Optional(Type.String()) },
                open,
              ),
            ),
          ),
        ),
      },
      open,
    ),
  ),
});

/**
 * A StatefulSet: how many pods it wants, from which ordinal. Its name is its pods' hostname prefix, so a
 * pool of its pods keeps the slot of a pod that is away (restarting) while the StatefulSet still wants it.
 */
export const StatefulSet = kubeObject(ObjectMeta, {
  spec: Type.Optional(
    Type.Object(
      {
        // Any StatefulSet of the namespace comes: one the hook cannot read is taken as the API server defaults it.
        replicas: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
        ordinals: Type.Optional(Nullable(Type.Object({ start: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))) }, open))),
      },
      open,
    ),
  ),
});

/** Any other object: only its identity is read. */
export const AnyObject = kubeObject(ObjectMeta, {});

export type Service = Static<typeof Service>;
export type ServicePort = Static<typeof ServicePort>;
export type Endpoints = Static<typeof Endpoints>;
export type EndpointSlice = Static<typeof EndpointSlice>;
export type ConfigMap = Static<typeof ConfigMap>;
export type Deployment = Static<typeof Deployment>;
export type StatefulSet = Static<typeof StatefulSet>;
export type AnyObject = Static<typeof AnyObject>;

/** The pods a StatefulSet wants: the API server defaults `replicas` to 1. */
export const replicasOf = (statefulSet: StatefulSet): number => statefulSet.spec?.replicas ?? 1;

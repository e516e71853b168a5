/**
 * The JSON schema of the Helm chart's values (charts/memcached-operator/values.schema.json), which helm
 * checks before it renders anything. What the hook itself reads from its environment (the log levels,
 * the drain's ranges) comes from src/settings.ts, so the chart refuses exactly what the hook would.
 */
import {
  DNS1035_LABEL,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  DNS_LABEL_MAX_LENGTH,
  DNS_NAME,
  DNS_NAME_MAX_LENGTH,
  IMAGE_NAME_MAX_LENGTH,
  IMAGE_REFERENCE,
  IMAGE_REFERENCE_MAX_LENGTH,
  IMAGE_REPOSITORY,
  IMAGE_TAG_AND_DIGEST,
  LABEL_VALUE,
  LABEL_VALUE_MAX_LENGTH,
  PULL_POLICIES,
  QUANTITY,
} from '../src/api/formats.js';
import type { ResourceRequirements, Toleration } from 'kubernetes-types/core/v1.js';
import type { TSchema } from 'typebox';
import { Affinity, PodSecurityContext, SecurityContext } from '../src/api/pod-fields.js';
import { INTEGER_RANGES, LOG_LEVELS } from '../src/settings.js';

const range = (name: keyof typeof INTEGER_RANGES) => {
  const [minimum, maximum] = INTEGER_RANGES[name];
  return { type: 'integer', minimum, maximum };
};

/** The hook's variables that templates/deployment.yaml sets from the chart's values. */
export const CHART_ENV = [
  'PORT',
  'LOG_LEVEL',
  'CLUSTER_DOMAIN',
  'MCROUTER_IMAGE',
  'EXPORTER_IMAGE',
  'SHUTDOWN_DELAY_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'BODY_LIMIT',
  'IN_FLIGHT_BODY_LIMIT',
  'REQUEST_TIMEOUT_MS',
  'JSON_DEPTH_LIMIT',
];

/** The labels templates/_helpers.tpl ("memcached-operator.labels") puts on every object of the chart. */
const CHART_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'];

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
/** A Prometheus duration as the Prometheus Operator's CRDs check it (its `Duration` type), or empty. */
const PROMETHEUS_DURATION = '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';
const imageReference = { type: 'string', maxLength: IMAGE_REFERENCE_MAX_LENGTH, pattern: IMAGE_REFERENCE };
/** An object's name (a DNS-1123 subdomain), or empty for a default. */
const optionalObjectName = { anyOf: [{ const: '' }, { type: 'string', maxLength: DNS_NAME_MAX_LENGTH, pattern: DNS1123_SUBDOMAIN }] };

/**
 * What helm cannot catch by type: a misspelt key (`replicas` for `replicaCount`) would be ignored silently. And
 * the keys `required` names: helm deletes a key set to `null` before it checks this schema, and the templates
 * would render nothing (or 0) for it, which the hook, the kubelet or the API server then refuses (`null`
 * removes the keys that are optional, such as `securityContext`).
 */
const closed = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});

/**
 * The fields of a Kubernetes type, each left for the API server to check, but no others: a field of the pod's
 * securityContext given in the container's (`fsGroup`) would be dropped by the API server without a word. The
 * list is checked against kubernetes-types (1.30).
 */
const fieldsOf = <T>(fields: Record<keyof T, true>) => closed(Object.fromEntries(Object.keys(fields).map((field) => [field, {}])));
/**
 * Keywords of the CRD's schemas that the chart's leaves out: helm would ignore the first two (an optional
 * field's null is already one of its `anyOf`), and the descriptions speak of a proxy's mcrouter pods.
 */
const CRD_ONLY = new Map<string, string>([
  ['nullable', 'boolean'],
  ['x-kubernetes-preserve-unknown-fields', 'boolean'],
  ['description', 'string'],
]);
/**
 * A pod field typed as the CRD types it (src/api/pod-fields.ts, the one source of both), closed at its top as
 * `fieldsOf` closes its list, open below as the CRD is. `later`: fields of Kubernetes versions after the
 * types', left to the API server.
 */
const typedFields = (schema: TSchema, later: string[] = []) => {
  const { properties } = JSON.parse(JSON.stringify(schema, (key, value: unknown) => (CRD_ONLY.get(key) === typeof value ? undefined : value))) as {
    properties: Record<string, unknown>;
  };
  return closed({ ...properties, ...Object.fromEntries(later.map((field) => [field, {}])) });
};
/** A quantity the API server takes in a container's resources: not a negative one. */
const RESOURCE_QUANTITY = QUANTITY.replace('^(\\+|-)?', '^\\+?');
if (RESOURCE_QUANTITY === QUANTITY) throw new Error('QUANTITY no longer begins with its sign: RESOURCE_QUANTITY must be made anew');
const quantities = { type: 'object', additionalProperties: { type: ['string', 'number'], pattern: RESOURCE_QUANTITY, minimum: 0 } };

/**
 * The values whose `null` would render a hook that cannot run, or one that runs otherwise than it says (a
 * shutdown delay of 0; a switch that is on by default turned off: a template reads `null` as false), see
 * `closed`. Not those whose `null` is the hook's or Kubernetes' own default: an empty
 * LOG_LEVEL, CLUSTER_DOMAIN or MCROUTER_IMAGE is the hook's default, and no `replicas` one pod.
 */
const REQUIRED_VALUES = [
  'image',
  'shutdownDelayMs',
  'shutdownTimeoutMs',
  'bodyLimit',
  'requestTimeoutMs',
  'jsonDepthLimit',
  'podDisruptionBudget',
  'userRoles',
  'networkPolicy',
  'serviceMonitor',
  'crds',
  'hookTimeout',
  'resyncPeriodSeconds',
];

export function chartValuesSchema() {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'memcached-operator chart values',
    ...closed({
      image: closed({
        // Joined as `repository:tag` (the chart's appVersion for an empty tag): a tag or digest in the
        // repository, or a digest alone in the tag, would make an image reference the kubelet cannot parse.
        repository: { type: 'string', minLength: 1, maxLength: IMAGE_NAME_MAX_LENGTH, pattern: IMAGE_REPOSITORY },
        tag: { type: 'string', pattern: IMAGE_TAG_AND_DIGEST },
        pullPolicy: { enum: PULL_POLICIES },
      }, ['repository']),
      // As a pod lists them: `[{name: SECRET}]` (a bare name, or a misspelt key, would give the hook's pod none).
      imagePullSecrets: {
        type: 'array',
        items: { ...closed({ name: { type: 'string', minLength: 1, maxLength: DNS_NAME_MAX_LENGTH, pattern: DNS1123_SUBDOMAIN } }), required: ['name'] },
      },
      replicaCount: { type: 'integer', minimum: 0 },
      logLevel: { enum: LOG_LEVELS },
      clusterDomain: { type: 'string', minLength: 1, maxLength: DNS_NAME_MAX_LENGTH, pattern: DNS_NAME },
      mcrouterImage: imageReference,
      // Empty: the hook's own default.
      exporterImage: { anyOf: [{ const: '' }, imageReference] },
      shutdownDelayMs: range('SHUTDOWN_DELAY_MS'),
      shutdownTimeoutMs: range('SHUTDOWN_TIMEOUT_MS'),
      bodyLimit: range('BODY_LIMIT'),
      // 0: the hook's default, which follows BODY_LIMIT (the variable is left unset).
      inFlightBodyLimit: { anyOf: [{ const: 0 }, range('IN_FLIGHT_BODY_LIMIT')] },
      requestTimeoutMs: range('REQUEST_TIMEOUT_MS'),
      jsonDepthLimit: range('JSON_DEPTH_LIMIT'),
      // EnvVars: a name, one the chart does not set from another value (it would hide that value's variable),
      // and a string value (`--set` makes 768 a number, which the API server refuses) or a valueFrom.
      extraEnv: {
        type: 'array',
        items: {
          ...closed({
            name: { type: 'string', minLength: 1, not: { enum: CHART_ENV } },
            value: { type: 'string' },
            valueFrom: { type: 'object' },
          }),
          required: ['name'],
          // The API server refuses an EnvVar with both.
          not: { required: ['value', 'valueFrom'] },
        },
      },
      resources: {
        ...fieldsOf<ResourceRequirements>({ claims: true, limits: true, requests: true }),
        properties: { claims: { type: 'array' }, limits: quantities, requests: quantities },
      },
      podDisruptionBudget: closed({
        enabled: { type: 'boolean' },
        // At least one pod, or a percentage of at least 1%: 0 would block every drain of the hook's nodes.
        maxUnavailable: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^([1-9][0-9]?|100)%$' }] },
      }, ['enabled', 'maxUnavailable']),
      // Every object's name, and the host of the hook's URL: a DNS-1035 label (the Service's name), or empty.
      fullnameOverride: { type: 'string', pattern: `^(${DNS1035_LABEL.slice(1, -1)})?$` },
      // The chart's name within it (RELEASE-NAME): a DNS-1035 label too, or empty.
      nameOverride: { type: 'string', pattern: `^(${DNS1035_LABEL.slice(1, -1)})?$` },
      userRoles: closed({ aggregate: { type: 'boolean' } }, ['aggregate']),
      networkPolicy: closed({
        enabled: { type: 'boolean' },
        // A namespace's name, which its kubernetes.io/metadata.name label holds.
        metacontrollerNamespace: { type: 'string', minLength: 1, maxLength: DNS_LABEL_MAX_LENGTH, pattern: DNS1123_LABEL },
        // NetworkPolicyPeers, checked by the API server.
        extraFrom: { type: 'array', items: { type: 'object', minProperties: 1 } },
      }, ['metacontrollerNamespace']),
      serviceMonitor: closed({
        enabled: { type: 'boolean' },
        interval: { type: 'string', pattern: PROMETHEUS_DURATION },
        // Label values: --set makes `true` or 1 something else, which the API server refuses.
        // Not the labels templates/_helpers.tpl gives every object: the ServiceMonitor would carry one twice.
        labels: {
          type: 'object',
          propertyNames: { not: { enum: CHART_LABELS } },
          additionalProperties: { type: 'string', maxLength: LABEL_VALUE_MAX_LENGTH, pattern: LABEL_VALUE },
        },
      }),
      crds: closed({ install: { type: 'boolean' } }, ['install']),
      resyncPeriodSeconds: {
        description: 'How often, in seconds, Metacontroller sends every proxy to the hook, changed or not (CompositeController resyncPeriodSeconds).',
        type: 'integer',
        // Each period Metacontroller queues every proxy at once: a period shorter than a pass over them keeps the
        // queue full. At its relist (--cache-flush-interval, 30 minutes by default) or above, it starts no resync.
        minimum: 60,
        maximum: 1800,
      },
      hookTimeout: {
        description: "A Go duration, as Metacontroller's CompositeController reads it, in whole milliseconds: 10s, 1m30s, 1.5s, 500ms.",
        type: 'string',
        minLength: 2,
        // Whole milliseconds (ms, and h, m, s with at most three decimals), so that no spelling hides a zero:
        // Metacontroller takes a timeout of 0 as no timeout given, and waits its default 10 s, and Go's
        // ParseDuration drops what is under a nanosecond (0.5ns, 0.0000000001s are 0). Each unit once, in
        // Go's order, with digits enough for days but not for ParseDuration's overflow past 2562047h.
        pattern: '^([0-9]{1,5}(\\.[0-9]{1,3})?h)?([0-9]{1,7}(\\.[0-9]{1,3})?m)?([0-9]{1,9}(\\.[0-9]{1,3})?s)?([0-9]{1,12}ms)?$',
        not: { pattern: '^([0.]+(ms|s|m|h))+$' },
      },
      // A PodSecurityContext and a SecurityContext, typed; their values (a profile type) the API server checks.
      podSecurityContext: typedFields(PodSecurityContext, ['seLinuxChangePolicy', 'supplementalGroupsPolicy']),
      securityContext: typedFields(SecurityContext),
      podAnnotations: stringMap,
      nodeSelector: stringMap,
      tolerations: { type: 'array', items: fieldsOf<Toleration>({ effect: true, key: true, operator: true, tolerationSeconds: true, value: true }) },
      // A ServiceAccount's name, or empty for the namespace's default.
      serviceAccountName: optionalObjectName,
      // A PriorityClass's name, or empty for the cluster's default.
      priorityClassName: optionalObjectName,
      // TopologySpreadConstraints: the fields the API server requires; the rest it checks.
      topologySpreadConstraints: { type: 'array', items: { type: 'object', required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] } },
      affinity: typedFields(Affinity),
      // Helm gives every chart used as a dependency the parent's `global` values.
      global: { type: 'object' },
    }, REQUIRED_VALUES),
  };
}

/**
 * The MemcachedProxy API (ianlewis.org/v1alpha1): the single source of truth.
 * The CRD's openAPIV3Schema is generated from these schemas, the hook validates
 * requests with them, and the core's types are derived from them. Its names and
 * its spec are here; its defaults in defaults.ts, the CEL rules and the limits
 * they read in cel-rules.ts, its status in proxy-status.ts.
 */
import { Type, type Static, type TSchema } from 'typebox';
import {
  ABSOLUTE_PATH,
  ANNOTATIONS_MAX_BYTES,
  DNS1035_LABEL,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  DNS_LABEL_MAX_LENGTH,
  DNS_NAME_MAX_LENGTH,
  IMAGE_REFERENCE,
  IMAGE_REFERENCE_MAX_LENGTH,
  LABEL_VALUE,
  LABEL_VALUE_MAX_LENGTH,
  PORT_MAX,
  PULL_POLICIES,
  QUALIFIED_NAME_MAX_LENGTH,
  QUANTITY,
} from './formats.js';
import { CEL_RULES, MAX_RULE_CHILDREN, MAX_RULE_DEPTH } from './cel-rules.js';
import { DEFAULTS, DEFAULT_IMAGES } from './defaults.js';
import { enumOf } from './enum.js';
import { MapOf } from './map.js';
import { Nullable } from './nullable.js';
import { Affinity, OPEN, PodSecurityContext, SecurityContext } from './pod-fields.js';
import { MemcachedProxyStatus } from './proxy-status.js';

export const GROUP = 'ianlewis.org';
export const VERSION = 'v1alpha1';
const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'MemcachedProxy';
export const PLURAL = 'memcachedproxies';
export const SINGULAR = 'memcachedproxy';
export const SHORT_NAMES = ['mp'];
/** The prefix of the annotations the hook writes on the children (kubernetes.ts, core/naming.ts). */
export const ANNOTATION_PREFIX = `memcached-operator.${GROUP}/`;

const requestsText = (r: { cpu: string; memory: string }) => `requests ${r.cpu} CPU, ${r.memory} memory`;
/** An enum's values for a description, the default marked: `Ch3 (default), Crc32, Rendezvous (mcrouter >= 0.37)`. */
const withDefault = (values: readonly string[], byDefault: string, notes: Readonly<Record<string, string>> = {}) =>
  values.map((v) => (v === byDefault ? `${v} (default)` : notes[v] ? `${v} (${notes[v]})` : v)).join(', ');

const RULE_TYPES = ['sharded', 'replicated'] as const;
export const HASHES = ['Ch3', 'Crc32', 'Rendezvous'] as const;

/**
 * The first mcrouter release that loads a config naming a hash, where the earliest releases do not: 0.37.0
 * (2018-01) added Rendezvous; 0.36.0 refuses a config that names it (core/mcrouter-version.ts, McrouterTooOld).
 */
export const HASH_SINCE = {
  Rendezvous: { major: 0, minor: 37 },
} as const satisfies Partial<Record<(typeof HASHES)[number], { major: number; minor: number }>>;
const needsMcrouter = ({ major, minor }: { major: number; minor: number }) => `mcrouter >= ${major}.${minor}`;

export const WRITE_POLICIES = ['AllSync', 'AllMajority', 'AllFastest', 'AllAsync'] as const;
export const READ_POLICIES = ['Latest', 'MissFailover', 'Failover'] as const;
const RELOAD_MODES = ['Watch', 'Rollout'] as const;
/**
 * A Service port's name: a DNS-1123 label (Kubernetes' validateServicePort; the 15-character IANA limit is
 * a container port's). A capital letter or a space could never name one.
 */
const SERVICE_PORT_NAME = DNS1123_LABEL;

/** A port given by number or by name, as Kubernetes' IntOrString; `lowest` 0 lets 0 stand for the default. */
const IntOrString = (description: string, lowest: 0 | 1 = 1) =>
  Type.Union([Type.Integer({ minimum: lowest, maximum: PORT_MAX }), Type.String({ minLength: 1, maxLength: DNS_LABEL_MAX_LENGTH, pattern: SERVICE_PORT_NAME })], {
    'x-kubernetes-int-or-string': true,
    description,
  });

/**
 * The values v0.0.2's controller wrote back into the objects it reconciled: it updated the whole object
 * from its Go types, whose `type` and `port` had no omitempty; it defaulted only the top rule's type (its
 * loop over the children defaulted copies) and no port. A stored v0.0.2 object therefore carries
 * `type: ""` and `port: 0` wherever the user left them out. v0.0.2 refused to route those; here they
 * mean what leaving them out means.
 */
export const V002_UNSET = { ruleType: '', servicePort: 0 } as const;

const ObjectName = (description: string) => Type.String({ minLength: 1, maxLength: DNS_LABEL_MAX_LENGTH, pattern: DNS1035_LABEL, description });

/** A value embedded as is, whatever it holds: checked only by what reads it. */
const Embedded = (description: string) => Type.Object({}, { ...OPEN, description });

/**
 * The keyword of an Embedded field that carries the schema the CRD types it with (crd.ts writes that in its place).
 * The hook's own check leaves the field open, and core/pod-template-check.ts holds it to the same schema as a
 * pod template fault (`InvalidSpec`, with a 200): a proxy stored before the CRD typed it, or admitted by an older CRD
 * (the hook upgraded first), keeps its config and servers current rather than having every sync refused.
 */
export const CRD_SCHEMA = 'x-crd-schema';
const PodField = (typed: TSchema, description: string) => Type.Object({}, { ...OPEN, description, [CRD_SCHEMA]: typed });

/**
 * A container's resources, typed as the API server types them in a Deployment, so that a wrong quantity
 * ("128MB", "one") is refused at `kubectl apply` rather than when Metacontroller applies the Deployment.
 * A quantity is an integer or a string (`cpu: "0.5"`, `500m`); a CRD cannot take a fractional number
 * (`cpu: 0.5`), as for every CRD with resources, but the hook still takes one that an earlier CRD stored.
 */
const Quantity = Type.Union([Type.Number(), Type.String({ maxLength: 64, pattern: QUANTITY })], { 'x-kubernetes-int-or-string': true });

const Resources = (description: string) =>
  Type.Object(
    {
      limits: Type.Optional(MapOf(Quantity, { description: 'Limits by resource name (cpu, memory, ...).' })),
      requests: Type.Optional(MapOf(Quantity, { description: 'Requests by resource name. {} (requests: {}) is a container without requests.' })),
    },
    { description },
  );

/**
 * A toleration, typed as a pod's (the hook copies it into the Deployment): an unknown effect or operator is
 * refused at `kubectl apply`, not when Metacontroller applies the Deployment. The key's form is checked by the hook.
 */
export const Toleration = Type.Object(
  {
    key: Type.Optional(Nullable(Type.String({ maxLength: QUALIFIED_NAME_MAX_LENGTH, description: 'The taint key; empty (with operator Exists) matches every taint.' }))),
    operator: Type.Optional(Nullable(enumOf(['Exists', 'Equal', ''] as const, 'Exists or Equal (also "").'))),
    value: Type.Optional(Nullable(Type.String({ maxLength: LABEL_VALUE_MAX_LENGTH, pattern: LABEL_VALUE, description: 'The taint value; empty with operator Exists.' }))),
    effect: Type.Optional(Nullable(enumOf(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const, 'The taint effect matched; empty matches all.'))),
    tolerationSeconds: Type.Optional(Nullable(Type.Integer({ description: 'How long a NoExecute taint is tolerated.' }))),
  },
  {
    description: 'A toleration, as a pod takes one.',
    'x-kubernetes-validations': [CEL_RULES.tolerationEmptyKey, CEL_RULES.tolerationExistsValue, CEL_RULES.tolerationSeconds],
  },
);

const ServiceRef = Type.Object(
  {
    name: ObjectName('Name of a Service in the proxy\'s namespace whose endpoints are memcached servers.'),
    port: Type.Optional(
      IntOrString(
        `Port number or port name of that Service; a name of digits only that no port has is the number ("11211"). Default ${DEFAULTS.servicePort} (also for ${V002_UNSET.servicePort}, as v0.0.2 stored it).`,
        V002_UNSET.servicePort,
      ),
    ),
    namespace: Type.Optional(
      Type.String({ maxLength: DNS_LABEL_MAX_LENGTH, description: 'Must equal the proxy\'s namespace when set (kept for v0.0.2 objects).' }),
    ),
  },
  { description: 'A leaf: one Service whose endpoints form one mcrouter pool.' },
);

const ruleFields = {
  type: Type.Optional(
    enumOf([...RULE_TYPES, V002_UNSET.ruleType], `${DEFAULTS.ruleType} (default; also ${JSON.stringify(V002_UNSET.ruleType)}, as v0.0.2 stored it): each key goes to one child; replicated: to all.`),
  ),
  hash: Type.Optional(enumOf(HASHES, `Hash for sharding. ${withDefault(HASHES, DEFAULTS.hash, { Rendezvous: needsMcrouter(HASH_SINCE.Rendezvous) })}.`)),
  writePolicy: Type.Optional(
    enumOf(WRITE_POLICIES, `Replicated writes and every non-read operation: ${withDefault(WRITE_POLICIES, DEFAULTS.writePolicy)}.`),
  ),
  readPolicy: Type.Optional(enumOf(READ_POLICIES, `Replicated reads: ${withDefault(READ_POLICIES, DEFAULTS.readPolicy)}.`)),
  service: Type.Optional(ServiceRef),
};

/** The upper levels' rule: a service or children, not both. */
const ruleOptions = { 'x-kubernetes-validations': [CEL_RULES.serviceOrChildren] };
// One schema per level, MAX_RULE_DEPTH of them (a test counts them): TypeBox's static types follow each.
/** The deepest level: a leaf. `children` is declared only to refuse a fourth level with a clear path. */
const RuleLevel3 = Type.Object({
  ...ruleFields,
  children: Type.Optional(
    Type.Array(Embedded(`Not allowed: rules nest at most ${MAX_RULE_DEPTH} levels.`), {
      maxItems: 0,
      description: `Rules nest at most ${MAX_RULE_DEPTH} levels: a rule at level ${MAX_RULE_DEPTH} must be a service.`,
    }),
  ),
}, { 'x-kubernetes-validations': [CEL_RULES.serviceOrChildren, CEL_RULES.leafAtDeepest] });
const children = <T extends TSchema>(level: T) =>
  Type.Optional(Type.Array(level, { minItems: 1, maxItems: MAX_RULE_CHILDREN, description: 'The rules under this one, each a service or a group of its own. A rule has service or children, not both.' }));
const RuleLevel2 = Type.Object({ ...ruleFields, children: children(RuleLevel3) }, ruleOptions);
export const Rule = Type.Object(
  { ...ruleFields, children: children(RuleLevel2) },
  { ...ruleOptions, description: 'A routing rule: either a service (a leaf) or children combined by type.' },
);

export const Exporter = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Runs the exporter beside mcrouter, and adds a metrics port to the proxy\'s Service. Default false.' })),
    image: Type.Optional(Type.String({ minLength: 1, maxLength: IMAGE_REFERENCE_MAX_LENGTH, pattern: IMAGE_REFERENCE, description: `Exporter image. Default: the hook's EXPORTER_IMAGE (as shipped, ${DEFAULT_IMAGES.exporter}).` })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: PORT_MAX, default: DEFAULTS.exporterPort, description: `Port the exporter serves /metrics on: the Service's metrics port. Not mcrouter's. Default ${DEFAULTS.exporterPort}.` })),
    resources: Type.Optional(Resources(`Resources of the exporter container. Default (also for {}, or limits: {} alone): ${requestsText(DEFAULTS.exporterRequests)}.`)),
  },
  { description: 'A Prometheus exporter sidecar that reads mcrouter\'s stats.' },
);

/**
 * Pull secrets as a pod names them (LocalObjectReferences), each with its name (an entry without one names
 * no Secret); a list keyed by name, as PodSpec's, so that the API server refuses a name given twice.
 */
const ImagePullSecrets = (description: string) =>
  Type.Array(
    Type.Object({ name: Type.String({ minLength: 1, maxLength: DNS_NAME_MAX_LENGTH, pattern: DNS1123_SUBDOMAIN, description: 'Name of a Secret in the same namespace.' }) }),
    { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], description },
  );

/**
 * The port and the config file the hook always passes mcrouter first (core/children.ts mcrouterArgs), each
 * flag with its spellings and the other options of mcrouter that set the same: `extraArgs`' description names
 * them all, since one there would override the hook's. `--config` and `--config-str` give the config itself
 * (`--config` also `file:PATH`), and mcrouter takes either before `--config-file`, wherever it stands
 * (ConfigApi::getConfigFile).
 */
export const MCROUTER_PORT_FLAG = { short: '-p', long: '--port' } as const;
export const MCROUTER_CONFIG_FLAG = { short: '-f', long: '--config-file', config: '--config', configString: '--config-str' } as const;
/** A flag's spellings for a description, joined by `/`. */
const spellings = (flag: Readonly<Record<string, string>>) => Object.values(flag).join('/');

/**
 * The spec.mcrouter fields the hook passes to mcrouter as flags of their own (`--FLAG=VALUE`), in the order it
 * passes them: after the port, the config file and `--asynclog-disable`, before `extraArgs` (core/children.ts
 * mcrouterArgs). The schema's descriptions name the same flags.
 */
export const MCROUTER_FLAGS = {
  numProxies: '--num-proxies',
  serverTimeoutMs: '--server-timeout',
  statsRoot: '--stats-root',
} as const;

export const McrouterSpec = Type.Object(
  {
    image: Type.Optional(Type.String({ minLength: 1, maxLength: IMAGE_REFERENCE_MAX_LENGTH, pattern: IMAGE_REFERENCE, description: `mcrouter image. Default: the hook's MCROUTER_IMAGE (as shipped, ${DEFAULT_IMAGES.mcrouter}; Rendezvous needs ${needsMcrouter(HASH_SINCE.Rendezvous)}).` })),
    imagePullPolicy: Type.Optional(enumOf(PULL_POLICIES, 'Image pull policy of the mcrouter and exporter containers; unset, Kubernetes\' default.')),
    imagePullSecrets: Type.Optional(ImagePullSecrets('Secrets of the proxy\'s namespace the mcrouter pods pull their images with (the exporter\'s too). They replace those of the namespace\'s default ServiceAccount, which Kubernetes adds only to a pod that names none.')),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: PORT_MAX, default: DEFAULTS.mcrouterPort, description: `Port mcrouter and the Service listen on. Default ${DEFAULTS.mcrouterPort}.` })),
    replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: DEFAULTS.replicas, description: `mcrouter pods. Default ${DEFAULTS.replicas}; 0 parks the proxy (Ready False, ScaledToZero); more than 1 adds a PodDisruptionBudget.` })),
    resources: Type.Optional(Resources(`Resources of the mcrouter container. Default (also for {}, as v0.0.2 stored it, or limits: {} alone): ${requestsText(DEFAULTS.mcrouterRequests)}.`)),
    securityContext: Type.Optional(PodField(SecurityContext, 'Container securityContext of mcrouter (v0.0.2 field), merged over the restricted default (capabilities key by key).')),
    podSecurityContext: Type.Optional(PodField(PodSecurityContext, 'Pod securityContext, merged over the restricted default.')),
    numProxies: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: `mcrouter ${MCROUTER_FLAGS.numProxies}; unset, mcrouter's default.` })),
    serverTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600000, description: `mcrouter ${MCROUTER_FLAGS.serverTimeoutMs} in ms; unset, mcrouter's default.` })),
    statsRoot: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: ABSOLUTE_PATH, description: `mcrouter ${MCROUTER_FLAGS.statsRoot} (v0.0.2 field).` })),
    extraArgs: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64, description: `Appended to mcrouter's arguments, so that a repeated option wins over the hook's: do not pass ${spellings(MCROUTER_PORT_FLAG)}, --listen-addresses, ${spellings(MCROUTER_CONFIG_FLAG)}, ${MCROUTER_FLAGS.statsRoot} or --async-dir, which would leave the probes, the Service, the mounted config or the writable directories behind what mcrouter runs.` })),
    nodeSelector: Type.Optional(MapOf(Type.String({ maxLength: LABEL_VALUE_MAX_LENGTH, pattern: LABEL_VALUE }), { description: 'Pod nodeSelector: label values.' })),
    tolerations: Type.Optional(Type.Array(Toleration, { maxItems: 64, description: 'Pod tolerations.' })),
    affinity: Type.Optional(PodField(Affinity, 'Pod affinity; replaces the default preferred anti-affinity across nodes.')),
    podAnnotations: Type.Optional(MapOf(Type.String({ maxLength: ANNOTATIONS_MAX_BYTES }), { description: 'Annotations on the mcrouter pods.' })),
    reload: Type.Optional(
      enumOf(RELOAD_MODES, 'Watch (default): mcrouter reloads the mounted config; Rollout: a config-hash annotation rolls the pods on every change.'),
    ),
    exporter: Type.Optional(Exporter),
  },
  { description: 'The mcrouter Deployment.', 'x-kubernetes-validations': [CEL_RULES.exporterPort, CEL_RULES.statsRoot, CEL_RULES.statsRootSystemDir] },
);

export const MemcachedProxySpec = Type.Object(
  {
    serviceName: Type.Optional(ObjectName('The simple form: one sharded pool over this Service\'s endpoints.')),
    servicePort: Type.Optional(IntOrString(`Port number or name of serviceName; a name of digits only that no port has is the number ("11211"). Default ${DEFAULTS.servicePort}.`)),
    rules: Type.Optional(Rule),
    mcrouter: Type.Optional(McrouterSpec),
  },
  {
    description: 'Exactly one of serviceName and rules.',
    'x-kubernetes-validations': [CEL_RULES.oneForm, CEL_RULES.servicePortWithName],
  },
);

const ProxyMetadata = Type.Object(
  {
    // Checked by the root's CEL rule (and spec-check, with its message), not here: one message for both.
    name: Type.String(),
    // A DNS-1123 label, as Kubernetes names namespaces: it goes into server names and the metrics' labels.
    namespace: Type.String({ minLength: 1, maxLength: DNS_LABEL_MAX_LENGTH, pattern: DNS1123_LABEL }),
    uid: Type.Optional(Type.String()),
    // It becomes the status's observedGeneration: an int64 of the API server, within what a JSON number holds exactly.
    generation: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /** Set while the proxy is being deleted: its status says so. */
    deletionTimestamp: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const MemcachedProxy = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(KIND),
    metadata: ProxyMetadata,
    spec: MemcachedProxySpec,
    status: Type.Optional(Nullable(MemcachedProxyStatus)),
  },
  { 'x-kubernetes-validations': [CEL_RULES.proxyName, CEL_RULES.ownServiceName] },
);

export type Rule = Static<typeof Rule>;
/** A rule at any level: the schema spells each level apart, to stop at the deepest. */
export type AnyRule = Omit<Rule, 'children'> & { children?: AnyRule[] };
export type McrouterSpec = Static<typeof McrouterSpec>;
export type MemcachedProxySpec = Static<typeof MemcachedProxySpec>;
export type MemcachedProxy = Static<typeof MemcachedProxy>;
export type RuleType = (typeof RULE_TYPES)[number];
export type Hash = (typeof HASHES)[number];
export type WritePolicy = (typeof WRITE_POLICIES)[number];
export type ReadPolicy = (typeof READ_POLICIES)[number];

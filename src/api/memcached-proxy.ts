/**
 * The MemcachedProxy API (ianlewis.org/v1alpha1): the single source of truth.
 * The CRD's openAPIV3Schema is generated from these schemas, the hook validates
 * requests with them, and the core's types are derived from them.
 */
import { Type, type Static, type TEnum, type TSchema } from 'typebox';
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
  RFC3339_TIME,
} from './formats.js';
import { MapOf } from './map.js';
import { Nullable } from './nullable.js';
import { Affinity, OPEN, PodSecurityContext, SecurityContext } from './pod-fields.js';

export const GROUP = 'ianlewis.org';
export const VERSION = 'v1alpha1';
const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'MemcachedProxy';
export const PLURAL = 'memcachedproxies';
export const SINGULAR = 'memcachedproxy';
export const SHORT_NAMES = ['mp'];
/** The prefix of the annotations the hook writes on the children (kubernetes.ts, core/naming.ts). */
export const ANNOTATION_PREFIX = `memcached-operator.${GROUP}/`;

/**
 * Defaults the hook applies. The CRD carries three of them as schema defaults
 * too: `spec.mcrouter`'s port and replicas, and the exporter's port (and the
 * exporter's `enabled: false`, not one of these: the hook reads it as absent). The hook alone applies the rest: `reload`, the
 * containers' resource requests, and the rule defaults, which stay out of
 * the CRD so that `kubectl get -o yaml` shows a rule as written.
 * `servicePort` must stay out: a schema default would also land on
 * rules-form objects and make them break the "exactly one form" rule.
 */
export const DEFAULTS = {
  servicePort: 11211,
  ruleType: 'sharded',
  hash: 'Ch3',
  writePolicy: 'AllSync',
  readPolicy: 'Latest',
  mcrouterPort: 11211,
  replicas: 1,
  reload: 'Watch',
  exporterPort: 9442,
  mcrouterRequests: { cpu: '100m', memory: '128Mi' },
  exporterRequests: { cpu: '10m', memory: '32Mi' },
} as const;

/**
 * The images of a spec that names none, unless the hook's MCROUTER_IMAGE and EXPORTER_IMAGE (settings.ts) say
 * otherwise: the CRD's descriptions name them.
 */
export const DEFAULT_IMAGES: Readonly<{ mcrouter: string; exporter: string }> = {
  /** What the stable and evryfs mcrouter charts run; 0.36 has no Rendezvous (HASH_SINCE). */
  mcrouter: 'jphalip/mcrouter:0.36.0',
  /**
   * github.com/Dev25/mcrouter_exporter, the one maintained mcrouter exporter: release 0.5.0 (2025-02),
   * multi-arch, distroless, published to ghcr.io since 0.4.0 (docs/operating.md, the exporter sidecar, has the evidence).
   */
  exporter: 'ghcr.io/dev25/mcrouter_exporter:0.5.0',
};

/** `spec.mcrouter`'s values with their defaults applied: the one place each default is read. */
export const mcrouterPortOf = (spec: McrouterSpec | undefined): number => spec?.port ?? DEFAULTS.mcrouterPort;
export const mcrouterReplicasOf = (spec: McrouterSpec | undefined): number => spec?.replicas ?? DEFAULTS.replicas;
export const exporterPortOf = (exporter: McrouterSpec['exporter']): number => exporter?.port ?? DEFAULTS.exporterPort;

const requestsText = (r: { cpu: string; memory: string }) => `requests ${r.cpu} CPU, ${r.memory} memory`;
/** An enum's values for a description, the default marked: `Ch3 (default), Crc32, Rendezvous (mcrouter >= 0.37)`. */
const withDefault = (values: readonly string[], byDefault: string, notes: Readonly<Record<string, string>> = {}) =>
  values.map((v) => (v === byDefault ? `${v} (default)` : notes[v] ? `${v} (${notes[v]})` : v)).join(', ');

/** The ConfigMap, Deployment and PodDisruptionBudget are named `NAME-mcrouter`. */
export const MCROUTER_SUFFIX = '-mcrouter';
/** So that `NAME-mcrouter` fits in a DNS label's 63 characters: 54. */
export const MAX_NAME_LENGTH = DNS_LABEL_MAX_LENGTH - MCROUTER_SUFFIX.length;
/** Rules nest at most this deep: CRD schemas cannot recurse, so each level is spelled out. */
export const MAX_RULE_DEPTH = 3;
/** Children of one rule, at most: so at most MAX_RULE_CHILDREN ** (MAX_RULE_DEPTH - 1) pools (4,096). */
export const MAX_RULE_CHILDREN = 64;

/** CEL: no leaf of the rule `rule` (at `level`) or below it is a Service named like the proxy. */
function noLeafNamedLikeProxy(rule: string, level: number): string {
  const leaf = `!has(${rule}.service) || ${rule}.service.name != self.metadata.name`;
  if (level === MAX_RULE_DEPTH) return leaf;
  // One variable per level below the top: c, d, ...
  const child = String.fromCharCode('c'.charCodeAt(0) + level - 1);
  return `(${leaf}) && (!has(${rule}.children) || ${rule}.children.all(${child}, ${noLeafNamedLikeProxy(child, level + 1)}))`;
}
/** Where the mcrouter config is mounted, read-only: `statsRoot` may not overlap it. */
export const CONFIG_DIR = '/etc/mcrouter';

/**
 * A path that is CONFIG_DIR, under it, or one of its ancestors (`/`, `/etc`), in syntax both RE2 (CEL) and
 * JavaScript read alike: a stats directory there would be a second mount at the config's path, a mount
 * inside a read-only volume, or an empty directory hiding the image's own files (`/etc`, or everything).
 */
export const CONFIG_DIR_OVERLAP = (() => {
  const segments = CONFIG_DIR.split('/').filter(Boolean);
  const ancestors = segments.slice(0, -1).map((_, i) => `${segments.slice(0, i + 1).join('/+')}/*`);
  return `^/*(${[...ancestors, `${segments.join('/+')}(/[\\s\\S]*)?`].join('|')})?$`;
})();
/**
 * The image's system trees, in the same syntax: an emptyDir at or under one hides the binaries and libraries
 * mcrouter runs from (`/usr`, `/lib`...), or shadows a filesystem the kernel provides (`/proc`, `/sys`, `/dev`).
 */
const SYSTEM_DIRS = ['bin', 'boot', 'dev', 'lib', 'lib32', 'lib64', 'libx32', 'proc', 'sbin', 'sys', 'usr'] as const;
export const SYSTEM_DIR = `^/*(${SYSTEM_DIRS.join('|')})(/[\\s\\S]*)?$`;
/** A `.` or `..` segment: the path would not say where it points. */
export const DOT_SEGMENT = '(^|/)[.][.]?(/|$)';

/**
 * Rules the schema alone cannot say, as CEL for the CRD. The hook checks the
 * same rules with these messages, since a request can reach it without passing
 * the API server (curl), and tests prove the two agree: the spec's in
 * core/spec-check.ts (a 422), the tolerations' in core/pod-template-check.ts
 * (`Ready` InvalidSpec with a 200, as every pod template fault).
 */
export const CEL_RULES = {
  oneForm: {
    rule: 'has(self.serviceName) != has(self.rules)',
    message: 'exactly one of spec.serviceName and spec.rules must be set',
  },
  servicePortWithName: {
    rule: '!has(self.servicePort) || has(self.serviceName)',
    message: 'spec.servicePort is only used with spec.serviceName',
  },
  serviceOrChildren: {
    rule: 'has(self.service) != has(self.children)',
    message: 'a rule has either service or children, not both and not neither',
  },
  // `children: []` passes maxItems 0 and the rule above: without this, an empty group would take a share of the keys.
  leafAtDeepest: {
    rule: '!has(self.children)',
    message: `rules nest at most ${MAX_RULE_DEPTH} levels: a rule at level ${MAX_RULE_DEPTH} must be a service`,
  },
  exporterPort: {
    rule:
      `!has(self.exporter) || !has(self.exporter.enabled) || !self.exporter.enabled || ` +
      `(has(self.port) ? self.port : ${DEFAULTS.mcrouterPort}) != (has(self.exporter.port) ? self.exporter.port : ${DEFAULTS.exporterPort})`,
    message: 'spec.mcrouter.exporter.port must differ from spec.mcrouter.port: both containers listen in one pod, behind one Service',
  },
  statsRoot: {
    rule: `!has(self.statsRoot) || !(self.statsRoot.matches(r'${CONFIG_DIR_OVERLAP}') || self.statsRoot.matches('${DOT_SEGMENT}'))`,
    message: `spec.mcrouter.statsRoot must not be ${CONFIG_DIR}, a directory under it or one above it (the config is mounted there, read-only), nor have . or .. segments`,
  },
  statsRootSystemDir: {
    rule: `!has(self.statsRoot) || !self.statsRoot.matches(r'${SYSTEM_DIR}')`,
    message: `spec.mcrouter.statsRoot must not be in ${SYSTEM_DIRS.map((d) => `/${d}`).join(', ')}: an emptyDir is mounted there, and it would hide the image's own files`,
  },
  // The proxy's own Service takes the proxy's name (core/naming.ts): it and a leaf Service of that name cannot both exist.
  ownServiceName: {
    rule: `(!has(self.spec.serviceName) || self.spec.serviceName != self.metadata.name) && (!has(self.spec.rules) || (${noLeafNamedLikeProxy('self.spec.rules', 1)}))`,
    message: "no leaf Service may be named like the proxy: the proxy's own Service takes that name",
  },
  proxyName: {
    rule: `self.metadata.name.size() <= ${MAX_NAME_LENGTH} && self.metadata.name.matches('${DNS1035_LABEL}')`,
    message: `metadata.name must be a DNS-1035 label of at most ${MAX_NAME_LENGTH} characters, so that NAME-mcrouter fits in ${DNS_LABEL_MAX_LENGTH}`,
  },
  // A toleration's own rules, as the API server checks a pod's (ValidateTolerations): a Deployment that breaks one is refused.
  tolerationEmptyKey: {
    rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
    message: 'operator must be Exists when key is empty, which means "match all values and all keys"',
  },
  tolerationExistsValue: {
    rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
    message: 'value must be empty when operator is Exists',
  },
  tolerationSeconds: {
    rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
    message: 'effect must be NoExecute when tolerationSeconds is set',
  },
} as const;

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

/** `type: string` beside `enum`: structural CRD schemas need every node typed. */
const enumOf = <const T extends readonly string[]>(values: T, description: string): TEnum<[...T]> =>
  Type.Enum([...values], { type: 'string', description }) as TEnum<[...T]>;

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
 * The spec.mcrouter fields the hook passes to mcrouter as flags of their own (`--FLAG=VALUE`), in the order it
 * passes them: after `-p`, `--config-file` and `--asynclog-disable`, before `extraArgs` (core/children.ts
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
    extraArgs: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64, description: `Appended to mcrouter's arguments, so that a repeated option wins over the hook's: do not pass -p/--port, --listen-addresses, -f/--config-file/--config, ${MCROUTER_FLAGS.statsRoot} or --async-dir, which would leave the probes, the Service, the mounted config or the writable directories behind what mcrouter runs.` })),
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
export type MemcachedProxyStatus = Static<typeof MemcachedProxyStatus>;
export type MemcachedProxy = Static<typeof MemcachedProxy>;
export type Condition = Static<typeof Condition>;
export type PoolStatus = Static<typeof PoolStatus>;
export type LastChange = Static<typeof LastChange>;
export type ConfigBehind = Static<typeof ConfigBehind>;
export type RuleType = (typeof RULE_TYPES)[number];
export type Hash = (typeof HASHES)[number];
export type WritePolicy = (typeof WRITE_POLICIES)[number];
export type ReadPolicy = (typeof READ_POLICIES)[number];

/** A status's condition of `type`, when it has one. */
export const conditionOf = (status: MemcachedProxyStatus | null | undefined, type: string): Condition | undefined =>
  status?.conditions?.find((c) => c.type === type);

/** A status's Ready condition, when it has one. */
export const readyCondition = (status: MemcachedProxyStatus | null | undefined): Condition | undefined => conditionOf(status, READY_CONDITION);

/**
 * The child objects of a proxy: the mcrouter ConfigMap, Deployment and
 * Service, and a PodDisruptionBudget when there is more than one replica.
 * No namespace (Metacontroller puts children in the parent's), no
 * ownerReferences (Metacontroller adds them), no status.
 */
import type { Affinity, ConfigMap, Container, PodSecurityContext, PodSpec, ResourceRequirements, SecurityContext, Service, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { DEFAULTS, exporterPortOf, mcrouterPortOf, mcrouterReplicasOf } from '../api/defaults.js';
import { MCROUTER_CONFIG_FLAG, MCROUTER_FLAGS, MCROUTER_PORT_FLAG, type McrouterSpec, type MemcachedProxy } from '../api/memcached-proxy.js';
import { OBJECT_TYPES, type Child } from '../api/hook.js';
import { shortDigest } from './digest.js';
import { storedResourceQuantity } from './quantity.js';
import {
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  CONFIG_KEY,
  CONFIG_PATH,
  LAST_CHANGE_ANNOTATION,
  POOLS_KEY,
  SPEC_HASH_ANNOTATION,
  childLabels,
  mcrouterName,
  selectorLabels,
  proxyServiceName,
} from './naming.js';

const { configMap: CONFIG_MAP, deployment: DEPLOYMENT, service: SERVICE, podDisruptionBudget: POD_DISRUPTION_BUDGET } = OBJECT_TYPES;

export interface Images {
  mcrouter: string;
  exporter: string;
}

/** Community mcrouter images run as root by default: a user must be set explicitly for runAsNonRoot to start. */
const NON_ROOT_ID = 65532;
const MEMCACHE_PORT_NAME = 'memcache';
/**
 * How long a terminating mcrouter pod keeps serving before it gets SIGTERM. Kubernetes takes a
 * terminating pod out of the Service's endpoints while it signals it, and kube-proxy on every node
 * learns of that a moment later: until then new client connections still go to the pod, and mcrouter,
 * which stops listening at SIGTERM, would refuse them, on every rollout. An exec of `sleep` (the public
 * mcrouter images are Ubuntu- or Debian-based; without one, kubelet records FailedPreStopHook and stops
 * the pod as before) rather than the `sleep` lifecycle action, which API servers before Kubernetes 1.30 refuse.
 * Well within the default 30 s grace period.
 */
const PRE_STOP_SLEEP_SECONDS = 5;
const METRICS_PORT_NAME = 'metrics';

/**
 * The restricted Pod Security Standard, container side: only what a pod-level context cannot say.
 * The identity and seccomp profile live at the pod level, which every container inherits, so that
 * a user's `podSecurityContext.runAsUser` takes effect instead of being shadowed per container.
 * Built afresh for each child, as every default here: no answer shares an object with another.
 */
const restrictedContainer = (): SecurityContext => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
});
const restrictedPod = (): PodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: NON_ROOT_ID,
  runAsGroup: NON_ROOT_ID,
  fsGroup: NON_ROOT_ID,
  seccompProfile: { type: 'RuntimeDefault' },
});

/** Maps from users come in any key order; sorted keys keep the output byte-stable. */
const sorted = (map: Record<string, string> | undefined): Record<string, string> =>
  map ? Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : {};

/**
 * An object the user wrote into the pod (tolerations, affinity, security contexts) as the API server
 * stores it, as far as that can be told without its types: a null is an unset field, and an empty list
 * is none (every list in these types is `omitempty`), and a label selector's empty `matchLabels` map
 * too; the API server drops all three. Metacontroller compares what it would apply with what is stored,
 * and would update the Deployment on every sync to put back what is never there. Empty objects stay:
 * they are structs behind pointers, which the API server keeps (`emptyDir: {}`, `seLinuxOptions: {}`).
 */
function stored<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stored) as T;
  if (typeof value !== 'object' || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === null || (Array.isArray(field) && field.length === 0)) continue;
    if (key === 'matchLabels' && typeof field === 'object' && Object.keys(field).length === 0) continue;
    kept[key] = key === 'seLinuxOptions' ? withoutEmptyStrings(stored(field)) : stored(field);
  }
  return kept as T;
}

/**
 * An object whose fields are all `omitempty` strings (a toleration, seLinuxOptions), without the empty
 * ones, which the API server drops too (`value: ""` in a toleration with `Exists`).
 */
const withoutEmptyStrings = <T>(value: T): T =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (Object.fromEntries(Object.entries(value).filter(([, field]) => field !== '')) as T)
    : value;

const storedToleration = (toleration: object) => withoutEmptyStrings(stored(toleration));

/** The restricted defaults overridden by the user's fields; a null unsets one (`fsGroup: null`). */
const withDefaults = <T extends object>(defaults: T, user: T | undefined): T => (user ? stored({ ...defaults, ...user }) : { ...defaults });

/** The container's restricted defaults under the user's fields, `capabilities` merged key by key: adding one keeps `drop: [ALL]`. */
function containerSecurityContext(user: SecurityContext | undefined): SecurityContext {
  const defaults = restrictedContainer();
  const merged = withDefaults(defaults, user);
  const capabilities = user?.capabilities;
  if (capabilities && typeof capabilities === 'object' && !Array.isArray(capabilities)) {
    merged.capabilities = stored({ ...defaults.capabilities, ...capabilities });
  }
  // The API server refuses `allowPrivilegeEscalation: false` beside `privileged: true` or an added capability
  // spelt `CAP_SYS_ADMIN` (ValidateSecurityContext): such a container escalates anyway. The default gives way.
  const added = merged.capabilities?.add;
  const escalates = merged.privileged === true || (Array.isArray(added) && added.includes('CAP_SYS_ADMIN'));
  if (escalates && user?.allowPrivilegeEscalation === undefined) delete merged.allowPrivilegeEscalation;
  return merged;
}

/** The first port a non-root process may bind without a capability (Linux's default: 1024). */
const UNPRIVILEGED_PORT_SYSCTL = 'net.ipv4.ip_unprivileged_port_start';

/**
 * The restricted pod defaults, and, when mcrouter or the exporter listens below 1024, that port made
 * bindable: both run as a non-root user, which Kubernetes gives no ambient capabilities, so adding
 * NET_BIND_SERVICE would not do. The sysctl is one the restricted profile and every kubelet allow (1.22+).
 */
function podSecurityDefaults(port: number, exporter: McrouterSpec['exporter']): PodSecurityContext {
  const lowest = Math.min(port, exporter?.enabled ? exporterPortOf(exporter) : port);
  const pod = restrictedPod();
  if (lowest < 1024) pod.sysctls = [{ name: UNPRIVILEGED_PORT_SYSCTL, value: String(lowest) }];
  return pod;
}

/**
 * The user's resources, or the defaults when they set none. An empty object counts as none: v0.0.2's
 * controller wrote its objects back with `resources: {}` (Go's omitempty keeps an empty struct), though its
 * users never set them; so does `limits: {}` alone, as a template writes an empty value (a Deployment would
 * not keep the empty map). Anything else replaces the defaults whole: `requests: {}` written, even beside
 * empty limits, is a container without requests; limits alone are the requests too (Kubernetes copies
 * them), and a default request merged beside a smaller limit would be refused. What is written is what the
 * API server stores: Metacontroller compares the Deployment it would apply with the stored one, and a value
 * it can never find there would send an update on every sync. So a container without requests has no empty
 * map, and each quantity is in the API server's spelling (`cpu: "0.5"` as `500m`, `memory: 1024Mi` as `1Gi`).
 */
function resourcesOr(user: McrouterSpec['resources'], defaultRequests: Readonly<Record<string, string>>): ResourceRequirements {
  const defaults = (): ResourceRequirements => ({ requests: { ...defaultRequests } });
  if (!user) return defaults();
  const { limits, requests } = user;
  const written: ResourceRequirements = {};
  if (limits && Object.keys(limits).length > 0) written.limits = storedQuantities(limits);
  if (requests && Object.keys(requests).length > 0) written.requests = storedQuantities(requests);
  return requests === undefined && written.limits === undefined ? defaults() : written;
}

const storedQuantities = (list: Record<string, string | number>): Record<string, string> => {
  const written: Record<string, string> = {};
  for (const [resource, quantity] of Object.entries(list)) written[resource] = storedResourceQuantity(quantity);
  return written;
};

/**
 * config.json, and beside it pools.json (`poolsText`: each pool's Service and port, current-lists.ts).
 * `lastChange`: the status's lastChange as the ConfigMap carries it (lastChangeAnnotation), if it does.
 */
function configMapChild(parent: MemcachedProxy, configText: string, poolsText: string, lastChange?: string): ConfigMap {
  const metadata: ConfigMap['metadata'] = { name: mcrouterName(parent), labels: childLabels(parent) };
  if (lastChange !== undefined) metadata.annotations = { [LAST_CHANGE_ANNOTATION]: lastChange };
  return { apiVersion: CONFIG_MAP.apiVersion, kind: CONFIG_MAP.kind, metadata, data: { [CONFIG_KEY]: configText, [POOLS_KEY]: poolsText } };
}

const FLAG_FIELDS = Object.keys(MCROUTER_FLAGS) as (keyof typeof MCROUTER_FLAGS)[];

function mcrouterArgs(spec: McrouterSpec): string[] {
  // --asynclog-disable: by default mcrouter answers a delete that failed on a server (timed out, refused,
  // marked down) with NOT_FOUND and writes it to a spool for Facebook's mcreplay to send later. Nothing
  // replays it here, so the delete would be lost while the client took it as done: with the flag the
  // client sees the error, and a replicated rule's AllSync reports it.
  const args = [MCROUTER_PORT_FLAG.short, String(mcrouterPortOf(spec)), `${MCROUTER_CONFIG_FLAG.long}=${CONFIG_PATH}`, '--asynclog-disable'];
  for (const field of FLAG_FIELDS) {
    const value = spec[field];
    if (value !== undefined) args.push(`${MCROUTER_FLAGS[field]}=${value}`);
  }
  return args.concat(spec.extraArgs ?? []);
}

/** Directories mcrouter writes to: the root filesystem is read-only. The spool stays empty with --asynclog-disable but is kept writable, as mcrouter's default async-dir. */
const WRITABLE_DIRS = [
  { name: 'var-mcrouter', mountPath: '/var/mcrouter' },
  { name: 'spool-mcrouter', mountPath: '/var/spool/mcrouter' },
];

/** The mcrouter image a proxy runs: its own, or the hook's default. */
export const mcrouterImageOf = (spec: McrouterSpec | undefined, images: Images): string => spec?.image ?? images.mcrouter;

/**
 * A hash of everything deploymentChild builds the Deployment from, which it writes on the Deployment.
 * Metacontroller applies the children only after the hook has answered, so the sync that follows a spec
 * change still observes the old Deployment, fully rolled out: the status compares this annotation to tell.
 * The inputs are hashed rather than the built Deployment, for a tenth of the cost (serializing the
 * Deployment takes 5 µs); what that misses is a new hook version that builds a different Deployment from
 * the same spec, in the one sync before Metacontroller applies it.
 */
export function deploymentSpecHash(parent: MemcachedProxy, images: Images, configHash: string): string {
  const spec = parent.spec.mcrouter;
  return shortDigest(JSON.stringify([parent.metadata.name, spec ?? null, images, rollsOnConfig(spec) ? configHash : null]));
}

/** reload: Rollout: the pod template carries the config's hash, so every new config is a new template. */
export const rollsOnConfig = (spec: McrouterSpec | undefined): boolean => (spec?.reload ?? DEFAULTS.reload) === 'Rollout';

/** The mcrouter pods' annotations: the spec's, and under `reload: Rollout` the config's hash, which rolls them on a new config. */
function podTemplateAnnotations(spec: McrouterSpec, configHash: string): Record<string, string> {
  const annotations = sorted(spec.podAnnotations);
  if (rollsOnConfig(spec)) annotations[CONFIG_HASH_ANNOTATION] = configHash;
  return annotations;
}

/** WRITABLE_DIRS, and the stats root when it is not in one of them. */
function writableDirs(spec: McrouterSpec): { name: string; mountPath: string }[] {
  const writable = [...WRITABLE_DIRS];
  // As a path: `/var//mcrouter/` is the directory /var/mcrouter, already mounted.
  const statsRoot = spec.statsRoot?.replace(/\/{2,}/g, '/').replace(/(?<=.)\/$/, '');
  if (statsRoot !== undefined && !writable.some((d) => statsRoot === d.mountPath || statsRoot.startsWith(`${d.mountPath}/`))) {
    writable.push({ name: 'stats-root', mountPath: statsRoot });
  }
  return writable;
}

/** The mcrouter container: the image's `mcrouter` on `port`, probed there, with `mounts`. */
function mcrouterContainer(spec: McrouterSpec, images: Images, port: number, mounts: VolumeMount[]): Container {
  // Optional fields are added by assignment, in the order they are written, rather than spread in
  // (`{a, ...(x ? {b} : {}), c}`): V8 builds an object with keys after a spread on a slow path, a few
  // hundred nanoseconds each, and every sync builds these objects.
  const mcrouter: Container = { name: 'mcrouter', image: mcrouterImageOf(spec, images) };
  if (spec.imagePullPolicy) mcrouter.imagePullPolicy = spec.imagePullPolicy;
  mcrouter.command = ['mcrouter'];
  mcrouter.args = mcrouterArgs(spec);
  mcrouter.ports = [{ name: MEMCACHE_PORT_NAME, containerPort: port, protocol: 'TCP' }];
  mcrouter.readinessProbe = { tcpSocket: { port: MEMCACHE_PORT_NAME }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 };
  mcrouter.livenessProbe = { tcpSocket: { port: MEMCACHE_PORT_NAME }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 };
  mcrouter.lifecycle = { preStop: { exec: { command: ['sleep', String(PRE_STOP_SLEEP_SECONDS)] } } };
  mcrouter.resources = resourcesOr(spec.resources, DEFAULTS.mcrouterRequests);
  mcrouter.securityContext = containerSecurityContext(spec.securityContext as SecurityContext | undefined);
  mcrouter.volumeMounts = mounts;
  return mcrouter;
}

/** The default affinity: the pods of `selector` preferably each on a node of its own. */
const spreadAcrossNodes = (selector: Record<string, string>): Affinity => ({
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
    ],
  },
});

function deploymentChild(parent: MemcachedProxy, images: Images, configHash: string, specHash: string): Deployment {
  const spec = parent.spec.mcrouter ?? {};
  const port = mcrouterPortOf(spec);
  const writable = writableDirs(spec);
  // The config volume is mounted as a directory, never with subPath: subPath mounts never update. kubelet
  // updates a ConfigMap volume by writing a new timestamped directory, swapping the `..data` link and
  // deleting the old directory; mcrouter watches the file behind config.json, and that deletion fires it.
  const mounts: VolumeMount[] = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    ...writable.map((d) => ({ name: d.name, mountPath: d.mountPath })),
  ];
  const volumes: Volume[] = [
    { name: 'config', configMap: { name: mcrouterName(parent) } },
    ...writable.map((d) => ({ name: d.name, emptyDir: {} })),
  ];

  const containers = [mcrouterContainer(spec, images, port, mounts)];
  const exporter = spec.exporter;
  if (exporter?.enabled) containers.push(exporterContainer(exporter, port, images.exporter, spec.imagePullPolicy));

  const annotations = podTemplateAnnotations(spec, configHash);
  const selector = selectorLabels(parent);
  const labels = childLabels(parent);
  const podSpec: PodSpec = {
    automountServiceAccountToken: false,
    securityContext: withDefaults(podSecurityDefaults(port, exporter), spec.podSecurityContext as PodSecurityContext | undefined),
    containers,
    volumes,
  };
  // The optional fields by assignment, not spread in (as in mcrouterContainer). Only the name: a key the CRD does
  // not have cannot reach the pod. A name given twice (the CRD refuses it) once.
  if (spec.imagePullSecrets && spec.imagePullSecrets.length > 0) {
    podSpec.imagePullSecrets = [...new Set(spec.imagePullSecrets.map((s) => s.name))].map((name) => ({ name }));
  }
  // `nodeSelector: {}` and `tolerations: []`, as templates write an empty value, are none: the API server drops both.
  if (spec.nodeSelector && Object.keys(spec.nodeSelector).length > 0) podSpec.nodeSelector = sorted(spec.nodeSelector);
  if (spec.tolerations && spec.tolerations.length > 0) podSpec.tolerations = spec.tolerations.map(storedToleration);
  // `affinity: {}` too (a template's empty value, or only nulls) keeps the default; `{podAntiAffinity: {}}` is none.
  const affinity = spec.affinity ? stored(spec.affinity) : undefined;
  podSpec.affinity = affinity && Object.keys(affinity).length > 0 ? affinity : spreadAcrossNodes(selector);
  return {
    apiVersion: DEPLOYMENT.apiVersion,
    kind: DEPLOYMENT.kind,
    metadata: { name: mcrouterName(parent), labels, annotations: { [SPEC_HASH_ANNOTATION]: specHash } },
    spec: {
      replicas: mcrouterReplicasOf(spec),
      selector: { matchLabels: selector },
      // Never below the desired count: a proxy pod going down drops every client connection on it.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: Object.keys(annotations).length > 0 ? { labels, annotations } : { labels },
        spec: podSpec,
      },
    },
  };
}

/**
 * The Prometheus exporter sidecar (github.com/Dev25/mcrouter_exporter): it sends mcrouter's `stats`
 * command over TCP on the pod's loopback and serves /metrics. Its image's ENTRYPOINT is the binary,
 * so `args` are its flags (Go flags: one or two dashes); its defaults (mcrouter on :5000) do not fit
 * mcrouter on `port`, hence both flags always.
 */
function exporterContainer(exporter: NonNullable<McrouterSpec['exporter']>, mcrouterPort: number, image: string, pullPolicy: McrouterSpec['imagePullPolicy']): Container {
  const port = exporterPortOf(exporter);
  const container: Container = { name: 'exporter', image: exporter.image ?? image };
  if (pullPolicy) container.imagePullPolicy = pullPolicy;
  container.args = [`--mcrouter.address=localhost:${mcrouterPort}`, `--web.listen-address=:${port}`];
  container.ports = [{ name: METRICS_PORT_NAME, containerPort: port, protocol: 'TCP' }];
  // No readiness probe: a pod is Ready only when all its containers are, and an exporter that runs but
  // fails its scrapes must not take mcrouter out of the Service. Prometheus sees it as `up == 0`. (One
  // that does not run at all makes the pod not Ready all the same: Kubernetes has no optional container.)
  container.resources = resourcesOr(exporter.resources, DEFAULTS.exporterRequests);
  container.securityContext = restrictedContainer();
  return container;
}

function serviceChild(parent: MemcachedProxy): Service {
  const spec = parent.spec.mcrouter ?? {};
  const ports: NonNullable<Service['spec']>['ports'] = [
    { name: MEMCACHE_PORT_NAME, port: mcrouterPortOf(spec), targetPort: MEMCACHE_PORT_NAME, protocol: 'TCP' },
  ];
  if (spec.exporter?.enabled) {
    ports.push({ name: METRICS_PORT_NAME, port: exporterPortOf(spec.exporter), targetPort: METRICS_PORT_NAME, protocol: 'TCP' });
  }
  return {
    apiVersion: SERVICE.apiVersion,
    kind: SERVICE.kind,
    metadata: { name: proxyServiceName(parent), labels: childLabels(parent) },
    spec: { type: 'ClusterIP', selector: selectorLabels(parent), ports },
  };
}

/** Only with more than one replica: over a single pod, `maxUnavailable: 1` lets it go anyway, and protects nothing. */
export const wantsPodDisruptionBudget = (replicas: number): boolean => replicas > 1;

function podDisruptionBudgetChild(parent: MemcachedProxy): PodDisruptionBudget | undefined {
  if (!wantsPodDisruptionBudget(mcrouterReplicasOf(parent.spec.mcrouter))) return undefined;
  return {
    apiVersion: POD_DISRUPTION_BUDGET.apiVersion,
    kind: POD_DISRUPTION_BUDGET.kind,
    metadata: { name: mcrouterName(parent), labels: childLabels(parent) },
    // A running pod that is not Ready (a crash loop, failing probes) serves nobody: evicting it costs nothing.
    // Unset, the budget would let such pods be evicted only while enough others are healthy: two of them
    // block every node drain for as long as they stay so. (Pending pods are evicted regardless.)
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(parent) }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}

/** What the children are built from beside the proxy: the config this sync writes and what is derived from it. */
export interface ChildInputs {
  images: Images;
  /** config.json. */
  configText: string;
  /** pools.json: each pool's Service and port (current-lists.ts). */
  poolsText: string;
  /** The hash of config.json (status.configHash). */
  configHash: string;
  /** deploymentSpecHash's, written on the Deployment. */
  specHash: string;
  /** The status's lastChange as the ConfigMap's annotation carries it, if it does. */
  lastChange: string | undefined;
}

export function childrenOf(parent: MemcachedProxy, { images, configText, poolsText, configHash, specHash, lastChange }: ChildInputs): Child[] {
  const children: Child[] = [configMapChild(parent, configText, poolsText, lastChange), deploymentChild(parent, images, configHash, specHash), serviceChild(parent)];
  const pdb = podDisruptionBudgetChild(parent);
  if (pdb) children.push(pdb);
  return children;
}

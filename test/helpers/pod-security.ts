/**
 * A checker of the Pod Security Standards' **restricted** profile (which
 * includes the baseline one), as the PodSecurity admission controller applies
 * it at level `latest`:
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/
 *
 * `restrictedViolations(podSpec)` lists what a pod spec breaks (empty: it
 * passes); `podTemplatesOf(object)` finds the pod specs in a workload object.
 * Linux pods only: the Windows exemptions are not modelled.
 */
import type { Container, PodSpec, SecurityContext, PodSecurityContext, SeccompProfile } from 'kubernetes-types/core/v1.js';

/** Volume types the restricted profile allows. */
export const RESTRICTED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const;

/** Capabilities the baseline profile lets a container add. */
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
] as const;

/** The only capability the restricted profile lets a container add. */
export const RESTRICTED_CAPABILITIES = ['NET_BIND_SERVICE'] as const;

/** Sysctls the baseline profile allows. */
export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
] as const;

const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const SECCOMP_RESTRICTED = ['RuntimeDefault', 'Localhost'];
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

type AnyContainer = Container & { securityContext?: SecurityContext };

interface Named {
  where: string;
  container: AnyContainer;
}

function containersOf(spec: PodSpec): Named[] {
  return [
    ...(spec.initContainers ?? []).map((c) => ({ where: `initContainers[${c.name}]`, container: c })),
    ...(spec.containers ?? []).map((c) => ({ where: `containers[${c.name}]`, container: c })),
    ...(spec.ephemeralContainers ?? []).map((c) => ({ where: `ephemeralContainers[${c.name}]`, container: c as AnyContainer })),
  ];
}

function seLinuxViolations(where: string, options: SecurityContext['seLinuxOptions'] | undefined): string[] {
  if (!options) return [];
  const out: string[] = [];
  if (options.type !== undefined && !SELINUX_TYPES.includes(options.type)) out.push(`${where}: seLinuxOptions.type ${options.type} is not allowed`);
  if (options.user) out.push(`${where}: seLinuxOptions.user must not be set`);
  if (options.role) out.push(`${where}: seLinuxOptions.role must not be set`);
  return out;
}

const appArmorOk = (profile: { type?: string } | undefined): boolean =>
  profile === undefined || profile.type === 'RuntimeDefault' || profile.type === 'Localhost';

/**
 * Everything the pod breaks in the restricted profile (baseline checks included).
 * `annotations` are the pod's (template's) annotations: the legacy AppArmor ones are checked.
 */
export function restrictedViolations(spec: PodSpec, annotations: Record<string, string> = {}): string[] {
  const out: string[] = [];
  const pod: PodSecurityContext = spec.securityContext ?? {};
  const containers = containersOf(spec);
  if (containers.length === 0) out.push('pod: has no containers');

  // Baseline: host namespaces, HostProcess, host ports, hostPath, privileged, capabilities, /proc, sysctls, AppArmor, SELinux, seccomp.
  if (spec.hostNetwork) out.push('pod: hostNetwork must not be true');
  if (spec.hostPID) out.push('pod: hostPID must not be true');
  if (spec.hostIPC) out.push('pod: hostIPC must not be true');
  if (pod.windowsOptions?.hostProcess) out.push('pod: windowsOptions.hostProcess must not be true');
  for (const sysctl of pod.sysctls ?? []) {
    if (!(SAFE_SYSCTLS as readonly string[]).includes(sysctl.name)) out.push(`pod: sysctl ${sysctl.name} is not allowed`);
  }
  out.push(...seLinuxViolations('pod', pod.seLinuxOptions));
  if (!appArmorOk(pod.appArmorProfile)) out.push(`pod: appArmorProfile ${pod.appArmorProfile?.type} is not allowed`);
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      out.push(`pod: annotation ${key}=${value} is not allowed`);
    }
  }

  // Restricted: volume types.
  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter((k) => k !== 'name');
    for (const type of types) {
      if (!(RESTRICTED_VOLUME_TYPES as readonly string[]).includes(type)) out.push(`volume ${volume.name}: type ${type} is not allowed`);
    }
  }

  // Restricted: seccomp, runAsNonRoot, runAsUser at the pod level (containers may set them instead).
  const podSeccomp = pod.seccompProfile?.type;
  if (podSeccomp !== undefined && !SECCOMP_RESTRICTED.includes(podSeccomp)) out.push(`pod: seccompProfile.type ${podSeccomp} is not allowed`);
  if (pod.runAsUser === 0) out.push('pod: runAsUser must not be 0');

  for (const { where, container } of containers) {
    const sc: SecurityContext = container.securityContext ?? {};
    if (sc.privileged) out.push(`${where}: privileged must not be true`);
    if (sc.windowsOptions?.hostProcess) out.push(`${where}: windowsOptions.hostProcess must not be true`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${where}: procMount must be Default`);
    for (const port of container.ports ?? []) {
      if (port.hostPort !== undefined && port.hostPort !== 0) out.push(`${where}: hostPort ${port.hostPort} is not allowed`);
    }
    out.push(...seLinuxViolations(where, sc.seLinuxOptions));
    if (!appArmorOk(sc.appArmorProfile)) out.push(`${where}: appArmorProfile ${sc.appArmorProfile?.type} is not allowed`);

    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation must be false`);

    const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (sc.runAsNonRoot === false) out.push(`${where}: runAsNonRoot must not be false`);
    else if (runAsNonRoot !== true) out.push(`${where}: runAsNonRoot must be true (in the pod or the container securityContext)`);
    if (sc.runAsUser === 0) out.push(`${where}: runAsUser must not be 0`);

    const seccomp: SeccompProfile | undefined = sc.seccompProfile ?? pod.seccompProfile;
    if (sc.seccompProfile?.type !== undefined && !SECCOMP_RESTRICTED.includes(sc.seccompProfile.type)) {
      out.push(`${where}: seccompProfile.type ${sc.seccompProfile.type} is not allowed`);
    } else if (seccomp?.type === undefined) {
      out.push(`${where}: seccompProfile.type must be RuntimeDefault or Localhost (in the pod or the container securityContext)`);
    }

    const caps = sc.capabilities ?? {};
    if (!(caps.drop ?? []).includes('ALL')) out.push(`${where}: capabilities.drop must include ALL`);
    for (const cap of caps.add ?? []) {
      if (!(RESTRICTED_CAPABILITIES as readonly string[]).includes(cap)) out.push(`${where}: capability ${cap} must not be added`);
    }
  }
  return out;
}

export interface PodTemplate {
  /** Where in the object: `Deployment/name`, ... */
  where: string;
  spec: PodSpec;
  annotations: Record<string, string>;
}

type Obj = { kind?: string; metadata?: { name?: string; annotations?: Record<string, string> }; spec?: unknown; template?: unknown };

/** The pod specs an object runs: a Pod's own, a workload's template, a CronJob's job template's. */
export function podTemplatesOf(object: Obj): PodTemplate[] {
  const where = `${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const fromTemplate = (template: unknown): PodTemplate[] => {
    const t = template as { metadata?: { annotations?: Record<string, string> }; spec?: PodSpec } | undefined;
    return t?.spec ? [{ where, spec: t.spec, annotations: t.metadata?.annotations ?? {} }] : [];
  };
  switch (object.kind) {
    case 'Pod':
      return object.spec ? [{ where, spec: object.spec as PodSpec, annotations: object.metadata?.annotations ?? {} }] : [];
    case 'PodTemplate':
      return fromTemplate(object.template);
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return fromTemplate(spec.template);
    case 'CronJob':
      return fromTemplate((spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template);
    default:
      return [];
  }
}

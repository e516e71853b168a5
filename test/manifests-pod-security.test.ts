/** The restricted Pod Security Standard checker finds what it must. */
import t from 'tap';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { podTemplatesOf, restrictedViolations } from './helpers/pod-security.js';

const good = (): PodSpec => ({
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'c',
      image: 'i',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
    },
  ],
  volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', configMap: { name: 'x' } }],
});

t.test('a restricted pod passes', async (t) => {
  t.same(restrictedViolations(good()), []);
  const containerLevel = good();
  containerLevel.securityContext = {};
  containerLevel.containers[0]!.securityContext = {
    ...containerLevel.containers[0]!.securityContext,
    runAsNonRoot: true,
    seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
  };
  t.same(restrictedViolations(containerLevel), [], 'with the settings on the container instead');
  t.same(restrictedViolations(good(), { 'container.apparmor.security.beta.kubernetes.io/c': 'runtime/default' }), []);
});

t.test('each restricted and baseline rule is checked', async (t) => {
  const cases: [string, (p: PodSpec) => void, RegExp, Record<string, string>?][] = [
    ['no containers', (p) => (p.containers = []), /no containers/],
    ['hostNetwork', (p) => (p.hostNetwork = true), /hostNetwork/],
    ['hostPID', (p) => (p.hostPID = true), /hostPID/],
    ['hostIPC', (p) => (p.hostIPC = true), /hostIPC/],
    ['pod hostProcess', (p) => (p.securityContext!.windowsOptions = { hostProcess: true }), /hostProcess/],
    ['unsafe sysctl', (p) => (p.securityContext!.sysctls = [{ name: 'kernel.msgmax', value: '1' }]), /sysctl kernel.msgmax/],
    ['pod SELinux type', (p) => (p.securityContext!.seLinuxOptions = { type: 'spc_t' }), /seLinuxOptions.type/],
    ['pod SELinux user', (p) => (p.securityContext!.seLinuxOptions = { user: 'root' }), /seLinuxOptions.user/],
    ['pod SELinux role', (p) => (p.securityContext!.seLinuxOptions = { role: 'r' }), /seLinuxOptions.role/],
    ['pod AppArmor', (p) => (p.securityContext!.appArmorProfile = { type: 'Unconfined' }), /appArmorProfile/],
    ['AppArmor annotation', () => undefined, /annotation/, { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' }],
    ['hostPath volume', (p) => p.volumes!.push({ name: 'h', hostPath: { path: '/' } }), /type hostPath/],
    ['nfs volume', (p) => p.volumes!.push({ name: 'n', nfs: { server: 's', path: '/' } }), /type nfs/],
    ['pod seccomp Unconfined', (p) => (p.securityContext!.seccompProfile = { type: 'Unconfined' }), /seccompProfile.type Unconfined/],
    ['no seccomp', (p) => delete p.securityContext!.seccompProfile, /seccompProfile.type must be/],
    ['container seccomp Unconfined', (p) => (p.containers[0]!.securityContext!.seccompProfile = { type: 'Unconfined' }), /seccompProfile.type Unconfined/],
    ['pod root user', (p) => (p.securityContext!.runAsUser = 0), /pod: runAsUser must not be 0/],
    ['container root user', (p) => (p.containers[0]!.securityContext!.runAsUser = 0), /runAsUser must not be 0/],
    ['no runAsNonRoot', (p) => delete p.securityContext!.runAsNonRoot, /runAsNonRoot must be true/],
    ['runAsNonRoot false', (p) => (p.containers[0]!.securityContext!.runAsNonRoot = false), /runAsNonRoot must not be false/],
    ['privileged', (p) => (p.containers[0]!.securityContext!.privileged = true), /privileged/],
    ['container hostProcess', (p) => (p.containers[0]!.securityContext!.windowsOptions = { hostProcess: true }), /hostProcess/],
    ['procMount', (p) => (p.containers[0]!.securityContext!.procMount = 'Unmasked'), /procMount/],
    ['hostPort', (p) => (p.containers[0]!.ports = [{ containerPort: 80, hostPort: 80 }]), /hostPort/],
    ['container SELinux', (p) => (p.containers[0]!.securityContext!.seLinuxOptions = { type: 'spc_t' }), /seLinuxOptions.type/],
    ['container AppArmor', (p) => (p.containers[0]!.securityContext!.appArmorProfile = { type: 'Unconfined' }), /appArmorProfile/],
    ['privilege escalation', (p) => delete p.containers[0]!.securityContext!.allowPrivilegeEscalation, /allowPrivilegeEscalation/],
    ['capabilities not dropped', (p) => (p.containers[0]!.securityContext!.capabilities = {}), /drop must include ALL/],
    ['a capability added', (p) => (p.containers[0]!.securityContext!.capabilities!.add = ['SYS_ADMIN']), /SYS_ADMIN/],
    ['an init container', (p) => (p.initContainers = [{ name: 'init', image: 'i' }]), /initContainers\[init\]/],
    ['an ephemeral container', (p) => (p.ephemeralContainers = [{ name: 'debug', image: 'i' }]), /ephemeralContainers\[debug\]/],
  ];
  for (const [name, mutate, expected, annotations] of cases) {
    const pod = good();
    mutate(pod);
    t.match(restrictedViolations(pod, annotations).join('\n'), expected, name);
  }
  t.match(restrictedViolations({ containers: [{ name: 'bare', image: 'i' }] }).length, 4, 'a bare pod breaks four rules');
});

t.test('pod templates are found in every workload kind', async (t) => {
  const spec = good();
  const template = { metadata: { annotations: { a: 'b' } }, spec };
  const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job'];
  for (const kind of kinds) t.same(podTemplatesOf({ kind, metadata: { name: 'x' }, spec: { template } }), [{ where: `${kind}/x`, spec, annotations: { a: 'b' } }], kind);
  t.same(podTemplatesOf({ kind: 'CronJob', metadata: { name: 'x' }, spec: { jobTemplate: { spec: { template } } } })[0]?.spec, spec, 'CronJob');
  t.same(podTemplatesOf({ kind: 'Pod', metadata: { name: 'x', annotations: { c: 'd' } }, spec }), [{ where: 'Pod/x', spec, annotations: { c: 'd' } }], 'Pod');
  t.same(podTemplatesOf({ kind: 'PodTemplate', metadata: { name: 'x' }, template: { spec } })[0]?.spec, spec, 'PodTemplate');
  t.same(podTemplatesOf({ kind: 'Pod', metadata: {} }), [], 'a Pod without spec');
  t.same(podTemplatesOf({ kind: 'Deployment', spec: {} }), [], 'a Deployment without template');
  t.same(podTemplatesOf({ kind: 'Service', metadata: { name: 'x' }, spec: {} }), [], 'no pods in a Service');
  t.same(podTemplatesOf({})[0], undefined);
});

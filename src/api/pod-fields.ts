/**
 * The pod fields a proxy's spec embeds whole (`affinity`, the two security contexts), typed as Kubernetes
 * types them (core/v1 of 1.30: test/pod-fields.test.ts holds them to kubernetes-types and to the official
 * OpenAPI schemas), so that `kubectl apply` refuses `runAsUser: "root"` instead of the Deployment
 * failing later. Types and required fields only: the values (an operator, a profile type) stay the API
 * server's to judge when it takes the Deployment, since newer Kubernetes versions add them. The chart's
 * values.schema.json types the hook's own pod with them too (scripts/chart-values-schema.ts).
 *
 * Every object keeps fields it does not know (a newer Kubernetes' `seLinuxChangePolicy`) rather than pruning
 * them, and every field it does not require takes `null`, kept in the CRD too (`nullable`): Kubernetes reads
 * a null as the field unset, and in a security context the hook merges the user's fields over its restricted
 * defaults, so `runAsUser: null` is how a user removes one (OpenShift's restricted-v2 assigns the user).
 */
import { Type, type TSchema } from 'typebox';
import { MapOf } from './map.js';

/** The JSON Schema keywords these types are made of, for code that walks them. */
export interface Shape {
  type?: string;
  anyOf?: Shape[];
  properties?: Record<string, Shape>;
  required?: string[];
  patternProperties?: Record<string, Shape>;
  items?: Shape;
}

/** A schema made with or without `nullable` (a field's value is; a list's item is not, as in Kubernetes' schemas). */
type Make<T extends TSchema = TSchema> = (options?: { nullable?: true; description?: string }) => T;
const KEPT_NULL = { nullable: true } as const;
/** An object that keeps the fields its schema does not name, in the CRD too (rather than pruning them). */
export const OPEN = { additionalProperties: true, 'x-kubernetes-preserve-unknown-fields': true } as const;

/** A field that may be absent or null, with what `kubectl explain` says of it. */
const optional = <T extends TSchema>(make: Make<T>, description: string) => Type.Optional(Type.Union([make({ ...KEPT_NULL, description }), Type.Null()]));
/** A field Kubernetes requires: a null is none (Go decodes it as the zero value, which its validation refuses). */
const required = <T extends TSchema>(make: Make<T>, description: string) => make({ description });

const string: Make = (options) => Type.String(options);
const integer: Make = (options) => Type.Integer(options);
const boolean: Make = (options) => Type.Boolean(options);
const list =
  <T extends TSchema>(item: Make<T>): Make =>
  (options) =>
    Type.Array(item(), options);
const struct =
  <P extends Record<string, TSchema>>(properties: P): Make =>
  (options) =>
    Type.Object(properties, { ...options, ...OPEN });

const SELinuxOptions = struct({
  level: optional(string, 'The SELinux level label.'),
  role: optional(string, 'The SELinux role label.'),
  type: optional(string, 'The SELinux type label.'),
  user: optional(string, 'The SELinux user label.'),
});
const profile = (what: string) =>
  struct({
    localhostProfile: optional(string, `A profile on the node, when type is Localhost.`),
    type: required(string, `The kind of ${what} profile: Localhost, RuntimeDefault or Unconfined.`),
  });
const WindowsOptions = struct({
  gmsaCredentialSpec: optional(string, 'The GMSA credential spec, inlined.'),
  gmsaCredentialSpecName: optional(string, 'The name of the GMSA credential spec to use.'),
  hostProcess: optional(boolean, 'Runs as a Windows HostProcess container.'),
  runAsUserName: optional(string, 'The Windows user name to run the entrypoint as.'),
});
// `value` and a preferred term's `preference` are required in Kubernetes' OpenAPI schema, but its validation takes
// them absent (an empty value; an empty term, which matches every node), and so do the CRD and the hook.
const Sysctl = struct({ name: required(string, 'The sysctl to set.'), value: optional(string, 'Its value.') });

export const SecurityContext = struct({
  allowPrivilegeEscalation: optional(boolean, 'Whether a process can gain more privileges than its parent.'),
  appArmorProfile: optional(profile('AppArmor'), 'The AppArmor profile of the container.'),
  capabilities: optional(
    struct({ add: optional(list(string), 'Capabilities added.'), drop: optional(list(string), 'Capabilities dropped.') }),
    'Capabilities added and dropped, merged key by key over the default (drop: [ALL]).',
  ),
  privileged: optional(boolean, 'Runs the container privileged.'),
  procMount: optional(string, 'The proc mount type: Default or Unmasked.'),
  readOnlyRootFilesystem: optional(boolean, 'Mounts the container\'s root filesystem read-only.'),
  runAsGroup: optional(integer, 'The GID to run the entrypoint as; null removes the default.'),
  runAsNonRoot: optional(boolean, 'Refuses to start a container that would run as root.'),
  runAsUser: optional(integer, 'The UID to run the entrypoint as; null removes the default.'),
  seLinuxOptions: optional(SELinuxOptions, 'The SELinux context of the container.'),
  seccompProfile: optional(profile('seccomp'), 'The seccomp profile of the container.'),
  windowsOptions: optional(WindowsOptions, 'Windows-specific settings.'),
})();

export const PodSecurityContext = struct({
  appArmorProfile: optional(profile('AppArmor'), 'The AppArmor profile of the pod\'s containers.'),
  fsGroup: optional(integer, 'A group that owns the pod\'s volumes; null removes the default.'),
  fsGroupChangePolicy: optional(string, 'When volumes change owner to fsGroup: OnRootMismatch or Always.'),
  runAsGroup: optional(integer, 'The GID to run the containers\' entrypoints as; null removes the default.'),
  runAsNonRoot: optional(boolean, 'Refuses to start a container that would run as root.'),
  runAsUser: optional(integer, 'The UID to run the containers\' entrypoints as; null removes the default.'),
  seLinuxOptions: optional(SELinuxOptions, 'The SELinux context of the pod\'s containers.'),
  seccompProfile: optional(profile('seccomp'), 'The seccomp profile of the pod\'s containers.'),
  supplementalGroups: optional(list(integer), 'Groups added to each container\'s first process.'),
  sysctls: optional(list(Sysctl), 'Namespaced sysctls set for the pod.'),
  windowsOptions: optional(WindowsOptions, 'Windows-specific settings.'),
})();

const requirements = (of: string) =>
  list(
    struct({
      key: required(string, `The ${of} key.`),
      operator: required(string, 'How the key relates to the values: In, NotIn, Exists, DoesNotExist (and Gt, Lt for nodes).'),
      values: optional(list(string), 'The values.'),
    }),
  );
const LabelSelector = struct({
  matchExpressions: optional(requirements('label'), 'Requirements on labels, all of which must hold.'),
  matchLabels: optional((options) => MapOf(Type.String(), options), 'Labels that must be set to these values.'),
});
const NodeSelectorTerm = struct({
  matchExpressions: optional(requirements('label'), 'Requirements on node labels.'),
  matchFields: optional(requirements('field'), 'Requirements on node fields.'),
});
const PodAffinityTerm = struct({
  labelSelector: optional(LabelSelector, 'The pods this term is about.'),
  matchLabelKeys: optional(list(string), 'Label keys whose values, taken from the incoming pod, narrow labelSelector.'),
  mismatchLabelKeys: optional(list(string), 'Label keys whose values, taken from the incoming pod, exclude pods from labelSelector.'),
  namespaceSelector: optional(LabelSelector, 'The namespaces whose pods count.'),
  namespaces: optional(list(string), 'Namespaces whose pods count; none: the pod\'s own.'),
  topologyKey: required(string, 'The node label that says which nodes are together (kubernetes.io/hostname: each node alone).'),
});
const weight = required(integer, 'Its weight, 1 to 100.');
const podAffinityRules = (what: string) =>
  struct({
    preferredDuringSchedulingIgnoredDuringExecution: optional(
      list(struct({ podAffinityTerm: required(PodAffinityTerm, 'The term.'), weight })),
      `Terms the scheduler prefers to ${what}, by weight.`,
    ),
    requiredDuringSchedulingIgnoredDuringExecution: optional(list(PodAffinityTerm), `Terms a pod must ${what} to be scheduled.`),
  });

export const Affinity = struct({
  nodeAffinity: optional(
    struct({
      preferredDuringSchedulingIgnoredDuringExecution: optional(
        list(struct({ preference: optional(NodeSelectorTerm, 'The node selector term; none matches every node.'), weight })),
        'Node selector terms the scheduler prefers, by weight.',
      ),
      requiredDuringSchedulingIgnoredDuringExecution: optional(
        struct({ nodeSelectorTerms: required(list(NodeSelectorTerm), 'Terms of which a node must match one.') }),
        'What a node must be for the pods to be scheduled there.',
      ),
    }),
    'Which nodes the pods are scheduled on.',
  ),
  podAffinity: optional(podAffinityRules('be near'), 'Pods the mcrouter pods are scheduled near.'),
  podAntiAffinity: optional(podAffinityRules('be apart from'), 'Pods the mcrouter pods are scheduled apart from.'),
})();

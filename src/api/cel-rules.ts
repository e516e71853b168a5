/**
 * The CRD's CEL rules (CEL_RULES) and the limits and path patterns they read: how long a proxy's name may be,
 * how deep rules nest, where statsRoot may not point.
 */
import { DEFAULTS } from './defaults.js';
import { DNS1035_LABEL, DNS_LABEL_MAX_LENGTH } from './formats.js';

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

/**
 * A MemcachedProxy's defaults, apart from its spec's schema (memcached-proxy.ts) so that the CEL rules
 * (cel-rules.ts), which that schema imports, can read them too.
 */
import type { McrouterSpec } from './memcached-proxy.js';

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

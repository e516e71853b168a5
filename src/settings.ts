/** The hook's settings: defaults, and how the environment overrides them. */
export const DEFAULT_SETTINGS = {
  port: 8080,
  host: '0.0.0.0',
  logLevel: 'info',
  clusterDomain: 'cluster.local',
  /** What the stable and evryfs mcrouter charts run; 0.36 has no Rendezvous (needs >= 0.37). */
  mcrouterImage: 'jphalip/mcrouter:0.36.0',
  /**
   * github.com/Dev25/mcrouter_exporter, the one maintained mcrouter exporter: release 0.5.0 (2025-02),
   * multi-arch, distroless, published to ghcr.io since 0.4.0 (docs/operations.md has the evidence).
   */
  exporterImage: 'ghcr.io/dev25/mcrouter_exporter:0.5.0',
  /** Room for a 5,000-pod pool: its Endpoints, EndpointSlices and the current config in one request. */
  bodyLimit: 16 * 1024 * 1024,
  /**
   * Deepest nesting of arrays and objects a request body may have (400 beyond). The Kubernetes objects
   * a hook call carries nest about 20 deep (managedFields included); a few thousand levels overflow the
   * stack of the recursive steps after parsing.
   */
  jsonDepthLimit: 100,
  /** How long /readyz fails before the server stops accepting: Kubernetes needs a moment to drop the pod from the endpoints. */
  shutdownDelayMs: 3000,
  /**
   * How long in-flight requests get once the server stops accepting, before their connections are cut:
   * Metacontroller gives up on a hook call after 10 s anyway. Delay + timeout stays well inside the
   * default terminationGracePeriodSeconds (30).
   */
  shutdownTimeoutMs: 10000,
};

export type Settings = typeof DEFAULT_SETTINGS;

export class SettingsError extends Error {}

const positiveInt = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new SettingsError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
};

/** Reads PORT, HOST, LOG_LEVEL, CLUSTER_DOMAIN, MCROUTER_IMAGE, EXPORTER_IMAGE, BODY_LIMIT, JSON_DEPTH_LIMIT, SHUTDOWN_DELAY_MS, SHUTDOWN_TIMEOUT_MS. */
export function settingsFromEnv(env: Record<string, string | undefined>): Settings {
  const s = { ...DEFAULT_SETTINGS };
  const set = (name: string, apply: (raw: string) => void) => {
    const raw = env[name];
    if (raw !== undefined && raw !== '') apply(raw);
  };
  set('PORT', (v) => (s.port = positiveInt('PORT', v)));
  set('HOST', (v) => (s.host = v));
  set('LOG_LEVEL', (v) => (s.logLevel = v));
  set('CLUSTER_DOMAIN', (v) => (s.clusterDomain = v));
  set('MCROUTER_IMAGE', (v) => (s.mcrouterImage = v));
  set('EXPORTER_IMAGE', (v) => (s.exporterImage = v));
  set('BODY_LIMIT', (v) => (s.bodyLimit = positiveInt('BODY_LIMIT', v)));
  set('JSON_DEPTH_LIMIT', (v) => (s.jsonDepthLimit = positiveInt('JSON_DEPTH_LIMIT', v)));
  set('SHUTDOWN_DELAY_MS', (v) => (s.shutdownDelayMs = positiveInt('SHUTDOWN_DELAY_MS', v)));
  set('SHUTDOWN_TIMEOUT_MS', (v) => (s.shutdownTimeoutMs = positiveInt('SHUTDOWN_TIMEOUT_MS', v)));
  return s;
}

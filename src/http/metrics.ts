/** Prometheus metrics of the hook, on a registry per server (no global state). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BUSY_STATUS_CODE } from './body-budget.js';
import { CLIENT_ERRORS, type ClientError } from './client-errors.js';

const HOOKS = ['sync', 'customize'] as const;
/**
 * What became of a hook request: applied, refused as an invalid spec, not a hook request at all, refused unread
 * for want of room in IN_FLIGHT_BODY_LIMIT (429), or our fault.
 */
const OUTCOMES = ['ok', 'invalid', 'bad_request', 'busy', 'error'] as const;
export type Hook = (typeof HOOKS)[number];
export type Outcome = (typeof OUTCOMES)[number];
const BODY_BUDGET_ACTIONS = ['refused', 'cut'] as const;
export type BodyBudgetAction = (typeof BODY_BUDGET_ACTIONS)[number];

/**
 * Metacontroller applies only a 200; a 422 is a spec the CRD would refuse; a 429 is the body budget's "ask again
 * later" (the hook answers no other); any other 4xx is a malformed request.
 */
export function outcomeOf(statusCode: number): Outcome {
  if (statusCode === 200) return 'ok';
  if (statusCode === 422) return 'invalid';
  if (statusCode === BUSY_STATUS_CODE) return 'busy';
  if (statusCode >= 400 && statusCode < 500) return 'bad_request';
  return 'error';
}

/**
 * A proxy's server gauges go once it has gone this long without a sync. Metacontroller syncs every proxy every
 * 5 minutes with the shipped CompositeController (`resyncPeriodSeconds`), and at its relist, every 30 minutes by
 * default (`--cache-flush-interval`), without it: what goes is a deleted proxy,
 * or one that other hook replicas have been syncing. Without a finalize hook nothing says a proxy is gone.
 */
export const PROXY_SERIES_TTL_MS = 2 * 60 * 60 * 1000;
/**
 * At most this many proxies have gauges: whatever reaches the hook's Service can post a sync for any name.
 * Past it, the one synced least recently gives way: a real proxy comes back at its next sync (Metacontroller
 * syncs each at least every 30 minutes, every 5 with the shipped CompositeController), while names posted once do not.
 */
export const MAX_PROXY_SERIES = 10_000;

export interface MetricsOptions {
  processMetrics: boolean;
  /** Milliseconds since the epoch: the server's clock. */
  now: () => number;
  proxySeriesTtlMs?: number | undefined;
  maxProxySeries?: number | undefined;
}

export interface HookMetrics {
  registry: Registry;
  observe(hook: Hook, outcome: Outcome, seconds: number): void;
  clientError(reason: ClientError): void;
  /** A request for a path that is no hook (or a hook's path with another method): a CompositeController's `path` with a typo shows here. */
  notFound(): void;
  /** A request the body budget turned away: refused unread (429), or cut as its bytes passed IN_FLIGHT_BODY_LIMIT. */
  bodyBudget(action: BodyBudgetAction): void;
  /** A sync that set aside fields of the proxy's stored status it could not read (http/stored-status.ts). */
  statusSetAside(): void;
  /** A proxy synced: what its gauges show. */
  proxySynced(namespace: string, name: string, seen: ProxySeen): void;
  /**
   * A proxy synced while it is being deleted (Metacontroller calls the sync hook for a parent with a
   * `deletionTimestamp` until its children are gone, as under foreground deletion or another finalizer), or
   * finalized (a finalize hook pointed at /sync): its
   * gauges go but for its sync time, or a `proxy_ready` of 0 would outlive it by the TTL and fire the not-Ready
   * alert. The sync time stays for the TTL, as this replica's, the newest view: another replica's older
   * `proxy_ready` is then no longer the newest one.
   */
  proxyGone(namespace: string, name: string): void;
}

/** A proxy as one sync saw it. */
export interface ProxySeen {
  /** Servers in its config, and those of them with a ready endpoint. */
  servers: number;
  readyServers: number;
  /** Its Ready condition is True. */
  ready: boolean;
  /** The mcrouter pods its spec asks for: 0 for a proxy parked on purpose (Ready False, ScaledToZero). */
  replicas: number;
}

export function createMetrics({ processMetrics, now, proxySeriesTtlMs = PROXY_SERIES_TTL_MS, maxProxySeries = MAX_PROXY_SERIES }: MetricsOptions): HookMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'memcached_operator_hook_requests_total',
    help: 'Hook requests by hook and outcome (ok, invalid: 422, bad_request: other 4xx, busy: 429 for want of room in IN_FLIGHT_BODY_LIMIT, error: 5xx).',
    labelNames: ['hook', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'memcached_operator_hook_duration_seconds',
    help: 'Time to answer a hook request, by hook and outcome.',
    labelNames: ['hook', 'outcome'] as const,
    // Up to Metacontroller's 10 s hook timeout: a sync of a 5,000-server pool takes tens of milliseconds.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const clientErrors = new Counter({
    name: 'memcached_operator_client_errors_total',
    help: 'Connections closed before any hook saw a request, by reason (timeout: 408, a request not sent within REQUEST_TIMEOUT_MS; header_overflow: 431; malformed: 400, or 413 for chunk extensions too large).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of CLIENT_ERRORS) clientErrors.inc({ reason }, 0);
  // No path label: anyone can send any path, and each would be a series.
  const notFound = new Counter({
    name: 'memcached_operator_not_found_total',
    help: 'Requests for a path that is none of the hook\'s, a hook\'s path with another method than POST, or a CONNECT (404), such as a CompositeController hook path with a typo.',
    registers: [registry],
  });
  notFound.inc(0);
  const bodyBudget = new Counter({
    name: 'memcached_operator_body_budget_total',
    help: 'Requests IN_FLIGHT_BODY_LIMIT turned away, by action (refused: 429 before the body was read, its announced length not fitting; cut: 429 while the body arrived, its bytes passing the limit, and the connection closed).',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  for (const action of BODY_BUDGET_ACTIONS) bodyBudget.inc({ action }, 0);
  // Such a sync is answered (ok): without this count, a status the hook keeps setting aside shows only in the logs.
  const statusSetAside = new Counter({
    name: 'memcached_operator_status_set_aside_total',
    help: "Syncs that set aside fields of the proxy's stored status the hook could not read (a time the API server takes and the hook's check does not, a status edited by hand or written by another version of the hook) and went on without them; the warn line names the fields.",
    registers: [registry],
  });
  statusSetAside.inc(0);
  // Expired on each scrape, not on each sync: the hot path only stamps the time.
  const proxyGauge = (name: string, help: string): Gauge<'namespace' | 'name'> =>
    new Gauge({ name, help, labelNames: ['namespace', 'name'] as const, registers: [registry], collect: expire });
  // Two gauges rather than one with a state label: the ready servers are some of all, and a sum over a
  // label should mean something (Prometheus' instrumentation guidelines), as in kube-state-metrics.
  const servers = proxyGauge('memcached_operator_proxy_servers', 'Servers in the mcrouter config of each proxy at its last sync (holes excluded).');
  const readyServers = proxyGauge('memcached_operator_proxy_ready_servers', 'Servers in the mcrouter config of each proxy at its last sync that have a ready endpoint.');
  // What to alert on: a proxy not Ready for long, whatever the reason (the status and the log line say which).
  const proxyReady = proxyGauge('memcached_operator_proxy_ready', "1 when each proxy's Ready condition was True at its last sync, else 0.");
  // Beside proxy_ready, so that an alert on proxies not Ready can leave out those parked on purpose.
  const specReplicas = proxyGauge('memcached_operator_proxy_spec_replicas', "spec.mcrouter.replicas of each proxy at its last sync: the mcrouter pods it asks for (0: parked on purpose, Ready False with ScaledToZero).");
  // Each hook replica reports the proxies it synced, and the one that synced a proxy last saw it as it is:
  // after a scale-down, a replica that did not sync it still reports the old count until its next sync.
  const lastSync: Gauge<'namespace' | 'name'> = new Gauge({
    name: 'memcached_operator_proxy_last_sync_timestamp_seconds',
    help: 'When this hook replica last synced each proxy (Unix seconds): the replica with the newest has its current server counts.',
    labelNames: ['namespace', 'name'] as const,
    registers: [registry],
    collect() {
      expire();
      for (const gauges of proxies.values()) lastSync.set({ namespace: gauges.namespace, name: gauges.name }, gauges.syncedAt / 1000);
    },
  });
  const evicted = new Counter({
    name: 'memcached_operator_proxy_series_evicted_total',
    help: `Proxies whose gauges gave way to another's, more than ${maxProxySeries} having synced within the TTL: more proxies than that, or syncs posted for names that are none.`,
    registers: [registry],
  });
  evicted.inc(0);
  function remove(key: string, gauges: ProxyGauges) {
    removeStateGauges(gauges.namespace, gauges.name);
    lastSync.remove(gauges.namespace, gauges.name);
    proxies.delete(key);
  }
  /** A proxy's gauges of what its last sync saw: all of them but its sync time. */
  function removeStateGauges(namespace: string, name: string) {
    servers.remove(namespace, name);
    readyServers.remove(namespace, name);
    proxyReady.remove(namespace, name);
    specReplicas.remove(namespace, name);
  }
  /** Drops the series of proxies not synced within the TTL; the gauges' collect() call it, whichever runs first. */
  function expire() {
    const stale = now() - proxySeriesTtlMs;
    for (const [key, gauges] of proxies) {
      // In order of last sync: the rest are newer (but for a clock stepped back, whose series go that much later).
      if (gauges.syncedAt >= stale) break;
      remove(key, gauges);
    }
  }
  // Every hook and outcome from the start, at 0: a rate of errors is then 0 rather than absent until the
  // first one. Children bound once per label set: the hot path does no label lookups.
  const bound = new Map<string, { count: ReturnType<typeof requests.labels>; time: ReturnType<typeof duration.labels> }>();
  for (const hook of HOOKS) {
    for (const outcome of OUTCOMES) {
      requests.inc({ hook, outcome }, 0);
      duration.zero({ hook, outcome });
      bound.set(`${hook}/${outcome}`, { count: requests.labels(hook, outcome), time: duration.labels(hook, outcome) });
    }
  }
  // The last values are kept beside the gauges: a gauge's set() hashes its labels every time, and a
  // proxy's server counts change far less often than it syncs. In order of last sync, least recent first:
  // each sync moves its proxy to the end.
  interface ProxyGauges {
    namespace: string;
    name: string;
    all: ReturnType<typeof servers.labels>;
    ready: ReturnType<typeof readyServers.labels>;
    up: ReturnType<typeof proxyReady.labels>;
    replicas: ReturnType<typeof specReplicas.labels>;
    lastAll: number;
    lastReady: number;
    lastUp: number;
    lastReplicas: number;
    syncedAt: number;
  }
  const proxies = new Map<string, ProxyGauges>();
  /** A proxy's gauges, bound once (like the request metrics), moved to the end of the order and stamped now. */
  function stamped(namespace: string, name: string): ProxyGauges {
    // A name holds no '/', so the key is unique.
    const key = `${namespace}/${name}`;
    let gauges = proxies.get(key);
    if (gauges) {
      proxies.delete(key);
    } else {
      // Full: those gone for the TTL make room first (expiry otherwise waits for a scrape), then the least recent.
      if (proxies.size >= maxProxySeries) expire();
      if (proxies.size >= maxProxySeries) {
        const [oldest, its] = proxies.entries().next().value!;
        remove(oldest, its);
        evicted.inc();
      }
      gauges = {
        namespace,
        name,
        all: servers.labels(namespace, name),
        ready: readyServers.labels(namespace, name),
        up: proxyReady.labels(namespace, name),
        replicas: specReplicas.labels(namespace, name),
        lastAll: Number.NaN,
        lastReady: Number.NaN,
        lastUp: Number.NaN,
        lastReplicas: Number.NaN,
        syncedAt: 0,
      };
    }
    proxies.set(key, gauges);
    gauges.syncedAt = now();
    return gauges;
  }
  return {
    registry,
    observe(hook, outcome, seconds) {
      const b = bound.get(`${hook}/${outcome}`)!;
      b.count.inc();
      b.time.observe(seconds);
    },
    clientError(reason) {
      clientErrors.inc({ reason });
    },
    notFound() {
      notFound.inc();
    },
    bodyBudget(action) {
      bodyBudget.inc({ action });
    },
    statusSetAside() {
      statusSetAside.inc();
    },
    proxySynced(namespace, name, seen) {
      const gauges = stamped(namespace, name);
      if (gauges.lastAll !== seen.servers) gauges.all.set((gauges.lastAll = seen.servers));
      if (gauges.lastReady !== seen.readyServers) gauges.ready.set((gauges.lastReady = seen.readyServers));
      const up = seen.ready ? 1 : 0;
      if (gauges.lastUp !== up) gauges.up.set((gauges.lastUp = up));
      if (gauges.lastReplicas !== seen.replicas) gauges.replicas.set((gauges.lastReplicas = seen.replicas));
    },
    proxyGone(namespace, name) {
      // Its sync time stays, for the TTL: another replica's older view of the proxy is then not the newest one.
      const gauges = stamped(namespace, name);
      removeStateGauges(namespace, name);
      gauges.lastAll = gauges.lastReady = gauges.lastUp = gauges.lastReplicas = Number.NaN;
    },
  };
}

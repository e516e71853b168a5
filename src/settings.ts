/** The hook's settings: defaults, and how the environment overrides them. */
import { constants as bufferConstants } from 'node:buffer';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { DNS_NAME, DNS_NAME_MAX_LENGTH, IMAGE_NAME, IMAGE_NAME_MAX_LENGTH, IMAGE_REFERENCE, PORT_MAX } from './api/formats.js';
import { DEFAULT_IMAGES } from './api/defaults.js';

/**
 * Room for a pool of some 16,000 pods, and no more than the shipped 512 MiB memory limit survives: the
 * costliest JSON to parse ran such a container out of heap at 16 MiB (docs/requests.md, Limits, has the measurements).
 */
const BODY_LIMIT = 8 * 1024 * 1024;
/** Metacontroller's default number of workers, each with one hook call at a time. */
const IN_FLIGHT_BODIES = 5;
/** IN_FLIGHT_BODY_LIMIT unset: IN_FLIGHT_BODIES bodies of the largest size. */
export const defaultInFlightBodyLimit = (bodyLimit: number): number => IN_FLIGHT_BODIES * bodyLimit;

export const DEFAULT_SETTINGS = {
  port: 8080,
  /** Every address: see anyAddress, which picks the IPv4 one on a node without IPv6. */
  host: '::',
  logLevel: 'info',
  clusterDomain: 'cluster.local',
  mcrouterImage: DEFAULT_IMAGES.mcrouter,
  exporterImage: DEFAULT_IMAGES.exporter,
  bodyLimit: BODY_LIMIT,
  /**
   * Bytes of the request bodies being read, and of answers being sent, at once (http/body-budget.ts): past
   * it, a request is answered 429, which Metacontroller asks again after its Retry-After. What a body holds
   * while it arrives adds up over connections, and 64 connections each sending 8 MiB held 600 MB; the
   * default is IN_FLIGHT_BODIES bodies of the largest size, which unset follows BODY_LIMIT.
   */
  inFlightBodyLimit: defaultInFlightBodyLimit(BODY_LIMIT),
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
  /**
   * How long a client may take to send one whole request, headers and body, before it gets a 408 and its
   * connection is closed: a client that trickles its body would otherwise hold a connection (and the
   * buffered body) for ever. Metacontroller sends the body at once and gives up after its hook timeout
   * (10 s by default); Fastify's default, 0, sets no limit.
   */
  requestTimeoutMs: 30000,
};

export type Settings = typeof DEFAULT_SETTINGS;

/** Why the hook cannot start: main.ts prints the message and exits 2. */
export class SettingsError extends Error {}

/** pino's own levels, and 'silent': pino refuses any other level unless custom levels are defined (the hook defines none). */
export const LOG_LEVELS: readonly string[] = [...Object.keys(pino.levels.values), 'silent'];

/** setTimeout's longest delay: Node turns a longer one into 1 ms (TimeoutOverflowWarning). */
const TIMEOUT_MAX = 2 ** 31 - 1;

/** The integers each variable may hold: what Node and Fastify take without refusing or misbehaving. */
export const INTEGER_RANGES = {
  /** node:net's range; 0 picks a free port. */
  PORT: [0, PORT_MAX],
  /**
   * Fastify refuses 0 (FST_ERR_ROUTE_BODY_LIMIT_OPTION_NOT_INT). The body is decoded into one string:
   * past V8's longest string, decoding throws outside any handler and the process dies. A UTF-8 body
   * decodes to at most as many UTF-16 units as it has bytes, so this bound is enough.
   */
  BODY_LIMIT: [1, bufferConstants.MAX_STRING_LENGTH],
  /**
   * Hook requests reach about 20 levels (a child's managedFields, a spec's affinity): a lower limit would
   * refuse every sync, so 32 is the least. Past about 2,300 levels of arrays (4,100 of objects; measured on
   * Node 20's default stack), JSON.stringify of an answer that copies the nested spec overflows the
   * stack: a 500, the very failure the limit is there to turn into a 400. 1,000 keeps a margin of two.
   */
  JSON_DEPTH_LIMIT: [32, 1000],
  /** At least BODY_LIMIT (checked apart): a body of the largest size must fit. */
  IN_FLIGHT_BODY_LIMIT: [1, Number.MAX_SAFE_INTEGER],
  SHUTDOWN_DELAY_MS: [0, TIMEOUT_MAX],
  SHUTDOWN_TIMEOUT_MS: [0, TIMEOUT_MAX],
  /** 0 sets no limit, as in Node. */
  REQUEST_TIMEOUT_MS: [0, TIMEOUT_MAX],
} as const satisfies Record<string, readonly [number, number]>;

const integer = (name: keyof typeof INTEGER_RANGES, raw: string): number => {
  const [min, max] = INTEGER_RANGES[name];
  // Decimal digits only: Number() also reads 0x50, 8e3 and padded spaces, which nobody means for a port.
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SettingsError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
};

const oneOf = (name: string, allowed: readonly string[], raw: string): string => {
  if (!allowed.includes(raw)) throw new SettingsError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw;
};

/**
 * A DNS name, without a trailing dot: StatefulSet members become `HOSTNAME.SERVICE.NAMESPACE.svc.DOMAIN:PORT`
 * in mcrouter's config, so anything else (a colon, a space, a comma) breaks every headless pool's servers.
 */
const DNS = new RegExp(DNS_NAME);
const isDnsName = (raw: string): boolean => raw.length <= DNS_NAME_MAX_LENGTH && DNS.test(raw);

/** An address to listen on: an IP address, or a host name to resolve (whether it resolves shows at listen). */
const listenHost = (name: string, raw: string): string => {
  if (isIP(raw) === 0 && !isDnsName(raw)) throw new SettingsError(`${name} must be an IP address or a host name, got ${JSON.stringify(raw)}`);
  return raw;
};

const dnsName = (name: string, raw: string): string => {
  if (!isDnsName(raw)) throw new SettingsError(`${name} must be a DNS name such as ${DEFAULT_SETTINGS.clusterDomain}, got ${JSON.stringify(raw)}`);
  return raw;
};

const IMAGE = new RegExp(IMAGE_REFERENCE);
const IMAGE_NAME_PREFIX = new RegExp(`^${IMAGE_NAME}`);

/** `example`: the variable's own default, so that the message shows an image of the right kind. */
const image = (name: string, raw: string, example: string): string => {
  if (!IMAGE.test(raw) || IMAGE_NAME_PREFIX.exec(raw)![0].length > IMAGE_NAME_MAX_LENGTH) {
    throw new SettingsError(`${name} must be an image reference such as ${example}, got ${JSON.stringify(raw)}`);
  }
  return raw;
};

/**
 * The address that takes every connection, as Node's own listen() chooses it without a host: IPv6's `::`
 * where the node has IPv6 (Linux then takes IPv4 on that socket too: dual-stack and IPv4-only clusters
 * both reach the pod), IPv4's `0.0.0.0` where it has none (listening on `::` would fail there). An
 * IPv6-only cluster reaches a pod only on `::`.
 */
function anyAddress(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  const ipv6 = Object.values(interfaces).some((addresses) => addresses?.some((a) => a.family === 'IPv6'));
  return ipv6 ? DEFAULT_SETTINGS.host : '0.0.0.0';
}

/**
 * Reads PORT, HOST, LOG_LEVEL, CLUSTER_DOMAIN, MCROUTER_IMAGE, EXPORTER_IMAGE, BODY_LIMIT, IN_FLIGHT_BODY_LIMIT, JSON_DEPTH_LIMIT,
 * SHUTDOWN_DELAY_MS, SHUTDOWN_TIMEOUT_MS, REQUEST_TIMEOUT_MS. A value the hook cannot run with throws a SettingsError naming
 * the variable; unset or empty keeps the default.
 */
export function settingsFromEnv(env: Record<string, string | undefined>, interfaces?: ReturnType<typeof networkInterfaces>): Settings {
  const s = { ...DEFAULT_SETTINGS, host: anyAddress(interfaces) };
  const set = (name: string, apply: (raw: string) => void) => {
    const raw = env[name];
    if (raw !== undefined && raw !== '') apply(raw);
  };
  set('PORT', (v) => (s.port = integer('PORT', v)));
  set('HOST', (v) => (s.host = listenHost('HOST', v)));
  set('LOG_LEVEL', (v) => (s.logLevel = oneOf('LOG_LEVEL', LOG_LEVELS, v)));
  set('CLUSTER_DOMAIN', (v) => (s.clusterDomain = dnsName('CLUSTER_DOMAIN', v)));
  set('MCROUTER_IMAGE', (v) => (s.mcrouterImage = image('MCROUTER_IMAGE', v, DEFAULT_SETTINGS.mcrouterImage)));
  set('EXPORTER_IMAGE', (v) => (s.exporterImage = image('EXPORTER_IMAGE', v, DEFAULT_SETTINGS.exporterImage)));
  set('BODY_LIMIT', (v) => (s.bodyLimit = integer('BODY_LIMIT', v)));
  s.inFlightBodyLimit = defaultInFlightBodyLimit(s.bodyLimit);
  set('IN_FLIGHT_BODY_LIMIT', (v) => (s.inFlightBodyLimit = integer('IN_FLIGHT_BODY_LIMIT', v)));
  if (s.inFlightBodyLimit < s.bodyLimit) {
    throw new SettingsError(`IN_FLIGHT_BODY_LIMIT (${s.inFlightBodyLimit}) must be at least BODY_LIMIT (${s.bodyLimit}): a body of the largest size must fit`);
  }
  set('JSON_DEPTH_LIMIT', (v) => (s.jsonDepthLimit = integer('JSON_DEPTH_LIMIT', v)));
  set('SHUTDOWN_DELAY_MS', (v) => (s.shutdownDelayMs = integer('SHUTDOWN_DELAY_MS', v)));
  set('SHUTDOWN_TIMEOUT_MS', (v) => (s.shutdownTimeoutMs = integer('SHUTDOWN_TIMEOUT_MS', v)));
  set('REQUEST_TIMEOUT_MS', (v) => (s.requestTimeoutMs = integer('REQUEST_TIMEOUT_MS', v)));
  return s;
}

/**
 * mcrouter's config.json: one pool per leaf, a route tree over them.
 * Objects are built with a fixed key order so that the same inputs always
 * give the same bytes.
 */
import { DEFAULTS } from '../api/defaults.js';
import type { Hash, ReadPolicy, WritePolicy } from '../api/memcached-proxy.js';
import { HASH_TRAITS } from './hashes.js';
import { expandedByMcrouter, mayHoldExpanded, parseConfigText } from '../mcrouter/config-text.js';
import { MCROUTER_JSON_DEPTH } from '../mcrouter/route.js';
import { GET_OPERATIONS_0_36 } from '../mcrouter/operations.js';
import { shortDigest } from './digest.js';
import { jsonHazard } from '../json/hazard.js';
import type { ServerList } from './slots.js';
import type { GroupNode, LeafNode, RouteNode } from './topology.js';

export type Route = string | { [field: string]: unknown };

export interface McrouterConfig {
  pools: Record<string, ServerList>;
  route: Route;
}

/** A config, and the pools it sends requests to that have no servers (an ErrorRoute in their place): those requests fail. */
export interface BuiltConfig {
  config: McrouterConfig;
  failing: ReadonlySet<string>;
}

/**
 * Operations that take the read policy: the gets mcrouter 0.36 knows. `gat`/`gats` are left
 * out on purpose: mcrouter before 0.40 refuses a config naming an operation
 * it does not know, and under the write policy a get-and-touch touches every
 * replica, as it should.
 */
const READ_OPERATIONS = GET_OPERATIONS_0_36;

const WRITE_ROUTES: Record<WritePolicy, string> = {
  AllSync: 'AllSyncRoute',
  AllMajority: 'AllMajorityRoute',
  AllFastest: 'AllFastestRoute',
  AllAsync: 'AllAsyncRoute',
};
const READ_ROUTES: Record<ReadPolicy, string> = {
  Latest: 'LatestRoute',
  MissFailover: 'MissFailoverRoute',
  Failover: 'FailoverRoute',
};

/**
 * Which operations can reach a subtree. Under a replicated rule's read policy
 * only the read operations arrive, under its write policy only the others, so
 * a replicated rule further down needs no OperationSelectorRoute of its own:
 * it is its read route or its write route. Selecting once, at the top-most
 * replicated rule, routes exactly the same and keeps config.json from growing
 * five-fold with every replicated level.
 */
type Operations = 'all' | 'reads' | 'writes';

/**
 * Replicas that route alike, once: the same Service twice under a replicated rule is one pool, and mcrouter
 * would send each write to its servers twice (an incr applied twice, an add answered NOT_STORED).
 */
function distinct(routes: Route[]): Route[] {
  const seen = new Set<string>();
  return routes.filter((r) => {
    const key = typeof r === 'string' ? r : JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Builds the config; `servers` gives each pool's list by name (empty when it has none). */
export function buildConfig(root: RouteNode, servers: ReadonlyMap<string, ServerList>): BuiltConfig {
  const pools: Record<string, ServerList> = {};
  // An empty pool that a replicated rule leaves out fails nothing: its rule's other replicas take its requests.
  const failing = new Set<string>();
  const fail = (node: RouteNode): Route => {
    const leaves = leavesOf(node);
    for (const leaf of leaves) failing.add(leaf.pool.name);
    return errorRoute(`memcached-operator: no servers for ${servicesNamed(leaves)}`);
  };
  // A Rendezvous leaf lists its pool's servers again as tags, and a pool may be one leaf of thousands:
  // counted as they are written, so that a config no ConfigMap can hold is refused before it is rendered.
  let tagBytes = 0;
  const isEmpty = (node: RouteNode): boolean =>
    node.kind === 'leaf' ? (servers.get(node.pool.name)?.servers.length ?? 0) === 0 : node.children.every(isEmpty);

  const replicated = (node: RouteNode, children: (ops: Operations) => Route[], ops: Operations, depth: number): Route => {
    const writes = (): Route => ({ type: WRITE_ROUTES[node.writePolicy], children: children('writes') });
    // LatestRoute picks its replica by a hash of the mcrouter host alone, so a LatestRoute nested in another
    // would pick the same index as its parent on every host: one salt per depth (HashRoute below counts sharded
    // levels instead, since a replicated level hashes no key).
    const reads = (): Route =>
      node.readPolicy === 'Latest'
        ? { type: READ_ROUTES.Latest, children: children('reads'), salt: `level-${depth}` }
        : { type: READ_ROUTES[node.readPolicy], children: children('reads') };
    if (ops === 'writes') return writes();
    if (ops === 'reads') return reads();
    return {
      type: 'OperationSelectorRoute',
      // Always present: operations not listed (touch, incr, decr, delete, ...) otherwise get an empty reply.
      default_policy: writes(),
      operation_policies: Object.fromEntries(READ_OPERATIONS.map((op) => [op, reads()])),
    };
  };

  const leafRoute = (leaf: LeafNode, ops: Operations, depth: number): Route => {
    const list = servers.get(leaf.pool.name);
    if (!list || list.servers.length === 0) return fail(leaf);
    const name = leaf.pool.name;
    pools[name] = list.weights ? { servers: list.servers, weights: list.weights } : { servers: list.servers };
    // `Pool|NAME` is the pool's server list itself: every server a replica.
    if (leaf.type === 'replicated') return replicated(leaf, () => [`Pool|${name}`], ops, depth);
    const { poolDefault, tagged } = HASH_TRAITS[leaf.hash];
    if (poolDefault) return `PoolRoute|${name}`;
    if (!tagged) return { type: 'PoolRoute', pool: name, hash: { hash_func: leaf.hash } };
    // Rendezvous refuses to load without one tag per server; older mcrouter builds read them only from the route's hash.
    for (const server of list.servers) tagBytes += server.length + 4;
    if (tagBytes > CONFIG_MAX_BYTES) throw new ConfigTooLargeError(tagBytes, `its ${leaf.hash} leaves list their pools again as tags`);
    return { type: 'PoolRoute', pool: name, hash: { hash_func: leaf.hash, tags: list.servers } };
  };

  /** `shards`: the sharded groups above, whose salts this one's must differ from. */
  const groupRoute = (group: GroupNode, ops: Operations, depth: number, shards: number): Route => {
    if (group.children.every(isEmpty)) return fail(group);
    const child = (c: RouteNode, childOps: Operations) => route(c, childOps, depth + 1, group.type === 'sharded' ? shards + 1 : shards);
    if (group.type === 'replicated') {
      // An empty replica is left out so writes still succeed on the others.
      const live = group.children.filter((c) => !isEmpty(c));
      return replicated(group, (childOps) => distinct(live.map((c) => child(c, childOps))), ops, depth);
    }
    // A sharded child keeps its position even when empty: dropping it would remap every other child's keys.
    const children = group.children.map((c) => child(c, ops));
    // Without a salt, Ch3 over Ch3 pools picks correlated indexes (furc_hash(k, 2) = 0 leaves
    // furc_hash(k, 3) in {0, 2}): a third of the servers would get no keys. One salt per sharded level
    // makes every level pick independently and stays the same when children come and go. Replicated levels do
    // not count, as they hash no key: a sharded group later wrapped in a replicated rule (a second zone) keeps
    // its salt, and its keys stay where they are (a salt by depth moved (n-1)/n of them, for n servers).
    const salt = saltAt(shards, group.hash);
    if (!HASH_TRAITS[group.hash].tagged) return { type: 'HashRoute', children, hash_func: group.hash, salt };
    // Rendezvous scores each child by its tag: a name of the child's subtree, so keys stay put while its servers change.
    return { type: 'HashRoute', children, hash_func: group.hash, salt, tags: rendezvousTags(group.children) };
  };

  const route = (node: RouteNode, ops: Operations, depth: number, shards: number): Route =>
    node.kind === 'leaf' ? leafRoute(node, ops, depth) : groupRoute(node, ops, depth, shards);
  const config = { pools, route: route(root, 'all', 0, 0) };
  return { config, failing };
}

/**
 * The salt of a sharded group below `shards` sharded groups: mcrouter hashes the routing key with the salt
 * appended. CRC-32 is affine, so with salts of one length the CRCs of `key + "level-0"` and `key + "level-1"`
 * differ by a constant: a Crc32 group over Crc32 groups of 2 would send every key to 2 of its 4 pools. A Crc32
 * salt is one character longer at each level (a leaf's pool hashes the bare key), so no two levels share a length.
 */
const saltAt = (shards: number, hash: Hash): string => (HASH_TRAITS[hash].affine ? `level-${shards}${'-'.repeat(shards)}` : `level-${shards}`);

const errorRoute = (response: string): Route => ({ type: 'ErrorRoute', response });

/** Kubernetes' limit on a ConfigMap's data (and Metacontroller's copy of it in an annotation holds far less). */
const CONFIG_MAX_BYTES = 1024 * 1024;

/** A config that no ConfigMap can hold, refused (before it is rendered, where it can be): `bytes` is what was counted by then. */
export class ConfigTooLargeError extends Error {
  override name = 'ConfigTooLargeError';
  constructor(
    readonly bytes: number,
    why: string,
  ) {
    super(`the mcrouter config would take more than ${bytes} bytes (${why}), and a ConfigMap holds ${CONFIG_MAX_BYTES}`);
  }
}

/** How many Services an ErrorRoute's message names at most: mcrouter sends it with every failed reply. */
const NAMED_SERVICES_MAX = 5;

const leavesOf = (node: RouteNode): LeafNode[] => (node.kind === 'leaf' ? [node] : node.children.flatMap(leavesOf));

/**
 * The pools of a subtree's leaves, each once, in the order the rules name them, as its ErrorRoute's message says
 * them: a Service, with the port when the spec uses that Service on several (another port of it may serve), spelt
 * as the status's messages spell one (JSON: a number bare, a name quoted, so a name of digits is not that number).
 */
function servicesNamed(leaves: readonly LeafNode[]): string {
  const pools = new Map(leaves.map(({ pool }) => [pool.name, pool.name === pool.service ? pool.service : `${pool.service} port ${JSON.stringify(pool.port)}`]));
  const all = [...pools.values()];
  const shown = all.slice(0, NAMED_SERVICES_MAX).join(', ');
  const more = all.length > NAMED_SERVICES_MAX ? ` and ${all.length - NAMED_SERVICES_MAX} more` : '';
  return `${all.length === 1 ? 'service' : 'services'} ${shown}${more}`;
}

/**
 * A name for a subtree from its rule alone: a leaf is its Service, with `:PORT` when the rule gives a port other
 * than the default (a Service name has no colon); a group is its type over its children's tags. Nothing else goes
 * in: not the pool's name, which becomes SERVICE-PORT once any rule anywhere uses the Service on a second port, nor
 * the siblings, so that no edit elsewhere, no reordering and no sibling coming or going changes a child's tag
 * (each would move the keys of children it did not touch).
 */
const nodeLabel = (node: RouteNode): string => {
  if (node.kind === 'group') return `${node.type}(${rendezvousTags(node.children).join(',')})`;
  const { service, port } = node.pool;
  return port === DEFAULTS.servicePort ? service : `${service}:${JSON.stringify(port)}`;
};

/**
 * One tag per child, all distinct: mcrouter gives a key to the first of equal
 * scores, so a repeated tag would leave its second child without keys. Only
 * the same rule twice repeats a tag.
 */
function rendezvousTags(children: readonly RouteNode[]): string[] {
  const seen = new Map<string, number>();
  return children.map((child) => {
    const label = nodeLabel(child);
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label}#${n}`;
  });
}

/** `beside`: what else the ConfigMap holds (its pools.json), which counts toward the same limit. */
export function renderConfig(config: McrouterConfig, beside = 0): string {
  const text = `${JSON.stringify(config, null, 2)}\n`;
  if (text.length > CONFIG_MAX_BYTES) throw new ConfigTooLargeError(text.length, 'the pools list that many servers');
  if (text.length + beside > CONFIG_MAX_BYTES) throw new ConfigTooLargeError(text.length + beside, 'with pools.json beside it, which counts too');
  return text;
}

/** What `status.configHash` shows: users can check it against `sha256sum` of the mounted file. */
export const configHash = (text: string): string => shortDigest(text);

/** The config currently mounted, read back from the observed ConfigMap. */
export interface CurrentConfig {
  pools: Map<string, ServerList>;
  /** The whole parsed config, for routing keys through the old tree. */
  raw: unknown;
}

/**
 * The config currently mounted, or undefined when there is none or it cannot
 * be read: a foreign config is replaced, never trusted halfway. One edited by
 * hand with comments or a trailing comma, which mcrouter reads, is read too.
 */
export function parseCurrentConfig(text: string | undefined): CurrentConfig | undefined {
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = parseConfigText(text);
  } catch {
    return undefined;
  }
  // mcrouter refuses deeper configs itself (folly's JSON recursion limit), and routing keys through one would overflow the stack.
  if (jsonHazard(raw, MCROUTER_JSON_DEPTH) !== undefined) return undefined;
  const pools = (raw as { pools?: unknown } | null)?.pools;
  if (typeof pools !== 'object' || pools === null) return undefined;
  // A server a macro, parameter or escape gives is not the address mcrouter uses (nor defined in the config
  // the hook writes, which has no macros): its pool starts over.
  const isString = (s: unknown): s is string => typeof s === 'string';
  const isLiteralServer = mayHoldExpanded(text) ? (s: unknown) => isString(s) && !expandedByMcrouter(s) : isString;
  const result = new Map<string, ServerList>();
  for (const [name, pool] of Object.entries(pools)) {
    const { servers, weights } = (pool ?? {}) as { servers?: unknown; weights?: unknown };
    if (!Array.isArray(servers) || !servers.every(isLiteralServer)) continue;
    const list: ServerList = { servers: servers as string[] };
    if (weights !== undefined) {
      // mcrouter's WeightedCh3 takes the first weight of each server, in [0, 1], and ignores any beyond.
      // Fewer (mcrouter fills in 0.5 and logs "CONFIG IS BROKEN"), or 1e999, which JSON.parse reads as Infinity
      // and would be written back as null: such a pool is not this hook's, and is not trusted.
      const own = Array.isArray(weights) && weights.length >= servers.length ? (weights as unknown[]).slice(0, servers.length) : undefined;
      if (!own?.every((w) => typeof w === 'number' && w >= 0 && w <= 1)) continue;
      list.weights = own as number[];
    }
    result.set(name, list);
  }
  return { pools: result, raw };
}

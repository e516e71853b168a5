/**
 * mcrouter's config.json: one pool per leaf, a route tree over them.
 * Objects are built with a fixed key order so that the same inputs always
 * give the same bytes.
 */
import { createHash } from 'node:crypto';
import type { ReadPolicy, WritePolicy } from '../api/memcached-proxy.js';
import type { ServerList } from './slots.js';
import type { GroupNode, LeafNode, RouteNode } from './topology.js';

export type Route = string | { [field: string]: unknown };

export interface McrouterConfig {
  pools: Record<string, ServerList>;
  route: Route;
}

/**
 * Operations that take the read policy. `gat`/`gats` are left out on purpose:
 * mcrouter before 0.40 refuses a config naming an operation it does not know,
 * and under the write policy a get-and-touch touches every replica, as it should.
 */
export const READ_OPERATIONS = ['get', 'gets', 'metaget', 'lease-get'] as const;

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

/** Builds the config; `servers` gives each pool's list by name (empty when it has none). */
export function buildConfig(root: RouteNode, servers: ReadonlyMap<string, ServerList>): McrouterConfig {
  const pools: Record<string, ServerList> = {};
  const isEmpty = (node: RouteNode): boolean =>
    node.kind === 'leaf' ? (servers.get(node.pool.name)?.servers.length ?? 0) === 0 : node.children.every(isEmpty);

  const replicated = (node: RouteNode, children: Route[] | string): Route => ({
    type: 'OperationSelectorRoute',
    // Always present: operations not listed (touch, incr, decr, delete, ...) otherwise get an empty reply.
    default_policy: { type: WRITE_ROUTES[node.writePolicy], children },
    operation_policies: Object.fromEntries(
      READ_OPERATIONS.map((op) => [op, { type: READ_ROUTES[node.readPolicy], children }]),
    ),
  });

  const leafRoute = (leaf: LeafNode): Route => {
    const list = servers.get(leaf.pool.name);
    if (!list || list.servers.length === 0) return errorRoute(`memcached-operator: no servers for service ${leaf.pool.service}`);
    const name = leaf.pool.name;
    pools[name] = list.weights ? { servers: list.servers, weights: list.weights } : { servers: list.servers };
    if (leaf.type === 'replicated') return replicated(leaf, `Pool|${name}`);
    if (leaf.hash === 'Ch3') return `PoolRoute|${name}`;
    // Rendezvous refuses to load without one tag per server; older mcrouter builds read them only from the route's hash.
    const hash = leaf.hash === 'Rendezvous' ? { hash_func: 'Rendezvous', tags: list.servers } : { hash_func: leaf.hash };
    return { type: 'PoolRoute', pool: name, hash };
  };

  const groupRoute = (group: GroupNode): Route => {
    if (group.type === 'replicated') {
      // An empty replica is left out so writes still succeed on the others.
      const live = group.children.filter((c) => !isEmpty(c));
      if (live.length === 0) return errorRoute('memcached-operator: no servers in any replica');
      return replicated(group, live.map(route));
    }
    // A sharded child keeps its position even when empty: dropping it would remap every other child's keys.
    const children = group.children.map(route);
    if (group.hash === 'Ch3') return { type: 'HashRoute', children, hash_func: 'Ch3' };
    if (group.hash === 'Crc32') return { type: 'HashRoute', children, hash_func: 'Crc32' };
    return { type: 'HashRoute', children, hash_func: 'Rendezvous', tags: group.children.map(nodeLabel) };
  };

  const route = (node: RouteNode): Route => (node.kind === 'leaf' ? leafRoute(node) : groupRoute(node));
  const top = route(root);
  return { pools, route: top };
}

const errorRoute = (response: string): Route => ({ type: 'ErrorRoute', response });

/** A stable name for a subtree, used as its Rendezvous tag. */
const nodeLabel = (node: RouteNode): string =>
  node.kind === 'leaf' ? node.pool.name : `${node.type}(${node.children.map(nodeLabel).join(',')})`;

export function renderConfig(config: McrouterConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The config currently mounted, read back from the observed ConfigMap. */
export interface CurrentConfig {
  pools: Map<string, ServerList>;
  /** The whole parsed config, for routing keys through the old tree. */
  raw: unknown;
}

/**
 * The config currently mounted, or undefined when there is none or it cannot
 * be read: a hand-edited or foreign config is replaced, never trusted halfway.
 */
export function parseCurrentConfig(text: string | undefined): CurrentConfig | undefined {
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const pools = (raw as { pools?: unknown } | null)?.pools;
  if (typeof pools !== 'object' || pools === null) return undefined;
  const result = new Map<string, ServerList>();
  for (const [name, pool] of Object.entries(pools)) {
    const { servers, weights } = (pool ?? {}) as { servers?: unknown; weights?: unknown };
    if (!Array.isArray(servers) || !servers.every((s) => typeof s === 'string')) continue;
    const list: ServerList = { servers: servers as string[] };
    if (Array.isArray(weights) && weights.length === servers.length && weights.every((w) => typeof w === 'number')) {
      list.weights = weights as number[];
    }
    result.set(name, list);
  }
  return { pools: result, raw };
}

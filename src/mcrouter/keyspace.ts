/**
 * How much of the cached keyspace a config change moves: the share of a fixed
 * key sample whose first `get` server changes between two configs to one the
 * old config did not write the key to. A moved key is a cache miss after the
 * change, so this is the cost of a change in lost hits. Under a
 * MissFailoverRoute the get goes on after that miss to the next replica, and
 * the client may still get a hit; but mcrouter copies nothing back, so the
 * first server stays without the key until it is written again, and the next
 * change of that replica loses it: the first hop's miss is what is counted.
 *
 * Where a LatestRoute reads replicas in an order of each mcrouter host's own,
 * a key's server depends on the host that reads it: key `i` of the sample is
 * read by virtual host `i % VIRTUAL_HOSTS`, so the share is the average over a
 * fleet of mcrouter pods, whichever replica each reads first.
 */
import { RouteTree, compileConfig, type Pool } from './route.js';

/** Enough virtual mcrouter hosts that the share of them reading each replica first is within a few percent of its weight. */
const VIRTUAL_HOSTS = 1024;

/**
 * The fixed sample `key:0`, `key:1`, ..., `key:{count-1}`. Fixed so that the
 * same change always reports the same number; plain so that anyone can redo
 * the count with mcrouter itself. Ch3, Crc32 and Rendezvous all hash the
 * whole key, so sequential keys spread like random ones.
 */
export function sampleKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `key:${i}`);
}

function treeOf(config: unknown): RouteTree {
  return config instanceof RouteTree ? config : compileConfig(config);
}

/** The share of `keys` whose first `get` after the change goes to a server the old tree did not write them to, or to none (0 for no keys). */
function movedShare(
  before: RouteTree | undefined,
  after: RouteTree | undefined,
  keys: readonly string[],
): number {
  if (keys.length === 0) return 0;
  let moved = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const host = i % VIRTUAL_HOSTS;
    const now = after?.firstDestination(key, 'get', host);
    if (before?.firstDestination(key, 'get', host) === now) continue;
    // A read that turns to another replica the key was written to still hits.
    if (now !== undefined && before?.route(key, 'set').primary.includes(now)) continue;
    moved++;
  }
  return moved / keys.length;
}

/**
 * The fraction of `keys` whose first destination for a `get` differs between
 * the old and the new config (parsed mcrouter configs or compiled trees), to a
 * server the old config did not `set` the key on (a replica that holds it too
 * still hits). It follows the whole route tree, so it holds for every hash and
 * topology. A key with no destination on one side and one on the other has moved.
 *
 * @throws McrouterConfigError for a config the route walker does not support
 */
export function keyspaceMoved(oldConfig: unknown, newConfig: unknown, keys: readonly string[]): number {
  return movedShare(treeOf(oldConfig), treeOf(newConfig), keys);
}

/** A pool's size: its server list, of which `holes` have weight 0. */
export interface PoolSize {
  servers: number;
  holes: number;
}

export interface PoolMove {
  pool: string;
  /**
   * The fraction of sample keys whose server in this pool changes (1 for a pool added or removed); null for
   * a pool of replicas, where every server holds every key (what its reads lose is in the overall share).
   */
  moved: number | null;
  /** Absent when the pool is not in that config. */
  before?: PoolSize;
  after?: PoolSize;
}

export interface KeyspaceDiff {
  /** The fraction of keys whose first `get` goes to a server the old config did not write them to, through the whole route tree. */
  moved: number;
  /** Per top-level pool (old config's order, then pools only the new one has), hashed as the route hashes it. */
  pools: PoolMove[];
}

function sizeOf(pool: Pool): PoolSize {
  const holes = pool.weights?.slice(0, pool.servers.length).filter((w) => w === 0).length ?? 0;
  return { servers: pool.servers.length, holes };
}

/**
 * Overall and per-pool keyspace movement between two configs. A pool is looked
 * at alone as the PoolRoute over it that the route has (its `hash` too): its
 * hash over its own server list, whatever routes lead to it.
 *
 * @throws McrouterConfigError for a config the route walker does not support
 */
export function keyspaceDiff(oldConfig: unknown, newConfig: unknown, keys: readonly string[]): KeyspaceDiff {
  const before = treeOf(oldConfig);
  const after = treeOf(newConfig);
  const names = [...new Set([...before.pools.keys(), ...after.pools.keys()])];
  const pools = names.map((name): PoolMove => {
    const viewBefore = before.poolView(name);
    const viewAfter = after.poolView(name);
    const move: PoolMove = {
      pool: name,
      moved: viewBefore === 'replicas' || viewAfter === 'replicas' ? null : movedShare(viewBefore, viewAfter, keys),
    };
    const was = before.pools.get(name);
    const is = after.pools.get(name);
    if (was) move.before = sizeOf(was);
    if (is) move.after = sizeOf(is);
    return move;
  });
  return { moved: movedShare(before, after, keys), pools };
}

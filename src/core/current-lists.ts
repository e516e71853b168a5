/**
 * Each pool's list in the mounted config. A pool the spec renames keeps its
 * list: a Service's pool is `NAME` while the rules use one of its ports and
 * `NAME-PORT` once they use two, so a rule added elsewhere in the spec would
 * otherwise sort that pool afresh and move most of its keys.
 */
import type { PoolStatus } from '../api/memcached-proxy.js';
import type { ServerList } from './slots.js';
import { poolKey, type PoolRef } from './topology.js';

/**
 * The lists of `lists` (the mounted config's, by name) for `pools`. Most syncs find every mounted list under
 * a pool's name, and take them by name. Otherwise a pool takes the list that `reported()` (the parent's
 * status.pools, when that status reports the mounted config) names for its own Service and port as written:
 * what a pool is, not what it was called, so that neither a renamed pool loses its list nor a name that has
 * passed to another Service (`memcached-11211`, a Service of its own, once `memcached` uses one port) takes
 * one. Without such a status, by name.
 */
export function currentListsByPool(
  lists: ReadonlyMap<string, ServerList>,
  pools: readonly PoolRef[],
  reported: () => readonly PoolStatus[] | undefined,
): ReadonlyMap<string, ServerList> {
  let named = 0;
  for (const ref of pools) if (lists.has(ref.name)) named++;
  if (named === lists.size) return lists;
  const known = reported();
  if (known === undefined) return lists;
  const nameOf = new Map(known.map((p) => [poolKey(p.service, p.port ?? ''), p.name]));
  const byPool = new Map<string, ServerList>();
  for (const ref of pools) {
    const name = nameOf.get(poolKey(ref.service, ref.port));
    const list = name === undefined ? undefined : lists.get(name);
    if (list) byPool.set(ref.name, list);
  }
  return byPool;
}

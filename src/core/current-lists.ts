/**
 * What each pool of the mounted config is. A pool's name does not say it for
 * good: a Service's pool is `NAME` while the rules use one of its ports and
 * `NAME-PORT` once they use two, and such a name can later be another
 * Service's (`memcached-11211`, a Service of its own). So the ConfigMap carries,
 * beside config.json, each pool's Service and port as written (`pools.json`,
 * which mcrouter does not read), and a pool takes the mounted list of its own
 * Service and port whatever either is called now.
 */
import { poolKey, type PoolRef } from './topology.js';
import type { Membership } from './membership.js';
import type { ServerList } from './slots.js';

/** The ConfigMap key that names each pool's Service and port. */
export const POOLS_KEY = 'pools.json';

/**
 * `pools.json`: the Service and port as written of each pool config.json lists (`listed`), in the pools'
 * order, on one line: Metacontroller's last-applied annotation copies it, within Kubernetes' 256 KiB.
 */
export function renderPoolIdentities(pools: readonly PoolRef[], listed: Readonly<Record<string, unknown>>): string {
  const identities: Record<string, { service: string; port: number | string }> = {};
  for (const ref of pools) if (Object.hasOwn(listed, ref.name)) identities[ref.name] = { service: ref.service, port: ref.port };
  return `${JSON.stringify(identities)}\n`;
}

/** A mounted pool, as `pools.json` names it. */
export interface MountedPool {
  name: string;
  service: string;
}

/**
 * The mounted pools by Service and port (poolKey), from `pools.json`, or undefined when the ConfigMap has
 * none (a build before this one wrote it) or one edited into something else: then pools go by name.
 */
export function parsePoolIdentities(text: string | undefined): Map<string, MountedPool> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const pools = new Map<string, MountedPool>();
  for (const [name, identity] of Object.entries(value)) {
    const { service, port } = (identity ?? {}) as { service?: unknown; port?: unknown };
    if (typeof service !== 'string' || (typeof port !== 'number' && typeof port !== 'string')) return undefined;
    const key = poolKey(service, port);
    // Two pools of one Service and port: no pools.json this hook wrote.
    if (pools.has(key)) return undefined;
    pools.set(key, { name, service });
  }
  return pools;
}

/**
 * Each pool's list in the mounted config (`lists`, by name): the list of its own Service and port by the
 * mounted `pools.json` (`identities`), so that a renamed pool keeps its slots and a name that passed to
 * another pool takes nothing of the old one's.
 *
 * A pool whose port is now written otherwise (`11211`, `"11211"`, `memcache`, or a Service port renumbered
 * over the same target port) has no entry of its own. It takes a mounted list of its Service that no pool
 * claims when that list is the only one it can be, and it the only pool that can be that list's: with
 * members, a list that holds one of them (the same pods on the same target port; a port that is really
 * another shares none); without its Service or port for now (the spec edited before the Service, or the
 * Service away), its Service's one unclaimed list, which it keeps as such a pool keeps its own. A pool whose
 * Service lists no endpoints takes none: it could not tell.
 *
 * A pool pools.json does not name (it had no servers, or a hand edit left it out) goes by its name, unless
 * pools.json gives that name to another Service or port; and without pools.json, every pool goes by name.
 */
export function currentListsByPool(
  lists: ReadonlyMap<string, ServerList>,
  pools: readonly PoolRef[],
  identities: ReadonlyMap<string, MountedPool> | undefined,
  membershipOf: (ref: PoolRef) => Membership,
): ReadonlyMap<string, ServerList> {
  if (identities === undefined) return lists;
  // Most syncs: every pool under the name it had.
  if (pools.every((ref) => identities.get(poolKey(ref.service, ref.port))?.name === ref.name)) return lists;
  const own = new Map<PoolRef, string>();
  for (const ref of pools) {
    const mounted = identities.get(poolKey(ref.service, ref.port));
    if (mounted !== undefined) own.set(ref, mounted.name);
  }
  const claimed = new Set<string>();
  const taken = new Set(own.values());
  // The mounted lists no pool has by its own Service and port, by Service.
  const unclaimed = new Map<string, string[]>();
  for (const { name, service } of identities.values()) {
    claimed.add(name);
    if (!taken.has(name) && lists.has(name)) unclaimed.set(service, [...(unclaimed.get(service) ?? []), name]);
  }
  // Or some new, without a list any pool could be (a pool that has no servers is in no pools.json).
  const asBefore = (ref: PoolRef) => (own.has(ref) ? own.get(ref) === ref.name : !claimed.has(ref.name) && !unclaimed.has(ref.service));
  if (pools.every(asBefore)) return lists;

  // Which unclaimed lists each pool without an entry can be, and which pools can be each list.
  const candidates = new Map<PoolRef, string[]>();
  const claimants = new Map<string, number>();
  for (const ref of pools) {
    const left = own.has(ref) ? undefined : unclaimed.get(ref.service);
    if (left === undefined) continue;
    const membership = membershipOf(ref);
    const can =
      membership.state !== 'Found'
        ? left.length === 1 ? left : []
        : left.filter((name) => lists.get(name)!.servers.some((server) => membership.indexOf.get(server) >= 0));
    candidates.set(ref, can);
    for (const name of can) claimants.set(name, (claimants.get(name) ?? 0) + 1);
  }
  const byPool = new Map<string, ServerList>();
  for (const ref of pools) {
    const can = candidates.get(ref);
    const name = own.get(ref) ?? (can?.length === 1 && claimants.get(can[0]!) === 1 ? can[0] : claimed.has(ref.name) ? undefined : ref.name);
    const list = name === undefined ? undefined : lists.get(name);
    if (list) byPool.set(ref.name, list);
  }
  return byPool;
}

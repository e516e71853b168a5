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
 * over the same target port) has no entry of its own: it takes the list of its Service's one mounted pool
 * that no pool claims, when it is the only such pool of its Service and that list `holds` one of its
 * servers now (the same pods on the same target port; a port that is really another shares none, and a
 * pool without members could not tell).
 *
 * A pool pools.json does not name (it had no servers, or a hand edit left it out) goes by its name, unless
 * pools.json gives that name to another Service or port; and without pools.json, every pool goes by name.
 */
export function currentListsByPool(
  lists: ReadonlyMap<string, ServerList>,
  pools: readonly PoolRef[],
  identities: ReadonlyMap<string, MountedPool> | undefined,
  holds: (ref: PoolRef, list: ServerList) => boolean,
): ReadonlyMap<string, ServerList> {
  if (identities === undefined) return lists;
  const own = (ref: PoolRef) => identities.get(poolKey(ref.service, ref.port))?.name;
  const claimed = new Set<string>();
  for (const { name } of identities.values()) claimed.add(name);
  // Most syncs: every pool under the name it had.
  if (pools.every((ref) => own(ref) === ref.name)) return lists;

  const mountedName = new Map<PoolRef, string>();
  for (const ref of pools) {
    const name = own(ref);
    if (name !== undefined) mountedName.set(ref, name);
  }
  const taken = new Set(mountedName.values());
  const unmatched = pools.filter((ref) => !mountedName.has(ref));
  for (const ref of unmatched) {
    const left = [...identities.values()].filter((p) => p.service === ref.service && !taken.has(p.name));
    const alone = unmatched.every((other) => other === ref || other.service !== ref.service);
    const respelt = left.length === 1 && alone ? lists.get(left[0]!.name) : undefined;
    if (respelt !== undefined && holds(ref, respelt)) mountedName.set(ref, left[0]!.name);
    else if (!claimed.has(ref.name)) mountedName.set(ref, ref.name);
  }
  const byPool = new Map<string, ServerList>();
  for (const [ref, name] of mountedName) {
    const list = lists.get(name);
    if (list) byPool.set(ref.name, list);
  }
  return byPool;
}

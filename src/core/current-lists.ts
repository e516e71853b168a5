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

/**
 * The mounted pools' names by Service and port (poolKey), from `pools.json`, or undefined when the ConfigMap
 * has none (a build before this one wrote it) or one edited into something else: then pools go by name.
 */
export function parsePoolIdentities(text: string | undefined): Map<string, string> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const names = new Map<string, string>();
  for (const [name, identity] of Object.entries(value)) {
    const { service, port } = (identity ?? {}) as { service?: unknown; port?: unknown };
    if (typeof service !== 'string' || (typeof port !== 'number' && typeof port !== 'string')) return undefined;
    const key = poolKey(service, port);
    // Two pools of one Service and port: no pools.json this hook wrote.
    if (names.has(key)) return undefined;
    names.set(key, name);
  }
  return names;
}

/**
 * Each pool's list in the mounted config (`lists`, by name): the list of its own Service and port by the
 * mounted `pools.json` (`identities`), so that a renamed pool keeps its slots and a name that passed to
 * another pool takes nothing of the old one's. A pool pools.json does not name (it had no servers, or a hand
 * edit left it out) goes by its name, unless pools.json gives that name to another Service or port; and
 * without pools.json, every pool goes by name.
 */
export function currentListsByPool(
  lists: ReadonlyMap<string, ServerList>,
  pools: readonly PoolRef[],
  identities: ReadonlyMap<string, string> | undefined,
): ReadonlyMap<string, ServerList> {
  if (identities === undefined) return lists;
  const claimed = new Set(identities.values());
  const mountedName = (ref: PoolRef) => identities.get(poolKey(ref.service, ref.port)) ?? (claimed.has(ref.name) ? undefined : ref.name);
  // Most syncs: every pool under the name it had.
  if (pools.every((ref) => mountedName(ref) === ref.name)) return lists;
  const byPool = new Map<string, ServerList>();
  for (const ref of pools) {
    const name = mountedName(ref);
    const list = name === undefined ? undefined : lists.get(name);
    if (list) byPool.set(ref.name, list);
  }
  return byPool;
}

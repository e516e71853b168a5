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
import { holdsMember, type ServerList } from './slots.js';

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
 * owns (by its own entry) when that list is the only one it can be, and it the only pool that can be that
 * list's: with members, a list that holds one of them (the same pods on the same target port; a port that
 * is really another shares none); without its Service or port for now (the spec edited before the Service,
 * or the Service away), its Service's one unowned list, which it keeps as such a pool keeps its own. A pool
 * whose Service lists no endpoints takes none: it could not tell. A pool with no unowned list of its own Service
 * (the spec renamed the Service: a new one over the same pods) takes, by the same rule, a list of a Service no
 * pool of the spec uses any more that holds one of its members, and that no pool can be as its own Service's.
 *
 * A pool pools.json does not name (it had no servers, or a hand edit left it out) goes by its name, unless
 * pools.json gives that name to another Service or port; and without pools.json, every pool goes by name.
 */
export function currentListsByPool(
  lists: ReadonlyMap<string, ServerList>,
  pools: readonly PoolRef[],
  identities: ReadonlyMap<string, MountedPool> | undefined,
  memberships: readonly Membership[],
): ReadonlyMap<string, ServerList> {
  if (identities === undefined) return lists;
  const entryOf = (ref: PoolRef) => identities.get(poolKey(ref.service, ref.port))?.name;
  // Most syncs: every pool under the name it had.
  if (pools.every((ref) => entryOf(ref) === ref.name)) return lists;

  const entries = pools.map(entryOf);
  const mountedNames = new Set<string>();
  const owned = new Set(entries);
  // The mounted lists of each Service that no pool has by its own Service and port: a respelt pool's, or a renamed Service's, maybe.
  const unowned = new Map<string, string[]>();
  for (const { name, service } of identities.values()) {
    mountedNames.add(name);
    if (owned.has(name) || !lists.has(name)) continue;
    const left = unowned.get(service);
    if (left) left.push(name);
    else unowned.set(service, [name]);
  }
  // A pool without an entry whose name no entry has, and no unowned list to be: by name, as before.
  const byName = (i: number) => entries[i] === undefined && !mountedNames.has(pools[i]!.name) && unowned.size === 0;
  if (pools.every((ref, i) => entries[i] === ref.name || byName(i))) return lists;

  // Which unowned lists each pool without an entry can be, and how many pools can be each list. Its own
  // Service's, as above; failing those, a list of a Service the spec no longer uses that holds its members and
  // that no pool can be as its own Service's: the spec renamed the Service (a new Service over the same pods),
  // and starting over in natural order would move most keys where none need to.
  const ownCandidates = pools.map((ref, i): string[] | undefined => {
    const own = entries[i] === undefined ? unowned.get(ref.service) : undefined;
    if (own === undefined) return undefined;
    const membership = memberships[i]!;
    if (membership.state !== 'Found') return own.length === 1 ? own : [];
    return own.filter((name) => holdsMember(lists.get(name)!, membership.indexOf));
  });
  const usedServices = new Set(pools.map((ref) => ref.service));
  const takenAsOwn = new Set(ownCandidates.flatMap((names) => names ?? []));
  const leftBehind = [...unowned].flatMap(([service, names]) => (usedServices.has(service) ? [] : names)).filter((name) => !takenAsOwn.has(name));
  // Which left-behind lists hold each server, once: each pool then looks up its own addresses (a dual-stack pod's
  // other family's too), where every pool reading every list took a second for a spec renaming 3,500 pools at once.
  const holding = new Map<string, number[]>();
  leftBehind.forEach((name, at) => {
    for (const server of lists.get(name)!.servers) {
      const held = holding.get(server);
      if (held === undefined) holding.set(server, [at]);
      else if (held[held.length - 1] !== at) held.push(at);
    }
  });
  const candidates = pools.map((ref, i): string[] | undefined => {
    if (entries[i] !== undefined || unowned.has(ref.service)) return ownCandidates[i];
    const membership = memberships[i]!;
    if (membership.state !== 'Found' || holding.size === 0) return undefined;
    const held = new Set<number>();
    membership.indexOf.forEachKey((address) => {
      for (const at of holding.get(address) ?? []) held.add(at);
    });
    return held.size > 0 ? [...held].map((at) => leftBehind[at]!) : undefined;
  });
  const claimants = new Map<string, number>();
  for (const names of candidates) for (const name of names ?? []) claimants.set(name, (claimants.get(name) ?? 0) + 1);
  const mountedNameOf = (ref: PoolRef, i: number): string | undefined => {
    if (entries[i] !== undefined) return entries[i];
    const names = candidates[i];
    if (names?.length === 1 && claimants.get(names[0]!) === 1) return names[0];
    return mountedNames.has(ref.name) ? undefined : ref.name;
  };

  const byPool = new Map<string, ServerList>();
  pools.forEach((ref, i) => {
    const name = mountedNameOf(ref, i);
    const list = name === undefined ? undefined : lists.get(name);
    if (list) byPool.set(ref.name, list);
  });
  return byPool;
}

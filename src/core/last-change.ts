/**
 * status.lastChange: what the last change of any server list or of the route
 * did, in terms a user cares about: which pools, which servers came and went,
 * and the share of cached keys that now live on another server.
 */
import type { LastChange } from '../api/memcached-proxy.js';
import { keyspaceMoved, sampleKeys } from '../mcrouter/keyspace.js';
import type { CurrentConfig, McrouterConfig } from './mcrouter-config.js';
import { naturalOrder, type ServerList } from './slots.js';

/** Enough keys for a fraction to 3 decimals, few enough to route twice per change (not per sync). */
const KEY_SAMPLE = sampleKeys(10_000);

/** Rendezvous scores every server for every key: keys x servers is bounded so a change never costs the hook seconds. */
const RENDEZVOUS_BUDGET = 2_000_000;
const MIN_SAMPLE = 500;

/** The widest Rendezvous `tags` list in a route tree (0 without Rendezvous). */
function rendezvousWidth(route: unknown, depth = 0): number {
  if (typeof route !== 'object' || route === null || depth > 64) return 0;
  let widest = 0;
  for (const [field, value] of Object.entries(route)) {
    if (field === 'tags' && Array.isArray(value)) widest = Math.max(widest, value.length);
    else widest = Math.max(widest, rendezvousWidth(value, depth + 1));
  }
  return widest;
}

function sampleFor(before: unknown, after: McrouterConfig): readonly string[] {
  const width = Math.max(rendezvousWidth((before as { route?: unknown }).route), rendezvousWidth(after.route));
  if (width === 0) return KEY_SAMPLE;
  return KEY_SAMPLE.slice(0, Math.min(KEY_SAMPLE.length, Math.max(MIN_SAMPLE, Math.floor(RENDEZVOUS_BUDGET / width))));
}

const sameList = (a: ServerList | undefined, b: ServerList | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.servers.length === b.servers.length &&
  a.servers.every((s, i) => s === b.servers[i]) &&
  (a.weights ?? []).length === (b.weights ?? []).length &&
  (a.weights ?? []).every((w, i) => w === b.weights?.[i]);

const liveServers = (list: ServerList | undefined): string[] =>
  list ? list.servers.filter((_, i) => list.weights?.[i] !== 0) : [];

/**
 * The change from the mounted config to the new one, or undefined when
 * neither a server list nor the route changed. A route-only change (a hash or
 * a topology edited) moves keys as surely as a server list does, so it counts.
 */
export function lastChangeOf(current: CurrentConfig, next: McrouterConfig, now: string): LastChange | undefined {
  const names = new Set([...current.pools.keys(), ...Object.keys(next.pools)]);
  const pools: string[] = [];
  const added = new Set<string>();
  const removed = new Set<string>();
  for (const name of names) {
    const before = current.pools.get(name);
    // A pool of the old config only, named like a property of Object.prototype (`constructor`), must not find one.
    const after = Object.hasOwn(next.pools, name) ? next.pools[name] : undefined;
    if (sameList(before, after)) continue;
    pools.push(name);
    const was = new Set(liveServers(before));
    const is = new Set(liveServers(after));
    for (const s of is) if (!was.has(s)) added.add(s);
    for (const s of was) if (!is.has(s)) removed.add(s);
  }
  const routeChanged = JSON.stringify((current.raw as { route?: unknown }).route) !== JSON.stringify(next.route);
  if (pools.length === 0 && !routeChanged) return undefined;
  let moved: number;
  try {
    moved = keyspaceMoved(current.raw, next, sampleFor(current.raw, next));
  } catch {
    // A mounted config this code did not write (edited by hand) may use routes the walker does not model,
    // or nest beyond reason: it is being replaced whole, so every key is counted as moved.
    moved = 1;
  }
  return {
    time: now,
    pools: pools.sort(naturalOrder),
    added: [...added].sort(naturalOrder),
    removed: [...removed].sort(naturalOrder),
    keyspaceMoved: Math.round(moved * 1000) / 1000,
  };
}

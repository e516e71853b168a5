/**
 * status.lastChange: what the last change of any server list or of the route
 * did, in terms a user cares about: which pools, which servers came and went,
 * and the share of cached keys that now live on another server.
 */
import { Compile } from 'typebox/compile';
import { LastChange, readyCondition, type MemcachedProxyStatus } from '../api/proxy-status.js';
import { keyspaceMoved, sampleKeys } from '../mcrouter/keyspace.js';
import { compileConfig, type RouteTree } from '../mcrouter/route.js';
import type { CurrentConfig, McrouterConfig } from './mcrouter-config.js';
import { naturalOrder } from './natural-order.js';
import type { ServerList } from './slots.js';
import { aheadOf } from './stored-times.js';

/** Enough keys for a fraction to 3 decimals, few enough to route twice per change (not per sync). */
const KEY_SAMPLE: readonly string[] = sampleKeys(10_000);

/**
 * Routing work per change, in the route trees' own units (a destination visited, a tag hashed): a config
 * that sends each key to many servers (a Rendezvous pool scores every server, a replicated set of thousands
 * writes to each) is measured with fewer keys, down to MIN_SAMPLE; one too costly even for those (a config
 * edited by hand, or written to stall the hook) is not routed at all, and counts as every key moved.
 */
const ROUTING_BUDGET = 2_000_000;
const MIN_SAMPLE = 500;
const MAX_ROUTING = 5_000_000;

/** The keys to route through two trees (a get through both, a set through the old for a key that moved), or undefined: too costly. */
function sampleFor(before: RouteTree, after: RouteTree): readonly string[] | undefined {
  const cost = Math.max(before.cost, after.cost);
  const keys = Math.min(KEY_SAMPLE.length, Math.max(MIN_SAMPLE, Math.floor(ROUTING_BUDGET / cost)));
  if (keys * cost > MAX_ROUTING) return undefined;
  return keys === KEY_SAMPLE.length ? KEY_SAMPLE : KEY_SAMPLE.slice(0, keys);
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
  // Addresses the config gained and lost, whichever pools hold them: a server that left one pool for another
  // (a pool renamed, a pod moved between Services) or is in an unchanged one too is still in the config.
  if (added.size > 0 || removed.size > 0) {
    const was = new Set([...current.pools.values()].flatMap(liveServers));
    const is = new Set(Object.values(next.pools).flatMap(liveServers));
    for (const s of added) if (was.has(s)) added.delete(s);
    for (const s of removed) if (is.has(s)) removed.delete(s);
  }
  const routeChanged = JSON.stringify((current.raw as { route?: unknown }).route) !== JSON.stringify(next.route);
  if (pools.length === 0 && !routeChanged) return undefined;
  let moved: number;
  try {
    const before = compileConfig(current.raw);
    const after = compileConfig(next);
    const keys = sampleFor(before, after);
    moved = keys ? keyspaceMoved(before, after, keys) : 1;
  } catch {
    // A mounted config this code did not write (edited by hand) may use routes the walker does not model,
    // or nest or fan out beyond reason: it is being replaced whole, so every key is counted as moved.
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

/**
 * The change when the config the status last reported is no longer readable: its ConfigMap deleted, or
 * edited into something that is not a config. The old lists are unknown, so the new ones are written
 * afresh (a pool of pods by IP in natural order, its slots lost), and every server counts as added and
 * every key as moved: an upper bound (a StatefulSet's names come back in the same order). Only for a
 * proxy that was Ready: a new proxy's ConfigMap may simply not have reached Metacontroller's cache yet,
 * and one that another object of its name keeps from being created never served from its own.
 */
export function lostConfigChange(previous: MemcachedProxyStatus | null | undefined, hash: string, next: McrouterConfig, now: string): LastChange | undefined {
  if (previous?.configHash === undefined || previous.configHash === hash) return undefined;
  if (readyCondition(previous)?.status !== 'True') return undefined;
  const pools = Object.keys(next.pools).sort(naturalOrder);
  const added = new Set(pools.flatMap((name) => liveServers(next.pools[name])));
  return { time: now, pools, added: [...added].sort(naturalOrder), removed: [], keyspaceMoved: 1 };
}

/**
 * How long a lastChange the ConfigMap carries may be, as JSON. Kubernetes caps a ConfigMap's annotations at
 * 256 KiB in all, and Metacontroller's last-applied copy of the ConfigMap, config included, already takes most
 * of that for a large pool (README and docs/requests.md, Limits); a change of some hundred servers is written to the status only.
 */
const LAST_CHANGE_ANNOTATION_MAX_LENGTH = 4096;

/**
 * A lastChange with its own fields only, in one order whatever order it came in (one read back from the
 * parent comes from a Go map, keys sorted): a different string each time would have Metacontroller update
 * the ConfigMap for nothing.
 */
const inKeyOrder = ({ time, pools, added, removed, keyspaceMoved }: LastChange): LastChange => ({ time, pools, added, removed, keyspaceMoved });

/** The lastChange as the ConfigMap carries it, or undefined when it is too long to. */
export function lastChangeAnnotation(change: LastChange | undefined): string | undefined {
  if (change === undefined) return undefined;
  const text = JSON.stringify(inKeyOrder(change));
  return text.length <= LAST_CHANGE_ANNOTATION_MAX_LENGTH ? text : undefined;
}

/**
 * Of two records of the last change, the later. Each comes from a copy that may be behind (the parent in
 * Metacontroller's cache, the ConfigMap in another), and a config can come back byte for byte (endpoints
 * A, then B, then A again), so matching a config does not tell which record is current; time does.
 */
export function laterChange(a: LastChange | undefined, b: LastChange | undefined): LastChange | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return Date.parse(b.time) > Date.parse(a.time) ? b : a;
}

const isLastChange = Compile(LastChange);

/**
 * The lastChange an observed ConfigMap carries, when it is one (a hand edit may have made it anything).
 * It is what the status said when the ConfigMap got its config, and it arrives with that config: a sync
 * whose parent is older than the ConfigMap (Metacontroller's cache has not caught up with the status it
 * wrote) reads it here instead of losing it, for Metacontroller replaces the whole status with the answer.
 */
export function lastChangeFromAnnotation(text: string | undefined, now: string): LastChange | undefined {
  if (text === undefined || text.length > LAST_CHANGE_ANNOTATION_MAX_LENGTH) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isLastChange.Check(value)) return undefined;
  // A change from the future (a hand edit) would win over every real one after it.
  if (aheadOf(now)(value.time)) return undefined;
  return inKeyOrder(value);
}

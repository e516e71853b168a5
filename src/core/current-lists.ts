/**
 * Each pool's list in the mounted config, found by the pool's new name. A pool
 * the spec now names otherwise keeps its list: a Service's pool is `NAME` while
 * the rules use one of its ports and `NAME-PORT` once they use two, so a rule
 * added elsewhere in the spec would otherwise sort that pool afresh and move
 * most of its keys.
 */
import type { Membership } from './membership.js';
import type { ServerList } from './slots.js';
import type { PoolRef } from './topology.js';

/**
 * The lists of `lists` (the mounted config's, by name) for `pools`. A pool without a list of its name takes
 * one of the lists no pool is named after any more:
 * - with members, the list that holds most of them (the first in the config of those that hold as many);
 *   two spellings of one port, two pools of the same servers, both take it, as both hashed keys over it;
 * - without members, as it keeps its list (DESIGN 7), the list of its other name when the port is certain:
 *   `NAME-PORT` spelt with its port for `NAME`, and `NAME` for `NAME-PORT` when every server of that list is
 *   on this port's number.
 */
export function currentListsByPool(lists: ReadonlyMap<string, ServerList>, pools: ReadonlyArray<{ ref: PoolRef; membership: Membership }>): ReadonlyMap<string, ServerList> {
  // Most syncs: every mounted list is still some pool's, under its name.
  let named = 0;
  for (const { ref } of pools) if (lists.has(ref.name)) named++;
  if (named === lists.size) return lists;
  const byName = new Map<string, ServerList>();
  const unnamed = new Map(lists);
  for (const { ref } of pools) {
    const list = lists.get(ref.name);
    if (list) byName.set(ref.name, list);
    unnamed.delete(ref.name);
  }
  // Which of those lists hold each live server, and their order in the config: a pool's members are counted
  // against all of them in one pass (a spec renaming thousands of pools stays linear).
  const rank = new Map([...unnamed.keys()].map((name, i) => [name, i]));
  const holders = new Map<string, string[]>();
  for (const [name, list] of unnamed) {
    list.servers.forEach((server, i) => {
      if (list.weights?.[i] === 0) return;
      const names = holders.get(server);
      if (names) names.push(name);
      else holders.set(server, [name]);
    });
  }
  for (const { ref, membership } of pools) {
    if (byName.has(ref.name)) continue;
    const members = membership.state === 'Found' ? membership.members : [];
    let taken: string | undefined;
    if (members.length === 0) {
      taken = otherNameOf(ref, unnamed);
    } else {
      const shared = new Map<string, number>();
      for (const { address } of members) for (const name of holders.get(address) ?? []) shared.set(name, (shared.get(name) ?? 0) + 1);
      let most = 0;
      for (const [name, n] of shared) {
        if (n > most || (n === most && rank.get(name)! < rank.get(taken!)!)) [taken, most] = [name, n];
      }
    }
    if (taken !== undefined) byName.set(ref.name, unnamed.get(taken)!);
  }
  return byName;
}

/** The list a pool without members had under its other name, when that list is sure to be of this port. */
function otherNameOf(ref: PoolRef, unnamed: ReadonlyMap<string, ServerList>): string | undefined {
  if (ref.name === ref.service) {
    const spelt = `${ref.service}-${ref.port}`;
    return unnamed.has(spelt) ? spelt : undefined;
  }
  const bare = unnamed.get(ref.service);
  const port = typeof ref.port === 'number' ? `:${ref.port}` : undefined;
  return bare && port !== undefined && bare.servers.every((s) => s.endsWith(port)) ? ref.service : undefined;
}

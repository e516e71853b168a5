/**
 * The config the answer before this one asked for, when Metacontroller's cache hands the hook an older ConfigMap.
 *
 * Metacontroller reads the parent and each kind of child from caches of their own, so a sync can see the status
 * its last answer wrote while the ConfigMap is still the one before that answer. Kept in order against that older
 * config, a server the missed answer appended would fill a hole opened since, and its keys would move a second
 * time. The status holds no server lists, but its lastChange says which servers the missed answer added and
 * removed: replaying them on the older config gives the missed one back, and it is taken only when it hashes to
 * the status's configHash, byte for byte what was asked for. Otherwise (a change made of more than servers coming
 * and going, a hand edit, a cache further behind) the ConfigMap's config stands, as it always did.
 */
import type { LastChange, MemcachedProxyStatus } from '../api/memcached-proxy.js';
import { planConfig, type PlanInput } from './config-plan.js';
import { parsePoolIdentities, type MountedPool } from './current-lists.js';
import { ConfigTooLargeError, configHash, parseCurrentConfig, type CurrentConfig } from './mcrouter-config.js';
import type { Member, Membership } from './membership.js';
import type { ServerList } from './slots.js';
import { StringIndex } from './string-index.js';

export interface MissedAnswerInput extends PlanInput {
  current: CurrentConfig;
  /** The ConfigMap's config.json, which `current` was read from. */
  mounted: string;
  status: MemcachedProxyStatus | null | undefined;
}

/** The missed answer's config and pools.json, to keep the servers in order against, or undefined. */
export function missedAnswer(input: MissedAnswerInput): { current: CurrentConfig; mountedPools: ReadonlyMap<string, MountedPool> | undefined } | undefined {
  const reported = input.status?.configHash;
  const change = input.status?.lastChange;
  if (!reported || !change || configHash(input.mounted) === reported) return undefined;
  const memberships = input.topology.pools.map((ref, i) => replayed(input.memberships[i]!, input.current.pools.get(ref.name), change));
  let text: string;
  let identities: string;
  try {
    ({ text, identities } = planConfig({ topology: input.topology, memberships, modes: input.modes, wanted: input.wanted, current: input.current, mountedPools: input.mountedPools }));
  } catch (error) {
    if (error instanceof ConfigTooLargeError) return undefined;
    throw error;
  }
  if (configHash(text) !== reported) return undefined;
  const current = parseCurrentConfig(text);
  return current && { current, mountedPools: parsePoolIdentities(identities) };
}

/**
 * A pool's members as the missed answer saw them: the older list's servers (not its holes) but those the change
 * removed, and those it added that are members of the pool now.
 */
function replayed(now: Membership, older: ServerList | undefined, change: LastChange): Membership {
  if (!older) return now;
  const removed = new Set(change.removed);
  const addresses = older.servers.filter((server, i) => older.weights?.[i] !== 0 && !removed.has(server));
  if (now.state === 'Found') for (const server of change.added) if (now.indexOf.get(server) >= 0) addresses.push(server);
  const members: Member[] = [];
  const indexOf = new StringIndex(addresses.length);
  for (const address of addresses) {
    if (indexOf.add(address, members.length) < 0) members.push({ address, ready: true, terminating: false, hostname: undefined });
  }
  return {
    state: 'Found',
    members,
    indexOf,
    withoutPort: 0,
    misnamed: 0,
    selector: now.state === 'Found' ? now.selector : true,
    ...(now.state === 'Found' && now.dnsAddress ? { dnsAddress: now.dnsAddress } : {}),
  };
}

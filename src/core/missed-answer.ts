/**
 * The config the answer before this one asked for, when Metacontroller's cache hands the hook an older ConfigMap.
 *
 * Metacontroller reads the parent and each kind of child from caches of their own, so a sync can see the status
 * its last answer wrote while the ConfigMap is still the one before that answer. Kept in order against that older
 * config, a server the missed answer appended would fill a hole opened since, and its keys would move a second
 * time. The status holds no server lists, but its lastChange says which servers the missed answer added and
 * removed: replaying them on the older config gives the missed one back, and it is taken only when it hashes to
 * the status's configHash. Otherwise (a change made of more than servers coming and going, a hand edit, a cache
 * further behind) the ConfigMap's config stands, as it always did.
 *
 * Only forward, and only while a cache can still be behind: not when the change removed a server the pool has now
 * (the ConfigMap is then newer than the status, whose cache is the one behind: replaying would go back), nor once
 * the status has reported its config for longer than the ConfigMap's grace (CONFIG_APPLY_GRACE_SECONDS): past it
 * the API server refused the update, mcrouter runs the mounted config, and the servers keep their slots there.
 */
import type { LastChange, MemcachedProxyStatus } from '../api/memcached-proxy.js';
import { planConfig, type ConfigPlan, type PlanInput } from './config-plan.js';
import { parsePoolIdentities } from './current-lists.js';
import { ConfigTooLargeError, configHash, parseCurrentConfig, type CurrentConfig } from './mcrouter-config.js';
import type { Member, Membership } from './membership.js';
import type { ServerList } from './slots.js';
import { configGraceLeft } from './status.js';
import { StringIndex } from './string-index.js';

export interface MissedAnswerInput extends PlanInput {
  current: CurrentConfig;
  /** The ConfigMap's config.json, which `current` was read from. */
  mounted: string;
  /** The config.json planned against `mounted`. */
  planned: string;
  status: MemcachedProxyStatus | null | undefined;
  /** RFC 3339 time of this sync. */
  now: string;
}

/**
 * This sync's plan with the servers kept in order against the missed answer, and that answer's config (what the
 * change is counted from), or undefined: no missed answer found, or none this sync's config can keep to (too large).
 */
export function missedAnswer(input: MissedAnswerInput): { plan: ConfigPlan; current: CurrentConfig } | undefined {
  const { status } = input;
  const reported = status?.configHash;
  const change = status?.lastChange;
  if (!reported || !change || !((configGraceLeft(status.configSince, input.now) ?? 0) > 0)) return undefined;
  // The mounted config is the reported one (most syncs), or the plan against it already is: nothing missed.
  if (configHash(input.mounted) === reported || configHash(input.planned) === reported) return undefined;
  const memberships: Membership[] = [];
  for (const [i, ref] of input.topology.pools.entries()) {
    const membership = replayed(input.memberships[i]!, input.current.pools.get(ref.name), change);
    if (!membership) return undefined;
    memberships.push(membership);
  }
  const { topology, modes, wanted } = input;
  try {
    const missed = planConfig({ topology, memberships, modes, wanted, current: input.current, mountedPools: input.mountedPools });
    if (configHash(missed.text) !== reported) return undefined;
    const current = parseCurrentConfig(missed.text);
    if (!current) return undefined;
    const plan = planConfig({ topology, memberships: input.memberships, modes, wanted, current, mountedPools: parsePoolIdentities(missed.identities) });
    return { plan, current };
  } catch (error) {
    if (error instanceof ConfigTooLargeError) return undefined;
    throw error;
  }
}

/**
 * A pool's members as the missed answer saw them: the older list's servers (not its holes) but those the change
 * removed, and those it added that are members of the pool now; undefined when the change removed a server the
 * pool has now.
 */
function replayed(now: Membership, older: ServerList | undefined, change: LastChange): Membership | undefined {
  if (!older) return now;
  if (now.state === 'Found' && change.removed.some((server) => now.indexOf.get(server) >= 0)) return undefined;
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

/**
 * One pass from a pool's members and the config they are kept in order against to the config to write: each
 * pool's slots, the route over them, and the texts of config.json and pools.json. sync() makes one such pass,
 * and a second when the ConfigMap it was handed is older than the answer before it (missed-answer.ts).
 */
import { currentListsByPool, renderPoolIdentities, type MountedPool } from './current-lists.js';
import { buildConfig, renderConfig, type CurrentConfig, type McrouterConfig } from './mcrouter-config.js';
import type { Membership } from './membership.js';
import { assignSlots, type ServerList, type SlotMode, type WantedOrdinals } from './slots.js';
import type { PoolOutcome } from './status.js';
import { StringIndex } from './string-index.js';
import type { Topology } from './topology.js';

export interface ConfigPlan {
  outcomes: PoolOutcome[];
  config: McrouterConfig;
  /** Pools routed to an ErrorRoute: no servers, or none left in their replicated rule. */
  failing: ReadonlySet<string>;
  /** config.json. */
  text: string;
  /** pools.json: each pool's Service and port. */
  identities: string;
}

export interface PlanInput {
  topology: Topology;
  /** Each pool's members, in the topology's pool order. */
  memberships: readonly Membership[];
  modes: ReadonlyMap<string, SlotMode>;
  wanted: (prefix: string) => WantedOrdinals | undefined;
  /** The config whose slots the servers keep, and its pools.json, if any. */
  current: CurrentConfig | undefined;
  mountedPools: ReadonlyMap<string, MountedPool> | undefined;
}

const NO_MEMBERS = new StringIndex(0);

/** @throws ConfigTooLargeError for a config no ConfigMap can hold */
export function planConfig({ topology, memberships, modes, wanted, current, mountedPools }: PlanInput): ConfigPlan {
  const currentLists = current ? currentListsByPool(current.pools, topology.pools, mountedPools, memberships) : undefined;
  const outcomes: PoolOutcome[] = topology.pools.map((ref, i) => {
    const membership = memberships[i]!;
    const found = membership.state === 'Found';
    const slots = assignSlots({
      members: found ? membership.members : [],
      indexOf: found ? membership.indexOf : NO_MEMBERS,
      mode: modes.get(ref.name) ?? 'ordered',
      current: currentLists?.get(ref.name),
      dnsAddress: found ? membership.dnsAddress : undefined,
      wanted,
    });
    return { ref, membership, slots };
  });
  const lists = new Map<string, ServerList>(outcomes.map((o) => [o.ref.name, o.slots]));
  const { config, failing } = buildConfig(topology.root, lists);
  const identities = renderPoolIdentities(topology.pools, config.pools);
  return { outcomes, config, failing, text: renderConfig(config, identities.length), identities };
}

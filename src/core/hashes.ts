/**
 * What each sharding hash of the API means to the hook, one row per hash: a hash added to the API's HASHES
 * does not compile until its row says how its pools keep their order, how the config writes it, and which
 * mcrouter releases load it.
 */
import { HASH_SINCE, type Hash } from '../api/memcached-proxy.js';
import type { McrouterVersion } from './mcrouter-version.js';
import type { SlotMode } from './slots.js';

export interface HashTraits {
  /**
   * How a pool's server order matters to a leaf that shards over it with this hash (slots.ts SlotMode):
   * `ch3` lets a departed server leave a weight-0 hole; `ordered` keeps the survivors' order, no holes.
   */
  slotMode: Extract<SlotMode, 'ch3' | 'ordered'>;
  /** mcrouter's default pool hash: a leaf is written as the bare `PoolRoute|NAME`. */
  poolDefault: boolean;
  /** Scores servers (a leaf) or children (a group) by tags, which the config must list: one per server or child. */
  tagged: boolean;
  /**
   * An affine hash (CRC-32): salts of one length at two sharded levels differ by a constant, so each level's
   * salt is one character longer than the level's above (mcrouter-config.ts saltAt).
   */
  affine: boolean;
  /** The first mcrouter release that loads a config naming it, where the earliest releases do not. */
  since?: McrouterVersion;
}

export const HASH_TRAITS: Readonly<Record<Hash, Readonly<HashTraits>>> = {
  Ch3: { slotMode: 'ch3', poolDefault: true, tagged: false, affine: false },
  Crc32: { slotMode: 'ordered', poolDefault: false, tagged: false, affine: true },
  Rendezvous: { slotMode: 'ordered', poolDefault: false, tagged: true, affine: false, since: HASH_SINCE.Rendezvous },
};

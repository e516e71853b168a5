/**
 * Slot order: the index of each server in a pool's list.
 *
 * mcrouter's Ch3 maps a key to an index, so moving a server to another index
 * moves its keys. Survivors therefore keep their index; a server leaving a
 * middle slot leaves a weight-0 hole (WeightedCh3 rehashes only the keys that
 * land there); StatefulSet members sit at their ordinal.
 */
import type { Member } from './membership.js';

/** A pool's server list as it stands in config.json. */
export interface ServerList {
  servers: string[];
  /** Present only with holes: 1 for a live slot, 0 for a hole. */
  weights?: number[];
}

export interface Slots extends ServerList {
  /** Entries mcrouter routes to (a kept StatefulSet slot counts, a hole does not). */
  live: number;
  /** Entries backed by a ready endpoint. */
  ready: number;
  holes: number;
}

export const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;

const ORDINAL = /^(.*)-(0|[1-9][0-9]{0,6})$/;

/** Holes beyond this share of the slots are compacted: each costs mcrouter a retry for the keys it rehashes. */
const MAX_HOLE_SHARE = 0.5;

export interface SlotInput {
  members: Member[];
  /**
   * Whether a departed server may leave a weight-0 hole: only for pools routed
   * by Ch3 alone. Rendezvous moves only the departed server's keys by itself,
   * Crc32 is not consistent anyway, and a replicated pool would still write to a hole.
   */
  holes: boolean;
  /** The pool's list in the observed config, if any. */
  current?: ServerList;
  /** Builds the DNS address of a StatefulSet ordinal that has no endpoint now. */
  dnsAddress?: (hostname: string) => string;
}

export function assignSlots({ members, holes, current, dnsAddress }: SlotInput): Slots {
  if (members.length === 0) {
    if (!current || current.servers.length === 0) return { servers: [], live: 0, ready: 0, holes: 0 };
    const kept = current.weights?.filter((w) => w === 0).length ?? 0;
    return { ...current, live: current.servers.length - kept, ready: 0, holes: kept };
  }
  const readiness = new Map(members.map((m) => [m.address, m.ready]));
  const withCounts = (list: ServerList, holeCount: number): Slots => {
    let ready = 0;
    for (const s of list.servers) if (readiness.get(s)) ready++;
    // A hole's address is never a member's (a returning member takes its hole), so `ready` counts live entries only.
    return { ...list, live: list.servers.length - holeCount, ready, holes: holeCount };
  };

  const ordinals = dnsAddress && statefulSetOrdinals(members);
  if (ordinals) {
    const servers = ordinals.slots.map((address, n) => address ?? dnsAddress(`${ordinals.prefix}-${n}`));
    return withCounts({ servers }, 0);
  }

  const addresses = members.map((m) => m.address);
  if (!current || current.servers.length === 0) return withCounts({ servers: addresses.sort(naturalOrder) }, 0);
  if (!holes) return withCounts({ servers: keepOrder(current, addresses) }, 0);
  return withHoles(current, addresses, withCounts);
}

/** Without holes: survivors in their order, newcomers after. */
function keepOrder(current: ServerList, addresses: string[]): string[] {
  const present = new Set(addresses);
  const survivors = current.servers.filter((s, i) => current.weights?.[i] !== 0 && present.has(s));
  const placed = new Set(survivors);
  return survivors.concat(addresses.filter((a) => !placed.has(a)).sort(naturalOrder));
}

function withHoles(current: ServerList, addresses: string[], finish: (list: ServerList, holes: number) => Slots): Slots {
  const present = new Set(addresses);
  // null marks a hole; holeAddress keeps the address a hole shows in `servers`.
  const slots: (string | null)[] = [];
  const holeAddress: string[] = [];
  const holeByAddress = new Map<string, number>();
  current.servers.forEach((server, i) => {
    holeAddress.push(server);
    if (current.weights?.[i] !== 0 && present.has(server)) {
      slots.push(server);
    } else {
      slots.push(null);
      holeByAddress.set(server, i);
    }
  });
  const placed = new Set(slots);
  const newcomers: string[] = [];
  for (const a of addresses) {
    if (placed.has(a)) continue;
    const hole = holeByAddress.get(a);
    // A member returning to the address its hole shows takes that hole back.
    if (hole !== undefined) slots[hole] = a;
    else newcomers.push(a);
  }
  newcomers.sort(naturalOrder);
  let next = 0;
  for (let i = 0; i < slots.length && next < newcomers.length; i++) {
    if (slots[i] === null) slots[i] = newcomers[next++]!;
  }
  while (next < newcomers.length) {
    slots.push(newcomers[next]!);
    holeAddress.push(newcomers[next++]!);
  }

  let holes = slots.reduce((n, s) => (s === null ? n + 1 : n), 0);
  const dropTrailingHoles = () => {
    while (slots.length > 0 && slots[slots.length - 1] === null) {
      slots.pop();
      holes--;
    }
  };
  dropTrailingHoles();
  // Compaction: the tail server moves into the first hole (its keys move once) until holes are at most half.
  let firstHole = 0;
  while (holes > slots.length * MAX_HOLE_SHARE) {
    while (slots[firstHole] !== null) firstHole++;
    slots[firstHole] = slots.pop()!;
    holes--;
    dropTrailingHoles();
  }
  const servers = slots.map((s, i) => s ?? holeAddress[i]!);
  if (holes === 0) return finish({ servers }, 0);
  return finish({ servers, weights: slots.map((s) => (s === null ? 0 : 1)) }, holes);
}

/**
 * StatefulSet pods: every member has a DNS hostname `PREFIX-N` with one common
 * prefix. The list runs 0..max; an ordinal with no endpoint keeps its slot
 * (its DNS name stays valid), so scaling touches only the tail.
 */
function statefulSetOrdinals(members: Member[]): { prefix: string; slots: (string | undefined)[] } | undefined {
  let prefix: string | undefined;
  const byOrdinal = new Map<number, string>();
  let max = -1;
  for (const m of members) {
    const match = m.hostname === undefined ? null : ORDINAL.exec(m.hostname);
    if (!match) return undefined;
    if (prefix === undefined) prefix = match[1]!;
    else if (prefix !== match[1]) return undefined;
    const n = Number(match[2]);
    byOrdinal.set(n, m.address);
    if (n > max) max = n;
  }
  // A list far longer than the pods there are is not a StatefulSet we should spell out slot by slot.
  if (prefix === undefined || max >= members.length * 2 + 16) return undefined;
  return { prefix, slots: Array.from({ length: max + 1 }, (_, n) => byOrdinal.get(n)) };
}

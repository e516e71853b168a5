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

export type SlotMode = 'ch3' | 'ordered' | 'set';

export interface SlotInput {
  members: Member[];
  /**
   * How the pool's order matters. `ch3`: only Ch3-sharded routes use it, so a
   * departed server may leave a weight-0 hole. `ordered`: other hashes index
   * it too (Rendezvous moves only the departed server's keys by itself, Crc32
   * is not consistent anyway): survivors keep their order, no holes. `set`:
   * only replicated routes use it, where order means nothing and a server
   * kept for an absent pod would fail every AllSync write.
   */
  mode: SlotMode;
  /** The pool's list in the observed config, if any. */
  current?: ServerList;
  /** Builds the DNS address of a StatefulSet ordinal that has no endpoint now. */
  dnsAddress?: (hostname: string) => string;
}

export function assignSlots({ members, mode, current, dnsAddress }: SlotInput): Slots {
  if (members.length === 0) {
    if (!current || current.servers.length === 0) return { servers: [], live: 0, ready: 0, holes: 0 };
    if (mode !== 'ch3' && current.weights) {
      // Only a Ch3 route skips weight-0 holes: any other would send keys, or replicated writes, to a departed server.
      const servers = current.servers.filter((_, i) => current.weights![i] !== 0);
      return { servers, live: servers.length, ready: 0, holes: 0 };
    }
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

  const addresses = members.map((m) => m.address);
  if (mode === 'set') return withCounts({ servers: addresses.sort(naturalOrder) }, 0);
  const ordinals = dnsAddress && statefulSetOrdinals(members);
  if (ordinals) {
    const servers = ordinals.slots.map((address, n) => address ?? dnsAddress(`${ordinals.prefix}-${n}`));
    return withCounts({ servers }, 0);
  }

  if (!current || current.servers.length === 0) return withCounts({ servers: addresses.sort(naturalOrder) }, 0);
  if (mode === 'ordered') return withCounts({ servers: keepOrder(current, addresses) }, 0);
  const leaving = new Set(members.filter((m) => m.terminating).map((m) => m.address));
  return withHoles(current, addresses, leaving, withCounts);
}

/** Without holes: survivors in their order, newcomers after. */
function keepOrder(current: ServerList, addresses: string[]): string[] {
  const present = new Set(addresses);
  const survivors = current.servers.filter((s, i) => current.weights?.[i] !== 0 && present.has(s));
  const placed = new Set(survivors);
  return survivors.concat(addresses.filter((a) => !placed.has(a)).sort(naturalOrder));
}

function withHoles(
  current: ServerList,
  addresses: string[],
  leaving: ReadonlySet<string>,
  finish: (list: ServerList, holes: number) => Slots,
): Slots {
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
  let newcomers: string[] = [];
  const leavingNewcomers: string[] = [];
  for (const a of addresses) {
    if (placed.has(a)) continue;
    const hole = holeByAddress.get(a);
    // A member returning to the address its hole shows takes that hole back.
    if (hole !== undefined) slots[hole] = a;
    else if (leaving.has(a)) leavingNewcomers.push(a);
    else newcomers.push(a);
  }
  // A terminating pod that has no slot never gets one (it is about to go), unless it is all there is.
  if (newcomers.length === 0 && slots.every((s) => s === null)) newcomers = leavingNewcomers;
  newcomers.sort(naturalOrder);
  let next = 0;
  for (let i = 0; i < slots.length && next < newcomers.length; i++) {
    if (slots[i] === null) slots[i] = newcomers[next++]!;
  }
  // A replacement pod often shows up while the pod it replaces is still terminating: it takes the leaving
  // pod's slot rather than the tail, since that pod's keys are about to be lost anyway and appending would
  // move a share of every other server's keys too.
  for (let i = 0; i < slots.length && next < newcomers.length && leaving.size > 0; i++) {
    const server = slots[i];
    if (server !== null && server !== undefined && leaving.has(server)) slots[i] = newcomers[next++]!;
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

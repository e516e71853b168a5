/**
 * Slot order: the index of each server in a pool's list.
 *
 * mcrouter's Ch3 maps a key to an index, so moving a server to another index
 * moves its keys. Survivors therefore keep their index; a server leaving a
 * middle slot leaves a weight-0 hole (WeightedCh3 rehashes only the keys that
 * land there); StatefulSet members sit at their ordinal.
 */
import type { StringIndex } from './string-index.js';
import type { Member } from './membership.js';
import { sortNatural } from './natural-order.js';

/** A pool's members by address, as slot assignment reads them: never written here. */
type MemberIndex = Pick<StringIndex, 'get'>;

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

/**
 * The StatefulSet ordinal that `text` spells from `start` to `end`, or -1: decimal, no leading zero, at most 7
 * digits, as a pod's hostname spells it. Read in place, once per member and per server of a pool at every sync:
 * a regular expression's match and its substrings took a sixth of a steady 5,000-pod StatefulSet sync.
 */
function ordinalIn(text: string, start: number, end: number): number {
  const digits = end - start;
  if (digits < 1 || digits > 7 || (digits > 1 && text.charCodeAt(start) === ZERO)) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}
const ZERO = 48;
const DASH = 45;

/** Holes beyond this share of the slots are compacted: each costs mcrouter a retry for the keys it rehashes. */
const MAX_HOLE_SHARE = 0.5;

export type SlotMode = 'ch3' | 'ordered' | 'replicated' | 'failover';

/** The modes of a pool only replicated routes use (see SlotInput's `mode`). */
const isReplicated = (mode: SlotMode): boolean => mode === 'replicated' || mode === 'failover';

/**
 * The mode of a pool two routes use, from each one's. Two replicated uses differ only where one reads the first
 * server, and that one wins; a sharded use beside any other keeps every survivor's place, without holes.
 */
export const combinedSlotMode = (a: SlotMode, b: SlotMode): SlotMode =>
  a === b ? a : isReplicated(a) && isReplicated(b) ? 'failover' : 'ordered';

/**
 * Whether `list` names a server the pool has now (`memberAt`: its members' addresses, and a dual-stack pod's other
 * family's): the same pods on the same port.
 */
export function holdsMember(list: ServerList, memberAt: MemberIndex): boolean {
  return list.servers.some((server) => memberAt.get(server) >= 0);
}

export interface SlotInput {
  /** Distinct addresses, as membershipOf gives them. */
  members: Member[];
  /** Each member's address (and a dual-stack pod's other family's) to its position in `members`: only read here. */
  indexOf: MemberIndex;
  /**
   * How the pool's order matters. `ch3`: only Ch3-sharded routes use it, so a
   * departed server may leave a weight-0 hole. `ordered`: other hashes index
   * it too (Rendezvous moves only the departed server's keys by itself, Crc32
   * is not consistent anyway): survivors keep their order, no holes.
   * `replicated`: only replicated routes use it. Survivors keep their order
   * and newcomers go after them, but nothing is kept for an absent pod, a
   * StatefulSet's either, which would fail every AllSync write. `failover`:
   * so too, and one of those routes reads `Failover` or `MissFailover`, which
   * read the first server: a member seen not ready or terminating goes behind
   * the ready ones too (a returning pod sorted first, or one restarting, would
   * take every read while it has no key). Under `Latest` each mcrouter pod
   * reads its own pick of the replicas, and such a move would change the
   * config for nothing.
   */
  mode: SlotMode;
  /** The pool's list in the observed config, if any. */
  current?: ServerList;
  /** Builds the DNS address of a StatefulSet ordinal that has no endpoint now. */
  dnsAddress?: (hostname: string) => string;
  /** The ordinals the StatefulSet named PREFIX wants, when Metacontroller sent it. */
  wanted?: (prefix: string) => WantedOrdinals | undefined;
}

/** A StatefulSet's `spec.ordinals.start` and `spec.replicas`. */
export interface WantedOrdinals {
  start: number;
  replicas: number;
}

/**
 * The slots of a pool without members (its Service or port missing, or no endpoints): the current list, kept as
 * it is, but for the holes a route other than Ch3 would send requests to.
 */
export function slotsWithoutMembers(current: ServerList | undefined, mode: SlotMode): Slots {
  if (!current || current.servers.length === 0) return { servers: [], live: 0, ready: 0, holes: 0 };
  if (mode !== 'ch3' && current.weights) {
    // Only a Ch3 route skips weight-0 holes: any other would send keys, or replicated writes, to a departed server.
    const servers = current.servers.filter((_, i) => current.weights![i] !== 0);
    return { servers, live: servers.length, ready: 0, holes: 0 };
  }
  const kept = current.weights?.filter((w) => w === 0).length ?? 0;
  return { ...current, live: current.servers.length - kept, ready: 0, holes: kept };
}

export function assignSlots({ members, indexOf: memberAt, mode, current, dnsAddress, wanted }: SlotInput): Slots {
  if (members.length === 0) return slotsWithoutMembers(current, mode);
  // Lists are built of member positions (-1 for a hole) and spelt out at the end: a position gives the
  // member's readiness and leaving without another lookup by address. A member found in the current
  // list is spelt with that list's string: the same string, so comparing the lists later is cheap.
  const spelling = new Array<string | undefined>(members.length);
  const spell = (slots: number[], holeAddress: readonly string[] = [], holeCount = 0): Slots => {
    const servers: string[] = [];
    let ready = 0;
    for (let i = 0; i < slots.length; i++) {
      const m = slots[i]!;
      if (m >= 0) {
        servers.push(spelling[m] ?? members[m]!.address);
        if (members[m]!.ready) ready++;
        continue;
      }
      // A hole (or a StatefulSet ordinal without an endpoint) serves nothing, whatever address it shows.
      servers.push(holeAddress[i]!);
    }
    const live = servers.length - holeCount;
    if (holeCount === 0) return { servers, live, ready, holes: 0 };
    return { servers, weights: slots.map((m) => (m < 0 ? 0 : 1)), live, ready, holes: holeCount };
  };
  const sortByAddress = (positions: number[]) => sortNatural(positions, (m) => members[m]!.address);
  const everyMember = () => members.map((_, m) => m);

  // A replicated route keeps nothing for an absent pod, a StatefulSet's either: an AllSync write to it would fail.
  const ordinals = !isReplicated(mode) && dnsAddress && statefulSetOrdinals(members, current, dnsAddress, wanted);
  if (ordinals) {
    // An ordinal without an endpoint keeps its DNS name: a hole-like entry that still counts as live, spelt
    // as the current list spells it (its port may not be the one most endpoints have now), when that list
    // holds one of the pods there now. A list that holds none may be another port's, of other servers (a pool
    // moved, spec first, to another port kept its old list meanwhile): its spelling would route there.
    const { prefix, start, slots } = ordinals;
    const spelt = slots.includes(undefined) && current !== undefined && holdsMember(current, memberAt) ? currentByHost(current) : undefined;
    const dns = slots.map((m, i) => {
      if (m !== undefined) return '';
      const address = dnsAddress(`${prefix}-${start + i}`);
      return spelt?.get(hostOf(address)) ?? address;
    });
    return spell(slots.map((m) => m ?? -1), dns);
  }

  const listed = current !== undefined && current.servers.length > 0;
  if (listed && mode === 'ch3') return withHoles(current, members, memberAt, spelling, sortByAddress, spell);
  const order = listed ? keepOrder(current, members, memberAt, spelling, sortByAddress) : sortByAddress(everyMember());
  if (mode !== 'failover') return spell(order);
  // Then those ready before the others, each in that order. One not ready, or terminating, is restarting and
  // likely comes back empty (a memcached restarted in its pod keeps its endpoint): it goes behind those that are
  // ready, for good, so that a Failover read goes on to a replica that holds its keys. Moving it moves no key:
  // every replica gets every write.
  const serving = (m: number) => members[m]!.ready && !members[m]!.terminating;
  return spell([...order.filter(serving), ...order.filter((m) => !serving(m))]);
}

/** Without holes: survivors in their order, newcomers after. */
function keepOrder(
  current: ServerList,
  members: Member[],
  memberAt: MemberIndex,
  spelling: (string | undefined)[],
  sortByAddress: (positions: number[]) => number[],
): number[] {
  const survivors: number[] = [];
  current.servers.forEach((s, i) => {
    const m = current.weights?.[i] !== 0 ? memberAt.get(s) : -1;
    // A server listed twice (a config edited by hand) keeps its first place only.
    if (m < 0 || spelling[m] !== undefined) return;
    survivors.push(m);
    spelling[m] = s;
  });
  const newcomers: number[] = [];
  for (let m = 0; m < members.length; m++) if (spelling[m] === undefined) newcomers.push(m);
  return survivors.concat(sortByAddress(newcomers));
}

function withHoles(
  current: ServerList,
  members: Member[],
  memberAt: MemberIndex,
  spelling: (string | undefined)[],
  sortByAddress: (positions: number[]) => number[],
  spell: (slots: number[], holeAddress: readonly string[], holes: number) => Slots,
): Slots {
  // A member's position, or -1 for a hole; a hole shows the address its slot has in the current list.
  const slots: number[] = [];
  const holeAddress = current.servers;
  const holeByAddress = new Map<string, number>();
  current.servers.forEach((server, i) => {
    const m = current.weights?.[i] !== 0 ? memberAt.get(server) : -1;
    // A server listed twice (a config edited by hand) keeps its first slot; the second becomes a hole, so
    // that it no longer takes a double share of the keys and no other server's keys move.
    if (m >= 0 && spelling[m] === undefined) {
      slots.push(m);
      // Also: this member has kept its slot.
      spelling[m] = server;
    } else {
      slots.push(-1);
      // Two holes may show one address (the second copy of a server listed twice): a returning server takes the first.
      if (!holeByAddress.has(server)) holeByAddress.set(server, i);
    }
  });
  let newcomers: number[] = [];
  const leavingNewcomers: number[] = [];
  let anyLeaving = false;
  for (let m = 0; m < members.length; m++) {
    const member = members[m]!;
    if (member.terminating) anyLeaving = true;
    if (spelling[m] !== undefined) continue;
    const hole = holeByAddress.size > 0 ? holeByAddress.get(member.address) : undefined;
    // A member returning to the address its hole shows takes that hole back.
    if (hole !== undefined) slots[hole] = m;
    else if (member.terminating) leavingNewcomers.push(m);
    else newcomers.push(m);
  }
  // A terminating pod that has no slot never gets one (it is about to go), unless it is all there is.
  if (newcomers.length === 0 && slots.every((m) => m < 0)) newcomers = leavingNewcomers;
  sortByAddress(newcomers);
  // Newcomers go first where keys are lost anyway: a slot whose server left in this sync, then a terminating
  // pod's (a replacement pod often shows up while the pod it replaces is still terminating). Only then an older
  // hole, whose keys live servers have held since it opened, and that a newcomer takes from them; and only then
  // the tail, which takes a share of every server's keys.
  let next = 0;
  const fill = (takes: (m: number, i: number) => boolean) => {
    for (let i = 0; i < slots.length && next < newcomers.length; i++) if (takes(slots[i]!, i)) slots[i] = newcomers[next++]!;
  };
  fill((m, i) => m < 0 && current.weights?.[i] !== 0);
  if (anyLeaving) fill((m) => m >= 0 && members[m]!.terminating);
  fill((m) => m < 0);
  while (next < newcomers.length) slots.push(newcomers[next++]!);

  let holes = slots.reduce((n, m) => (m < 0 ? n + 1 : n), 0);
  // Trailing holes go while they are this sync's: their servers' keys are lost anyway, and Ch3 being consistent, a
  // shorter list moves no other key. An older hole's keys have been rehashed onto live servers since it opened, and
  // dropped, it would send them to other live servers (WeightedCh3 rehashes over the list's length): it stays, at
  // the tail too, until a server fills it or compaction, which moves keys anyway.
  const dropTrailingHoles = (olderToo: boolean) => {
    while (slots.length > 0 && slots[slots.length - 1]! < 0 && (olderToo || current.weights?.[slots.length - 1] !== 0)) {
      slots.pop();
      holes--;
    }
  };
  dropTrailingHoles(false);
  // Compaction: the tail server moves into the first hole (its keys move once) until holes are at most half.
  let firstHole = 0;
  while (holes > slots.length * MAX_HOLE_SHARE) {
    while (slots[firstHole]! >= 0) firstHole++;
    slots[firstHole] = slots.pop()!;
    holes--;
    dropTrailingHoles(true);
  }
  return spell(slots, holeAddress, holes);
}

/**
 * StatefulSet pods: every member has a DNS hostname `PREFIX-N` with one common
 * prefix. The list runs from the first ordinal to the highest; an ordinal with
 * no endpoint keeps its slot (its DNS name stays valid), so scaling touches
 * only the tail.
 *
 * With the StatefulSet itself (named PREFIX), the list also keeps the tail of
 * the current list (up to the highest pod it lists, in whatever order) that its
 * `spec.replicas` still wants: the highest pod,
 * which a rolling restart takes down first, keeps its slot while it is away,
 * and only a scale-down shortens the list. A pod the StatefulSet wants that has
 * never had an endpoint gets no slot until it has one (a Pending pod would
 * hold its keys failing). Without the StatefulSet, the list ends at the
 * highest ordinal that has an endpoint.
 *
 * The first ordinal is the StatefulSet's `spec.ordinals.start`; without the
 * StatefulSet, the lowest ordinal of the current list and of the members. So
 * a first pod that is away keeps its slot while the current list has it; only
 * a list started while it was away (a first sync) begins after it, and moves
 * every key once it returns. Starting at 0 instead would list, for good,
 * names that a StatefulSet starting higher never has.
 */
function statefulSetOrdinals(
  members: Member[],
  current: ServerList | undefined,
  dnsAddress: (hostname: string) => string,
  wanted: ((prefix: string) => WantedOrdinals | undefined) | undefined,
): { prefix: string; start: number; slots: (number | undefined)[] } | undefined {
  // Every hostname is PREFIX-N with the first one's prefix: all of it up to its last dash (N has none).
  const first = members[0]?.hostname;
  const dash = first?.lastIndexOf('-') ?? -1;
  if (dash < 0) return undefined;
  const prefix = first!.slice(0, dash);
  const ordinals = new Array<number>(members.length);
  let min = Number.MAX_SAFE_INTEGER;
  let max = -1;
  for (let i = 0; i < members.length; i++) {
    const hostname = members[i]!.hostname;
    if (hostname === undefined || hostname.charCodeAt(prefix.length) !== DASH || !hostname.startsWith(prefix)) return undefined;
    const n = ordinalIn(hostname, prefix.length + 1, hostname.length);
    if (n < 0) return undefined;
    ordinals[i] = n;
    if (n < min) min = n;
    if (n > max) max = n;
  }
  const sts = wanted?.(prefix);
  const listed = current && currentOrdinalRange(current, prefix, dnsAddress);
  const start = sts && sts.start <= min ? sts.start : listed && listed.lowest < min ? listed.lowest : min;
  let last = max;
  if (sts && listed) last = Math.max(max, Math.min(listed.highest, sts.start + sts.replicas - 1));
  // A list far longer than the pods there are, and than the list already spelt out, is not a StatefulSet we
  // should spell out slot by slot (the kept tail never reaches past the current list).
  if (last - start >= Math.max(members.length, current?.servers.length ?? 0) * 2 + 16) return undefined;
  const slots = new Array<number | undefined>(last - start + 1).fill(undefined);
  for (let i = 0; i < members.length; i++) {
    const slot = ordinals[i]! - start;
    // One hostname at two addresses (hand-written Endpoints listing it on two ports): the one that sorts first,
    // whichever was read first.
    const other = slots[slot];
    if (other === undefined || members[i]!.address < members[other]!.address) slots[slot] = i;
  }
  return { prefix, start, slots };
}

/** A DNS server's host: `HOST:PORT` (a DNS name has no colon). */
const hostOf = (server: string) => server.slice(0, server.lastIndexOf(':'));

/** The current list's servers by host. */
const currentByHost = (current: ServerList | undefined) => new Map(current?.servers.map((s) => [hostOf(s), s]));

/**
 * The lowest and highest ordinals among the current list's servers that are DNS names of pods `PREFIX-N`, on
 * whatever port, when the list has no holes (an ordinal list, or a replicated one): a replicated list keeps its
 * survivors' order, so its first and last servers need not be its lowest and highest pods.
 */
function currentOrdinalRange(
  current: ServerList,
  prefix: string,
  dnsAddress: (hostname: string) => string,
): { lowest: number; highest: number } | undefined {
  if (current.weights) return undefined;
  // Every pod's DNS host is its hostname and one domain (`.SERVICE.NAMESPACE.svc.CLUSTER_DOMAIN`), built once:
  // the list is read at every sync, and building each server's address to compare took a fifth of a steady
  // 5,000-pod StatefulSet sync.
  const head = `${prefix}-`;
  const domain = hostOf(dnsAddress(`${head}0`)).slice(head.length + 1);
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  for (const server of current.servers) {
    if (!server.startsWith(head)) continue;
    const host = hostOf(server);
    if (!host.endsWith(domain)) continue;
    const n = ordinalIn(host, head.length, host.length - domain.length);
    if (n < 0) continue;
    if (n < lowest) lowest = n;
    if (n > highest) highest = n;
  }
  return highest < lowest ? undefined : { lowest, highest };
}

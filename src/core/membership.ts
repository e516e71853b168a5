/**
 * Membership: which memcached servers back a (service, port) pair, read from
 * the Service and its EndpointSlices (or Endpoints) in `related`.
 *
 * Every endpoint that exists is a member, ready or not: a restarting pod keeps
 * its place (mcrouter marks a dead server down by itself) and a member leaves
 * only when its endpoint is gone.
 */
import { SERVICE_NAME_LABEL, SLICE_CONTROLLER, SLICE_MANAGED_BY_LABEL, SLICE_MIRRORING_CONTROLLER, replicasOf, type EndpointSlice, type Endpoints, type Service, type ServicePort, type StatefulSet } from '../api/kubernetes.js';
import { DNS1123_SUBDOMAIN, DNS_NAME_MAX_LENGTH, PORT_MAX } from '../api/formats.js';
import { naturalOrder } from './natural-order.js';
import { StringIndex } from './string-index.js';
import type { PoolRef, PortRef } from './topology.js';

/** Every field always set: one object shape for every member keeps the code that reads thousands of them monomorphic. */
export interface Member {
  /** The server as mcrouter's config names it: `host:port`, IPv6 in brackets. */
  address: string;
  ready: boolean;
  /** The endpoint is terminating: its pod is going away and will not come back at this address. */
  terminating: boolean;
  /** The pod's hostname when the address is its DNS name (StatefulSet pods behind a headless Service). */
  hostname: string | undefined;
}

export type Membership =
  | { state: 'ServiceNotFound' }
  | { state: 'PortNotFound'; available: string[] }
  | {
      state: 'Found';
      /** One per address. */
      members: Member[];
      /** Each member's address to its position in `members`, and a dual-stack pod's other family's address to its. */
      indexOf: StringIndex;
      /** Builds a member's DNS address from a hostname, when the Service gives pods DNS names. */
      dnsAddress?: (hostname: string) => string;
      /** Endpoints listed without this port: no members. */
      withoutPort: number;
      /**
       * Of those, the ones written by hand or by a controller other than Kubernetes' own from the Service's
       * selector: their ports are named otherwise than the Service's. The others' pods lack its target port.
       */
      misnamed: number;
      /** The Service selects pods, so Kubernetes lists them; without a selector, its endpoints are someone else's to write. */
      selector: boolean;
    };

export interface RelatedObjects {
  services: Service[];
  endpoints: Endpoints[];
  endpointSlices: EndpointSlice[];
}

export interface ServiceObjects {
  service?: Service;
  endpoints?: Endpoints;
  slices: EndpointSlice[];
}

/** Groups `related` by service name once per sync, so each leaf is a map lookup. */
export function indexRelated(related: RelatedObjects, namespace: string): Map<string, ServiceObjects> {
  const index = new Map<string, ServiceObjects>();
  const entry = (name: string) => {
    let e = index.get(name);
    if (!e) index.set(name, (e = { slices: [] }));
    return e;
  };
  const inNamespace = (ns: string | undefined) => ns === undefined || ns === namespace;
  for (const s of related.services) if (inNamespace(s.metadata.namespace)) entry(s.metadata.name).service = s;
  for (const e of related.endpoints) if (inNamespace(e.metadata.namespace)) entry(e.metadata.name).endpoints = e;
  for (const slice of related.endpointSlices) {
    const owner = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (owner && inNamespace(slice.metadata.namespace)) entry(owner).slices.push(slice);
  }
  return index;
}

/**
 * Whether a pool's servers are read from its Service's EndpointSlices rather than its Endpoints object: when it has
 * any, unless each is the mirroring controller's copy of the Endpoints object the request holds too (a Service
 * without a selector, its endpoints written by hand; or one that has just gained a selector, whose Endpoints are
 * then the selector's, before the mirror goes). That copy holds at most 1,000 addresses of each subset
 * (kube-controller-manager's --mirroring-max-endpoints-per-subset, 1,000 at most) and follows the Endpoints object
 * with a lag: the servers written past it would leave the pool.
 */
function readsSlices(objects: ServiceObjects): boolean {
  if (objects.slices.length === 0) return false;
  if (objects.endpoints === undefined) return true;
  return objects.slices.some((slice) => slice.metadata.labels?.[SLICE_MANAGED_BY_LABEL] !== SLICE_MIRRORING_CONTROLLER);
}

/** How many endpoints the pool reads: the most pods it can have. */
function endpointCount(objects: ServiceObjects, fromSlices: boolean): number {
  let n = 0;
  if (fromSlices) for (const slice of objects.slices) n += slice.endpoints?.length ?? 0;
  else for (const subset of objects.endpoints?.subsets ?? []) n += (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0);
  return n;
}

interface Candidate extends Member {
  primaryFamily: boolean;
  /**
   * The pod's address in the Service's other family, when a dual-stack Service lists it there too. Kubernetes
   * writes the two families' slices one at a time, so a new pod may first show in the other family's alone and
   * take its slot as that family spells it: the current list then holds it at this address.
   */
  alias: string | undefined;
  /** Every listing of a pod seen at more than one address, its own included: picked from once all are read. */
  listings?: Member[];
  /** Its listings in the other family, once it has one in the primary: the alias is picked from them once all are read. */
  otherListings?: Member[];
}

type ObjectRef = { kind?: string; namespace?: string; name?: string } | null | undefined;
/** The ports of an EndpointSlice, or of an Endpoints subset. */
type EndpointPorts = ReadonlyArray<{ name?: string | null; port?: number | null }> | null | undefined;

/**
 * The Service port a leaf names. By number, TCP first: memcached's port may also be open for UDP under
 * another name, with a target of its own. By name; and a name that no port has and that quotes a port
 * number (templated YAML quotes them) is that number.
 */
function servicePortOf(ports: readonly ServicePort[], port: number | string): ServicePort | undefined {
  const byNumber = (n: number) => ports.find((p) => p.port === n && (p.protocol ?? 'TCP') === 'TCP') ?? ports.find((p) => p.port === n);
  if (typeof port === 'number') return byNumber(port);
  const quoted = portNumberOf(port);
  return ports.find((p) => p.name === port) ?? (quoted !== undefined ? byNumber(quoted) : undefined);
}

/** A port number as a port name of digits only spells it (a quoted number in templated YAML): 1 to PORT_MAX. */
const QUOTED_NUMBER = /^[1-9][0-9]{0,4}$/;

/** A port's number when it is written as one, quoted or not; a name has none until a Service resolves it. */
const portNumberOf = (port: PortRef): number | undefined =>
  typeof port === 'number' ? port : QUOTED_NUMBER.test(port) && Number(port) <= PORT_MAX ? Number(port) : undefined;

/** A port number, or a name quoting one, as the Service port of a Service that lists none. */
function portNumber(port: number | string): ServicePort | undefined {
  const number = portNumberOf(port);
  return number === undefined ? undefined : { port: number, targetPort: number, protocol: 'TCP' };
}

/**
 * No port the leaf names: the Service's ports, as `NAME/NUMBER`, for the status message. By number, then name:
 * Kubernetes keys a Service's ports by port and protocol, and an apply may reorder them, which must not change
 * the status.
 */
const portNotFound = (ports: readonly ServicePort[]): Membership => ({
  state: 'PortNotFound',
  available: [...ports]
    .sort((a, b) => a.port - b.port || naturalOrder(a.name ?? '', b.name ?? ''))
    .map((p) => (p.name ? `${p.name}/${p.port}` : String(p.port))),
});

/**
 * Another listing of a server at the same address (a slice being rewritten, or two identities behind one
 * address): ready if either says so, terminating only if both do. In any order, the same.
 */
function absorb(into: Member, ready: boolean, terminating: boolean): void {
  into.ready ||= ready;
  into.terminating &&= terminating;
}

/** A candidate's own listing, as its first among several. */
const listingOf = ({ address, ready, terminating, hostname }: Member): Member => ({ address, ready, terminating, hostname });

/** Ready and staying beats staying, which beats terminating. */
const liveness = (ready: boolean, terminating: boolean): number => (terminating ? 0 : ready ? 2 : 1);

/** Whether what is `live` at `address` comes before what is `otherLive` at `otherAddress`: the livelier, then the address that sorts first. */
const outranks = (live: number, address: string, otherLive: number, otherAddress: string): boolean =>
  live > otherLive || (live === otherLive && address < otherAddress);

/**
 * Of one pod's listings at several addresses, the live one: each address ready if any of its listings says
 * so, terminating if all do; then the best by liveness, and between equals the address that sorts first.
 * Never one address's flags with another's address.
 */
function liveListing(listings: Member[]): Member {
  const byAddress = new Map<string, Member>();
  for (const l of listings) {
    const seen = byAddress.get(l.address);
    if (seen) absorb(seen, l.ready, l.terminating);
    else byAddress.set(l.address, { ...l });
  }
  let best: Member | undefined;
  for (const m of byAddress.values()) {
    if (best === undefined || outranks(liveness(m.ready, m.terminating), m.address, liveness(best.ready, best.terminating), best.address)) best = m;
  }
  return best!;
}

/**
 * An ExternalName Service (memcached outside the cluster, behind a DNS name) is one server, its name: it has
 * no endpoints, and mcrouter resolves the name itself. Its ports, when it has any, only name numbers: a
 * port number needs none.
 */
function externalMembership(service: Service, ports: readonly ServicePort[], port: number | string): Membership {
  const listed = servicePortOf(ports, port);
  const number = listed?.port ?? portNumberOf(port);
  if (number === undefined) return portNotFound(ports);
  const host = service.spec?.externalName;
  const indexOf = new StringIndex(1);
  // Kubernetes requires a DNS-1123 subdomain here (an IP address it rejects); a trailing dot is DNS's own spelling.
  const bare = host?.endsWith('.') ? host.slice(0, -1) : (host ?? '');
  if (!host || host.length > DNS_NAME_MAX_LENGTH || !SUBDOMAIN.test(bare)) {
    return { state: 'Found', members: [], indexOf, withoutPort: 0, misnamed: 0, selector: true };
  }
  const address = `${bare}:${number}`;
  indexOf.add(address, 0);
  return { state: 'Found', members: [{ address, ready: true, terminating: false, hostname: undefined }], indexOf, withoutPort: 0, misnamed: 0, selector: true };
}

const SUBDOMAIN = new RegExp(DNS1123_SUBDOMAIN);

/** The member list of one pool. `clusterDomain` builds StatefulSet DNS names. */
export function membershipOf(
  ref: PoolRef,
  objects: ServiceObjects | undefined,
  namespace: string,
  clusterDomain: string,
): Membership {
  const service = objects?.service;
  if (!service) return { state: 'ServiceNotFound' };
  const ports = service.spec?.ports ?? [];
  if (service.spec?.type === 'ExternalName') return externalMembership(service, ports, ref.port);
  // Pod DNS names resolve only for headless Services; a Service read without a clusterIP is taken as headless.
  const clusterIP = service.spec?.clusterIP;
  const headless = clusterIP === undefined || clusterIP === 'None';
  // A headless Service may define no ports (only a headless one may): its pods are reached at their own
  // addresses, and the endpoints Kubernetes lists for it have no ports either. A port number is then the
  // port the pods listen on; a name names nothing.
  const portless = headless && ports.length === 0;
  const servicePort = servicePortOf(ports, ref.port) ?? (portless ? portNumber(ref.port) : undefined);
  if (!servicePort) return portNotFound(ports);
  const selector = service.spec?.selector;
  const selected = selector !== undefined && selector !== null && Object.keys(selector).length > 0;
  const dnsDomain = headless ? `${ref.service}.${namespace}.svc.${clusterDomain}` : undefined;

  const fromSlices = readsSlices(objects);
  const endpointPorts = new EndpointPortTally(servicePort, portless);
  const pods = new PodListings(endpointCount(objects, fromSlices), namespace, dnsDomain, service.spec?.ipFamilies?.[0] ?? 'IPv4');
  if (fromSlices) readSlices(objects.slices, selected, endpointPorts, pods);
  // Read in place of its mirror, an Endpoints object's addresses are spelt as the mirror spells them, so that a
  // server keeps its name whichever of the two is read: hooks before this one read the mirror, and this one reads
  // the slices again once another writer's appear beside it.
  else readEndpoints(objects.endpoints, objects.slices.length > 0 ? asMirrored : undefined, selected, endpointPorts, pods);

  const { members, memberAt } = distinctAddresses(pods.settled());
  const { withoutPort, misnamed } = endpointPorts;
  const found: Membership = { state: 'Found', members, indexOf: memberAt, withoutPort, misnamed, selector: selected };
  const dnsPort = mostListedPort(endpointPorts.byPort);
  if (dnsDomain && dnsPort !== undefined) found.dnsAddress = (hostname) => `${hostname}.${dnsDomain}:${dnsPort}`;
  return found;
}

function readSlices(slices: readonly EndpointSlice[], selected: boolean, ports: EndpointPortTally, pods: PodListings): void {
  for (const slice of slices) {
    const cut = slice.metadata.labels?.[SLICE_MANAGED_BY_LABEL] === SLICE_CONTROLLER;
    const suffix = ports.suffix(slice.ports, selected || cut, slice.endpoints?.length ?? 0, cut);
    if (suffix === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses[0];
      if (ip === undefined) continue;
      // A nil `ready` is an unknown state, which consumers are told to treat as ready. Behind a Service with
      // publishNotReadyAddresses, `ready` is true for every pod, crashing or terminating: `serving` is then
      // the pod's own readiness (and elsewhere it differs from `ready` only for a terminating pod).
      const conditions = ep.conditions;
      const ready = conditions?.ready !== false && conditions?.serving !== false;
      pods.add(ep.targetRef, ip, suffix, ready, conditions?.terminating === true, slice.addressType, ep.hostname);
    }
  }
}

/** `spelt` rewrites each IP as it is read (asMirrored), where given. */
function readEndpoints(endpoints: Endpoints | undefined, spelt: ((ip: string) => string) | undefined, selected: boolean, ports: EndpointPortTally, pods: PodListings): void {
  for (const subset of endpoints?.subsets ?? []) {
    const listed = (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0);
    // Kubernetes writes the Endpoints of a Service with a selector; those of one without, someone else.
    const suffix = ports.suffix(subset.ports, selected, listed, selected);
    if (suffix === undefined) continue;
    // Endpoints objects drop terminating pods (but behind publishNotReadyAddresses, which lists every pod
    // as ready, terminating ones too: the EndpointSlices, read first, tell those apart).
    for (const [addresses, ready] of [[subset.addresses, true], [subset.notReadyAddresses, false]] as const) {
      for (const a of addresses ?? []) {
        const ip = spelt ? spelt(a.ip) : a.ip;
        pods.add(a.targetRef, ip, suffix, ready, false, ip.includes(':') ? 'IPv6' : 'IPv4', a.hostname);
      }
    }
  }
}

/**
 * Which port of a pool each slice or Endpoints subset lists, and how many endpoints list each port, or none of it
 * (the status counts those; the port most list names StatefulSet pods without an endpoint: mostListedPort).
 */
class EndpointPortTally {
  readonly byPort = new Map<number, number>();
  /** Endpoints listed without the pool's port. */
  withoutPort = 0;
  /** Of those, the ones Kubernetes did not write: someone wrote them for another port name. */
  misnamed = 0;
  private readonly portName: string;
  /**
   * The port of an endpoint that lists none. A selector-less Service's hand-written Endpoints may omit it, and the
   * slices mirrored from them then have none: the target is the Service's. The slices Kubernetes cuts from a
   * selector list a pod that lacks the target port without ports (discovery/v1: none defined, so kube-proxy sends
   * it nothing): nothing listens there, so it is no server. Such slices outlive a selector's removal.
   */
  private readonly fallbackPort: number;

  constructor(
    servicePort: ServicePort,
    /** A headless Service without ports: its endpoints list none, and a pool's port is the pods' own. */
    private readonly portless: boolean,
  ) {
    this.portName = servicePort.name ?? '';
    this.fallbackPort = typeof servicePort.targetPort === 'number' ? servicePort.targetPort : servicePort.port;
  }

  /**
   * The `:PORT` of the `listed` endpoints of one slice or subset, or undefined when they list no port of this pool:
   * counted either way. `cutFromSelector`: Kubernetes lists them from the Service's selector; `byKubernetes`: it wrote them.
   */
  suffix(list: EndpointPorts, cutFromSelector: boolean, listed: number, byKubernetes: boolean): string | undefined {
    const port = this.pick(list, cutFromSelector);
    if (port === undefined) {
      this.withoutPort += listed;
      if (!byKubernetes) this.misnamed += listed;
      return undefined;
    }
    this.byPort.set(port, (this.byPort.get(port) ?? 0) + listed);
    return `:${port}`;
  }

  private pick(list: EndpointPorts, cutFromSelector: boolean): number | undefined {
    if (!list || list.length === 0) return cutFromSelector && !this.portless ? undefined : this.fallbackPort;
    const named = list.find((p) => (p.name ?? '') === this.portName);
    // Kubernetes names endpoint ports after the Service's, so a lone port of another name is another
    // Service port's (a pod without the named target port is listed with the others only); a lone
    // unnamed one, in hand-written Endpoints, can only be this one.
    const chosen = named ?? (list.length === 1 && !list[0]!.name ? list[0] : undefined);
    if (!chosen) return undefined;
    // discovery/v1: a port without a number does not restrict the port, so the Service's target is it. One numbered
    // outside 1-65535 (a slice's port number is never validated) is no port anything listens on: no server.
    const port = chosen.port ?? this.fallbackPort;
    return port >= 1 && port <= PORT_MAX ? port : undefined;
  }
}

/**
 * One candidate member per pod, in order of first appearance, from every listing of it: a dual-stack Service lists
 * a pod once per family, a slice being rewritten lists it twice, and a pod recreated under a new IP may show at
 * both for a while. Nearly every endpoint names a Pod of this namespace: those are keyed by the pod's name alone,
 * in an index sized once for every endpoint.
 */
class PodListings {
  private readonly candidates: Candidate[] = [];
  private readonly podAt: StringIndex;
  private readonly otherAt = new Map<string, number>();

  constructor(
    endpoints: number,
    private readonly namespace: string,
    /** The Service's DNS domain, when it gives pods DNS names (a headless Service). */
    private readonly dnsDomain: string | undefined,
    private readonly primaryFamily: string,
  ) {
    this.podAt = new StringIndex(endpoints);
  }

  add(
    /** The endpoint's targetRef: the pod (or other object) behind it. */
    target: ObjectRef,
    ip: string,
    port: string,
    ready: boolean,
    terminating: boolean,
    family: string,
    hostname: string | null | undefined,
  ): void {
    const { candidates, dnsDomain, namespace } = this;
    // A pod's DNS name is its own only when its hostname is its name, as a StatefulSet sets it. Pods of a
    // Deployment whose template sets `hostname` and `subdomain` all share one name, which resolves to any
    // one of them. An endpoint without a pod (written by hand) names itself.
    const named = hostname && dnsDomain && (target?.kind !== 'Pod' || !target.name || target.name === hostname) ? hostname : undefined;
    const address = (named ? `${named}.${dnsDomain}` : ip.includes(':') ? `[${ip}]` : ip) + port;
    const primary = family === this.primaryFamily;
    let i: number;
    if (target?.name && target.kind === 'Pod' && (target.namespace === undefined || target.namespace === namespace)) {
      i = this.podAt.add(target.name, candidates.length);
    } else {
      const key = target?.name ? `${target.kind ?? ''}/${target.namespace ?? namespace}/${target.name}` : `address:${address}`;
      i = this.otherAt.get(key) ?? -1;
      if (i < 0) this.otherAt.set(key, candidates.length);
    }
    if (i < 0) {
      candidates.push({ address, ready, terminating, hostname: named, primaryFamily: primary, alias: undefined });
      return;
    }
    const seen = candidates[i]!;
    if (primary && !seen.primaryFamily) {
      // Dual-stack Services list a pod once per family: keep the Service's primary one, as it says, whichever
      // slice came first (the other family's may disagree for a moment: each slice is updated on its own).
      const other = seen.listings ?? [listingOf(seen)];
      candidates[i] = { address, ready, terminating, hostname: named, primaryFamily: primary, alias: undefined, otherListings: other };
    } else if (!primary && seen.primaryFamily) {
      (seen.otherListings ??= []).push({ address, ready, terminating, hostname: named });
    } else if (primary === seen.primaryFamily && address === seen.address && !seen.listings) {
      // The same pod in two slices of one family (a slice being rewritten).
      absorb(seen, ready, terminating);
    } else if (primary === seen.primaryFamily) {
      // One pod at two addresses (recreated under a new IP, one slice not rewritten yet). Picked once every
      // listing is read: merging two listings of one address as they come could make it outrank, or not, the
      // other address, by the order the slices came in.
      seen.listings ??= [listingOf(seen)];
      seen.listings.push({ address, ready, terminating, hostname: named });
    }
  }

  /** The candidates, once every listing is read: each pod's live listing, and its other family's address. */
  settled(): Candidate[] {
    for (const c of this.candidates) {
      if (c.listings) {
        Object.assign(c, liveListing(c.listings));
        delete c.listings;
      }
      // The other family's address the pod lives at, as its own is picked: in whatever order the slices came.
      if (c.otherListings) {
        c.alias = aliasOf(liveListing(c.otherListings).address, c.address);
        delete c.otherListings;
      }
    }
    return this.candidates;
  }
}

/** The other family's address of a pod, unless it is the same (a DNS name, which serves both families). */
const aliasOf = (other: string, own: string): string | undefined => (other === own ? undefined : other);

/**
 * One member per address: two identities behind one address are one server to mcrouter. The candidates are
 * the caller's own objects: the first at each address becomes the member. A member is also found at its
 * other family's address (its alias), unless that is another member's own: slot assignment then keeps the
 * slot, and the spelling, that a current list gave the pod under that address.
 */
function distinctAddresses(candidates: readonly Candidate[]): { members: Member[]; memberAt: StringIndex } {
  const members: Candidate[] = [];
  let aliases = 0;
  for (const c of candidates) if (c.alias !== undefined) aliases++;
  const memberAt = new StringIndex(candidates.length + aliases);
  // How live the pod is whose other-family address each member has: two pods at one address (an IP reused by a
  // new pod while the old one terminates) are one member, found at the livelier one's other address (at none,
  // when it has none yet), never at the terminating one's; between equals, at the one that sorts first,
  // whichever pod was read first.
  // Kept only where some pod has an alias (a dual-stack Service): single-stack pools pay nothing for it.
  const aliasLiveness: number[] = [];
  for (const c of candidates) {
    const i = memberAt.add(c.address, members.length);
    if (i < 0) {
      members.push(c);
      if (aliases > 0) aliasLiveness.push(liveness(c.ready, c.terminating));
      continue;
    }
    const member = members[i]!;
    absorb(member, c.ready, c.terminating);
    if (aliases === 0) continue;
    const live = liveness(c.ready, c.terminating);
    if (live > aliasLiveness[i]! || (live === aliasLiveness[i] && c.alias !== undefined && (member.alias === undefined || c.alias < member.alias))) {
      member.alias = c.alias;
      aliasLiveness[i] = live;
    }
  }
  // An other-family address two members claim (reused likewise) goes to the one whose pod there is livelier, then
  // to the one whose own address sorts first.
  if (aliases > 0) {
    const rank = members.map((m, i) => ({ i, live: aliasLiveness[i]!, address: m.address }));
    rank.sort((a, b) => (outranks(a.live, a.address, b.live, b.address) ? -1 : 1));
    for (const { i } of rank) {
      const { alias } = members[i]!;
      if (alias !== undefined) memberAt.add(alias, i);
    }
  }
  return { members, memberAt };
}

/**
 * The port that names a StatefulSet pod without an endpoint: the one most endpoints have (the lowest of equals),
 * whichever slice comes first. Slices may disagree for a while (a rollout that changes the container port), and
 * a slice may list only the Service's other ports.
 */
function mostListedPort(endpointsByPort: ReadonlyMap<number, number>): number | undefined {
  let dnsPort: number | undefined;
  for (const [port, endpoints] of endpointsByPort) {
    const most = dnsPort === undefined ? -1 : endpointsByPort.get(dnsPort)!;
    if (endpoints > most || (endpoints === most && port < dnsPort!)) dnsPort = port;
  }
  return dnsPort;
}

/**
 * An IP as the mirroring controller writes it into a slice: parsed and printed again (Go's net.IP String, after
 * ParseIPSloppy), so `2001:DB8:0:0::1` is `2001:db8::1`, `10.0.0.010` is `10.0.0.10`, and `::ffff:10.0.0.1`, an
 * IPv4 address, is `10.0.0.1`. What does not parse as an IP is left as written (the mirror leaves it out).
 */
function asMirrored(ip: string): string {
  if (!ip.includes(':')) {
    const octets = ip.split('.');
    return octets.length === 4 && octets.every((o) => /^[0-9]+$/.test(o) && Number(o) <= 255) ? octets.map(Number).join('.') : ip;
  }
  let host: string;
  try {
    // The URL standard prints IPv6 as Go does (RFC 5952: lower case, the first longest run of zeros as `::`).
    host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

const templateLabelsOf = (sts: StatefulSet): unknown => (sts.spec as { template?: { metadata?: { labels?: unknown } | null } | null }).template?.metadata?.labels;

/**
 * The StatefulSets (of the Service's namespace) scaled to 0 whose pods a Service would list: those whose pod
 * template its selector matches (a StatefulSet's `serviceName` only names the Service of its pods' DNS names).
 * Read only to say why a pool has no endpoints; the schema leaves these fields unchecked, so they are read with care.
 *
 * Asked of every pool without endpoints: the StatefulSets scaled to 0 are indexed by each label of their pod
 * template once, on the first question, and a Service's are found among those of one of its selector's labels
 * (testing every StatefulSet for every pool took a second for a parked proxy of 3,000 pools).
 */
export function scaledToZeroLookup(statefulSets: readonly StatefulSet[]): (service: Service | undefined) => string[] {
  let byLabel: Map<string, StatefulSet[]> | undefined;
  const labelKey = (key: string, value: unknown) => `${key}\u0000${String(value)}`;
  const indexed = () => {
    const index = new Map<string, StatefulSet[]>();
    for (const sts of statefulSets) {
      // Replicas first: a StatefulSet without a spec (the schema lets it through) wants one pod, and has no template to read.
      if (replicasOf(sts) !== 0) continue;
      const labels = templateLabelsOf(sts);
      if (typeof labels !== 'object' || labels === null) continue;
      for (const [key, value] of Object.entries(labels)) {
        const sets = index.get(labelKey(key, value));
        if (sets) sets.push(sts);
        else index.set(labelKey(key, value), [sts]);
      }
    }
    return index;
  };
  return (service) => {
    const selector = service?.spec?.selector;
    if (!selector) return [];
    const wanted = Object.entries(selector);
    if (wanted.length === 0) return [];
    byLabel ??= indexed();
    let fewest: StatefulSet[] = [];
    wanted.forEach(([key, value], i) => {
      const sets = byLabel!.get(labelKey(key, value)) ?? [];
      if (i === 0 || sets.length < fewest.length) fewest = sets;
    });
    // The index is by text: the match itself is exact.
    return fewest
      .filter((sts) => wanted.every(([key, value]) => (templateLabelsOf(sts) as Record<string, unknown>)[key] === value))
      .map((sts) => sts.metadata.name)
      .sort(naturalOrder);
  };
}

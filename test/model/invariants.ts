/**
 * What must hold after every sync, whatever happened before: the properties
 * that keep Metacontroller from deleting or breaking a user's proxy. Each is
 * written from DESIGN.md and checked against the model's own view of the
 * cluster, not against the code's.
 */
import { compileConfig, type RouteTree } from '../../src/mcrouter/route.js';
import { sampleKeys } from '../../src/mcrouter/keyspace.js';
import { RECONCILING_DEADLINE_SECONDS } from '../../src/api/proxy-status.js';
import type { Json } from '../fixtures/cluster.js';
import { childFault, statusFaults } from '../helpers/answer-contract.js';
import type { Cluster, ExpectedMember, ServiceName } from './cluster.js';
import type { HookCall } from './metacontroller.js';

/**
 * The Ready reasons whose wait runs out after RECONCILING_DEADLINE_SECONDS (README, Status; docs/operating.md): written
 * out here, so that a reason the code stops timing is a violation, not a new expectation.
 */
const RECONCILING_DEADLINE_REASONS: ReadonlySet<unknown> = new Set(['ServiceNotFound', 'PortNotFound', 'NoServers', 'NoReadyServers', 'NoAvailableReplicas']);

export class Violation extends Error {
  override name = 'Violation';
}

export interface Pool {
  servers: string[];
  weights?: number[];
}
export interface Config {
  pools: Record<string, Pool>;
  route: unknown;
}
export interface SyncAnswer {
  status: Json & { pools?: PoolStatus[] };
  children: Json[];
}
interface PoolStatus {
  name: string;
  service: string;
  port: number | string;
  servers: number;
  readyServers: number;
  holes: number;
  reason?: string;
}

export interface Expectations {
  /** The proxy as it was posted. */
  parent: Json;
  cluster: Cluster;
  /** The config in the observed ConfigMap the sync read, if any. */
  current: Config | undefined;
  /** What each of its pools was (`service/typeof port/port` to name), as the answer that wrote it said. */
  currentPools: ReadonlyMap<string, string> | undefined;
}

/** How often the rarer situations came up, to show that the runs reach them. */
export const stats = { keptWithoutMembers: 0, holes: 0, compactions: 0, errorRoutes: 0, stalledAtDeadline: 0, stalledWithoutReplicas: 0 };

/** Metacontroller's strict v2 decoding refuses any other top-level field. */
const RESPONSE_FIELDS = new Set(['status', 'children', 'resyncAfterSeconds']);
const KEYS = sampleKeys(256);
const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;

function must(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Violation(message);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What the API server requires of an answer (helpers/answer-contract.ts): a status the CRD takes and stores as is
 * (else Metacontroller's status write is refused whole and the proxy's status freezes), and, with `children`,
 * children the official Kubernetes schemas take.
 */
export function checkAnswerContract(answer: SyncAnswer, children: boolean): void {
  const faults = statusFaults(answer.status);
  must(faults.length === 0, `the API server would not store this status: ${faults.slice(0, 5).join('; ')}`);
  if (!children) return;
  for (const child of answer.children) {
    const fault = childFault(child);
    must(fault === undefined, `the API server would refuse a child: ${fault}`);
  }
}

/** Checks one /sync answer and returns it typed. */
export function checkSyncAnswer(call: HookCall, expect: Expectations): { answer: SyncAnswer; config: Config } {
  must(call.statusCode !== 500, `500: ${call.text}`);
  must(call.statusCode === 200, `a valid request was refused with ${call.statusCode}: ${call.text}`);
  const body = call.body as Record<string, unknown> | undefined;
  must(typeof body === 'object' && body !== null && !Array.isArray(body), `the answer is not a JSON object: ${call.text.slice(0, 200)}`);
  for (const key of Object.keys(body)) must(RESPONSE_FIELDS.has(key), `top-level field "${key}" breaks strict decoding`);
  must(typeof body['status'] === 'object' && body['status'] !== null, 'no status object');
  must(Array.isArray(body['children']), 'no children array');
  const answer = body as unknown as SyncAnswer;

  const config = checkChildren(answer, expect.parent);
  checkResync(body['resyncAfterSeconds'], answer, call, expect.parent);
  checkPools(answer, config, expect);
  return { answer, config };
}

/**
 * A timed sync exactly while there is something to wait for that Metacontroller would not sync on by itself,
 * unless the proxy is being deleted: a child the answer returns that was not in the request (Metacontroller may
 * have failed to create it), in 10 to 300 s; the deadline of a proxy Reconciling on a Service or its pods (or with no
 * mcrouter replica available: RECONCILING_DEADLINE_REASONS), which
 * then turns Stalled with nothing in the cluster changing. The earlier of the two. Such a Reconciling condition
 * is never past its deadline.
 */
function checkResync(resync: unknown, answer: SyncAnswer, call: HookCall, parent: Json): void {
  const observed = new Set<string>();
  const groups = (JSON.parse(call.requestText) as { children?: Record<string, Record<string, Json> | null> }).children ?? {};
  for (const [key, objects] of Object.entries(groups)) for (const o of Object.values(objects ?? {})) observed.add(`${key}/${String((o['metadata'] as Json)['name'])}`);
  const absent = answer.children.filter((c) => !observed.has(`${String(c['kind'])}.${String(c['apiVersion'])}/${String((c['metadata'] as Json)['name'])}`));
  const deleting = (parent['metadata'] as Json)['deletionTimestamp'] !== undefined;
  const childMissing = absent.length > 0 && !deleting;
  const reconciling = (answer.status['conditions'] as Json[] | undefined)?.find((c) => c['type'] === 'Reconciling');
  const timed = reconciling !== undefined && RECONCILING_DEADLINE_REASONS.has(reconciling['reason']);
  const since = timed ? Date.parse(String(reconciling['lastTransitionTime'])) : undefined;
  const deadline = since === undefined || deleting ? undefined : Math.ceil(RECONCILING_DEADLINE_SECONDS - (call.at.getTime() - since) / 1000);
  const what = `resyncAfterSeconds ${String(resync)} with ${absent.length} children not observed${deleting ? ', deleting' : ''}, Reconciling ${deadline === undefined ? 'no' : `${deadline} s before its deadline`}`;
  if (deadline !== undefined) must(deadline >= 1 && deadline <= RECONCILING_DEADLINE_SECONDS, `${what}: Stalled should have taken over`);
  const stalled = (answer.status['conditions'] as Json[] | undefined)?.find((c) => c['type'] === 'Stalled');
  if (stalled !== undefined && RECONCILING_DEADLINE_REASONS.has(stalled['reason'])) {
    const waited = (call.at.getTime() - Date.parse(String(stalled['lastTransitionTime']))) / 1000;
    must(reconciling === undefined && waited >= 0, `Stalled for ${String(stalled['reason'])} since ${String(stalled['lastTransitionTime'])}, at ${call.at.toISOString()}${reconciling ? ', with Reconciling' : ''}`);
    stats.stalledAtDeadline++;
    if (stalled['reason'] === 'NoAvailableReplicas') stats.stalledWithoutReplicas++;
  }
  if (!childMissing) must(resync === deadline, what);
  else must(typeof resync === 'number' && resync <= 300 && resync >= Math.min(10, deadline ?? 10) && resync <= (deadline ?? 300), what);
}

/** Exactly the design's children: nothing that Metacontroller would delete by omission, nothing extra. */
function checkChildren(answer: SyncAnswer, parent: Json): Config {
  const meta = parent['metadata'] as { name: string; namespace: string; generation: number };
  const replicas = (((parent['spec'] as Json)['mcrouter'] as Json | undefined)?.['replicas'] as number | undefined) ?? 1;
  const want = [
    `v1/ConfigMap/${meta.name}-mcrouter`,
    `apps/v1/Deployment/${meta.name}-mcrouter`,
    `v1/Service/${meta.name}`,
    ...(replicas > 1 ? [`policy/v1/PodDisruptionBudget/${meta.name}-mcrouter`] : []),
  ];
  const got = answer.children.map((c) => `${c['apiVersion']}/${c['kind']}/${(c['metadata'] as Json | undefined)?.['name']}`);
  must(same([...got].sort(), [...want].sort()), `children ${JSON.stringify(got)}, the design's are ${JSON.stringify(want)}`);
  for (const c of answer.children) {
    const m = c['metadata'] as Json;
    must(m['namespace'] === undefined || m['namespace'] === meta.namespace, `${String(c['kind'])} in another namespace`);
    must(m['ownerReferences'] === undefined && c['status'] === undefined, `${String(c['kind'])} sets ownerReferences or status`);
  }
  must(answer.status['observedGeneration'] === meta.generation, `observedGeneration ${String(answer.status['observedGeneration'])}, generation ${meta.generation}`);

  const cm = answer.children.find((c) => c['kind'] === 'ConfigMap')!;
  const text = (cm['data'] as Record<string, string> | undefined)?.['config.json'];
  must(typeof text === 'string', 'the ConfigMap has no config.json');
  let config: Config;
  try {
    config = JSON.parse(text) as Config;
  } catch (error) {
    throw new Violation(`config.json does not parse: ${String(error)}`);
  }
  must(typeof config.pools === 'object' && config.pools !== null, 'config.json has no pools');
  return config;
}

/**
 * How a pool's order matters, from every rule that routes to it (DESIGN 6, 7):
 * `ch3` when only Ch3-sharded rules use it (weight-0 holes allowed), `replicated`
 * when only replicated rules do (survivors keep their order; nothing kept for an
 * absent pod, a StatefulSet's either), `failover` when one of those reads
 * Failover or MissFailover (the same, and the ready members first: those read
 * the first server), `ordered` otherwise (survivors keep their order, no holes).
 */
type SlotMode = 'ch3' | 'ordered' | 'replicated' | 'failover';

/** The spec's leaves: distinct (service, port) pairs, each one pool. */
function leavesOf(spec: Json): { service: string; port: number | string; mode: SlotMode }[] {
  const leaves = new Map<string, { service: string; port: number | string; mode: SlotMode }>();
  const visit = (rule: Json) => {
    const service = rule['service'] as { name: string; port?: number | string } | undefined;
    if (service) {
      const port = service.port ?? 11211;
      const key = `${service.name}/${typeof port}/${port}`;
      const mode: SlotMode =
        rule['type'] === 'replicated' ? ((rule['readPolicy'] ?? 'Latest') === 'Latest' ? 'replicated' : 'failover') : (rule['hash'] ?? 'Ch3') === 'Ch3' ? 'ch3' : 'ordered';
      const seen = leaves.get(key);
      const replicas = (m: SlotMode) => m === 'replicated' || m === 'failover';
      const merged = seen === undefined || seen.mode === mode ? mode : replicas(seen.mode) && replicas(mode) ? 'failover' : 'ordered';
      leaves.set(key, { service: service.name, port, mode: merged });
    }
    for (const child of (rule['children'] as Json[] | undefined) ?? []) visit(child);
  };
  if (typeof spec['serviceName'] === 'string') {
    visit({ service: { name: spec['serviceName'], port: spec['servicePort'] } });
  } else {
    visit(spec['rules'] as Json);
  }
  return [...leaves.values()];
}

function checkPools(answer: SyncAnswer, config: Config, expect: Expectations): void {
  const { cluster, current } = expect;
  const spec = expect.parent['spec'] as Json;
  let tree: RouteTree;
  try {
    tree = compileConfig(config);
  } catch (error) {
    throw new Violation(`config.json does not compile as mcrouter would read it: ${String(error)}`);
  }

  const statuses = answer.status.pools ?? [];
  const leaves = leavesOf(spec);
  const pairs = (list: { service: string; port: number | string }[]) => list.map((l) => `${l.service}/${typeof l.port}/${l.port}`).sort();
  must(same(pairs(statuses), pairs(leaves)), `status.pools ${JSON.stringify(pairs(statuses))} for the leaves ${JSON.stringify(pairs(leaves))}`);
  must(new Set(statuses.map((p) => p.name)).size === statuses.length, 'two pools share a name');

  const referenced = new Set<string>();
  collectPoolNames(config.route, referenced);
  must(same([...referenced].sort(), Object.keys(config.pools).sort()), `the route uses pools ${JSON.stringify([...referenced])}, config.json has ${JSON.stringify(Object.keys(config.pools))}`);
  for (const [name, pool] of Object.entries(config.pools)) must(pool.servers.length > 0, `pool ${name} is empty: it must be left out (ErrorRoute)`);
  if (Object.keys(config.pools).length === 0) {
    must((config.route as Json | undefined)?.['type'] === 'ErrorRoute', `no pool has servers but the route is ${JSON.stringify(config.route)}`);
    stats.errorRoutes++;
  }

  // docs/topologies.md: a pool takes the mounted list of its own Service and port as written, whatever either pool is
  // called (a renamed pool keeps its list; a name that passed to another pool takes nothing of it).
  const listBefore = new Map<string, Pool>();
  const taken = new Set<string>();
  const unmatched: typeof statuses = [];
  for (const status of statuses) {
    const name = expect.currentPools?.get(`${status.service}/${typeof status.port}/${status.port}`);
    if (name === undefined) unmatched.push(status);
    else taken.add(name);
    const list = name === undefined ? undefined : current?.pools[name];
    if (list) listBefore.set(status.name, list);
  }
  // docs/topologies.md: a port written another way takes a mounted list of its Service that no pool claims, when that list
  // is the only one it can be and it the only pool that can be that list's: with members, a list holding one
  // of them; without its Service or port, the Service's one unclaimed list; with a Service of no endpoints, none.
  const candidates = new Map<string, string[]>();
  const claimants = new Map<string, number>();
  for (const status of unmatched) {
    const left = [...(expect.currentPools ?? [])]
      .filter(([key, name]) => key.startsWith(`${status.service}/`) && !taken.has(name) && current?.pools[name] !== undefined)
      .map(([, name]) => name);
    if (left.length === 0) continue;
    const now = cluster.expectedMembers(status.service, status.port);
    const can =
      'reason' in now
        ? now.reason !== 'NoServers' && left.length === 1 ? left : []
        : left.filter((name) => current!.pools[name]!.servers.some((s) => now.members.some((m) => m.address === s)));
    candidates.set(status.name, can);
  }
  // docs/membership.md: a pool with no list of its own Service to take (its Service renamed in the spec) takes a list
  // of a Service the spec no longer uses that no pool can be as its own Service's and that holds one of its members;
  // without members (its Service not there: a typo, or a pool replaced by one whose Service is not created yet), none.
  const usedServices = new Set(statuses.map((s) => s.service));
  const takenAsOwn = new Set([...candidates.values()].flat());
  const leftBehind = [...(expect.currentPools ?? [])]
    .filter(([key, name]) => !usedServices.has(key.slice(0, key.indexOf('/'))) && !taken.has(name) && !takenAsOwn.has(name) && current?.pools[name] !== undefined)
    .map(([, name]) => name);
  for (const status of unmatched.filter((s) => !candidates.has(s.name))) {
    const now = cluster.expectedMembers(status.service, status.port);
    if ('reason' in now) continue;
    const can = leftBehind.filter((name) => current!.pools[name]!.servers.some((s) => now.members.some((m) => m.address === s)));
    if (can.length === 0) continue;
    candidates.set(status.name, can);
  }
  for (const can of candidates.values()) for (const name of can) claimants.set(name, (claimants.get(name) ?? 0) + 1);
  for (const [pool, can] of candidates) if (can.length === 1 && claimants.get(can[0]!) === 1) listBefore.set(pool, current!.pools[can[0]!]!);

  let servers = 0;
  let ready = 0;
  for (const status of statuses) {
    const leaf = leaves.find((l) => l.service === status.service && l.port === status.port)!;
    const pool = config.pools[status.name];
    const before = listBefore.get(status.name);
    const label = `pool ${status.name}`;
    const expected = cluster.expectedMembers(status.service, status.port);

    if ('reason' in expected) {
      must(status.reason === expected.reason, `${label}: reason ${String(status.reason)}, expected ${expected.reason}`);
      // DESIGN 7: a pool with no members keeps the current config's list (a blip keeps the last servers).
      if (before && before.servers.length > 0) {
        stats.keptWithoutMembers++;
        // Holes stay only where a Ch3 route skips them: any other route would send keys or writes to them.
        const kept = leaf.mode === 'ch3' || !before.weights ? before : { servers: before.servers.filter((_, i) => before.weights![i] !== 0) };
        must(same(pool, kept), `${label} has no members now: its list must stay ${JSON.stringify(kept)}, got ${JSON.stringify(pool)}`);
      } else must(pool === undefined, `${label} has no members and had none: it must be left out, got ${JSON.stringify(pool)}`);
    } else {
      const readyAddresses = new Set(expected.members.filter((m) => m.ready).map((m) => m.address));
      // Members, none ready: still servers (a readiness blip moves no key), but the pool is not serving.
      const reason = readyAddresses.size === 0 ? 'NoReadyServers' : undefined;
      must(status.reason === reason, `${label}: reason ${status.reason} while it has members, ${readyAddresses.size} ready`);
      must(pool !== undefined && pool.servers.length > 0, `${label} lost its servers: ${JSON.stringify(expected.members)}`);
      checkMembers(label, pool, before, expected.members, leaf.mode, (n) => cluster.ordinalAddress(status.service, n), cluster.sendsStatefulSets ? cluster.get(status.service as ServiceName).replicas : undefined);
      must(status.readyServers === pool.servers.filter((s) => readyAddresses.has(s)).length, `${label}: readyServers ${status.readyServers}`);
    }
    if (pool) {
      const holes = pool.weights?.filter((w) => w === 0).length ?? 0;
      must(status.servers === pool.servers.length - holes && status.holes === holes, `${label}: status says ${status.servers} servers, ${status.holes} holes; config.json has ${JSON.stringify(pool)}`);
      checkHoles(label, pool, before, tree, status.name);
    } else {
      must(status.servers === 0, `${label}: ${status.servers} servers in status, none in config.json`);
    }
    servers += status.servers;
    ready += status.readyServers;
  }
  must(answer.status['servers'] === servers && answer.status['readyServers'] === ready, `status.servers/readyServers ${String(answer.status['servers'])}/${String(answer.status['readyServers'])}, pools sum to ${servers}/${ready}`);

  // Every destination of the whole tree is a live server of some pool.
  const live = new Set(Object.values(config.pools).flatMap((p) => p.servers.filter((_, i) => p.weights?.[i] !== 0)));
  for (const key of KEYS.slice(0, 64)) {
    for (const op of ['get', 'set'] as const) {
      for (const s of tree.route(key, op).primary) must(live.has(s), `key ${key} (${op}) goes to ${s}, which is not a live server`);
    }
  }
}

/** The members are exactly the pool's live servers, in the order DESIGN 6 asks for. */
function checkMembers(
  label: string,
  pool: Pool,
  before: Pool | undefined,
  members: ExpectedMember[],
  mode: SlotMode,
  ordinalAddress: (n: number) => string,
  /** The StatefulSet's spec.replicas (its ordinals start at 0), when Metacontroller sends it with the endpoints. */
  replicas: number | undefined,
): void {
  must(new Set(pool.servers).size === pool.servers.length, `${label} lists a server twice: ${JSON.stringify(pool.servers)}`);
  const addresses = members.map((m) => m.address);
  if (mode === 'replicated' || mode === 'failover') {
    // Its members and no other server (an AllSync write to an absent pod fails), no holes; survivors in the order
    // they had, then newcomers in natural order, and under Failover reads of those the ready ones first (a Failover
    // read goes to the first server, and one restarting or new is likely empty).
    const survivors = (before?.servers ?? []).filter((s, i) => before!.weights?.[i] !== 0 && addresses.includes(s));
    const unique = survivors.filter((s, i) => survivors.indexOf(s) === i);
    const serving = (address: string) => {
      const member = members.find((m) => m.address === address)!;
      return mode === 'replicated' || (member.ready && !member.terminating);
    };
    const order = [...unique, ...addresses.filter((a) => !unique.includes(a)).sort(natural)];
    const expected = [...order.filter(serving), ...order.filter((a) => !serving(a))];
    must(same(pool, { servers: expected }), `${label}: a replicated pool lists its survivors in their order, then its newcomers in natural order, the ready ones first: ${JSON.stringify(before)} -> ${JSON.stringify(pool)}`);
    return;
  }
  if (members.every((m) => m.ordinal !== undefined)) {
    const ordinals = members.map((m) => m.ordinal!);
    const ordinalOf = (server: string | undefined): number | undefined => {
      const n = server === undefined ? undefined : /^[^.]*-(\d+)\./.exec(server)?.[1];
      return n !== undefined && ordinalAddress(Number(n)) === server ? Number(n) : undefined;
    };
    // The ordinals the list before held, when it was an ordinal list (no holes, every entry a DNS name).
    const beforeOrdinals = before && !before.weights ? before.servers.map(ordinalOf) : [];
    const listedBefore = beforeOrdinals.every((n) => n !== undefined) ? (beforeOrdinals as number[]) : [];
    // Slot = ordinal, the list contiguous from the first ordinal: a missing ordinal keeps its slot by DNS name.
    let first: number;
    if (replicas !== undefined) {
      // The StatefulSet is sent: its first ordinal is 0 here (ordinals.start unset).
      first = 0;
    } else {
      // Without it, the first ordinal is the lowest of the members and of the list before: a first pod that
      // is away keeps its slot while there is a list to remember it. The lowest, not the first: a replicated
      // list keeps its survivors' order (2, 1, 0, 3), and a pool made sharded from it starts at its pod 0.
      first = Math.min(...ordinals, ...listedBefore);
    }
    const listed = pool.servers.map(ordinalOf);
    must(
      !pool.weights && listed.every((n, i) => n === first + i),
      `${label}: StatefulSet slots must run by ordinal from ${first} without holes, got ${JSON.stringify(pool)}`,
    );
    const end = first + pool.servers.length;
    // Every member sits at its ordinal.
    must(ordinals.every((n) => n >= first && n < end), `${label}: members ${JSON.stringify(ordinals)} outside the list ${JSON.stringify(pool.servers)}`);
    // With the StatefulSet, an ordinal listed before that it still wants keeps its slot (the highest pod
    // restarting); without it, the list ends at the highest member.
    const kept = replicas === undefined ? [] : listedBefore.filter((n) => n < replicas);
    must(kept.every((n) => n < end), `${label}: ordinals ${JSON.stringify(kept)} listed before and still wanted (replicas ${replicas}) lost their slots: ${JSON.stringify(pool.servers)}`);
    // And nothing beyond what the members and those kept slots need: a scale-down shortens the list.
    const needed = Math.max(...ordinals, ...kept) + 1;
    must(end === needed, `${label}: the list runs to ordinal ${end - 1}, the members and kept slots need ${needed - 1}: ${JSON.stringify(pool.servers)}`);
    return;
  }
  const live = pool.servers.filter((_, i) => pool.weights?.[i] !== 0);
  const missing = members.filter((m) => !live.includes(m.address));
  must(live.every((s) => addresses.includes(s)), `${label}: live servers ${JSON.stringify(live)} that are not members ${JSON.stringify(addresses)}`);
  if (!before || before.servers.length === 0) {
    must(same(pool, { servers: [...live].sort(natural) }), `${label}: a new pool is in natural order, got ${JSON.stringify(pool)}`);
    must(missing.length === 0, `${label}: members ${JSON.stringify(missing)} left out of a new pool`);
    return;
  }
  const wasLive = (s: string) => before.servers.some((b, i) => b === s && before.weights?.[i] !== 0);
  if (mode === 'ordered') {
    must(pool.weights === undefined, `${label}: weights on a pool that may not have holes`);
    must(missing.length === 0, `${label}: members ${JSON.stringify(missing)} dropped`);
    // Survivors keep their order, newcomers come after them.
    const survivors = before.servers.filter((s, i) => before.weights?.[i] !== 0 && addresses.includes(s));
    must(same(pool.servers.slice(0, survivors.length), survivors), `${label}: survivors ${JSON.stringify(survivors)} must lead in their order, got ${JSON.stringify(pool.servers)}`);
    return;
  }
  // ch3: a terminating member may give up its slot to the replacement that arrived for it; no other member is left out.
  for (const m of missing) {
    must(m.terminating, `${label}: member ${m.address} dropped: ${JSON.stringify(before)} -> ${JSON.stringify(pool)}`);
    const index = before.servers.indexOf(m.address);
    if (index >= 0 && wasLive(m.address)) {
      const heir = pool.servers[index];
      const heirMember = members.find((x) => x.address === heir);
      must(heirMember && !heirMember.terminating && !wasLive(heir!), `${label}: terminating ${m.address} left its slot to ${String(heir)}, not to a newcomer`);
    }
  }
  const survivors = before.servers.filter((s, i) => before.weights?.[i] !== 0 && live.includes(s));
  const moved = survivors.filter((s) => pool.servers.indexOf(s) !== before.servers.indexOf(s));
  const uncompacted = slotsWithoutCompaction(before, members);
  const compacted = uncompacted.holes * 2 > uncompacted.length;
  // An older hole is never dropped outside a compaction: WeightedCh3 would move the keys its server had, rehashed
  // onto live servers since it left, to other live servers.
  if (!compacted) {
    before.weights?.forEach((w, i) => {
      if (w === 0) must(i < pool.servers.length, `${label}: the older hole at ${i} dropped without a compaction: ${JSON.stringify(before)} -> ${JSON.stringify(pool)}`);
    });
    // A newcomer takes an older hole (not its own) only once no slot this sync vacated is left open and no
    // terminating member keeps its slot: those keys are lost anyway, and an older hole's live servers hold.
    const tookOlderHole = before.weights?.some((w, i) => w === 0 && i < pool.servers.length && pool.weights?.[i] !== 0 && pool.servers[i] !== before.servers[i]);
    if (tookOlderHole) {
      const present = new Set(addresses);
      const open = before.servers.filter((s, i) => before.weights?.[i] !== 0 && !present.has(s) && (i >= pool.servers.length || pool.weights?.[i] === 0));
      const holding = members.filter((m) => m.terminating && live.includes(m.address) && wasLive(m.address));
      must(
        open.length === 0 && holding.length === 0,
        `${label}: a newcomer took an older hole while ${JSON.stringify([...open, ...holding.map((m) => m.address)])} left slots open or still held them: ${JSON.stringify(before)} -> ${JSON.stringify(pool)}`,
      );
    }
  }
  if (moved.length === 0) return;
  // DESIGN 6: survivors move only in the compaction, when holes would exceed half the slots, and only down into a hole.
  must(
    compacted,
    `${label}: ${JSON.stringify(moved)} changed index without a compaction (${uncompacted.holes} holes in ${uncompacted.length} slots): ${JSON.stringify(before)} -> ${JSON.stringify(pool)}`,
  );
  for (const s of moved) must(pool.servers.indexOf(s) < before.servers.indexOf(s), `${label}: ${s} moved up in a compaction`);
  stats.compactions++;
}

/**
 * The slots before any compaction: survivors in place, a returning address
 * in its own hole, newcomers into the slots this sync vacated in order, then
 * into those of terminating members, then into the older holes, then
 * appended; a terminating pod without a slot gets none (unless nothing else
 * is left); trailing holes dropped up to an older one.
 */
function slotsWithoutCompaction(before: Pool, members: ExpectedMember[]): { length: number; holes: number } {
  const present = new Set(members.map((m) => m.address));
  const slots: (string | null)[] = before.servers.map((s, i) => (before.weights?.[i] !== 0 && present.has(s) ? s : null));
  const placed = new Set(slots);
  let newcomers: string[] = [];
  const leavingNewcomers: string[] = [];
  for (const m of members) {
    if (placed.has(m.address)) continue;
    const own = before.servers.indexOf(m.address);
    if (own >= 0 && slots[own] === null) slots[own] = m.address;
    else if (m.terminating) leavingNewcomers.push(m.address);
    else newcomers.push(m.address);
  }
  if (newcomers.length === 0 && slots.every((s) => s === null)) newcomers = leavingNewcomers;
  const leaving = new Set(members.filter((m) => m.terminating).map((m) => m.address));
  const vacated = (i: number) => before.weights?.[i] !== 0;
  for (let i = 0; i < slots.length && newcomers.length > 0; i++) if (slots[i] === null && vacated(i)) slots[i] = newcomers.shift()!;
  for (let i = 0; i < slots.length && newcomers.length > 0; i++) if (slots[i] !== null && leaving.has(slots[i]!)) slots[i] = newcomers.shift()!;
  for (let i = 0; i < slots.length && newcomers.length > 0; i++) if (slots[i] === null) slots[i] = newcomers.shift()!;
  slots.push(...newcomers);
  while (slots.length > 0 && slots[slots.length - 1] === null && before.weights?.[slots.length - 1] !== 0) slots.pop();
  return { length: slots.length, holes: slots.filter((s) => s === null).length };
}

/**
 * Holes are weight-0 entries: trailing only when older (dropped, their rehashed keys would move again), never more
 * than half, never a key's destination.
 */
function checkHoles(label: string, pool: Pool, before: Pool | undefined, tree: RouteTree, name: string): void {
  if (!pool.weights) return;
  must(pool.weights.length === pool.servers.length && pool.weights.every((w) => w === 0 || w === 1), `${label}: weights ${JSON.stringify(pool.weights)}`);
  const holes = new Set(pool.servers.filter((_, i) => pool.weights![i] === 0));
  stats.holes++;
  must(holes.size > 0, `${label}: weights without a hole (a pool without holes has none)`);
  const last = pool.weights.length - 1;
  const olderAtTail = before !== undefined && before.weights?.[last] === 0 && before.servers[last] === pool.servers[last];
  must(pool.weights[last] === 1 || olderAtTail, `${label}: a trailing hole that is not an older one ${JSON.stringify(before)} -> ${JSON.stringify(pool)}`);
  must(holes.size * 2 <= pool.servers.length, `${label}: ${holes.size} holes in ${pool.servers.length} slots, more than half`);
  // The pool as the config's route hashes it: a bare PoolRoute|NAME always hashes with the weights (WeightedCh3),
  // where the config's own PoolRoute may not (`hash: "Ch3"`), and a `Pool|NAME` list of replicas takes every server.
  // Not the config's whole route: another pool may hold the same address live (a pool kept as it was, its Service's
  // port renamed, beside one that reads the renamed port), and a key sent there reaches no hole of this one.
  const view = tree.poolView(name);
  must(view !== undefined && view !== 'replicas', `${label}: a pool with weight-0 holes ${view === 'replicas' ? 'used as a list of replicas, which writes to each' : 'that the route does not use'}`);
  for (const key of KEYS) {
    for (const op of ['get', 'set'] as const) {
      const to = view.route(key, op).primary;
      must(to.length > 0 && to.every((s) => !holes.has(s)), `${label}: key ${key} (${op}) is routed to ${JSON.stringify(to)}, a weight-0 hole among them`);
    }
  }
}

/** Pool names a route refers to: `PoolRoute|NAME`, `Pool|NAME`, `{type: PoolRoute, pool: NAME}`. */
function collectPoolNames(route: unknown, into: Set<string>): void {
  if (typeof route === 'string') {
    const m = /^(?:PoolRoute|Pool)\|(.+)$/.exec(route);
    if (m) into.add(m[1]!);
  } else if (Array.isArray(route)) {
    for (const r of route) collectPoolNames(r, into);
  } else if (typeof route === 'object' && route !== null) {
    const r = route as Json;
    if (r['type'] === 'PoolRoute' && typeof r['pool'] === 'string') into.add(r['pool']);
    for (const [k, v] of Object.entries(r)) if (k !== 'pool') collectPoolNames(v, into);
  }
}

/**
 * The nodes of a compiled route tree (route.ts): each stands for an mcrouter route handle and answers, for a
 * request (a key and an operation), the servers the handle sends it to, as the route factories of
 * mcrouter/routes build them. route-compiler.ts makes them from a config.
 */
import { WEIGHTED_CH3_TRIES, crc32IndexBytes, furcHashBytes, weightedCh3, weightedCh3Bytes } from './hash.js';
import { KeyBuffer, routingKey } from './key.js';
import { GET_SET, type Operation } from './operations.js';

/**
 * Where one request goes: `primary` are the servers it is sent to at once (every
 * replica of an AllSyncRoute, the one shard of a PoolRoute), `fallbacks` the
 * servers tried afterwards, in order, when those fail (or miss, for a
 * MissFailoverRoute get). Empty lists: the request is answered without a server
 * (ErrorRoute, NullRoute, an OperationSelectorRoute without a policy for it).
 */
export interface Destinations {
  primary: string[];
  fallbacks: string[];
  /** Why mcrouter answers this key with an error without routing it (see keyError); the lists are then empty. */
  refused?: string;
  /** A LatestRoute on the way orders replicas per mcrouter host: the lists are in config order, one host's may differ. */
  perHost?: true;
}

/** What a node answers with when it reaches no server. */
const ERROR_REPLY = Symbol('error reply');
/** A node's first destination; `undefined` is a reply with no server that is not an error (a miss). */
type First = string | typeof ERROR_REPLY | undefined;

interface Reach extends Destinations {
  /** Nothing reached, and the reply is an error (so a FailoverRoute tries its next child). */
  errorReply: boolean;
}

export class Request {
  readonly key = new KeyBuffer();
  op: Operation = 'get';
  /** A virtual mcrouter host, for the routes that choose per host (LatestRoute); undefined: config order. */
  host: number | undefined;

  set(key: string, op: Operation, host?: number): this {
    this.key.setText(routingKey(key));
    this.op = op;
    this.host = host;
    return this;
  }
}

export interface RouteNode {
  /**
   * An upper bound on the work of routing one key through this node: the destinations and children it may
   * visit, the tags it hashes, its salt's length. Callers that route many keys size their sample by it.
   */
  readonly cost: number;
  reach(req: Request): Reach;
  first(req: Request): First;
  /** Whether the way to a request's servers goes through a choice made per mcrouter host. */
  perHost(req: Request): boolean;
}

function nothing(errorReply: boolean): Reach {
  return { primary: [], fallbacks: [], errorReply };
}

export class Destination implements RouteNode {
  readonly cost = 1;
  constructor(readonly server: string) {}
  reach(): Reach {
    return { primary: [this.server], fallbacks: [], errorReply: false };
  }
  first(): First {
    return this.server;
  }
  perHost(): boolean {
    return false;
  }
}

/** ErrorRoute (an error reply) or NullRoute (an empty reply: a miss, "stored", ...). */
export class NoServer implements RouteNode {
  readonly cost = 1;
  constructor(readonly errorReply: boolean) {}
  reach(): Reach {
    return nothing(this.errorReply);
  }
  first(): First {
    return this.errorReply ? ERROR_REPLY : undefined;
  }
  perHost(): boolean {
    return false;
  }
}

export interface PoolHash {
  /** Work per key: Rendezvous scores every server. */
  readonly cost: number;
  indexBytes(bytes: Uint8Array, length: number): number;
}

/** HashRoute, and PoolRoute which is a HashRoute over its pool's servers. */
export class Hash implements RouteNode {
  readonly cost: number;
  constructor(
    private readonly children: readonly RouteNode[],
    private readonly hash: PoolHash,
    private readonly salt: Uint8Array,
  ) {
    this.cost = 1 + hash.cost + Math.ceil(salt.length / 64) + maxCost(children);
  }

  private child(req: Request): RouteNode {
    const key = req.key;
    const length = key.length;
    key.appendBytes(this.salt);
    const index = this.hash.indexBytes(key.bytes, key.length);
    key.truncate(length);
    return this.children[index]!;
  }
  reach(req: Request): Reach {
    return this.child(req).reach(req);
  }
  first(req: Request): First {
    return this.child(req).first(req);
  }
  perHost(req: Request): boolean {
    return this.child(req).perHost(req);
  }
}

/** AllSyncRoute, AllAsyncRoute, AllFastestRoute, AllMajorityRoute, AllInitialRoute: every child at once. */
export class All implements RouteNode {
  readonly cost: number;
  constructor(private readonly children: readonly RouteNode[]) {
    this.cost = 1 + sumCost(children);
  }
  reach(req: Request): Reach {
    const primary: string[] = [];
    const fallbacks: string[] = [];
    let errorReply = true;
    for (const child of this.children) {
      const r = child.reach(req);
      primary.push(...r.primary);
      fallbacks.push(...r.fallbacks);
      errorReply &&= r.errorReply;
    }
    return { primary, fallbacks, errorReply: primary.length === 0 && errorReply };
  }
  first(req: Request): First {
    let errorReply = true;
    for (const child of this.children) {
      const f = child.first(req);
      if (typeof f === 'string') return f;
      errorReply &&= f === ERROR_REPLY;
    }
    return errorReply ? ERROR_REPLY : undefined;
  }
  perHost(req: Request): boolean {
    return this.children.some((child) => child.perHost(req));
  }
}

/**
 * FailoverRoute (next child on an error reply) and MissFailoverRoute (next child
 * on any non-hit, for gets and deletes only; other operations go to the first
 * child alone, mcrouter routes/MissFailoverRoute.h).
 */
export class Failover implements RouteNode {
  readonly cost: number;
  constructor(
    private readonly children: readonly RouteNode[],
    private readonly onMiss: boolean,
  ) {
    this.cost = 1 + sumCost(children);
  }

  private targets(req: Request): readonly RouteNode[] {
    if (!this.onMiss || GET_SET.has(req.op) || req.op === 'delete') return this.children;
    return this.children.slice(0, 1);
  }
  reach(req: Request): Reach {
    let reached: Reach | undefined;
    let errorReply = false;
    for (const child of this.targets(req)) {
      const r = child.reach(req);
      if (reached) {
        reached.fallbacks.push(...r.primary, ...r.fallbacks);
      } else if (r.primary.length > 0) {
        reached = { primary: r.primary, fallbacks: [...r.fallbacks], errorReply: false };
      } else if (r.errorReply || this.onMiss) {
        errorReply = r.errorReply;
      } else {
        return nothing(false);
      }
    }
    return reached ?? nothing(errorReply);
  }
  first(req: Request): First {
    let last: First;
    for (const child of this.targets(req)) {
      last = child.first(req);
      if (typeof last === 'string') return last;
      if (last !== ERROR_REPLY && !this.onMiss) return undefined;
    }
    return last;
  }
  perHost(req: Request): boolean {
    return this.targets(req).some((child) => child.perHost(req));
  }
}

export class OperationSelector implements RouteNode {
  readonly cost: number;
  constructor(
    private readonly policies: ReadonlyMap<string, RouteNode>,
    private readonly defaultPolicy: RouteNode | undefined,
  ) {
    this.cost = 1 + maxCost([...policies.values(), ...(defaultPolicy ? [defaultPolicy] : [])]);
  }
  private policy(req: Request): RouteNode | undefined {
    return this.policies.get(req.op) ?? this.defaultPolicy;
  }
  // Without a policy mcrouter answers with the operation's default reply.
  reach(req: Request): Reach {
    return this.policy(req)?.reach(req) ?? nothing(false);
  }
  first(req: Request): First {
    return this.policy(req)?.first(req);
  }
  perHost(req: Request): boolean {
    return this.policy(req)?.perHost(req) ?? false;
  }
}

export class Ch3 implements PoolHash {
  readonly cost = 1;
  constructor(private readonly n: number) {}
  indexBytes(bytes: Uint8Array, length: number): number {
    return furcHashBytes(bytes, length, this.n);
  }
}

export class Crc32 implements PoolHash {
  readonly cost = 1;
  constructor(private readonly n: number) {}
  indexBytes(bytes: Uint8Array, length: number): number {
    return crc32IndexBytes(bytes, length, this.n);
  }
}

/** A WeightedCh3 try (a furc_hash and a SpookyHash of the key) takes about three furc_hash (0.38 against 0.14 µs). */
const WEIGHTED_CH3_TRY_COST = 3;

export class WeightedCh3 implements PoolHash {
  /**
   * What a key costs on average rather than at most: a try keeps the key with the chance of the weight of the
   * server it drew, so with `a` the pool's mean weight a key takes (1 - (1 - a)^32) / a tries, and all 32 where
   * every weight is 0 (a pool drained by hand). Its bound, 32 tries, would shrink the sample of every config
   * with a hole, whose keys take about one try; a sample is many keys, and their total is what the budget bounds.
   * Counted as 1 try, a hand-edited config of 64 drained pools under an AllSyncRoute took 11 s to route.
   */
  readonly cost: number;
  constructor(private readonly weights: Float64Array) {
    let sum = 0;
    for (const weight of weights) sum += weight;
    const meanWeight = sum / Math.max(1, weights.length);
    // 1 - (1 - a)^32 through expm1 and log1p: below a mean weight of 2^-53, 1 - a is 1, and the plain form gives 0 tries.
    const tries = meanWeight === 0 ? WEIGHTED_CH3_TRIES : Math.min(WEIGHTED_CH3_TRIES, -Math.expm1(WEIGHTED_CH3_TRIES * Math.log1p(-meanWeight)) / meanWeight);
    this.cost = Math.ceil(WEIGHTED_CH3_TRY_COST * tries);
  }
  indexBytes(bytes: Uint8Array, length: number): number {
    return weightedCh3Bytes(bytes, length, this.weights);
  }
}

export class Latest implements RouteNode {
  readonly cost: number;
  private readonly listed: RouteNode;
  private readonly byHost = new Map<number, RouteNode>();

  constructor(
    private readonly children: readonly RouteNode[],
    private readonly count: number,
    private readonly weights: Float64Array,
    private readonly salt: string,
  ) {
    this.listed = failoverOver(children.slice(0, count));
    // Each host's pick copies the children once; counted per key, as if every key came from another host.
    this.cost = 1 + children.length + count * maxCost(children);
  }

  private forHost(host: number | undefined): RouteNode {
    if (host === undefined) return this.listed;
    let node = this.byHost.get(host);
    if (!node) {
      const targets = [...this.children];
      const weights = [...this.weights];
      const picked: RouteNode[] = [];
      let seed = `host:${host}${this.salt}`;
      for (let i = 0; i < this.count; i++) {
        const at = weightedCh3(seed, weights);
        picked.push(targets[at]!);
        targets[at] = targets[targets.length - 1]!;
        targets.pop();
        weights[at] = weights[weights.length - 1]!;
        weights.pop();
        seed = `${seed}/${i}`;
      }
      node = failoverOver(picked);
      this.byHost.set(host, node);
    }
    return node;
  }
  reach(req: Request): Reach {
    return this.forHost(req.host).reach(req);
  }
  first(req: Request): First {
    return this.forHost(req.host).first(req);
  }
  perHost(): boolean {
    // Even one pick of several children is the host's own.
    return this.count > 0;
  }
}

const sumCost = (nodes: readonly RouteNode[]) => nodes.reduce((sum, node) => sum + node.cost, 0);
const maxCost = (nodes: readonly RouteNode[]) => nodes.reduce((most, node) => Math.max(most, node.cost), 0);

/** FailoverRoute over `targets`, as mcrouter's factories make it: none is NullRoute, one is that one. */
export function failoverOver(targets: readonly RouteNode[]): RouteNode {
  return nullOrSingle(targets) ?? new Failover(targets, false);
}

/** mcrouter's factories turn no children into NullRoute and one child into that child. */
export function nullOrSingle(children: readonly RouteNode[]): RouteNode | undefined {
  if (children.length === 0) return new NoServer(false);
  if (children.length === 1) return children[0];
  return undefined;
}

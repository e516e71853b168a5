/**
 * Reading an mcrouter config into route nodes (route-nodes.ts) the way mcrouter's route factory reads it
 * (mcrouter/routes/McRouteHandleProvider, lib/config/RouteHandleFactory-inl.h and the *RouteFactory.h files):
 * what it does not model is refused with an McrouterConfigError rather than guessed at.
 */
import { expandedByMcrouter } from './config-text.js';
import { FURC_MAX_POOL_SIZE, RendezvousHash } from './hash.js';
import { isOperation } from './operations.js';
import { All, Ch3, Crc32, Destination, Failover, Hash, Latest, NoServer, OperationSelector, WeightedCh3, failoverOver, nullOrSingle, type PoolHash, type RouteNode } from './route-nodes.js';

export class McrouterConfigError extends Error {
  override name = 'McrouterConfigError';
}

/**
 * How the route uses a pool: hashed by a PoolRoute (with its `hash` field), or by a HashRoute of which
 * `Pool|NAME` is a child (with the HashRoute's hash fields), or as a list of replicas.
 */
export type PoolUse = { by: 'PoolRoute'; hash: unknown } | { by: 'HashRoute'; fields: Json } | 'replicas';

/** A pool as read from the config. */
export interface Pool {
  name: string;
  servers: readonly string[];
  /** As written: WeightedCh3 reads the first weight of each server, and nothing beyond. */
  weights?: readonly unknown[];
  tags?: readonly string[];
}

export type Json = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readConfig(config: unknown): { pools: Map<string, Pool>; json: Json } {
  if (!isObject(config)) throw new McrouterConfigError('config: not a JSON object');
  // mcrouter's prefix routing: several route trees chosen by key prefix.
  if ('routes' in config) throw new McrouterConfigError('config: "routes" is not supported (use a single "route")');
  if ('named_handles' in config) throw new McrouterConfigError('config: "named_handles" is not supported (name a handle in the route itself: {"type": …, "name": …})');
  // JSONM: mcrouter expands them as it loads the config; what they stand for is not known here.
  if ('macros' in config) throw new McrouterConfigError('config: "macros" are not expanded: give the config as mcrouter expands it');
  const pools = new Map<string, Pool>();
  if (config.pools !== undefined) {
    if (!isObject(config.pools)) throw new McrouterConfigError('config: "pools" is not an object');
    // mcrouter reads every pool at load time, used or not: a broken one fails the config.
    for (const [name, json] of Object.entries(config.pools)) {
      pools.set(name, readPool(name, json, `pools.${name}`));
    }
  }
  return { pools, json: config };
}

function readPool(name: string, json: unknown, path: string): Pool {
  if (!isObject(json)) throw new McrouterConfigError(`${path}: pool is not an object`);
  const { servers, weights, tags } = json;
  if (!Array.isArray(servers)) throw new McrouterConfigError(`${path}: "servers" is not an array`);
  servers.forEach((server, i) => {
    if (typeof server !== 'string') {
      throw new McrouterConfigError(`${path}.servers[${i}]: only "host:port" strings are supported`);
    }
    if (expandedByMcrouter(server)) {
      throw new McrouterConfigError(`${path}.servers[${i}]: ${JSON.stringify(server)} is a macro, a %parameter% or an escape, which mcrouter expands and this does not`);
    }
  });
  const pool: Pool = { name, servers: servers as string[] };
  if (weights !== undefined) {
    if (!Array.isArray(weights)) throw new McrouterConfigError(`${path}.weights: not an array`);
    pool.weights = weights;
  }
  if (tags !== undefined) pool.tags = strings(tags, `${path}.tags`);
  return pool;
}

function strings(json: unknown, path: string): string[] {
  if (!Array.isArray(json) || !json.every((t) => typeof t === 'string')) {
    throw new McrouterConfigError(`${path}: not an array of strings`);
  }
  return json as string[];
}

/** The root node of the route `spec` over `pools`, and how it uses each pool. */
export function compileRoute(pools: ReadonlyMap<string, Pool>, spec: unknown, path: string): { root: RouteNode; uses: ReadonlyMap<string, PoolUse> } {
  const compiler = new Compiler(pools);
  return { root: compiler.create(spec, path), uses: compiler.uses };
}

/**
 * The most nodes a compiled route tree makes or references (each use of a pool counts its servers, each
 * use of a named handle its cost): far above any config the hook writes, where a pool is used by a leaf
 * or two (five times under a replicated rule).
 */
const MAX_ROUTE_NODES = 4_000_000;

const ALL_ROUTES = new Set(['AllSyncRoute', 'AllAsyncRoute', 'AllFastestRoute', 'AllMajorityRoute', 'AllInitialRoute']);

// PoolRoute options that add or change destinations (shadows, splits, bucketing):
// refused, since the answer would be wrong without them.
const UNSUPPORTED_POOL_ROUTE_OPTIONS = [
  'shadows',
  'shard_splits',
  'slow_warmup',
  'bucketize',
  'useBucketHashSelector',
  'weights_rv',
  'distribution_enabled',
];

/** Builds nodes as mcrouter's RouteHandleFactory does: a list flattens, a string "Type|arg" is a short form. */
class Compiler {
  /** The config's pools by how the route uses them: the first PoolRoute over one or HashRoute over its list, else a list of replicas. */
  readonly uses = new Map<string, PoolUse>();
  /** Nodes made or referenced so far: each use of a pool counts its servers. */
  private nodes = 0;
  /** One node per server of each pool, shared by every use of the pool. */
  private readonly serverNodes = new Map<Pool, readonly RouteNode[]>();
  /** The handles with a "name" made so far (mcrouter's RouteHandleFactory keeps them the same way). */
  private readonly named = new Map<string, RouteNode[]>();
  /** While a HashRoute's own children are read (not theirs): its hash fields. */
  private hashingPools: Json | undefined;

  constructor(private readonly pools: ReadonlyMap<string, Pool>) {}

  create(json: unknown, path: string): RouteNode {
    const list = this.createList(json, path);
    if (list.length !== 1) {
      throw new McrouterConfigError(`${path}: ${list.length} route handles where exactly one is expected`);
    }
    return list[0]!;
  }

  /** A named handle used again, counted at its cost: a handle of two uses of the one before doubles at each name. */
  private reused(nodes: RouteNode[], path: string): RouteNode[] {
    this.made(nodes.reduce((n, node) => n + node.cost, 0), path);
    return nodes;
  }

  /** Counts `n` more nodes: a config that names a large pool many times would otherwise fill the heap. */
  private made(n: number, path: string): void {
    this.nodes += n;
    if (this.nodes > MAX_ROUTE_NODES) throw new McrouterConfigError(`${path}: the route tree has more than ${MAX_ROUTE_NODES} nodes`);
  }

  createList(json: unknown, path: string): RouteNode[] {
    if (Array.isArray(json)) return json.flatMap((item, i) => this.createList(item, `${path}[${i}]`));
    this.made(1, path);
    if (isObject(json)) {
      // A handle with a "name" is made once: a later object of that name, or the name as a string, is the first one.
      const name = typeof json.name === 'string' ? json.name : undefined;
      const known = name === undefined ? undefined : this.named.get(name);
      if (known) return this.reused(known, path);
      if (typeof json.type !== 'string') throw new McrouterConfigError(`${path}: no string "type"`);
      const nodes = this.createTyped(json.type, json, `${path}(${json.type})`);
      if (name !== undefined) this.named.set(name, nodes);
      return nodes;
    }
    if (typeof json === 'string') {
      if (json === '') return []; // mcrouter: an empty string is an empty list
      const known = this.named.get(json);
      if (known) return this.reused(known, path);
      const pipe = json.indexOf('|');
      if (pipe < 0) return this.createTyped(json, null, `${path}(${json})`);
      const type = json.slice(0, pipe);
      return this.createTyped(type, json.slice(pipe + 1), `${path}(${type})`);
    }
    throw new McrouterConfigError(`${path}: a route handle must be a string, an object or a list`);
  }

  private createTyped(type: string, json: unknown, path: string): RouteNode[] {
    if (type === 'Pool') {
      const pool = this.pool(json, path);
      // Its servers as a list: hashed over by the HashRoute it is a child of (a shard each), else replicas (All*, Failover, Latest).
      this.used(pool, this.hashingPools === undefined ? 'replicas' : { by: 'HashRoute', fields: this.hashingPools });
      return [...this.serversOf(pool, path)];
    }
    // A pool listed deeper down, under an All* or Failover route of a HashRoute's child, is a list of replicas again.
    const outer = this.hashingPools;
    this.hashingPools = undefined;
    try {
      return this.createRoute(type, json, path);
    } finally {
      this.hashingPools = outer;
    }
  }

  private createRoute(type: string, json: unknown, path: string): RouteNode[] {
    if (ALL_ROUTES.has(type)) {
      const children = this.children(json, path);
      return [nullOrSingle(children) ?? new All(children)];
    }
    switch (type) {
      case 'PoolRoute':
        return [this.poolRoute(json, path)];
      case 'HashRoute':
        return [this.hashRoute(isObject(json) ? json : {}, this.hashedChildren(json, path), path)];
      case 'FailoverRoute':
      case 'MissFailoverRoute': {
        // A policy picks which children, how many and in what order (routes/FailoverPolicy.h): the order here would be wrong.
        if (type === 'FailoverRoute' && isObject(json) && json.failover_policy !== undefined) throw new McrouterConfigError(`${path}: "failover_policy" is not supported`);
        const children = this.children(json, path);
        return [nullOrSingle(children) ?? new Failover(children, type === 'MissFailoverRoute')];
      }
      case 'LatestRoute':
        return [latestRoute(isObject(json) ? json : {}, this.children(json, path), path)];
      case 'OperationSelectorRoute':
        return [this.operationSelector(json, path)];
      case 'ErrorRoute':
        return [new NoServer(true)];
      case 'NullRoute':
        return [new NoServer(false)];
      default:
        throw new McrouterConfigError(`${path}: route handle "${type}" is not supported`);
    }
  }

  /** A HashRoute's children: a `Pool|NAME` among them is hashed over, as a PoolRoute with the HashRoute's hash would be. */
  private hashedChildren(json: unknown, path: string): RouteNode[] {
    const outer = this.hashingPools;
    const hash: Json = {};
    if (isObject(json)) for (const field of ['hash_func', 'salt', 'weights', 'tags']) if (json[field] !== undefined) hash[field] = json[field];
    this.hashingPools = hash;
    try {
      return this.children(json, path);
    } finally {
      this.hashingPools = outer;
    }
  }

  /** A route's children: its "children" field, or the short form's argument. */
  private children(json: unknown, path: string): RouteNode[] {
    if (isObject(json)) return json.children === undefined ? [] : this.createList(json.children, `${path}.children`);
    // A route with children named bare (`"AllSyncRoute"`): mcrouter's factories list its argument, null, and refuse it.
    return this.createList(json, path);
  }

  private pool(json: unknown, path: string): Pool {
    if (typeof json === 'string') {
      const pool = this.pools.get(json);
      if (!pool) throw new McrouterConfigError(`${path}: unknown pool "${json}"`);
      return pool;
    }
    if (isObject(json)) {
      if (typeof json.name !== 'string') throw new McrouterConfigError(`${path}: an inline pool needs a string "name"`);
      return readPool(json.name, json, path);
    }
    throw new McrouterConfigError(`${path}: a pool is a pool name or an object`);
  }

  /**
   * PoolRoute: a HashRoute over the pool's servers. The hash object starts as
   * `{hash_func: "WeightedCh3", weights}` when the pool has weights, takes the
   * pool's `tags`, then the PoolRoute's `hash`: a string replaces `hash_func`,
   * an object's fields replace those fields (McRouteHandleProvider::makePoolRoute).
   */
  private poolRoute(json: unknown, path: string): RouteNode {
    let pool: Pool;
    let hash: Json = {};
    if (isObject(json)) {
      if (json.pool === undefined) throw new McrouterConfigError(`${path}: no "pool"`);
      for (const option of UNSUPPORTED_POOL_ROUTE_OPTIONS) {
        if (option in json) throw new McrouterConfigError(`${path}: "${option}" is not supported`);
      }
      pool = this.pool(json.pool, `${path}.pool`);
      this.used(pool, { by: 'PoolRoute', hash: json.hash });
      hash = poolHashJson(pool);
      if (typeof json.hash === 'string') hash.hash_func = json.hash;
      else if (isObject(json.hash)) Object.assign(hash, json.hash);
      else if (json.hash !== undefined) throw new McrouterConfigError(`${path}.hash: not a string or an object`);
    } else {
      pool = this.pool(json, path);
      this.used(pool, { by: 'PoolRoute', hash: undefined });
      hash = poolHashJson(pool);
    }
    return this.hashRoute(hash, this.serversOf(pool, path), path);
  }

  private serversOf(pool: Pool, path: string): readonly RouteNode[] {
    this.made(pool.servers.length, path);
    let nodes = this.serverNodes.get(pool);
    if (!nodes) this.serverNodes.set(pool, (nodes = pool.servers.map((server) => new Destination(server))));
    return nodes;
  }

  /** Records how the route uses one of the config's pools: the first hashing use wins over any list of replicas. */
  private used(pool: Pool, use: PoolUse): void {
    if (this.pools.get(pool.name) !== pool) return; // an inline pool
    const known = this.uses.get(pool.name);
    if (known === undefined || (known === 'replicas' && use !== 'replicas')) this.uses.set(pool.name, use);
  }

  /** HashRoute's fields: `hash_func` (Ch3), `salt`, `weights` (WeightedCh3), `tags` (Rendezvous). */
  private hashRoute(json: Json, children: readonly RouteNode[], path: string): RouteNode {
    const salt = saltOf(json, path);
    let func = 'Ch3';
    if (json.hash_func !== undefined) {
      if (typeof json.hash_func !== 'string') throw new McrouterConfigError(`${path}: "hash_func" is not a string`);
      func = json.hash_func;
    }
    const n = children.length;
    // Newer mcrouter builds answer an empty HashRoute with an error, older ones with NullRoute.
    if (n === 0) return new NoServer(true);
    if (n === 1) return children[0]!;
    const withHash = (hash: PoolHash) => new Hash(children, hash, new TextEncoder().encode(salt));
    switch (func) {
      case 'Ch3':
        if (n > FURC_MAX_POOL_SIZE) throw new McrouterConfigError(`${path}: ${n} servers, Ch3 allows ${FURC_MAX_POOL_SIZE}`);
        return withHash(new Ch3(n));
      case 'Crc32':
        return withHash(new Crc32(n));
      case 'WeightedCh3':
        if (n > FURC_MAX_POOL_SIZE) throw new McrouterConfigError(`${path}: ${n} servers, WeightedCh3 allows ${FURC_MAX_POOL_SIZE}`);
        return withHash(new WeightedCh3(weightedCh3Weights(json.weights, n, `${path}.weights`)));
      case 'Rendezvous': {
        if (json.tags === undefined) throw new McrouterConfigError(`${path}: Rendezvous needs "tags", one per server`);
        const tags = strings(json.tags, `${path}.tags`);
        if (tags.length !== n) {
          throw new McrouterConfigError(`${path}: ${tags.length} tags for ${n} servers (Rendezvous needs one per server)`);
        }
        return withHash(new RendezvousHash(tags));
      }
      case 'Latest':
        return latestRoute(json, children, path);
      case 'ConstShard':
      case 'LoadBalancer':
      case 'WeightedCh4':
      case 'WeightedCh3Rv':
        throw new McrouterConfigError(`${path}: hash function "${func}" is not supported`);
      default:
        throw new McrouterConfigError(`${path}: unknown hash function "${func}"`);
    }
  }

  private operationSelector(json: unknown, path: string): RouteNode {
    // mcrouter: a non-object OperationSelectorRoute is just the route it names.
    if (!isObject(json)) return this.create(json, path);
    const { default_policy: defaultJson, operation_policies: policiesJson } = json;
    if (defaultJson === undefined && policiesJson === undefined) {
      throw new McrouterConfigError(`${path}: needs "default_policy" or "operation_policies"`);
    }
    const defaultPolicy = defaultJson === undefined ? undefined : this.create(defaultJson, `${path}.default_policy`);
    if (policiesJson === undefined) return defaultPolicy!;
    if (!isObject(policiesJson)) throw new McrouterConfigError(`${path}.operation_policies: not an object`);
    const policies = new Map<string, RouteNode>();
    for (const [op, policy] of Object.entries(policiesJson)) {
      // mcrouter refuses the whole config for a name it does not know.
      if (!isOperation(op)) throw new McrouterConfigError(`${path}.operation_policies: unknown operation "${op}"`);
      policies.set(op, this.create(policy, `${path}.operation_policies.${op}`));
    }
    return new OperationSelector(policies, defaultPolicy);
  }
}

/** A HashRoute's or LatestRoute's `salt`: '' when absent. */
function saltOf(json: Json, path: string): string {
  if (json.salt === undefined) return '';
  if (typeof json.salt !== 'string') throw new McrouterConfigError(`${path}: "salt" is not a string`);
  return json.salt;
}

function poolHashJson(pool: Pool): Json {
  const hash: Json = {};
  if (pool.weights) {
    hash.hash_func = 'WeightedCh3';
    hash.weights = pool.weights;
  }
  // Copied by mcrouter builds since Rendezvous exists; older ones need the tags in the PoolRoute's hash.
  if (pool.tags) hash.tags = pool.tags;
  return hash;
}

/**
 * WeightedCh3HashFunc(json, n): the first n weights, each a number; missing ones are 0.5 (mcrouter logs
 * "CONFIG IS BROKEN"), and those beyond n are not read. A weight outside 0-1 is refused: newer mcrouter
 * refuses it (WeightedChHashFuncBase's parseWeights), and 0.36 loads it but reads above 1 as 1, below 0 as 0
 * (its range is only an assert, compiled out), so such a config means something else to each.
 */
function weightedCh3Weights(json: unknown, n: number, path: string): Float64Array {
  if (json === undefined) throw new McrouterConfigError(`${path}: WeightedCh3 needs "weights"`);
  if (!Array.isArray(json)) throw new McrouterConfigError(`${path}: not an array of numbers`);
  const weights = new Float64Array(n).fill(0.5);
  for (let i = 0; i < Math.min(n, json.length); i++) {
    const weight: unknown = json[i];
    if (typeof weight !== 'number') throw new McrouterConfigError(`${path}[${i}]: not a number`);
    if (!(weight >= 0 && weight <= 1)) throw new McrouterConfigError(`${path}[${i}]: ${weight} is not a weight from 0 to 1 (newer mcrouter refuses it; 0.36 reads it as ${weight > 1 ? 1 : 0})`);
    weights[i] = weight;
  }
  return weights;
}

/**
 * LatestRoute: a FailoverRoute over `failover_count` (default 5) of its children, which mcrouter picks, and
 * orders, per mcrouter host, not per key (routes/LatestRoute.h getTargets): WeightedCh3 over the children's
 * `weights` of a hash of the host's id and the `salt`, again for each next one. So every key gets the same
 * order on one host and another order on the next; a config alone cannot say which host is which.
 * A request without a host takes the children in config order. A request of virtual host `h` gets the
 * pick mcrouter would make for a host whose id hashed to the string `host:h` with the salt: over many
 * virtual hosts, the picks spread as they do over a fleet of mcrouter pods, and a child added or removed
 * changes the picks of as few hosts as it does there (WeightedCh3 is consistent).
 */
function latestRoute(json: Json, children: readonly RouteNode[], path: string): RouteNode {
  let count = 5;
  if (json.failover_count !== undefined) {
    if (!Number.isInteger(json.failover_count)) throw new McrouterConfigError(`${path}: "failover_count" is not an integer`);
    // mcrouter reads it into a size_t: a negative count is a huge one.
    count = (json.failover_count as number) < 0 ? children.length : (json.failover_count as number);
  }
  const salt = saltOf(json, path);
  const weights = json.weights === undefined ? new Float64Array(children.length).fill(1) : weightedCh3Weights(json.weights, children.length, `${path}.weights`);
  return children.length <= 1 ? failoverOver(children) : new Latest(children, Math.min(count, children.length), weights, salt);
}

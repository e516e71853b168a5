/**
 * Which memcached servers a request reaches, read from an mcrouter config the
 * way mcrouter's route factory reads it (mcrouter/routes/McRouteHandleProvider,
 * lib/config/RouteHandleFactory-inl.h and the *RouteFactory.h files).
 *
 * A config is compiled once (route-compiler.ts) into a tree of route nodes
 * (route-nodes.ts); the tree then answers per key and operation. Only the
 * route handles the operator generates, and their close relatives, are
 * modelled; anything else is refused with an Error rather than guessed at.
 */
import { nestsBeyond } from '../json/hazard.js';
import { keyError } from './key.js';
import type { Operation } from './operations.js';
import { McrouterConfigError, compileRoute, readConfig, type Pool, type PoolUse } from './route-compiler.js';
import { Request, type Destinations, type RouteNode } from './route-nodes.js';

export { OPERATIONS, isOperation, type Operation } from './operations.js';
export { McrouterConfigError, isObject, type Json, type Pool } from './route-compiler.js';
export type { Destinations } from './route-nodes.js';

/**
 * Operations mcrouter answers before its route tree (precheckRequest in ProxyRequestContextTyped-inl.h), and
 * why: they are named in configs (an OperationSelectorRoute's policies) but never routed by them.
 */
const UNROUTED: Partial<Record<Operation, string>> = {
  flushall:
    'flush_all is "Command disabled" unless mcrouter runs with --enable-flush-cmd (the hook does not pass it); with it, flush_all goes to every server of the config (ProxyRoute), not through the route',
  flushre: 'flushre is "Command not supported"',
};

/**
 * folly::parseJson's default recursion limit, with which mcrouter reads its config: it refuses one nested deeper.
 * Counted here in arrays and objects; folly counts values, so it still loads 101 levels whose innermost is empty
 * (`{}`, `[]`), which is refused here.
 */
export const MCROUTER_JSON_DEPTH = 100;

/** A route handle: `"Type|argument"`, a bare `"Type"`, `{type, ...}`, or a list of them. */
export type RouteSpec = string | RouteSpec[] | { type: string; [field: string]: unknown };

/**
 * A compiled route tree: answers where keys go. It reuses one key buffer, so
 * it is cheap per key; beyond that it keeps only each LatestRoute's pick per
 * mcrouter host, which depends on nothing else.
 */
export class RouteTree {
  /** The config's top-level pools, by name. */
  readonly pools: ReadonlyMap<string, Pool>;
  private readonly root: RouteNode;
  private readonly uses: ReadonlyMap<string, PoolUse>;
  private readonly request = new Request();

  /** An upper bound on the work of routing one key, in destinations visited and tags hashed. */
  get cost(): number {
    return this.root.cost;
  }

  /** @internal built by compileConfig */
  constructor(root: RouteNode, pools: ReadonlyMap<string, Pool>, uses: ReadonlyMap<string, PoolUse>) {
    this.root = root;
    this.pools = pools;
    this.uses = uses;
  }

  /** Where a request goes, LatestRoutes taking their children in config order. */
  route(key: string, op: Operation = 'get'): Destinations {
    const refused = UNROUTED[op] ?? keyError(key);
    if (refused !== undefined) return { primary: [], fallbacks: [], refused };
    const req = this.request.set(key, op);
    const reach = this.root.reach(req);
    const destinations: Destinations = { primary: reach.primary, fallbacks: reach.fallbacks };
    if (this.root.perHost(req)) destinations.perHost = true;
    return destinations;
  }

  /** Another route over the same pools, e.g. `{type: "PoolRoute", pool: NAME}` to look at one pool. */
  withRoute(route: RouteSpec): RouteTree {
    return compileWith(this.pools, route, 'route');
  }

  /**
   * The first server a request for `key` is sent to, computed without building lists: `route(key, op).primary[0]`
   * without `host`, and as virtual mcrouter host number `host` sees it with one (see Latest). `key` is a valid one.
   */
  firstDestination(key: string, op: Operation = 'get', host?: number): string | undefined {
    if (UNROUTED[op] !== undefined) return undefined;
    const first = this.root.first(this.request.set(key, op, host));
    return typeof first === 'string' ? first : undefined;
  }

  /**
   * A pool looked at alone, as the config's route hashes it: the PoolRoute over it (with that PoolRoute's
   * `hash`, the first one in the config when several name it), or the HashRoute whose child `Pool|NAME`
   * is (with that HashRoute's fields); 'replicas' for a pool only ever used as
   * a list of replicas (`Pool|NAME`), where every server holds every key; undefined for no such pool.
   */
  poolView(name: string): RouteTree | 'replicas' | undefined {
    if (!this.pools.has(name)) return undefined;
    const use = this.uses.get(name);
    if (use === 'replicas') return 'replicas';
    // A HashRoute hashes a `Pool|NAME` child with its own fields only: the pool's weights and tags are a PoolRoute's.
    if (use?.by === 'HashRoute') return this.withRoute({ type: 'HashRoute', ...use.fields, children: `Pool|${name}` });
    return this.withRoute(use?.hash === undefined ? { type: 'PoolRoute', pool: name } : { type: 'PoolRoute', pool: name, hash: use.hash });
  }
}
/** Compiles a parsed mcrouter config (`{pools, route}`). */
export function compileConfig(config: unknown): RouteTree {
  // Also: compiling one recurses as deep as it nests.
  if (nestsBeyond(config, MCROUTER_JSON_DEPTH)) {
    throw new McrouterConfigError(`config: nested more than ${MCROUTER_JSON_DEPTH} levels deep, which mcrouter's JSON parser (folly's) refuses`);
  }
  const { pools, json } = readConfig(config);
  if (json.route === undefined) {
    throw new McrouterConfigError('config: no "route"');
  }
  return compileWith(pools, json.route, 'route');
}

/** A tree over `pools` for the route `spec`. */
function compileWith(pools: ReadonlyMap<string, Pool>, spec: unknown, path: string): RouteTree {
  const { root, uses } = compileRoute(pools, spec, path);
  return new RouteTree(root, pools, uses);
}

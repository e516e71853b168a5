/**
 * Shorthands for route.test.ts over the public RouteTree: routing one key of a parsed config, its first `get`
 * destination, and one route of a config's pools. A parsed config is compiled once, as callers of the CLI
 * and the hook compile each config once.
 */
import { keyError } from '../../src/mcrouter/key.js';
import { RouteTree, compileConfig, isOperation, type Destinations, type Operation, type RouteSpec } from '../../src/mcrouter/route.js';

const compiled = new WeakMap<object, RouteTree>();

function treeOf(config: unknown): RouteTree {
  if (config instanceof RouteTree) return config;
  if (typeof config !== 'object' || config === null) return compileConfig(config);
  let tree = compiled.get(config);
  if (!tree) {
    tree = compileConfig(config);
    compiled.set(config, tree);
  }
  return tree;
}

/** Where a request for `key` goes under `config` (a parsed mcrouter config, or a compiled RouteTree). */
export function route(config: unknown, key: string, op: Operation): Destinations {
  if (!isOperation(op)) throw new TypeError(`unknown operation "${String(op)}"`);
  return treeOf(config).route(key, op);
}

/** The first server a `get` for `key` reaches, if any: none for a key mcrouter refuses (see keyError). */
export function firstGetDestination(config: unknown, key: string): string | undefined {
  return keyError(key) === undefined ? treeOf(config).firstDestination(key, 'get') : undefined;
}

/** `route` compiled against the pools of `config`, e.g. `"PoolRoute|NAME"` to look at one pool. */
export const compileRoute = (config: { pools?: unknown }, route: RouteSpec): RouteTree => compileConfig({ ...config, route });

/**
 * What makes a parsed JSON value unsafe to go on with, found in one walk:
 * nesting too deep, or a key that pollutes prototypes.
 *
 * V8 parses any depth, but what comes after recurses: JSON.stringify of a
 * response that copies a spec field (affinity, resources) into the
 * Deployment, or a walk over a route tree read back from a ConfigMap. A value
 * nested a few thousand levels deep overflows the stack there, so deep
 * values are refused up front, where the answer can still be a clean 400.
 *
 * The prototype keys are those secure-json-parse refuses (Fastify's JSON
 * parser, with `onProtoPoisoning` and `onConstructorPoisoning` at 'error'): a
 * `__proto__` key, or a `constructor` object with a `prototype`. Checking
 * them in the walk the depth needs anyway spares secure-json-parse's two
 * regular-expression scans of the whole text: 0.5-1.3 ms beside the 4.6 ms
 * JSON.parse takes for a 1.7 MB request. Unlike Fastify's parser, the walk can
 * leave parts of a value alone: in a hook request, such a key is refused only
 * where the hook copies fields into what it writes (json-body.ts).
 */

export type JsonHazard = 'depth' | 'prototype';

/** JSON.parse makes `__proto__` an own key; assigning or merging it would set a prototype. */
const PROTO_KEY = '__proto__';
/** A `constructor` object with a `prototype`: merging it would reach a class's prototype. */
const pollutingConstructor = (key: string, child: object): boolean => key === 'constructor' && Object.hasOwn(child, 'prototype');
const prototypeKey = (key: string, child: unknown): boolean =>
  key === PROTO_KEY || (typeof child === 'object' && child !== null && pollutingConstructor(key, child));

/**
 * Which top-level keys' values may hold no prototype key (the value's own keys always are checked): by default
 * all of them. A hook request's body guards only `parent`, whose fields the hook copies into what it writes.
 */
export type GuardedKeys = (key: string) => boolean;
const EVERYWHERE: GuardedKeys = () => true;
/** Whether the value under `key` of an object at `depth` (checked or not) is checked: below the top, as its object (an array's items too). */
const checksChild = (check: boolean, depth: number, key: string, guarded: GuardedKeys): boolean => check && (depth > 1 || guarded(key));

/**
 * The first hazard in `value` with at most `limit` levels of arrays and objects (`{}` is one level), or
 * undefined. Depth counts everywhere; prototype keys only at the top and under the keys `guarded` names.
 */
export function jsonHazard(value: unknown, limit: number, guarded: GuardedKeys = EVERYWHERE): JsonHazard | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return walk(value, 1, true, limit, guarded, undefined);
}

/**
 * A hazard and the keys and indexes that lead to it: the `__proto__` or
 * `constructor` key itself, or the first value nested beyond `limit`.
 */
export function locateJsonHazard(
  value: unknown,
  limit: number,
  guarded: GuardedKeys = EVERYWHERE,
): { hazard: JsonHazard; path: (string | number)[] } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // Bodies are nearly always clean: walked first without keeping the path (the faster walk), then, only when
  // refused, again to the hazard, keeping it. Both walks go in one order: the second finds what the first did.
  if (walk(value, 1, true, limit, guarded, undefined) === undefined) return undefined;
  const path: (string | number)[] = [];
  const hazard = walk(value, 1, true, limit, guarded, path)!;
  return { hazard, path };
}

/** Whether `value` nests arrays and objects more than `limit` levels deep; keys are not looked at. */
export function nestsBeyond(value: unknown, limit: number): boolean {
  return typeof value === 'object' && value !== null && nestsBeyondFrom(value, 1, limit);
}

/**
 * The walk, depth first, keys in order. It recurses, but never deeper than `limit` + 1 frames (the hook's
 * limit is at most JSON_DEPTH_LIMIT's 1,000), and holds nothing but its frames and `path` (when given, the
 * keys to the node, left as they lead to a hazard): a queue of the values still to visit held one entry per
 * value, and the 2.8 million empty objects of an 8 MiB `[{},{},…]` body then took the heap of a 512 MiB
 * container past its end. for...in over a parsed object allocates nothing, where Object.values copies every value.
 */
function walk(
  node: object,
  depth: number,
  check: boolean,
  limit: number,
  guarded: GuardedKeys,
  path: (string | number)[] | undefined,
): JsonHazard | undefined {
  if (depth > limit) return 'depth';
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (typeof child !== 'object' || child === null) continue;
      path?.push(i);
      const found = walk(child, depth + 1, check, limit, guarded, path);
      if (found !== undefined) return found;
      path?.pop();
    }
    return undefined;
  }
  for (const key in node) {
    const child = (node as Record<string, unknown>)[key];
    if (check && prototypeKey(key, child)) {
      path?.push(key);
      return 'prototype';
    }
    if (typeof child !== 'object' || child === null) continue;
    const checkChild = checksChild(check, depth, key, guarded);
    // Where no key is checked and no path kept (most of a hook request: the related objects), the walk goes on
    // with less to carry (the time it saves: docs/performance.md). So the walk itself runs only where it checks
    // keys, or keeps the path.
    if (!checkChild && path === undefined) {
      if (nestsBeyondFrom(child, depth + 1, limit)) return 'depth';
      continue;
    }
    path?.push(key);
    const found = walk(child, depth + 1, checkChild, limit, guarded, path);
    if (found !== undefined) return found;
    path?.pop();
  }
  return undefined;
}

/** Whether `node`, at `depth`, or a value in it is nested beyond `limit`: the walk's, without keys or path. */
function nestsBeyondFrom(node: object, depth: number, limit: number): boolean {
  if (depth > limit) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (typeof child === 'object' && child !== null && nestsBeyondFrom(child, depth + 1, limit)) return true;
    }
    return false;
  }
  for (const key in node) {
    const child = (node as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && nestsBeyondFrom(child, depth + 1, limit)) return true;
  }
  return false;
}

/**
 * What makes a parsed JSON value unsafe to go on with, found in one walk
 * without recursion: nesting too deep, or a key that pollutes prototypes.
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
/** Whether the value under `key` of a node at `depth` (checked or not) is checked: below the top, as its node. */
const checksChild = (check: boolean, depth: number, key: string | number, guarded: GuardedKeys): boolean =>
  check && (depth > 1 || typeof key !== 'string' || guarded(key));

/**
 * The first hazard in `value` with at most `limit` levels of arrays and objects (`{}` is one level), or
 * undefined. Depth counts everywhere; prototype keys only at the top and under the keys `guarded` names.
 */
export function jsonHazard(value: unknown, limit: number, guarded: GuardedKeys = EVERYWHERE): JsonHazard | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const pending: object[] = [value];
  const depths: number[] = [1];
  const checked: boolean[] = [true];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const depth = depths.pop()!;
    const check = checked.pop()!;
    if (depth > limit) return 'depth';
    // for...in over a parsed object allocates nothing, where Object.values copies every value: this walks every request body.
    if (Array.isArray(node)) {
      for (const child of node) {
        if (typeof child === 'object' && child !== null) {
          pending.push(child);
          depths.push(depth + 1);
          checked.push(check);
        }
      }
    } else {
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key];
        if (check && prototypeKey(key, child)) return 'prototype';
        if (typeof child === 'object' && child !== null) {
          pending.push(child);
          depths.push(depth + 1);
          checked.push(checksChild(check, depth, key, guarded));
        }
      }
    }
  }
  return undefined;
}

/**
 * A hazard and the keys and indexes that lead to it: the `__proto__` or
 * `constructor` key itself, or the first value nested beyond `limit`.
 *
 * Only a body being refused is located: the same walk as jsonHazard's, but
 * each pending value remembers the step that reached it, an object per value
 * that every accepted body would otherwise pay for.
 */
export function locateJsonHazard(
  value: unknown,
  limit: number,
  guarded: GuardedKeys = EVERYWHERE,
): { hazard: JsonHazard; path: (string | number)[] } | undefined {
  const hazard = jsonHazard(value, limit, guarded);
  if (hazard === undefined) return undefined;
  interface Step {
    node: object;
    depth: number;
    check: boolean;
    from: Step | undefined;
    key: string | number;
  }
  const pathTo = (step: Step): (string | number)[] => {
    const path: (string | number)[] = [];
    for (let s: Step | undefined = step; s?.from; s = s.from) path.push(s.key);
    return path.reverse();
  };
  const pending: Step[] = [{ node: value as object, depth: 1, check: true, from: undefined, key: '' }];
  while (pending.length > 0) {
    const step = pending.pop()!;
    if (step.depth > limit) return { hazard: 'depth', path: pathTo(step) };
    const entries: [string | number, unknown][] = Array.isArray(step.node) ? step.node.map((child, i) => [i, child]) : [];
    if (!Array.isArray(step.node)) for (const key in step.node) entries.push([key, (step.node as Record<string, unknown>)[key]]);
    for (const [key, child] of entries) {
      if (step.check && typeof key === 'string' && prototypeKey(key, child)) return { hazard: 'prototype', path: [...pathTo(step), key] };
      if (typeof child !== 'object' || child === null) continue;
      pending.push({ node: child, depth: step.depth + 1, check: checksChild(step.check, step.depth, key, guarded), from: step, key });
    }
  }
  // The walks agree: this only keeps a rule added to jsonHazard alone from letting a body through, unnamed.
  return { hazard, path: [] };
}

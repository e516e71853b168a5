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
 * JSON.parse takes for a 1.7 MB request.
 */

export type JsonHazard = 'depth' | 'prototype';

/** JSON.parse makes `__proto__` an own key; assigning or merging it would set a prototype. */
const PROTO_KEY = '__proto__';
/** A `constructor` object with a `prototype`: merging it would reach a class's prototype. */
const pollutingConstructor = (key: string, child: object): boolean => key === 'constructor' && Object.hasOwn(child, 'prototype');

/** The first hazard in `value` with at most `limit` levels of arrays and objects (`{}` is one level), or undefined. */
export function jsonHazard(value: unknown, limit: number): JsonHazard | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const pending: object[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return 'depth';
    // for...in over a parsed object allocates nothing, where Object.values copies every value: this walks every request body.
    if (Array.isArray(node)) {
      for (const child of node) {
        if (typeof child === 'object' && child !== null) {
          pending.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        if (key === PROTO_KEY) return 'prototype';
        const child = (node as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) {
          if (pollutingConstructor(key, child)) return 'prototype';
          pending.push(child);
          depths.push(depth + 1);
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
export function locateJsonHazard(value: unknown, limit: number): { hazard: JsonHazard; path: (string | number)[] } | undefined {
  const hazard = jsonHazard(value, limit);
  if (hazard === undefined) return undefined;
  interface Step {
    node: object;
    depth: number;
    from: Step | undefined;
    key: string | number;
  }
  const pathTo = (step: Step): (string | number)[] => {
    const path: (string | number)[] = [];
    for (let s: Step | undefined = step; s?.from; s = s.from) path.push(s.key);
    return path.reverse();
  };
  const pending: Step[] = [{ node: value as object, depth: 1, from: undefined, key: '' }];
  while (pending.length > 0) {
    const step = pending.pop()!;
    if (step.depth > limit) return { hazard: 'depth', path: pathTo(step) };
    const entries: [string | number, unknown][] = Array.isArray(step.node) ? step.node.map((child, i) => [i, child]) : [];
    if (!Array.isArray(step.node)) for (const key in step.node) entries.push([key, (step.node as Record<string, unknown>)[key]]);
    for (const [key, child] of entries) {
      if (key === PROTO_KEY) return { hazard: 'prototype', path: [...pathTo(step), key] };
      if (typeof child !== 'object' || child === null) continue;
      if (typeof key === 'string' && pollutingConstructor(key, child)) return { hazard: 'prototype', path: [...pathTo(step), key] };
      pending.push({ node: child, depth: step.depth + 1, from: step, key });
    }
  }
  // The walks agree: this only keeps a rule added to jsonHazard alone from letting a body through, unnamed.
  return { hazard, path: [] };
}

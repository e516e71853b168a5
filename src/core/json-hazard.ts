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

/** A key whose value would pollute a prototype if the object were merged or assigned somewhere. */
const pollutes = (key: string, child: unknown): boolean =>
  // JSON.parse makes `__proto__` an own key; assigning or merging it would set a prototype.
  key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype'));

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
        const child = (node as Record<string, unknown>)[key];
        if (pollutes(key, child)) return 'prototype';
        if (typeof child === 'object' && child !== null) {
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
  if (jsonHazard(value, limit) === undefined) return undefined;
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
      if (typeof key === 'string' && pollutes(key, child)) return { hazard: 'prototype', path: [...pathTo(step), key] };
      if (typeof child === 'object' && child !== null) pending.push({ node: child, depth: step.depth + 1, from: step, key });
    }
  }
  return undefined;
}

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
        // JSON.parse makes `__proto__` an own key; assigning or merging it would set a prototype.
        if (key === '__proto__') return 'prototype';
        const child = (node as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null) {
          if (key === 'constructor' && Object.hasOwn(child, 'prototype')) return 'prototype';
          pending.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return undefined;
}

/**
 * How deep a parsed JSON value nests, measured without recursion.
 *
 * V8 parses any depth, but what comes after recurses: JSON.stringify of a
 * response that copies a spec field (affinity, resources) into the
 * Deployment, or a walk over a route tree read back from a ConfigMap. A value
 * nested a few thousand levels deep overflows the stack there, so deep
 * values are refused up front, where the answer can still be a clean 400.
 */

/** Whether `value` nests arrays and objects more than `limit` levels deep (`{}` is one level). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const pending: object[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return true;
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
        if (typeof child === 'object' && child !== null) {
          pending.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

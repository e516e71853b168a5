/**
 * What the API server and the hook itself require of every /sync answer, for the generated histories
 * (test/model.test.ts, test/order-invariance.test.ts) as test/manifests-hook.test.ts checks it on the samples:
 *
 * - the status is valid under the CRD's status schema (Metacontroller writes it through the status subresource,
 *   and the API server refuses the whole write otherwise: the proxy's status would freeze), including the keys of
 *   its `x-kubernetes-list-type: map` lists, and every field of it survives the API server's pruning (a field the
 *   schema does not name, or a null where it takes none, is dropped on the way: lost from the next sync's input);
 * - each child is valid under the official Kubernetes schemas (kubernetes-models) and the API server's built-in
 *   validation the schemas lack (helpers/api-semantics.ts: names, port ranges, containers), of a kind the hook may return;
 * - a status the hook wrote, fed back as the stored status, is read back whole: the server logs a warn line (and
 *   counts memcached_operator_status_set_aside_total) for every stored-status field it sets aside, which would
 *   restart a wait's clock or lose lastChange.
 *
 * The status contract is the CRD (src/api/crd.ts), which is what the API server enforces.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { PROXY_SCHEMA, crdViolations, isObject, propertyOf, pruned, type Schema } from './crd-validation.js';
import { apiSemanticFaults } from './api-semantics.js';
import type { TestServer } from './hook.js';

type Json = Record<string, unknown>;

const STATUS_SCHEMA = propertyOf(PROXY_SCHEMA, 'status');

/**
 * The duplicates the API server refuses in lists the schema types `x-kubernetes-list-type: map` (by their
 * `x-kubernetes-list-map-keys`) or `set`, anywhere under `schema`.
 */
export function listTypeViolations(schema: Schema, value: unknown, path = ''): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    const type = schema['x-kubernetes-list-type'];
    const keysOf = (item: unknown): string =>
      type === 'map' ? JSON.stringify(((schema['x-kubernetes-list-map-keys'] ?? []) as string[]).map((k) => (isObject(item) ? item[k] : undefined))) : JSON.stringify(item);
    if (type === 'map' || type === 'set') {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const key = keysOf(item);
        if (seen.has(key)) out.push(`${path}[${i}]: duplicate ${type === 'map' ? `key ${key}` : `entry ${key}`} in a list-type ${String(type)}`);
        seen.add(key);
      });
    }
    if (isObject(schema['items'])) value.forEach((item, i) => out.push(...listTypeViolations(schema['items'] as Schema, item, `${path}[${i}]`)));
  } else if (isObject(value)) {
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const [key, field] of Object.entries(value)) {
      const fieldSchema = properties[key] ?? (isObject(schema['additionalProperties']) ? (schema['additionalProperties'] as Schema) : undefined);
      if (fieldSchema) out.push(...listTypeViolations(fieldSchema, field, `${path}.${key}`));
    }
  }
  return out;
}

/** What the API server would refuse or drop of `status`, written through the status subresource; empty: it stores it as is. */
export function statusFaults(status: unknown): string[] {
  const refused = [...crdViolations(STATUS_SCHEMA, status).map((v) => `status${v.path === '<root>' ? '' : v.path}: ${v.message}`), ...listTypeViolations(STATUS_SCHEMA, status, 'status')];
  if (refused.length > 0) return refused;
  const dropped = droppedPaths(status, pruned(STATUS_SCHEMA, status), 'status');
  return dropped.length === 0 ? [] : [`the API server would prune ${dropped.slice(0, 5).join(', ')} (a field the schema does not name, or a null where it takes none)`];
}

/** The paths of `value` that `stored` lacks. */
function droppedPaths(value: unknown, stored: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => droppedPaths(item, (stored as unknown[])[i], `${path}[${i}]`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, field]) => (isObject(stored) && Object.hasOwn(stored, key) ? droppedPaths(field, stored[key], `${path}.${key}`) : [`${path}.${key}`]));
}

/** The child kinds the hook returns (the CompositeController's childResources), with their official schemas. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** Why the API server would refuse `child` by its official schema; undefined: it takes it. */
export function childFault(child: Json): string | undefined {
  const kind = `${String(child['apiVersion'])}/${String(child['kind'])}`;
  const name = String((child['metadata'] as Json | undefined)?.['name']);
  const Model = MODELS[kind];
  if (!Model) return `${kind} ${name}: not a kind the hook returns`;
  try {
    new Model(child as never).validate();
  } catch (error) {
    return `${kind} ${name} is invalid: ${String((error as Error).message ?? error).slice(0, 600)}`;
  }
  // The schemas type ports as int32 and require no name: the API server's own validation refuses more.
  const semantic = apiSemanticFaults(child);
  return semantic.length === 0 ? undefined : `${kind} ${name} is refused by the API server: ${semantic.slice(0, 5).join('; ')}`;
}

/** The warn lines, of those a logged server wrote (helpers/hook.ts loggedServer) from index `from`, that set stored-status fields aside. */
export function setAsideLines(lines: readonly Json[], from: number): Json[] {
  return lines.slice(from).filter((line) => Array.isArray(line['fields']) && String(line['msg']).includes('set aside from the stored status'));
}

/** memcached_operator_status_set_aside_total as the server's /metrics shows it (undefined when it is not there). */
export async function setAsideTotal(app: TestServer): Promise<number | undefined> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  const line = res.body.split('\n').find((l) => l.startsWith('memcached_operator_status_set_aside_total '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

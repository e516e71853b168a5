/**
 * Metacontroller's selection of related objects: which objects of a cluster a CompositeController's sync request
 * carries, given the rules the customize hook answered (`relatedResources`). Written from Metacontroller's own
 * source, pkg/controller/common/customize/manager.go (`determineSelectionType`, `GetRelatedObjects`, `toSelector`,
 * `listObjects`), in two generations of it:
 *
 * - `beforeNamespaceSelector` (v4 releases up to the one that added `namespaceSelector`): a rule with a
 *   `labelSelector` and a `namespace` or `names` is an error, which fails every sync of the parent; a label rule
 *   lists the parent's namespace (a namespaced parent) whatever the hook version; a rule with `namespace` and/or
 *   `names` lists `rule.namespace`, or every namespace when it names none, then keeps the objects of those names
 *   (all, without names). A `namespace` other than the parent's is an error.
 * - `withNamespaceSelector` (the releases with `namespaceSelector`): `names` beside a selector, or `namespace`
 *   beside `namespaceSelector`, is an error; `labelSelector` + `namespace` lists that namespace by label; a label
 *   rule alone lists the parent's namespace only for a v1 customize hook (`customizeHookResponse.Version`), every
 *   namespace under v2; the namespace/names rule as before, its namespace check for v1 hooks only.
 *
 * In both, the selector is apimachinery's `LabelSelectorAsSelector`: `matchLabels` are `key=value` terms and
 * `matchExpressions` `In`/`NotIn`/`Exists`/`DoesNotExist` (`NotIn` also matches an object without the key), all
 * ANDed; an empty selector (and an absent one) selects everything. Names match `metadata.name` exactly. The
 * objects of all rules go into one map (`UniformObjectMap`: by group/version/kind, then `namespace/name`, so an
 * object two rules select is there once), each rule's kind present even when it selects nothing (`InitGroup`).
 * A sync request carries it keyed by `namespace/name` (v2 hooks) or by name (v1). `namespaceSelector` rules are
 * not modelled (the hook never answers one): they throw, as anything unknown does.
 */
export type Json = Record<string, unknown>;

export type Release = 'beforeNamespaceSelector' | 'withNamespaceSelector';
export type HookVersion = 'v1' | 'v2';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface RelatedRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
  labelSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
}

/** The kinds a rule may name (apiVersion + resource), all namespaced, as discovery tells Metacontroller. */
export const RELATED_KINDS: Record<string, { kind: string; typeKey: string }> = {
  'v1/services': { kind: 'Service', typeKey: 'Service.v1' },
  'v1/endpoints': { kind: 'Endpoints', typeKey: 'Endpoints.v1' },
  'discovery.k8s.io/v1/endpointslices': { kind: 'EndpointSlice', typeKey: 'EndpointSlice.discovery.k8s.io/v1' },
  'apps/v1/statefulsets': { kind: 'StatefulSet', typeKey: 'StatefulSet.apps/v1' },
};
/** A rule Metacontroller refuses: the sync of the parent fails with this message (and the hook is not called). */
export class SelectionError extends Error {}

const meta = (o: Json) => o['metadata'] as { name: string; namespace?: string; labels?: Record<string, string> };

/** apimachinery's LabelSelectorAsSelector(...).Matches(labels): every term must hold. */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector == null) return true;
  const has = (k: string) => labels !== undefined && Object.hasOwn(labels, k);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (!has(k) || labels![k] !== v) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    switch (operator) {
      case 'In':
        if (values.length === 0) throw new SelectionError(`${key}: for 'in', 'notin' operators, values set can't be empty`);
        if (!has(key) || !values.includes(labels![key]!)) return false;
        break;
      case 'NotIn':
        if (values.length === 0) throw new SelectionError(`${key}: for 'in', 'notin' operators, values set can't be empty`);
        if (has(key) && values.includes(labels![key]!)) return false;
        break;
      case 'Exists':
        if (values.length) throw new SelectionError(`${key}: values set must be empty for exists and does not exist`);
        if (!has(key)) return false;
        break;
      case 'DoesNotExist':
        if (values.length) throw new SelectionError(`${key}: values set must be empty for exists and does not exist`);
        if (has(key)) return false;
        break;
      default:
        throw new SelectionError(`${JSON.stringify(operator)} is not a valid label selector operator`);
    }
  }
  return true;
}

type SelectionType = 'labels' | 'namespaceAndNames' | 'namespaceAndLabels';

/** determineSelectionType, per release. */
function selectionType(rule: RelatedRule, release: Release): SelectionType {
  // Go: a pointer field is non-nil when the JSON has the key with an object; a string or list counts when non-empty.
  const hasLabels = rule.labelSelector != null;
  const hasNamespaceSelector = rule.namespaceSelector != null;
  const hasNamespace = (rule.namespace ?? '') !== '';
  const hasNames = (rule.names ?? []).length > 0;
  if (release === 'beforeNamespaceSelector') {
    if (hasNamespaceSelector) throw new Error('namespaceSelector: unknown to this release (and not modelled)');
    if (hasLabels && (hasNamespace || hasNames)) throw new SelectionError(`related rule cannot have both labelSelector and Namespace/Names specifcied : ${JSON.stringify(rule)}`);
    return hasNamespace || hasNames ? 'namespaceAndNames' : 'labels';
  }
  if (hasNames && (hasLabels || hasNamespaceSelector)) throw new SelectionError(`related rule cannot have both names and labelSelector/namespaceSelector specified: ${JSON.stringify(rule)}`);
  if (hasNamespace && hasNamespaceSelector) throw new SelectionError(`related rule cannot have both namespace and namespaceSelector specified: ${JSON.stringify(rule)}`);
  if (hasNamespaceSelector) throw new Error('namespaceSelector rules are not modelled');
  if (hasLabels && hasNamespace) return 'namespaceAndLabels';
  return hasNamespace || hasNames ? 'namespaceAndNames' : 'labels';
}

export interface SelectionContext {
  /** The parent (a namespaced MemcachedProxy). */
  parent: Json;
  /** Every object of the cluster Metacontroller's informers hold (of any kind: each rule lists its own). */
  cluster: readonly Json[];
  release: Release;
  /** The customize hook's version: the newer release reads label rules by it. */
  customizeHook: HookVersion;
}

/** GetRelatedObjects: the selected objects, by type key, then `namespace/name` (UniformObjectMap). */
export function selectRelated(rules: readonly RelatedRule[], { parent, cluster, release, customizeHook }: SelectionContext): Map<string, Map<string, Json>> {
  const parentNamespace = meta(parent).namespace!;
  const selected = new Map<string, Map<string, Json>>();
  for (const rule of rules) {
    const type = RELATED_KINDS[`${rule.apiVersion}/${rule.resource}`];
    // dynClient.Resource fails for a resource discovery does not know: the sync fails.
    if (!type) throw new SelectionError(`unknown related resource ${rule.apiVersion}/${rule.resource}`);
    const ofKind = cluster.filter((o) => o['apiVersion'] === rule.apiVersion && o['kind'] === type.kind);
    // listObjects / Lister().Namespace(ns).List(selector): one namespace, or all of them for "".
    const list = (namespace: string, selector: LabelSelector | null | undefined) =>
      ofKind.filter((o) => (namespace === '' || meta(o).namespace === namespace) && selectorMatches(selector, meta(o).labels));
    let objects: Json[];
    switch (selectionType(rule, release)) {
      case 'labels': {
        const inParentNamespace = release === 'beforeNamespaceSelector' || customizeHook === 'v1';
        objects = list(inParentNamespace ? parentNamespace : '', rule.labelSelector);
        break;
      }
      case 'namespaceAndLabels':
        objects = list(rule.namespace!, rule.labelSelector);
        break;
      case 'namespaceAndNames': {
        const checked = release === 'beforeNamespaceSelector' || customizeHook === 'v1';
        const namespace = rule.namespace ?? '';
        if (checked && namespace !== '' && namespace !== parentNamespace) {
          throw new SelectionError(`requested related object namespace ${namespace} differs from parent object namespace ${parentNamespace}`);
        }
        const names = rule.names ?? [];
        objects = list(namespace, undefined).filter((o) => names.length === 0 || names.includes(meta(o).name));
        break;
      }
    }
    let group = selected.get(type.typeKey);
    if (!group) selected.set(type.typeKey, (group = new Map()));
    for (const o of objects) group.set(`${meta(o).namespace}/${meta(o).name}`, o);
  }
  return selected;
}

/**
 * The `related` (or `children`) of a sync request as Go's encoding/json writes Metacontroller's maps: every key
 * sorted, objects keyed by `namespace/name` (v2) or by name (v1). Two objects of one name under v1 (different
 * namespaces) would overwrite one another in Metacontroller: `v1NamespaceOf`, when given, keeps the objects of
 * other namespaces under `namespace/name` instead, which Metacontroller never sends but which the hook must read
 * as well (it reads values, never keys: DESIGN 4); without it such a clash throws.
 */
export function requestMap(selected: Map<string, Map<string, Json>>, keying: HookVersion, v1NamespaceOf?: string): Record<string, Record<string, Json>> {
  const out: Record<string, Record<string, Json>> = {};
  for (const typeKey of [...selected.keys()].sort()) {
    const group: [string, Json][] = [];
    const seen = new Set<string>();
    for (const [qualified, o] of selected.get(typeKey)!) {
      const { name, namespace } = meta(o);
      const key = keying === 'v2' || (v1NamespaceOf !== undefined && namespace !== v1NamespaceOf) ? qualified : name;
      if (seen.has(key)) throw new Error(`two ${typeKey} objects keyed ${key} in a v1 request: not what Metacontroller sends`);
      seen.add(key);
      group.push([key, o]);
    }
    group.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out[typeKey] = Object.fromEntries(group);
  }
  return out;
}

/**
 * The API server's own checks of what the hook copies from the spec into the Deployment's pod template, where
 * the CRD's schema cannot say them: resources (ValidateResourceRequirements), tolerations (ValidateTolerations,
 * whose rules between fields the CRD has too), the keys of nodeSelector and podAnnotations, and the size of the
 * annotations (ValidateAnnotationsSize: the CRD can bound a value, not their sum); and the types of the pod
 * fields embedded whole (affinity, the security contexts), which the CRD says but the hook's own check leaves
 * open (api/memcached-proxy.ts' PodField), for a proxy that reached it past an older CRD. A Deployment that
 * fails one is never applied. The sync is not refused for it (a 422 would stop the config too, and the servers
 * with it, until the spec is fixed): the status names the field (InvalidSpec) while the Deployment is not the
 * one the spec asks for, and the config and the other children are applied as ever.
 */
import { ANNOTATIONS_MAX_BYTES, DNS1123_SUBDOMAIN, DNS_NAME_MAX_LENGTH, QUALIFIED_NAME_PART, QUALIFIED_NAME_PART_MAX_LENGTH } from '../api/formats.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { METACONTROLLER_LAST_APPLIED_ANNOTATION } from '../api/kubernetes.js';
import { CEL_RULES } from '../api/cel-rules.js';
import type { McrouterSpec, MemcachedProxy } from '../api/memcached-proxy.js';
import { Affinity, PodSecurityContext, SecurityContext, type Shape } from '../api/pod-fields.js';
import { keyStep } from '../api/field-path.js';
import { compareQuantityValues, isWholeQuantity, resourceQuantityValue, wholeValueOf, type QuantityValue } from './quantity.js';

type Resources = NonNullable<McrouterSpec['resources']>;
type Toleration = NonNullable<McrouterSpec['tolerations']>[number];

/** A field of the spec the API server would refuse in the Deployment, and why, in its words. */
export interface TemplateFault {
  field: string;
  message: string;
}

const SUBDOMAIN = new RegExp(DNS1123_SUBDOMAIN);
const NAME_PART = new RegExp(QUALIFIED_NAME_PART);

const QUALIFIED_NAME_MESSAGE =
  `must be a qualified name: a name of at most ${QUALIFIED_NAME_PART_MAX_LENGTH} letters, digits, '-', '_' or '.', starting and ending ` +
  "with a letter or digit, with an optional DNS subdomain prefix and '/' (e.g. 'MyName', 'my.name' or 'example.com/my-name')";

/** Kubernetes' IsQualifiedName: label keys, annotation keys (in lower case), resource names, taint keys. */
function isQualifiedName(value: string): boolean {
  const parts = value.split('/');
  if (parts.length > 2) return false;
  const name = parts.at(-1)!;
  const prefix = parts.length === 2 ? parts[0]! : undefined;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > DNS_NAME_MAX_LENGTH || !SUBDOMAIN.test(prefix))) return false;
  return name.length <= QUALIFIED_NAME_PART_MAX_LENGTH && NAME_PART.test(name);
}

/** The container resources a pod may ask for by a name without a prefix. */
const CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const HUGE_PAGES = 'hugepages-';
/** Kubernetes' own resources (no prefix, or one in kubernetes.io): the others are extended resources. */
const isNative = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
/** A request below the limit is allowed for cpu, memory and ephemeral storage; huge pages and extended resources must ask for what they limit. */
const overcommits = (name: string) => isNative(name) && !name.startsWith(HUGE_PAGES);

/** Kubernetes' validateContainerResourceName. */
function resourceNameFault(name: string): string | undefined {
  if (!isQualifiedName(name)) return QUALIFIED_NAME_MESSAGE;
  if (!name.includes('/')) {
    return CONTAINER_RESOURCES.has(name) || name.startsWith(HUGE_PAGES) ? undefined : 'must be a standard resource for containers: cpu, memory, ephemeral-storage or hugepages-<size>';
  }
  if (isNative(name)) return undefined;
  // An extended resource is also counted in quotas as `requests.<name>`, which must be a qualified name too.
  return name.startsWith('requests.') || !isQualifiedName(`requests.${name}`) ? "doesn't follow the extended resource name standard (e.g. 'example.com/gpu')" : undefined;
}

/**
 * Kubernetes' validateResourceQuantityHugePageValue: a whole number of pages, of a size that is a quantity. (The
 * API server lets an update keep an indivisible value the Deployment already has; the hook checks only what it
 * asks for, and a Deployment that takes it after all ends the InvalidSpec.)
 */
function hugePagesFault(name: string, value: QuantityValue): string | undefined {
  const size = resourceQuantityValue(name.slice(HUGE_PAGES.length));
  const page = size && !size.negative && isWholeQuantity(size) ? wholeValueOf(size) : undefined;
  if (page === undefined || page <= 0n) return `resource name ${JSON.stringify(name)} must name a page size (e.g. 'hugepages-2Mi')`;
  const whole = wholeValueOf(value);
  return whole !== undefined && whole % page !== 0n ? `is not a whole number of ${name} pages` : undefined;
}

/** One list's quantities, each checked on its own: its name, not negative, and whole for an extended resource. */
function quantitiesOf(list: Record<string, string | number> | undefined, path: string): Map<string, QuantityValue> | TemplateFault {
  const values = new Map<string, QuantityValue>();
  for (const [name, quantity] of Object.entries(list ?? {})) {
    const field = `${path}${keyStep(name)}`;
    const nameFault = resourceNameFault(name);
    if (nameFault) return { field, message: `resource name ${JSON.stringify(name)} ${nameFault}` };
    // Beyond what the schema's grammar refuses, ParseQuantity refuses a fractional exponent, and one past int32.
    const value = resourceQuantityValue(quantity);
    if (!value) return { field, message: `${JSON.stringify(String(quantity))} is not a quantity the API server reads` };
    if (value.negative) return { field, message: 'must be greater than or equal to 0' };
    if (!isNative(name) && !isWholeQuantity(value)) return { field, message: 'must be an integer' };
    const pages = name.startsWith(HUGE_PAGES) ? hugePagesFault(name, value) : undefined;
    if (pages) return { field, message: pages };
    values.set(name, value);
  }
  return values;
}

/** Kubernetes' ValidateResourceRequirements for a container, on the quantities as the API server stores them. */
function resourcesFault(resources: Resources | undefined, path: string): TemplateFault | undefined {
  if (!resources) return undefined;
  const limits = quantitiesOf(resources.limits, `${path}.limits`);
  if (!(limits instanceof Map)) return limits;
  const requests = quantitiesOf(resources.requests, `${path}.requests`);
  if (!(requests instanceof Map)) return requests;
  for (const [name, request] of requests) {
    const limit = limits.get(name);
    if (limit === undefined) {
      if (!overcommits(name)) return { field: `${path}.limits`, message: `must be set for ${name}: a request of it needs a limit equal to it` };
      continue;
    }
    const field = `${path}.requests${keyStep(name)}`;
    const order = compareQuantityValues(request, limit);
    const limitText = String(resources.limits?.[name]);
    if (!overcommits(name) && order !== 0) return { field, message: `must be equal to ${name} limit of ${limitText}` };
    if (order > 0) return { field, message: `must be less than or equal to ${name} limit of ${limitText}` };
  }
  const names = [...limits.keys(), ...requests.keys()];
  if (names.some((name) => name.startsWith(HUGE_PAGES)) && !names.some((name) => name === 'cpu' || name === 'memory')) {
    return { field: path, message: 'huge pages require a cpu or memory request or limit' };
  }
  return undefined;
}

/**
 * An integer the API server stores exactly (an int64 field) that the hook, reading JSON numbers as JavaScript
 * does, holds only rounded past 2^53, and would copy changed: 2^63 - 1 comes out as 2^63, which no int64 holds.
 */
const ROUNDED_INTEGER = `must be at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1) in magnitude: the hook reads JSON numbers as JavaScript does, and would copy a larger one rounded`;

/** Kubernetes' ValidateTolerations: the key's form, and the rules between fields, which the CRD has too (CEL_RULES: named at the toleration, as kubectl shows them). */
function tolerationsFault(tolerations: readonly Toleration[] | undefined, path: string): TemplateFault | undefined {
  for (const [i, { key, operator, value, effect, tolerationSeconds }] of (tolerations ?? []).entries()) {
    const at = `${path}[${i}]`;
    if (key && !isQualifiedName(key)) return { field: `${at}.key`, message: QUALIFIED_NAME_MESSAGE };
    if (!key && operator !== 'Exists') return { field: at, message: CEL_RULES.tolerationEmptyKey.message };
    if (operator === 'Exists' && value) return { field: at, message: CEL_RULES.tolerationExistsValue.message };
    if (tolerationSeconds !== undefined && tolerationSeconds !== null && effect !== 'NoExecute') return { field: at, message: CEL_RULES.tolerationSeconds.message };
    if (typeof tolerationSeconds === 'number' && !Number.isSafeInteger(tolerationSeconds)) return { field: `${at}.tolerationSeconds`, message: ROUNDED_INTEGER };
  }
  return undefined;
}

/**
 * Keys of a map copied into the pod: nodeSelector's are label keys, and podAnnotations' annotation keys, which
 * Kubernetes checks in lower case.
 */
function keysFault(map: Record<string, unknown> | undefined, path: string, caseless = false): TemplateFault | undefined {
  const key = Object.keys(map ?? {}).find((k) => !isQualifiedName(caseless ? k.toLowerCase() : k));
  return key === undefined ? undefined : { field: `${path}${keyStep(key)}`, message: `key ${JSON.stringify(key.slice(0, 320))} ${QUALIFIED_NAME_MESSAGE}` };
}

const isType: Record<string, (value: unknown) => boolean> = {
  object: (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  array: Array.isArray,
  string: (value) => typeof value === 'string',
  integer: Number.isInteger,
  boolean: (value) => typeof value === 'boolean',
};

/**
 * The first value in an embedded pod field whose type is not Kubernetes' (api/pod-fields.ts), or a field it
 * requires that is missing: what the CRD refuses at `kubectl apply`, met here in a proxy the CRD did not check
 * (stored before it did, or sent with curl). It walks the schema, not the value: what the schema does not name
 * is not descended, so its depth is the schema's.
 */
function shapeFault(schema: Shape, value: unknown, field: string): TemplateFault | undefined {
  if (value === undefined) return undefined;
  if (schema.anyOf) {
    if (value === null) return undefined;
    schema = schema.anyOf.find((branch) => branch.type !== 'null')!;
  }
  const type = schema.type!;
  if (!isType[type]!(value)) return { field, message: `must be of type ${type}` };
  if (type === 'integer' && !Number.isSafeInteger(value)) return { field, message: ROUNDED_INTEGER };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const fault = shapeFault(schema.items!, value[i], `${field}[${i}]`);
      if (fault) return fault;
    }
    return undefined;
  }
  if (type !== 'object') return undefined;
  const object = value as Record<string, unknown>;
  const missing = schema.required?.find((key) => !Object.hasOwn(object, key));
  if (missing !== undefined) return { field: `${field}${keyStep(missing)}`, message: 'is required' };
  const mapValues = schema.patternProperties && Object.values(schema.patternProperties)[0];
  for (const key of Object.keys(object)) {
    const inner = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : mapValues;
    const fault = inner && shapeFault(inner, object[key], `${field}${keyStep(key)}`);
    if (fault) return fault;
  }
  return undefined;
}

/** Kubernetes' ValidateAnnotationsSize counts keys and values in UTF-8 bytes. */
function annotationBytes(annotations: Readonly<Record<string, string>> | undefined): number {
  let bytes = 0;
  for (const key in annotations) bytes += Buffer.byteLength(key) + Buffer.byteLength(annotations[key]!);
  return bytes;
}

/**
 * The bytes of `value` as Go's encoding/json writes it, as Metacontroller does: JavaScript's JSON but for `<`, `>`
 * and `&` (escaped as \u003c and so on, six bytes) and U+2028 and U+2029 (six bytes, not three).
 */
function goJsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  let extra = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3c || c === 0x3e || c === 0x26) extra += 5;
    else if (c === 0x2028 || c === 0x2029) extra += 3;
  }
  return Buffer.byteLength(text) + extra;
}

/**
 * What the Deployment carries beyond the hook's object, by the hook's best estimate: Metacontroller sets its
 * namespace and (under `generateSelector`, as the CompositeController here asks) a `controller-uid` label with the
 * proxy's uid, both in its last-applied copy too, and the Deployment controller adds its revision annotation.
 */
function addedByOthersBytes(owner: Pick<MemcachedProxy['metadata'], 'namespace' | 'uid'>): number {
  return (
    Buffer.byteLength(`"namespace":${JSON.stringify(owner.namespace ?? '')},`) +
    Buffer.byteLength(`"controller-uid":${JSON.stringify(owner.uid ?? '')},`) +
    Buffer.byteLength(DEPLOYMENT_REVISION_ANNOTATION) +
    REVISION_DIGITS
  );
}
const DEPLOYMENT_REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Room for the revision's number: ten digits. */
const REVISION_DIGITS = 10;

/**
 * The field of spec.mcrouter that takes the most room in the Deployment, in Go's JSON: the one to blame when the
 * copy Metacontroller keeps of the whole Deployment is too large. The fields the hook copies there grow with what
 * the user writes (podAnnotations, affinity, nodeSelector, tolerations, extraArgs, ...), its own parts do not; a
 * disabled exporter is no container, and takes none.
 */
function largestField(mcrouter: McrouterSpec): string {
  let largest = 'podAnnotations';
  let most = -1;
  for (const [key, value] of Object.entries(mcrouter)) {
    if (key === 'exporter' && !mcrouter.exporter?.enabled) continue;
    const size = value === undefined ? 0 : goJsonBytes(value);
    if (size > most) [largest, most] = [key, size];
  }
  return `spec.mcrouter.${largest}`;
}

/**
 * Kubernetes' ValidateAnnotationsSize over what the hook's Deployment carries: the pod template's annotations (the
 * spec's and the hook's own config hash), and the Deployment's own, where Metacontroller's apply adds its
 * last-applied copy of the whole Deployment, the pod annotations again among it.
 */
function annotationsSizeFault(deployment: Deployment, owner: Pick<MemcachedProxy['metadata'], 'namespace' | 'uid'>, mcrouter: McrouterSpec): TemplateFault | undefined {
  const template = annotationBytes(deployment.spec?.template.metadata?.annotations);
  if (template > ANNOTATIONS_MAX_BYTES) {
    return {
      field: 'spec.mcrouter.podAnnotations',
      message: `the pod template's annotations would take ${template} bytes (keys and values, the hook's own included): Kubernetes takes at most ${ANNOTATIONS_MAX_BYTES}`,
    };
  }
  const own =
    annotationBytes(deployment.metadata?.annotations) + Buffer.byteLength(METACONTROLLER_LAST_APPLIED_ANNOTATION) + goJsonBytes(deployment) + addedByOthersBytes(owner);
  if (own > ANNOTATIONS_MAX_BYTES) {
    return {
      field: largestField(mcrouter),
      message: `the Deployment's annotations would take ${own} bytes with the copy of it that Metacontroller keeps there (${METACONTROLLER_LAST_APPLIED_ANNOTATION}), which holds what the spec copies into it again, this field the most: Kubernetes takes at most ${ANNOTATIONS_MAX_BYTES}`,
    };
  }
  return undefined;
}

/**
 * The first field of the proxy's spec.mcrouter that the API server would refuse in `deployment`, the Deployment the
 * hook asks for, if any.
 */
export function podTemplateFault(parent: Pick<MemcachedProxy, 'metadata' | 'spec'>, deployment: Deployment): TemplateFault | undefined {
  const mcrouter = parent.spec.mcrouter;
  if (!mcrouter) return undefined;
  return (
    resourcesFault(mcrouter.resources, 'spec.mcrouter.resources') ??
    // A disabled exporter is no container of the Deployment: its resources reach no API server.
    (mcrouter.exporter?.enabled ? resourcesFault(mcrouter.exporter.resources, 'spec.mcrouter.exporter.resources') : undefined) ??
    tolerationsFault(mcrouter.tolerations, 'spec.mcrouter.tolerations') ??
    shapeFault(SecurityContext, mcrouter.securityContext, 'spec.mcrouter.securityContext') ??
    shapeFault(PodSecurityContext, mcrouter.podSecurityContext, 'spec.mcrouter.podSecurityContext') ??
    shapeFault(Affinity, mcrouter.affinity, 'spec.mcrouter.affinity') ??
    keysFault(mcrouter.nodeSelector, 'spec.mcrouter.nodeSelector') ??
    keysFault(mcrouter.podAnnotations, 'spec.mcrouter.podAnnotations', true) ??
    annotationsSizeFault(deployment, parent.metadata, mcrouter)
  );
}

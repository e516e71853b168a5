/**
 * The MemcachedProxy CustomResourceDefinition, generated from the TypeBox
 * schema in memcached-proxy.ts (the single source of truth). Pure: the YAML
 * file is written by scripts/manifests.ts (`npm run manifests`).
 *
 * A CRD schema is a restricted OpenAPI v3 schema that must be *structural*
 * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
 * every node has a type, `anyOf` carries no types except the int-or-string
 * form, no `patternProperties`, `const`, `$ref` or `null` types, and the root
 * `metadata` says nothing but `type: object`. `toCrdSchema` converts what
 * TypeBox emits into that, and throws on anything it does not know how to
 * convert, so a new kind of schema node fails generation instead of
 * producing a CRD the API server refuses.
 */
import { ANY_KEY } from './map.js';
import { CRD_SCHEMA, GROUP, KIND, MemcachedProxy, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './memcached-proxy.js';
import { READY_CONDITION } from './proxy-status.js';

type JsonSchema = { [key: string]: unknown };

export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** JSONSchemaProps fields a CRD schema may carry, in the order they are written. */
const SCALAR_KEYS = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'nullable',
  'required',
] as const;
const EXTENSION_KEYS = [
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
] as const;
/** Keys handled by the conversion itself. */
const STRUCTURE_KEYS = ['properties', 'items', 'additionalProperties', 'patternProperties', 'anyOf', 'const', 'x-kubernetes-validations'];
/** TypeBox's own bookkeeping: never part of the schema. */
const isTypeBoxKey = (key: string): boolean => key.startsWith('~') || key === '$id' || key === '$schema';

/** Constraints that apply to one branch of an int-or-string: lifted onto the node itself. */
const INTEGER_CONSTRAINTS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const STRING_CONSTRAINTS = ['minLength', 'maxLength', 'pattern'];

export class CrdSchemaError extends Error {
  override name = 'CrdSchemaError';
}

const isObject = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

const fail = (path: string, message: string): never => {
  throw new CrdSchemaError(`${path || '<root>'}: ${message}`);
};

/** A JSON value copied without shared references (so the YAML writer never emits anchors). */
const copyValue = (value: unknown): unknown => structuredClone(value);

/**
 * `anyOf: [{type: integer, ...}, {type: string, ...}]` with `x-kubernetes-int-or-string`:
 * Kubernetes accepts exactly `anyOf: [{type: integer}, {type: string}]`, so each branch's
 * constraints move onto the node. A JSON-schema validator, and the API server, apply
 * `minimum` only to numbers and `maxLength` only to strings, so the meaning is unchanged.
 */
function intOrString(schema: JsonSchema, path: string): JsonSchema {
  const branches = schema.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2 || !isObject(branches[0]) || !isObject(branches[1])) {
    return fail(path, 'x-kubernetes-int-or-string needs anyOf [integer, string]');
  }
  const [int, str] = branches as [JsonSchema, JsonSchema];
  // A number branch (a Quantity: the hook takes `cpu: 0.5` that an earlier CRD stored) is an integer in the
  // CRD, the only int-or-string Kubernetes has: the API server refuses a fractional one from now on.
  if ((int.type !== 'integer' && int.type !== 'number') || str.type !== 'string') {
    return fail(path, 'x-kubernetes-int-or-string needs anyOf [integer or number, string], in that order');
  }
  const lifted: JsonSchema = {};
  const lift = (branch: JsonSchema, allowed: string[], name: string) => {
    for (const key of Object.keys(branch)) {
      if (key === 'type' || isTypeBoxKey(key)) continue;
      if (!allowed.includes(key)) fail(`${path}.anyOf[${name}]`, `cannot carry ${key} in an int-or-string`);
      if (key in schema) fail(path, `${key} is set on both the int-or-string and its ${name} branch`);
      lifted[key] = branch[key];
    }
  };
  lift(int, INTEGER_CONSTRAINTS, 'integer');
  lift(str, STRING_CONSTRAINTS, 'string');
  return lifted;
}

/** Converts one TypeBox schema node (and what it contains) into a structural CRD schema node. */
export function toCrdSchema(input: unknown, path = ''): JsonSchema {
  if (!isObject(input)) return fail(path, 'schema node is not an object');
  let schema: JsonSchema = input;

  // A field the hook leaves open, typed in the CRD (memcached-proxy.ts' PodField): its type in its place.
  const typed = schema[CRD_SCHEMA];
  if (typed !== undefined) {
    if (!isObject(typed)) return fail(path, `${CRD_SCHEMA} is not a schema`);
    return toCrdSchema(schema.description === undefined ? typed : { ...typed, description: schema.description }, path);
  }

  if (Array.isArray(schema.anyOf) && schema['x-kubernetes-int-or-string'] !== true) {
    // `Union([X, Null()])`: Kubernetes prunes nulls from non-nullable fields, so the CRD takes X.
    const nonNull = (schema.anyOf as unknown[]).filter((branch) => !(isObject(branch) && branch.type === 'null'));
    if (nonNull.length !== 1 || nonNull.length === schema.anyOf.length) {
      return fail(path, 'anyOf is only supported as int-or-string or as a union with null');
    }
    const { anyOf: _anyOf, ...outer } = schema;
    schema = { ...(nonNull[0] as JsonSchema), ...Object.fromEntries(Object.entries(outer).filter(([k]) => !isTypeBoxKey(k))) };
  }

  for (const key of Object.keys(schema)) {
    if (isTypeBoxKey(key)) continue;
    if ((SCALAR_KEYS as readonly string[]).includes(key) || (EXTENSION_KEYS as readonly string[]).includes(key)) continue;
    if (STRUCTURE_KEYS.includes(key)) continue;
    fail(path, `unsupported schema keyword ${JSON.stringify(key)}`);
  }

  const out: JsonSchema = {};
  const intOrStr = schema['x-kubernetes-int-or-string'] === true;
  const lifted = intOrStr ? intOrString(schema, path) : {};
  for (const key of SCALAR_KEYS) {
    if (key in schema) out[key] = copyValue(schema[key]);
    else if (key in lifted) out[key] = copyValue(lifted[key]);
  }

  if ('const' in schema) {
    if (out.enum !== undefined) fail(path, 'const and enum together');
    out.enum = [copyValue(schema.const)];
  }
  if (out.type === undefined && !intOrStr) {
    if (typeof schema.const === 'string') out.type = 'string';
    else if (schema['x-kubernetes-preserve-unknown-fields'] !== true) fail(path, 'every node of a structural schema needs a type');
  }
  if (out.type === 'null') fail(path, 'type null is not allowed: use a union with null');
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;

  const properties = schema.properties;
  if (properties !== undefined) {
    if (!isObject(properties)) return fail(path, 'properties is not an object');
    const entries = Object.entries(properties);
    if (entries.length > 0) {
      out.properties = Object.fromEntries(entries.map(([name, child]) => [name, toCrdSchema(child, `${path}.${name}`)]));
    }
  }

  if (schema.items !== undefined) {
    if (Array.isArray(schema.items)) fail(path, 'tuple items are not allowed');
    out.items = toCrdSchema(schema.items, `${path}[]`);
  } else if (out.type === 'array') {
    fail(path, 'an array needs items');
  }

  const patternProperties = schema.patternProperties;
  const additional = schema.additionalProperties;
  if (patternProperties !== undefined) {
    // A map with any key (MapOf, or TypeBox's Record(String(), X)), which Kubernetes spells additionalProperties.
    if (!isObject(patternProperties)) return fail(path, 'patternProperties is not an object');
    const patterns = Object.keys(patternProperties);
    if (patterns.length !== 1 || ![ANY_KEY, '^.*$', '^(.*)$'].includes(patterns[0] as string)) {
      fail(path, `patternProperties ${JSON.stringify(patterns)} cannot be expressed in a CRD: only any-key maps are`);
    }
    if (additional !== undefined && additional !== false) fail(path, 'patternProperties beside additionalProperties');
    if (out.properties !== undefined) fail(path, 'a map cannot also have properties');
    out.additionalProperties = toCrdSchema(patternProperties[patterns[0] as string], `${path}.*`);
  } else if (isObject(additional)) {
    if (out.properties !== undefined) fail(path, 'additionalProperties and properties are mutually exclusive in a CRD');
    out.additionalProperties = toCrdSchema(additional, `${path}.*`);
  } else if (additional === true && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    fail(path, 'additionalProperties: true needs x-kubernetes-preserve-unknown-fields');
  }
  // additionalProperties: true beside preserve-unknown-fields says nothing more, and
  // additionalProperties: false is what Kubernetes does anyway (unknown fields are pruned).

  if (intOrStr) out.anyOf = [{ type: 'integer' }, { type: 'string' }];

  for (const key of EXTENSION_KEYS) {
    if (key in schema) out[key] = copyValue(schema[key]);
  }
  const validations = schema['x-kubernetes-validations'];
  if (validations !== undefined) {
    if (!Array.isArray(validations) || validations.length === 0) return fail(path, 'x-kubernetes-validations must be a non-empty list');
    out['x-kubernetes-validations'] = validations.map((rule, i) => {
      if (!isObject(rule) || typeof rule.rule !== 'string') return fail(`${path}.x-kubernetes-validations[${i}]`, 'needs a rule');
      const { rule: expression, message, messageExpression, reason, fieldPath, optionalOldSelf, ...rest } = rule;
      if (Object.keys(rest).length > 0) fail(`${path}.x-kubernetes-validations[${i}]`, `unknown fields ${Object.keys(rest).join(', ')}`);
      const copy: JsonSchema = { rule: expression };
      if (message !== undefined) copy.message = message;
      if (messageExpression !== undefined) copy.messageExpression = messageExpression;
      if (reason !== undefined) copy.reason = reason;
      if (fieldPath !== undefined) copy.fieldPath = fieldPath;
      if (optionalOldSelf !== undefined) copy.optionalOldSelf = optionalOldSelf;
      return copy;
    });
  }
  return out;
}

/**
 * The openAPIV3Schema of the CRD: the whole MemcachedProxy schema, with the
 * resource root's Kubernetes rules applied: `apiVersion` and `kind` plain
 * strings, `metadata` only `type: object` (the API server validates it itself;
 * the root CEL rule still reads `self.metadata.name`), `status` the status
 * schema without its null branch, and only `spec` required.
 */
function memcachedProxySchema(): JsonSchema {
  const ROOT_FIELDS: Record<string, JsonSchema> = {
    apiVersion: {
      description: 'APIVersion defines the versioned schema of this representation of an object.',
      type: 'string',
    },
    kind: {
      description: 'Kind is a string value representing the REST resource this object represents.',
      type: 'string',
    },
    metadata: { type: 'object' },
  };
  const source = MemcachedProxy as unknown as JsonSchema;
  const sourceProperties = source.properties as Record<string, unknown>;
  const rest = Object.fromEntries(Object.entries(sourceProperties).filter(([name]) => !(name in ROOT_FIELDS)));
  const converted = toCrdSchema({ ...source, properties: rest, required: ['spec'] });
  const { description: _d, type, required, properties, ...extensions } = converted;
  return {
    description:
      'MemcachedProxy puts mcrouter in front of memcached: clients connect to one Service, ' +
      'and mcrouter shards (or replicates) keys over the memcached pods behind the Services the spec names.',
    type,
    required,
    properties: { ...ROOT_FIELDS, ...(properties as Record<string, JsonSchema>) },
    ...extensions,
  };
}

const PRINTER_COLUMNS = [
  { name: 'Target', type: 'string', jsonPath: '.status.target', description: 'The pools mcrouter routes to.' },
  { name: 'Servers', type: 'integer', jsonPath: '.status.servers', description: 'Servers in mcrouter\'s pools.' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.readyServers', description: 'Servers backed by a ready endpoint.' },
  {
    name: 'Ready Replicas',
    type: 'integer',
    jsonPath: '.status.readyReplicas',
    description: 'Ready mcrouter pods.',
    priority: 1,
  },
  {
    name: 'Status',
    type: 'string',
    jsonPath: `.status.conditions[?(@.type=="${READY_CONDITION}")].reason`,
    description: `Reason of the ${READY_CONDITION} condition.`,
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The whole CustomResourceDefinition object. */
export function memcachedProxyCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      annotations: {
        // Helm installs the CRD as a template (so crds.install can turn it off):
        // keep it on `helm uninstall`, or every MemcachedProxy and its mcrouter would go with it.
        'helm.sh/resource-policy': 'keep',
      },
    },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        // No category: kubectl expands a category before it reads a resource's name, so one named `memcached` made
        // `kubectl get memcached` list proxies where a memcached operator defines a Memcached kind.
      },
      scope: 'Namespaced',
      // Said, though false is v1's default: a CRD first created as v1beta1 without a schema (ianlewis/memcached-operator
      // v0.0.2's) keeps preserveUnknownFields true, which an apply that leaves the field out keeps too, and the API
      // server refuses schema defaults beside it ("must be false in order to use defaults in the schema").
      preserveUnknownFields: false,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          // Metacontroller writes the hook's status through the status subresource (without one it would update the whole object).
          subresources: { status: {} },
          additionalPrinterColumns: structuredClone(PRINTER_COLUMNS),
          schema: { openAPIV3Schema: memcachedProxySchema() },
        },
      ],
    },
  };
}


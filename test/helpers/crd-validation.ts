/**
 * Validates an object the way the API server validates a custom resource
 * against its CRD, as far as Node can: the openAPIV3Schema as JSON schema
 * (TypeBox's compiler accepts plain JSON schema), and every
 * `x-kubernetes-validations` CEL rule evaluated with @bufbuild/cel at the
 * node that declares it, with `self` bound to the value there.
 */
import { isCelError, run, type CelInput } from '@bufbuild/cel';
import { Compile } from 'typebox/compile';
import { memcachedProxyCrd } from '../../src/api/crd.js';

export type Schema = { [key: string]: unknown };

/** The MemcachedProxy CRD's openAPIV3Schema, as the install writes it (src/api/crd.ts). */
export const PROXY_SCHEMA: Schema = (memcachedProxyCrd() as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }).spec.versions[0]!.schema
  .openAPIV3Schema;

/** The schema of the field `name` of `schema`'s properties. */
export const propertyOf = (schema: Schema, name: string): Schema => (schema['properties'] as Record<string, Schema>)[name]!;

export interface Violation {
  path: string;
  message: string;
}

/** A JSON object: not null, not an array. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON to CEL values the way Kubernetes binds them: integer fields are CEL ints, objects are maps. */
export function toCel(value: unknown, schema: Schema | undefined): CelInput {
  if (Array.isArray(value)) return value.map((item) => toCel(item, schema?.items as Schema | undefined)) as CelInput;
  if (isObject(value)) {
    const properties = (schema?.properties ?? {}) as Record<string, Schema>;
    const additional = isObject(schema?.additionalProperties) ? (schema?.additionalProperties as Schema) : undefined;
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v, properties[k] ?? additional)])) as CelInput;
  }
  if (typeof value === 'number' && Number.isInteger(value) && schema?.type !== 'number') return BigInt(value);
  return value as CelInput;
}

/** Evaluates every CEL rule of `schema` and its descendants over `value`. */
export function celViolations(schema: Schema, value: unknown, path = ''): Violation[] {
  const out: Violation[] = [];
  if (value === undefined || value === null) return out;
  const rules = (schema['x-kubernetes-validations'] ?? []) as { rule: string; message?: string }[];
  for (const { rule, message } of rules) {
    const result = run(rule, { self: toCel(value, schema) });
    if (isCelError(result)) out.push({ path: path || '<root>', message: `rule ${rule} failed to evaluate: ${String(result)}` });
    else if (result !== true) out.push({ path: path || '<root>', message: message ?? `failed rule ${rule}` });
  }
  if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((item, i) => out.push(...celViolations(schema.items as Schema, item, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key] ?? (isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined);
      if (childSchema) out.push(...celViolations(childSchema, child, `${path}.${key}`));
    }
  }
  return out;
}

/** An OpenAPI schema as JSON Schema: `nullable: true` (which JSON Schema does not know) as a union with null. */
function jsonSchemaOf(schema: Schema): Schema {
  const { nullable, properties, items, additionalProperties, ...rest } = schema;
  const out: Schema = { ...rest };
  if (isObject(properties)) out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, jsonSchemaOf(v as Schema)]));
  if (isObject(items)) out.items = jsonSchemaOf(items);
  if (additionalProperties !== undefined) out.additionalProperties = isObject(additionalProperties) ? jsonSchemaOf(additionalProperties) : additionalProperties;
  return nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
}

const compiledSchemas = new WeakMap<Schema, ReturnType<typeof Compile>>();

/** JSON-schema errors of `value` against the CRD's openAPIV3Schema. */
export function schemaViolations(schema: Schema, value: unknown): Violation[] {
  let compiled = compiledSchemas.get(schema);
  if (!compiled) compiledSchemas.set(schema, (compiled = Compile(jsonSchemaOf(schema) as never)));
  if (compiled.Check(value)) return [];
  return [...compiled.Errors(value)].map((e) => {
    const error = e as { instancePath?: string; message?: string };
    return { path: error.instancePath || '<root>', message: error.message ?? 'invalid' };
  });
}

/**
 * `value` as the API server stores it under `schema`: fields the schema does not name dropped where it does not
 * preserve unknown fields, and nulls where it does not take them (`nullable`).
 */
export function pruned(schema: Schema, value: unknown): unknown {
  if (Array.isArray(value)) return isObject(schema.items) ? value.map((item) => pruned(schema.items as Schema, item)) : value;
  if (!isObject(value)) return value;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const fieldSchema = Object.hasOwn(properties, key) ? properties[key] : isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
    if (fieldSchema === undefined) {
      if (schema['x-kubernetes-preserve-unknown-fields'] === true) kept[key] = field;
    } else if (field !== null || fieldSchema.nullable === true) {
      kept[key] = pruned(fieldSchema, field);
    }
  }
  return kept;
}

/** Both: what the API server would refuse (empty: it accepts the object). */
export function crdViolations(schema: Schema, value: unknown): Violation[] {
  const structural = schemaViolations(schema, value);
  // The API server runs CEL rules only on schema-valid objects; so do we, so messages stay meaningful.
  return structural.length > 0 ? structural : celViolations(schema, value);
}

/**
 * The invariants of a structural schema (Kubernetes' apiextensions
 * ValidateStructural and the CRD schema checks) that a generator can get wrong.
 * Returns what is broken; empty: structural.
 */
export function structuralViolations(schema: Schema): string[] {
  const out: string[] = [];
  const ALLOWED = new Set([
    'description',
    'type',
    'format',
    'title',
    'default',
    'enum',
    'maximum',
    'minimum',
    'exclusiveMaximum',
    'exclusiveMinimum',
    'multipleOf',
    'maxLength',
    'minLength',
    'pattern',
    'maxItems',
    'minItems',
    'maxProperties',
    'minProperties',
    'required',
    'items',
    'properties',
    'additionalProperties',
    'anyOf',
    'allOf',
    'oneOf',
    'not',
    'nullable',
    'example',
    'externalDocs',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-validations',
  ]);
  const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

  const walk = (node: unknown, path: string, level: 'root' | 'field' | 'item') => {
    if (!isObject(node)) {
      out.push(`${path}: not an object`);
      return;
    }
    for (const key of Object.keys(node)) if (!ALLOWED.has(key)) out.push(`${path}: keyword ${key} is not allowed in a CRD schema`);
    const intOrString = node['x-kubernetes-int-or-string'] === true;
    const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
    if (node.type === undefined) {
      if (!intOrString && !preserve) out.push(`${path}: type must be set (${level})`);
    } else if (typeof node.type !== 'string' || !TYPES.has(node.type)) {
      out.push(`${path}: type ${JSON.stringify(node.type)} is not allowed`);
    }
    if (level === 'root' && node.type !== 'object') out.push(`${path}: must be object at the root`);
    if (intOrString) {
      if (node.type !== undefined) out.push(`${path}: int-or-string must not have a type`);
      if (preserve) out.push(`${path}: int-or-string must not preserve unknown fields`);
      const anyOf = node.anyOf;
      if (anyOf !== undefined && JSON.stringify(anyOf) !== JSON.stringify([{ type: 'integer' }, { type: 'string' }])) {
        out.push(`${path}: int-or-string anyOf must be exactly [{type: integer}, {type: string}]`);
      }
    }
    for (const junctor of ['allOf', 'oneOf', 'not', ...(intOrString ? [] : ['anyOf'])]) {
      const nested = node[junctor];
      if (nested === undefined) continue;
      const list = Array.isArray(nested) ? nested : [nested];
      for (const [i, v] of list.entries()) {
        const forbidden = ['type', 'description', 'default', 'additionalProperties', 'nullable', 'x-kubernetes-validations'];
        for (const key of forbidden) if (isObject(v) && key in v) out.push(`${path}.${junctor}[${i}]: ${key} is forbidden under ${junctor}`);
      }
    }
    if (node.type === 'array' && node.items === undefined) out.push(`${path}: array without items`);
    if (Array.isArray(node.items)) out.push(`${path}: items must be one schema`);
    if (node.uniqueItems === true) out.push(`${path}: uniqueItems is forbidden`);
    if (node.additionalProperties !== undefined) {
      if (level === 'root') out.push(`${path}: additionalProperties at the root`);
      if (node.properties !== undefined && (node.additionalProperties !== true)) {
        out.push(`${path}: additionalProperties and properties are mutually exclusive`);
      }
    }
    if (node.type === 'null') out.push(`${path}: type null`);
    if (level === 'root') {
      const props = (node.properties ?? {}) as Record<string, Schema>;
      for (const key of ['apiVersion', 'kind']) {
        if (props[key] !== undefined && props[key]?.type !== 'string') out.push(`${path}.${key}: must be a string`);
      }
      const metadata = props.metadata;
      if (metadata !== undefined) {
        const names = Object.keys((metadata.properties ?? {}) as object);
        const rest = Object.keys(metadata).filter((k) => k !== 'type' && k !== 'properties');
        if (metadata.type !== 'object' || rest.length > 0 || names.some((n) => n !== 'name' && n !== 'generateName')) {
          out.push(`${path}.metadata: only type object (and constraints on name and generateName) are allowed`);
        }
      }
    }
    const properties = node.properties;
    if (properties !== undefined) {
      if (!isObject(properties)) out.push(`${path}: properties not an object`);
      else
        for (const [name, child] of Object.entries(properties)) {
          if (level === 'root' && name === 'metadata') continue;
          walk(child, `${path}.${name}`, 'field');
        }
    }
    if (isObject(node.items)) walk(node.items, `${path}[]`, 'item');
    if (isObject(node.additionalProperties)) walk(node.additionalProperties, `${path}.*`, 'field');
    const validations = node['x-kubernetes-validations'];
    if (validations !== undefined) {
      if (!Array.isArray(validations)) out.push(`${path}: x-kubernetes-validations must be a list`);
      else
        for (const [i, v] of validations.entries()) {
          if (!isObject(v) || typeof v.rule !== 'string' || v.rule.trim() === '') out.push(`${path}: rule ${i} is empty`);
          else if (typeof v.message === 'string' && /[\r\n]/.test(v.message)) out.push(`${path}: rule ${i} message has a line break`);
        }
    }
  };
  walk(schema, '<root>', 'root');
  return out;
}

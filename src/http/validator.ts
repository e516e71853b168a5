/**
 * Fastify's validator for hook bodies: TypeBox's compiled check, and when it
 * fails, the errors of the smallest failing part of the body only.
 *
 * TypeBox's `Errors()` visits every element of a failing array, and keeps a
 * stack frame for each element that fails (its error walk pops only on
 * success), even after it has stopped collecting errors. A 2 MB body of a
 * million wrong array items held about 400 MB until the request ended: two
 * such requests, and the pod is OOM-killed. So a failing body is narrowed
 * first, one property or item at a time, to the deepest value whose own
 * children all pass, and only that value is handed to `Errors()`.
 *
 * Each narrowing step checks children with compiled checks (TypeBox's
 * interpreted `Value.Check` is about 100 times slower, and a 15 MB body
 * valid up to its last item took 34 s of blocked event loop), stopping at
 * the first that fails: the walk costs a few compiled checks of the body,
 * one per level. For a body with one wrong value, the refusal is the one
 * TypeBox's full list gives (test/fuzz.test.ts compares them at every path);
 * with several, it names the first failing value in key order rather than the
 * deepest, and so may answer 400 for a body that also has a wrong spec.
 * The failing value's errors come from its own keywords only (see ownKeywords).
 *
 * What still costs: each level checks the failing part whole again, so a
 * huge map deep in the body (a ConfigMap of a million keys) is checked once
 * per level above it. The body limit bounds that, as it bounds a valid body.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { SchemaError } from './validation-error.js';

/** The JSON Schema keywords narrowing follows; what TypeBox emits for the hook's types. */
interface Schema {
  type?: string | string[];
  maxItems?: number;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema | Schema[];
  anyOf?: Schema[];
}

interface Part {
  key: string | number | undefined;
  schema: Schema;
  value: unknown;
}

/** One route's schema, its parts compiled when a refusal first needs them. */
interface Compiled {
  check(schema: Schema): (value: unknown) => boolean;
  pattern(source: string): RegExp;
}

const jsonType = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;

const admits = (schema: Schema, type: string): boolean => {
  if (schema.type === undefined) return false;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes(type) || (type === 'integer' && types.includes('number'));
};

/** The schema a property of an object is checked against, as JSON Schema picks it. */
function propertySchema(schema: Schema, key: string, compiled: Compiled): Schema | undefined {
  if (schema.properties && Object.hasOwn(schema.properties, key)) return schema.properties[key];
  for (const [pattern, inner] of Object.entries(schema.patternProperties ?? {})) {
    if (compiled.pattern(pattern).test(key)) return inner;
  }
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

/** One step down from a value that fails its schema: a child that fails on its own, or undefined when the value itself is at fault. */
function failingPart(schema: Schema, value: unknown, compiled: Compiled): Part | undefined {
  if (schema.anyOf) {
    // A union of types (TypeBox's `X | null`): the one branch of the value's own type is the one it meant.
    const type = jsonType(value);
    const meant = schema.anyOf.filter((branch) => admits(branch, type));
    return meant.length === 1 ? { key: undefined, schema: meant[0]!, value } : undefined;
  }
  if (Array.isArray(value)) {
    if (typeof schema.items !== 'object' || Array.isArray(schema.items)) return undefined;
    const items = schema.items;
    const check = compiled.check(items);
    const index = value.findIndex((item) => !check(item));
    return index === -1 ? undefined : { key: index, schema: items, value: value[index] };
  }
  if (typeof value === 'object' && value !== null) {
    // A map's keys are all worth a look; an object's, only those its schema names: listing a million keys
    // nothing reads doubled a refusal's memory.
    const isMap = schema.patternProperties !== undefined || typeof schema.additionalProperties === 'object';
    const keys = isMap ? Object.keys(value) : Object.keys(schema.properties ?? {}).filter((key) => Object.hasOwn(value, key));
    for (const key of keys) {
      const inner = propertySchema(schema, key, compiled);
      const child = (value as Record<string, unknown>)[key];
      if (inner && !compiled.check(inner)(child)) return { key, schema: inner, value: child };
    }
  }
  return undefined;
}

const anything = (schemas: Record<string, Schema>) => Object.fromEntries(Object.keys(schemas).map((key) => [key, {}]));

/**
 * The keywords of a value's own (its type, required keys, length), without those of its children: they
 * all pass, and TypeBox's error walk would visit every one of them again (3 s and an out-of-memory crash
 * for a 9 MB body whose only fault was a missing `parent`).
 */
function ownKeywords(schema: Schema): Schema {
  // Keywords whose meaning depends on the children's schemas (unions, tuples, unevaluated keys): kept whole.
  if (schema.anyOf || Array.isArray(schema.items) || 'unevaluatedProperties' in schema || 'unevaluatedItems' in schema) return schema;
  const { items: _items, properties, patternProperties, additionalProperties, ...own } = schema;
  if (additionalProperties !== false) return own;
  // Which keys are additional depends on the others: keep those, each accepting anything.
  return {
    ...own,
    additionalProperties,
    ...(properties ? { properties: anything(properties) } : {}),
    ...(patternProperties ? { patternProperties: anything(patternProperties) } : {}),
  };
}

const pointerToken = (key: string | number) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

/** The errors of the deepest failing value, with paths from the body's root. */
export function firstErrors(schema: Schema, value: unknown, compiled: Compiled): SchemaError[] {
  let pointer = '';
  for (let part = failingPart(schema, value, compiled); part; part = failingPart(schema, value, compiled)) {
    if (part.key !== undefined) pointer += `/${pointerToken(part.key)}`;
    ({ schema, value } = part);
  }
  // Every item passes, so an array fails on its own length: its first maxItems + 1 items fail the same way.
  if (Array.isArray(value) && schema.maxItems !== undefined && value.length > schema.maxItems) value = value.slice(0, schema.maxItems + 1);
  const errors = Value.Errors(ownKeywords(schema) as never, value).map((error) => ({ ...error, instancePath: pointer + error.instancePath }));
  // The compiled check and TypeBox's error walk have agreed on every body tried; should they not, still a 400 naming the place.
  return errors.length > 0 ? errors : [{ keyword: 'invalid', instancePath: pointer, message: 'is not valid' }];
}

export const boundedValidatorCompiler: FastifySchemaCompiler<Schema> = ({ schema }) => {
  const checks = new WeakMap<Schema, (value: unknown) => boolean>();
  const patterns = new Map<string, RegExp>();
  const compiled: Compiled = {
    check(part) {
      let check = checks.get(part);
      if (!check) {
        const validator = Compile(part as never);
        check = (value) => validator.Check(value);
        checks.set(part, check);
      }
      return check;
    },
    pattern(source) {
      let pattern = patterns.get(source);
      if (!pattern) patterns.set(source, (pattern = new RegExp(source, 'u')));
      return pattern;
    },
  };
  const check = compiled.check(schema);
  return (value: unknown) => (check(value) ? { value } : { error: firstErrors(schema, value, compiled) as never });
};

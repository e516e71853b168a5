/**
 * Fastify's validator for hook bodies: TypeBox's compiled check, and when it
 * fails, the errors of the one failing value that is to blame.
 *
 * TypeBox's own `Errors()` cannot be given a hostile body. It visits every
 * element of a failing array, and keeps a stack frame for each element that
 * fails (its error walk pops only on success), even after it has stopped
 * collecting errors: a 2 MB body of a million wrong items held about 400 MB.
 * And it walks a value's whole valid subtree again to report the value's own
 * fault: 6 s and 870 MB for a 16 MB body that lacked only `parent`.
 *
 * So a failing body is walked once (firstFault), each value's children before
 * the value, with compiled checks of each schema's own keywords (TypeBox's
 * interpreted `Value.Check` is about 100 times slower: 34 s for a 15 MB body
 * valid up to its last item), to the deepest failing value, first in key
 * order. Only that value, under its own keywords, goes to `Errors()`. For a
 * body with one wrong value, the refusal is the one TypeBox's full list gives
 * (test/fuzz.test.ts compares them at every path); with several, it names the
 * first rather than the deepest, and so may answer 400 for a body that also
 * has a wrong spec.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { SchemaError } from './validation-error.js';

/** The JSON Schema keywords the walk follows; what TypeBox emits for the hook's types. */
interface Schema {
  type?: string | string[];
  maxItems?: number;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema | Schema[];
  anyOf?: Schema[];
  description?: string;
}

/** One route's schema, its parts compiled when a refusal first needs them. */
interface Compiled {
  /** The schema's whole check. */
  check(schema: Schema): (value: unknown) => boolean;
  /** The check of its own keywords only, its children's left out (ownKeywords). */
  own(schema: Schema): (value: unknown) => boolean;
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

/** Where a walk stands: the schema and value, and the path to them from the body's root. */
interface Fault {
  schema: Schema;
  value: unknown;
  path: (string | number)[];
}

/**
 * The deepest failing value, first in key order: a walk of the body, each value's children before the
 * value's own keywords. Every value is visited at most once, whatever the depth: narrowing level by level
 * instead checked the failing part whole at each level, and a million-key map ten levels down ten times.
 * `path` is the walk's stack, shared by every call.
 */
function firstFault(schema: Schema, value: unknown, compiled: Compiled, path: (string | number)[]): Fault | undefined {
  if (schema.anyOf) {
    // A union of types (TypeBox's `X | null`): the one branch of the value's own type is the one it meant.
    const type = jsonType(value);
    const meant = schema.anyOf.filter((branch) => admits(branch, type));
    if (meant.length === 1) return firstFault(meant[0]!, value, compiled, path);
    return compiled.check(schema)(value) ? undefined : { schema, value, path: [...path] };
  }
  if (Array.isArray(value)) {
    const items = schema.items;
    if (typeof items === 'object' && !Array.isArray(items)) {
      for (let i = 0; i < value.length; i++) {
        const fault = descend(i, items, value[i], compiled, path);
        if (fault) return fault;
      }
    }
  } else if (typeof value === 'object' && value !== null) {
    // A map's keys are all worth a look; an object's, only those its schema names: listing a million keys
    // nothing reads doubled a refusal's memory.
    const isMap = schema.patternProperties !== undefined || typeof schema.additionalProperties === 'object';
    const keys = isMap ? Object.keys(value) : Object.keys(schema.properties ?? {}).filter((key) => Object.hasOwn(value, key));
    for (const key of keys) {
      const inner = propertySchema(schema, key, compiled);
      const fault = inner && descend(key, inner, (value as Record<string, unknown>)[key], compiled, path);
      if (fault) return fault;
    }
  }
  return compiled.own(schema)(value) ? undefined : { schema, value, path: [...path] };
}

function descend(key: string | number, schema: Schema, value: unknown, compiled: Compiled, path: (string | number)[]): Fault | undefined {
  path.push(key);
  const fault = firstFault(schema, value, compiled, path);
  path.pop();
  return fault;
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
function firstErrors(schema: Schema, value: unknown, compiled: Compiled): SchemaError[] {
  const fault = firstFault(schema, value, compiled, []) ?? { schema, value, path: [] };
  const pointer = fault.path.map((key) => `/${pointerToken(key)}`).join('');
  let at = fault.value;
  // Every item passes, so an array fails on its own length: its first maxItems + 1 items fail the same way.
  if (Array.isArray(at) && fault.schema.maxItems !== undefined && at.length > fault.schema.maxItems) at = at.slice(0, fault.schema.maxItems + 1);
  // An error of the value itself carries its schema's description: why an array must be empty, say (the fourth level of rules).
  const { description } = fault.schema;
  const errors = Value.Errors(ownKeywords(fault.schema) as never, at).map((error) => ({
    ...error,
    instancePath: pointer + error.instancePath,
    ...(error.instancePath === '' && description !== undefined ? { description } : {}),
  }));
  // The compiled check and TypeBox's error walk have agreed on every body tried; should they not, still a 400 naming the place.
  return errors.length > 0 ? errors : [{ keyword: 'invalid', instancePath: pointer, message: 'is not valid' }];
}

/** `make`'s result for each key, made once. */
function memoized<K extends object | string, V>(cache: { get(key: K): V | undefined; set(key: K, value: V): unknown }, make: (key: K) => V) {
  return (key: K): V => {
    let value = cache.get(key);
    if (value === undefined) cache.set(key, (value = make(key)));
    return value;
  };
}

const compile = (schema: Schema) => {
  const validator = Compile(schema as never);
  return (value: unknown) => validator.Check(value);
};

/** `schema`'s check: the value, or the errors of the one failing value to blame, with paths from the value checked. */
export function boundedValidator(schema: object): (value: unknown) => { value: unknown; error?: never } | { error: SchemaError[] } {
  const root = schema as Schema;
  const compiled: Compiled = {
    check: memoized(new WeakMap<Schema, (value: unknown) => boolean>(), compile),
    own: memoized(new WeakMap<Schema, (value: unknown) => boolean>(), (part) => compile(ownKeywords(part))),
    pattern: memoized(new Map<string, RegExp>(), (source) => new RegExp(source, 'u')),
  };
  const check = compiled.check(root);
  return (value) => (check(value) ? { value } : { error: firstErrors(root, value, compiled) });
}

/** The check of `schema`'s own keywords alone: of an array, its type and length, not its items. */
export const ownKeywordsValidator = (schema: object) => boundedValidator(ownKeywords(schema as Schema));

export const boundedValidatorCompiler: FastifySchemaCompiler<Schema> = ({ schema }) => {
  const validate = boundedValidator(schema);
  return (value: unknown) => validate(value) as never;
};

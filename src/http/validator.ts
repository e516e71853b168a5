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
 * children all pass, and only that value is handed to `Errors()`. Each
 * narrowing step stops at the first failing child, so no walk holds more
 * than one frame per level. For a body with one wrong value, the refusal is
 * the one TypeBox's full list gives (test/fuzz.test.ts compares them at every
 * path); with several, it names the first rather than the deepest.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { SchemaError } from './validation-error.js';

/** The JSON Schema keywords narrowing follows; what TypeBox emits for the hook's types. */
interface Schema {
  type?: string | string[];
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

const jsonType = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;

const admits = (schema: Schema, type: string): boolean => {
  if (schema.type === undefined) return false;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes(type) || (type === 'integer' && types.includes('number'));
};

/** The schema a property of an object is checked against, as JSON Schema picks it. */
function propertySchema(schema: Schema, key: string): Schema | undefined {
  if (schema.properties && Object.hasOwn(schema.properties, key)) return schema.properties[key];
  for (const [pattern, inner] of Object.entries(schema.patternProperties ?? {})) {
    if (new RegExp(pattern, 'u').test(key)) return inner;
  }
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

/** One step down from a value that fails its schema: a child that fails on its own, or undefined when the value itself is at fault. */
function failingPart(schema: Schema, value: unknown): Part | undefined {
  if (schema.anyOf) {
    // A union of types (TypeBox's `X | null`): the one branch of the value's own type is the one it meant.
    const type = jsonType(value);
    const meant = schema.anyOf.filter((branch) => admits(branch, type));
    return meant.length === 1 ? { key: undefined, schema: meant[0]!, value } : undefined;
  }
  if (Array.isArray(value)) {
    if (typeof schema.items !== 'object' || Array.isArray(schema.items)) return undefined;
    const items = schema.items;
    const index = value.findIndex((item) => !Value.Check(items, item));
    return index === -1 ? undefined : { key: index, schema: items, value: value[index] };
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const inner = propertySchema(schema, key);
      if (inner && !Value.Check(inner, child)) return { key, schema: inner, value: child };
    }
  }
  return undefined;
}

const pointerToken = (key: string | number) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

/** The errors of the deepest failing value, with paths from the body's root. */
export function firstErrors(schema: Schema, value: unknown): SchemaError[] {
  let pointer = '';
  for (let part = failingPart(schema, value); part; part = failingPart(schema, value)) {
    if (part.key !== undefined) pointer += `/${pointerToken(part.key)}`;
    ({ schema, value } = part);
  }
  return Value.Errors(schema as never, value).map((error) => ({ ...error, instancePath: pointer + error.instancePath }));
}

export const boundedValidatorCompiler: FastifySchemaCompiler<Schema> = ({ schema }) => {
  const check = Compile(schema as never);
  return (value: unknown) => (check.Check(value) ? { value } : { error: firstErrors(schema, value) as never });
};

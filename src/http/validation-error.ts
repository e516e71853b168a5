/**
 * Turns schema validation errors into one message that names the field the
 * way a Kubernetes user writes it (`spec.rules.children[1].service.port`),
 * and decides who is at fault: a spec the CRD would refuse is 422 (the
 * object is wrong), anything else is 400 (the request is not a hook request).
 * A hook request that reached validation without a body is 400 too, or 431
 * past the headers Node reads.
 */
import { PATTERN_MEANINGS } from '../api/formats.js';
import { keyStep } from '../api/field-path.js';
import { NODE_MAX_HEADERS } from './client-errors.js';

export interface SchemaError {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
  /** The failing value's schema's description, where the validator gives it. */
  description?: string;
}

export interface Refusal {
  statusCode: 400 | 422;
  field: string;
  message: string;
}

/** JSON pointer `/parent/spec/rules/children/1` → `spec.rules.children[1]` (relative to the parent when inside it). */
export function fieldOf(pointer: string): string {
  return fieldOfPath(
    pointer
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')),
  );
}

/** A field's longest spelling: keys in a body are anyone's, and the path of one nested 100 deep is long. */
const MAX_FIELD = 512;

/** Keys and indexes from the body's root → the field as fieldOf spells it. */
export function fieldOfPath(path: readonly (string | number)[]): string {
  const parts = path.map(String);
  if (parts[0] === 'parent' && parts.length > 1) parts.shift();
  let field = '';
  for (const p of parts) {
    if (/^(0|[1-9][0-9]*)$/.test(p)) field += `[${p}]`;
    else field += keyStep(p, field === '');
    if (field.length > MAX_FIELD) return `${field.slice(0, MAX_FIELD)}…`;
  }
  return field === '' ? 'body' : field;
}

/** A schema error in words: a pattern's meaning rather than the expression. */
const messageOf = (e: SchemaError): string | undefined =>
  (e.keyword === 'pattern' ? PATTERN_MEANINGS.get(String(e.params?.['pattern'])) : undefined) ?? e.message;

const depth = (e: SchemaError) => (e.instancePath === '' ? 0 : e.instancePath.split('/').length);

export function refusalOf(errors: readonly SchemaError[]): Refusal {
  // The deepest error is the most specific; unions report one error per branch plus their own at the same path.
  let deepest = errors[0]!;
  for (const e of errors) if (depth(e) > depth(deepest)) deepest = e;
  const here = errors.filter((e) => e.instancePath === deepest.instancePath);
  const union = here.find((e) => e.keyword === 'anyOf');
  let pointer = deepest.instancePath;
  let message: string;
  if (union) {
    // A branch that failed on a limit rather than on its type is the one the value meant (an array too long for `array | null`).
    const limit = here.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'type' && messageOf(e) !== undefined);
    const types = here.filter((e) => e.keyword === 'type').map((e) => String(e.params?.['type']));
    message = (limit && messageOf(limit)) ?? (types.length > 0 ? `must be ${[...new Set(types)].join(' or ')}` : (union.message ?? 'is not valid'));
  } else if (deepest.keyword === 'required') {
    const missing = (deepest.params?.['requiredProperties'] as string[] | undefined)?.[0];
    if (missing !== undefined) pointer = `${pointer}/${missing}`;
    message = 'is required';
  } else if (deepest.keyword === 'enum') {
    // An empty string (v0.0.2's rule type) is shown quoted, not as nothing after a comma.
    const allowed = (deepest.params?.['allowedValues'] as unknown[] | undefined) ?? [];
    message = `must be one of ${allowed.map((v) => (v === '' ? '""' : String(v))).join(', ')}`;
  } else if (deepest.keyword === 'maxItems' && deepest.params?.['limit'] === 0) {
    // An array that may hold nothing says why, where its schema does.
    const why = deepest.description?.replace(/\.$/, '');
    message = why ? `must be empty: ${why.charAt(0).toLowerCase()}${why.slice(1)}` : 'must be empty';
  } else if (deepest.keyword === 'const') {
    message = `must be ${JSON.stringify(deepest.params?.['allowedValue'])}`;
  } else {
    message = messageOf(deepest) ?? 'is not valid';
  }
  // The name's form is the CRD's (spec-check, 422); a name missing or not a string is no object the API server sends.
  const inSpec = pointer === '/parent/spec' || pointer.startsWith('/parent/spec/');
  const field = fieldOf(pointer);
  return { statusCode: inSpec ? 422 : 400, field, message: `${field}: ${message}` };
}

/**
 * A POST with neither a body nor a Content-Type (`curl -X POST` without `--data`) reaches no body parser, and
 * its schema's error would be `body: must be object`: it is an empty body, answered 400 {message} as an empty
 * JSON body is (whose words are Fastify's, about the content type it was sent with).
 */
const NO_BODY = { statusCode: 400, field: undefined, message: 'the request has no body: the hooks take a JSON object, sent as application/json' } as const;

/**
 * Node 20 reads at most NODE_MAX_HEADERS headers of a request and drops the rest unread, Content-Type and
 * Content-Length among them: such a request reaches a hook as one without a body. Its rawHeaders still hold more
 * than that. (Node 22 and later refuse it before any route runs: client-errors.ts.)
 */
const TOO_MANY_HEADERS = { statusCode: 431, field: undefined, message: `more than ${NODE_MAX_HEADERS} request headers: Node reads no more, Content-Type and Content-Length among them` } as const;

/** The refusal of a hook request that reached validation without a body, from its raw headers. */
export const bodilessRefusal = (rawHeaders: readonly string[]) => (rawHeaders.length > 2 * NODE_MAX_HEADERS ? TOO_MANY_HEADERS : NO_BODY);

/**
 * A refusal by a hook route's schema that lies in the parent's spec alone, as the refusal of the spec rules
 * (SpecError): customize answers a refused spec with no related object, and a finalize hook's sync with the proxy
 * finalized (customizeOfRefusedSpec, syncOfRefusedSpec), and a spec stored under an older CRD, or edited before
 * this one was applied, can fail the schema as well as the rules. Told by checking the body again with its spec
 * left unchecked, which only a refusal pays for.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { SpecError } from '../core/spec-check.js';
import { refusalOf, type SchemaError } from './validation-error.js';

export function specRefusal(withoutSpec: TSchema): (error: { validation?: SchemaError[] }, body: unknown) => SpecError | undefined {
  // Compiled on the first refusal: most servers never see one.
  let passes: ((body: unknown) => boolean) | undefined;
  return (error, body) => {
    if (error.validation === undefined || body === undefined) return undefined;
    if (passes === undefined) {
      const compiled = Compile(withoutSpec);
      passes = (value) => compiled.Check(value);
    }
    if (!passes(body)) return undefined;
    const { field, message } = refusalOf(error.validation);
    return new SpecError(field, message);
  };
}

/**
 * A value or null: Kubernetes' Go types write an unset pointer or slice as null, which the API server drops from
 * what it stores but a client may still send. The CRD generator (crd.ts) writes the schema without the null.
 */
import { Type, type TSchema } from 'typebox';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

import { Type, type TEnum } from 'typebox';

/** `type: string` beside `enum`: structural CRD schemas need every node typed. */
export const enumOf = <const T extends readonly string[]>(values: T, description: string): TEnum<[...T]> =>
  Type.Enum([...values], { type: 'string', description }) as TEnum<[...T]>;

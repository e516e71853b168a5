/**
 * A map with any string key, values of one schema: Kubernetes' `map[string]T`, and Metacontroller's
 * objects by name. TypeBox's `Record(String(), X)` matches keys with `^.*$` under the `u` flag, which no
 * key with a line break in it matches, so the values under such keys went unchecked: a `related` object
 * under the key "a\nb" reached sync() as whatever it was, and the answer was a 500. `[\s\S]` matches
 * every key.
 */
import { Type, type TSchema } from 'typebox';

export const ANY_KEY = '^[\\s\\S]*$';

export const MapOf = <T extends TSchema>(value: T, options: { description?: string; nullable?: true } = {}) =>
  Type.Record(Type.String({ pattern: ANY_KEY }), value, options);

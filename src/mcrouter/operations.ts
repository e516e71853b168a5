/** The memcache operations, as mcrouter's configs name them (an OperationSelectorRoute's policies). */

/** The get operations mcrouter 0.36 knows (its Memcache.idl): the oldest release whose configs the hook writes for. */
export const GET_OPERATIONS_0_36 = ['get', 'gets', 'metaget', 'lease-get'] as const;
/** The operations mcrouter treats as gets (its "get" routing group): gat/gats arrived in 0.40. */
const GET_OPERATIONS = [...GET_OPERATIONS_0_36, 'gat', 'gats'] as const;

/** Operation names as `OperationSelectorRoute` knows them (mcrouter lib/network/Memcache.idl). */
export const OPERATIONS = [
  ...GET_OPERATIONS,
  'set',
  'add',
  'replace',
  'append',
  'prepend',
  'cas',
  'lease-set',
  'delete',
  'touch',
  'incr',
  'decr',
  'flushall',
  'flushre',
] as const;

export type Operation = (typeof OPERATIONS)[number];

const OPERATION_SET: ReadonlySet<string> = new Set(OPERATIONS);
export const GET_SET: ReadonlySet<string> = new Set(GET_OPERATIONS);

export function isOperation(name: string): name is Operation {
  return OPERATION_SET.has(name);
}

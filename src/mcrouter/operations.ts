/** The memcache operations, as mcrouter's configs name them (an OperationSelectorRoute's policies). */
/** The operations mcrouter treats as gets (its "get" routing group, plus gat/gats from 0.40). */
const GET_OPERATIONS = ['get', 'gets', 'metaget', 'lease-get', 'gat', 'gats'] as const;

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

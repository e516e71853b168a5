/**
 * A proxy's stored status, as the sync hook reads it. The status is the hook's own last answer, written by
 * Metacontroller, and only a sync writes a new one: were a status the hook cannot read refused as the rest of a
 * bad request is, every sync of the proxy would be refused until someone edited the status by hand (`kubectl
 * edit --subresource=status`). So a field the hook cannot read (edited by hand, written by another version of
 * the hook, or a time the API server's looser check stores and the hook's does not, as `+99:99`) is set aside
 * instead, or the condition that holds it, and the sync goes on with the rest: the core reads each field on its
 * own (a `configSince` without its `configHash` is not used), and its answer replaces the whole status.
 */
import type { SyncRequest, SyncRequestBody } from '../api/hook.js';
import { MemcachedProxyStatus } from '../api/memcached-proxy.js';
import { refusalOf, type SchemaError } from './validation-error.js';
import { boundedValidator, ownKeywordsValidator } from './validator.js';

/** What a sync set aside of the stored status: a field or a condition, and the fault found in it. */
export interface StatusSetAside {
  /** What was set aside: `status.configSince`, `status.conditions[2]`. */
  field: string;
  /** The fault, named where it is: `status.conditions[2].lastTransitionTime: must match format "date-time"`. */
  message: string;
}

/** The fault's message, its path from the parent, as a refusal names fields (its status code means nothing here). */
const faultAt = (pointer: string, errors: SchemaError[]): string =>
  refusalOf(errors.map((e) => ({ ...e, instancePath: `${pointer}${e.instancePath}` }))).message;

/**
 * Reads the stored status of a request whose other fields passed the route's schema. Of `conditions` each item
 * on its own, as a bad Stalled condition must not start Ready over; a list over its `maxItems` goes whole, and
 * so does `pools`, which has no such bound (and which the core does not read): a body of millions of bad items
 * would otherwise cost an error walk and a message each.
 */
export function storedStatusReader(): (body: SyncRequestBody) => { request: SyncRequest; setAside: StatusSetAside[] } {
  const { conditions } = MemcachedProxyStatus.properties;
  const fields = Object.entries(MemcachedProxyStatus.properties).map(([key, schema]) => ({ key, validate: boundedValidator(schema) }));
  const conditionList = ownKeywordsValidator(conditions);
  const condition = boundedValidator(conditions.items);
  /** The conditions that can be read, and those set aside; or the fault of a list that is no array or too long. */
  const readConditions = (value: unknown): { items: unknown[]; setAside: StatusSetAside[] } | { listFault: SchemaError[] } => {
    const listFault = conditionList(value).error;
    if (listFault || !Array.isArray(value)) return { listFault: listFault ?? [] };
    const setAside: StatusSetAside[] = [];
    const items = value.filter((item, i) => {
      const fault = condition(item).error;
      if (fault) setAside.push({ field: `status.conditions[${i}]`, message: faultAt(`/parent/status/conditions/${i}`, fault) });
      return fault === undefined;
    });
    return { items, setAside };
  };
  return (body) => {
    const { status } = body.parent;
    if (status === undefined || status === null) return { request: body as SyncRequest, setAside: [] };
    if (typeof status !== 'object' || Array.isArray(status)) {
      const { status: _unread, ...parent } = body.parent;
      return { request: { ...body, parent }, setAside: [{ field: 'status', message: 'status: must be object or null' }] };
    }
    let kept: Record<string, unknown> | undefined;
    const setAside: StatusSetAside[] = [];
    for (const { key, validate } of fields) {
      const value = (status as Record<string, unknown>)[key];
      if (value === undefined) continue;
      const { error } = validate(value);
      if (error === undefined) continue;
      kept ??= { ...status };
      const read = key === 'conditions' ? readConditions(value) : undefined;
      // What the items leave must pass as a list too (should the list get a rule of its own).
      if (read && 'items' in read && validate(read.items).error === undefined) {
        kept[key] = read.items;
        setAside.push(...read.setAside);
        continue;
      }
      // The whole field: a list that is no array or too long, for that, rather than for a fault in an item.
      const fault = read && 'listFault' in read && read.listFault.length > 0 ? read.listFault : error;
      setAside.push({ field: `status.${key}`, message: faultAt(`/parent/status/${key}`, fault) });
      delete kept[key];
    }
    const parent = kept ? { ...body.parent, status: kept } : body.parent;
    return { request: { ...body, parent } as SyncRequest, setAside };
  };
}

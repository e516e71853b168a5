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
import { MemcachedProxyStatus } from '../api/proxy-status.js';
import { fieldOf, refusalOf, type SchemaError } from './validation-error.js';
import { boundedValidator, ownKeywordsValidator } from './validator.js';

/** What a sync set aside of the stored status: a field or a condition, and the fault found in it. */
export interface StatusSetAside {
  /** What was set aside: `status.configSince`, `status.conditions[2]`. */
  field: string;
  /** The fault, named where it is: `status.conditions[2].lastTransitionTime: must match format "date-time"`. */
  message: string;
}

/** What is set aside at `pointer` (from the body's root), named as a refusal names fields (its status code means nothing here). */
const setAsideAt = (pointer: string, errors: SchemaError[]): StatusSetAside => ({
  field: fieldOf(pointer),
  message: refusalOf(errors.map((e) => ({ ...e, instancePath: `${pointer}${e.instancePath}` }))).message,
});

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
  return (body) => {
    const { apiVersion, kind, metadata, spec, status } = body.parent;
    if (status === undefined || status === null) return { request: body as SyncRequest, setAside: [] };
    // The parent anew from the fields the core reads: a forged one of a million other keys would cost seconds to copy.
    const withStatus = (kept: Record<string, unknown> | undefined) =>
      ({ ...body, parent: { apiVersion, kind, metadata, spec, ...(kept && { status: kept }) } }) as SyncRequest;
    if (typeof status !== 'object' || Array.isArray(status)) {
      return { request: withStatus(undefined), setAside: [{ field: 'status', message: 'status: must be object or null' }] };
    }
    const stored = status as Record<string, unknown>;
    let kept: Record<string, unknown> | undefined;
    const setAside: StatusSetAside[] = [];
    for (const { key, validate } of fields) {
      const value = stored[key];
      if (value === undefined) continue;
      const { error } = validate(value);
      if (error === undefined) continue;
      // Of the fields the schema names only, as the parent.
      kept ??= Object.fromEntries(fields.flatMap(({ key: k }) => (stored[k] === undefined ? [] : [[k, stored[k]]])));
      const listFault = key === 'conditions' ? conditionList(value).error : undefined;
      if (key === 'conditions' && listFault === undefined && Array.isArray(value)) {
        // An array of at most 16: only the conditions at fault go.
        kept[key] = value.filter((item, i) => {
          const fault = condition(item).error;
          if (fault) setAside.push(setAsideAt(`/parent/status/conditions/${i}`, fault));
          return fault === undefined;
        });
        continue;
      }
      // The whole field; a list that is no array or too long, for that fault rather than one of an item's.
      setAside.push(setAsideAt(`/parent/status/${key}`, listFault ?? error));
      delete kept[key];
    }
    return { request: kept === undefined ? (body as SyncRequest) : withStatus(kept), setAside };
  };
}

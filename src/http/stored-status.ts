/**
 * A proxy's stored status, as the sync hook reads it. The status is the hook's own last answer, written by
 * Metacontroller, and only a sync writes a new one: were a status the hook cannot read refused as the rest of a
 * bad request is, every sync of the proxy would be refused until someone edited the status by hand (`kubectl
 * edit --subresource=status`). So a field the hook cannot read (edited by hand, written by another version of
 * the hook, or a time the API server's looser check stores and the hook's does not, as `+99:99`) is set aside
 * instead, or the item of a list that holds it, and the sync goes on with the rest: the core reads each field
 * on its own (a `configSince` without its `configHash` is not used), and its answer replaces the whole status.
 */
import type { SyncRequest, SyncRequestBody } from '../api/hook.js';
import { MemcachedProxyStatus } from '../api/memcached-proxy.js';
import { Nullable } from '../api/nullable.js';
import { refusalOf, type SchemaError } from './validation-error.js';
import { boundedValidator } from './validator.js';

/** A field of the stored status (or an item of one of its lists) set aside: which, and what is wrong with it. */
export interface FieldSetAside {
  field: string;
  message: string;
}

/** Named from the parent, as a refusal names its fields (its status code means nothing here). */
const setAsideAt = (pointer: string, errors: SchemaError[]): FieldSetAside => {
  const { field, message } = refusalOf(errors.map((e) => ({ ...e, instancePath: `${pointer}${e.instancePath}` })));
  return { field, message };
};

/** Reads the stored status of a request whose other fields passed the route's schema. */
export function storedStatusReader(): (body: SyncRequestBody) => { request: SyncRequest; setAside: FieldSetAside[] } {
  // Each field on its own, and each item of a list (conditions, pools): one the hook cannot read must not take
  // the others with it (a lastChange longer than the ConfigMap's annotation holds would be lost; a bad Stalled
  // condition would start Ready over).
  const fields = Object.entries(MemcachedProxyStatus.properties).map(([key, schema]) => ({
    key,
    validate: boundedValidator(schema),
    list: 'items' in schema ? { maxItems: (schema as { maxItems?: number }).maxItems ?? Number.POSITIVE_INFINITY, validate: boundedValidator(schema.items) } : undefined,
  }));
  const whole = boundedValidator(Nullable(MemcachedProxyStatus));
  return (body) => {
    const { status } = body.parent;
    if (status === undefined || status === null) return { request: body as SyncRequest, setAside: [] };
    if (typeof status !== 'object' || Array.isArray(status)) {
      const { status: _unread, ...parent } = body.parent;
      return { request: { ...body, parent }, setAside: [setAsideAt('/parent/status', whole(status).error ?? [])] };
    }
    let kept: Record<string, unknown> | undefined;
    const setAside: FieldSetAside[] = [];
    for (const { key, validate, list } of fields) {
      const value = (status as Record<string, unknown>)[key];
      if (value === undefined) continue;
      const { error } = validate(value);
      if (error === undefined) continue;
      kept ??= { ...status };
      if (list && Array.isArray(value) && value.length <= list.maxItems) {
        kept[key] = value.filter((item, i) => {
          const fault = list.validate(item).error;
          if (fault) setAside.push(setAsideAt(`/parent/status/${key}/${i}`, fault));
          return fault === undefined;
        });
      } else {
        setAside.push(setAsideAt(`/parent/status/${key}`, error));
        delete kept[key];
      }
    }
    const parent = kept ? { ...body.parent, status: kept } : body.parent;
    return { request: { ...body, parent } as SyncRequest, setAside };
  };
}

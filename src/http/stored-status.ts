/**
 * A proxy's stored status, as the sync hook reads it. The status is the hook's own last answer, written by
 * Metacontroller, and only a sync writes a new one: were a status the hook cannot read refused as the rest of a
 * bad request is, every sync of the proxy would be refused until someone edited the status by hand (`kubectl
 * edit --subresource=status`). Such a status (edited by hand, written by another version of the hook, or a time
 * the API server's looser check stores and the hook's does not, as `+99:99`) is set aside instead: the sync
 * goes on as for a proxy with no status yet, and its answer replaces it.
 */
import type { SyncRequest } from '../api/hook.js';
import { MemcachedProxyStatus } from '../api/memcached-proxy.js';
import { Nullable } from '../api/nullable.js';
import { refusalOf, type SchemaError } from './validation-error.js';
import { boundedValidator } from './validator.js';

/** Why a stored status was set aside: the field to blame, and what is wrong with it. */
export interface StatusSetAside {
  field: string;
  message: string;
}

/** Reads the parent's status of a request whose other fields passed the route's schema. */
export function storedStatusReader(): (body: unknown) => { request: SyncRequest; setAside?: StatusSetAside } {
  const validate = boundedValidator(Nullable(MemcachedProxyStatus));
  return (body) => {
    const request = body as SyncRequest;
    const { status } = request.parent;
    if (status === undefined) return { request };
    const result = validate(status);
    if (result.error === undefined) return { request };
    // Named from the parent, as a refusal names its fields.
    const { field, message } = refusalOf(result.error.map((e: SchemaError) => ({ ...e, instancePath: `/parent/status${e.instancePath}` })));
    const { status: _unread, ...parent } = request.parent;
    return { request: { ...request, parent }, setAside: { field, message } };
  };
}

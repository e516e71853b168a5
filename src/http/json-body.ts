/**
 * Reading a hook request's body: JSON in UTF-8, uncompressed, parsed once and walked once for what Fastify's
 * own parser refuses (prototype keys) and for nesting too deep for the steps after parsing, which recurse.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { errorCodes, type FastifyRequest } from 'fastify';
import { DNS_NAME_MAX_LENGTH } from '../api/formats.js';
import { locateJsonHazard, type GuardedKeys } from '../json/hazard.js';
import { wellFormed } from '../text/utf16.js';
import { fieldOfPath } from './validation-error.js';

/** The namespace and name of a hook body's parent, as far as the body (valid or not) has them as strings. */
export function parentOf(body: unknown): { namespace?: string; name?: string } {
  const metadata = (body as { parent?: { metadata?: { namespace?: unknown; name?: unknown } } } | undefined)?.parent?.metadata;
  const found: { namespace?: string; name?: string } = {};
  // Cut to a name's longest: a body the schema refused may have anything there. Lone surrogates (in the body,
  // or left by the cut) become U+FFFD: pino writes a short string's as they are before Node 25, which UTF-8
  // makes U+FFFD, and as `\udXXX` escapes from Node 25 on; so a log line reads the same on every Node.
  const logged = (text: string) => wellFormed(text.slice(0, DNS_NAME_MAX_LENGTH));
  if (typeof metadata?.namespace === 'string') found.namespace = logged(metadata.namespace);
  if (typeof metadata?.name === 'string') found.name = logged(metadata.name);
  return found;
}

/**
 * Why a JSON body cannot be read as sent, or undefined: compressed (Fastify decodes no content coding, so
 * a gzip body would be refused as "not JSON", and a body merely labelled gzip taken as it is; nor does Node
 * undo a transfer coding but chunked), or in a character set other than UTF-8, the only one JSON has
 * (RFC 8259): Fastify decodes every body as UTF-8, whatever the label says, and a Latin-1 body's accented
 * letters would become U+FFFD. Both are 415, as RFC 9110 has it for a content coding or media type the
 * server does not take.
 */
function unreadableBody(headers: IncomingHttpHeaders): string | undefined {
  const coding = headers['content-encoding']?.trim().toLowerCase();
  if (coding && coding !== 'identity') return `content-encoding ${coding.slice(0, 64)} is not supported: send the body uncompressed`;
  // Node undoes `chunked` alone: the body of `Transfer-Encoding: gzip, chunked` would reach JSON.parse still coded.
  const transfer = headers['transfer-encoding']?.toLowerCase();
  const other = transfer?.split(',').map((c) => c.trim()).find((c) => c !== 'chunked' && c !== 'identity' && c !== '');
  if (other !== undefined) return `transfer-encoding ${other.slice(0, 64)} is not supported: send the body with no transfer coding but chunked`;
  const type = headers['content-type'];
  const charset = type?.includes(';') ? CHARSET.exec(type)?.[1]?.toLowerCase() : undefined;
  if (charset && !UTF8_CHARSETS.has(charset)) return `content-type charset ${charset.slice(0, 64)} is not supported: JSON is UTF-8`;
  return undefined;
}
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;
/** What a UTF-8 body may be labelled with (ASCII is UTF-8). */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * Where a hook request may hold no prototype key: its own keys, and the parent, whose fields the hook copies
 * into the children it writes (`affinity`, `resources`, annotations: merged with defaults) and whose status it
 * carries. Elsewhere such a key is data the hook reads by name or not at all, and an object the API server
 * stores with one (a CSI volume's `volumeAttributes` in another team's StatefulSet, a key added by hand to the
 * proxy's ConfigMap) would otherwise turn away every sync of every proxy that is sent it: Metacontroller would
 * apply nothing, and nothing in the loop could clear it.
 */
const GUARDED: GuardedKeys = (key) => key === 'parent';

/**
 * Fastify's content-type parser for application/json, taking the body as a string: Fastify decodes the
 * whole body as UTF-8 into the V8 heap. Decoding an ASCII body as Latin-1 is faster on its own, but Node
 * keeps a Latin-1 string of more than 1 MB outside the heap, in malloc'd memory that only a full collection
 * frees: under 5,000-member syncs the malloc heap held 63 MB instead of 27 MB, and each request cost 0.7 ms
 * more CPU (docs/performance.md).
 */
export function jsonBodyParser(jsonDepthLimit: number) {
  return (request: FastifyRequest, body: string, done: (error: Error | null, value: unknown) => void): void => {
    // A path that is no hook's is answered 404 (and counted so) whatever its body: a hook URL with a typo says so.
    if (request.is404) return done(null, undefined);
    const unreadable = unreadableBody(request.headers);
    if (unreadable) return done(Object.assign(new Error(unreadable), { statusCode: 415 }), undefined);
    if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    let value: unknown;
    try {
      // A byte order mark is not JSON, but secure-json-parse skips one.
      value = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    const found = locateJsonHazard(value, jsonDepthLimit, GUARDED);
    if (found === undefined) return done(null, value);
    const field = fieldOfPath(found.path);
    const message =
      found.hazard === 'depth'
        ? `${field}: JSON nested more than ${jsonDepthLimit} levels deep`
        : `${field}: a "__proto__" key or a "constructor" object with a "prototype" is refused: either can pollute prototypes`;
    // The body did parse: its warn line names the proxy, as every later refusal's does.
    done(Object.assign(new Error(message), { statusCode: 400, field, proxy: parentOf(value) }), undefined);
  };
}

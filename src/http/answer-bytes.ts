/**
 * A sync answer as the bytes to send, the same bytes as `JSON.stringify` gives. That text comes back as a tree
 * of pieces, which Fastify joins into one string (to count its bytes) before Node encodes it: a string past
 * 128 KiB, V8's largest regular object, is joined in V8's large-object space, in memory mapped afresh each
 * time, which costs several times what writing its bytes does. On the benchmark's machine the answer to a
 * 5,000-member pool (170 KB) took 0.87 ms to serialize, count and encode that way, 0.29 ms as below. The
 * mcrouter config is the one text of an answer that grows with the pools (the rest is some kilobytes): when a
 * ConfigMap holds a long text, the answer is serialized around it, and the text is escaped in slices, each
 * encoded at once, into one Buffer.
 */
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { OBJECT_TYPES, type Child, type SyncResponse } from '../api/hook.js';
import { isHighSurrogate, isLowSurrogate } from '../text/utf16.js';

/** A ConfigMap value longer than this is written in slices: past it, the answer around it nears 128 KiB. */
export const LONG_TEXT = 96 * 1024;
/** Characters of a long text escaped at once: each slice's JSON is a small string. */
export const SLICE = 32 * 1024;

/** What stands in for the `i`th long text while the rest is serialized. */
const standIn = (i: number) => `\u0000long text ${i}\u0000`;

export function answerBytes(response: SyncResponse): string | Buffer {
  const long: string[] = [];
  const children = response.children.map((child) => withStandIns(child, long));
  if (long.length === 0) return JSON.stringify(response);

  // Each stand-in is in the text, serialized (`"\u0000long text 0\u0000"`), once. A value the user wrote can
  // hold the same characters: a second match falls back to the plain text.
  const text = JSON.stringify({ ...response, children });
  const parts: Buffer[] = [];
  let from = 0;
  for (const [i, value] of long.entries()) {
    const quoted = JSON.stringify(standIn(i));
    const at = text.indexOf(quoted);
    if (text.indexOf(quoted, at + 1) >= 0) return JSON.stringify(response);
    parts.push(Buffer.from(text.slice(from, at + 1)));
    for (const slice of escapedSlices(value)) parts.push(slice);
    from = at + quoted.length - 1;
  }
  parts.push(Buffer.from(text.slice(from)));
  return Buffer.concat(parts);
}

/** `child`, with each long value of a ConfigMap's data replaced by its stand-in (the value added to `long`). */
function withStandIns(child: Child, long: string[]): Child {
  if (child.kind !== OBJECT_TYPES.configMap.kind) return child;
  const data = (child as ConfigMap).data;
  if (!data) return child;
  let copy: Record<string, string> | undefined;
  for (const key of Object.keys(data)) {
    const value = data[key]!;
    if (typeof value !== 'string' || value.length <= LONG_TEXT) continue;
    copy ??= { ...data };
    copy[key] = standIn(long.length);
    long.push(value);
  }
  return copy ? { ...child, data: copy } : child;
}

/** `value` as JSON string content (no quotes), in UTF-8, a slice at a time; never between a surrogate pair's halves, which JSON.stringify would escape apart. */
function* escapedSlices(value: string): Generator<Buffer> {
  for (let start = 0; start < value.length; ) {
    let end = Math.min(start + SLICE, value.length);
    if (end < value.length && isHighSurrogate(value.charCodeAt(end - 1)) && isLowSurrogate(value.charCodeAt(end))) end++;
    yield Buffer.from(JSON.stringify(value.slice(start, end))).subarray(1, -1);
    start = end;
  }
}

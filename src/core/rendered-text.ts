/**
 * A long text kept as the pieces it was rendered in. V8 allocates a string past 128 KiB, its largest regular
 * object, in its large-object space, in memory mapped afresh each time: on the benchmark's machine a page fault
 * every 4 KiB, 1.3 ms for the 400 KB config of a 5,000-pod StatefulSet pool, several times what writing its
 * characters costs. So the config of a large pool is rendered in pieces shorter than that, the whole text is
 * those pieces joined as a rope (V8 leaves a concatenation unflattened until something reads its characters),
 * and whatever reads it reads the pieces instead: its hash, the comparison with the mounted config, and the
 * answer's serializer (http/answer-bytes.ts), which finds them beside the ConfigMap's data (textPiecesOf).
 */

export interface RenderedText {
  /** The whole text: for JSON.stringify, for a reader that wants one string. */
  readonly text: string;
  /** The same characters, each piece a short string of its own; never a surrogate pair split between two. */
  readonly pieces: readonly string[];
}

/** `pieces` joined, as a rope. */
export function renderedText(pieces: readonly string[]): RenderedText {
  let text = '';
  for (const piece of pieces) text += piece;
  return { text, pieces };
}

/** Whether `text` is the rendered text, read piece by piece (comparing with the rope would flatten it). */
export function sameText(text: string | undefined, rendered: RenderedText): boolean {
  if (text === undefined || text.length !== rendered.text.length) return false;
  let at = 0;
  for (const piece of rendered.pieces) {
    if (!text.startsWith(piece, at)) return false;
    at += piece.length;
  }
  return true;
}

/**
 * Where a ConfigMap's data keeps the pieces of its long values, by key: a symbol property, not enumerable, so
 * that nothing serializes, copies or compares it as part of the object (JSON.stringify, a spread, tap).
 */
const TEXT_PIECES = Symbol('text pieces');

interface WithTextPieces {
  [TEXT_PIECES]?: Record<string, readonly string[]>;
}

/** `data`, with `rendered`'s pieces kept beside its value at `key`. */
export function withTextPieces<T extends Record<string, string>>(data: T, key: keyof T & string, rendered: RenderedText): T {
  if (rendered.pieces.length > 1) Object.defineProperty(data, TEXT_PIECES, { value: { [key]: rendered.pieces } });
  return data;
}

/** The pieces of the value at `key` of a ConfigMap's data, if it was rendered in pieces. */
export function textPiecesOf(data: object, key: string): readonly string[] | undefined {
  return Object.hasOwn((data as WithTextPieces)[TEXT_PIECES] ?? {}, key) ? (data as WithTextPieces)[TEXT_PIECES]![key] : undefined;
}

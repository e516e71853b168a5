/**
 * UTF-16 surrogates, for the places that cut or encode a JavaScript string by its code units: a cut between
 * a pair's two halves leaves two lone surrogates, which JSON.stringify escapes apart and UTF-8 cannot encode.
 */

/** The first half of a pair (U+D800-U+DBFF). */
export const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;

/** The second half of a pair (U+DC00-U+DFFF). */
export const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/** Either half (U+D800-U+DFFF): a code unit that is no character on its own. */
export const isSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdfff;

/**
 * `text` with each lone surrogate replaced by U+FFFD (ES2024's String.prototype.toWellFormed, in Node 20 and
 * later; TypeScript's lib has it from ES2024, past the ES2023 this project compiles against).
 */
export const wellFormed = (text: string): string => (text as string & { toWellFormed(): string }).toWellFormed();

/**
 * Reading config.json as mcrouter reads it. mcrouter's config is JSON with two
 * extensions people use when they edit one by hand: comments (`//` to the end
 * of the line and `/* *\/`, stripped by folly::json::stripComments before
 * parsing) and a trailing comma before `}` or `]` (mcrouter's parseJsonString
 * sets folly's allow_trailing_comma). Its macros (JSONM) are not expanded: a
 * config that uses them is not one the operator wrote.
 */

/**
 * Whether mcrouter's preprocessor reads a string of the config as other than itself: a macro call (`@name`,
 * `@name(…)`), a parameter (`%name%`), or a `\` escape, all three in any string, with or without a `macros`
 * section (ConfigPreprocessor::expandStringMacro and replaceParams: `@import` and `@int` are built in, and a
 * `%name%` may come from `--config-params`). Such a string is not the literal it looks like; any other is.
 */
export const expandedByMcrouter = (value: string): boolean => value.startsWith('@') || value.includes('%') || value.includes('\\');

/**
 * Whether a config text may hold a string that mcrouter expands: one with no `@`, `%` or `\` (an escape in
 * JSON's own spelling) holds none. Every config the hook writes is such a text, and three scans of it for
 * one character each cost less than looking at each server (7 against 150 µs at 5,000 servers).
 */
export const mayHoldExpanded = (text: string): boolean => text.includes('@') || text.includes('%') || text.includes('\\');

/**
 * The value of an mcrouter config text. Plain JSON takes `JSON.parse` alone
 * (every config the hook writes); only text that fails it is stripped and
 * parsed again. Throws JSON.parse's SyntaxError for text mcrouter would refuse
 * too, and a SyntaxError of its own for a string that never ends.
 */
export function parseConfigText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const stripped = withoutExtensions(text);
    if (stripped === text) throw error;
    return JSON.parse(stripped);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** JSON's whitespace, which folly skips between tokens as well. */
const isWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The text without comments and trailing commas. Comments go as folly's
 * stripComments takes them out: outside strings only, with nothing in their
 * place but the line breaks they held. A comma goes when a value comes
 * before it and `}` or `]` after it: folly allows one trailing comma, not
 * `[,]` or `[1,,]`, which stay and fail to parse.
 */
function withoutExtensions(text: string): string {
  let out = '';
  // Where the text not yet copied to `out` starts.
  let from = 0;
  // The last character copied that is not whitespace: a comma after `[`, `{` or `,` follows no value.
  let previous = -1;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== QUOTE) i += text.charCodeAt(i) === BACKSLASH ? 2 : 1;
      if (i >= text.length) throw new SyntaxError('Unterminated string in JSON');
      previous = QUOTE;
      i++;
    } else if (startsComment(text, i)) {
      out += text.slice(from, i);
      const stop = commentEnd(text, i);
      // A block comment keeps only the line breaks it held (a line comment's own stays after it), so that
      // lines keep their numbers, as newer folly keeps them (older folly dropped them: text such as `[1//\n0]`,
      // which older folly read as [10], is foreign here).
      if (text.charCodeAt(i + 1) === STAR) for (let j = i; j < stop; j++) if (text.charCodeAt(j) === NEWLINE) out += '\n';
      i = from = stop;
    } else if (c === COMMA && previous !== COMMA && previous !== OPEN_BRACKET && previous !== OPEN_BRACE && closesNext(text, i + 1)) {
      out += text.slice(from, i);
      i = from = i + 1;
    } else {
      if (!isWhitespace(c)) previous = c;
      i++;
    }
  }
  return out + text.slice(from);
}

const startsComment = (text: string, i: number): boolean =>
  text.charCodeAt(i) === SLASH && (text.charCodeAt(i + 1) === SLASH || text.charCodeAt(i + 1) === STAR);

/**
 * Where the comment at `i` ends: a line comment before its line break, a block comment after its `*\/`, and
 * one never closed at the end of the text.
 */
function commentEnd(text: string, i: number): number {
  const line = text.charCodeAt(i + 1) === SLASH;
  const end = text.indexOf(line ? '\n' : '*/', i + 2);
  return end === -1 ? text.length : line ? end : end + 2;
}

/** Whether the next token after `from` (past whitespace and comments) closes an object or array. */
function closesNext(text: string, from: number): boolean {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c)) i++;
    else if (startsComment(text, i)) i = commentEnd(text, i);
    else return c === CLOSE_BRACE || c === CLOSE_BRACKET;
  }
  return false;
}

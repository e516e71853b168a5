/**
 * Reading the README and docs/ where they list what the code defines (tables of values, settings, fields,
 * metrics, reasons) or show what a user copies (code blocks), so that tests can hold the two together.
 */
import { readFileSync } from 'node:fs';

const ROOT = new URL('../../', import.meta.url);

/** A page of the project by its path from the repository's root: `README.md`, `docs/operating.md`. */
export const page = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

/**
 * The rows of the table whose header row is `header` (`| value | default | what |`), each as its trimmed
 * cells, the separator row left out; none when no such table is there. A header names one table per page.
 */
export function tableRows(text: string, header: string): string[][] {
  const table = new RegExp(`^${escaped(header)}\\n\\|[ :-]+\\|.*\\n((?:\\|.*\\n)*)`, 'm').exec(text)?.[1] ?? '';
  return table
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

/** The `code` spans of a cell: the names a row is about. */
export const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The bodies of the page's fenced code blocks of `language` (```sh, ```yaml). */
export const codeBlocks = (text: string, language: string): string[] =>
  [...text.matchAll(new RegExp(`^\`\`\`${escaped(language)}\\n([\\s\\S]*?)^\`\`\``, 'gm'))].map((m) => m[1]!);

/** `value` as a whole word of a cell: not part of a longer number, name or version (3000 is not 30000). */
export const wholeWord = (value: string): RegExp => new RegExp(`(^|[^\\w.])${escaped(value)}($|[^\\w.])`);

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The README and docs/ link to each other's sections: every relative link must reach a file that exists
 * and, when it names one, a heading of that file, as GitHub renders anchors.
 */
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];

/** The page's text outside fenced code blocks, where neither headings nor links are Markdown. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchors: the heading lowercased, without punctuation, spaces as hyphens; a repeat gets -1, -2, ... */
function anchorsOf(path: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(readFileSync(path, 'utf8')).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading!.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replaceAll(' ', '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

t.test('every relative link in the README and docs/ reaches a file and, when it names one, a heading', async (t) => {
  let links = 0;
  for (const page of PAGES) {
    const path = join(ROOT, page);
    const text = prose(readFileSync(path, 'utf8'));
    // A link of another form (a title, angle brackets) would be skipped below: there are none, and none may come unchecked.
    t.same([...text.matchAll(/\]\((?![^)\s]+\))[^)]*\)/g)].map((m) => m[0]), [], `${page}: every link a bare target`);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z+.-]*:/i.test(target!)) continue;
      links++;
      const [file, anchor] = target!.split('#', 2) as [string, string | undefined];
      const to = file === '' ? path : join(dirname(path), file);
      t.ok(existsSync(to), `${page}: ${target} (${relative(ROOT, to)} exists)`);
      if (anchor !== undefined && existsSync(to)) t.ok(anchorsOf(to).has(anchor), `${page}: ${target} (a heading of ${relative(ROOT, to)})`);
    }
  }
  // The pages link to each other: a pattern that matched nothing would pass vacuously.
  t.ok(links > 30, `${links} relative links checked`);
});

/**
 * The hook as one file, `dist/hook.mjs`: src/main.ts with every dependency,
 * bundled by esbuild (`npm run build` writes it; `npm start` and the image run it).
 *
 * Why a bundle: Node holds every module it loads. TypeBox alone is some 700
 * small modules, and the unbundled hook idled at 92 MB RSS against 66 MB for
 * the same code in one file, which is what bare Fastify idles at. It also
 * needs no node_modules beside it, so the image carries one file, with the
 * licenses of the packages inside it beside it (`hook.mjs.LICENSES.txt`).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Writes the bundle, its source map and the licenses of the packages in it
 * (`outfile` + `.map`, `.LICENSES.txt`); throws on any error or warning.
 * Returns what the bundle still imports: Node's built-in modules alone, when nothing was left out.
 */
export async function bundleHook(outfile: string = join(ROOT, 'dist', 'hook.mjs')): Promise<string[]> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'src', 'main.ts')],
    tsconfig: join(ROOT, 'tsconfig.build.json'),
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    legalComments: 'eof',
    logLevel: 'silent',
    metafile: true,
    // Fastify, pino and prom-client are CommonJS and require Node's built-in modules, which an ES module
    // bundle can only do through a require of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  });
  const problems = [...result.errors, ...result.warnings];
  if (problems.length > 0) throw new Error(`esbuild: ${problems.map((p) => p.text).join('; ')}`);
  writeFileSync(`${outfile}.LICENSES.txt`, licenses(Object.keys(result.metafile.inputs)));
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
  return [...new Set(imports)].sort();
}

/** Each bundled package's name, version and license text: what their licenses ask of a copy that ships. */
function licenses(inputs: string[]): string {
  // An input's package is the directory after its last node_modules/ (npm nests a second copy under its dependent).
  const packageDirs = new Set(
    inputs.flatMap((input) => {
      const at = input.lastIndexOf('node_modules/');
      if (at < 0) return [];
      const name = /^(@[^/]+\/)?[^/]+/.exec(input.slice(at + 'node_modules/'.length))![0];
      return [input.slice(0, at + 'node_modules/'.length + name.length)];
    }),
  );
  const sections = [...packageDirs].map((dir) => {
    const { name, version, license, author } = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      license?: string;
      author?: string | { name?: string };
    };
    const files = readdirSync(join(ROOT, dir)).sort();
    const read = (pattern: RegExp) => files.filter((f) => pattern.test(f)).map((f) => readFileSync(join(ROOT, dir, f), 'utf8').trim());
    // Apache-2.0 asks for a NOTICE file to travel with the code as well.
    const texts = [...read(/^(licen[cs]e|copying)/i), ...read(/^notice/i)];
    if (texts.length === 0) {
      // A package without a license file: its package.json's license and author are all there is to give.
      const holder = typeof author === 'string' ? author : author?.name;
      texts.push(`${license ?? 'UNKNOWN'}${holder ? `, copyright ${holder}` : ''} (from its package.json: the package ships no license file)`);
    }
    return { title: `${name}@${version} (${license ?? 'UNKNOWN'})`, text: texts.join('\n\n') };
  });
  // Two nested copies of one version are one entry.
  const unique = [...new Map(sections.map((s) => [s.title, s])).values()];
  unique.sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  const header = `dist/hook.mjs bundles these ${unique.length} packages with memcached-operator's own code (Apache-2.0).`;
  return `${[header, ...unique.map((s) => `${s.title}\n\n${s.text}`)].join('\n\n----------------------------------------\n\n')}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleHook();
}

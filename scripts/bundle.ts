/**
 * The hook as one file, `dist/hook.mjs`: src/main.ts with every dependency,
 * bundled by esbuild (`npm run build` writes it; `npm start` and the image run it).
 *
 * Why a bundle: Node holds every module it loads. TypeBox alone is some 700
 * small modules, and the unbundled hook idled at 92 MB RSS against 66 MB for
 * the same code in one file, which is what bare Fastify idles at. It also
 * needs no node_modules beside it, so the image carries one file.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Writes the bundle (and its source map) to `outfile`; throws on any error or warning.
 * Returns what the bundle still imports: Node's built-in modules alone, when nothing was left out.
 */
export async function bundleHook(outfile: string = join(ROOT, 'dist', 'hook.mjs')): Promise<string[]> {
  const result = await build({
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
  const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
  return [...new Set(imports)].sort();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleHook();
}

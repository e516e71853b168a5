/**
 * The hook's compiled code, as `npm start` runs it: benchmarks time dist/,
 * never the TypeScript sources through a loader. BENCH_DIST points them at
 * another build (an older commit's, to compare), and BENCH_OUT their reports
 * at another directory (so that such a run leaves the committed ones alone).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type SyncModule = typeof import('../src/core/sync.js');

const other = process.env['BENCH_DIST'];
export const DIST = other ? pathToFileURL(`${resolve(other)}/`) : new URL('../dist/', import.meta.url);

const out = process.env['BENCH_OUT'];
/** Where a benchmark writes its report: bench/, or BENCH_OUT. */
export const OUT = out ? pathToFileURL(`${resolve(out)}/`) : new URL('./', import.meta.url);

/** The file `npm start` runs in the build at `dist`: the bundle, or main.js in a build from before there was one. */
export const hookMainIn = (dist: URL): string => fileURLToPath(new URL(existsSync(new URL('hook.mjs', dist)) ? 'hook.mjs' : 'main.js', dist));

export const HOOK_MAIN = hookMainIn(DIST);

export async function loadSync(): Promise<SyncModule['sync']> {
  const module = (await import(new URL('core/sync.js', DIST).href)) as SyncModule;
  return module.sync;
}

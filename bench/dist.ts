/**
 * The hook's compiled code, as `npm start` runs it: benchmarks time dist/,
 * never the TypeScript sources through a loader. BENCH_DIST points them at
 * another build (an older commit's, to compare).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type SyncModule = typeof import('../src/core/sync.js');

const other = process.env['BENCH_DIST'];
export const DIST = other ? pathToFileURL(`${resolve(other)}/`) : new URL('../dist/', import.meta.url);

export async function loadSync(): Promise<SyncModule['sync']> {
  const module = (await import(new URL('core/sync.js', DIST).href)) as SyncModule;
  return module.sync;
}

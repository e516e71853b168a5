/**
 * Starting the ceiling (bench/ceiling-server.ts) beside a hook: its source as plain JavaScript, and the hook's
 * answers it replays, byte for byte.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { ServerProcess } from './http.js';
import type { BenchCase } from './requests.js';

/** Build output of the bench itself, where Node resolves fastify from the project's node_modules. */
export const CACHE = new URL('../node_modules/.cache/memcached-operator-bench/', import.meta.url);

/** The ceiling server as plain JavaScript, like the hook it is compared with. */
export function buildCeiling(): string {
  const source = readFileSync(new URL('ceiling-server.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  mkdirSync(CACHE, { recursive: true });
  const file = new URL('ceiling-server.mjs', CACHE);
  writeFileSync(file, outputText);
  return fileURLToPath(file);
}

/** Posts each body once: checks the answer and keeps its bytes for the ceiling. */
export async function answers(server: ServerProcess, benchCase: BenchCase): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const body of benchCase.bodies) {
    const res = await fetch(`${server.url}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body.text });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${server.name} answered ${res.status} to ${body.name}: ${text.slice(0, 300)}`);
    texts.set(body.uid, text);
  }
  return texts;
}

/** The file the ceiling reads its answers from (RESPONSES): the hook's answers by parent uid. */
export function writeResponses(responses: ReadonlyMap<string, string>, name = 'responses.json'): string {
  mkdirSync(CACHE, { recursive: true });
  const file = new URL(name, CACHE);
  writeFileSync(file, JSON.stringify(Object.fromEntries(responses)));
  return fileURLToPath(file);
}

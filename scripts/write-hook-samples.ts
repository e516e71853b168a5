/** Writes hooks/NAME.request.json and hooks/NAME.response.json (`npm run hooks`), and removes the samples the generator no longer makes. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { buildServer } from '../src/server.js';
import { SAMPLE_NOW, samples } from './hook-samples.js';

const dir = new URL('../hooks/', import.meta.url);
mkdirSync(dir, { recursive: true });
const app = buildServer({ clock: () => SAMPLE_NOW });
const written = new Set<string>();
for (const sample of await samples()) {
  const request = `${JSON.stringify(sample.request, null, 2)}\n`;
  const res = await app.inject({ method: 'POST', url: `/${sample.hook}`, headers: { 'content-type': 'application/json' }, payload: request });
  if (res.statusCode !== 200) throw new Error(`${sample.name}: ${res.statusCode} ${res.body}`);
  writeFileSync(new URL(`${sample.name}.request.json`, dir), request);
  writeFileSync(new URL(`${sample.name}.response.json`, dir), `${res.body}\n`);
  written.add(`${sample.name}.request.json`).add(`${sample.name}.response.json`);
  process.stdout.write(`hooks/${sample.name}: ${sample.description}\n`);
}
for (const file of readdirSync(dir)) {
  if (file.endsWith('.json') && !written.has(file)) {
    rmSync(new URL(file, dir));
    process.stdout.write(`hooks/${file}: removed, no sample makes it\n`);
  }
}
await app.close();

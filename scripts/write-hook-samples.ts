/** Writes hooks/NAME.request.json and hooks/NAME.response.json (`npm run hooks`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildServer } from '../src/server.js';
import { SAMPLE_NOW, samples } from './hook-samples.js';

const dir = new URL('../hooks/', import.meta.url);
mkdirSync(dir, { recursive: true });
const app = buildServer({ clock: () => SAMPLE_NOW });
for (const sample of await samples()) {
  const request = `${JSON.stringify(sample.request, null, 2)}\n`;
  const res = await app.inject({ method: 'POST', url: `/${sample.hook}`, headers: { 'content-type': 'application/json' }, payload: request });
  if (res.statusCode !== 200) throw new Error(`${sample.name}: ${res.statusCode} ${res.body}`);
  writeFileSync(new URL(`${sample.name}.request.json`, dir), request);
  writeFileSync(new URL(`${sample.name}.response.json`, dir), `${res.body}\n`);
  process.stdout.write(`hooks/${sample.name}: ${sample.description}\n`);
}
await app.close();

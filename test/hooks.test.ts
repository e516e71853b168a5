// Replays every sample in hooks/ and compares the answer byte for byte.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { SAMPLE_NOW, samples } from '../scripts/hook-samples.js';
import { testServer } from './helpers/hook.js';

const dir = new URL('../hooks/', import.meta.url);
const app = testServer({ clock: () => SAMPLE_NOW });
t.teardown(() => app.close());

const files = readdirSync(dir).filter((f) => f.endsWith('.request.json'));
t.ok(files.length >= 5, 'hooks/ holds the samples');

for (const file of files) {
  const name = file.replace(/\.request\.json$/, '');
  t.test(name, async (t) => {
    const hook = name.startsWith('customize') ? 'customize' : 'sync';
    const res = await app.inject({
      method: 'POST',
      url: `/${hook}`,
      headers: { 'content-type': 'application/json' },
      payload: readFileSync(new URL(file, dir)),
    });
    t.equal(res.statusCode, 200);
    t.equal(`${res.body}\n`, readFileSync(new URL(`${name}.response.json`, dir), 'utf8'), 'the exact bytes of the sample response');
  });
}

t.test('the committed samples are the ones the generator makes', async (t) => {
  for (const sample of await samples()) {
    const committed = readFileSync(new URL(`${sample.name}.request.json`, dir), 'utf8');
    t.equal(committed, `${JSON.stringify(sample.request, null, 2)}\n`, `${sample.name}: run npm run hooks after changing the fixtures`);
  }
});

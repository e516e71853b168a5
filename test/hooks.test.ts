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
  const made = await samples();
  // A sample the generator no longer makes would still be replayed above, as if it showed something today.
  const committed = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  t.same(committed, made.flatMap((s) => [`${s.name}.request.json`, `${s.name}.response.json`]).sort(), 'hooks/ holds exactly the generated samples (npm run hooks)');
  for (const sample of made) {
    const committed = readFileSync(new URL(`${sample.name}.request.json`, dir), 'utf8');
    t.equal(committed, `${JSON.stringify(sample.request, null, 2)}\n`, `${sample.name}: run npm run hooks after changing the fixtures`);
  }
});

// The samples are written by the code they are replayed against: what each is said to show (scripts/hook-samples.ts)
// is written out here, so that a regenerated sample that no longer shows it fails.
t.test('each sample answer does what its description in scripts/hook-samples.ts says', async (t) => {
  const answer = (name: string) =>
    JSON.parse(readFileSync(new URL(`${name}.response.json`, dir), 'utf8')) as {
      status: { servers: number; readyServers: number; lastChange?: unknown; conditions: { type: string; status: string; reason: string }[] };
      children: { kind: string; data?: Record<string, string> }[];
    };
  const pools = (name: string) => JSON.parse(answer(name).children.find((c) => c.kind === 'ConfigMap')!.data!['config.json']!).pools;
  const dns = (n: number) => `memcached-pool1-${n}.memcached-pool1.default.svc.cluster.local:11211`;
  const ip = (n: number) => `10.244.2.${n}:11211`;
  const ready = (name: string) => answer(name).status.conditions.find((c) => c.type === 'Ready');
  t.same(pools('sync-statefulset'), { 'memcached-pool1': { servers: [0, 1, 2].map(dns) } }, 'sync-statefulset: three pods by DNS name, in ordinal order');
  t.same(pools('sync-scale-up'), { 'memcached-pool1': { servers: [0, 1, 2, 3].map(dns) } }, 'sync-scale-up: the new pod appended');
  t.same(pools('sync-statefulset-restart'), { 'memcached-pool1': { servers: [0, 1, 2].map(dns) } }, 'sync-statefulset-restart: pod 2 keeps its slot');
  t.notOk('lastChange' in answer('sync-statefulset-restart').status, 'sync-statefulset-restart: no key moved');
  t.match(answer('sync-statefulset-restart').status, { servers: 3, readyServers: 2 });
  t.same(pools('sync-deployment-endpoints'), { 'memcached-deploy': { servers: [2, 3, 4, 5, 6].map(ip) } }, 'sync-deployment-endpoints: by IP, natural order');
  t.same(pools('sync-middle-removed-v2'), { 'memcached-deploy': { servers: [2, 3, 4, 5, 6].map(ip), weights: [1, 1, 0, 1, 1] } }, 'sync-middle-removed-v2: a weight-0 hole');
  t.same(pools('sync-missing-service'), { 'memcached-pool1': { servers: [0, 1, 2].map(dns) } }, 'sync-missing-service: the servers kept');
  t.match(ready('sync-missing-service'), { status: 'False', reason: 'ServiceNotFound' });
  t.match(ready('sync-exporter-replicas'), { status: 'True', reason: 'Available' });
  t.ok(answer('sync-exporter-replicas').children.some((c) => c.kind === 'PodDisruptionBudget'), 'sync-exporter-replicas: a PDB');
});

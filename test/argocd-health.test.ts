/**
 * The Argo CD health check docs/operating.md gives for MemcachedProxy (a Lua script in argocd-cm), run with
 * fengari on statuses the hook answers: Argo CD judges a custom resource only by such a script.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lauxlib, lua, lualib, to_jsstring, to_luastring } from 'fengari';
import { parse as parseYaml } from 'yaml';
import { endpointSlices, observedChildren, proxy, service, statefulSetPods, syncRequest, type Json } from './fixtures/cluster.js';
import { post, testServer } from './helpers/hook.js';
import { codeBlocks, page } from './helpers/markdown.js';

const ROOT = join(import.meta.dirname, '..');
const KEY = 'resource.customizations.health.ianlewis.org_MemcachedProxy';

/** The script, from the argocd-cm snippet of docs/operating.md: that is where users copy it from. */
function documentedScript(): string {
  const block = codeBlocks(page('docs/operating.md'), 'yaml').find((b) => b.includes(KEY));
  if (block === undefined) throw new Error(`no yaml block with ${KEY} in docs/operating.md`);
  return (parseYaml(block) as { data: Record<string, string> }).data[KEY]!;
}

/** A JSON value as a Lua table constructor, as Argo CD hands the object to the script. */
function luaValue(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    return `"${[...Buffer.from(value, 'utf8')].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b}`)).join('')}"`;
  }
  if (Array.isArray(value)) return `{${value.map(luaValue).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `[${luaValue(k)}] = ${luaValue(v)}`).join(', ')}}`;
}

const script = documentedScript();
function health(obj: unknown): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const chunk = `obj = ${luaValue(obj)}\nlocal function check()\n${script}\nend\nlocal hs = check()\nreturn hs.status, hs.message`;
  if (lauxlib.luaL_loadstring(L, to_luastring(chunk)) !== lua.LUA_OK || lua.lua_pcall(L, 0, 2, 0) !== lua.LUA_OK) {
    throw new Error(to_jsstring(lua.lua_tostring(L, -1)));
  }
  return { status: to_jsstring(lua.lua_tostring(L, -2)), message: to_jsstring(lua.lua_tostring(L, -1)) };
}

const withStatus = (status: Json | undefined, generation = 1) => ({
  apiVersion: 'ianlewis.org/v1alpha1',
  kind: 'MemcachedProxy',
  metadata: { name: 'cache', namespace: 'default', generation },
  ...(status ? { status } : {}),
});

t.test('every sample answer of hooks/ reads as its Ready condition says', async (t) => {
  const samples = readdirSync(join(ROOT, 'hooks')).filter((f) => f.startsWith('sync-') && f.endsWith('.response.json'));
  t.ok(samples.length >= 10);
  for (const file of samples) {
    const status = (JSON.parse(readFileSync(join(ROOT, 'hooks', file), 'utf8')) as { status: Json }).status;
    const conditions = status['conditions'] as { type: string; status: string; reason: string; message: string }[];
    const ready = conditions.find((c) => c.type === 'Ready')!;
    const stalled = conditions.some((c) => c.type === 'Stalled');
    const expected = stalled ? 'Degraded' : ready.status === 'True' ? 'Healthy' : ready.reason === 'ScaledToZero' ? 'Suspended' : 'Progressing';
    t.same(health(withStatus(status, status['observedGeneration'] as number)), { status: expected, message: `${ready.reason}: ${ready.message}` }, file);
  }
});

t.test('before the hook has synced the generation: Progressing', async (t) => {
  t.same(health(withStatus(undefined)), { status: 'Progressing', message: "waiting for the hook's first status" });
  const sample = JSON.parse(readFileSync(join(ROOT, 'hooks', 'sync-scale-up.response.json'), 'utf8')) as { status: Json };
  t.equal(health(withStatus(sample.status, 1)).status, 'Healthy');
  t.same(health(withStatus(sample.status, 2)), { status: 'Progressing', message: 'waiting for the hook to sync generation 2' }, 'a spec the hook has not taken (yet, or refused)');
});

t.test('Stalled is Degraded, ScaledToZero Suspended: from the hook\'s own answers', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  const pool = (name: string) => [service({ name, headless: true }), ...endpointSlices(name, statefulSetPods(name, [0, 1]))];
  const settled = async (spec: Json) => {
    const parent = proxy({ name: 'cache', spec });
    const related = [...pool('mc-a'), ...pool('mc-b')];
    const first = await post(app, '/sync', syncRequest({ parent, related }));
    const children = observedChildren(parent, first.body['children'] as Json[]);
    return (await post(app, '/sync', syncRequest({ parent, related, children }))).body['status'] as Json;
  };
  const rendezvous = await settled({ rules: { hash: 'Rendezvous', children: [{ service: { name: 'mc-a' } }, { service: { name: 'mc-b' } }] } });
  t.match(health(withStatus(rendezvous)), { status: 'Degraded', message: /^McrouterTooOld: mcrouter image jphalip\/mcrouter:0\.36\.0/ });
  const parked = await settled({ serviceName: 'mc-a', mcrouter: { replicas: 0 } });
  t.match(health(withStatus(parked)), { status: 'Suspended', message: /^ScaledToZero: / });
  const serving = await settled({ serviceName: 'mc-a' });
  t.match(health(withStatus(serving)), { status: 'Healthy', message: /^Available: 2 servers in 1 pool/ });
});

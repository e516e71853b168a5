/**
 * Hostile bodies for /sync and /customize: random JSON, deep nesting, huge
 * strings, wrong types at every path of a valid request, prototype keys,
 * duplicated keys, bytes that are not UTF-8, truncated bodies and wrong
 * content types. Every answer must be 200 or a 4xx with a JSON {message};
 * never a 500, never a crash, and the server keeps answering valid requests
 * with the same bytes as before.
 *
 * FC_SEED=n replays a seed (printed), FC_RUNS scales the random runs.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  deploymentPods,
  endpointSlices,
  endpoints,
  observedChildren,
  proxy,
  service,
  statefulSetPods,
  syncRequest,
  type Json,
} from './fixtures/cluster.js';
import { post, testServer } from './helpers/hook.js';
import { settingsFromEnv } from '../src/settings.js';
import { Value } from 'typebox/value';
import { CustomizeRequest, SyncRequest } from '../src/api/hook.js';
import { MemcachedProxyStatus } from '../src/api/proxy-status.js';
import { refusalOf } from '../src/http/validation-error.js';
import { propertySeed, propertyRuns } from './helpers/property-runs.js';

const seed = propertySeed();
const scale = propertyRuns(100) / 100;
const runs = (n: number) => Math.max(1, Math.round(n * scale));
t.comment(`seed ${seed} (FC_SEED to replay)`);

/** A small body limit keeps the "too large" cases cheap; the default limit is checked once below. */
const BODY_LIMIT = 512 * 1024;
const DEPTH_LIMIT = settingsFromEnv({}).jsonDepthLimit;
const app = testServer({ bodyLimit: BODY_LIMIT });
t.teardown(() => app.close());

type Path = '/sync' | '/customize';
let requests = 0;
const outcomes = new Map<number, number>();

interface Answer {
  statusCode: number;
  text: string;
  /** Whether the request said `finalizing: true`: only then may a sync's answer say `finalized`, and must. */
  finalizing: boolean;
}

const finalizingIn = (payload: string | Buffer): boolean => {
  try {
    return (JSON.parse(payload.toString()) as { finalizing?: unknown } | null)?.finalizing === true;
  } catch {
    return false;
  }
};

/** `contentType` null sends no Content-Type header. */
async function send(path: Path, payload: string | Buffer, contentType: string | null = 'application/json'): Promise<Answer> {
  requests++;
  const res = await app.inject({ method: 'POST', url: path, headers: contentType === null ? {} : { 'content-type': contentType }, payload });
  outcomes.set(res.statusCode, (outcomes.get(res.statusCode) ?? 0) + 1);
  return { statusCode: res.statusCode, text: res.body, finalizing: finalizingIn(payload) };
}

/** 200 with the hook's fields, or a 4xx JSON {message}: anything else is a failure. */
function handled(path: Path, res: Answer, what: string): true {
  const fail = (why: string): never => {
    throw new Error(`${path} ${what}: ${why}: ${res.statusCode} ${res.text.slice(0, 300)}`);
  };
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    fail('the answer is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('the answer is not a JSON object');
  const fields = Object.keys(body as object);
  if (res.statusCode === 200) {
    const allowed = path === '/sync' ? ['status', 'children', 'resyncAfterSeconds', ...(res.finalizing ? ['finalized'] : [])] : ['relatedResources'];
    if (!fields.every((f) => allowed.includes(f))) fail(`fields ${fields.join(', ')}`);
    if (path === '/sync' && res.finalizing && (body as { finalized?: unknown }).finalized !== true) fail('finalizing, but not finalized');
    return true;
  }
  if (res.statusCode < 400 || res.statusCode > 499) fail('neither 200 nor a client error');
  if (typeof (body as { message?: unknown }).message !== 'string') fail('no message');
  return true;
}

// ---- a valid, realistic request to mutate: two pools, replicated over sharded, observed children with status

const spec: Json = {
  rules: {
    type: 'replicated',
    writePolicy: 'AllMajority',
    children: [
      { service: { name: 'memcached-a', port: 'memcache' } },
      { type: 'sharded', hash: 'Crc32', children: [{ service: { name: 'memcached-b' } }, { service: { name: 'memcached-b', port: 'memcache' } }] },
    ],
  },
  mcrouter: {
    replicas: 2,
    reload: 'Rollout',
    exporter: { enabled: true },
    extraArgs: ['--probe-timeout-initial=50'],
    podAnnotations: { 'example.com/team': 'cache' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cache', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['cache'] }] }] } } },
  },
};
const related = [
  service({ name: 'memcached-a', headless: true }),
  ...endpointSlices('memcached-a', statefulSetPods('memcached-a', [0, 1, 2]).map((p, i) => ({ ...p, ready: i !== 1 }))),
  endpoints('memcached-a', statefulSetPods('memcached-a', [0, 1, 2])),
  service({ name: 'memcached-b' }),
  ...endpointSlices('memcached-b', deploymentPods('memcached-b', 3), { perSlice: 2 }),
];
/** The proxy synced once more with `status` and the children `answer` asked for, as Metacontroller applied them. */
const after = (answer: { body: Json }, status: Json): Json => {
  const parent = proxy({ name: 'fuzzed', spec, status });
  return syncRequest({ parent, related, children: observedChildren(parent, answer.body['children'] as Json[]), keying: 'v2' });
};
const firstAnswer = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'fuzzed', spec }), related, keying: 'v2' }));
if (firstAnswer.statusCode !== 200) throw new Error(`the base request is refused: ${firstAnswer.text}`);
// Settled (Ready), its times an hour back: a stored time read and one started over then tell apart.
const settled = await post(app, '/sync', after(firstAnswer, firstAnswer.body['status'] as Json));
const settledStatus = settled.body['status'] as Json;
const base: Json = after(settled, {
  ...settledStatus,
  configSince: '2026-11-25T11:00:00Z',
  conditions: (settledStatus['conditions'] as Json[]).map((c) => ({ ...c, lastTransitionTime: '2026-11-25T11:00:00Z' })),
});
const parent = base['parent'] as Json;
const baseCustomize: Json = { controller: base['controller'], parent };
const baseText = JSON.stringify(base);
const baseAnswer = await send('/sync', baseText);

type Segment = string | number;
/** Every path in a JSON value, parents before children. */
function pathsOf(value: unknown, prefix: Segment[] = [], out: Segment[][] = []): Segment[][] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...prefix, i]), pathsOf(v, [...prefix, i], out)));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push([...prefix, k]), pathsOf(v, [...prefix, k], out);
  return out;
}
const at = (root: unknown, path: Segment[]): unknown => path.reduce<unknown>((v, s) => (v as Record<Segment, unknown>)[s], root);
/** A copy of `root` with the value at `path` replaced (or removed, for `undefined`). */
function withValue(root: Json, path: Segment[], value: unknown): Json {
  const copy = structuredClone(root);
  const holder = at(copy, path.slice(0, -1)) as Record<Segment, unknown> | unknown[];
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(holder)) holder.splice(last as number, 1);
    else delete (holder as Record<Segment, unknown>)[last];
  } else {
    (holder as Record<Segment, unknown>)[last] = value;
  }
  return copy;
}
const basePaths = pathsOf(base);
const customizePaths = pathsOf(baseCustomize);
const objectPaths = [[] as Segment[], ...basePaths].filter((p) => {
  const v = at(base, p);
  return typeof v === 'object' && v !== null && !Array.isArray(v);
});

/** A value of another JSON type than `value`. */
const wrongType = (value: unknown): unknown =>
  typeof value === 'string' ? 7 : typeof value === 'number' ? 'seven' : typeof value === 'boolean' ? 'true' : Array.isArray(value) ? { 0: 'x' } : value === null ? {} : 'x';

t.test('wrong types at every path of a valid request', async (t) => {
  for (const [path, request, paths] of [['/sync', base, basePaths], ['/customize', baseCustomize, customizePaths]] as const) {
    let statuses = new Map<number, number>();
    const schema = path === '/sync' ? SyncRequest : CustomizeRequest;
    let schemaRefusals = 0;
    let statusSetAsides = 0;
    for (const p of paths) {
      const original = at(request, p);
      for (const replacement of [wrongType(original), null, undefined]) {
        const mutated = withValue(request, p, replacement);
        const what = `with ${JSON.stringify(p)} = ${replacement === undefined ? '(removed)' : JSON.stringify(replacement)}`;
        const res = await send(path, JSON.stringify(mutated));
        handled(path, res, what);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        // The hook narrows a failing body before asking TypeBox for errors; the refusal must be the one
        // TypeBox's full list of errors gives.
        if (!Value.Check(schema, mutated)) {
          schemaRefusals++;
          const { field, message } = refusalOf(Value.Errors(schema, mutated));
          // customize answers a refused spec (here the only fault) with no related object: Metacontroller would ask again and again.
          const inSpec = p[0] === 'parent' && p[1] === 'spec';
          t.same(JSON.parse(res.text), path === '/customize' && inSpec ? { relatedResources: [] } : { message, field }, what);
        }
        // A stored status the hook cannot read refuses nothing: the field to blame is set aside, the rest read.
        const status = p[0] === 'parent' && p[1] === 'status' ? (mutated['parent'] as Json)['status'] : undefined;
        if (path === '/sync' && status != null && !Value.Check(MemcachedProxyStatus, status)) {
          statusSetAsides++;
          // The field, or the condition that holds the fault.
          const setAside = p.slice(0, p[2] === 'conditions' && typeof p[3] === 'number' ? 4 : 3);
          const without = withValue(mutated, setAside, undefined);
          t.equal(res.text, (await send(path, JSON.stringify(without))).text, `${what}: answered as without ${setAside.join('.')}`);
        }
      }
    }
    t.ok(schemaRefusals > 0, `${path}: ${schemaRefusals} schema refusals compared with TypeBox's full list`);
    if (path === '/sync') t.ok(statusSetAsides > 20, `${statusSetAsides} stored statuses set aside in part`);
    t.comment(`${path}: ${paths.length} paths x 3 values: ${[...statuses].map(([c, n]) => `${n} x ${c}`).join(', ')}`);
    statuses = new Map();
  }
  t.pass('every mutation answered 200 or 4xx');
});

t.test('random JSON bodies', async (t) => {
  for (const path of ['/sync', '/customize'] as const) {
    await fc.assert(
      fc.asyncProperty(fc.json({ depthSize: 'medium' }), async (text) => handled(path, await send(path, text), `body ${text.slice(0, 80)}`)),
      { seed, numRuns: runs(200) },
    );
    // Random values where a hook request has its objects.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('parent', 'children', 'related', 'controller', 'finalizing'), fc.jsonValue(), async (field, value) =>
        handled(path, await send(path, JSON.stringify({ ...(path === '/sync' ? base : baseCustomize), [field]: value })), `${field} = ${JSON.stringify(value).slice(0, 80)}`),
      ),
      { seed, numRuns: runs(200) },
    );
  }
  t.pass('random JSON answered 200 or 4xx');
});

t.test('several random mutations at once', async (t) => {
  const mutation = fc.tuple(fc.constantFrom(...basePaths), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.string({ unit: 'binary', maxLength: 64 })));
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (mutations) => {
      let request = base;
      for (const [p, v] of mutations) {
        try {
          request = withValue(request, p, v);
        } catch {
          // An earlier mutation removed the path's parent: skip this one.
        }
      }
      return handled('/sync', await send('/sync', JSON.stringify(request)), JSON.stringify(mutations).slice(0, 200));
    }),
    { seed, numRuns: runs(300) },
  );
  t.pass('every combination answered 200 or 4xx');
});

t.test('deep nesting is refused with 400, at any place', async (t) => {
  const deep = (levels: number, open: string, close: string, leaf = '1') => open.repeat(levels) + leaf + close.repeat(levels);
  const splice = (text: string, marker: string, value: string) => {
    const i = text.indexOf(marker);
    if (i < 0) throw new Error(`no ${marker} in the base request`);
    return text.slice(0, i + marker.length) + value + ',' + text.slice(i + marker.length);
  };
  for (const levels of [101, 1_000, 10_000, 100_000]) {
    for (const [open, close] of [['[', ']'], ['{"a":', '}']] as const) {
      const nested = deep(levels, open, close);
      // Where, the body, and the field the refusal names: the path (of so many keys) down to the nested value,
      // then one step per level to the first value deeper than the limit.
      const bodies: [string, string, string, number][] = [
        ['the whole body', nested, '', 0],
        ['parent.spec.mcrouter.affinity (copied into the Deployment)', baseText.replace('"affinity":{', `"affinity":{"deep":${nested},`), 'spec.mcrouter.affinity.deep', 5],
        ['related', splice(baseText, '"related":{', `"Extra.v1":${nested}`), 'related["Extra.v1"]', 2],
        ['an observed child', splice(baseText, '"ConfigMap.v1":{', `"default/extra":${nested}`), 'children["ConfigMap.v1"]["default/extra"]', 3],
        ['controller', splice(baseText, '"controller":{', `"deep":${nested}`), 'controller.deep', 2],
      ];
      for (const [where, body, prefix, keys] of bodies) {
        for (const path of ['/sync', '/customize'] as const) {
          const res = await send(path, body);
          handled(path, res, `${levels} levels in ${where}`);
          const code = Buffer.byteLength(body) > BODY_LIMIT ? 413 : 400;
          t.equal(res.statusCode, code, `${path}: ${levels} levels of ${open} in ${where}: ${code}`);
          if (code !== 400) continue;
          const { message, field } = JSON.parse(res.text) as { message: string; field: string };
          const steps = (open === '[' ? '[0]' : '.a').repeat(DEPTH_LIMIT - keys);
          t.equal(field, prefix === '' ? steps.replace(/^\./, '') : prefix + steps, `${path}: names ${where}`);
          t.equal(message, `${field}: JSON nested more than ${DEPTH_LIMIT} levels deep`);
        }
      }
    }
  }
  // Just inside the limit (100 levels in all): accepted and answered.
  const inside = baseText.replace('"affinity":{', `"affinity":{"deep":${deep(90, '{"a":', '}')},`);
  t.equal((await send('/sync', inside)).statusCode, 200, 'a body 97 levels deep is served');
  // At the limit and one past it where no key is checked (the related objects: a walk of its own).
  for (const levels of [DEPTH_LIMIT - 2, DEPTH_LIMIT - 1]) {
    const res = await send('/sync', splice(baseText, '"related":{', `"Extra.v1":${deep(levels, '[', ']')}`));
    const refused = levels + 2 > DEPTH_LIMIT;
    t.equal(res.statusCode, refused ? 400 : 200, `${levels + 2} levels in related: ${refused ? 'refused' : 'served'}`);
    if (refused) t.equal(JSON.parse(res.text).field, `related["Extra.v1"]${'[0]'.repeat(DEPTH_LIMIT - 2)}`);
  }
  // The limit is configurable down to 32 levels, which still takes every real request.
  t.equal(settingsFromEnv({}).jsonDepthLimit, 100, 'JSON_DEPTH_LIMIT defaults to 100');
  const strict = testServer({ jsonDepthLimit: settingsFromEnv({ JSON_DEPTH_LIMIT: '32' }).jsonDepthLimit });
  const post = (payload: string) => strict.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload });
  t.equal((await post(baseText)).statusCode, 200, 'JSON_DEPTH_LIMIT=32 serves a real request');
  const refused = await post(baseText.replace('"affinity":{', `"affinity":{"deep":${deep(30, '{"a":', '}')},`));
  await strict.close();
  t.equal(refused.statusCode, 400);
  t.match(JSON.parse(refused.body).message, /nested more than 32 levels/);
});

t.test('a hand-edited config.json nested deeper than mcrouter reads is replaced, not walked', async (t) => {
  const cm = Object.values((base['children'] as Record<string, Record<string, Json>>)['ConfigMap.v1']!)[0]!;
  for (const levels of [150, 1_000, 8_000]) {
    const route = '{"type":"FailoverRoute","children":['.repeat(levels) + '"PoolRoute|memcached-a"' + ']}'.repeat(levels);
    const request = withValue(base, ['children', 'ConfigMap.v1', `default/${(cm['metadata'] as Json)['name']}`, 'data', 'config.json'], `{"pools":{"memcached-a":{"servers":["192.0.2.1:11211"]}},"route":${route}}`);
    const res = await send('/sync', JSON.stringify(request));
    handled('/sync', res, `config.json ${levels} levels deep`);
    t.equal(res.statusCode, 200, `${levels} levels: 200, a fresh config`);
  }
});

t.test('a hand-edited pool whose weights mcrouter would refuse is not kept; extra weights are ignored, as mcrouter ignores them', async (t) => {
  const cm = Object.values((base['children'] as Record<string, Record<string, Json>>)['ConfigMap.v1']!)[0]!;
  const configAt = ['children', 'ConfigMap.v1', `default/${(cm['metadata'] as Json)['name']}`, 'data', 'config.json'];
  const pool = Object.keys(JSON.parse(at(base, configAt) as string).pools)[0]!;
  // No endpoints at all: a pool that is trusted is kept as it is, weights and all.
  const emptied = withValue(withValue(base, ['related', 'EndpointSlice.discovery.k8s.io/v1'], {}), ['related', 'Endpoints.v1'], {});
  const poolsAfter = async (weights: string) => {
    const text = `{"pools":{"${pool}":{"servers":["192.0.2.1:11211","192.0.2.2:11211"],"weights":${weights}}},"route":"PoolRoute|${pool}"}`;
    const res = await send('/sync', JSON.stringify(withValue(emptied, configAt, text)));
    handled('/sync', res, `weights ${weights}`);
    const configMap = (JSON.parse(res.text).children as Json[]).find((c) => c['kind'] === 'ConfigMap') as { data: Record<string, string> };
    return JSON.parse(configMap.data['config.json']!).pools;
  };
  for (const weights of ['[1e999, 0]', '[-1, 1]', '[2, 1]', '["1", 1]', '[1]', '{"a": 1}']) {
    t.same(await poolsAfter(weights), {}, `weights ${weights}: the pool is not kept`);
  }
  t.same((await poolsAfter('[1, 0]'))[pool], { servers: ['192.0.2.1:11211', '192.0.2.2:11211'], weights: [1, 0] }, 'weights in [0, 1]: kept');
  // mcrouter reads the first weight of each server and ignores the rest, whatever they are.
  t.same((await poolsAfter('[1, 0, 1, "x"]'))[pool], { servers: ['192.0.2.1:11211', '192.0.2.2:11211'], weights: [1, 0] }, 'more weights than servers: the first of each kept');
});

t.test('huge strings and bodies', async (t) => {
  const stringPaths = basePaths.filter((p) => typeof at(base, p) === 'string');
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...stringPaths), fc.integer({ min: 1_000, max: 400_000 }), fc.constantFrom('x', 'é', '\u{1F600}', '"', '\\', '\u0000'), async (p, length, unit) => {
      const request = withValue(base, p, unit.repeat(length));
      return handled('/sync', await send('/sync', JSON.stringify(request)), `${JSON.stringify(p)} = ${length} x ${JSON.stringify(unit)}`);
    }),
    { seed, numRuns: runs(60) },
  );
  // Huge keys, too: a label key of 300 kB.
  const withKey = structuredClone(base);
  ((withKey['parent'] as Json)['metadata'] as Json)['labels'] = { ['k'.repeat(300_000)]: 'v' };
  handled('/sync', await send('/sync', JSON.stringify(withKey)), 'a 300 kB label key');
  const tooBig = await send('/sync', JSON.stringify({ ...base, padding: 'x'.repeat(BODY_LIMIT) }));
  t.equal(tooBig.statusCode, 413, 'over the body limit: 413');
  handled('/sync', tooBig, 'over the body limit');
  // The default limit (8 MiB) takes a 5,000-pod pool's request and refuses what is past it.
  const defaults = testServer();
  const past = await defaults.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...base, padding: 'x'.repeat(8 * 1024 * 1024) }) });
  await defaults.close();
  t.equal(past.statusCode, 413, 'past 8 MiB: 413');
});

t.test('limits leave room for a 5,000-member pool and refuse what no API server sends', async (t) => {
  const defaults = testServer();
  t.teardown(() => defaults.close());
  const pods = deploymentPods('memcached-big', 5000);
  const svc = service({ name: 'memcached-big' });
  const big = proxy({ name: 'big', spec: { serviceName: 'memcached-big' } });
  const viaSlices = await post(defaults, '/sync', syncRequest({ parent: big, related: [svc, ...endpointSlices('memcached-big', pods), endpoints('memcached-big', pods)] }));
  t.equal(viaSlices.statusCode, 200, 'slices of 100 endpoints and an Endpoints object with 5,000 addresses');
  t.equal((viaSlices.body['status'] as Json)['servers'], 5000);
  const observed = observedChildren(big, viaSlices.body['children'] as Json[]);
  const viaEndpoints = syncRequest({ parent: big, related: [svc, endpoints('memcached-big', pods)], children: observed });
  const text = JSON.stringify(viaEndpoints);
  const res = await post(defaults, '/sync', viaEndpoints);
  t.equal(res.statusCode, 200, `Endpoints alone with 5,000 addresses and the current config: ${(text.length / 1048576).toFixed(1)} MiB`);
  t.equal((res.body['status'] as Json)['servers'], 5000);

  const oversized = await post(defaults, '/sync', syncRequest({ parent: big, related: [svc, ...endpointSlices('memcached-big', pods.slice(0, 1001), { perSlice: 1001 })] }));
  t.equal(oversized.statusCode, 400, 'an EndpointSlice over 1,000 endpoints (the API server allows no more)');
  t.match(oversized.body['message'], /endpoints: must not have more than 1000 items/);
  const slice = endpointSlices('memcached-big', pods.slice(0, 1))[0]!;
  ((slice['endpoints'] as Json[])[0]!)['addresses'] = Array.from({ length: 101 }, (_, i) => `10.9.0.${i}`);
  const addresses = await post(defaults, '/sync', syncRequest({ parent: big, related: [svc, slice] }));
  t.equal(addresses.statusCode, 400, 'an endpoint with over 100 addresses');
});

t.test('__proto__, constructor and prototype keys are refused (at the top, in the parent) or ignored, never merged', async (t) => {
  const poison = fc.constantFrom(
    ['__proto__', { polluted: 'yes' }],
    ['__proto__', null],
    ['__proto__', 'yes'],
    ['constructor', { prototype: { polluted: 'yes' } }],
    ['constructor', 'yes'],
    ['prototype', { polluted: 'yes' }],
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...objectPaths), poison, fc.constantFrom<Path>('/sync', '/customize'), async (p, [key, value], path) => {
      const request = structuredClone(path === '/sync' ? base : baseCustomize);
      let target: unknown;
      try {
        target = at(request, p);
      } catch {
        target = request;
      }
      if (typeof target !== 'object' || target === null || Array.isArray(target)) target = request;
      // An own property named __proto__, as JSON.parse makes it: JSON.stringify writes it out.
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
      const res = await send(path, JSON.stringify(request));
      handled(path, res, `${key} at ${JSON.stringify(p)}`);
      // Refused at the top and in the parent, whose fields the hook copies into what it writes; elsewhere data.
      const guarded = target === request || p[0] === 'parent';
      if (guarded && (key === '__proto__' || (key === 'constructor' && typeof value === 'object'))) {
        if (res.statusCode !== 400) throw new Error(`${key} at ${JSON.stringify(p)} answered ${res.statusCode}`);
      }
      const probe: Record<string, unknown> = {};
      if (probe['polluted'] !== undefined || Object.keys(Object.prototype).length > 0) throw new Error('Object.prototype was polluted');
      return true;
    }),
    { seed, numRuns: runs(200) },
  );
  t.pass('refused or ignored; Object.prototype untouched');
});

t.test('duplicated keys: the last one wins, as in JSON.parse', async (t) => {
  /** Serializes `value`, writing `key` twice in the object at `target`: first `first`, then the real value. */
  const withDuplicate = (value: unknown, target: Segment[], key: string, firstValue: unknown, here: Segment[] = []): string => {
    if (Array.isArray(value)) return `[${value.map((v, i) => withDuplicate(v, target, key, firstValue, [...here, i])).join(',')}]`;
    if (typeof value !== 'object' || value === null) return JSON.stringify(value);
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${withDuplicate(v, target, key, firstValue, [...here, k])}`);
    if (same(here, target)) entries.unshift(`${JSON.stringify(key)}:${JSON.stringify(firstValue)}`);
    return `{${entries.join(',')}}`;
  };
  const same = (a: Segment[], b: Segment[]) => a.length === b.length && a.every((s, i) => s === b[i]);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...objectPaths), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), async (p, firstValue, keepOrder) => {
      const keys = Object.keys(at(base, p) as object);
      const key = keys.length > 0 && keepOrder ? keys[0]! : 'apiVersion';
      const res = await send('/sync', withDuplicate(base, p, key, firstValue));
      return handled('/sync', res, `duplicate ${key} at ${JSON.stringify(p)}`);
    }),
    { seed, numRuns: runs(150) },
  );
  // A duplicate whose last value is the real one changes nothing.
  const dup = withDuplicate(base, ['parent'], 'kind', 'Deployment');
  const res = await send('/sync', dup);
  t.equal(res.text, baseAnswer.text, 'the last value of a duplicated key is the one read');
});

t.test('bytes that are not UTF-8, and truncated bodies', async (t) => {
  const bytes = Buffer.from(baseText);
  const invalid = fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00]);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: bytes.length }), invalid, fc.constantFrom<Path>('/sync', '/customize'), async (at, seq, path) => {
      const payload = Buffer.concat([bytes.subarray(0, at), Buffer.from(seq), bytes.subarray(at)]);
      return handled(path, await send(path, payload), `bytes ${seq.map((b) => b.toString(16)).join(' ')} at ${at}`);
    }),
    { seed, numRuns: runs(200) },
  );
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.constantFrom<Path>('/sync', '/customize'), async (cut, path) => {
      const res = await send(path, bytes.subarray(0, cut));
      handled(path, res, `cut at ${cut} of ${bytes.length}`);
      // A JSON object cut short never parses.
      if (res.statusCode !== 400) throw new Error(`a body cut at ${cut} answered ${res.statusCode}`);
      return true;
    }),
    { seed, numRuns: runs(200) },
  );
  t.pass('answered 200 or 4xx; truncated bodies 400');
});

t.test('wrong content types', async (t) => {
  const known = fc.constantFrom(
    null,
    '',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/merge-patch+json',
    'application/jsonx',
    'application/json, text/plain',
    '*/*',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'application/octet-stream',
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(known, fc.string({ maxLength: 40 })), fc.constantFrom<Path>('/sync', '/customize'), async (contentType, path) => {
      const res = await send(path, path === '/sync' ? baseText : JSON.stringify(baseCustomize), contentType);
      handled(path, res, `content-type ${JSON.stringify(contentType)}`);
      const json = contentType !== null && /^\s*application\/json\s*(;|$)/i.test(contentType);
      if (!json && res.statusCode !== 415) throw new Error(`content-type ${JSON.stringify(contentType)} answered ${res.statusCode}`);
      return true;
    }),
    { seed, numRuns: runs(150) },
  );
  t.pass('non-JSON content types get 415');
});

t.test('after all that, the server is up and answers as before', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const again = await send('/sync', baseText);
  t.equal(again.statusCode, 200);
  t.equal(again.text, baseAnswer.text, 'the same request gives the same bytes as before the fuzzing');
  t.notOk(outcomes.has(500), 'no 500 in any answer');
  t.comment(`${requests} hostile and valid requests: ${[...outcomes].sort(([a], [b]) => a - b).map(([c, n]) => `${n} x ${c}`).join(', ')}`);
});

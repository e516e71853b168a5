/**
 * A config.json edited by hand the way mcrouter reads one: with comments
 * (folly::json::stripComments) and trailing commas (folly's
 * allow_trailing_comma, which mcrouter's parseJsonString sets). The hook reads
 * such a config back as the one mounted, so the slot order survives the edit;
 * text mcrouter would refuse is still a foreign config. The CLI reads the same.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { runCli } from '../src/cli.js';
import { expandedByMcrouter, mayHoldExpanded, parseConfigText } from '../src/mcrouter/config-text.js';
import { compileConfig } from '../src/mcrouter/route.js';
import { deploymentPods, endpointSlices, observedChildren, proxy, service, syncRequest, type Json } from './fixtures/cluster.js';
import { configOf, post, testServer } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

/** The pretty-printed config with comments (one holding a quote and a `//`) and a comma before every closer on its own line. */
const commented = (text: string): string =>
  text
    .replace('{\n', '{\n  // edited by hand: "quoted" */ is not the end of this one\n')
    .replace('"pools": {', '"pools": /* the pools, "as they were" // */ {')
    .replace(/\n(\s*)([}\]])/g, ',\n$1$2');

const svc = service({ name: 'memcached' });
const pods = deploymentPods('memcached', 4);
const ips = pods.map((p) => `${p.ip}:11211`);
const related = [svc, ...endpointSlices('memcached', [pods[0]!, pods[2]!, pods[3]!])];

/** Synced twice, so that pod 1's slot is a hole: a config the hook would not write from the endpoints alone. */
async function withHole(t: Test): Promise<{ parent: Json; answer: Json; observed: Json[] }> {
  let parent = proxy({ name: 'cache', spec: { serviceName: 'memcached' } });
  const first = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('memcached', pods)] }));
  parent = proxy({ name: 'cache', spec: { serviceName: 'memcached' }, status: first.body['status'] as Json });
  const second = await post(app, '/sync', syncRequest({ parent, related, children: observedChildren(parent, first.body['children'] as Json[]) }));
  t.same(configOf(second.body).pools['memcached'], { servers: ips, weights: [1, 0, 1, 1] }, 'pod 1 left a hole');
  parent = proxy({ name: 'cache', spec: { serviceName: 'memcached' }, status: second.body['status'] as Json });
  return { parent, answer: second.body, observed: observedChildren(parent, second.body['children'] as Json[]) };
}

function editConfig(observed: Json[], edit: (text: string) => string): Json[] {
  return observed.map((child) => {
    if (child['kind'] !== 'ConfigMap') return child;
    const data = child['data'] as Record<string, string>;
    return { ...child, data: { ...data, 'config.json': edit(data['config.json']!) } };
  });
}

t.test('comments and trailing commas, as mcrouter reads them: the mounted config keeps its slot order', async (t) => {
  const { parent, answer, observed } = await withHole(t);
  const text = (observed.find((c) => c['kind'] === 'ConfigMap')!['data'] as Record<string, string>)['config.json']!;
  const edited = commented(text);
  t.throws(() => JSON.parse(edited), SyntaxError, 'the edit is not plain JSON');
  t.match(edited, /\/\/ edited by hand/);
  t.match(edited, /"weights": \[\n(.*\n){4}\s*\],\n/, 'a trailing comma after the weights, too');
  const res = await post(app, '/sync', syncRequest({ parent, related, children: editConfig(observed, commented) }));
  t.equal(res.statusCode, 200);
  t.same(configOf(res.body).pools['memcached'], { servers: ips, weights: [1, 0, 1, 1] }, 'the hole is kept');
  t.same(res.body['children'], answer['children'], 'the children as before the edit: the config rewritten without comments');
  t.same((res.body['status'] as Json)['lastChange'], (answer['status'] as Json)['lastChange'], 'no change recorded');
});

t.test('what mcrouter would refuse is a foreign config, replaced by one from the endpoints', async (t) => {
  const { parent, observed } = await withHole(t);
  const refused: Array<[string, (text: string) => string]> = [
    ['two trailing commas', (text) => text.replace(/(\n\s*)\]/, ',,$1]')],
    ['a comma with no value before it', (text) => text.replace('"pools": {', '"unused": [,], "pools": {')],
    ['a comment never closed', (text) => text.replace('"pools"', '/* "pools"')],
    ['a value commented out', (text) => text.replace('"weights": [', '"weights": // [')],
  ];
  for (const [what, edit] of refused) {
    const res = await post(app, '/sync', syncRequest({ parent, related, children: editConfig(observed, edit) }));
    t.equal(res.statusCode, 200, what);
    t.same(configOf(res.body).pools['memcached'], { servers: [ips[0], ips[2], ips[3]] }, `${what}: a fresh list, no hole`);
  }
});

t.test('a server a macro, a %parameter% or an escape gives, which mcrouter expands in every string, makes its pool start over', async (t) => {
  const { parent, observed } = await withHole(t);
  // Pod 3's address as mcrouter would read it only once it has expanded the string.
  const respell = (spelling: string, macros = '') => (text: string) =>
    text.replace(`"${ips[3]}"`, JSON.stringify(spelling)).replace('{\n', `{\n${macros}`);
  const port = '"macros": {"port": {"type": "constDef", "result": "11211"}, "pod3": {"type": "macroDef", "result": "%s"}},\n';
  const expanded: Array<[string, (text: string) => string]> = [
    ['a constDef parameter', respell(`${pods[3]!.ip}:%port%`, port)],
    ['a macroDef call', respell('@pod3', port.replace('%s', ips[3]!))],
    ['a built-in macro, with no macros section', respell(`@str(${ips[3]})`)],
    ['a parameter from --config-params', respell(`${pods[3]!.ip}:%PORT%`)],
    ['an escape', respell(ips[3]!.replace(':', '\\:'))],
  ];
  for (const [what, edit] of expanded) {
    t.equal(configOf({ children: editConfig(observed, edit) }).pools['memcached']?.servers.length, 4, `${what}: the edit holds four servers`);
    const res = await post(app, '/sync', syncRequest({ parent, related, children: editConfig(observed, edit) }));
    t.equal(res.statusCode, 200, what);
    const pool = configOf(res.body).pools['memcached'];
    t.same(pool, { servers: [ips[0], ips[2], ips[3]] }, `${what}: a fresh list, no hole and nothing mcrouter would expand`);
    t.match((res.body['status'] as Json)['lastChange'], { keyspaceMoved: 1 }, `${what}: every key counted as moved, the old config not routed`);
  }
  // Only strings mcrouter expands: a macros section beside literal servers changes none of them.
  const literal = await post(app, '/sync', syncRequest({ parent, related, children: editConfig(observed, respell(ips[3]!, port)) }));
  t.same(configOf(literal.body).pools['memcached'], { servers: ips, weights: [1, 0, 1, 1] }, 'macros beside literal servers: the hole is kept');
  // The CLI (and the keyspace estimate) route keys through a config: one such server is refused there, by its place.
  t.throws(
    () => compileConfig({ pools: { A: { servers: ['10.0.0.1:11211', '10.0.0.2:%port%'] } }, route: 'PoolRoute|A' }),
    { message: /^pools\.A\.servers\[1\]: "10\.0\.0\.2:%port%" is a macro/ },
  );
});

t.test('a config text without "@", "%" or "\\" holds no string mcrouter expands: the text is looked at, not each server', async (t) => {
  const strings = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]) : [];
  const spelling = fc.oneof(fc.string(), fc.constantFrom('@', '%', '\\', '"', '\n', 'a@b', '%x%'));
  fc.assert(
    fc.property(fc.jsonValue(), fc.dictionary(spelling, fc.array(spelling)), (value, pools) =>
      [value, { pools }].every((config) => {
        const text = JSON.stringify(config, null, 2);
        return mayHoldExpanded(text) || !strings(config).some(expandedByMcrouter);
      }),
    ),
    { numRuns: 500 },
  );
  t.pass('500 values and 500 pool lists, each spelt with and without what mcrouter expands');
});

t.test('the CLI reads a commented config, and a ConfigMap holding one, as mcrouter does', async (t) => {
  const config = {
    // Comment marks inside a string are the string's.
    pools: { 'A /* not a comment */ // nor this': { servers: ['10.0.1.1:11211', '10.0.1.2:11211', '10.0.1.3:11211'] } },
    route: { type: 'PoolRoute', pool: 'A /* not a comment */ // nor this' },
  };
  const files: Record<string, string> = {
    'plain.json': JSON.stringify(config),
    'commented.json': commented(`${JSON.stringify(config, null, 2)}\n`),
    'configmap.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { 'config.json': commented(`${JSON.stringify(config, null, 2)}\n`) } }),
  };
  const run = (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), readFile: (path) => files[path]! });
    return { code, stdout, stderr };
  };
  const keys = ['user:1', 'user:2', 'session:abc'];
  const plain = run('route', '--config', 'plain.json', ...keys);
  t.equal(plain.code, 0);
  t.same(run('route', '--config', 'commented.json', ...keys), plain, 'the config file with comments');
  t.same(run('route', '--config', 'configmap.json', ...keys), plain, 'the ConfigMap holding it');
  const diff = run('diff', '--json', 'plain.json', 'commented.json');
  t.equal(diff.code, 0);
  const { moved, pools } = JSON.parse(diff.stdout) as { moved: number; pools: Array<{ pool: string }> };
  t.same([moved, pools.map((p) => p.pool)], [0, [Object.keys(config.pools)[0]]], 'no key moves between the two');
});

t.test('any JSON with comments between its tokens and trailing commas reads as the JSON itself', async (t) => {
  // Comments hold anything but their own end; strings hold comment marks, quotes and backslashes.
  const comment = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', ' ', '"', '/', '*', '\\', ',', ']', '}') }).filter((s) => !s.includes('*/')).map((s) => `/*${s}*/`),
    fc.string({ unit: fc.constantFrom('a', ' ', '"', '/', '*', '\\', ',', ']', '}') }).map((s) => `//${s}\n`),
  );
  const gap = fc.array(fc.oneof(fc.constantFrom(' ', '\n', '\t'), comment), { maxLength: 2 }).map((parts) => parts.join(''));
  const value = fc.jsonValue({ maxDepth: 4 });
  const strings = fc.string({ unit: fc.constantFrom('a', '/', '*', '"', '\\', ' ', 'é') });
  await fc.assert(
    fc.property(fc.oneof(value, fc.dictionary(strings, value)), fc.infiniteStream(gap), fc.infiniteStream(fc.boolean()), (json, gaps, trailing) => {
      const next = () => gaps.next().value as string;
      const write = (v: unknown): string => {
        if (Array.isArray(v)) {
          const items = v.map((item) => next() + write(item) + next());
          return `[${items.join(',')}${items.length > 0 && trailing.next().value ? `,${next()}` : ''}]`;
        }
        if (v !== null && typeof v === 'object') {
          const entries = Object.entries(v).map(([k, item]) => `${next()}${JSON.stringify(k)}${next()}:${next()}${write(item)}${next()}`);
          return `{${entries.join(',')}${entries.length > 0 && trailing.next().value ? `,${next()}` : ''}}`;
        }
        return JSON.stringify(v);
      };
      return isDeepStrictEqual(parseConfigText(next() + write(json) + next()), JSON.parse(JSON.stringify(json)));
    }),
    { numRuns: 500 },
  );
  t.pass('500 values, each with comments and trailing commas of its own');
});

t.test('weights edited by hand: extra ones, which mcrouter ignores, keep the list; too few, or one outside [0, 1], make it foreign', async (t) => {
  const { parent, observed } = await withHole(t);
  const weights = (list: string) => (text: string) => text.replace(/"weights": \[[^\]]*\]/, `"weights": [${list}]`);
  const extra = await post(app, '/sync', syncRequest({ parent, related, children: editConfig(observed, weights('1, 0, 1, 1, 1, 0')) }));
  t.same(configOf(extra.body).pools['memcached'], { servers: ips, weights: [1, 0, 1, 1] }, 'the first weight of each server: the hole is kept');
  for (const list of ['1, 0, 1, 1e999', '1, 0, 1, 2', '1, -0.5, 1, 1', '1, 0, 1']) {
    const res = await post(app, '/sync', syncRequest({ parent, related, children: editConfig(observed, weights(list)) }));
    t.same(configOf(res.body).pools['memcached'], { servers: [ips[0], ips[2], ips[3]] }, `weights [${list}]: a fresh list, no hole`);
  }
});

t.test('a comment that holds or ends a line between two values does not join them: newer folly keeps the line break', async (t) => {
  for (const text of ['[1/*\n*/0]', '[1// note\n0]']) t.throws(() => parseConfigText(text), SyntaxError, JSON.stringify(text));
  t.same(parseConfigText('[1, /* x */ 0, // y\n 2]'), [1, 0, 2], 'between commas, as comments go');
});

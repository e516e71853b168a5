import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from '../src/cli.js';
import { findMcrouterConfig } from '../src/mcrouter/config-source.js';
import { furcHash } from '../src/mcrouter/hash.js';
import { compileConfig } from '../src/mcrouter/route.js';
import { codeBlocks, page } from './helpers/markdown.js';

const servers = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}:11211`);
const A = servers('10.0.1.', 10);
const B = servers('10.0.2.', 4);

/**
 * Replicas A and B, written to both; gets read by `readRoute`: MissFailoverRoute (A first), or LatestRoute (each
 * mcrouter pod reading them in an order of its own).
 */
const replicated = ({ a = A, b = B, readRoute = 'MissFailoverRoute' }: { a?: string[]; b?: string[]; readRoute?: 'MissFailoverRoute' | 'LatestRoute' } = {}) => ({
  pools: { A: { servers: a }, B: { servers: b } },
  route: {
    type: 'OperationSelectorRoute',
    default_policy: { type: 'AllSyncRoute', children: ['PoolRoute|A', 'PoolRoute|B'] },
    operation_policies: { get: { type: readRoute, children: ['PoolRoute|A', 'PoolRoute|B'] } },
  },
});
const latest = (b: string[]) => replicated({ b, readRoute: 'LatestRoute' });
const configMap = (config: unknown) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'example-mcrouter' },
  data: { 'config.json': JSON.stringify(config) },
});

const files: Record<string, string> = {
  'config.json': JSON.stringify(replicated()),
  'configmap.json': JSON.stringify(configMap(replicated())),
  'eleven.response.json': JSON.stringify({
    status: {},
    children: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'example' } }, configMap(replicated({ a: [...A, '10.0.1.10:11211'] }))],
  }),
  'broken.json': '{"pools": ',
  'unsupported.json': JSON.stringify({ route: 'ShadowRoute|x' }),
  'two-configmaps.json': JSON.stringify({ children: [configMap({ route: 'NullRoute' }), configMap({ route: 'NullRoute' })] }),
  // The config object, then a FailoverRoute and its children list at each of 50 levels: 101 levels, one too many.
  'deep.json': JSON.stringify({ pools: { A: { servers: A } }, route: nested(50, 'PoolRoute|A') }),
  // Exactly 100: 49 of them, and a PoolRoute object at the bottom.
  'deep-enough.json': JSON.stringify({ pools: { A: { servers: A } }, route: nested(49, { type: 'PoolRoute', pool: 'A' }) }),
  'policy.json': JSON.stringify({
    pools: { A: { servers: A }, B: { servers: B } },
    route: { type: 'FailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'], failover_policy: { type: 'LeastFailuresPolicy', max_tries: 2 } },
  }),
  'named-handles.json': JSON.stringify({ named_handles: [{ type: 'PoolRoute', pool: 'A', name: 'a' }], route: 'a', pools: { A: { servers: A } } }),
  'macros.json': JSON.stringify({ macros: { PR: { type: 'macroDef', result: 'PoolRoute|%pool%' } }, route: '@PR(A)', pools: { A: { servers: A } } }),
};

/** FailoverRoutes `levels` deep over `leaf`: each adds two levels of JSON (the route object and its children list). */
function nested(levels: number, leaf: unknown): unknown {
  return levels === 0 ? leaf : { type: 'FailoverRoute', children: [nested(levels - 1, leaf)] };
}

function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = runCli(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
  });
  return { code, stdout, stderr };
}

const a = (key: string) => A[furcHash(key, A.length)]!;
const b = (key: string) => B[furcHash(key, B.length)]!;

t.test('route: first destination, primary and fallbacks per key', async (t) => {
  const { code, stdout, stderr } = run('route', '--config', 'config.json', 'user:1', '/././user:2');
  t.equal(code, 0);
  t.equal(stderr, '');
  t.equal(
    stdout,
    [
      'user:1',
      `  first        ${a('user:1')}`,
      `  primary      ${a('user:1')}`,
      `  fallbacks    ${b('user:1')}`,
      '',
      '/././user:2',
      '  routing key  user:2',
      `  first        ${a('user:2')}`,
      `  primary      ${a('user:2')}`,
      `  fallbacks    ${b('user:2')}`,
      '',
    ].join('\n'),
  );
  const set = run('route', '--config', 'config.json', '--op', 'set', 'user:1');
  t.match(set.stdout, `  primary      ${a('user:1')} ${b('user:1')}\n  fallbacks    (none)`);
});

t.test('route: keys mcrouter refuses get no server, and exit 1', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['', /an empty key/],
    ['a b', /a space or control character/],
    ['a\nb', /a space or control character/],
    ['x'.repeat(251), /longer than 250 bytes \(251\)/],
    [`é${'x'.repeat(249)}`, /longer than 250 bytes \(251\)/],
    ['/r/c/user:1', /no route for the routing prefix \/r\/c\/ \(mcrouter's is \/\.\/\.\/: no --route-prefix\)/],
  ];
  for (const [key, reason] of refused) {
    const { code, stdout } = run('route', '--config', 'config.json', 'user:1', key);
    t.equal(code, 1, JSON.stringify(key));
    const [, second] = stdout.split('\n\n');
    t.ok(second!.startsWith(`${JSON.stringify(key)}\n  refused      mcrouter answers an error: `), 'the key quoted, then why');
    t.match(second, reason);
  }
  t.equal(run('route', '--config', 'config.json', 'x'.repeat(250), '/*/*/user:1', 'ключ').code, 0, '250 bytes, a glob matching the default route, UTF-8');
  const json = JSON.parse(run('route', '--json', '--config', 'config.json', 'a b').stdout);
  t.same(json, [{ key: 'a b', op: 'get', first: null, primary: [], fallbacks: [], refused: 'a space or control character' }]);
});

t.test('route and diff: LatestRoute reads replicas in an order of each mcrouter pod', async (t) => {
  files['latest.json'] = JSON.stringify(latest(B));
  files['latest-grown.json'] = JSON.stringify(latest(servers('10.0.2.', 5)));
  const get = run('route', '--config', 'latest.json', 'user:1');
  t.match(get.stdout, `  first        ${a('user:1')}\n  primary      ${a('user:1')}\n  fallbacks    ${b('user:1')}\n  per pod      a LatestRoute orders the replicas per mcrouter pod`);
  t.notMatch(run('route', '--config', 'latest.json', '--op', 'set', 'user:1').stdout, /per pod/, 'writes go to every replica');
  t.equal(JSON.parse(run('route', '--json', '--config', 'latest.json', 'user:1').stdout)[0].perHost, true);
  // B grows from 4 to 5: the keys of B that move, for the half of the pods that read B first.
  const diff = JSON.parse(run('diff', '--json', 'latest.json', 'latest-grown.json').stdout);
  t.ok(Math.abs(diff.moved - 0.5 * 0.2) < 0.01, `about a tenth of the reads miss (${diff.moved})`);
  t.ok(Math.abs(diff.pools[1].moved - 0.2) < 0.01, `a fifth of pool B (${diff.pools[1].moved})`);
});

t.test('diff: a pool hashed as the route hashes it; a pool of replicas has no share of its own', async (t) => {
  const crc = (a: string[]) => ({ pools: { A: { servers: a } }, route: { type: 'PoolRoute', pool: 'A', hash: 'Crc32' } });
  files['crc.json'] = JSON.stringify(crc(A));
  files['crc-grown.json'] = JSON.stringify(crc([...A, '10.0.1.10:11211']));
  const moved = JSON.parse(run('diff', '--json', 'crc.json', 'crc-grown.json').stdout);
  t.ok(moved.pools[0].moved > 0.8, `Crc32 is not consistent: most keys move (${moved.pools[0].moved})`);
  t.equal(moved.pools[0].moved, moved.moved, 'the pool is the whole route');
  const pairs = (b: string[]) => ({
    pools: { B: { servers: b } },
    route: { type: 'OperationSelectorRoute', default_policy: 'AllSyncRoute|Pool|B', operation_policies: { get: 'LatestRoute|Pool|B' } },
  });
  files['pairs.json'] = JSON.stringify(pairs(B.slice(0, 2)));
  files['pairs-grown.json'] = JSON.stringify(pairs(B.slice(0, 3)));
  const text = run('diff', 'pairs.json', 'pairs-grown.json').stdout.split('\n');
  t.match(text[0], /^pool B {2}replicas: each server holds every key; reads counted overall {2}\(2 servers -> 3 servers\)$/);
  t.match(text[1], /^overall (3[0-9]|2[5-9])\.\d\d% of 100000/, 'a third of the pods read the new, empty replica first');
  t.equal(JSON.parse(run('diff', '--json', 'pairs.json', 'pairs-grown.json').stdout).pools[0].moved, null);
  // A HashRoute over a pool's list shards it: hashed as a PoolRoute with the HashRoute's hash would be.
  const hashed = (a: string[]) => ({ pools: { A: { servers: a } }, route: { type: 'HashRoute', hash_func: 'Crc32', children: 'Pool|A' } });
  files['hashed.json'] = JSON.stringify(hashed(A));
  files['hashed-grown.json'] = JSON.stringify(hashed([...A, '10.0.1.10:11211']));
  const sharded = JSON.parse(run('diff', '--json', 'hashed.json', 'hashed-grown.json').stdout);
  t.equal(sharded.pools[0].moved, sharded.moved, 'a shard per server, Crc32: the pool is the route');
  t.ok(sharded.moved > 0.8);
  // Under a HashRoute, `Pool|A` is hashed with the HashRoute's fields only: weights are a PoolRoute's (mcrouter's
  // "Pool" handle is the bare list), so a weight changed moves nothing, in the pool's line as overall.
  const weighted = (weights: number[]) => ({ pools: { A: { servers: A.slice(0, 4), weights } }, route: 'HashRoute|Pool|A' });
  files['weighted.json'] = JSON.stringify(weighted([1, 1, 0, 1]));
  files['weighted-filled.json'] = JSON.stringify(weighted([1, 1, 1, 1]));
  const unweighted = JSON.parse(run('diff', '--json', 'weighted.json', 'weighted-filled.json').stdout);
  t.same([unweighted.moved, unweighted.pools[0].moved], [0, 0]);
  // Only a HashRoute's own children are shards: a pool two levels down, listed by an AllSyncRoute (the hook's
  // sharded pairs), is a set of replicas, not a pool hashed with the HashRoute's salt.
  const pairsOfPairs = (p1: string[]) => ({
    pools: { P0: { servers: B.slice(0, 2) }, P1: { servers: p1 } },
    route: { type: 'HashRoute', salt: 'level-0', children: ['AllSyncRoute|Pool|P0', { type: 'AllSyncRoute', children: 'Pool|P1' }] },
  });
  files['pairs-of-pairs.json'] = JSON.stringify(pairsOfPairs(B.slice(2, 4)));
  files['pairs-of-pairs-swapped.json'] = JSON.stringify(pairsOfPairs([B[3]!, B[2]!]));
  const swapped = JSON.parse(run('diff', '--json', 'pairs-of-pairs.json', 'pairs-of-pairs-swapped.json').stdout);
  t.same(
    swapped.pools.map((p: { moved: number | null }) => p.moved),
    [null, null],
  );
  t.equal(swapped.moved, 0, "a replica pair's order moves no key");
});

t.test('diff: a read that turns to another replica holding the key is no miss', async (t) => {
  const zones = (names: string[]) => ({
    pools: Object.fromEntries(names.map((n, i) => [n, { servers: servers(`10.0.${i + 5}.`, 4) }])),
    route: {
      type: 'OperationSelectorRoute',
      default_policy: { type: 'AllSyncRoute', children: names.map((n) => `PoolRoute|${n}`) },
      operation_policies: { get: { type: 'LatestRoute', children: names.map((n) => `PoolRoute|${n}`) } },
    },
  });
  files['abc.json'] = JSON.stringify(zones(['A', 'B', 'C']));
  files['ac.json'] = JSON.stringify({ ...zones(['A', 'B', 'C']), route: zones(['A', 'C']).route });
  t.equal(JSON.parse(run('diff', '--json', 'abc.json', 'ac.json').stdout).moved, 0, 'a zone dropped: its readers read another warm one');
  const grown = JSON.parse(run('diff', '--json', 'ac.json', 'abc.json').stdout).moved;
  t.ok(Math.abs(grown - 1 / 3) < 0.05, `a zone added: the third of the pods that read it first miss (${grown})`);
});

t.test('route --json, from a ConfigMap and from a hook response', async (t) => {
  const fromConfigMap = run('route', '--json', '--config', 'configmap.json', 'k1', 'k2');
  t.equal(fromConfigMap.code, 0);
  t.same(JSON.parse(fromConfigMap.stdout), [
    { key: 'k1', op: 'get', first: a('k1'), primary: [a('k1')], fallbacks: [b('k1')] },
    { key: 'k2', op: 'get', first: a('k2'), primary: [a('k2')], fallbacks: [b('k2')] },
  ]);
  const fromResponse = run('route', '--json', '--config', 'eleven.response.json', '--op', 'delete', 'k1');
  const eleven = [...A, '10.0.1.10:11211'];
  t.same(JSON.parse(fromResponse.stdout), [
    { key: 'k1', op: 'delete', first: eleven[furcHash('k1', 11)], primary: [eleven[furcHash('k1', 11)], b('k1')], fallbacks: [] },
  ]);
  const none = run('route', '--json', '--config', 'two-configmaps.json', 'k');
  t.equal(none.code, 1);
  t.match(none.stderr, /found 2/);
});

t.test('diff: per pool and overall, over a 100,000-key sample by default', async (t) => {
  const { code, stdout } = run('diff', 'config.json', 'eleven.response.json');
  t.equal(code, 0);
  const lines = stdout.trim().split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0], /^pool A\s+\d+\.\d\d% of keys move {2}\(10 servers -> 11 servers\)$/);
  t.match(lines[1], /^pool B\s+0\.00% of keys move {2}\(4 servers -> 4 servers\)$/);
  t.match(lines[2], /^overall \d+\.\d\d% of 100000 sample keys move: their first get goes to a server the old config did not write them to$/);
  const share = Number(/(\d+\.\d\d)%/.exec(lines[0]!)![1]) / 100;
  t.ok(Math.abs(share - 1 / 11) < 0.005, `about 1/11 of keys move (${share})`);

  const json = JSON.parse(run('diff', '--json', '--keys', '5000', 'configmap.json', 'eleven.response.json').stdout);
  t.equal(json.keys, 5000);
  t.equal(json.pools[0].pool, 'A');
  t.equal(json.moved, json.pools[0].moved, 'reads go to pool A first: overall is pool A');
  t.same(json.pools[1], { pool: 'B', moved: 0, before: { servers: 4, holes: 0 }, after: { servers: 4, holes: 0 } });
  t.equal(JSON.parse(run('diff', '--json', '--keys', '5000', 'config.json', 'config.json').stdout).moved, 0);
});

t.test('diff: a pool renamed is on one side only, and its keys stay where its servers stay', async (t) => {
  files['pool-a.json'] = JSON.stringify({ pools: { A: { servers: A } }, route: 'PoolRoute|A' });
  files['pool-b.json'] = JSON.stringify({ pools: { B: { servers: A } }, route: 'PoolRoute|B' });
  const { code, stdout } = run('diff', 'pool-a.json', 'pool-b.json');
  t.equal(code, 0);
  t.match(stdout, /^pool A {2}only in OLD: the keys that stay on its servers are counted overall {2}\(10 servers -> absent\)$/m);
  t.match(stdout, /^pool B {2}only in NEW: the keys that stay on its servers are counted overall {2}\(absent -> 10 servers\)$/m);
  t.match(stdout, /^overall 0\.00% of 100000 sample keys move/m);
  t.same(JSON.parse(run('diff', '--json', 'pool-a.json', 'pool-b.json').stdout).pools.map((p: { moved: number }) => p.moved), [1, 1], '--json keeps the share');
});

t.test('route: flush_all and flushre are answered before the route, so they reach no server through it', async (t) => {
  const flushall = run('route', '--config', 'config.json', '--op', 'flushall', 'k');
  t.equal(flushall.code, 1);
  t.match(flushall.stdout, /refused {6}mcrouter answers an error: flush_all is "Command disabled" unless mcrouter runs with --enable-flush-cmd/);
  t.match(run('route', '--config', 'config.json', '--op', 'flushre', 'k').stdout, /refused {6}mcrouter answers an error: flushre is "Command not supported"/);
  t.equal(run('route', '--config', 'config.json', '--op', 'delete', 'k').code, 0, 'every other operation is routed');
  const tree = compileConfig(replicated());
  t.equal(tree.firstDestination('k', 'flushall'), undefined, 'firstDestination agrees');
  t.equal(tree.firstDestination('k', 'flushre'), undefined);
  t.equal(tree.firstDestination('k', 'delete'), a('k'));
});

t.test('route: a key that reached the tool with bytes that were not UTF-8 is refused, not hashed as U+FFFD', async (t) => {
  const { code, stderr } = run('route', '--config', 'config.json', 'ok', 'caf\uFFFD');
  t.equal(code, 2);
  t.match(stderr, /key "caf\uFFFD" holds U\+FFFD: keys are taken as UTF-8 text/);
  t.match(stderr, /a byte that was not UTF-8, or U\+FFFD itself/);
});

t.test('configs mcrouter cannot load, or that the tool cannot model, are refused rather than answered wrong', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['deep.json', /nested more than 100 levels deep, which mcrouter's JSON parser \(folly's\) refuses/],
    ['policy.json', /"failover_policy" is not supported/],
    ['named-handles.json', /"named_handles" is not supported \(name a handle in the route itself/],
    ['macros.json', /"macros" are not expanded/],
  ];
  for (const [file, message] of refused) {
    const { code, stderr } = run('route', '--config', file, 'k');
    t.equal(code, 1, file);
    t.match(stderr, message, file);
  }
  const deepEnough = run('route', '--config', 'deep-enough.json', 'user:1');
  t.equal(deepEnough.code, 0, '100 levels load');
  t.match(deepEnough.stdout, `first        ${a('user:1')}`);
});

t.test('usage errors exit 2 with the usage; other failures exit 1; never a stack trace', async (t) => {
  const usage: string[][] = [
    [],
    ['frobnicate'],
    ['route', 'k'],
    ['route', '--config', 'config.json'],
    ['route', '--config', 'config.json', '--op', 'fetch', 'k'],
    ['route', '--config', 'config.json', '--bogus', 'k'],
    ['diff', 'config.json'],
    ['diff', '--keys', 'many', 'config.json', 'config.json'],
    ['diff', '--keys', '0', 'config.json', 'config.json'],
    ['diff', '--keys', '0x10', 'config.json', 'config.json'],
    ['diff', '--keys', '1e3', 'config.json', 'config.json'],
    ['diff', '--keys', ' 7 ', 'config.json', 'config.json'],
    ['diff', '--keys', '10000001', 'config.json', 'config.json'],
    ['diff', '-', '-'],
  ];
  for (const argv of usage) {
    const { code, stdout, stderr } = run(...argv);
    t.equal(code, 2, argv.join(' '));
    t.equal(stdout, '');
    t.match(stderr, /^memcached-operator: .+\n\nusage:/);
    t.notMatch(stderr, /\n\s+at /);
  }
  const failures: Array<[string[], RegExp]> = [
    [['route', '--config', 'missing.json', 'k'], /cannot read missing\.json: ENOENT/],
    [['route', '--config', 'broken.json', 'k'], /broken\.json: not JSON/],
    [['diff', 'config.json', 'unsupported.json'], /unsupported\.json: .*"ShadowRoute" is not supported/],
  ];
  for (const [argv, message] of failures) {
    const { code, stderr } = run(...argv);
    t.equal(code, 1, argv.join(' '));
    t.match(stderr, message);
    t.notMatch(stderr, /usage:|\n\s+at /);
  }
  for (const argv of [['--help'], ['route', '--help'], ['diff', '-h', 'config.json']]) {
    const help = run(...argv);
    t.equal(help.code, 0, argv.join(' '));
    t.match(help.stdout, /^usage:/);
  }
  // After `--`, "--help" is a key like any other.
  t.match(run('route', '--config', 'config.json', '--', '--help').stdout, /^--help\n {2}first/);
});

t.test('config files: a config, a ConfigMap, a hook response or a List holding one', async (t) => {
  const config = { route: 'NullRoute' };
  t.equal(findMcrouterConfig(config), config);
  t.same(findMcrouterConfig(configMap(config)), config);
  t.same(findMcrouterConfig({ children: [configMap(config)] }), config);
  t.same(findMcrouterConfig({ kind: 'List', items: [{ kind: 'Deployment' }, configMap(config)] }), config);
  t.throws(() => findMcrouterConfig([]), /not a JSON object/);
  t.throws(() => findMcrouterConfig({ kind: 'Secret' }), /neither an mcrouter config, a ConfigMap, nor a hook response/);
  t.throws(() => findMcrouterConfig({ kind: 'ConfigMap', data: {} }), /ConfigMap has no data\["config.json"\]/);
  t.throws(() => findMcrouterConfig({ kind: 'ConfigMap', data: { 'config.json': '{' } }), /data\["config.json"\] is not JSON/);
  t.throws(() => findMcrouterConfig({ children: [] }), /found 0/);
  // A sync request's observed children: by type, then by name (v1) or namespace/name (v2).
  const request = (key: string) => ({
    controller: {},
    parent: { metadata: { name: 'example' } },
    children: { 'ConfigMap.v1': { [key]: configMap(config) }, 'Service.v1': { [key]: { kind: 'Service' } } },
  });
  t.same(findMcrouterConfig(request('example-mcrouter')), config, 'a v1 sync request');
  t.same(findMcrouterConfig(request('team/example-mcrouter')), config, 'a v2 sync request');
  t.throws(() => findMcrouterConfig({ parent: {}, children: { 'ConfigMap.v1': {} } }), /found 0/, 'a first sync: no ConfigMap yet');
});

t.test('run as a program: real streams and exit status', async (t) => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const child = spawnSync(process.execPath, ['--import=@tapjs/typescript/import', cli, 'route', '--config', fileURLToPath(import.meta.url), 'k'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(child.status, 1, 'a TypeScript file is not JSON');
  t.match(child.stderr, /^memcached-operator: .*cli\.test\.ts: not JSON/);
  const usage = spawnSync(process.execPath, ['--import=@tapjs/typescript/import', cli], { encoding: 'utf8', timeout: 60_000 });
  t.equal(usage.status, 2);
  // `-` reads standard input; a byte order mark is skipped.
  const stdin = spawnSync(process.execPath, ['--import=@tapjs/typescript/import', cli, 'route', '--config', '-', 'user:1'], {
    encoding: 'utf8',
    timeout: 60_000,
    input: `\ufeff${files['configmap.json']}`,
  });
  t.equal(stdin.status, 0, stdin.stderr);
  t.match(stdin.stdout, `  first        ${a('user:1')}`);
  // A reader that stops early: no error, no stack trace.
  const piped = spawnSync('bash', ['-c', `"$0" --import=@tapjs/typescript/import "$1" route --config - $(seq 1 20000) | head -1`, process.execPath, cli], {
    encoding: 'utf8',
    timeout: 60_000,
    input: files['config.json'],
  });
  t.equal(piped.stdout, '1\n');
  t.equal(piped.stderr, '', 'EPIPE is the end of the output');
});

t.test('the examples in docs/cli.md print what the page shows, run on the hooks/ samples', async (t) => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const examples = codeBlocks(page('docs/cli.md'), 'sh').flatMap((block) =>
    block.split(/^\$ /m).slice(1).map((example) => {
      const [command, ...shown] = example.trimEnd().split('\n');
      return { command: command!, shown: shown.join('\n') };
    }),
  );
  t.ok(examples.length >= 2, `${examples.length} examples found`);
  for (const { command, shown } of examples) {
    // Split on spaces as a shell would split these: an example that quotes an argument needs a real parser here.
    t.notMatch(command, /['"\\]/, `${command}: no quoting`);
    const [npx, bin, ...argv] = command.split(/\s+/);
    t.same([npx, bin], ['npx', 'memcached-operator'], command);
    let stdout = '';
    const code = runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => t.fail(text), readFile: (path) => readFileSync(join(root, path), 'utf8') });
    t.equal(code, 0, command);
    t.equal(stdout.trimEnd().split('\n').map((line) => line.trimEnd()).join('\n'), shown, command);
  }
});

t.test('route: configs that leave no single route handle, or use options the tool cannot model, are refused with the reason', async (t) => {
  const pools = { A: { servers: A } };
  const cases: Array<[string, unknown, RegExp]> = [
    // A route that is an empty list is no route handle at all.
    ['empty-route.json', { pools, route: [] }, /^memcached-operator: empty-route\.json: route: 0 route handles where exactly one is expected\n$/],
    // Every PoolRoute option that adds or changes destinations is refused, not only "shadows".
    ['shard-splits.json', { pools, route: { type: 'PoolRoute', pool: 'A', shard_splits: { 'user:1': 2 } } }, /route\(PoolRoute\): "shard_splits" is not supported/],
    ['bucketize.json', { pools, route: { type: 'PoolRoute', pool: 'A', bucketize: true, total_buckets: 1000 } }, /route\(PoolRoute\): "bucketize" is not supported/],
    // Rendezvous takes exactly one tag per server, not more.
    ['rendezvous-tags.json', { pools: { A: { servers: A.slice(0, 3) } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Rendezvous', tags: A.slice(0, 4) } } }, /4 tags for 3 servers \(Rendezvous needs one per server\)/],
    // A salt is a string; mcrouter refuses a number.
    ['numeric-salt.json', { pools, route: { type: 'PoolRoute', pool: 'A', hash: { salt: 2 } } }, /route\(PoolRoute\): "salt" is not a string/],
    // A PoolRoute object without "pool" says so.
    ['no-pool.json', { pools, route: { type: 'PoolRoute', hash: 'Crc32' } }, /route\(PoolRoute\): no "pool"/],
    // A weight above 1 is read as 1 by mcrouter 0.36, and the message says so.
    ['heavy-weight.json', { pools: { A: { servers: A.slice(0, 2), weights: [1.5, 1] } }, route: 'PoolRoute|A' }, /weights\[0\]: 1\.5 is not a weight from 0 to 1 \(newer mcrouter refuses it; 0\.36 reads it as 1\)/],
  ];
  for (const [file, config, message] of cases) {
    files[file] = JSON.stringify(config);
    const { code, stdout, stderr } = run('route', '--config', file, 'user:1');
    t.equal(code, 1, file);
    t.equal(stdout, '', file);
    t.match(stderr, message, file);
  }
  files['light-weight.json'] = JSON.stringify({ pools: { A: { servers: A.slice(0, 2), weights: [-0.5, 1] } }, route: 'PoolRoute|A' });
  t.match(run('route', '--config', 'light-weight.json', 'k').stderr, /-0\.5 is not a weight from 0 to 1 \(newer mcrouter refuses it; 0\.36 reads it as 0\)/);
});

t.test('route: an empty string among children is an empty list, as mcrouter reads it', async (t) => {
  // "" adds no child, so this FailoverRoute is its one child, pool A: not a NullRoute that answers first.
  files['blank-child.json'] = JSON.stringify({ pools: { A: { servers: A } }, route: { type: 'FailoverRoute', children: ['', 'PoolRoute|A'] } });
  const { code, stdout } = run('route', '--config', 'blank-child.json', 'user:1');
  t.equal(code, 0);
  t.match(stdout, `  first        ${a('user:1')}\n  primary      ${a('user:1')}\n  fallbacks    (none)`);
});

t.test('route: AllInitialRoute sends to every child at once, as the other All* routes', async (t) => {
  files['all-initial.json'] = JSON.stringify({ pools: { A: { servers: A }, B: { servers: B } }, route: { type: 'AllInitialRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } });
  const { code, stdout } = run('route', '--config', 'all-initial.json', '--op', 'set', 'user:1');
  t.equal(code, 0);
  t.match(stdout, `  primary      ${a('user:1')} ${b('user:1')}\n  fallbacks    (none)`);
});

t.test('diff: a HashRoute salt changed moves the keys of the pool it hashes, in the pool\'s line too', async (t) => {
  // The pool under a HashRoute is looked at with the HashRoute's salt.
  const salted = (salt: string) => ({ pools: { A: { servers: A } }, route: { type: 'HashRoute', salt, children: 'Pool|A' } });
  files['salt-1.json'] = JSON.stringify(salted('v1'));
  files['salt-2.json'] = JSON.stringify(salted('v2'));
  const diff = JSON.parse(run('diff', '--json', '--keys', '5000', 'salt-1.json', 'salt-2.json').stdout);
  t.ok(diff.moved > 0.8, `most keys move (${diff.moved})`);
  t.equal(diff.pools[0].moved, diff.moved, 'the pool is the whole route');
});

t.test('diff: a LatestRoute pod whose first pick has no server reads its next pick, spread over the other replicas', async (t) => {
  // Each pick after the first is hashed anew. Pool Z was drained by hand: the pods that pick it first read
  // A or B next, half each, so B is read first by half the pods, and B growing from 4 to 5 moves a fifth of their keys.
  const zFirst = (b: string[]) => ({
    pools: { Z: { servers: [] }, A: { servers: A }, B: { servers: b } },
    route: {
      type: 'OperationSelectorRoute',
      default_policy: { type: 'AllSyncRoute', children: ['PoolRoute|A', 'PoolRoute|B'] },
      operation_policies: { get: { type: 'LatestRoute', children: ['PoolRoute|Z', 'PoolRoute|A', 'PoolRoute|B'] } },
    },
  });
  files['drained.json'] = JSON.stringify(zFirst(B));
  files['drained-grown.json'] = JSON.stringify(zFirst(servers('10.0.2.', 5)));
  const diff = JSON.parse(run('diff', '--json', 'drained.json', 'drained-grown.json').stdout);
  t.ok(Math.abs(diff.moved - 0.5 * 0.2) < 0.015, `a tenth of the reads miss (${diff.moved})`);
});

t.test('route and diff: an empty All* route is a NullRoute (a miss ends a FailoverRoute), a chain of drained pools an error (it fails over)', async (t) => {
  // mcrouter's factories make no children a NullRoute: its miss is an answer, so the FailoverRoute stops there.
  files['empty-all.json'] = JSON.stringify({ pools: { A: { servers: A } }, route: { type: 'FailoverRoute', children: [{ type: 'AllSyncRoute', children: [] }, 'PoolRoute|A'] } });
  const empty = run('route', '--config', 'empty-all.json', 'user:1');
  t.equal(empty.code, 0);
  t.match(empty.stdout, '  first        (none)\n  primary      (none)\n  fallbacks    (none)');
  // Two drained pools answer errors, so the outer FailoverRoute reads pool A: A growing moves a share of keys.
  const chain = (a: string[]) => ({
    pools: { Z1: { servers: [] }, Z2: { servers: [] }, A: { servers: a } },
    route: { type: 'FailoverRoute', children: [{ type: 'FailoverRoute', children: ['PoolRoute|Z1', 'PoolRoute|Z2'] }, 'PoolRoute|A'] },
  });
  files['chain.json'] = JSON.stringify(chain(A));
  files['chain-grown.json'] = JSON.stringify(chain([...A, '10.0.1.10:11211']));
  t.match(run('route', '--config', 'chain.json', 'user:1').stdout, `  first        ${a('user:1')}`);
  const moved = JSON.parse(run('diff', '--json', '--keys', '20000', 'chain.json', 'chain-grown.json').stdout).moved;
  t.ok(Math.abs(moved - 1 / 11) < 0.01, `a key in 11 moves (${moved})`);
});

t.test('diff: the share under a LatestRoute is an average over 1,024 pods, each reading whole keys of the sample', async (t) => {
  // Key i is read by pod i % 1024. Replica B replaced by new servers: a key moves when its pod reads B
  // first, so over 10,240 keys (ten per pod) the share is a whole number of pods out of 1,024.
  files['pair.json'] = JSON.stringify(latest(B));
  files['pair-replaced.json'] = JSON.stringify(latest(servers('10.0.3.', 4)));
  const moved = JSON.parse(run('diff', '--json', '--keys', '10240', 'pair.json', 'pair-replaced.json').stdout).moved;
  const pods = moved * 1024;
  t.ok(Math.abs(pods - Math.round(pods)) < 1e-9, `${pods} pods`);
  t.ok(Math.abs(moved - 0.5) < 0.06, `about half the pods read B first (${moved})`);
});

t.test('route: gat and gats are gets to a MissFailoverRoute; lease-set is an operation like set', async (t) => {
  // A get-and-touch that misses goes on to the next child.
  files['miss-failover.json'] = JSON.stringify({ pools: { A: { servers: A }, B: { servers: B } }, route: { type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } });
  for (const op of ['gat', 'gats']) {
    const { code, stdout } = run('route', '--config', 'miss-failover.json', '--op', op, 'user:1');
    t.equal(code, 0, op);
    t.match(stdout, `  primary      ${a('user:1')}\n  fallbacks    ${b('user:1')}`, op);
  }
  t.match(run('route', '--config', 'miss-failover.json', '--op', 'touch', 'user:1').stdout, '  fallbacks    (none)', 'a touch goes to the first child alone');
  const leaseSet = run('route', '--config', 'config.json', '--op', 'lease-set', 'user:1');
  t.equal(leaseSet.code, 0, leaseSet.stderr);
  t.match(leaseSet.stdout, `  primary      ${a('user:1')} ${b('user:1')}`);
});

t.test('route: keys are hashed as their UTF-8 bytes at every encoding length boundary', async (t) => {
  // U+0800 is the first three-byte character. Expected servers from the bytes TextEncoder gives.
  files['pool-utf8.json'] = JSON.stringify({ pools: { A: { servers: A } }, route: 'PoolRoute|A' });
  const utf8 = (key: string) => A[furcHash(new TextEncoder().encode(key), A.length)]!;
  const keys = ['user:\u007f', 'user:\u0080', 'user:\u07ff', 'user:\u0800', 'user:\u0801', 'user:\uffff', 'user:\u{10000}', 'user:\u{10ffff}'];
  for (const key of keys) {
    const { code, stdout } = run('route', '--json', '--config', 'pool-utf8.json', key);
    t.equal(code, key.includes('\u007f') ? 1 : 0, JSON.stringify(key));
    if (code === 0) t.equal(JSON.parse(stdout)[0].first, utf8(key), JSON.stringify(key));
  }
});

t.test('route: `kubectl get configmaps -o json` lists kube-root-ca.crt too; the one ConfigMap with config.json is read', async (t) => {
  const rootCa = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n' } };
  files['configmaps.json'] = JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [rootCa, configMap(replicated())] });
  const { code, stdout, stderr } = run('route', '--config', 'configmaps.json', 'user:1');
  t.equal(code, 0, stderr);
  t.match(stdout, `  first        ${a('user:1')}`);
});

t.test('route: a config of prefix routes ("routes" alone) is recognised as a config, and refused for what it is', async (t) => {
  files['prefix-routes.json'] = JSON.stringify({ routes: [{ aliases: ['/./a/'], route: 'PoolRoute|A' }] });
  const { code, stderr } = run('route', '--config', 'prefix-routes.json', 'user:1');
  t.equal(code, 1);
  t.equal(stderr, 'memcached-operator: prefix-routes.json: config: "routes" is not supported (use a single "route")\n');
});

t.test('diff: --keys 10000000 is the largest sample, and not a usage error', async (t) => {
  // The files are read before the sample is made: a missing one fails (1) without routing ten million keys.
  const largest = run('diff', '--keys', '10000000', 'missing.json', 'config.json');
  t.equal(largest.code, 1, largest.stderr);
  t.match(largest.stderr, /^memcached-operator: cannot read missing\.json: ENOENT/);
  t.equal(run('diff', '--keys', '10000001', 'missing.json', 'config.json').code, 2);
});

t.test('diff: a pool with weight-0 holes says how many', async (t) => {
  files['holes.json'] = JSON.stringify({ pools: { A: { servers: A.slice(0, 4), weights: [1, 0, 1, 1] } }, route: 'PoolRoute|A' });
  files['filled.json'] = JSON.stringify({ pools: { A: { servers: A.slice(0, 4) } }, route: 'PoolRoute|A' });
  const { code, stdout } = run('diff', 'holes.json', 'filled.json');
  t.equal(code, 0);
  t.match(stdout, /^pool A +\d+\.\d\d% of keys move {2}\(4 servers \(1 weight 0\) -> 4 servers\)$/m);
});

t.test('route: a route with children named bare ("AllSyncRoute", no list) is refused, as mcrouter refuses it', async (t) => {
  // mcrouter's factories take a string's argument, null here, as the list of children, and refuse it (RouteHandleFactory::createList).
  for (const type of ['AllSyncRoute', 'AllInitialRoute', 'FailoverRoute', 'MissFailoverRoute', 'HashRoute', 'LatestRoute']) {
    files[`bare-${type}.json`] = JSON.stringify({ pools: { A: { servers: A } }, route: type });
    const { code, stdout, stderr } = run('route', '--config', `bare-${type}.json`, 'user:1');
    t.equal(code, 1, type);
    t.equal(stdout, '', type);
    t.equal(stderr, `memcached-operator: bare-${type}.json: route(${type}): a route handle must be a string, an object or a list\n`, type);
  }
  // Routes without children are named bare.
  files['bare-error.json'] = JSON.stringify({ pools: { A: { servers: A } }, route: 'ErrorRoute' });
  t.equal(run('route', '--config', 'bare-error.json', 'user:1').code, 0, 'ErrorRoute');
});

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from '../src/cli.js';
import { findMcrouterConfig } from '../src/mcrouter/config-source.js';
import { furcHash } from '../src/mcrouter/hash.js';

const servers = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}:11211`);
const A = servers('10.0.1.', 10);
const B = servers('10.0.2.', 4);

const replicated = (a: string[]) => ({
  pools: { A: { servers: a }, B: { servers: B } },
  route: {
    type: 'OperationSelectorRoute',
    default_policy: { type: 'AllSyncRoute', children: ['PoolRoute|A', 'PoolRoute|B'] },
    operation_policies: { get: { type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } },
  },
});
const configMap = (config: unknown) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'example-mcrouter' },
  data: { 'config.json': JSON.stringify(config) },
});

const files: Record<string, string> = {
  'config.json': JSON.stringify(replicated(A)),
  'configmap.json': JSON.stringify(configMap(replicated(A))),
  'eleven.response.json': JSON.stringify({
    status: {},
    children: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'example' } }, configMap(replicated([...A, '10.0.1.10:11211']))],
  }),
  'broken.json': '{"pools": ',
  'unsupported.json': JSON.stringify({ route: 'ShadowRoute|x' }),
  'two-configmaps.json': JSON.stringify({ children: [configMap({ route: 'NullRoute' }), configMap({ route: 'NullRoute' })] }),
};

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
  const { code, stdout, stderr } = run('route', '--config', 'config.json', 'user:1', '/r/c/user:2');
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
      '/r/c/user:2',
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
  t.match(lines[2], /^overall \d+\.\d\d% of 100000 sample keys/);
  const share = Number(/(\d+\.\d\d)%/.exec(lines[0]!)![1]) / 100;
  t.ok(Math.abs(share - 1 / 11) < 0.005, `about 1/11 of keys move (${share})`);

  const json = JSON.parse(run('diff', '--json', '--keys', '5000', 'configmap.json', 'eleven.response.json').stdout);
  t.equal(json.keys, 5000);
  t.equal(json.pools[0].pool, 'A');
  t.equal(json.moved, json.pools[0].moved, 'reads go to pool A first: overall is pool A');
  t.same(json.pools[1], { pool: 'B', moved: 0, before: { servers: 4, holes: 0 }, after: { servers: 4, holes: 0 } });
  t.equal(JSON.parse(run('diff', '--json', '--keys', '5000', 'config.json', 'config.json').stdout).moved, 0);
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
  const help = run('--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage:/);
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
});

import fc from 'fast-check';
import t from 'tap';
import { crc32Index, furcHash, rendezvousIndex } from '../src/mcrouter/hash.js';
import { keyError } from '../src/mcrouter/key.js';
import { keyspaceDiff, keyspaceMoved, sampleKeys } from '../src/mcrouter/keyspace.js';
import { McrouterConfigError, OPERATIONS, compileConfig, type Operation, type RouteSpec } from '../src/mcrouter/route.js';
import { compileRoute, firstGetDestination, route } from './helpers/route.js';

const servers = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}:11211`);
const A = servers('10.0.1.', 10);
const B = servers('10.0.2.', 4);
const keys = sampleKeys(2000);
const none = { primary: [], fallbacks: [] };

t.test('a sharded pool: one server per key, by Ch3 of the routing key', async (t) => {
  const config = { pools: { A: { servers: A } }, route: 'PoolRoute|A' };
  for (const key of keys.slice(0, 200)) {
    const server = A[furcHash(key, A.length)]!;
    t.same(route(config, key, 'get'), { primary: [server], fallbacks: [] });
    t.same(route(config, key, 'set'), { primary: [server], fallbacks: [] });
  }
  t.equal(firstGetDestination(config, '/././user:1'), A[furcHash('user:1', A.length)], 'routing prefix stripped');
  t.equal(firstGetDestination(config, '/region/cluster/user:1'), undefined, 'a routing prefix of no route: an error, no server');
  t.equal(firstGetDestination(config, 'user:1|#|anything'), firstGetDestination(config, 'user:1'), 'hash stop');
  t.same(route({ pools: { A: { servers: A } }, route: { type: 'PoolRoute', pool: 'A' } }, 'k', 'get'), route(config, 'k', 'get'));
  t.same(route({ route: { type: 'PoolRoute', pool: { name: 'inline', servers: A } } }, 'k', 'get'), route(config, 'k', 'get'), 'an inline pool');
});

t.test('pool weights [1, 0, 1]: WeightedCh3, no key reaches the hole, other keys keep their Ch3 server', async (t) => {
  const three = servers('10.0.3.', 3);
  const plain = compileConfig({ pools: { P: { servers: three } }, route: 'PoolRoute|P' });
  const holed = compileConfig({ pools: { P: { servers: three, weights: [1, 0, 1] } }, route: 'PoolRoute|P' });
  let rehashed = 0;
  for (const key of keys) {
    const before = plain.firstDestination(key);
    const after = holed.firstDestination(key);
    if (after === three[1]) t.fail(`${key} reached the hole`);
    if (before === three[1]) rehashed++;
    else if (after !== before) t.fail(`${key} moved from ${before} to ${after}`);
  }
  t.ok(rehashed > 500 && rehashed < 850, `about a third of keys were on the hole and moved (${rehashed})`);
  t.equal(keyspaceMoved(plain, holed, keys), rehashed / keys.length, 'keyspaceMoved counts exactly those');
  // WeightedCh3HashFunc reads the first weight of each server only: whatever follows is not read.
  const extra = compileConfig({ pools: { P: { servers: three, weights: [1, 0, 1, 'spare', null] } }, route: 'PoolRoute|P' });
  t.ok(keys.every((key) => extra.firstDestination(key) === holed.firstDestination(key)), 'weights beyond the servers: ignored');
});

t.test('a PoolRoute hash string replaces WeightedCh3: the pool weights are then ignored (as in mcrouter)', async (t) => {
  const three = servers('10.0.3.', 3);
  const config = { pools: { P: { servers: three, weights: [1, 0, 1] } }, route: { type: 'PoolRoute', pool: 'P', hash: 'Ch3' } };
  const onHole = keys.find((key) => furcHash(key, 3) === 1)!;
  t.equal(firstGetDestination(config, onHole), three[1]);
});

t.test('Crc32, salt, Rendezvous', async (t) => {
  const crc = { pools: { A: { servers: A } }, route: { type: 'PoolRoute', pool: 'A', hash: 'Crc32' } };
  const salted = { pools: { A: { servers: A } }, route: { type: 'PoolRoute', pool: 'A', hash: { salt: 'v2' } } };
  const rendezvous = { pools: { A: { servers: A } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Rendezvous', tags: A } } };
  const poolTags = { pools: { A: { servers: A, tags: A } }, route: { type: 'PoolRoute', pool: 'A', hash: 'Rendezvous' } };
  for (const key of keys.slice(0, 300)) {
    t.equal(firstGetDestination(crc, key), A[crc32Index(key, A.length)]);
    t.equal(firstGetDestination(salted, key), A[furcHash(`${key}v2`, A.length)]);
    t.equal(firstGetDestination(rendezvous, `/*/*/${key}`), A[rendezvousIndex(key, A)], "a glob prefix that matches the default route");
    t.equal(firstGetDestination(poolTags, key), A[rendezvousIndex(key, A)], "the pool's own tags");
  }
  t.throws(
    () => compileConfig({ pools: { A: { servers: A } }, route: { type: 'PoolRoute', pool: 'A', hash: 'Rendezvous' } }),
    { name: 'McrouterConfigError', message: /Rendezvous needs "tags"/ },
  );
  t.throws(
    () => compileConfig({ pools: { A: { servers: A } }, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'Rendezvous', tags: ['x'] } } }),
    /1 tags for 10 servers/,
  );
});

const replicated = (read: RouteSpec, withDefault = true) => ({
  pools: { A: { servers: A }, B: { servers: B } },
  route: {
    type: 'OperationSelectorRoute',
    ...(withDefault ? { default_policy: { type: 'AllSyncRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } } : {}),
    operation_policies: Object.fromEntries(['get', 'gets', 'metaget', 'lease-get'].map((op) => [op, read])),
  },
});

t.test('OperationSelectorRoute: AllSyncRoute writes, MissFailoverRoute reads', async (t) => {
  const config = replicated({ type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] });
  const key = 'user:42';
  const a = A[furcHash(key, A.length)]!;
  const b = B[furcHash(key, B.length)]!;
  for (const op of ['get', 'gets', 'metaget', 'lease-get'] as const) {
    t.same(route(config, key, op), { primary: [a], fallbacks: [b] }, `${op}: A's shard, then B's on a miss`);
  }
  for (const op of ['set', 'delete', 'touch', 'incr', 'decr', 'add', 'cas', 'gat'] as const) {
    t.same(route(config, key, op), { primary: [a, b] , fallbacks: [] }, `${op}: every replica`);
  }
  t.equal(firstGetDestination(config, key), a);
  const noDefault = replicated({ type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] }, false);
  t.same(route(noDefault, key, 'touch'), none, 'no default_policy: an unlisted operation reaches nobody');
});

t.test('MissFailoverRoute fails over gets and deletes only', async (t) => {
  const config = { pools: { A: { servers: A }, B: { servers: B } }, route: { type: 'MissFailoverRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } };
  const key = 'k';
  const a = A[furcHash(key, A.length)]!;
  const b = B[furcHash(key, B.length)]!;
  t.same(route(config, key, 'get'), { primary: [a], fallbacks: [b] });
  t.same(route(config, key, 'delete'), { primary: [a], fallbacks: [b] });
  t.same(route(config, key, 'set'), { primary: [a], fallbacks: [] }, 'a set goes to the first child alone');
});

t.test('LatestRoute and FailoverRoute: the children in order', async (t) => {
  const C = servers('10.0.4.', 5);
  const pools = { A: { servers: A }, B: { servers: B }, C: { servers: C } };
  const key = 'session:9';
  const [a, b, c] = [A, B, C].map((list) => list[furcHash(key, list.length)]!);
  const latest = { pools, route: { type: 'LatestRoute', children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] } };
  // In config order, marked as one mcrouter pod's view: each pod orders the children its own way (below).
  t.same(route(latest, key, 'get'), { primary: [a], fallbacks: [b, c], perHost: true });
  t.same(route(latest, key, 'set'), { primary: [a], fallbacks: [b, c], perHost: true }, 'FailoverRoute fails over every operation on errors');
  const two = { pools, route: { type: 'LatestRoute', failover_count: 2, children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] } };
  t.same(route(two, key, 'get'), { primary: [a], fallbacks: [b], perHost: true }, 'failover_count children');
  const failover = { pools, route: { type: 'FailoverRoute', children: ['ErrorRoute', 'PoolRoute|B', 'PoolRoute|C'] } };
  t.same(route(failover, key, 'get'), { primary: [b], fallbacks: [c] }, 'an ErrorRoute child is failed over at once');
  const nullFirst = { pools, route: { type: 'FailoverRoute', children: ['NullRoute', 'PoolRoute|B'] } };
  t.same(route(nullFirst, key, 'get'), none, 'NullRoute answers (a miss is not an error)');
  const hashLatest = { pools, route: { type: 'HashRoute', hash_func: 'Latest', children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] } };
  t.same(route(hashLatest, key, 'get'), { primary: [a], fallbacks: [b, c], perHost: true }, 'HashRoute with hash_func Latest is a LatestRoute');
  const short = { pools, route: 'FailoverRoute|Pool|B' };
  t.same(route(short, key, 'get'), { primary: [B[0]!], fallbacks: B.slice(1) }, 'short form over a Pool: its servers in order');
});

t.test('LatestRoute picks, and orders, its children per mcrouter host, by weight, consistently', async (t) => {
  const C = servers('10.0.4.', 5);
  const D = servers('10.0.5.', 3);
  const pools = { A: { servers: A }, B: { servers: B }, C: { servers: C }, D: { servers: D } };
  const key = 'session:9';
  const pick = (list: string[]) => list[furcHash(key, list.length)]!;
  const hosts = Array.from({ length: 1024 }, (_, h) => h);
  const orders = (latest: Record<string, unknown>) => {
    const tree = compileConfig({ pools, route: { type: 'LatestRoute', ...latest } });
    return hosts.map((h) => tree.firstDestination(key, 'get', h));
  };
  const share = (firsts: (string | undefined)[], server: string) => firsts.filter((f) => f === server).length / firsts.length;
  const three = orders({ children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] });
  for (const list of [A, B, C]) t.ok(Math.abs(share(three, pick(list)) - 1 / 3) < 0.05, `each child is read first by about a third of the pods (${share(three, pick(list))})`);
  const weighted = orders({ weights: [0, 1, 1], children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] });
  t.equal(share(weighted, pick(A)), 0, 'weight 0: never first');
  const one = orders({ failover_count: 1, children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] });
  t.same(one, three, 'failover_count 1: the same first pick, nothing after it');
  const four = orders({ children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C', 'PoolRoute|D'] });
  const changed = hosts.filter((h) => three[h] !== four[h]).length / hosts.length;
  t.ok(changed > 0.15 && changed < 0.35, `a fourth child takes over the first read of about a quarter of the pods, no others (${changed})`);
  t.ok(hosts.every((h) => three[h] === four[h] || four[h] === pick(D)), 'a pod that changes reads the new child');
  const salted = orders({ salt: 'x', children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] });
  t.not(salted.join(), three.join(), 'the salt picks otherwise (nested LatestRoutes pick apart)');
  const tree = compileConfig({ pools, route: { type: 'LatestRoute', failover_count: -1, children: ['PoolRoute|A', 'PoolRoute|B', 'PoolRoute|C'] } });
  t.equal(tree.route(key, 'get').fallbacks.length, 2, 'a negative failover_count is every child (mcrouter reads it as a size_t)');
  t.equal(compileConfig({ pools, route: { type: 'LatestRoute', children: ['PoolRoute|A'] } }).route(key, 'get').perHost, undefined, 'one child: no choice');
});

t.test('HashRoute over two pools', async (t) => {
  const config = { pools: { A: { servers: A }, B: { servers: B } }, route: { type: 'HashRoute', children: ['PoolRoute|A', 'PoolRoute|B'] } };
  const salted = { pools: config.pools, route: { type: 'HashRoute', salt: 's', children: ['PoolRoute|A', 'PoolRoute|B'] } };
  const crc = { pools: config.pools, route: { type: 'HashRoute', hash_func: 'Crc32', children: ['PoolRoute|A', 'PoolRoute|B'] } };
  // mcrouter's HashRoute reads "hash_func"; a "hash" field is ignored (Ch3 stays).
  const ignored = { pools: config.pools, route: { type: 'HashRoute', hash: 'Crc32', children: ['PoolRoute|A', 'PoolRoute|B'] } };
  const pick = (index: number, key: string) => (index === 0 ? A[furcHash(key, A.length)] : B[furcHash(key, B.length)]);
  for (const key of keys.slice(0, 300)) {
    t.equal(firstGetDestination(config, key), pick(furcHash(key, 2), key));
    t.equal(firstGetDestination(salted, key), pick(furcHash(`${key}s`, 2), key), 'the salt only changes the HashRoute choice');
    t.equal(firstGetDestination(crc, key), pick(crc32Index(key, 2), key));
    t.equal(firstGetDestination(ignored, key), firstGetDestination(config, key));
  }
  const weighted = { pools: config.pools, route: { type: 'HashRoute', hash_func: 'WeightedCh3', weights: [0, 1], children: ['PoolRoute|A', 'PoolRoute|B'] } };
  t.ok(keys.slice(0, 300).every((key) => B.includes(firstGetDestination(weighted, key)!)), 'HashRoute weights');
  t.same(route({ pools: config.pools, route: 'HashRoute|Pool|B' }, 'k', 'get').primary, [B[furcHash('k', B.length)]], 'short form');
});

t.test('ErrorRoute, NullRoute and empty pools reach no server', async (t) => {
  for (const spec of ['ErrorRoute', 'ErrorRoute|no servers for memcached-a', { type: 'ErrorRoute', response: 'x' }, 'NullRoute']) {
    t.same(route({ route: spec }, 'k', 'get'), none);
    t.equal(firstGetDestination({ route: spec }, 'k'), undefined);
  }
  t.same(route({ pools: { E: { servers: [] } }, route: 'PoolRoute|E' }, 'k', 'get'), none);
  t.same(route({ pools: { A: { servers: A } }, route: { type: 'AllSyncRoute', children: ['ErrorRoute', 'PoolRoute|A'] } }, 'k', 'set').primary, [
    A[furcHash('k', A.length)],
  ]);
});

t.test('what each route answers when it reaches no server decides whether a failover goes on', async (t) => {
  const pools = { A: { servers: A }, B: { servers: B }, E: { servers: [] } };
  const key = 'session:9';
  const [a, b] = [A, B].map((list) => list[furcHash(key, list.length)]!);
  // MissFailoverRoute goes on after a miss (NullRoute's answer) for a get; a set goes to the first child alone.
  const afterNull = { pools, route: { type: 'MissFailoverRoute', children: ['NullRoute', 'PoolRoute|A'] } };
  t.same(route(afterNull, key, 'get'), { primary: [a], fallbacks: [] }, 'MissFailoverRoute: past a miss to A');
  t.equal(firstGetDestination(afterNull, key), a);
  t.same(route(afterNull, key, 'set'), none);
  // An empty pool (its Service scaled to 0) answers an error, which FailoverRoute fails over.
  const afterEmpty = { pools, route: { type: 'FailoverRoute', children: ['PoolRoute|E', 'PoolRoute|B'] } };
  t.same(route(afterEmpty, key, 'get'), { primary: [b], fallbacks: [] }, 'FailoverRoute: past an empty pool to B');
  t.equal(firstGetDestination(afterEmpty, key), b);
  // An OperationSelectorRoute without a policy for the operation answers its default reply, a miss: no failover.
  const noPolicy = { pools, route: { type: 'FailoverRoute', children: [{ type: 'OperationSelectorRoute', operation_policies: { set: 'PoolRoute|A' } }, 'PoolRoute|B'] } };
  t.same(route(noPolicy, key, 'get'), none, 'no policy for get: a miss, B not asked');
  t.equal(firstGetDestination(noPolicy, key), undefined);
  t.same(route(noPolicy, key, 'set'), { primary: [a], fallbacks: [b] });
});

t.test('LatestRoute: failover_count is 5 unless set, and even one pick is the host\'s own', async (t) => {
  const six = Array.from({ length: 6 }, (_, i) => servers(`10.0.${10 + i}.`, 3));
  const pools = Object.fromEntries(six.map((list, i) => [`P${i}`, { servers: list }]));
  const children = six.map((_, i) => `PoolRoute|P${i}`);
  const key = 'session:9';
  const reached = route({ pools, route: { type: 'LatestRoute', children } }, key, 'get');
  t.equal(reached.primary.length + reached.fallbacks.length, 5, 'of six children, five');
  const one = route({ pools, route: { type: 'LatestRoute', failover_count: 1, children: children.slice(0, 2) } }, key, 'get');
  t.same(one, { primary: [six[0]![furcHash(key, 3)]], fallbacks: [], perHost: true }, 'one of two: which one depends on the mcrouter pod');
});

t.test('a PoolRoute hash object changes only the fields it names: a weighted pool stays WeightedCh3', async (t) => {
  const three = servers('10.0.3.', 3);
  const salted = compileConfig({ pools: { P: { servers: three, weights: [1, 0, 1] } }, route: { type: 'PoolRoute', pool: 'P', hash: { salt: 'x' } } });
  t.ok(keys.every((key) => salted.firstDestination(key) !== three[1]), 'no key reaches the hole');
});

t.test('Pool|NAME lists every server; AllSyncRoute over it reaches them all', async (t) => {
  const config = { pools: { B: { servers: B } }, route: { type: 'AllSyncRoute', children: 'Pool|B' } };
  t.same(route(config, 'k', 'set'), { primary: B, fallbacks: [] });
  t.same(route({ pools: { B: { servers: B } }, route: 'AllAsyncRoute|Pool|B' }, 'k', 'delete').primary, B);
});

t.test('what is not supported is refused with a clear error', async (t) => {
  const pools = { A: { servers: A } };
  const refused: Array<[unknown, RegExp]> = [
    [null, /not a JSON object/],
    [{ pools }, /no "route"/],
    [{ pools, routes: [{ aliases: ['/a/b/'], route: 'PoolRoute|A' }] }, /"routes" is not supported/],
    [{ pools, route: 'PoolRoute|Z' }, /unknown pool "Z"/],
    [{ pools, route: 'ShadowRoute|A' }, /route handle "ShadowRoute" is not supported/],
    [{ pools, route: 'Pool|A' }, /10 route handles where exactly one is expected/],
    [{ pools, route: { children: [] } }, /no string "type"/],
    [{ pools, route: 42 }, /must be a string, an object or a list/],
    [{ pools, route: { type: 'HashRoute', hash_func: 'Md5', children: ['PoolRoute|A', 'PoolRoute|A'] } }, /unknown hash function "Md5"/],
    [{ pools, route: { type: 'PoolRoute', pool: 'A', shadows: [] } }, /"shadows" is not supported/],
    [{ pools, route: { type: 'OperationSelectorRoute', operation_policies: { frobnicate: 'PoolRoute|A' } } }, /unknown operation "frobnicate"/],
    [{ pools, route: { type: 'OperationSelectorRoute' } }, /needs "default_policy" or "operation_policies"/],
    [{ pools: { A: { servers: [{ hostname: 'x' }] } }, route: 'NullRoute' }, /pools\.A\.servers\[0\]/],
    [{ pools: { A: { servers: A, weights: 'heavy' } }, route: 'PoolRoute|A' }, /pools\.A\.weights: not an array/],
    [{ pools: { A: { servers: A, weights: [1, '1'] } }, route: 'PoolRoute|A' }, /weights\[1\]: not a number/],
    [{ pools: { A: { servers: A, weights: [2, 0] } }, route: 'PoolRoute|A' }, /weights\[0\]: 2 is not a weight from 0 to 1/],
    [{ pools: { A: { servers: A, weights: [1, -0.5] } }, route: 'PoolRoute|A' }, /weights\[1\]: -0.5 is not a weight/],
    [{ pools, route: { type: 'LatestRoute', children: ['PoolRoute|A', 'PoolRoute|A'], weights: [1, 1.5] } }, /weights\[1\]: 1.5 is not a weight/],
    [{ pools: { A: { servers: A, tags: [1] } }, route: 'PoolRoute|A' }, /pools\.A\.tags: not an array of strings/],
    [{ pools, route: 'Pool' }, /a pool is a pool name or an object/],
    [{ pools, route: { type: 'PoolRoute', pool: { servers: A } } }, /an inline pool needs a string "name"/],
    [{ pools, route: { type: 'PoolRoute', pool: 'A', hash: { hash_func: 'ConstShard' } } }, /hash function "ConstShard" is not supported/],
  ];
  for (const [config, message] of refused) {
    t.throws(() => compileConfig(config), message, String(message));
  }
  t.throws(() => compileConfig({ route: 'Bogus' }), McrouterConfigError);
  t.throws(() => route({ route: 'NullRoute' }, 'k', 'fetch' as Operation), TypeError);
});

t.test('a handle with a "name" is made once: later objects of that name and the name as a string are the first', async (t) => {
  const pools = { A: { servers: A }, B: { servers: B } };
  const a = (key: string) => A[furcHash(key, A.length)]!;
  const b = (key: string) => B[furcHash(key, B.length)]!;
  // mcrouter's RouteHandleFactory::createNamed reuses the first definition of a name.
  const twice = { pools, route: { type: 'FailoverRoute', children: [{ name: 'x', type: 'PoolRoute', pool: 'A' }, { name: 'x', type: 'PoolRoute', pool: 'B' }] } };
  t.same(route(twice, 'k', 'get'), { primary: [a('k')], fallbacks: [a('k')] });
  const byName = { pools, route: { type: 'FailoverRoute', children: [{ name: 'x', type: 'PoolRoute', pool: 'B' }, 'x', 'PoolRoute|A'] } };
  t.same(route(byName, 'k', 'get'), { primary: [b('k')], fallbacks: [b('k'), a('k')] });
  t.throws(() => compileConfig({ pools, route: { type: 'FailoverRoute', children: ['x', { name: 'x', type: 'PoolRoute', pool: 'B' }] } }), /route handle "x" is not supported/, 'a name is known once it is defined');
  // Each name used twice by the next doubles the tree: reuse counts at its cost, within the node cap.
  const doubling = [{ name: 'h0', type: 'PoolRoute', pool: 'A' }, ...Array.from({ length: 40 }, (_, i) => ({ name: `h${i + 1}`, type: 'AllSyncRoute', children: [`h${i}`, `h${i}`] }))];
  t.throws(() => compileConfig({ pools, route: { type: 'FailoverRoute', children: doubling } }), /more than 4000000 nodes/);
});

t.test('missing pool weights are 0.5 and extra ones are ignored, as in mcrouter', async (t) => {
  const three = servers('10.0.3.', 3);
  const short = compileConfig({ pools: { P: { servers: three, weights: [1] } }, route: 'PoolRoute|P' });
  const half = compileConfig({ pools: { P: { servers: three, weights: [1, 0.5, 0.5, 0, 0] } }, route: 'PoolRoute|P' });
  t.ok(keys.every((key) => short.firstDestination(key) === half.firstDestination(key)));
});

t.test('compileRoute and withRoute look at one pool of a config', async (t) => {
  const config = replicated('PoolRoute|A');
  const poolB = compileRoute(config, 'PoolRoute|B');
  t.equal(poolB.firstDestination('k'), B[furcHash('k', B.length)]);
  t.equal(compileConfig(config).withRoute({ type: 'PoolRoute', pool: 'B' }).firstDestination('k'), poolB.firstDestination('k'));
});

t.test('keyspace: appending a server moves about 1/n of keys, all onto it', async (t) => {
  const ten = { pools: { A: { servers: A } }, route: 'PoolRoute|A' };
  const eleven = { pools: { A: { servers: [...A, '10.0.1.10:11211'] } }, route: 'PoolRoute|A' };
  const moved = keyspaceMoved(ten, eleven, keys);
  t.ok(Math.abs(moved - 1 / 11) < 0.02, `moved ${moved}`);
  const after = compileConfig(eleven);
  const before = compileConfig(ten);
  t.ok(keys.every((key) => before.firstDestination(key) === after.firstDestination(key) || after.firstDestination(key) === '10.0.1.10:11211'));
  t.equal(keyspaceMoved(ten, ten, keys), 0);
  t.equal(keyspaceMoved(ten, { route: 'ErrorRoute' }, keys), 1, 'losing every destination moves every key');
  t.equal(keyspaceMoved(ten, eleven, []), 0);
  t.same(sampleKeys(3), ['key:0', 'key:1', 'key:2']);

  const diff = keyspaceDiff(
    { pools: { A: { servers: A }, B: { servers: B } }, route: 'PoolRoute|A' },
    { pools: { A: { servers: [...A, '10.0.1.10:11211'] }, C: { servers: B, weights: [1, 0, 1, 1] } }, route: 'PoolRoute|A' },
    keys,
  );
  t.equal(diff.moved, moved);
  t.same(
    diff.pools.map((p) => [p.pool, p.before, p.after]),
    [
      ['A', { servers: 10, holes: 0 }, { servers: 11, holes: 0 }],
      ['B', { servers: 4, holes: 0 }, undefined],
      ['C', undefined, { servers: 4, holes: 1 }],
    ],
  );
  t.equal(diff.pools[0]!.moved, moved);
  t.equal(diff.pools[1]!.moved, 1, 'a removed pool moves every key');
  // Weights past the servers' count are ignored (as mcrouter does): no hole of them.
  const extra = keyspaceDiff({ route: 'NullRoute' }, { pools: { D: { servers: B, weights: [1, 1, 1, 1, 0] } }, route: 'PoolRoute|D' }, keys);
  t.same(extra.pools[0]!.after, { servers: 4, holes: 0 });
  // A pool of replicas on either side has no share of keys to compare.
  const sharded = { pools: { A: { servers: A } }, route: 'PoolRoute|A' };
  const replicas = { pools: { A: { servers: A } }, route: { type: 'AllSyncRoute', children: 'Pool|A' } };
  t.equal(keyspaceDiff(sharded, replicas, keys).pools[0]!.moved, null, 'sharded, then replicas');
  t.equal(keyspaceDiff(replicas, sharded, keys).pools[0]!.moved, null, 'replicas, then sharded');
});

// Random route trees: the fast path (firstDestination) must agree with the full walk.
const routeSpec: fc.Arbitrary<RouteSpec> = fc.letrec<{ route: RouteSpec }>((tie) => ({
  route: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<RouteSpec>('PoolRoute|A', 'PoolRoute|B', 'PoolRoute|E', 'ErrorRoute', 'NullRoute', { type: 'PoolRoute', pool: 'A', hash: 'Crc32' }),
    fc.record({
      type: fc.constantFrom('AllSyncRoute', 'AllAsyncRoute', 'AllMajorityRoute', 'FailoverRoute', 'MissFailoverRoute', 'LatestRoute', 'HashRoute'),
      children: fc.array(fc.oneof(tie('route'), fc.constant<RouteSpec>('Pool|B')), { maxLength: 4 }),
    }),
    fc.record({
      type: fc.constant('OperationSelectorRoute'),
      default_policy: tie('route'),
      operation_policies: fc.record({ get: tie('route'), delete: tie('route') }, { requiredKeys: [] }),
    }),
  ),
})).route;

t.test('firstDestination is route().primary[0] for any route tree, key and operation', async (t) => {
  fc.assert(
    fc.property(routeSpec, fc.string(), fc.constantFrom(...OPERATIONS), (spec, key, op) => {
      const tree = compileConfig({ pools: { A: { servers: A }, B: { servers: B }, E: { servers: [] } }, route: spec });
      // A key mcrouter refuses reaches nothing; firstDestination is for keys it routes.
      if (keyError(key) !== undefined) return tree.route(key, op).primary.length === 0;
      return tree.firstDestination(key, op) === tree.route(key, op).primary[0];
    }),
    { numRuns: 500 },
  );
  t.pass('agrees');
});

t.test('a WeightedCh3 pool drained to weights too small to tell from 0 costs what a drained pool costs', async (t) => {
  const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
  const cost = (weight: number) => compileConfig({ pools: { p: { servers, weights: servers.map(() => weight) } }, route: 'PoolRoute|p' }).cost;
  for (const weight of [1e-17, 1e-16, 1e-12]) t.equal(cost(weight), cost(0), `weight ${weight}`);
  t.ok(cost(1) < cost(0.5) && cost(0.5) < cost(0.01), 'fewer tries the more a try keeps');
});

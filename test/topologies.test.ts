/**
 * Every routing shape of spec.rules, through the hook: the config.json each
 * topology produces is walked with the route walker for a set of keys and
 * operations, and compared with what the rules say mcrouter must do (an
 * expectation computed here from the spec alone). The route handles and fields
 * are checked against an allowlist taken from mcrouter's route factories.
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { HASHES, READ_POLICIES, WRITE_POLICIES, type Hash, type ReadPolicy, type WritePolicy } from '../src/api/memcached-proxy.js';
import { crc32Index, furcHash, rendezvousIndex } from '../src/mcrouter/hash.js';
import { hashInput } from '../src/mcrouter/key.js';
import { sampleKeys } from '../src/mcrouter/keyspace.js';
import { compileConfig, type Destinations, type Operation } from '../src/mcrouter/route.js';
import { deploymentPods, endpointSlices, proxy, service, statefulSetPods, syncRequest, type Json } from './fixtures/cluster.js';
import { configOf, post, testServer, type ConfigJson } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

// ---------------------------------------------------------------------------
// The cluster: four sharded pools (StatefulSets behind headless Services) and
// two replica pairs (Deployments), each server in exactly one pool.

const SHARDS = ['shard-a', 'shard-b', 'shard-c', 'shard-d'];
const PAIRS = ['pair-1', 'pair-2'];
const cluster: Json[] = [
  ...SHARDS.flatMap((name, i) => [service({ name, headless: true }), ...endpointSlices(name, statefulSetPods(name, [0, 1, 2], 10 + i))]),
  ...PAIRS.flatMap((name, i) => [service({ name }), ...endpointSlices(name, deploymentPods(name, 2, 20 + i))]),
];
const dns = (name: string, n: number) => `${name}-${n}.${name}.default.svc.cluster.local:11211`;
const POOLS: Record<string, string[]> = {
  ...Object.fromEntries(SHARDS.map((name) => [name, [0, 1, 2].map((n) => dns(name, n))])),
  ...Object.fromEntries(PAIRS.map((name, i) => [name, [`10.244.${20 + i}.2:11211`, `10.244.${20 + i}.3:11211`]])),
};

const sync = async (spec: Json, related = cluster) => {
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'topology', spec }), related }));
  if (res.statusCode !== 200) throw new Error(`sync answered ${res.statusCode}: ${res.text}`);
  return res;
};

// ---------------------------------------------------------------------------
// What mcrouter must do, from the rules alone (DESIGN 7 and mcrouter's route
// handle docs). A sharded level picks one child by its hash of the routing key
// plus its salt `level-N`, N the sharded levels above it (for Crc32 followed by N
// dashes, so that no two levels' salts have one length: CRC-32 is affine, and equal
// lengths would correlate the levels' picks; replicated levels hash no key, and do not
// count); a replicated level writes to every live
// child and reads from one, the others being fallbacks.

interface RuleJson {
  type?: 'sharded' | 'replicated';
  hash?: Hash;
  writePolicy?: WritePolicy;
  readPolicy?: ReadPolicy;
  service?: { name: string; port?: number | string };
  children?: RuleJson[];
}

/**
 * Rendezvous tags of a group's children, as docs/topologies.md documents them: a leaf's Service, with `:PORT` for a port
 * other than 11211 (`:"NAME"` for a named one); a group's type over its children's tags; `#2`, `#3` for a repeat.
 */
function labels(children: RuleJson[]): string[] {
  const seen = new Map<string, number>();
  return children.map((c) => {
    const port = c.service?.port ?? 11211;
    const name = c.service
      ? port === 11211 ? c.service.name : `${c.service.name}:${JSON.stringify(port)}`
      : `${c.type ?? 'sharded'}(${labels(c.children!).join(',')})`;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}#${n}`;
  });
}

function pick(hash: Hash, key: string, salt: string, tags: string[]): number {
  const input = hashInput(key, salt);
  if (hash === 'Ch3') return furcHash(input, tags.length);
  if (hash === 'Crc32') return crc32Index(input, tags.length);
  return rendezvousIndex(input, tags);
}

/** mcrouter's LatestRoute tries at most failover_count (default 5) children. */
const LATEST_FAILOVER_COUNT = 5;

function expected(rule: RuleJson, key: string, reads: boolean, shards = 0): Destinations {
  const type = rule.type ?? 'sharded';
  const one = (server: string): Destinations => ({ primary: [server], fallbacks: [] });
  if (rule.service) {
    const servers = POOLS[rule.service.name]!;
    if (type === 'sharded') return one(servers[pick(rule.hash ?? 'Ch3', key, '', servers)]!);
    return replicas(servers.map(one), rule, reads);
  }
  const children = rule.children!;
  if (type === 'sharded') {
    const hash = rule.hash ?? 'Ch3';
    const index = pick(hash, key, `level-${shards}${hash === 'Crc32' ? '-'.repeat(shards) : ''}`, labels(children));
    return expected(children[index]!, key, reads, shards + 1);
  }
  return replicas(children.map((c) => expected(c, key, reads, shards)), rule, reads);
}

function replicas(children: Destinations[], rule: RuleJson, reads: boolean): Destinations {
  if (!reads) return { primary: children.flatMap((c) => c.primary), fallbacks: children.flatMap((c) => c.fallbacks) };
  const tried = (rule.readPolicy ?? 'Latest') === 'Latest' ? children.slice(0, LATEST_FAILOVER_COUNT) : children;
  const [first, ...rest] = tried;
  return { primary: first!.primary, fallbacks: [...first!.fallbacks, ...rest.flatMap((c) => [...c.primary, ...c.fallbacks])] };
}

// ---------------------------------------------------------------------------
// What mcrouter documents: the route handles and fields its factories read
// (McRouteHandleProvider, HashRouteFactory.h, LatestRoute.h,
// OperationSelectorRoute-inl.h, ErrorRouteFactory.h; the wiki's List of Route Handles).

const ROUTE_FIELDS: Record<string, readonly string[]> = {
  PoolRoute: ['type', 'pool', 'hash'],
  HashRoute: ['type', 'children', 'hash_func', 'salt', 'weights', 'tags'],
  OperationSelectorRoute: ['type', 'default_policy', 'operation_policies'],
  AllSyncRoute: ['type', 'children'],
  AllMajorityRoute: ['type', 'children'],
  AllFastestRoute: ['type', 'children'],
  AllAsyncRoute: ['type', 'children'],
  LatestRoute: ['type', 'children', 'failover_count', 'salt'],
  FailoverRoute: ['type', 'children'],
  MissFailoverRoute: ['type', 'children'],
  ErrorRoute: ['type', 'response'],
};
const HASH_FIELDS = ['hash_func', 'salt', 'weights', 'tags'];
/** mcrouter 0.36 knows these hash functions; Rendezvous arrived in 0.37. */
const HASH_FUNCS_036 = ['Ch3', 'Crc32', 'WeightedCh3'];
/** The read operations, each a request name of mcrouter 0.36's Memcache.idl. */
const READ_OPS: Operation[] = ['get', 'gets', 'metaget', 'lease-get'];
/** The rest take the write policy: the ones the issue names, others mcrouter knows, and gat (unlisted, from 0.40). */
const WRITE_OPS: Operation[] = ['set', 'delete', 'touch', 'incr', 'decr', 'add', 'cas', 'append', 'lease-set', 'gat'];

/** Problems with the config's route handles, as `path: what` lines (empty when all is as documented). */
function handleProblems(config: ConfigJson, rendezvousAllowed: boolean): string[] {
  const problems: string[] = [];
  const pools = config.pools;
  const checkHashFunc = (func: unknown, path: string) => {
    const known = rendezvousAllowed ? [...HASH_FUNCS_036, 'Rendezvous'] : HASH_FUNCS_036;
    if (!known.includes(func as string)) problems.push(`${path}: hash_func ${JSON.stringify(func)}`);
  };
  const checkTags = (tags: unknown, count: number, path: string) => {
    if (!Array.isArray(tags) || tags.length !== count || !tags.every((x) => typeof x === 'string') || new Set(tags).size !== count) {
      problems.push(`${path}: Rendezvous needs ${count} distinct string tags, got ${JSON.stringify(tags)}`);
    }
  };
  const visit = (route: unknown, path: string): void => {
    if (typeof route === 'string') {
      const match = /^(PoolRoute|Pool)\|(.+)$/.exec(route);
      if (!match) problems.push(`${path}: short form ${JSON.stringify(route)}`);
      else if (!pools[match[2]!]) problems.push(`${path}: unknown pool ${match[2]}`);
      return;
    }
    if (typeof route !== 'object' || route === null || Array.isArray(route)) {
      problems.push(`${path}: not a route handle`);
      return;
    }
    const r = route as Json;
    const type = r['type'] as string;
    const fields = ROUTE_FIELDS[type];
    if (!fields) {
      problems.push(`${path}: route handle ${JSON.stringify(type)}`);
      return;
    }
    for (const field of Object.keys(r)) if (!fields.includes(field)) problems.push(`${path}: ${type} has no field ${field}`);
    const children = r['children'];
    if (fields.includes('children')) {
      if (!Array.isArray(children) || children.length === 0) problems.push(`${path}: ${type} without children`);
      else children.forEach((c, i) => visit(c, `${path}.children[${i}]`));
    }
    if (type === 'OperationSelectorRoute') {
      if (r['default_policy'] === undefined) problems.push(`${path}: OperationSelectorRoute without default_policy`);
      else visit(r['default_policy'], `${path}.default_policy`);
      const policies = (r['operation_policies'] ?? {}) as Json;
      const ops = Object.keys(policies);
      if (ops.some((op) => !(READ_OPS as string[]).includes(op))) problems.push(`${path}: operation_policies for ${ops.join(', ')}`);
      for (const op of ops) visit(policies[op], `${path}.operation_policies.${op}`);
    }
    if (type === 'PoolRoute') {
      const pool = pools[r['pool'] as string];
      if (!pool) problems.push(`${path}: unknown pool ${JSON.stringify(r['pool'])}`);
      const hash = r['hash'];
      if (hash !== undefined) {
        const h = (typeof hash === 'string' ? { hash_func: hash } : hash) as Json;
        for (const field of Object.keys(h)) if (!HASH_FIELDS.includes(field)) problems.push(`${path}.hash: no field ${field}`);
        checkHashFunc(h['hash_func'], `${path}.hash`);
        if (h['hash_func'] === 'Rendezvous') checkTags(h['tags'], pool?.servers.length ?? -1, `${path}.hash`);
      }
    }
    if (type === 'HashRoute') {
      checkHashFunc(r['hash_func'] ?? 'Ch3', path);
      if (r['hash_func'] === 'Rendezvous') checkTags(r['tags'], (children as unknown[]).length, path);
      else if (r['tags'] !== undefined) problems.push(`${path}: tags without Rendezvous`);
      if (r['salt'] !== undefined && typeof r['salt'] !== 'string') problems.push(`${path}: salt is not a string`);
    }
    if (type === 'ErrorRoute' && typeof r['response'] !== 'string') problems.push(`${path}: ErrorRoute response is not a string`);
  };
  visit(config.route, 'route');
  for (const [name, pool] of Object.entries(pools)) {
    for (const field of Object.keys(pool)) if (!['servers', 'weights'].includes(field)) problems.push(`pools.${name}: no field ${field}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// The four topologies of the issue, each over every policy value.

interface Policies {
  write: WritePolicy;
  read: ReadPolicy;
  hash: Hash;
}

const TOPOLOGIES: Record<string, (p: Policies) => RuleJson> = {
  'replicated over two services': ({ write, read, hash }) => ({
    type: 'replicated',
    writePolicy: write,
    readPolicy: read,
    children: [
      { hash, service: { name: 'shard-a' } },
      { hash, service: { name: 'shard-b', port: 11211 } },
    ],
  }),
  'sharded over two replicated pairs': ({ write, read, hash }) => ({
    type: 'sharded',
    hash,
    children: PAIRS.map((name) => ({ type: 'replicated', writePolicy: write, readPolicy: read, service: { name } })),
  }),
  'replicated over two sharded pools': ({ write, read, hash }) => ({
    type: 'replicated',
    writePolicy: write,
    readPolicy: read,
    children: [
      { type: 'sharded', hash, children: [{ hash, service: { name: 'shard-a' } }, { hash, service: { name: 'shard-b' } }] },
      { type: 'sharded', hash, children: [{ hash, service: { name: 'shard-c' } }, { hash, service: { name: 'shard-d' } }] },
    ],
  }),
  'sharded over two sharded groups': ({ hash }) => ({
    type: 'sharded',
    hash,
    children: [
      { type: 'sharded', hash, children: [{ hash, service: { name: 'shard-a' } }, { hash, service: { name: 'shard-b' } }] },
      { type: 'sharded', hash, children: [{ hash, service: { name: 'shard-c' } }, { hash, service: { name: 'shard-d' } }] },
    ],
  }),
  'a 3-level tree, leaves and children mixed': ({ write, read, hash }) => ({
    type: 'sharded',
    hash,
    children: [
      {
        type: 'replicated',
        writePolicy: write,
        readPolicy: read,
        children: [
          { hash, service: { name: 'shard-a' } },
          { type: 'replicated', writePolicy: write, readPolicy: read, service: { name: 'pair-1' } },
        ],
      },
      { type: 'sharded', hash, children: [{ hash, service: { name: 'shard-b' } }, { hash, service: { name: 'shard-c' } }] },
      { hash, service: { name: 'shard-d' } },
    ],
  }),
};

const poolsOf = (rule: RuleJson): string[] => (rule.service ? [rule.service.name] : rule.children!.flatMap(poolsOf));
const sorted = (list: string[]) => [...list].sort();

// A routing prefix reaches the route only as mcrouter's default one (the hook passes no --route-prefix).
const KEYS = [...sampleKeys(160), '/././user:42', 'session:7|#|stamp'];

async function checkTopology(t: Test, name: string, policies: Policies): Promise<void> {
  const combo = `${policies.hash} ${policies.write} ${policies.read}`;
  const rules = TOPOLOGIES[name]!(policies);
  const res = await sync({ rules });
  const config = configOf(res.body);
  const used = [...new Set(poolsOf(rules))];
  t.same(config.pools, Object.fromEntries(used.map((p) => [p, { servers: POOLS[p] }])), `${combo}: one pool per service, named after it`);
  t.same(handleProblems(config, policies.hash === 'Rendezvous'), [], `${combo}: only route handles and fields mcrouter documents`);
  const tree = compileConfig(config);
  const poolOf = new Map(used.flatMap((p) => POOLS[p]!.map((s) => [s, p] as const)));
  const shardedPools = new Set(used.filter((p) => p.startsWith('shard-')));

  const mismatches: string[] = [];
  const written = new Set<string>();
  for (const key of KEYS) {
    const writes = expected(rules, key, false);
    for (const op of WRITE_OPS) {
      const got = tree.route(key, op);
      if (JSON.stringify(got) !== JSON.stringify(writes)) mismatches.push(`${op} ${key}: ${JSON.stringify(got)} != ${JSON.stringify(writes)}`);
    }
    // Whatever the expectation says: a sharded pool gives a key one server, a replica set is written whole.
    const set = tree.route(key, 'set').primary;
    const writeSet = new Set(set);
    set.forEach((s) => written.add(s));
    const perPool = new Map<string, number>();
    for (const s of set) perPool.set(poolOf.get(s)!, (perPool.get(poolOf.get(s)!) ?? 0) + 1);
    for (const [pool, n] of perPool) {
      const want = shardedPools.has(pool) ? 1 : POOLS[pool]!.length;
      if (n !== want) mismatches.push(`set ${key}: ${n} servers of ${pool}, want ${want}`);
    }
    if (writeSet.size !== set.length) mismatches.push(`set ${key}: a server twice`);

    const reads = expected(rules, key, true);
    for (const op of READ_OPS) {
      const got = tree.route(key, op);
      // LatestRoute's order depends on the mcrouter host: one replica first, the others after, in any order.
      const same =
        policies.read === 'Latest'
          ? reads.primary.length === got.primary.length &&
            JSON.stringify(sorted([...got.primary, ...got.fallbacks])) === JSON.stringify(sorted([...reads.primary, ...reads.fallbacks]))
          : JSON.stringify(got) === JSON.stringify(reads);
      if (!same) mismatches.push(`${op} ${key}: ${JSON.stringify(got)} != ${JSON.stringify(reads)}`);
      // A read finds what a write stored: it only ever reaches servers the write reached.
      for (const s of [...got.primary, ...got.fallbacks]) if (!writeSet.has(s)) mismatches.push(`${op} ${key}: ${s} was not written`);
    }
  }
  t.same(mismatches.slice(0, 5), [], `${combo}: ${KEYS.length} keys x ${WRITE_OPS.length + READ_OPS.length} operations route as the rules say`);
  t.same(sorted([...written]), sorted(used.flatMap((p) => POOLS[p]!)), `${combo}: every server takes writes, none is starved by correlated hashing`);
}

for (const name of Object.keys(TOPOLOGIES)) {
  t.test(name, async (t) => {
    for (const hash of HASHES) {
      for (const write of WRITE_POLICIES) {
        for (const read of READ_POLICIES) await checkTopology(t, name, { write, read, hash });
      }
    }
  });
}

t.test('a replicated rule that reaches one Service twice writes to it once', async (t) => {
  const twice = await sync({ rules: { type: 'replicated', children: [{ service: { name: 'pair-1' } }, { service: { name: 'pair-1' } }, { service: { name: 'pair-2' } }] } });
  const config = configOf(twice.body);
  t.same(Object.keys(config.pools).sort(), ['pair-1', 'pair-2'], 'one pool each');
  const tree = compileConfig(config);
  for (const op of ['incr', 'add', 'set', 'delete'] as Operation[]) {
    const { primary } = tree.route('counter:1', op);
    // Each leaf is sharded: one server of each pool, each once.
    t.equal(primary.length, 2, `${op}: ${JSON.stringify(primary)}`);
    t.ok(POOLS['pair-1']!.includes(primary[0]!) && POOLS['pair-2']!.includes(primary[1]!), `${op}: one server of each pool`);
  }
  // A port counts as written (docs/topologies.md: name each Service port one way in a proxy): a pool per spelling.
  const spellings = [11211, '11211', 'memcache'].map((port) => ({ service: { name: 'pair-1', port } }));
  const threeWays = configOf((await sync({ rules: { children: spellings } })).body);
  t.same(Object.keys(threeWays.pools), ['pair-1-11211', 'pair-1-11211-2', 'pair-1-memcache'], 'a pool per spelling, named apart');
  // A Service port may be named with digits (a DNS-1123 label): then "11211" is that port, not port 11211.
  const digitNamed = service({ name: 'pair-1', ports: [{ name: '11211', port: 8080, targetPort: 8080 }, { name: 'memcache', port: 11211 }] });
  const sliced = endpointSlices('pair-1', deploymentPods('pair-1', 2, 20)).map((s) => ({
    ...s,
    ports: [{ name: '11211', port: 8080, protocol: 'TCP' }, { name: 'memcache', port: 11211, protocol: 'TCP' }],
  }));
  const two = configOf((await sync({ rules: { type: 'replicated', children: [{ service: { name: 'pair-1', port: '11211' } }, { service: { name: 'pair-1', port: 11211 } }] } }, [digitNamed, ...sliced])).body);
  t.same(Object.values(two.pools).map((p) => p.servers[0]!.split(':')[1]).sort(), ['11211', '8080'], 'two Service ports: two pools');
  // Sharded subtrees written alike are one replica too.
  const sharded = { children: [{ service: { name: 'shard-a' } }, { service: { name: 'shard-b' } }] };
  const subtrees = configOf((await sync({ rules: { type: 'replicated', children: [sharded, sharded] } })).body);
  const writes = compileConfig(subtrees).route('user:1', 'set').primary;
  t.equal(writes.length, 1, `one server, once: ${JSON.stringify(writes)}`);
});

t.test('a replicated rule keeps a sharded replica that has lost one of its Services: that share of keys fails its writes there, the others do not', async (t) => {
  // docs/topologies.md: the group still has servers, so it stays a replica; leaving it out would make it miss every write meanwhile.
  const zone = { children: [{ service: { name: 'shard-a' } }, { service: { name: 'shard-b' } }] };
  const spec = { rules: { type: 'replicated', readPolicy: 'Failover', children: [zone, { service: { name: 'pair-1' } }] } };
  // The Service gone, and with it its EndpointSlices (which the Service owns).
  const ofShardB = (o: Json) => {
    const { name, labels } = o['metadata'] as { name?: string; labels?: Record<string, string> };
    return name === 'shard-b' || labels?.['kubernetes.io/service-name'] === 'shard-b';
  };
  const withoutB = cluster.filter((o) => !ofShardB(o));
  const config = configOf((await sync(spec, withoutB)).body);
  t.same(Object.keys(config.pools).sort(), ['pair-1', 'shard-a'], 'no pool for the missing Service');
  const tree = compileConfig(config);
  const inPool = (pool: string) => (server: string | undefined) => server !== undefined && POOLS[pool]!.includes(server);
  const mismatches: string[] = [];
  let toMissing = 0;
  for (const key of KEYS) {
    const writes = tree.route(key, 'set').primary;
    const reads = tree.route(key, 'get');
    const inZone = writes.filter(inPool('shard-a'));
    if (inZone.length === 0) toMissing++;
    // Every key is written to the pair; the zone's keys to the zone as well, read from it first and from the pair after it.
    const want = inZone.length === 0 ? { primary: writes.filter(inPool('pair-1')), fallbacks: [] } : { primary: inZone, fallbacks: writes.filter(inPool('pair-1')) };
    if (writes.filter(inPool('pair-1')).length !== 1 || inZone.length > 1) mismatches.push(`set ${key}: ${JSON.stringify(writes)}`);
    if (JSON.stringify(reads) !== JSON.stringify(want)) mismatches.push(`get ${key}: ${JSON.stringify(reads)} != ${JSON.stringify(want)}`);
  }
  t.same(mismatches.slice(0, 5), [], `${KEYS.length} keys: written to the pair, and to the zone when not of the missing shard; read from the zone first`);
  t.ok(toMissing > KEYS.length / 4 && toMissing < (KEYS.length * 3) / 4, `about half the keys hash to the missing shard (${toMissing} of ${KEYS.length})`);
});

t.test('a replicated pool keeps its servers in their order: a Failover read stays on the warm replica when one that sorts first comes back', async (t) => {
  // mcrouter's FailoverRoute (and MissFailoverRoute) read the first server, and a miss is no error: a returning pod,
  // empty, placed first by a natural sort would take every read of the pool.
  const ips = ['10.9.0.20', '10.9.0.30', '10.9.0.10', '10.9.0.40'];
  const cases: { label: string; spec: Json; related: (up: number[]) => Json[]; server: (n: number) => string; back: number; next: number }[] = [
    {
      label: 'StatefulSet pair, pod 0 restarted',
      spec: { rules: { type: 'replicated', readPolicy: 'Failover', service: { name: 'mc-pair' } } },
      related: (up) => [service({ name: 'mc-pair', headless: true }), ...endpointSlices('mc-pair', statefulSetPods('mc-pair', up, 30))],
      server: (n) => dns('mc-pair', n),
      back: 0,
      next: 2,
    },
    {
      label: 'Deployment pair, a pod replaced by one at a lower address',
      spec: { rules: { type: 'replicated', readPolicy: 'MissFailover', service: { name: 'duo' } } },
      related: (up) => [service({ name: 'duo' }), ...endpointSlices('duo', up.map((n) => ({ name: `duo-5d8f7-${n}`, ip: ips[n]!, node: 'node-0' })))],
      server: (n) => `${ips[n]}:11211`,
      back: 2,
      next: 3,
    },
  ];
  for (const { label, spec, related, server, back, next } of cases) {
    let children: Json[] = [];
    const step = async (up: number[]) => {
      const answer = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'replicas', spec }), related: related(up), children }));
      t.equal(answer.statusCode, 200);
      children = answer.body['children'] as Json[];
      const config = configOf(answer.body);
      return { servers: Object.values(config.pools)[0]!.servers, reads: compileConfig(config).route('user:1', 'get').primary };
    };
    const first = await step([0, 1]);
    t.same(first.servers, [server(0), server(1)], `${label}: a first list in natural order`);
    t.same(first.reads, [server(0)], `${label}: reads go to the first`);
    t.same((await step([1])).servers, [server(1)], `${label}: the first pod away`);
    const returned = await step([back, 1]);
    t.same(returned.servers, [server(1), server(back)], `${label}: the pod back, empty, after the replica that kept the keys`);
    t.same(returned.reads, [server(1)], `${label}: reads stay on it`);
    t.same((await step([back, 1, next])).servers, [server(1), server(back), server(next)], `${label}: a newcomer after the survivors`);
    t.same((await step([1, next])).servers, [server(1), server(next)], `${label}: nothing kept for a pod away (an AllSync write to it would fail)`);
  }
});

t.test('a replicated pool puts a replica that is restarting (not ready, or terminating) behind the ready ones, for good', async (t) => {
  // A memcached restarted in its pod keeps its endpoint, not ready meanwhile, and comes back empty; so does a StatefulSet pod
  // whose old endpoint and new one Metacontroller's queue folds into one sync. Every replica gets every write: moving one
  // moves no key, and a Failover read then goes to a replica that holds it.
  const spec = { rules: { type: 'replicated', readPolicy: 'Failover', service: { name: 'trio' } } };
  const svc = service({ name: 'trio', headless: true });
  let children: Json[] = [];
  let status: Json | undefined;
  const step = async (state: Record<number, Partial<{ ready: boolean; terminating: boolean }>> = {}) => {
    const pods = statefulSetPods('trio', [0, 1, 2], 40).map((p, n) => ({ ...p, ...state[n] }));
    const parent = proxy({ name: 'restarts', spec, ...(status ? { status } : {}) });
    const answer = await post(app, '/sync', syncRequest({ parent, related: [svc, ...endpointSlices('trio', pods)], children }));
    t.equal(answer.statusCode, 200);
    children = answer.body['children'] as Json[];
    status = answer.body['status'] as Json;
    const config = configOf(answer.body);
    return { servers: config.pools['trio']!.servers, reads: compileConfig(config).route('user:1', 'get').primary, moved: (status['lastChange'] as Json | undefined)?.['keyspaceMoved'] };
  };
  const trio = (...n: number[]) => n.map((i) => dns('trio', i));
  t.same((await step()).servers, trio(0, 1, 2));
  t.same((await step({ 0: { ready: false } })).servers, trio(1, 2, 0), 'trio-0 restarting in its pod: behind the ready ones');
  const back = await step();
  t.same([back.servers, back.reads], [trio(1, 2, 0), trio(1)], 'ready again, it stays there: reads stay on trio-1');
  t.equal(back.moved, 0, 'and no key moved');
  t.same((await step({ 1: { ready: false, terminating: true } })).servers, trio(2, 0, 1), 'trio-1 terminating');
  t.same((await step({ 1: { ready: false } })).servers, trio(2, 0, 1), 'its new pod seen in the next sync, not ready: it stays behind');
  t.same((await step({ 0: { ready: false }, 2: { ready: false } })).servers, trio(1, 2, 0), 'the others restarting: the one ready leads, the rest keep their order');

  // Under Latest each mcrouter pod reads its own pick of the replicas: a move would change the config for nothing.
  const latest = { rules: { type: 'replicated', service: { name: 'trio' } } };
  children = [];
  status = undefined;
  const latestStep = async (state: Record<number, Partial<{ ready: boolean }>> = {}) => {
    const pods = statefulSetPods('trio', [0, 1, 2], 40).map((p, n) => ({ ...p, ...state[n] }));
    const answer = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'latest', spec: latest }), related: [svc, ...endpointSlices('trio', pods)], children }));
    children = answer.body['children'] as Json[];
    return configOf(answer.body).pools['trio']!.servers;
  };
  t.same(await latestStep({ 0: { ready: false } }), trio(0, 1, 2), 'Latest: a first list in natural order, ready or not');
  t.same(await latestStep({ 0: { ready: false } }), trio(0, 1, 2), 'and trio-0 restarting keeps its place');

  // One pool, two rules: one replicated rule reading the first server is enough; a sharded one keeps the order as it is.
  const leaf = (rule: Json) => ({ ...rule, service: { name: 'trio' } });
  const replicatedBy = (readPolicy: string) => leaf({ type: 'replicated', readPolicy });
  const firstList = async (rules: Json[]) => {
    const pods = statefulSetPods('trio', [0, 1, 2], 40).map((p, n) => (n === 0 ? { ...p, ready: false } : p));
    const answer = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'shared', spec: { rules: { children: rules } } }), related: [svc, ...endpointSlices('trio', pods)] }));
    return configOf(answer.body).pools['trio']!.servers;
  };
  for (const other of ['Failover', 'MissFailover']) {
    t.same(await firstList([replicatedBy('Latest'), replicatedBy(other)]), trio(1, 2, 0), `Latest and ${other}: the ready first`);
    t.same(await firstList([replicatedBy(other), replicatedBy('Latest')]), trio(1, 2, 0), `${other} and Latest: the same`);
  }
  t.same(await firstList([replicatedBy('Failover'), leaf({})]), trio(0, 1, 2), 'Failover and a sharded rule: natural order (a move would move sharded keys)');
});

t.test('every hash spreads keys evenly over a sharded group of sharded groups', async (t) => {
  // Keys as applications write them, not sequential ones: CRC-32 splits `key:0`, `key:1`, ... over a power of
  // two exactly, which would hide a skew.
  const keys = Array.from({ length: 24_000 }, (_, i) => `user:${createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}`);
  for (const hash of HASHES) {
    const rules = TOPOLOGIES['sharded over two sharded groups']!({ hash, write: 'AllSync', read: 'Latest' });
    const tree = compileConfig(configOf((await sync({ rules })).body));
    const counts = new Map<string, number>();
    for (const key of keys) {
      const [server] = tree.route(key, 'get').primary;
      counts.set(server!, (counts.get(server!) ?? 0) + 1);
    }
    const servers = SHARDS.flatMap((name) => POOLS[name]!);
    const mean = keys.length / servers.length;
    const off = servers.filter((s) => Math.abs((counts.get(s) ?? 0) - mean) > 0.15 * mean);
    t.same(off, [], `${hash}: each of the ${servers.length} servers takes ${mean} keys ± 15% (${servers.map((s) => counts.get(s) ?? 0).join(' ')})`);
  }
});

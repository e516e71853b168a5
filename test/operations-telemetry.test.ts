/**
 * What the hook tells its operators: Prometheus metrics on /metrics, one JSON
 * log line per sync (and none for health checks), and readiness that fails
 * first when the pod is told to stop.
 */
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Readable } from 'node:stream';
import { clientErrorAnswer } from '../src/http/client-errors.js';
import { deploymentPods, endpointSlices, observedChildren, proxy, service, statefulSetPods, syncRequest, type Json } from './fixtures/cluster.js';
import { FIXED_NOW, loggedServer, post, testServer, type TestServer } from './helpers/hook.js';
import { exchange } from './helpers/raw-socket.js';
import { codeBlocks, codeSpans, page, tableRows } from './helpers/markdown.js';
import { run } from './helpers/k8s-tools.js';

const namespace = 'shop';
const pool = service({ name: 'memcached-pool1', namespace, headless: true });
const related = (ordinals: number[], notReady: number[] = []) => [
  pool,
  ...endpointSlices(
    'memcached-pool1',
    statefulSetPods('memcached-pool1', ordinals).map((p, i) => (notReady.includes(i) ? { ...p, ready: false } : p)),
    { namespace },
  ),
];
const request = (ordinals: number[], notReady: number[] = [], spec: Json = { serviceName: 'memcached-pool1' }) =>
  syncRequest({ parent: proxy({ name: 'cache', namespace, spec }), related: related(ordinals, notReady) });

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads the Prometheus text exposition format strictly: every sample belongs to a family with HELP and TYPE. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') types.set(comment[2]!, comment[3]!);
      else helps.add(comment[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes `Nan`).
    const special = /^([+-]?)(inf|nan)$/i.exec(sample[3]!);
    const value = special ? (special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(sample[3]);
    if (!special && (sample[3] === '' || Number.isNaN(value))) throw new Error(`not a number: ${line}`);
    const family = sample[1]!.replace(/_(bucket|sum|count)$/, '');
    const known = types.has(sample[1]!) ? sample[1]! : family;
    if (!types.has(known) || !helps.has(known)) throw new Error(`sample without HELP/TYPE: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { types, samples };
}

const find = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const valueOf = (samples: Sample[], name: string, labels: Record<string, string>) => {
  const found = find(samples, name, labels);
  return found.length === 1 ? found[0]!.value : undefined;
};

/** The headers of a raw POST /sync announcing `length` bytes of body, its connection closed after the answer. */
const head = (length: number) => `POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${length}\r\n\r\n`;
/** JSON of exactly `length` bytes that is no hook request (400). */
const body = (length: number) => JSON.stringify({ pad: 'x'.repeat(length - 10) }).padEnd(length, ' ');
/** A raw answer's status code and its JSON {message}. */
const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
const messageOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { message: string };

async function scrape(app: TestServer) {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  return { res, ...parseExposition(res.body) };
}

t.test('a fault of the hook itself: 500 with no detail, logged at error, counted as outcome="error"', async (t) => {
  // A clock that fails stands for any bug: the only way to reach the last resort from outside.
  const { app, lines } = loggedServer('warn', { clock: () => new Date(Number.NaN) });
  t.teardown(() => app.close());
  const res = await post(app, '/sync', request([0, 1]));
  t.equal(res.statusCode, 500);
  t.same(res.body, { message: 'internal error' });
  // One line: t.match took a list that only began with it (a 500 logged again as a refusal warning passed).
  t.same(lines.map((l) => [l['level'], l['msg']]), [[50, 'unexpected error']], 'one line, at error');
  const { samples } = await scrape(app);
  t.equal(valueOf(samples, 'memcached_operator_hook_requests_total', { hook: 'sync', outcome: 'error' }), 1);
});

t.test('/metrics: hook counts and durations by outcome, servers per proxy', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  const raw = (url: string, payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });

  t.equal((await post(app, '/sync', request([0, 1, 2], [1]))).statusCode, 200);
  t.equal((await post(app, '/sync', request([0, 1, 2], [1]))).statusCode, 200);
  t.equal((await post(app, '/sync', request([0], [], { serviceName: 'a', rules: { service: { name: 'a' } } }))).statusCode, 422);
  t.equal((await raw('/sync', '{"hello": "world"}')).statusCode, 400, 'not a hook request');
  t.equal((await raw('/sync', '{"parent": ')).statusCode, 400, 'not JSON');
  t.equal((await raw('/sync', '{}', 'text/plain')).statusCode, 415, 'not application/json');
  t.equal((await post(app, '/customize', { parent: proxy({ name: 'cache', spec: { serviceName: 'memcached-pool1' } }) })).statusCode, 200);
  t.equal((await post(app, '/customize', { parent: proxy({ name: 'cache', spec: {} }) })).statusCode, 200, 'a refused spec: nothing related');
  t.equal((await raw('/customize', '{"parent": []}')).statusCode, 400, 'not a hook request');
  await app.inject({ method: 'GET', url: '/healthz' });
  await app.inject({ method: 'GET', url: '/nowhere' });

  const { res, types, samples } = await scrape(app);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.equal(types.get('memcached_operator_hook_requests_total'), 'counter');
  t.equal(types.get('memcached_operator_hook_duration_seconds'), 'histogram');
  t.equal(types.get('memcached_operator_proxy_servers'), 'gauge');
  t.equal(types.get('memcached_operator_proxy_ready_servers'), 'gauge');

  const expected: [string, string, number][] = [
    ['sync', 'ok', 2],
    ['sync', 'invalid', 1],
    ['sync', 'bad_request', 3],
    ['customize', 'ok', 2],
    ['customize', 'bad_request', 1],
  ];
  for (const [hook, outcome, n] of expected) {
    const labels = { hook, outcome };
    t.equal(valueOf(samples, 'memcached_operator_hook_requests_total', labels), n, `${hook}/${outcome}: ${n} requests`);
    t.equal(valueOf(samples, 'memcached_operator_hook_duration_seconds_count', labels), n, `${hook}/${outcome}: ${n} durations`);
    t.equal(valueOf(samples, 'memcached_operator_hook_duration_seconds_bucket', { ...labels, le: '+Inf' }), n);
    const sum = valueOf(samples, 'memcached_operator_hook_duration_seconds_sum', labels)!;
    t.ok(sum > 0 && sum < 10, `${hook}/${outcome}: a plausible total time (${sum}s)`);
    const buckets = find(samples, 'memcached_operator_hook_duration_seconds_bucket', labels).map((s) => s.value);
    t.same(buckets, [...buckets].sort((a, b) => a - b), 'cumulative buckets');
  }
  const counted = find(samples, 'memcached_operator_hook_requests_total', {});
  t.same(counted.length, 10, 'every hook and outcome has a series: a rate of errors is 0 before the first one');
  for (const sample of counted) {
    const listed = expected.find(([hook, outcome]) => sample.labels['hook'] === hook && sample.labels['outcome'] === outcome);
    t.equal(sample.value, listed?.[2] ?? 0, `${sample.labels['hook']}/${sample.labels['outcome']}: no other request counted (no health check, no 404)`);
  }

  t.equal(valueOf(samples, 'memcached_operator_proxy_servers', { namespace: 'shop', name: 'cache' }), 3);
  t.equal(valueOf(samples, 'memcached_operator_proxy_ready_servers', { namespace: 'shop', name: 'cache' }), 2);
  await post(app, '/sync', request([0, 1, 2, 3]));
  const after = await scrape(app);
  t.equal(valueOf(after.samples, 'memcached_operator_proxy_servers', { namespace: 'shop', name: 'cache' }), 4, 'follows the last sync');
  t.equal(valueOf(after.samples, 'memcached_operator_proxy_ready_servers', { namespace: 'shop', name: 'cache' }), 4);
  t.equal(after.types.get('memcached_operator_proxy_last_sync_timestamp_seconds'), 'gauge');
  t.equal(
    valueOf(after.samples, 'memcached_operator_proxy_last_sync_timestamp_seconds', { namespace: 'shop', name: 'cache' }),
    FIXED_NOW.getTime() / 1000,
    'when this replica last synced the proxy: of several replicas, the one with the newest has the current counts',
  );
  t.notOk(find(after.samples, 'process_cpu_user_seconds_total', {}).length, 'no process metrics unless asked');
});

t.test('/metrics: memcached_operator_proxy_ready follows the Ready condition of each proxy\'s last sync', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  const parent = proxy({ name: 'cache', namespace, spec: { serviceName: 'memcached-pool1' } });
  const ready = async () => {
    const { types, samples } = await scrape(app);
    t.equal(types.get('memcached_operator_proxy_ready'), 'gauge');
    return valueOf(samples, 'memcached_operator_proxy_ready', { namespace, name: 'cache' });
  };
  const first = await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]) }));
  t.equal(await ready(), 0, 'no children yet: Progressing');
  const children = observedChildren(parent, first.body['children'] as Json[]);
  await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]), children }));
  t.equal(await ready(), 1, 'Available');
  await post(app, '/sync', syncRequest({ parent, related: [], children }));
  t.equal(await ready(), 0, 'its Service gone: ServiceNotFound');
});

t.test('/metrics: memcached_operator_proxy_spec_replicas tells a proxy parked on purpose from one that is not Ready', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  const gauges = async (name: string) => {
    const { types, samples } = await scrape(app);
    t.equal(types.get('memcached_operator_proxy_spec_replicas'), 'gauge');
    const labels = { namespace, name };
    return { ready: valueOf(samples, 'memcached_operator_proxy_ready', labels), replicas: valueOf(samples, 'memcached_operator_proxy_spec_replicas', labels) };
  };
  for (const [name, replicas, reason] of [['parked', 0, 'ScaledToZero'], ['three', 3, 'Available']] as const) {
    const parent = proxy({ name, namespace, spec: { serviceName: 'memcached-pool1', mcrouter: { replicas } } });
    const first = await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]) }));
    const children = observedChildren(parent, first.body['children'] as Json[]);
    const settled = await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]), children }));
    const conditions = (settled.body['status'] as { conditions: Json[] }).conditions;
    t.match(conditions.find((c) => c['type'] === 'Ready'), { reason }, name);
    t.same(await gauges(name), { ready: reason === 'Available' ? 1 : 0, replicas }, `${name}: Ready ${reason}, ${replicas} replicas asked for`);
  }
});

t.test('/metrics: a proxy synced while it is being deleted loses its gauges at once, but for its sync time, which stays for the TTL', async (t) => {
  const HOUR = 60 * 60 * 1000;
  let at = FIXED_NOW.getTime();
  const app = testServer({ clock: () => new Date(at), proxySeriesTtlMs: 2 * HOUR });
  t.teardown(() => app.close());
  const gaugesOf = async (name: string) =>
    (await scrape(app)).samples
      .filter((s) => s.name.startsWith('memcached_operator_proxy_') && s.labels['namespace'] === namespace && s.labels['name'] === name)
      .map((s) => `${s.name}=${s.value}`)
      .sort();
  const lastSync = () => `memcached_operator_proxy_last_sync_timestamp_seconds=${at / 1000}`;
  for (const name of ['cache', 'other']) {
    const parent = proxy({ name, namespace, spec: { serviceName: 'memcached-pool1' } });
    const first = await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]) }));
    const children = observedChildren(parent, first.body['children'] as Json[]);
    await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]), children }));
  }
  t.same(await gaugesOf('cache'), [
    lastSync(),
    'memcached_operator_proxy_ready=1',
    'memcached_operator_proxy_ready_servers=3',
    'memcached_operator_proxy_servers=3',
    'memcached_operator_proxy_spec_replicas=1',
  ]);
  // Foreground deletion (or any other finalizer): Metacontroller keeps calling the sync hook, and no sync comes after the last.
  at += 60_000;
  const deleting = (name: string, finalizer: string) => {
    const parent = proxy({ name, namespace, spec: { serviceName: 'memcached-pool1' } });
    Object.assign(parent['metadata'] as Json, { deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: [finalizer] });
    return parent;
  };
  const answer = await post(app, '/sync', syncRequest({ parent: deleting('cache', 'foregroundDeletion'), related: related([0, 1, 2]) }));
  t.equal(answer.statusCode, 200);
  const conditions = (answer.body['status'] as { conditions: Json[] }).conditions;
  t.match(conditions.find((c) => c['type'] === 'Ready'), { status: 'False', reason: 'Deleting' });
  // With two hook replicas, the other's older view (a proxy_ready of 0, say) would be the newest once this one's were gone.
  t.same(await gaugesOf('cache'), [lastSync()], 'no proxy_ready of 0 left to fire the not-Ready alert; the sync time, now, stays to hide older views');
  t.equal((await gaugesOf('other')).length, 5, 'another proxy keeps its own');
  at += 60_000;
  await post(app, '/sync', syncRequest({ parent: deleting('cache', 'foregroundDeletion'), related: related([0, 1, 2]) }));
  t.same(await gaugesOf('cache'), [lastSync()], 'nor does a later sync of the deleting proxy bring them back');
  // A finalize hook pointed at /sync: the same; and a replica that never synced the proxy records the sync time too.
  const finalizing = (name: string) => ({ ...syncRequest({ parent: deleting(name, 'metacontroller.k8s.io/memcached-operator'), related: related([0, 1, 2]) }), finalizing: true });
  await post(app, '/sync', finalizing('other'));
  t.same(await gaugesOf('other'), [lastSync()], 'finalizing');
  await post(app, '/sync', finalizing('never-synced-here'));
  t.same(await gaugesOf('never-synced-here'), [lastSync()], 'a deleting proxy this replica had not synced: only its sync time');
  // Recreated under the same name, a proxy has its gauges again.
  const parent = proxy({ name: 'other', namespace, spec: { serviceName: 'memcached-pool1' } });
  await post(app, '/sync', syncRequest({ parent, related: related([0, 1, 2]) }));
  t.equal((await gaugesOf('other')).length, 5, 'recreated: every gauge back');
  at += 2 * HOUR + 1;
  t.same(await gaugesOf('cache'), [], 'the TTL after its last sync, the sync time goes too');
});

t.test('/metrics: a proxy not synced for the TTL loses its gauges; past the cap, the one synced least recently gives way', async (t) => {
  const HOUR = 60 * 60 * 1000;
  let at = FIXED_NOW.getTime();
  const app = testServer({ clock: () => new Date(at), proxySeriesTtlMs: 2 * HOUR, maxProxySeries: 2 });
  t.teardown(() => app.close());
  const named = (name: string) => syncRequest({ parent: proxy({ name, namespace, spec: { serviceName: 'memcached-pool1' } }), related: related([0, 1]) });
  const proxies = async () => {
    const { samples } = await scrape(app);
    const names = (metric: string) => find(samples, metric, {}).map((s) => s.labels['name']).sort();
    const all = names('memcached_operator_proxy_servers');
    t.same(names('memcached_operator_proxy_ready_servers'), all, 'the ready gauges come and go with them');
    t.same(names('memcached_operator_proxy_ready'), all, 'and the Ready gauges');
    t.same(names('memcached_operator_proxy_spec_replicas'), all, 'and the replicas asked for');
    return all;
  };
  const evictions = async () => valueOf((await scrape(app)).samples, 'memcached_operator_proxy_series_evicted_total', {});

  t.equal(await evictions(), 0, 'evictions: 0 from the start');
  await post(app, '/sync', named('a'));
  await post(app, '/sync', named('b'));
  await post(app, '/sync', named('a'));
  await post(app, '/sync', named('c'));
  t.same(await proxies(), ['a', 'c'], 'full: b, synced least recently, gave way to c');
  t.equal(await evictions(), 1, 'and was counted');
  // Names posted once cannot keep a real proxy out: it comes back at its next sync.
  for (const junk of ['x1', 'x2', 'x3']) await post(app, '/sync', named(junk));
  t.same(await proxies(), ['x2', 'x3']);
  await post(app, '/sync', named('a'));
  t.same(await proxies(), ['a', 'x3'], 'a is back at its next sync');
  t.equal(await evictions(), 5);

  at += HOUR;
  await post(app, '/sync', named('a'));
  const lastSyncs = async () =>
    Object.fromEntries(find((await scrape(app)).samples, 'memcached_operator_proxy_last_sync_timestamp_seconds', {}).map((s) => [s.labels['name'], s.value]));
  t.same(await lastSyncs(), { a: at / 1000, x3: (at - HOUR) / 1000 }, 'each proxy\'s own last sync');
  at += HOUR;
  t.same(await proxies(), ['a', 'x3'], 'x3, synced exactly the TTL ago, stays');
  at += 1;
  t.same(await proxies(), ['a'], 'x3, unsynced for longer than the TTL (deleted, say), is gone at the next scrape');
  t.same(Object.keys(await lastSyncs()), ['a'], 'its sync time too');
  await post(app, '/sync', named('c'));
  t.same(await proxies(), ['a', 'c']);
  t.equal(valueOf((await scrape(app)).samples, 'memcached_operator_proxy_ready_servers', { name: 'c' }), 2);
  t.equal(await evictions(), 5, 'expiry is no eviction');
  // Full, both past the TTL with no scrape since: they expire to make room, and nothing is evicted.
  at += 3 * HOUR;
  await post(app, '/sync', named('d'));
  t.same(await proxies(), ['d']);
  t.equal(await evictions(), 5, 'expired, not evicted');
});

t.test('many headers: a hook request of more than 1,000, whose Content-Type Node drops with the rest (Node 20) or refuses it for (22 and later), is 431', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const answer = async (bytes: string) => (await exchange(`http://127.0.0.1:${port}`, bytes)).answer;
  // Past 1,000 headers Node 20 drops the rest unread, Content-Type and Content-Length among them: not a request
  // without a body, as it would otherwise be answered, but the 431 of too many headers. Node 22 and later refuse
  // such a request as a header overflow, before any route runs: the image runs Node 24.
  const headers = (count: number) => Array.from({ length: count }, (_, i) => `x-${i}:\r\n`).join('');
  const request = (count: number) => `POST /sync HTTP/1.1\r\nhost: x\r\n${headers(count)}content-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`;
  // 1,000 in all, and 1,003 with Content-Type the 1,001st: 7 KiB, under the 16 KiB of Node's size limit.
  t.match(await answer(request(996)), /^HTTP\/1\.1 400 /, '1,000 headers: read whole, and the body is refused as JSON that is no hook request');
  const many = await answer(request(999));
  t.match(many, /^HTTP\/1\.1 431 /, '1,003 headers');
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  t.same(
    messageOf(many),
    nodeMajor >= 22
      ? { message: "the request headers are over Node's limits: 16 KiB (unless --max-http-header-size raises it), and from Node 22 also 1000 headers" }
      : { message: 'more than 1000 request headers: Node reads no more, Content-Type and Content-Length among them' },
  );
});

t.test('a CONNECT, which Node closes unanswered unless someone listens: 404 JSON, counted as a request for no hook', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const { answer } = await exchange(`http://127.0.0.1:${port}`, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
  t.same(messageOf(answer), { message: 'CONNECT example.com:443 not found: the hooks are POST /sync and POST /customize' });
  t.equal(valueOf((await scrape(app)).samples, 'memcached_operator_not_found_total', {}), 1);
  // The hook closes the connection: a client that keeps its own side open (or sends on) cannot hold close().
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const closed = new Promise<string>((resolve) => {
    let read = '';
    client.on('data', (chunk: Buffer) => (read += chunk.toString()));
    // The hook's end of the connection: its FIN ('end', which this half-open client does not answer), or a reset.
    client.on('end', () => resolve(read));
    client.on('error', () => resolve(read));
  });
  // 4 MB behind the request, more than the socket buffers hold, and the answer read only a moment later: closing
  // on unread bytes would reset the connection, and the answer with it.
  client.pause();
  client.write(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n${'x'.repeat(4_000_000)}`);
  setTimeout(() => client.resume(), 200);
  t.match(await closed, /^HTTP\/1\.1 404 Not Found\r\n/, 'answered, then closed by the hook');
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'and the server answers the next connection');
  const shutdown = await Promise.race([app.close().then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open after 3 s'), 3000))]);
  client.destroy();
  t.equal(shutdown, 'closed', 'close() is not held by the CONNECT connection');
});

t.test('/metrics: connections closed before any hook saw a request, by reason', async (t) => {
  // The headers' time follows the request's (1 s): Node cuts a trickled body, and a connection that sends nothing.
  const app = testServer({ requestTimeoutMs: 1000 });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const answer = async (bytes?: string, end = false) => (await exchange(base, bytes, end)).answer;
  // Each a JSON {message} saying what to change, as every other error is.
  const reasons = ['timeout', 'header_overflow', 'malformed'];
  const zero = await scrape(app);
  for (const reason of reasons) t.equal(valueOf(zero.samples, 'memcached_operator_client_errors_total', { reason }), 0, `${reason}: 0 from the start`);
  const notHttp = await answer('HELLO\r\n\r\n');
  t.match(notHttp, /^HTTP\/1\.1 400 /, 'not HTTP: 400');
  t.match(messageOf(notHttp), { message: /^not an HTTP\/1\.1 request Node can parse \(HPE_[A-Z_]+\)$/ });
  const big = await answer(`GET /healthz HTTP/1.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.match(big, /^HTTP\/1\.1 431 /, 'headers too large: 431');
  t.same(messageOf(big), { message: "the request headers are over Node's limits: 16 KiB (unless --max-http-header-size raises it), and from Node 22 also 1000 headers" });
  const stalled = await answer('POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"par');
  t.match(stalled, /^HTTP\/1\.1 408 /, 'a stalled body: 408');
  t.same(messageOf(stalled), { message: 'the request did not arrive within REQUEST_TIMEOUT_MS (1000 ms)' });
  t.match(await answer(), /^HTTP\/1\.1 408 /, 'a connection that sends nothing: 408');
  // A client that goes away in the middle of its headers is not a malformed request: not counted below.
  await answer('POST /sync HTTP/1.1\r\nhost: x\r\n', true);
  const { types, samples } = await scrape(app);
  t.equal(types.get('memcached_operator_client_errors_total'), 'counter');
  const expected: Record<string, number> = { timeout: 2, header_overflow: 1, malformed: 1 };
  for (const reason of reasons) {
    t.equal(valueOf(samples, 'memcached_operator_client_errors_total', { reason }), expected[reason], `${reason}: ${expected[reason]}`);
  }
  t.equal(valueOf(samples, 'memcached_operator_hook_requests_total', { hook: 'sync', outcome: 'bad_request' }), 0, 'none of them reached a hook');
  for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'HPE_INVALID_EOF_STATE', undefined]) {
    t.equal(clientErrorAnswer({ code, message: 'socket hang up' }, 1000).reason, undefined, `${code}: the client went away, not counted`);
  }
  // The 408 names the limit that cut: Node's 60 s for the headers, REQUEST_TIMEOUT_MS for the whole request.
  const timedOut = (requestTimeout: number) => clientErrorAnswer({ code: 'ERR_HTTP_REQUEST_TIMEOUT', message: 'timeout' }, requestTimeout).message;
  t.equal(timedOut(0), 'the request headers did not arrive within 60000 ms', 'REQUEST_TIMEOUT_MS=0: only the headers have a limit');
  t.equal(timedOut(60_000), 'the request did not arrive within REQUEST_TIMEOUT_MS (60000 ms)', 'at 60 s both limits are one');
  t.match(timedOut(90_000), /headers did not arrive within 60000 ms, or the whole request within REQUEST_TIMEOUT_MS \(90000 ms\)$/);
});

t.test('bodies in flight: past IN_FLIGHT_BODY_LIMIT a body is refused unread, or cut as it arrives (429, to ask again after Retry-After), and counted; the bytes come back', async (t) => {
  const app = testServer({ bodyLimit: 10_000, inFlightBodyLimit: 20_000 });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  // Two clients each send 9,000 bytes of a body of 10,000, and hold the rest: 18,000 bytes held.
  const rest: ((text: string) => void)[] = [];
  const held = [0, 1].map(() => exchange(base, head(10_000) + body(10_000).slice(0, 9000), false, new Promise<string>((resolve) => rest.push(resolve))));
  await settle();
  const refused = await exchange(base, head(4000) + body(4000));
  t.equal(statusOf(refused.answer), 429, 'a body announced at 4,000 bytes does not fit: refused unread');
  t.match(refused.answer, /\r\nretry-after: 1\r\n/i, 'Retry-After');
  t.match(refused.answer, /\r\nconnection: close\r\n/i, 'and the connection is closed: its body is never read');
  t.same(messageOf(refused.answer), { message: 'request bodies being read and answers being sent hold 18000 of IN_FLIGHT_BODY_LIMIT (20000 bytes): this one does not fit now; retry' });
  // A chunked body announces nothing: it is cut once its bytes pass the limit.
  const chunk = body(3000);
  const chunked = await exchange(base, `POST /customize HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
  t.equal(statusOf(chunked.answer), 429, 'a chunked body that passes the limit as it arrives: cut');
  t.match(chunked.answer, /\r\nretry-after: 1\r\n/i, 'with Retry-After too: Metacontroller reads it on a 429 only');
  t.match(messageOf(chunked.answer).message, /^request bodies being read and answers being sent hold \d+ of IN_FLIGHT_BODY_LIMIT \(20000 bytes\)/);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'requests without a body are never refused: the probes pass');
  t.equal(statusOf((await exchange(base, 'GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).answer), 200);
  // Headers alone hold nothing: clients announcing bodies of the largest size (refused, as they do not fit) take no room.
  const announcing = Array.from({ length: 10 }, () => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head(10_000)));
    socket.on('error', () => {});
    t.teardown(() => socket.destroy());
    return socket;
  });
  await settle();
  t.equal(statusOf((await exchange(base, head(2000) + body(2000))).answer), 400, 'beside them, a body that fits in what is left is read (no hook request: 400)');
  for (const socket of announcing) socket.destroy();
  // One held body arrives whole and is answered: its bytes are free again.
  rest[0]!(body(10_000).slice(9000));
  t.equal(statusOf((await held[0]!).answer), 400, 'the held body, once whole, is read and answered');
  // A client that goes away in the middle of its body gives its bytes back too.
  await new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(head(10_000) + body(10_000).slice(0, 9000));
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
  });
  // And so do pipelined requests whose connection is gone before their turn.
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n${body(100)}`.repeat(9));
        socket.destroy();
        resolve();
      });
    });
  }
  await settle();
  const after = await exchange(base, head(10_000) + body(10_000));
  t.equal(statusOf(after.answer), 400, 'every byte came back: beside the 9,000 still held, a body of the largest size is read');
  rest[1]!(body(10_000).slice(9000));
  t.equal(statusOf((await held[1]!).answer), 400);
  const { samples } = await scrape(app);
  t.equal(valueOf(samples, 'memcached_operator_body_budget_total', { action: 'refused' }), 11, 'the refusals, counted: the 4,000 bytes, and the ten announced bodies, which did not fit either');
  t.equal(valueOf(samples, 'memcached_operator_body_budget_total', { action: 'cut' }), 1, 'and the cut');
  t.equal(valueOf(samples, 'memcached_operator_hook_requests_total', { hook: 'sync', outcome: 'busy' }), 11, 'among the hook\'s answers, as busy: no bug');
  t.equal(valueOf(samples, 'memcached_operator_hook_requests_total', { hook: 'sync', outcome: 'error' }), 0);
});

t.test('answers in flight: one the client does not take counts in IN_FLIGHT_BODY_LIMIT, and its connection is cut once it has waited the request timeout', async (t) => {
  // The Deployment carries the spec's affinity: an answer as large as its body. A client that never reads it
  // would otherwise hold it in the server's memory for as long as it keeps the connection.
  const mb = 1024 * 1024;
  const app = testServer({ bodyLimit: 48 * mb, inFlightBodyLimit: 64 * mb, requestTimeoutMs: 1500 });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const request = JSON.stringify(
    syncRequest({
      parent: proxy({ name: 'big', spec: { serviceName: 'mc', mcrouter: { affinity: { nodeAffinity: { note: 'y'.repeat(40 * mb) } } } } }),
      related: [service({ name: 'mc', headless: true }), ...endpointSlices('mc', statefulSetPods('mc', [0, 1]))],
    }),
  );
  const reader = net.connect(port, '127.0.0.1');
  reader.on('error', () => {});
  t.teardown(() => reader.destroy());
  // A first look at the answer, then nothing more.
  const began = new Promise<number>((resolve) =>
    reader.once('data', (chunk: Buffer) => {
      reader.pause();
      resolve(chunk.length);
    }),
  );
  reader.write(`POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(request)}\r\n\r\n${request}`);
  t.ok((await began) > 0, 'the answer began');
  const startedAt = performance.now();
  // 40 MiB of it wait: a body announced at 30 MiB does not fit beside them. Asked first, it gets the 429 instead
  // of the go-ahead, and nothing is sent.
  const ask = () =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(`POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${30 * mb}\r\nexpect: 100-continue\r\n\r\n`),
      );
      socket.once('data', (chunk: Buffer) => {
        socket.destroy();
        resolve(chunk.toString());
      });
      socket.on('error', reject);
    });
  t.match(await ask(), /^HTTP\/1\.1 429 /, 'the waiting answer holds its bytes');
  // The kernel takes none of it for the request timeout: the connection is cut, and the bytes come back.
  let again = await ask();
  while (!again.startsWith('HTTP/1.1 100') && performance.now() - startedAt < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    again = await ask();
  }
  const after = performance.now() - startedAt;
  t.match(again, /^HTTP\/1\.1 100 Continue\r\n/, 'its bytes came back: the go-ahead');
  t.ok(after >= 1000 && after < 5000, `once it had waited a period of the request timeout without progress (${Math.round(after)} ms)`);
});

t.test('bodies in flight: headers alone hold no room', async (t) => {
  const app = testServer({ bodyLimit: 10_000, inFlightBodyLimit: 20_000 });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  // Ten clients announce bodies of the largest size and send none of it.
  for (let i = 0; i < 10; i++) {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head(10_000)));
    socket.on('error', () => {});
    t.teardown(() => socket.destroy());
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const whole = await exchange(`http://127.0.0.1:${port}`, head(10_000) + body(10_000));
  t.match(whole.answer, /^HTTP\/1\.1 400 /, 'a body of the largest size is read and answered (no hook request: 400)');
});

t.test('bodies in flight: a body over BODY_LIMIT gets 413, never a 429 to ask again; a cut never stops the process', async (t) => {
  const app = testServer({ bodyLimit: 1000, inFlightBodyLimit: 1000 });
  t.teardown(() => app.close());
  const post = (payload: string | Readable, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json', ...headers }, payload });
  t.equal((await post('x'.repeat(1001))).statusCode, 413, 'announced over BODY_LIMIT: 413, whatever the budget holds');
  t.equal((await post(Readable.from(['x'.repeat(600), 'x'.repeat(600)]), { 'transfer-encoding': 'chunked' })).statusCode, 413, 'chunked over BODY_LIMIT: 413');
  const app2 = testServer({ bodyLimit: 1000, inFlightBodyLimit: 1500 });
  t.teardown(() => app2.close());
  // Two chunked bodies at once, each within BODY_LIMIT, together past the budget: one is cut, the process lives.
  const chunked = () => app2.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, payload: Readable.from(['x'.repeat(400), 'x'.repeat(400)]) }).catch((error: Error) => error);
  await Promise.all([chunked(), chunked()]);
  t.equal((await app2.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still serving');

  // Over real sockets: with 1,000 bytes held by a body still coming, a chunk that takes another body past
  // BODY_LIMIT (and the whole past the budget) is the 413 it would be alone, not a 429.
  const app3 = testServer({ bodyLimit: 1000, inFlightBodyLimit: 1500 });
  t.teardown(() => app3.close());
  const base = await app3.listen({ port: 0, host: '127.0.0.1' });
  const { port } = new URL(base);
  const chunkedHead = 'POST /sync HTTP/1.1\r\nHost: hook\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  const holding = net.connect(Number(port), '127.0.0.1', () => holding.write(`${chunkedHead}3e8\r\n${'x'.repeat(1000)}\r\n`));
  holding.on('error', () => {});
  t.teardown(() => holding.destroy());
  await new Promise((resolve) => setTimeout(resolve, 100));
  const over = await exchange(base, `${chunkedHead}4b0\r\n${'x'.repeat(1200)}\r\n0\r\n\r\n`);
  t.match(over.answer, /^HTTP\/1\.1 413 /, 'past BODY_LIMIT with the budget full: 413');
});

t.test('bodies in flight: every way a request ends gives its bytes back', async (t) => {
  const app = testServer({ bodyLimit: 1000, inFlightBodyLimit: 1000 });
  t.teardown(() => app.close());
  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });
  const full = async () => (await post('/sync', 'x'.repeat(1000))).statusCode;
  const endings: [string, () => Promise<unknown>][] = [
    ['bad JSON', () => post('/sync', '{"parent":')],
    ['not a hook request', () => post('/sync', '{}')],
    ['a spec refused', () => post('/sync', JSON.stringify({ parent: { apiVersion: 'ianlewis.org/v1alpha1', kind: 'MemcachedProxy', metadata: { name: 'x', namespace: 'default' }, spec: {} } }))],
    ['another media type (415, unread)', () => post('/sync', 'a,b', { 'content-type': 'text/csv' })],
    ['a compressed body (415)', () => post('/sync', '{}', { 'content-encoding': 'gzip' })],
    ['no such path (404)', () => post('/nope', '{}')],
    ['too large (413)', () => post('/sync', 'x'.repeat(1001))],
  ];
  for (const [what, end] of endings) {
    await end();
    t.equal(await full(), 400, `after ${what}: a body of the whole budget is read`);
  }
});

t.test('/metrics: process metrics when enabled (as main.ts does)', async (t) => {
  const app = testServer({ processMetrics: true });
  t.teardown(() => app.close());
  const { types, samples } = await scrape(app);
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes']) {
    t.ok(types.has(name), `${name} is exposed`);
  }
  t.ok(valueOf(samples, 'process_resident_memory_bytes', {})! > 0);
  t.ok(types.has('nodejs_eventloop_lag_seconds'), 'event loop lag: a sync that blocks it shows');
});

/** A log line's proxy and field, each compared whole: t.match took a name the cut marked ('…' after the U+FFFD), or 'shop/cache'. */
const namedIn = (line: Json | undefined) => [line?.['namespace'], line?.['name'], line?.['field']];

t.test('logs: one JSON line per sync, none for health checks and metrics', async (t) => {
  const { app, lines } = loggedServer();
  t.teardown(() => app.close());
  const res = await post(app, '/sync', request([0, 1, 2], [2]));
  t.equal(lines.length, 1, 'one line for the sync');
  const line = lines[0]!;
  // The whole line but for what varies: t.match took a name that only contained the proxy's ('shop/cache').
  const { time: _time, pid: _pid, hostname: _hostname, reqId: _reqId, durationMs: _durationMs, ...fields } = line;
  t.same(fields, {
    level: 30,
    msg: 'sync',
    namespace: 'shop',
    name: 'cache',
    servers: 3,
    readyServers: 2,
    configHash: (res.body['status'] as Json)['configHash'],
    ready: 'Progressing',
  });
  t.ok((line['durationMs'] as number) >= 0 && (line['durationMs'] as number) < 10_000);
  t.type(line['time'], 'number', 'pino JSON');
  t.notOk('finalized' in line, 'a live proxy\'s line does not say finalized');

  for (const url of ['/healthz', '/readyz', '/metrics']) await app.inject({ method: 'GET', url });
  await post(app, '/customize', { parent: proxy({ name: 'cache', spec: { serviceName: 'memcached-pool1' } }) });
  t.equal(lines.length, 1, 'health checks, metrics scrapes and customize log nothing at info');

  await post(app, '/sync', request([0], [], { rules: { type: 'mirrored', service: { name: 'a' } } }));
  t.equal(lines.length, 2);
  t.match(lines[1], { level: 40, statusCode: 422, msg: /^spec\.rules\.type: must be one of/ }, 'a refused spec: one warning');
  t.same(namedIn(lines[1]), ['shop', 'cache', 'spec.rules.type'], 'naming the proxy and the field, exactly');
  const invalid = request([0], []);
  ((invalid['parent'] as Json)['spec'] as Json)['mcrouter'] = { replicas: -1 };
  await post(app, '/sync', invalid);
  t.match(lines[2], { level: 40, statusCode: 422 }, 'a body the schema refuses, whose parent has a name');
  t.same(namedIn(lines[2]), ['shop', 'cache', 'spec.mcrouter.replicas'], 'named too, exactly');
  lines.splice(2, 1);

  // A finalize hook pointed at /sync, with a spec the rules take and with one they refuse: the proxy's last line says so.
  for (const spec of [{ serviceName: 'memcached-pool1' }, { rules: { type: 'mirrored', service: { name: 'a' } } }]) {
    const last: Json = { ...request([0], [], spec), finalizing: true };
    Object.assign((last['parent'] as Json)['metadata'] as Json, { deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: ['metacontroller.k8s.io/memcached-operator'] });
    t.equal((await post(app, '/sync', last)).statusCode, 200);
    const [finalized] = lines.splice(2, 1);
    t.match(finalized, { level: 30, msg: 'sync', finalized: true });
    t.same(namedIn(finalized).slice(0, 2), ['shop', 'cache'], 'the proxy named exactly');
  }

  // Refused before the route ran: one warning each too, with the field when one is to blame.
  const refusals: [string, string, Json][] = [
    ['application/json', '{"parent": {"spec": {"__proto__": {}}}}', { field: 'spec.__proto__', statusCode: 400, msg: /__proto__/ }],
    ['application/json', `{"parent": ${'['.repeat(200)}${']'.repeat(200)}}`, { field: String, statusCode: 400, msg: /nested more than/ }],
    ['application/json', '{"parent": ', { statusCode: 400, msg: /JSON/ }],
    ['text/plain', 'hello', { statusCode: 415 }],
  ];
  for (const [type, payload, expected] of refusals) {
    const before = lines.length;
    const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': type }, payload });
    t.equal(res.statusCode, expected['statusCode']);
    t.equal(lines.length, before + 1, `${type} ${payload.slice(0, 20)}: one line`);
    t.match(lines.at(-1), { level: 40, ...expected });
  }
  // A parsed body refused for a prototype key or its depth names its proxy too.
  const named = request([0], []);
  Object.defineProperty(((named['parent'] as Json)['spec'] as Json), '__proto__', { value: {}, enumerable: true });
  await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(named) });
  t.match(lines.at(-1), { level: 40, statusCode: 400 });
  t.same(namedIn(lines.at(-1)), ['shop', 'cache', 'spec.__proto__'], 'named exactly');
  // A lone surrogate in a refused parent's namespace, and one left by cutting a name: U+FFFD on every Node (pino
  // writes them raw before Node 25, as escapes from 25 on).
  const surrogates = request([0], []);
  Object.assign((surrogates['parent'] as Json)['metadata'] as Json, { namespace: 'ns\ud800', name: `${'a'.repeat(252)}\u{1f600}` });
  await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(surrogates) });
  t.match(lines.at(-1), { level: 40, statusCode: 400 });
  t.same(namedIn(lines.at(-1)).slice(0, 2), ['ns\ufffd', `${'a'.repeat(252)}\ufffd`], 'lone surrogates logged as U+FFFD');
  const before = lines.length;
  const badUrl = await app.inject({ method: 'POST', url: '/sync%zz', headers: { 'content-type': 'application/json' }, payload: '{}' });
  t.equal(badUrl.statusCode, 400);
  t.same(badUrl.json(), { message: "'/sync%zz' is not a valid url component" }, 'a path that cannot be decoded: JSON {message}');
  t.equal(lines.length, before + 1);
  t.match(lines.at(-1), { level: 40, statusCode: 400 });
  // A hook path with a typo (a CompositeController's `path`) shows here only: one warning, the path cut short.
  // Whatever the body: one that is no JSON, or coded, is still a request for a path that is none of the hook's.
  const cases = [['POST', '/sync/', '{}'], ['POST', '/SYNC', '{'], ['GET', '/sync', undefined], ['POST', `/${'x'.repeat(5000)}`, '{}'], ['POST', '/customise', '{}', 'gzip, chunked']] as const;
  for (const [method, url, payload, coding] of cases) {
    const count = lines.length;
    const headers = { 'content-type': 'application/json', ...(coding ? { 'transfer-encoding': coding } : {}) };
    const res = await app.inject({ method, url, headers, payload });
    t.equal(res.statusCode, 404);
    t.equal(lines.length, count + 1, `${method} ${url.slice(0, 10)}: one line`);
    t.match(lines.at(-1), { level: 40, statusCode: 404, msg: /not found: the hooks are POST \/sync and POST \/customize$/ });
    t.ok((res.json() as { message: string }).message.length < 400, 'the path cut short');
  }
  const { samples, types } = await scrape(app);
  t.equal(types.get('memcached_operator_not_found_total'), 'counter');
  t.equal(valueOf(samples, 'memcached_operator_not_found_total', {}), cases.length, 'and counted, for an alert to see');
});

t.test('logs: a client that goes away, or is cut at the request timeout, is no refusal: no warning', async (t) => {
  const { app, lines } = loggedServer('info', { requestTimeoutMs: 1000 });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const partial = 'POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"par';
  await exchange(base, partial, true);
  t.match((await exchange(base, partial)).answer, /^HTTP\/1\.1 408 /, 'cut at the request timeout');
  // The body's end arrives after the connection is gone: give its events time, on a loaded machine too.
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(lines.filter((l) => (l['level'] as number) >= 40), [], 'no warning for either');
  const { samples } = await scrape(app);
  t.equal(valueOf(samples, 'memcached_operator_hook_requests_total', { hook: 'sync', outcome: 'bad_request' }), 0, 'nor a bad request');
  t.equal(valueOf(samples, 'memcached_operator_client_errors_total', { reason: 'timeout' }), 1, 'the cut one is a timeout');
});

t.test('answering(): requests being answered, for the shutdown deadline; pipelined ones cut off before their turn are not', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const { connect } = await import('node:net');
  const body = JSON.stringify(syncRequest({ parent: proxy({ name: 'cache', spec: { serviceName: 'memcached-pool1' } }), related: [service({ name: 'memcached-pool1' })] }));
  const one = `POST /sync HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  t.equal(app.answering(), 0, 'none before any request');
  // One request read (its headers) and not answered yet: counted until its answer is sent.
  const inFlight = connect(port, '127.0.0.1');
  await new Promise((resolve) => inFlight.once('connect', resolve));
  const answered = new Promise<string>((resolve) => {
    let read = '';
    inFlight.on('data', (chunk: Buffer) => (read += chunk.toString()));
    inFlight.on('close', () => resolve(read));
  });
  const half = one.length - (body.length >> 1);
  const requested = new Promise((resolve) => app.server.once('request', resolve));
  inFlight.write(one.slice(0, half));
  await requested;
  t.equal(app.answering(), 1, 'a request whose body is still arriving is being answered');
  inFlight.end(one.slice(half));
  t.match(await answered, /^HTTP\/1\.1 200 OK\r\n/, 'and answered');
  t.equal(app.answering(), 0, 'answered: no longer counted');
  // Ten syncs in one write, the connection gone at once: Node has read them all, and answers one at a time.
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => {});
  socket.write(one.repeat(10));
  await new Promise((resolve) => setImmediate(resolve));
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(app.answering(), 0, 'none left counted');
});

t.test('drain: readiness fails at once, hooks keep answering and close their connections', async (t) => {
  const { app, lines } = loggedServer();
  t.teardown(() => app.close());
  const before = await app.inject({ method: 'POST', url: '/sync', payload: request([0, 1]) });
  t.equal(before.statusCode, 200);
  t.not(before.headers['connection'], 'close', 'keep-alive while serving');
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

  app.drain();
  const readyz = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(readyz.statusCode, 503);
  t.same(JSON.parse(readyz.body), { status: 'draining' });
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive: no restart while draining');
  const during = await app.inject({ method: 'POST', url: '/sync', payload: request([0, 1]) });
  t.equal(during.statusCode, 200, 'syncs still answered');
  t.equal(during.body, before.body);
  t.equal(during.headers['connection'], 'close', 'the client reconnects elsewhere for its next call');
  t.equal(lines.filter((l) => l['msg'] === 'sync').length, 2);
});

t.test("docs/operating.md's table of metrics names every metric of the hook's own, and no other", async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  const scraped = await app.inject({ method: 'GET', url: '/metrics' });
  const exported = [...scraped.body.matchAll(/^# TYPE (memcached_operator_\w+) /gm)].map((m) => m[1]!);
  const documented = tableRows(page('docs/operating.md'), '| metric | labels | what |')
    .flatMap(([names]) => codeSpans(names!))
    .filter((name) => name.startsWith('memcached_operator_'));
  t.ok(exported.length >= 10, `${exported.length} metrics exported`);
  t.same([...documented].sort(), [...exported].sort());
});

t.test("the hook's own metrics pass Prometheus' linter (promtool check metrics): names, suffixes, units, HELP", async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  t.equal((await post(app, '/sync', request([0, 1, 2], [1]))).statusCode, 200);
  t.equal((await post(app, '/sync', request([0], [], { serviceName: 'a', rules: { service: { name: 'a' } } }))).statusCode, 422);
  await app.inject({ method: 'GET', url: '/nowhere' });
  const { res, types } = await scrape(app);
  // Only the families this project names: prom-client's default process metrics are prom-client's (three of its
  // nodejs_* gauges end in _total, which the linter flags).
  const own = res.body
    .split('\n')
    .filter((line) => /^(# (HELP|TYPE) )?memcached_operator_/.test(line))
    .join('\n');
  t.equal(own.match(/^# TYPE /gm)?.length, [...types.keys()].filter((name) => name.startsWith('memcached_operator_')).length);
  let problems: string;
  try {
    problems = run('promtool', ['check', 'metrics'], `${own}\n`);
  } catch (error) {
    const { status, stdout, stderr } = error as { status?: number; stdout?: string; stderr?: string };
    problems = `exit ${status}: ${stdout ?? ''}${stderr ?? ''}`;
  }
  t.equal(problems, '', 'promtool finds nothing to say');
});

t.test("docs/operating.md's alert fires for a proxy not Ready for 10 minutes, and for none other (promtool test rules)", async (t) => {
  const rule = codeBlocks(page('docs/operating.md'), 'yaml')
    .map((block) => parseYaml(block) as unknown)
    .find((doc): doc is [{ alert: string; expr: string; annotations: { summary: string } }] => Array.isArray(doc) && doc[0]?.alert === 'MemcachedProxyNotReady');
  if (!rule) return t.fail('no MemcachedProxyNotReady alert in docs/operating.md');
  const MINUTES = 60;
  const EVAL_MINUTES = [12, 20, 30, 45];
  /**
   * A gauge of one hook replica (`instance`) for one proxy, each minute: a value, absent (undefined), or `stale`:
   * the scrape target gone (a hook pod replaced), which Prometheus marks stale a scrape or two later rather than
   * leaving the last sample for its 5-minute lookback.
   */
  type Gauges = Record<'ready' | 'replicas' | 'lastSync', (minute: number) => number | 'stale' | undefined>;
  const series = (instance: string, name: string, gauges: Gauges) =>
    Object.entries({
      memcached_operator_proxy_ready: gauges.ready,
      memcached_operator_proxy_spec_replicas: gauges.replicas,
      memcached_operator_proxy_last_sync_timestamp_seconds: gauges.lastSync,
    }).map(([metric, value]) => ({
      series: `${metric}{instance="${instance}",namespace="shop",name="${name}"}`,
      values: Array.from({ length: MINUTES + 1 }, (_, m) => value(m) ?? '_').join(' '),
    }));
  /** A replica that syncs the proxy every `every` minutes from `first` to `last`: its last sync time, in seconds. */
  const syncs = (first: number, every: number, last = MINUTES) => (m: number) =>
    m < first ? undefined : (first + Math.floor((Math.min(m, last) - first) / every) * every) * 60;
  const always = (value: number) => () => value;
  /** A gauge of a replica that is gone after minute `last`. */
  const until = (last: number, gauge: (m: number) => number | undefined) => (m: number) => (m <= last ? gauge(m) : m === last + 1 ? 'stale' : undefined);
  /** The resync period of the shipped CompositeController, in minutes: every proxy is synced at least this often. */
  const RESYNC = (parseYaml(page('metacontroller/compositecontroller.yaml')) as { spec: { resyncPeriodSeconds: number } }).spec.resyncPeriodSeconds / 60;
  t.equal(RESYNC, 5, 'the cases below are timed for a resync every 5 minutes');
  t.equal(Number(/time\(\) - (\d+)\)/.exec(rule[0].expr)?.[1]), 2 * RESYNC * 60, 'the alert allows twice the resync period without a sync');
  const proxies: { name: string; why: string; replicas: Record<string, Gauges>; firesAt: number[] }[] = [
    {
      name: 'alternating',
      why: 'not Ready, synced by two hook replicas in turn: the newest view changes replica every 3 minutes',
      replicas: { a: { ready: always(0), replicas: always(1), lastSync: syncs(0, 6) }, b: { ready: always(0), replicas: always(1), lastSync: syncs(3, 6) } },
      firesAt: [12, 20, 30, 45],
    },
    {
      name: 'waits-on-nothing',
      why: 'not Ready for a reason no change in the cluster ends (InvalidSpec): synced only by the resync period',
      replicas: { a: { ready: always(0), replicas: always(1), lastSync: syncs(0, RESYNC) } },
      firesAt: [12, 20, 30, 45],
    },
    {
      name: 'late-in-the-pass',
      why: 'not Ready among many proxies: each period Metacontroller queues them all, and this one is synced first in one pass and 3 minutes into the next, each sync scraped a minute later',
      replicas: {
        a: {
          ready: always(0),
          replicas: always(1),
          lastSync: (m) => {
            // Synced at 0, 8, 10, 18, 20, ...: at the start of even periods, 3 minutes into odd ones; seen a minute on.
            const synced = (s: number) => s % (2 * RESYNC) === 0 || s % (2 * RESYNC) === RESYNC + 3;
            for (let s = m - 1; s >= 0; s--) if (synced(s)) return s * 60;
            return undefined;
          },
        },
      },
      firesAt: [12, 20, 30, 45],
    },
    {
      name: 'hook-restart',
      why: 'not Ready, its hook replica replaced at minute 20: the new one has no gauges until the resync at 25, and the alert starts over',
      replicas: {
        a: { ready: until(20, always(0)), replicas: until(20, always(1)), lastSync: until(20, syncs(0, RESYNC)) },
        c: { ready: (m) => (m >= 25 ? 0 : undefined), replicas: (m) => (m >= 25 ? 1 : undefined), lastSync: (m) => (m >= 25 ? syncs(25, RESYNC)(m) : undefined) },
      },
      firesAt: [12, 20, 45],
    },
    {
      name: 'ready-now',
      why: 'the older replica saw it not Ready, the newest sees it Ready',
      replicas: { a: { ready: always(0), replicas: always(1), lastSync: always(0) }, b: { ready: always(1), replicas: always(1), lastSync: syncs(1, 3) } },
      firesAt: [],
    },
    {
      name: 'parked',
      why: 'spec.mcrouter.replicas 0, on purpose',
      replicas: { a: { ready: always(0), replicas: always(0), lastSync: syncs(0, 3) } },
      firesAt: [],
    },
    {
      name: 'deleted-outright',
      why: 'not Ready when deleted at minute 0, its gauges staying for the TTL: no replica syncs it again, and twice the resync period is up before the 10 minutes',
      replicas: { a: { ready: always(0), replicas: always(1), lastSync: always(0) } },
      firesAt: [],
    },
    {
      name: 'deleted-on-b',
      why: 'deleted at minute 12 through replica b, whose sync time stays: replica a\'s older Not Ready is not the newest',
      replicas: {
        a: { ready: always(0), replicas: always(1), lastSync: always(0) },
        b: { ready: (m) => (m < 12 ? 1 : undefined), replicas: (m) => (m < 12 ? 1 : undefined), lastSync: syncs(3, 3, 12) },
      },
      firesAt: [],
    },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'alert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'rules.yaml'), stringifyYaml({ groups: [{ name: 'memcached-operator', rules: rule }] }));
  const summary = (name: string) => rule[0].annotations.summary.replace('{{ $labels.namespace }}', 'shop').replace('{{ $labels.name }}', name);
  writeFileSync(
    join(dir, 'tests.yaml'),
    stringifyYaml({
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: proxies.map(({ name, replicas, firesAt }) => ({
        interval: '1m',
        input_series: Object.entries(replicas).flatMap(([instance, gauges]) => series(instance, name, gauges)),
        alert_rule_test: EVAL_MINUTES.map((minute) => ({
          eval_time: `${minute}m`,
          alertname: 'MemcachedProxyNotReady',
          exp_alerts: firesAt.includes(minute) ? [{ exp_labels: { namespace: 'shop', name }, exp_annotations: { summary: summary(name) } }] : [],
        })),
      })),
    }),
  );
  let output: string;
  try {
    output = run('promtool', ['test', 'rules', join(dir, 'tests.yaml')]);
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error) + String((error as { stderr?: string }).stderr ?? '');
  }
  t.match(output, /SUCCESS/, `${proxies.map((p) => `${p.name} (${p.why}): fires at ${JSON.stringify(p.firesAt)} minutes of ${JSON.stringify(EVAL_MINUTES)}`).join('; ')}\n${output}`);
});

t.test("/metrics: a proxy's gauges stay 2 hours after its last sync by default (docs/operating.md), then go", async (t) => {
  let now = FIXED_NOW.getTime();
  const metricsApp = testServer({ clock: () => new Date(now) });
  t.teardown(() => metricsApp.close());
  const related = [service({ name: 'memcached' }), ...endpointSlices('memcached', deploymentPods('memcached', 2, 80))];
  t.equal((await post(metricsApp, '/sync', syncRequest({ parent: proxy({ name: 'ttl', spec: { serviceName: 'memcached' } }), related }))).statusCode, 200);
  const servers = async () => {
    const text = (await metricsApp.inject({ method: 'GET', url: '/metrics' })).body;
    return /^memcached_operator_proxy_servers\{namespace="default",name="ttl"\} 2$/m.test(text);
  };
  t.ok(await servers(), 'synced: its servers gauge');
  now += 119 * 60_000;
  t.ok(await servers(), 'an hour and 59 minutes on: still there');
  now += 2 * 60_000;
  t.notOk(await servers(), '2 hours and a minute on: gone');
});

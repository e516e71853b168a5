import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { deploymentPods, endpointSlices, proxy, service, statefulSetPods, syncRequest, type Json } from './fixtures/cluster.js';
import { loggedServer, post, testServer } from './helpers/hook.js';
import { exchange } from './helpers/raw-socket.js';
import { CustomizeRequest, SyncRequest } from '../src/api/hook.js';
import { ANY_KEY } from '../src/api/map.js';
import { PATTERN_MEANINGS } from '../src/api/formats.js';

const app = testServer({ bodyLimit: 256 * 1024 });
t.teardown(() => app.close());

const related = [service({ name: 'memcached-pool1', headless: true }), ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1]))];
const withSpec = (spec: Json, name = 'example-cluster', namespace = 'default') => syncRequest({ parent: proxy({ name, namespace, spec }), related });

const raw = (payload: string | Buffer, contentType?: string, url = '/sync') =>
  app.inject({ method: 'POST', url, headers: contentType ? { 'content-type': contentType } : {}, payload });

const expectJsonError = (t: Test, res: { statusCode: number; body: string }, code: number, message?: RegExp) => {
  t.equal(res.statusCode, code);
  const body = JSON.parse(res.body) as { message?: unknown };
  t.type(body.message, 'string', 'a JSON {message}');
  if (message) t.match(body.message, message);
};

t.test('not JSON, wrong content type, too big', async (t) => {
  expectJsonError(t, await raw('{"parent": ', 'application/json'), 400);
  expectJsonError(t, await raw('', 'application/json'), 400);
  // No body and no Content-Type (curl -X POST without --data): no parser runs, and it is the same empty body.
  for (const url of ['/sync', '/customize']) {
    const none = await raw('', undefined, url);
    t.equal(none.statusCode, 400);
    t.same(JSON.parse(none.body), { message: 'the request has no body: the hooks take a JSON object, sent as application/json' }, `${url}: {message}, no field`);
  }
  expectJsonError(t, await raw('parent=x', 'application/x-www-form-urlencoded'), 415, /^the hooks take JSON: Content-Type must be application\/json, not "application\/x-www-form-urlencoded"$/);
  expectJsonError(t, await raw('{}', 'text/plain'), 415, /^the hooks take JSON: Content-Type must be application\/json, not "text\/plain"$/);
  // The sender's bytes, read as Latin-1 by Node: escaped beyond ASCII, and cut with a mark.
  expectJsonError(t, await raw('{}', Buffer.from('text/\u2713', 'utf8').toString('latin1')), 415, /not "text\/\\u00e2\\u009c\\u0093"$/);
  expectJsonError(t, await raw('{}', `text/${'x'.repeat(500)}`), 415, /not "text\/x{123}"…$/);
  expectJsonError(t, await raw(JSON.stringify({ pad: 'x'.repeat(300 * 1024) }), 'application/json'), 413, /^the request body is larger than BODY_LIMIT \(262144 bytes\): a pool of more pods needs it raised/);
  // The parent's own fields are named as on the object (kubectl shows them that way).
  expectJsonError(t, await raw('{"parent": {}}', 'application/json; charset=utf-8'), 400, /^apiVersion: is required$/);
  expectJsonError(t, await raw('{"parent": {}}', 'application/json; charset="UTF-8"'), 400, /^apiVersion: is required$/);
});

t.test("curl's Expect: 100-continue: the go-ahead only for a body that will be read, a refusal in its place", async (t) => {
  // curl asks so before a body of more than 1 MiB. Given the go-ahead before the 413, curl was cut while sending
  // and showed "Broken pipe" where the 413 says which limit to raise.
  const listening = testServer({ bodyLimit: 256 * 1024, inFlightBodyLimit: 300 * 1024 });
  t.teardown(() => listening.close());
  const base = await listening.listen({ port: 0, host: '127.0.0.1' });
  const head = (length: number) =>
    `POST /sync HTTP/1.1\r\nHost: hook\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
  const tooLarge = await exchange(base, head(300 * 1024));
  t.match(tooLarge.answer, /^HTTP\/1\.1 413 Payload Too Large\r\n/, 'the 413 comes first, with no go-ahead');
  t.match(tooLarge.answer, /the request body is larger than BODY_LIMIT \(262144 bytes\)/);
  // Past what the budget holds now (the budget of two bodies, one of them already arriving): 429, no go-ahead either.
  const arriving = net.connect(Number(new URL(base).port), '127.0.0.1');
  t.teardown(() => arriving.destroy());
  arriving.write(`POST /sync HTTP/1.1\r\nHost: hook\r\nContent-Type: application/json\r\nContent-Length: ${250 * 1024}\r\n\r\n${' '.repeat(200 * 1024)}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const busy = await exchange(base, head(200 * 1024));
  t.match(busy.answer, /^HTTP\/1\.1 429 Too Many Requests\r\n/, 'the 429 comes first, with no go-ahead');
  arriving.destroy();
  // A body that will be read: the go-ahead, then the answer once the body has come.
  const body = JSON.stringify(withSpec({ serviceName: 'memcached-pool1' }));
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    let read = '';
    socket.on('data', (chunk: Buffer) => {
      const before = read;
      read += chunk.toString();
      if (!before.includes('100 Continue') && read.includes('100 Continue\r\n\r\n')) socket.write(body);
    });
    socket.on('close', () => resolve(read));
    socket.on('error', reject);
    socket.write(head(Buffer.byteLength(body)));
  });
  t.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  // An HTTP/1.0 client gets no 1xx (RFC 9110): its Expect is ignored, as Node ignores it.
  const old = await exchange(base, `POST /sync HTTP/1.0\r\nHost: hook\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n${body}`);
  t.match(old.answer, /^HTTP\/1\.1 200 OK\r\n/, 'HTTP/1.0: the answer, with no go-ahead before it');
});

t.test('a body that cannot be read as sent: compressed, or not UTF-8: 415 naming the header', async (t) => {
  const body = JSON.stringify(withSpec({ serviceName: 'memcached-pool1' }));
  const send = (headers: Record<string, string>, payload: string | Buffer = body) =>
    app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json', ...headers }, payload });
  // Fastify decodes no content coding: a gzip body was "not JSON", and a body only labelled gzip was taken.
  expectJsonError(t, await send({ 'content-encoding': 'gzip' }, gzipSync(body)), 415, /^content-encoding gzip is not supported/);
  expectJsonError(t, await send({ 'content-encoding': 'gzip' }), 415, /^content-encoding gzip/);
  expectJsonError(t, await send({ 'content-encoding': 'br' }), 415, /^content-encoding br/);
  expectJsonError(t, await send({ 'content-type': 'application/json; charset=ISO-8859-1' }, Buffer.from(body, 'latin1')), 415, /^content-type charset iso-8859-1 is not supported: JSON is UTF-8/);
  expectJsonError(t, await send({ 'content-type': 'application/json;charset="utf-16"' }), 415, /charset utf-16/);
  const readable: Record<string, string>[] = [{ 'content-encoding': 'identity' }, { 'content-type': 'application/json; charset=utf8' }, { 'content-type': 'application/json; charset=US-ASCII' }];
  for (const headers of readable) {
    t.equal((await send(headers)).statusCode, 200, JSON.stringify(headers));
  }
  const customize = await app.inject({ method: 'POST', url: '/customize', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, payload: '{}' });
  expectJsonError(t, customize, 415, /^content-encoding deflate/);

  // Node undoes chunked framing alone: a body sent `Transfer-Encoding: gzip, chunked` arrived still gzipped
  // ("not JSON"), and one only labelled so was taken as it was.
  const listening = testServer();
  t.teardown(() => listening.close());
  const base = await listening.listen({ port: 0, host: '127.0.0.1' });
  const chunked = async (coding: string, payload: string) => {
    const head = `POST /sync HTTP/1.1\r\nHost: hook\r\nContent-Type: application/json\r\nTransfer-Encoding: ${coding}\r\nConnection: close\r\n\r\n`;
    const { answer } = await exchange(base, `${head}${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n0\r\n\r\n`);
    const [status] = answer.split('\r\n');
    return { status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
  };
  const gzipped = await chunked('gzip, chunked', body);
  t.equal(gzipped.status, 'HTTP/1.1 415 Unsupported Media Type');
  t.same(JSON.parse(gzipped.body), { message: 'transfer-encoding gzip is not supported: send the body with no transfer coding but chunked' });
  t.equal((await chunked('chunked', body)).status, 'HTTP/1.1 200 OK', 'chunked alone is read');
  t.equal((await chunked('identity, chunked', body)).status, 'HTTP/1.1 200 OK', 'identity (no coding, RFC 2616) before chunked is read');
});

t.test('JSON that is not a hook request: 400 naming the field', async (t) => {
  expectJsonError(t, await raw('[]', 'application/json'), 400);
  expectJsonError(t, await raw('{"hello": "world"}', 'application/json'), 400, /^parent: is required/);
  const wrongKind = withSpec({ serviceName: 'memcached-pool1' });
  (wrongKind['parent'] as Json)['kind'] = 'Deployment';
  expectJsonError(t, await raw(JSON.stringify(wrongKind), 'application/json'), 400, /^kind: must be "MemcachedProxy"/);
  const badRelated = structuredClone(withSpec({ serviceName: 'memcached-pool1' }));
  ((badRelated['related'] as any)['EndpointSlice.discovery.k8s.io/v1'] as Record<string, Json>)[Object.keys((badRelated['related'] as any)['EndpointSlice.discovery.k8s.io/v1'])[0]!]!['endpoints'] = 'nope';
  expectJsonError(t, await raw(JSON.stringify(badRelated), 'application/json'), 400, /^related\["EndpointSlice\.discovery\.k8s\.io\/v1"\]\["memcached-pool1-[0-9a-f]{5}"\]\.endpoints: must be array or null/);
  const badOwner = structuredClone(withSpec({ serviceName: 'memcached-pool1' }));
  const slice = Object.values((badOwner['related'] as any)['EndpointSlice.discovery.k8s.io/v1'] as Record<string, any>)[0];
  slice.metadata.labels['kubernetes.io/service-name'] = 7;
  expectJsonError(t, await raw(JSON.stringify(badOwner), 'application/json'), 400, /\.metadata\.labels\["kubernetes\.io\/service-name"\]: must be string/);
  // Counts that would reach the proxy's status, where the API server takes no other: refused, not passed on.
  const badCount = structuredClone(withSpec({ serviceName: 'memcached-pool1' }));
  badCount['children'] = { 'Deployment.apps/v1': { 'example-cluster-mcrouter': { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'example-cluster-mcrouter' }, status: { readyReplicas: -1 } } } };
  expectJsonError(t, await raw(JSON.stringify(badCount), 'application/json'), 400, /^children\["Deployment\.apps\/v1"\]\["example-cluster-mcrouter"\]\.status\.readyReplicas: must be >= 0$/);
  const hugeGeneration = structuredClone(withSpec({ serviceName: 'memcached-pool1' }));
  ((hugeGeneration['parent'] as Json)['metadata'] as Json)['generation'] = 1e300;
  expectJsonError(t, await raw(JSON.stringify(hugeGeneration), 'application/json'), 400, /^metadata\.generation: must be <= 9007199254740991$/);
  // Addresses and hostnames become server names in config.json: what no IP, DNS name or label has is refused.
  const withAddress = (edit: (endpoint: any) => void) => {
    const body = structuredClone(withSpec({ serviceName: 'memcached-pool1' }));
    const first = Object.values((body['related'] as any)['EndpointSlice.discovery.k8s.io/v1'] as Record<string, any>)[0];
    edit(first.endpoints[1]);
    return raw(JSON.stringify(body), 'application/json');
  };
  for (const address of ['10.0.0.1\n', '10.0.0.1/24', 'evil"host', '', '10.0.0.1 ']) {
    expectJsonError(t, await withAddress((e) => (e.addresses = [address])), 400, /\.endpoints\[1\]\.addresses\[0\]: (must be an IP address or a DNS name: letters, digits, '\.', ':' or '-'|is required)$/);
  }
  expectJsonError(t, await withAddress((e) => (e.hostname = 'Memcached_1')), 400, /\.endpoints\[1\]\.hostname: must be a DNS-1123 label/);
  for (const address of ['fd00:10:244::5', '10.244.1.7', 'memcached-0.example.com']) t.equal((await withAddress((e) => (e.addresses = [address]))).statusCode, 200, `${address}: an address`);
});

t.test('objects under any key are checked, keys with line breaks too', async (t) => {
  // TypeBox's Record matched keys with ^.*$, which no key with a line break matches: the value went unchecked (a 500).
  const keys = ['default/x\ny', 'x\r\n', '\u2028', ''];
  // Assertion names carry the key escaped: a raw line separator would break the TAP stream.
  const shown = (key: string) => JSON.stringify(key).replace(/\u2028/g, '\\u2028');
  for (const key of keys) {
    for (const type of ['Service.v1', 'Endpoints.v1', 'EndpointSlice.discovery.k8s.io/v1']) {
      const request = withSpec({ serviceName: 'memcached-pool1' }) as any;
      request.related[type] = { ...request.related[type], [key]: 5 };
      const res = await raw(JSON.stringify(request), 'application/json');
      t.equal(res.statusCode, 400, `related[${type}][${shown(key)}] = 5`);
      const field = `related[${JSON.stringify(type)}][${JSON.stringify(key)}]`;
      t.ok(isDeepStrictEqual(JSON.parse(res.body), { message: `${field}: must be object`, field }), `related[${type}][${shown(key)}]: the field named`);
    }
    const children = withSpec({ serviceName: 'memcached-pool1' }) as any;
    children.children = { 'ConfigMap.v1': { [key]: 5 } };
    t.equal((await raw(JSON.stringify(children), 'application/json')).statusCode, 400, `children ConfigMap ${shown(key)}`);
    const spec = withSpec({ serviceName: 'memcached-pool1', mcrouter: { nodeSelector: { [key]: 5 } } });
    const res = await raw(JSON.stringify(spec), 'application/json');
    t.equal(res.statusCode, 422, `spec.mcrouter.nodeSelector ${shown(key)} = 5`);
  }
});

t.test('metadata the hook never reads is not checked: it cannot turn a sync away', async (t) => {
  const plain = withSpec({ serviceName: 'memcached-pool1' });
  const odd = structuredClone(plain) as any;
  odd.parent.metadata.annotations = { note: 1 };
  for (const slice of Object.values(odd.related['EndpointSlice.discovery.k8s.io/v1'] as Record<string, any>)) slice.metadata.labels.extra = null;
  const [a, b] = [await raw(JSON.stringify(plain), 'application/json'), await raw(JSON.stringify(odd), 'application/json')];
  t.equal(b.statusCode, 200);
  t.equal(b.body, a.body, 'the same answer');
});

t.test('fields of a stored status the hook cannot read are set aside, not refused: the sync goes on without them', async (t) => {
  const { app: logged, lines } = loggedServer('warn');
  t.teardown(() => logged.close());
  const setAsideCount = async () => Number(/^memcached_operator_status_set_aside_total (\d+)$/m.exec((await logged.inject({ method: 'GET', url: '/metrics' })).body)?.[1]);
  const plain = withSpec({ serviceName: 'memcached-pool1' });
  const first = await post(logged, '/sync', plain);
  /** The request with the status of its first answer, its times an hour before (as a sync then wrote them), edited by `edit`. */
  const withStatus = (edit: (status: any) => void) => {
    const request = structuredClone(plain) as any;
    const status = structuredClone(first.body['status']) as any;
    for (const condition of status.conditions) condition.lastTransitionTime = '2026-11-25T11:00:00Z';
    request.parent.status = { ...status, configSince: '2026-11-25T11:00:00Z' };
    edit(request.parent.status);
    return request;
  };
  const read = await post(logged, '/sync', withStatus(() => {}));
  t.match(read.body['status'], { configSince: '2026-11-25T11:00:00Z', conditions: [{ type: 'Ready', lastTransitionTime: '2026-11-25T11:00:00Z' }] }, 'a readable status is read: its times carried');
  t.same(lines, [], 'and nothing is logged at warn');
  t.equal(await setAsideCount(), 0);
  const readyAt = ((first.body['status'] as Json)['conditions'] as Json[]).length;
  const time = (at: string) => `${at}.lastTransitionTime: must match format "date-time"`;
  // Each case: the edit, the status as if what is set aside were absent, and what is set aside with its fault.
  const cases: [string, (status: any) => void, (status: any) => void, [string, string][]][] = [
    // Times the API server stores (its date-time check takes any character before a fraction, and any offset) and the hook's check does not.
    ['a decimal comma', (s) => (s.conditions[0].lastTransitionTime = '2026-11-25T11:00:00,5Z'), (s) => s.conditions.splice(0, 1), [['status.conditions[0]', time('status.conditions[0]')]]],
    ['an offset of +99:99', (s) => (s.configSince = '2026-11-25T11:00:00+99:99'), (s) => delete s.configSince, [['status.configSince', 'status.configSince: must match format "date-time"']]],
    // Written by another version of the hook, or by hand: of the conditions, only the one at fault goes.
    [
      'bad conditions around the readable ones',
      (s) => {
        const bad = { type: 'Stalled', status: 'True', reason: 'NoServers', lastTransitionTime: 'yesterday' };
        s.conditions = [bad, ...s.conditions, bad];
      },
      (s) => (s.conditions = s.conditions.slice(1, -1)),
      [['status.conditions[0]', time('status.conditions[0]')], [`status.conditions[${readyAt + 1}]`, time(`status.conditions[${readyAt + 1}]`)]],
    ],
    ['too many conditions', (s) => (s.conditions = Array.from({ length: 17 }, () => ({ ...s.conditions[0], lastTransitionTime: 'x' }))), (s) => delete s.conditions, [['status.conditions', 'status.conditions: must not have more than 16 items']]],
    ['a pool without holes', (s) => delete s.pools[0].holes, (s) => delete s.pools, [['status.pools', 'status.pools[0].holes: is required']]],
    [
      'two fields',
      (s) => ((s.servers = '2'), (s.lastChange = { time: 'now' })),
      (s) => (delete s.servers, delete s.lastChange),
      [['status.servers', 'status.servers: must be integer'], ['status.lastChange', 'status.lastChange.time: must match format "date-time"']],
    ],
  ];
  let count = 0;
  for (const [what, edit, absent, setAside] of cases) {
    lines.length = 0;
    const res = await post(logged, '/sync', withStatus(edit));
    t.equal(res.statusCode, 200, `${what}: answered`);
    t.equal(res.text, (await post(logged, '/sync', withStatus((s) => (edit(s), absent(s))))).text, `${what}: the answer as if what is set aside were absent, the rest read`);
    const fields = setAside.map(([field]) => field);
    const msg = `${setAside.map(([, message]) => message).join('; ')}: set aside from the stored status, which this sync's status replaces`;
    t.same(lines, [{ ...lines[0], level: 40, namespace: 'default', name: 'example-cluster', field: fields[0], fields, msg }], `${what}: one warn line naming what is set aside`);
    t.equal(await setAsideCount(), ++count, `${what}: counted`);
  }
  // A list without a bound goes whole, for its first fault: not an error walk and a message for each of a million items.
  lines.length = 0;
  const pools = await post(logged, '/sync', withStatus((s) => (s.pools = Array.from({ length: 200_000 }, () => 0))));
  t.equal(pools.statusCode, 200);
  t.equal(lines.length, 1, 'one line');
  t.match(lines, [{ fields: ['status.pools'], msg: /^status\.pools\[0\]: must be object: set aside/ }], 'one short line');
  t.ok(String(lines[0]?.['msg']).length < 200);
  t.equal(await setAsideCount(), ++count, 'counted');
  lines.length = 0;
  const notObject = structuredClone(plain) as any;
  notObject.parent.status = 'Ready';
  t.equal((await post(logged, '/sync', notObject)).text, first.text, 'a status that is no object: set aside whole, the answer of a proxy with none');
  t.equal(lines.length, 1, 'one line');
  t.match(lines, [{ field: 'status', fields: ['status'], msg: /^status: must be object or null: set aside/ }]);
  // A spec refused replaces no status: only the refusal is logged and counted.
  lines.length = 0;
  const refused = withStatus((s) => (s.configSince = 'yesterday'));
  refused.parent.spec = { serviceName: 'memcached-pool1', rules: { type: 'sharded', service: { name: 'memcached-pool1' } } };
  t.equal((await post(logged, '/sync', refused)).statusCode, 422);
  t.match(lines, [{ statusCode: 422, field: 'spec' }], 'one line, the refusal\'s');
  t.equal(lines.length, 1);
  t.equal(await setAsideCount(), count + 1, 'not counted');
  // Customize reads no status at all.
  const customize = await post(logged, '/customize', { parent: withStatus((s) => (s.configSince = 'yesterday')).parent });
  t.equal(customize.statusCode, 200, 'customize answers whatever the status');
  t.same(customize.body, (await post(logged, '/customize', { parent: plain['parent'] })).body, 'and the same as without it');
});

t.test('a spec the CRD would refuse: 422 naming the field', async (t) => {
  const cases: [string, Json, RegExp, string?, string?][] = [
    ['both forms', { serviceName: 'memcached-pool1', rules: { service: { name: 'memcached-pool1' } } }, /^spec: exactly one of spec\.serviceName and spec\.rules/],
    ['neither form', {}, /^spec: exactly one of/],
    ['servicePort without serviceName', { servicePort: 11211, rules: { service: { name: 'a' } } }, /^spec: spec\.servicePort is only used with spec\.serviceName/],
    ['a rule with service and children', { rules: { children: [{ service: { name: 'a' }, children: [{ service: { name: 'b' } }] }] } }, /^spec\.rules\.children\[0\]: a rule has either service or children/],
    ['a rule with neither', { rules: { type: 'sharded' } }, /^spec\.rules: a rule has either/],
    ['a service in another namespace', { rules: { children: [{ service: { name: 'a' } }, { service: { name: 'b', namespace: 'kube-system' } }] } }, /^spec\.rules\.children\[1\]\.service\.namespace: must be the proxy's own namespace "default"/],
    ['an unknown rule type', { rules: { type: 'mirrored', service: { name: 'a' } } }, /^spec\.rules\.type: must be one of sharded, replicated, ""$/],
    ['a port of the wrong type', { serviceName: 'a', servicePort: true }, /^spec\.servicePort: must be integer or string/],
    ['four levels', { rules: { children: [{ children: [{ children: [{ service: { name: 'a' } }] }] }] } }, /^spec\.rules\.children\[0\]\.children\[0\]\.children: must be empty: rules nest at most 3 levels: a rule at level 3 must be a service$/],
    ['an empty group at the third level', { rules: { children: [{ children: [{ children: [] }, { service: { name: 'a' } }] }] } }, /^spec\.rules\.children\[0\]\.children\[0\]: rules nest at most 3 levels: a rule at level 3 must be a service/],
    ['a name too long for child names', { serviceName: 'a' }, /^metadata\.name must be a DNS-1035 label of at most 54 characters/, 'x'.repeat(55)],
    ['a name that is not a DNS label', { serviceName: 'a' }, /^metadata\.name must be a DNS-1035 label/, 'Example_Cluster'],
    ['the exporter on mcrouter\'s port', { serviceName: 'a', mcrouter: { port: 9442, exporter: { enabled: true } } }, /^spec\.mcrouter\.exporter\.port must differ from spec\.mcrouter\.port/],
    ['statsRoot on the config directory', { serviceName: 'a', mcrouter: { statsRoot: '/etc/mcrouter' } }, /^spec\.mcrouter\.statsRoot must not be \/etc\/mcrouter/],
    ['statsRoot under the config directory', { serviceName: 'a', mcrouter: { statsRoot: '/etc/mcrouter/stats' } }, /^spec\.mcrouter\.statsRoot/],
    ['statsRoot over the config directory', { serviceName: 'a', mcrouter: { statsRoot: '/etc/' } }, /^spec\.mcrouter\.statsRoot/],
    ['statsRoot over the image\'s binaries', { serviceName: 'a', mcrouter: { statsRoot: '/usr/local' } }, /^spec\.mcrouter\.statsRoot must not be in \/bin, .*\/usr: an emptyDir is mounted there/],
    ['statsRoot with a .. segment', { serviceName: 'a', mcrouter: { statsRoot: '/var/../etc/mcrouter' } }, /^spec\.mcrouter\.statsRoot/],
    ['a backend Service named like the proxy', { serviceName: 'example-cluster' }, /^spec\.serviceName: no leaf Service may be named like the proxy/],
    ['a quantity the API server would refuse in the Deployment', { serviceName: 'a', mcrouter: { resources: { requests: { memory: '128MB' } } } }, /^spec\.mcrouter\.resources\.requests\.memory: must be a quantity: a number with an optional suffix \(e\.g\. '500m', '0\.5', '128Mi' or '1Gi'\)$/],
    ['an image the kubelet cannot parse', { serviceName: 'a', mcrouter: { image: 'mcrouter:0.41.0 ' } }, /^spec\.mcrouter\.image: must be an image reference as the kubelet reads one: .*without spaces/],
    ['a port name no Service port can have', { rules: { service: { name: 'a', port: 'Memcache' } } }, /^spec\.rules\.service\.port: must be a DNS-1123 label: lower case letters, digits or '-'/],
    ['a nodeSelector value no label can have', { serviceName: 'a', mcrouter: { nodeSelector: { zone: '-a' } } }, /^spec\.mcrouter\.nodeSelector\.zone: must be a label value: /],
    ['a pull secret name no Secret can have', { serviceName: 'a', mcrouter: { imagePullSecrets: [{ name: 'regcred' }, { name: 'Registry_Credentials' }] } }, /^spec\.mcrouter\.imagePullSecrets\[1\]\.name: must be a DNS-1123 subdomain: lower case letters, digits, '-' or '\.'/],
    ['a pull secret without a name', { serviceName: 'a', mcrouter: { imagePullSecrets: [{}] } }, /^spec\.mcrouter\.imagePullSecrets\[0\]\.name: /],
    ['a toleration effect no taint has (the CRD types tolerations)', { serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoScheduling' }] } }, /^spec\.mcrouter\.tolerations\[0\]\.effect: must be one of "", NoSchedule, PreferNoSchedule, NoExecute$/],
    ['a toleration operator a pod cannot have', { serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'In' }] } }, /^spec\.mcrouter\.tolerations\[0\]\.operator: must be one of Exists, Equal, ""$/],
    ['a relative statsRoot', { serviceName: 'a', mcrouter: { statsRoot: 'stats' } }, /^spec\.mcrouter\.statsRoot: must be an absolute path \(starting with '\/'\)$/],
    ['a Service name with a capital', { serviceName: 'Memcached' }, /^spec\.serviceName: must be a DNS-1035 label: lower case letters, digits or '-', starting with a letter/],
    ['a leaf Service named like the proxy', { rules: { children: [{ service: { name: 'a' } }, { service: { name: 'example-cluster' } }] } }, /^spec\.rules\.children\[1\]\.service\.name: no leaf Service may be named like the proxy/],
  ];
  for (const [what, spec, message, name] of cases) {
    const res = await raw(JSON.stringify(withSpec(spec, name)), 'application/json');
    expectJsonError(t, res, 422, message);
    const body = JSON.parse(res.body) as { message: string; field: string };
    t.ok(body.message.startsWith(`${body.field}:`) || body.message.startsWith(`${body.field} `), `${what}: the field (${body.field}) is the one the message names`);
    t.comment(`${what}: ${body.message}`);
  }
  // Metacontroller keeps only customize's successful answers, and asks again at every change of a related kind anywhere.
  const customize = await post(app, '/customize', { parent: proxy({ name: 'x', spec: {} }) });
  t.same([customize.statusCode, customize.body], [200, { relatedResources: [] }], 'customize answers such a spec with no related object, not a refusal');
});

t.test('a finalize hook pointed at /sync: a spec the hook refuses is finalized with no children, not refused (which would hold the deletion)', async (t) => {
  // The CRD takes this spec (CEL cannot read metadata.namespace); the hook refuses it.
  const elsewhere = { rules: { service: { name: 'memcached', namespace: 'kube-system' } } };
  const stored = { observedGeneration: 3, conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing', message: 'waiting', lastTransitionTime: '2026-11-25T11:00:00Z', observedGeneration: 3 }] };
  const deleting = (finalizing: boolean) => {
    const body = withSpec(elsewhere) as Json;
    const parent = body['parent'] as Json;
    parent['metadata'] = { ...(parent['metadata'] as Json), deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: ['metacontroller.k8s.io/memcached-operator'] };
    parent['status'] = stored;
    return finalizing ? { ...body, finalizing: true } : body;
  };
  // Metacontroller asks customize first: a refusal there would keep the finalize hook from being called.
  const { parent } = deleting(true) as { parent: Json };
  const customized = await post(app, '/customize', { controller: { metadata: { name: 'memcached-operator' } }, parent });
  t.equal(customized.statusCode, 200);
  t.same(customized.body, { relatedResources: [] }, 'nothing to watch for a proxy that goes');
  const finalized = await post(app, '/sync', deleting(true));
  t.equal(finalized.statusCode, 200);
  t.same(finalized.body, { status: stored, children: [], finalized: true }, 'the stored status, no children: they go with the proxy');
  // Without a finalize hook nothing waits on the answer: the refusal stands, and the children are left to the garbage collector.
  expectJsonError(t, await raw(JSON.stringify(deleting(false)), 'application/json'), 422, /^spec\.rules\.service\.namespace: /);
  // A proxy that is not being deleted: the same answer (its sync is refused).
  const live = withSpec(elsewhere) as { parent: Json };
  t.same((await post(app, '/customize', { controller: { metadata: { name: 'memcached-operator' } }, parent: live.parent })).body, { relatedResources: [] });
});

t.test('a proxy being deleted whose spec the CRD schema itself refuses (one stored under an older CRD): let through as one the rules refuse', async (t) => {
  const stored = { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: 'serving', lastTransitionTime: '2026-11-25T10:00:00Z', observedGeneration: 2 }] };
  const controller = { metadata: { name: 'memcached-operator' } };
  const answer = async (path: '/sync' | '/customize', payload: unknown) => {
    const { statusCode, body } = await post(app, path, payload);
    return { statusCode, body };
  };
  const parentWith = (spec: Json | undefined, deleting: boolean) => {
    const parent = proxy({ name: 'sessions', namespace: 'shop', spec: spec ?? {} });
    if (spec === undefined) delete parent['spec'];
    if (deleting) parent['metadata'] = { ...(parent['metadata'] as Json), deletionTimestamp: '2026-11-25T11:59:30Z', finalizers: ['metacontroller.k8s.io/memcached-operator'] };
    parent['status'] = stored;
    return parent;
  };
  const cases: [string, Json | undefined, RegExp][] = [
    ['an enum value an older CRD took', { serviceName: 'memcached', mcrouter: { reload: 'rollout' } }, /^spec\.mcrouter\.reload: must be one of /],
    ['a hash no release knows', { rules: { hash: 'Md5', children: [{ service: { name: 'a' } }, { service: { name: 'b' } }] } }, /^spec\.rules\.hash: must be one of /],
    ['a port past 65535', { serviceName: 'memcached', servicePort: 70000 }, /^spec\.servicePort: /],
    ['replicas as a string', { serviceName: 'memcached', mcrouter: { replicas: '3' } }, /^spec\.mcrouter\.replicas: must be integer/],
    ['a list where an object goes', { serviceName: 'memcached', mcrouter: { extraArgs: '--x' } }, /^spec\.mcrouter\.extraArgs: must be array/],
    ['no spec at all', undefined, /^spec: is required$/],
  ];
  for (const [what, spec, message] of cases) {
    // A live proxy: its sync refused, 422 naming the field; customize asks for nothing, as for a spec the rules refuse.
    const live = parentWith(spec, false);
    const refusedSync = await answer('/sync', syncRequest({ parent: live, related }));
    t.equal(refusedSync.statusCode, 422, `${what}: refused while live`);
    t.match((refusedSync.body as { message: string }).message, message, `${what}: the field named`);
    t.same(await answer('/customize', { controller, parent: live }), { statusCode: 200, body: { relatedResources: [] } }, `${what}: customize asks for nothing`);
    // Being deleted: the same of customize; a finalize hook's sync is finalized with the stored status.
    const going = parentWith(spec, true);
    t.same(await answer('/customize', { controller, parent: going }), { statusCode: 200, body: { relatedResources: [] } }, `${what}: customize lets a deleted proxy through`);
    t.same(await answer('/sync', { ...syncRequest({ parent: going, related }), finalizing: true }), { statusCode: 200, body: { status: stored, children: [], finalized: true } }, `${what}: finalized`);
    // Without a finalize hook nothing waits on the answer: the refusal stands.
    t.same(await answer('/sync', syncRequest({ parent: going, related })), refusedSync, `${what}: a plain sync of a deleted proxy is refused as ever`);
  }
  // Only a body whose spec alone is at fault: anything else wrong with it is refused, for the first fault as ever.
  const going = parentWith({ serviceName: 'memcached', mcrouter: { reload: 'rollout' } }, true);
  const badChildren = await answer('/sync', { ...syncRequest({ parent: going, related }), finalizing: true, children: { 'ConfigMap.v1': { x: { kind: 'ConfigMap', metadata: 'x' } } } });
  t.equal(badChildren.statusCode, 422, 'a spec fault and a malformed child: refused (the spec is the first fault)');
  t.equal((badChildren.body as { field: string }).field, 'spec.mcrouter.reload');
  const badMetadata = parentWith({ serviceName: 'memcached', mcrouter: { reload: 'rollout' } }, true);
  (badMetadata['metadata'] as Json)['name'] = 7;
  t.equal((await answer('/customize', { controller, parent: badMetadata })).statusCode, 400, 'a name that is no string: no proxy to let through');
  // Metacontroller says finalizing only of a proxy being deleted; a hand-made request that says it of another is
  // finalized as well, and its spec (here none) is not read for the gauges.
  const handMade = await answer('/sync', { ...syncRequest({ parent: parentWith(undefined, false), related }), finalizing: true });
  t.same(handMade, { statusCode: 200, body: { status: stored, children: [], finalized: true } });
});

t.test('a spec at the edge of what the CRD takes: 200', async (t) => {
  const cases: [string, Json, string?][] = [
    ['a name of 54 characters', { serviceName: 'a' }, `x${'y'.repeat(53)}`],
    ['a service namespace left empty (as v0.0.2 stored it)', { rules: { service: { name: 'a', namespace: '' } } }],
    ['a service namespace that is the proxy\'s own', { rules: { service: { name: 'a', namespace: 'default' } } }],
  ];
  for (const [what, spec, name] of cases) {
    const res = await raw(JSON.stringify(withSpec(spec, name)), 'application/json');
    t.equal(res.statusCode, 200, `${what}: ${res.body.slice(0, 160)}`);
  }
});

t.test('a pod template the API server would refuse: the status names the field, Stalled, and the rest is applied', async (t) => {
  // Not a 422: that would stop the config too, and the servers with it, until the spec is fixed.
  const mcrouter = (fields: Json) => withSpec({ serviceName: 'memcached-pool1', mcrouter: fields });
  // The default body limit: some of these specs carry annotations of 400 KB.
  const roomy = testServer();
  t.teardown(() => roomy.close());
  const send = async (fields: Json) => {
    const { statusCode, text } = await post(roomy, '/sync', mcrouter(fields));
    return { statusCode, body: text };
  };
  const refused: [string, Json, string, RegExp][] = [
    ['a request above its limit', { resources: { requests: { memory: '256Mi' }, limits: { memory: '128Mi' } } }, 'spec.mcrouter.resources.requests.memory', /must be less than or equal to memory limit of 128Mi$/],
    ['a request above its limit, in other units', { resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } }, 'spec.mcrouter.resources.requests.cpu', /must be less than or equal to cpu limit of 1500m$/],
    ['a request above its limit by a thousandth', { resources: { requests: { cpu: '1.002' }, limits: { cpu: '1001m' } } }, 'spec.mcrouter.resources.requests.cpu', /cpu limit of 1001m$/],
    ['the exporter\'s request above its limit', { exporter: { enabled: true, resources: { requests: { memory: '1Gi' }, limits: { memory: '1000Mi' } } } }, 'spec.mcrouter.exporter.resources.requests.memory', /memory limit of 1000Mi$/],
    ['a negative quantity', { resources: { limits: { cpu: '-1' } } }, 'spec.mcrouter.resources.limits.cpu', /must be greater than or equal to 0$/],
    ['a fractional exponent', { resources: { limits: { memory: '1e2.5' } } }, 'spec.mcrouter.resources.limits.memory', /is not a quantity the API server reads$/],
    ['a resource no container has', { resources: { limits: { pods: '1' } } }, 'spec.mcrouter.resources.limits.pods', /must be a standard resource for containers/],
    ['a resource name that is no qualified name', { resources: { requests: { 'example.com/a b': '1' } } }, 'spec.mcrouter.resources.requests["example.com/a b"]', /must be a qualified name/],
    ['an extended resource requested below its limit', { resources: { requests: { 'nvidia.com/gpu': 1 }, limits: { 'nvidia.com/gpu': 2 } } }, 'spec.mcrouter.resources.requests["nvidia.com/gpu"]', /must be equal to nvidia\.com\/gpu limit of 2$/],
    ['an extended resource requested without a limit', { resources: { requests: { 'nvidia.com/gpu': 1 } } }, 'spec.mcrouter.resources.limits', /must be set for nvidia\.com\/gpu/],
    ['an extended resource named like its quota', { resources: { limits: { 'requests.example.com/gpu': 1 } } }, 'spec.mcrouter.resources.limits["requests.example.com/gpu"]', /doesn't follow the extended resource name standard/],
    ['half an extended resource', { resources: { limits: { 'nvidia.com/gpu': '0.5' } } }, 'spec.mcrouter.resources.limits["nvidia.com/gpu"]', /must be an integer$/],
    ['huge pages alone', { resources: { limits: { 'hugepages-2Mi': '64Mi' } } }, 'spec.mcrouter.resources', /huge pages require a cpu or memory/],
    ['huge pages of a size that is no quantity', { resources: { limits: { 'hugepages-large': '2Mi', memory: '1Gi' } } }, 'spec.mcrouter.resources.limits["hugepages-large"]', /must name a page size/],
    ['huge pages not a whole number of pages', { resources: { limits: { 'hugepages-2Mi': '3Mi', memory: '1Gi' } } }, 'spec.mcrouter.resources.limits["hugepages-2Mi"]', /is not a whole number of hugepages-2Mi pages$/],
    ['a toleration key that is no qualified name', { tolerations: [{ key: 'dedicated node', operator: 'Exists' }] }, 'spec.mcrouter.tolerations[0].key', /must be a qualified name/],
    ['a toleration with Exists and a value', { tolerations: [{ key: 'a', operator: 'Equal', value: 'b' }, { key: 'a', operator: 'Exists', value: 'b' }] }, 'spec.mcrouter.tolerations[1]', /value must be empty when operator is Exists$/],
    ['a toleration of every key, Equal', { tolerations: [{ value: 'b' }] }, 'spec.mcrouter.tolerations[0]', /operator must be Exists when key is empty/],
    ['tolerationSeconds without NoExecute', { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 60 }] }, 'spec.mcrouter.tolerations[0]', /effect must be NoExecute when tolerationSeconds is set$/],
    ['a nodeSelector key no label can have', { nodeSelector: { 'disk type': 'ssd' } }, 'spec.mcrouter.nodeSelector["disk type"]', /key "disk type" must be a qualified name/],
    ['a nodeSelector key with two slashes', { nodeSelector: { 'a/b/c': 'ssd' } }, 'spec.mcrouter.nodeSelector["a/b/c"]', /must be a qualified name/],
    ['a nodeSelector key with a prefix in capitals', { nodeSelector: { 'Example.com/disk': 'ssd' } }, 'spec.mcrouter.nodeSelector["Example.com/disk"]', /must be a qualified name/],
    ['a label key of 64 characters', { nodeSelector: { ['k'.repeat(64)]: 'ssd' } }, `spec.mcrouter.nodeSelector.${'k'.repeat(64)}`, /must be a qualified name/],
    ['a pod annotation key no annotation can have', { podAnnotations: { 'note!': 'x' } }, 'spec.mcrouter.podAnnotations["note!"]', /key "note!" must be a qualified name/],
    // Each value within the CRD's bound, their sum not: Kubernetes counts all of an object's annotations together.
    ['pod annotations of 400,000 bytes together', { podAnnotations: { a: 'x'.repeat(200_000), b: 'x'.repeat(200_000) } }, 'spec.mcrouter.podAnnotations', /would take 400002 bytes .*at most 262144$/],
    ['a pod annotation of 140,000 characters in 280,000 bytes', { podAnnotations: { note: '\u00e9'.repeat(140_000) } }, 'spec.mcrouter.podAnnotations', /would take 280004 bytes/],
    ['pod annotations at the limit, and the config hash a rollout adds', { reload: 'Rollout', podAnnotations: { a: 'x'.repeat(262_143) } }, 'spec.mcrouter.podAnnotations', /the pod template's annotations would take 2622\d\d bytes \(keys and values, the hook's own included\)/],
    // Metacontroller keeps a copy of the whole Deployment among its annotations: the pod annotations count twice there.
    ['pod annotations of exactly 262,144 bytes, where the Deployment also carries them', { reload: 'Watch', podAnnotations: { a: 'x'.repeat(262_143) } }, 'spec.mcrouter.podAnnotations', /the Deployment's annotations would take 26\d{4} bytes with the copy of it that Metacontroller keeps there \(metacontroller\.k8s\.io\/last-applied-configuration\)/],
    ['a pod annotation of 130,000 quotes, each two bytes in JSON', { podAnnotations: { a: '"'.repeat(130_000) } }, 'spec.mcrouter.podAnnotations', /the Deployment's annotations would take 26\d{4} bytes/],
    ['a pod annotation of 45,000 line separators (U+2028), three bytes each, six in Go\'s JSON', { podAnnotations: { a: '\u2028'.repeat(45_000) } }, 'spec.mcrouter.podAnnotations', /the Deployment's annotations would take 27\d{4} bytes/],
    ['a pod annotation of 60,000 ampersands, each six bytes in Go\'s JSON', { podAnnotations: { a: '&'.repeat(60_000) } }, 'spec.mcrouter.podAnnotations', /the Deployment's annotations would take 36\d{4} bytes/],
    // The copy holds every field the spec copies into the Deployment: the largest is the one to blame.
    ['a nodeSelector of 30,000 labels, and a pod annotation', { podAnnotations: { a: 'x' }, nodeSelector: Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, 'v'])) }, 'spec.mcrouter.nodeSelector', /the Deployment's annotations would take \d+ bytes .*this field the most/],
    ['pod annotations of 60,000 characters, three bytes each, beside an affinity of 90,000 and a disabled exporter\'s', { podAnnotations: { a: '\u2039'.repeat(60_000) }, affinity: { note: 'x'.repeat(90_000) }, exporter: { enabled: false, resources: { limits: Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`example.com/r${i}`, '1'])) } } }, 'spec.mcrouter.podAnnotations', /this field the most/],
    // Typed in the CRD as Kubernetes types them (api/pod-fields.ts): these reach the hook only past an older CRD, or by curl.
    ['a user id given as a name', { securityContext: { runAsUser: 'root' } }, 'spec.mcrouter.securityContext.runAsUser', /must be of type integer$/],
    ['a capability that is no string', { securityContext: { capabilities: { add: ['NET_ADMIN', 7] } } }, 'spec.mcrouter.securityContext.capabilities.add[1]', /must be of type string$/],
    ['a sysctl without its name', { podSecurityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }, { value: '1' }] } }, 'spec.mcrouter.podSecurityContext.sysctls[1].name', /is required$/],
    ['supplemental groups as strings', { podSecurityContext: { supplementalGroups: ['1000'] } }, 'spec.mcrouter.podSecurityContext.supplementalGroups[0]', /must be of type integer$/],
    ['node selector terms that are no list', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: 'zone=a' } } } }, 'spec.mcrouter.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms', /must be of type array$/],
    ['a pod anti-affinity term without its topologyKey', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'mcrouter' } } } }] } } }, 'spec.mcrouter.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey', /is required$/],
    ['a label selector value that is a number', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { 'app.kubernetes.io/version': 2 } } }] } } }, 'spec.mcrouter.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels["app.kubernetes.io/version"]', /must be of type string$/],
    ['an affinity of 300,000 characters', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: Array.from({ length: 25_000 }, (_, i) => `zone-${i}`) }] }] } } } }, 'spec.mcrouter.affinity', /the Deployment's annotations would take \d+ bytes/],
  ];
  const conditionsOf = (body: string) => (JSON.parse(body) as { status: { conditions: { type: string; status: string; reason: string; message: string }[] } }).status.conditions;
  for (const [what, fields, field, message] of refused) {
    const res = await send(fields);
    t.equal(res.statusCode, 200, `${what}: answered`);
    const ready = conditionsOf(res.body).find((c) => c.type === 'Ready')!;
    t.match(ready, { status: 'False', reason: 'InvalidSpec' }, `${what}: Ready says InvalidSpec`);
    t.ok(ready.message.startsWith(`${field}: `), `${what}: the message begins with ${field}: ${ready.message}`);
    t.match(ready.message.split(': the API server refuses Deployment')[0], message, what);
    t.match(conditionsOf(res.body).find((c) => c.type === 'Stalled'), { status: 'True', reason: 'InvalidSpec' }, `${what}: Stalled at once`);
    const kinds = (JSON.parse(res.body) as { children: { kind: string }[] }).children.map((c) => c.kind);
    t.ok(kinds.includes('ConfigMap') && kinds.includes('Deployment') && kinds.includes('Service'), `${what}: every child still in the answer`);
  }
  const accepted: [string, Json][] = [
    ['a request equal to its limit', { resources: { requests: { memory: '128Mi', cpu: '500m' }, limits: { memory: '134217728', cpu: '0.5' } } }],
    ['requests equal to limits once rounded up to thousandths, as the API server stores them', { resources: { requests: { cpu: '1.0001m' }, limits: { cpu: '1.5m' } } }],
    ['limits alone, an extended resource among them', { resources: { limits: { cpu: 2, 'nvidia.com/gpu': '1', 'hugepages-2Mi': '64Mi', memory: '1Gi' } } }],
    ['an extended resource requested as limited', { resources: { requests: { 'example.com/dongle': '2' }, limits: { 'example.com/dongle': 2 } } }],
    ['a resource in kubernetes.io', { resources: { limits: { 'kubernetes.io/network-bandwidth': '10M' } } }],
    ['a disabled exporter\'s resources, which reach no container', { exporter: { enabled: false, resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } } }],
    ['binary quantities past 2^63 - 1, equal as the API server caps them', { resources: { requests: { memory: '16Ei' }, limits: { memory: '8Ei' } } }],
    ['huge pages of 1Gi pages', { resources: { requests: { 'hugepages-1Gi': '2Gi', memory: '64Mi' }, limits: { 'hugepages-1Gi': '2Gi' } } }],
    ['tolerations as pods take them', { tolerations: [{ operator: 'Exists' }, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }, { key: 'dedicated', value: 'cache', effect: 'NoSchedule' }, { key: 'spot', operator: 'Exists', value: '', tolerationSeconds: null }] }],
    ['keys with a prefix, and annotation keys in capitals', { nodeSelector: { 'topology.kubernetes.io/zone': 'a', Disk_Type: 'ssd' }, podAnnotations: { 'Example.COM/Owner': 'team', 'prometheus.io/scrape': 'true' } }],
    ['a pod annotation of 250,000 bytes, its copy in Metacontroller\'s included', { podAnnotations: { a: 'x'.repeat(250_000) } }],
    ['the user and group left to the platform (OpenShift), and a field of a newer Kubernetes', { podSecurityContext: { runAsUser: null, runAsGroup: null, fsGroup: null, seLinuxChangePolicy: 'MountOption' }, securityContext: { runAsUser: null, runAsGroup: null } }],
    // Required in Kubernetes' OpenAPI schema, but not by its validation: an empty value, and an empty term that matches every node.
    ['a sysctl without a value, and a preferred node term without a preference', { podSecurityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced' }] }, affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 }] } } }],
    [
      'an affinity as users write it',
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['m5.large', 'm5.xlarge'] }] }] },
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1a'] }] } }],
          },
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['mcrouter'] }] }, matchLabelKeys: ['pod-template-hash'] }],
          },
        },
      },
    ],
  ];
  for (const [what, fields] of accepted) {
    const res = await send(fields);
    t.equal(res.statusCode, 200, what);
    t.not(conditionsOf(res.body).find((c) => c.type === 'Ready')?.reason, 'InvalidSpec', `${what}: accepted`);
  }

  // Near the limit, what others add to the Deployment counts: Metacontroller's namespace and controller-uid label
  // (in its copy too) and the Deployment controller's revision annotation, some 130 bytes here.
  const empty = JSON.parse((await send({ podAnnotations: { a: '' } })).body) as { children: Json[] };
  const deployment = empty.children.find((c) => c['kind'] === 'Deployment')!;
  const annotations = (deployment['metadata'] as { annotations: Record<string, string> }).annotations;
  const hooksOwn = JSON.stringify(deployment).length + 'metacontroller.k8s.io/last-applied-configuration'.length +
    Object.entries(annotations).reduce((n, [k, v]) => n + k.length + v.length, 0);
  const readyOf = async (bytes: number) => conditionsOf((await send({ podAnnotations: { a: 'x'.repeat(bytes) } })).body).find((c) => c.type === 'Ready')!;
  const over = await readyOf(262_144 - hooksOwn - 60);
  t.match(over, { reason: 'InvalidSpec', message: /^spec\.mcrouter\.podAnnotations: the Deployment's annotations would take 262\d{3} bytes/ }, "60 bytes short by the hook's object alone: refused");
  t.not((await readyOf(262_144 - hooksOwn - 300)).reason, 'InvalidSpec', '300 bytes short: taken');
});

t.test('a parent without a string name is no hook request (400); a name of the wrong form is a spec the CRD refuses (422)', async (t) => {
  const withName = (name: unknown) => {
    const request = JSON.parse(JSON.stringify(withSpec({ serviceName: 'memcached-pool1' }))) as { parent: { metadata: Record<string, unknown> } };
    if (name === undefined) delete request.parent.metadata['name'];
    else request.parent.metadata['name'] = name;
    return JSON.stringify(request);
  };
  expectJsonError(t, await raw(withName(undefined), 'application/json'), 400, /^metadata\.name: is required$/);
  expectJsonError(t, await raw(withName(5), 'application/json'), 400, /^metadata\.name: must be string$/);
  expectJsonError(t, await raw(withName('Example_Cluster'), 'application/json'), 422, /^metadata\.name must be a DNS-1035 label/);
  // A namespace Kubernetes could not have (it would reach server names and the metrics' labels): no hook request.
  for (const namespace of ['def\udc00', 'a b', 'UPPER', 'x} 1\nfake_metric 9', '-a']) {
    const request = JSON.parse(withName('example-cluster')) as { parent: { metadata: Record<string, unknown> } };
    request.parent.metadata['namespace'] = namespace;
    expectJsonError(t, await raw(JSON.stringify(request), 'application/json'), 400, /^metadata\.namespace: must be a DNS-1123 label: /);
  }
});

t.test('prototype pollution is refused, never merged, naming the key', async (t) => {
  const body = JSON.stringify(withSpec({ serviceName: 'memcached-pool1' }));
  const refused = (field: string) => async (payload: string) => {
    const res = await raw(payload, 'application/json');
    const escaped = field.replace(/[.[\]"]/g, '\\$&');
    expectJsonError(t, res, 400, new RegExp(`^${escaped}: a "__proto__" key or a "constructor" object with a "prototype" is refused`));
    t.equal((JSON.parse(res.body) as { field?: string }).field, field);
  };
  /** The body with an own `key` (as JSON.parse makes a `__proto__` one) on the object at `at`. */
  const withKey = (at: (request: any) => Json, key: string, value: unknown) => {
    const request = JSON.parse(body) as Json;
    Object.defineProperty(at(request), key, { value, enumerable: true });
    return JSON.stringify(request);
  };
  await refused('spec.__proto__')(withKey((r) => r.parent.spec, '__proto__', { polluted: true }));
  await refused('spec.constructor')(withKey((r) => r.parent.spec, 'constructor', { prototype: { polluted: true } }));
  await refused('spec.mcrouter.affinity.__proto__')(
    withKey((r) => ((r.parent.spec.mcrouter = { affinity: { nodeAffinity: {} } }), r.parent.spec.mcrouter.affinity), '__proto__', { polluted: true }),
  );
  await refused('status.__proto__')(withKey((r) => ((r.parent.status = {}), r.parent.status), '__proto__', 1));
  // Escaped, or a top-level key: the parsed keys are checked, not the text.
  await refused('spec.__proto__')(body.replace('"serviceName":', '"\\u005f_proto__":1,"serviceName":'));
  await refused('__proto__')(`{"__proto__":{"polluted":true},${body.slice(1)}`);
  // Outside the parent such a key is data, read by name or not at all: objects the API server stores with one
  // (another team's StatefulSet, a key added by hand to the proxy's ConfigMap) must not turn every sync away.
  const accepted = async (payload: string, what: string) => {
    const res = await raw(payload, 'application/json');
    t.equal(res.statusCode, 200, what);
    t.equal((JSON.parse(res.body) as { children: unknown[] }).children.length, 3, `${what}: every child still answered`);
  };
  const slices = 'EndpointSlice.discovery.k8s.io/v1';
  const sliceKey = Object.keys((JSON.parse(body) as { related: Record<string, Json> }).related[slices]!)[0]!;
  await accepted(withKey((r) => r.related[slices][sliceKey].endpoints[1].conditions, '__proto__', { ready: false }), 'in a slice');
  const statefulSets = 'StatefulSet.apps/v1';
  const other = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'other-app', namespace: 'default' }, spec: { replicas: 1, template: { spec: { volumes: [{ name: 'v', csi: { driver: 'x.example.com', volumeAttributes: {} } }] } } } };
  await accepted(
    withKey((r) => ((r.related[statefulSets] = { ...r.related[statefulSets], 'default/other-app': other }), r.related[statefulSets]['default/other-app'].spec.template.spec.volumes[0].csi.volumeAttributes), '__proto__', 'x'),
    'in an unrelated StatefulSet',
  );
  await accepted(withKey((r) => r.controller.spec, '__proto__', 1), 'in the controller');
  await accepted(withKey((r) => r.controller, 'constructor', { prototype: {} }), 'a constructor in the controller');
  // Keys are the sender's: a field spelt from long ones is cut.
  const long = 'k'.repeat(1000);
  const cut = await raw(withKey((r) => ((r.parent.spec[long] = {}), r.parent.spec[long]), '__proto__', 1), 'application/json');
  t.equal(cut.statusCode, 400);
  t.equal((JSON.parse(cut.body) as { field: string }).field, `spec.${long}`.slice(0, 512) + '…', 'a field of more than 512 characters is cut');
  // Only an object constructor with a prototype pollutes; other uses of the words are data.
  t.equal((await raw(body.replace('"spec":{', '"spec":{"constructor":"x","x":{"prototype":1},'), 'application/json')).statusCode, 200);
  // A byte order mark is skipped, as Fastify's parser does.
  t.equal((await raw(`\ufeff${body}`, 'application/json')).statusCode, 200, 'a leading BOM is skipped');
  t.equal(({} as Json)['polluted'], undefined);
});

t.test('text beyond ASCII arrives as sent, in any encoding JSON allows', async (t) => {
  const note = 'caf\u00e9 \u2615 \ud83d\ude80 \u65e5\u672c';
  const body = JSON.stringify(withSpec({ serviceName: 'memcached-pool1', mcrouter: { podAnnotations: { note } } }));
  const annotationOf = (res: { statusCode: number; body: string }) => {
    t.equal(res.statusCode, 200);
    const deployment = (JSON.parse(res.body) as { children: Json[] }).children.find((c) => c['kind'] === 'Deployment')!;
    return (deployment['spec'] as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['note'];
  };
  t.equal(annotationOf(await raw(Buffer.from(body, 'utf8'), 'application/json')), note, 'UTF-8 bytes');
  t.equal(annotationOf(await raw(Buffer.from(`\ufeff${body}`, 'utf8'), 'application/json')), note, 'after a byte order mark');
  const escaped = body.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  t.ok(/^[\x00-\x7f]*$/.test(escaped), 'the escaped body is ASCII');
  t.equal(annotationOf(await raw(Buffer.from(escaped, 'utf8'), 'application/json')), note, '\\u escapes in an ASCII body');
  expectJsonError(t, await raw(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'application/json'), 400);
});

t.test('unknown routes and methods answer JSON', async (t) => {
  const hooks = / not found: the hooks are POST \/sync and POST \/customize$/;
  expectJsonError(t, await app.inject({ method: 'GET', url: '/sync' }), 404, hooks);
  expectJsonError(t, await app.inject({ method: 'POST', url: '/finalize', payload: {} }), 404, /^POST \/finalize not found/);
  expectJsonError(t, await app.inject({ method: 'POST', url: '/sync/', payload: {} }), 404, /^POST \/sync\/ not found: the hooks are/);
});

t.test('every pattern a hook request is checked against is refused in words, not as the expression', async (t) => {
  // A pattern added to the types without a meaning would be quoted to users (the image reference's runs to 400 characters).
  const patterns = new Set<string>();
  const collect = (schema: unknown): void => {
    if (Array.isArray(schema)) return schema.forEach(collect);
    if (schema === null || typeof schema !== 'object') return;
    const { pattern } = schema as { pattern?: unknown };
    if (typeof pattern === 'string') patterns.add(pattern);
    Object.values(schema).forEach(collect);
  };
  collect([SyncRequest, CustomizeRequest]);
  patterns.delete(ANY_KEY); // any string matches it
  t.ok(patterns.size >= 6, `the patterns found (${patterns.size})`);
  for (const pattern of patterns) t.ok(PATTERN_MEANINGS.has(pattern), `${pattern.slice(0, 60)}: has a meaning`);
});

t.test('a parent without a spec is an object the CRD refuses (spec is required): 422 naming spec, not 400', async (t) => {
  const parent = proxy({ name: 'nospec', spec: {} });
  delete parent['spec'];
  const res = await post(app, '/sync', syncRequest({ parent }));
  t.equal(res.statusCode, 422, res.text);
  t.match(res.body, { field: 'spec', message: /^spec: / });
  const custom = await post(app, '/customize', { controller: syncRequest({ parent }).controller, parent });
  t.same([custom.statusCode, custom.body], [200, { relatedResources: [] }], `customize: ${custom.text}`);
});

t.test('huge pages of 19 digits (still an int64 to the API server) that are no whole number of pages: InvalidSpec', async (t) => {
  const spec = { serviceName: 'memcached', mcrouter: { resources: { limits: { 'hugepages-2Mi': '9000000000000000001', memory: '1Gi' } } } };
  const related = [service({ name: 'memcached' }), ...endpointSlices('memcached', deploymentPods('memcached', 1, 95))];
  const res = await post(app, '/sync', syncRequest({ parent: proxy({ name: 'huge', spec }), related }));
  t.equal(res.statusCode, 200);
  const ready = ((res.body['status'] as Json)['conditions'] as Json[]).find((c) => c['type'] === 'Ready')!;
  t.match(ready, { status: 'False', reason: 'InvalidSpec', message: /^spec\.mcrouter\.resources\.limits\["hugepages-2Mi"\]: is not a whole number of hugepages-2Mi pages: / });
});

/**
 * The real process under SIGTERM (DESIGN 11), over real keep-alive sockets:
 * readiness fails at once, syncs keep being answered through the drain window,
 * then the server stops accepting, answers every sync still in flight with 200
 * and exits 0 at once: idle keep-alive sockets do not hold close() open. A
 * client that never finishes its request is cut at SHUTDOWN_TIMEOUT_MS.
 *
 * main.ts runs through the TypeScript loader tap itself uses, so the test
 * needs no build (CI runs `npm ci && npm test`).
 */
import type { NetworkInterfaceInfo } from 'node:os';
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SettingsError, settingsFromEnv } from '../src/settings.js';
import { fieldOfPath } from '../src/http/validation-error.js';
import { buildServer } from '../src/server.js';
import { UNUSED_AFTER_MS } from '../src/http/drain.js';
import { deploymentPods, endpointSlices, proxy, service, syncRequest, type Json } from './fixtures/cluster.js';
import { exchange } from './helpers/raw-socket.js';

// The two processes start in parallel: most of each test is TypeScript compiling at startup.
t.jobs = 2;

/** Long enough for the drain-window requests to be answered on a busy 2-core CI machine. */
const DRAIN_MS = 1500;
const root = fileURLToPath(new URL('..', import.meta.url));

// A 5,000-member pool: 1.3 MB of request, tens of milliseconds of work per sync.
const body = Buffer.from(
  JSON.stringify(
    syncRequest({
      parent: proxy({ name: 'big-cache', spec: { serviceName: 'big' } }),
      related: [service({ name: 'big' }), ...endpointSlices('big', deploymentPods('big', 5000))],
    }),
  ),
);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The children of a sync answer: the same for the same request (the status carries the wall-clock time). */
const childrenOf = (answer: Answer) => JSON.stringify((JSON.parse(answer.body) as Json)['children']);

/** One request; with `rest`, the body goes out half now and half once `rest` resolves. */
function send(agent: http.Agent, base: string, method: 'GET' | 'POST', path: string, payload?: Buffer, rest?: Promise<unknown>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {};
    const req = http.request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (!payload) return void req.end();
    if (!rest) return void req.end(payload);
    const half = payload.length >> 1;
    req.write(payload.subarray(0, half));
    rest.then(() => req.end(payload.subarray(half)), reject);
  });
}

type LogLine = Record<string, unknown> & { at: number };

/** Runs src/main.ts on a free loopback port; its pino lines are read as they come, each with the time it arrived. */
async function startHook(t: Test, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import=@tapjs/typescript/import', 'src/main.ts'], {
    cwd: root,
    // Transpile only, as tap runs the tests: type checking belongs to `npm run typecheck`.
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TS_NODE_TRANSPILE_ONLY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const output = { stderr: '' };
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: performance.now() })),
  );

  const logs: LogLine[] = [];
  const waiting: { msg: RegExp; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Json;
    try {
      line = JSON.parse(text) as Json;
    } catch {
      line = { msg: text };
    }
    const entry: LogLine = { ...line, at: performance.now() };
    logs.push(entry);
    for (const w of waiting.filter((w) => w.msg.test(String(entry['msg'])))) w.resolve(entry);
  });
  /** The first log line whose msg matches, once it has come. */
  const logged = (msg: RegExp, timeoutMs: number) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = logs.find((l) => msg.test(String(l['msg'])));
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no log line ${msg} within ${timeoutMs} ms; stderr: ${output.stderr}`)), timeoutMs);
      waiting.push({ msg, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      void exited.then(() => reject(new Error(`exited before logging ${msg}; stderr: ${output.stderr}`)));
    });

  // Startup compiles the TypeScript on the fly: slow on a busy CI machine.
  const listening = await logged(/^Server listening at /, 90_000);
  const base = /(http:\/\/\S+)/.exec(String(listening['msg']))![1]!;
  return { child, base, logs, logged, exited, output };
}

t.test('SIGTERM: drain, finish every in-flight sync with 200, exit 0', async (t) => {
  const { child, base, logs, logged, exited, output } = await startHook(t, { SHUTDOWN_DELAY_MS: String(DRAIN_MS) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const idle = new http.Agent({ keepAlive: true });
  t.teardown(() => {
    agent.destroy();
    idle.destroy();
  });

  t.equal((await send(agent, base, 'GET', '/readyz')).status, 200, 'ready before SIGTERM');
  const warm = await send(agent, base, 'POST', '/sync', body);
  t.equal(warm.status, 200);
  t.not(warm.headers.connection, 'close', 'keep-alive while serving');
  t.equal((await send(idle, base, 'GET', '/healthz')).status, 200);
  t.equal(Object.values(idle.freeSockets).flat().length, 1, 'a keep-alive socket left idle through the shutdown');

  // Half their body sent now, the rest only once the server has stopped accepting: in flight from before SIGTERM to after close().
  const closing = logged(/^closing$/, 60_000);
  const straddling = [1, 2, 3].map(() => send(agent, base, 'POST', '/sync', body, closing));
  // Fully sent just before SIGTERM: in flight when it arrives.
  const early = [1, 2].map(() => send(agent, base, 'POST', '/sync', body));
  // Only the start of its headers sent before close(): answered all the same, not with Fastify's 503.
  const text = body.toString();
  const headersAcross = exchange(base, 'POST /sync HTTP/1.1\r\nHost:', false, closing.then(() => ` x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`));
  const sigterm = performance.now();
  child.kill('SIGTERM');
  await logged(/^draining$/, 10_000);

  const readyz = await send(agent, base, 'GET', '/readyz');
  t.equal(readyz.status, 503, '/readyz fails during the drain window');
  t.same(JSON.parse(readyz.body), { status: 'draining' }, 'answered by the hook, not by a closing server');
  const during = await send(agent, base, 'POST', '/sync', body);
  t.equal(during.status, 200, '/sync still answered during the drain window');
  t.ok(childrenOf(during) === childrenOf(warm), 'the whole answer');
  t.equal(during.headers.connection, 'close', 'and the connection closed after it');

  const closingAt = (await closing).at;
  t.ok(closingAt - sigterm >= DRAIN_MS - 50, `close() waited for the drain window (${Math.round(closingAt - sigterm)} ms)`);
  for (const [what, answers] of [['in flight at SIGTERM', early], ['in flight across close()', straddling]] as const) {
    for (const answer of await Promise.all(answers)) {
      t.equal(answer.status, 200, `${what}: 200`);
      t.ok(childrenOf(answer) === childrenOf(warm), `${what}: the whole answer`);
    }
  }

  const across = await headersAcross;
  t.match(across.answer, /^HTTP\/1\.1 200 OK\r\n/, 'headers finished after close() began: 200');
  t.match(across.answer, /\r\nconnection: close\r\n/i, 'and its connection closed');

  const exit = await exited;
  t.equal(exit.code, 0, 'exit code 0');
  t.ok(exit.at - closingAt < 10_000, `exits ${Math.round(exit.at - closingAt)} ms after close() began, not after a keep-alive timeout (95 s)`);
  t.same(
    logs.map((l) => l['msg']).filter((m) => m === 'draining' || m === 'closing' || m === 'stopped'),
    ['draining', 'closing', 'stopped'],
  );
  t.equal(logs.filter((l) => l['msg'] === 'sync').length, 8, 'one log line per sync');
  t.notMatch(output.stderr, /error/i, 'no error on stderr');
});

t.test('a request that never finishes cannot hold the pod past SHUTDOWN_TIMEOUT_MS', async (t) => {
  const { child, base, logged, exited } = await startHook(t, { SHUTDOWN_DELAY_MS: '100', SHUTDOWN_TIMEOUT_MS: '500' });
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  // Half a body, and the rest never: a stuck client.
  const stuck = send(agent, base, 'POST', '/sync', body, new Promise(() => {})).catch((error: Error) => error);
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGTERM');
  const closing = await logged(/^closing$/, 10_000);
  const cut = await logged(/^requests still running at the shutdown timeout/, 10_000);
  // By the hook's own log times (pino's \`time\`, ms): when this process reads each line depends on its own event
  // loop, and a 'closing' line read late made a 500 ms deadline look like 410 ms.
  const waited = Number(cut['time']) - Number(closing['time']);
  t.ok(waited >= 499 && waited < 5000, `cut ${waited} ms after close() began, by the hook's clock`);
  t.match(cut, { level: 50, timeoutMs: 500 });
  const exit = await exited;
  t.equal(exit.code, 1, 'exit code 1: a request was cut');
  t.match(await stuck, { code: 'ECONNRESET' }, 'the stuck connection is closed');
});

t.test('SHUTDOWN_DELAY_MS and SHUTDOWN_TIMEOUT_MS come from the environment', async (t) => {
  // Exactly these values: t.match would take an image that only contains the one named, or '3000' for 3000.
  const picked = ({ shutdownDelayMs, shutdownTimeoutMs, exporterImage }: ReturnType<typeof settingsFromEnv>) => ({ shutdownDelayMs, shutdownTimeoutMs, exporterImage });
  t.strictSame(picked(settingsFromEnv({})), { shutdownDelayMs: 3000, shutdownTimeoutMs: 10000, exporterImage: 'ghcr.io/dev25/mcrouter_exporter:0.5.0' }, 'the defaults');
  t.strictSame(picked(settingsFromEnv({ SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '25000', EXPORTER_IMAGE: 'mirror.example.com/e:1' })), {
    shutdownDelayMs: 0,
    shutdownTimeoutMs: 25000,
    exporterImage: 'mirror.example.com/e:1',
  }, 'as set');
  t.throws(() => settingsFromEnv({ SHUTDOWN_TIMEOUT_MS: '10s' }), { message: 'SHUTDOWN_TIMEOUT_MS must be an integer from 0 to 2147483647, got "10s"' });
  try {
    settingsFromEnv({ SHUTDOWN_DELAY_MS: '-1' });
    t.fail('a negative delay is refused');
  } catch (error) {
    t.type(error, SettingsError, 'a negative delay is refused: main.ts exits 2 with the message');
  }
});

t.test('a client that trickles its request is cut at REQUEST_TIMEOUT_MS with a JSON 408', async (t) => {
  const { child, base, exited } = await startHook(t, { REQUEST_TIMEOUT_MS: '1000' });
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const healthy = await send(agent, base, 'GET', '/healthz');
  // Longer than Go's default transport keeps an idle connection (90 s): the client closes it, not the server.
  t.equal(healthy.headers['keep-alive'], 'timeout=95', 'idle keep-alive connections are kept 95 s');
  const started = performance.now();
  const answer = await send(agent, base, 'POST', '/sync', body, new Promise(() => {}));
  const after = performance.now() - started;
  t.equal(answer.status, 408);
  t.same(JSON.parse(answer.body), { message: 'the request did not arrive within REQUEST_TIMEOUT_MS (1000 ms)' }, 'a JSON {message} naming the setting, and the connection is closed');
  t.ok(after >= 1000 && after < 5000, `cut ${Math.round(after)} ms after the request began`);
  t.equal((await send(agent, base, 'POST', '/sync', body)).status, 200, 'a whole request is still served');
  child.kill('SIGKILL');
  await exited;
});

t.test('a connection that never sends a request is answered 408 at REQUEST_TIMEOUT_MS; an idle keep-alive one is kept', async (t) => {
  const { child, base, exited } = await startHook(t, { REQUEST_TIMEOUT_MS: '1000' });
  // Node's headers timeout counts from when a connection opens, not from its first byte.
  const silent = await exchange(base);
  t.match(silent.answer, /^HTTP\/1\.1 408 /, 'a 408');
  t.ok(silent.closedAfterMs >= 950 && silent.closedAfterMs < 5000, `closed ${Math.round(silent.closedAfterMs)} ms after it opened`);
  // The same timeout must not cut short the 95 s an answered connection is kept for its next request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const sockets = new Set<net.Socket>();
  agent.on('free', (socket: net.Socket) => sockets.add(socket));
  t.equal((await send(agent, base, 'POST', '/sync', body)).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  t.equal((await send(agent, base, 'POST', '/sync', body)).status, 200, 'answered after 2.5 s idle');
  t.equal(sockets.size, 1, 'on the same connection');
  child.kill('SIGKILL');
  await exited;
});

t.test('a connection that never sent a request does not hold the shutdown open', async (t) => {
  // An HTTP client may open a connection ahead of need and leave it unused (Go's transport keeps the loser
  // of a dial race). Node's closeIdleConnections, which close() relies on, passes over such a connection.
  const { child, base, logged, exited } = await startHook(t, { SHUTDOWN_DELAY_MS: '100', SHUTDOWN_TIMEOUT_MS: '15000' });
  const silent = exchange(base);
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGTERM');
  const closing = await logged(/^closing$/, 10_000);
  const exit = await exited;
  t.equal(exit.code, 0, 'exit code 0: nothing was cut');
  t.ok(exit.at - closing.at < 10_000, `exits ${Math.round(exit.at - closing.at)} ms after close() began, not at the shutdown timeout (15 s)`);
  t.equal((await silent).answer, '', 'the unused connection closed without an answer');
});

t.test('a connection opened just before close() whose request Node has not read yet is answered, not reset', async (t) => {
  // Node reads a connection it accepted only from the next turn of its event loop on, later on a busy hook:
  // a request on its way when close() begins is still one Metacontroller sent during the drain.
  const app = buildServer();
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const payload = JSON.stringify(syncRequest({ parent: proxy({ name: 'late', spec: { serviceName: 'mc' } }), related: [service({ name: 'mc' }), ...endpointSlices('mc', deploymentPods('mc', 3))] }));
  const opened = new Promise((resolve) => app.server.once('connection', resolve));
  let sendNow: (text: string) => void = () => {};
  const late = exchange(base, undefined, false, new Promise<string>((resolve) => (sendNow = resolve)));
  await opened;
  app.drain();
  const closed = app.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  sendNow(`POST /sync HTTP/1.1\r\nHost: hook\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
  const { answer } = await late;
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'answered');
  t.match(answer, /\r\nconnection: close\r\n/i, 'and closed after it');
  await closed;
});

/**
 * One try of the test below: what the late connection got (an answer, or the error code that cut it), and
 * whether the busy call was read before the check of the late connection fell due, as the test needs.
 */
async function busyHookTry(): Promise<{ answer: string; busyReadBeforeCheck: boolean }> {
  // The client runs on a thread of its own: its bytes arrive while the hook's thread is busy.
  const app = buildServer();
  const openedAt: number[] = [];
  app.server.on('connection', () => openedAt.push(performance.now()));
  let busyReadAt = Number.POSITIVE_INFINITY;
  // Set by the client once its request is on the late connection: waiting on it rather than for a fixed
  // time keeps the test true however slowly a loaded machine schedules the client's thread.
  const written = new Int32Array(new SharedArrayBuffer(4));
  app.post('/busy', () => {
    busyReadAt = performance.now();
    Atomics.wait(written, 0, 0, 30_000);
    // And past the moment after which an unused connection is checked.
    while (performance.now() < busyReadAt + UNUSED_AFTER_MS + 150);
    return {};
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const client = new Worker(
    `const net = require('node:net');
    const { parentPort, workerData } = require('node:worker_threads');
    const open = () => new Promise((resolve) => { const s = net.connect(workerData.port, '127.0.0.1', () => resolve(s)); });
    (async () => {
      const [busy, late] = [await open(), await open()];
      let answer = '';
      late.on('data', (d) => (answer += d));
      late.on('error', (e) => (answer = e.code));
      late.on('close', () => parentPort.postMessage(answer));
      busy.on('error', () => {});
      parentPort.postMessage('connected');
      parentPort.once('message', () => {
        busy.write('POST /busy HTTP/1.1\\r\\nHost: hook\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\n\\r\\n{}');
        setTimeout(() => late.write('GET /healthz HTTP/1.1\\r\\nHost: hook\\r\\n\\r\\n', () => {
          Atomics.store(workerData.written, 0, 1);
          Atomics.notify(workerData.written, 0);
        }), 100);
      });
    })();`,
    { eval: true, workerData: { port: Number(new URL(base).port), written } },
  );
  try {
    const next = () => new Promise<string>((resolve) => client.once('message', (m: string) => resolve(m)));
    await next();
    app.drain();
    const closed = app.close();
    const answered = next();
    client.postMessage('go');
    const answer = await answered;
    await closed;
    // The late connection is the second the server accepted (none yet: the try proves nothing).
    const lateOpenedAt = openedAt[1] ?? Number.NEGATIVE_INFINITY;
    return { answer, busyReadBeforeCheck: busyReadAt < lateOpenedAt + UNUSED_AFTER_MS };
  } finally {
    await client.terminate();
  }
}

t.test('a request that reaches a young connection while the hook is busy past its 250 ms is read before the check', async (t) => {
  // A machine too loaded to read the busy call within 250 ms of the connections opening closes them as unused,
  // as it should: such a try says nothing of the order this test is about, and is made again.
  for (let attempt = 1; attempt <= 5; attempt++) {
    const { answer, busyReadBeforeCheck } = await busyHookTry();
    if (!busyReadBeforeCheck) continue;
    t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, `answered, not reset (${answer.slice(0, 40)})`);
    return;
  }
  t.fail(`in 5 tries the busy call was never read within ${UNUSED_AFTER_MS} ms of the late connection opening`);
});

t.test('a small body full of schema errors is refused within a small heap', async (t) => {
  // TypeBox's error walk kept a frame per failing array item: this body held 400 MB until answered.
  const wrong = syncRequest({ parent: proxy({ name: 'hostile', spec: { serviceName: 'big' } }), related: [service({ name: 'big' })] });
  (wrong['related'] as Record<string, Json>)['Endpoints.v1'] = {
    'default/big': { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'big', namespace: 'default' }, subsets: [{ addresses: new Array(1_000_000).fill(1) }] },
  };
  const payload = Buffer.from(JSON.stringify(wrong));
  // The last body is 9 MB, past the default limit: room for it, as a pool of some 14,000 pods would need.
  const { child, base, exited } = await startHook(t, { NODE_OPTIONS: '--max-old-space-size=160', BODY_LIMIT: String(16 * 1024 * 1024) });
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  for (let i = 0; i < 3; i++) {
    const answer = await send(agent, base, 'POST', '/sync', payload);
    t.equal(answer.status, 400, `${(payload.length / 1e6).toFixed(1)} MB, ${i + 1} of 3`);
    t.same(JSON.parse(answer.body), {
      message: 'related["Endpoints.v1"]["default/big"].subsets[0].addresses[0]: must be object',
      field: 'related["Endpoints.v1"]["default/big"].subsets[0].addresses[0]',
    });
  }
  // Valid up to its last item: each narrowing step re-checks what passes, and TypeBox's interpreted check
  // keeps a set entry per item it passes (and took 34 s on a 15 MB body): the hook checks compiled.
  const lastWrong = syncRequest({ parent: proxy({ name: 'hostile', spec: { serviceName: 'big' } }), related: [service({ name: 'big' })] });
  const families: unknown[] = new Array(3_000_000).fill('');
  families[families.length - 1] = 5;
  const related = lastWrong['related'] as Record<string, Record<string, Json>>;
  const [key, svc] = Object.entries(related['Service.v1']!)[0]!;
  related['Service.v1']![key] = { ...svc, spec: { ...(svc['spec'] as Json), ipFamilies: families } };
  const late = await send(agent, base, 'POST', '/sync', Buffer.from(JSON.stringify(lastWrong)));
  t.equal(late.status, 400, 'a body valid up to its last item');
  t.equal(JSON.parse(late.body).field, fieldOfPath(['related', 'Service.v1', key, 'spec', 'ipFamilies', 2_999_999]));
  // Every item valid, and only the root at fault: TypeBox's error walk would visit each item again.
  families[families.length - 1] = '';
  delete lastWrong['parent'];
  const noParent = await send(agent, base, 'POST', '/sync', Buffer.from(JSON.stringify(lastWrong)));
  t.equal(noParent.status, 400, 'a body whose only fault is at its root');
  t.same(JSON.parse(noParent.body), { message: 'parent: is required', field: 'parent' });
  t.equal(child.exitCode, null, 'still running');
  child.kill('SIGKILL');
  await exited;
});

t.test("without HOST the hook listens where the node's interfaces let it take every connection", async (t) => {
  const common = { netmask: '', mac: '00:00:00:00:00:00', internal: false, cidr: null };
  const address = (family: 'IPv4' | 'IPv6', ip: string): NetworkInterfaceInfo =>
    family === 'IPv4' ? { ...common, family, address: ip } : { ...common, family, address: ip, scopeid: 0 };
  t.equal(settingsFromEnv({}, { eth0: [address('IPv4', '10.0.0.5')] }).host, '0.0.0.0', 'IPv4 only: listening on :: would fail');
  t.equal(settingsFromEnv({}, { eth0: [address('IPv4', '10.0.0.5'), address('IPv6', 'fd00::5')] }).host, '::', 'dual-stack: :: takes IPv4 too');
  t.equal(settingsFromEnv({}, { eth0: [address('IPv6', 'fd00::5')] }).host, '::', 'IPv6 only');
  t.equal(settingsFromEnv({ HOST: '127.0.0.1' }, { eth0: [address('IPv6', 'fd00::5')] }).host, '127.0.0.1', 'HOST wins');
});

t.test('without HOST the hook answers on IPv4 and IPv6 loopback alike', async (t) => {
  const { networkInterfaces } = await import('node:os');
  const ipv6 = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === 'IPv6' && a.address === '::1'));
  const { child, base, exited } = await startHook(t, { HOST: '' });
  const port = new URL(base).port;
  const agent = new http.Agent();
  t.teardown(() => agent.destroy());
  t.equal((await send(agent, `http://127.0.0.1:${port}`, 'GET', '/healthz')).status, 200, 'IPv4');
  if (ipv6) t.equal((await send(agent, `http://[::1]:${port}`, 'GET', '/healthz')).status, 200, 'IPv6');
  else t.pass('IPv6', { skip: 'no IPv6 loopback on this machine' });
  child.kill('SIGKILL');
  await exited;
});

/**
 * The environment the hook starts with: every value settingsFromEnv accepts is
 * one Node, Fastify and pino run with as meant; every other value is a
 * SettingsError naming the variable, which main.ts prints as one line before
 * exiting 2, never a library's stack trace.
 */
import t from 'tap';
import buffer from 'node:buffer';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { DEFAULT_SETTINGS, INTEGER_RANGES, LOG_LEVELS, SettingsError, settingsFromEnv } from '../src/settings.js';
import { buildServer } from '../src/server.js';
import { deploymentPods, endpointSlices, proxy, service, syncRequest } from './fixtures/cluster.js';
import { codeSpans, page, tableRows, wholeWord } from './helpers/markdown.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The SettingsError settingsFromEnv throws for `env`, or undefined. */
function refusal(env: Record<string, string>): SettingsError | undefined {
  try {
    settingsFromEnv(env);
    return undefined;
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
}

/** The setting each integer variable sets. */
const SETTING_OF: Record<keyof typeof INTEGER_RANGES, keyof typeof DEFAULT_SETTINGS> = {
  PORT: 'port',
  BODY_LIMIT: 'bodyLimit',
  IN_FLIGHT_BODY_LIMIT: 'inFlightBodyLimit',
  JSON_DEPTH_LIMIT: 'jsonDepthLimit',
  SHUTDOWN_DELAY_MS: 'shutdownDelayMs',
  SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
};

t.test('unset or empty: the defaults', async (t) => {
  t.same(settingsFromEnv({}), DEFAULT_SETTINGS);
  t.same(settingsFromEnv(Object.fromEntries(Object.keys(INTEGER_RANGES).map((name) => [name, '']))), DEFAULT_SETTINGS);
  t.same(settingsFromEnv({ LOG_LEVEL: '', CLUSTER_DOMAIN: '', MCROUTER_IMAGE: '', EXPORTER_IMAGE: '' }), DEFAULT_SETTINGS);
  const defaults = DEFAULT_SETTINGS as Record<string, unknown>;
  for (const [name, [min, max]] of Object.entries(INTEGER_RANGES)) {
    const value = defaults[SETTING_OF[name as keyof typeof INTEGER_RANGES]] as number;
    t.ok(value >= min && value <= max, `the default ${name} (${value}) is in its own range`);
  }
  t.equal(settingsFromEnv({ CLUSTER_DOMAIN: DEFAULT_SETTINGS.clusterDomain }).clusterDomain, DEFAULT_SETTINGS.clusterDomain);
  t.equal(settingsFromEnv({ MCROUTER_IMAGE: DEFAULT_SETTINGS.mcrouterImage }).mcrouterImage, DEFAULT_SETTINGS.mcrouterImage);
  t.equal(settingsFromEnv({ EXPORTER_IMAGE: DEFAULT_SETTINGS.exporterImage }).exporterImage, DEFAULT_SETTINGS.exporterImage);
});

t.test('LOG_LEVEL: one of pino\'s levels', async (t) => {
  t.same([...LOG_LEVELS].sort(), ['debug', 'error', 'fatal', 'info', 'silent', 'trace', 'warn']);
  for (const level of LOG_LEVELS) {
    t.equal(settingsFromEnv({ LOG_LEVEL: level }).logLevel, level, `${level} is taken`);
    t.doesNotThrow(() => pino({ level }, pino.destination('/dev/null')), `and pino runs with ${level}`);
  }
  for (const level of ['verbose', 'INFO', 'warning', ' info', '30']) {
    const error = refusal({ LOG_LEVEL: level });
    t.type(error, SettingsError, `${JSON.stringify(level)} is refused`);
    t.equal(error?.message, `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  t.throws(() => pino({ level: 'verbose' }), /default level:verbose must be included in custom levels/, 'what pino does with verbose');
});

t.test('the integer settings: their ranges, both ends', async (t) => {
  for (const [name, [min, max]] of Object.entries(INTEGER_RANGES)) {
    // The in-flight limit's least is BODY_LIMIT's (below).
    const beside = name === 'IN_FLIGHT_BODY_LIMIT' ? { BODY_LIMIT: String(min) } : {};
    const read = (value: number) => settingsFromEnv({ ...beside, [name]: String(value) })[SETTING_OF[name as keyof typeof INTEGER_RANGES]];
    // Taken as the very number: not refused, and not clamped, rounded or left at the default.
    t.equal(read(min), min, `${name}=${min} is taken`);
    t.equal(read(max), max, `${name}=${max} is taken`);
    for (const raw of [String(min - 1), String(max + 1), 'abc', '1.5', '-0.5', 'Infinity', '1e400', '0x50', '8e3', ' 80 ', '+80']) {
      const error = refusal({ [name]: raw });
      t.type(error, SettingsError, `${name}=${raw} is refused`);
      t.equal(error?.message, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
  }
  t.match(INTEGER_RANGES, {
    PORT: [0, 65535],
    BODY_LIMIT: [1, Number],
    IN_FLIGHT_BODY_LIMIT: [1, Number.MAX_SAFE_INTEGER],
    JSON_DEPTH_LIMIT: [32, Number],
    SHUTDOWN_DELAY_MS: [0, 2 ** 31 - 1],
    SHUTDOWN_TIMEOUT_MS: [0, 2 ** 31 - 1],
    REQUEST_TIMEOUT_MS: [0, 2 ** 31 - 1],
  });
  t.equal(settingsFromEnv({ SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '0' }).shutdownDelayMs, 0, 'no drain and no grace: allowed');
});

t.test('IN_FLIGHT_BODY_LIMIT: five bodies of BODY_LIMIT unless set, and never less than one', async (t) => {
  t.equal(settingsFromEnv({}).inFlightBodyLimit, 5 * DEFAULT_SETTINGS.bodyLimit, 'Metacontroller\'s five workers, each with a body of the largest size');
  t.equal(settingsFromEnv({ BODY_LIMIT: '1000' }).inFlightBodyLimit, 5000, 'unset, it follows BODY_LIMIT');
  t.equal(settingsFromEnv({ BODY_LIMIT: '1000', IN_FLIGHT_BODY_LIMIT: '1000' }).inFlightBodyLimit, 1000, 'one body at a time');
  t.equal(
    refusal({ BODY_LIMIT: '1000', IN_FLIGHT_BODY_LIMIT: '999' })?.message,
    'IN_FLIGHT_BODY_LIMIT (999) must be at least BODY_LIMIT (1000): a body of the largest size must fit',
  );
  t.type(refusal({ IN_FLIGHT_BODY_LIMIT: '1000000' }), SettingsError, 'below the default BODY_LIMIT too');
});

t.test('the ends of the integer ranges are where Node and Fastify refuse', async (t) => {
  t.throws(() => buildServer({ bodyLimit: 0 }), { code: 'FST_ERR_ROUTE_BODY_LIMIT_OPTION_NOT_INT' }, 'Fastify refuses BODY_LIMIT=0');
  const smallest = buildServer({ bodyLimit: INTEGER_RANGES.BODY_LIMIT[0] });
  await smallest.close();
  const largest = buildServer({ bodyLimit: INTEGER_RANGES.BODY_LIMIT[1] });
  await largest.close();
  t.equal(INTEGER_RANGES.BODY_LIMIT[1], buffer.constants.MAX_STRING_LENGTH, 'a larger body could not be decoded into one string');
  t.throws(() => http.createServer().listen(INTEGER_RANGES.PORT[1] + 1), { code: 'ERR_SOCKET_BAD_PORT' }, 'Node refuses a port above the range');
  for (const [ms, headersMs] of [[0, 60_000], [1, 1], [30_000, 30_000], [INTEGER_RANGES.REQUEST_TIMEOUT_MS[1], 60_000]]) {
    const app = buildServer({ requestTimeoutMs: ms });
    t.equal(app.server.requestTimeout, ms, `REQUEST_TIMEOUT_MS=${ms} reaches Node's server`);
    // Node swaps the two when the headers' is the longer: the request's would then be 60 s.
    t.equal(app.server.headersTimeout, headersMs, `the headers' timeout then: ${headersMs} ms, no longer than the request's`);
    await app.close();
  }
});

t.test('JSON_DEPTH_LIMIT at its largest still answers every body it lets through', async (t) => {
  const limit = INTEGER_RANGES.JSON_DEPTH_LIMIT[1];
  const app = buildServer({ jsonDepthLimit: limit, clock: () => new Date('2026-11-25T12:00:00Z') });
  t.teardown(() => app.close());
  const spec = { serviceName: 'm', mcrouter: { replicas: 2, affinity: { nodeAffinity: {} } } };
  const base = JSON.stringify(syncRequest({ parent: proxy({ name: 'p', spec }), related: [service({ name: 'm' }), ...endpointSlices('m', deploymentPods('m', 3))] }));
  // The affinity sits 6 levels down and is copied into the Deployment: JSON.stringify of the answer recurses through it.
  const nested = (levels: number) => base.replace('"affinity":{', `"affinity":{"deep":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)},`);
  const send = (payload: string) => app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload });
  let inside = 0;
  for (let levels = limit; levels > 0; levels--) {
    const res = await send(nested(levels));
    if (res.statusCode === 400) continue;
    inside = levels;
    t.equal(res.statusCode, 200, `${levels} levels of affinity, the deepest body within ${limit}: served`);
    break;
  }
  t.ok(inside > limit - 20, 'found just inside the limit');
  t.equal((await send(nested(inside + 1))).statusCode, 400, 'one level more: refused');
});

t.test('HOST: an IP address or a host name', async (t) => {
  for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'fd00::1', 'localhost', 'hook.memcached-operator.svc']) {
    t.equal(settingsFromEnv({ HOST: host }).host, host, `${host} is taken`);
  }
  for (const host of ['not a host', '127.0.0.1:8080', 'http://localhost', '[::1]', 'host_name']) {
    const error = refusal({ HOST: host });
    t.type(error, SettingsError, `${JSON.stringify(host)} is refused`);
    t.equal(error?.message, `HOST must be an IP address or a host name, got ${JSON.stringify(host)}`);
  }
});

t.test('HOST unset: every address, IPv6 and IPv4 where the node has IPv6, IPv4 where it has not', async (t) => {
  const lo4 = { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' } as const;
  const lo6 = { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 } as const;
  t.equal(settingsFromEnv({}, { lo: [lo4, lo6] }).host, '::', 'dual-stack node: ::');
  t.equal(settingsFromEnv({}, { lo: [lo6] }).host, '::', 'IPv6-only node: ::');
  t.equal(settingsFromEnv({}, { lo: [lo4], eth0: undefined }).host, '0.0.0.0', 'a node without IPv6: 0.0.0.0, since :: cannot be bound there');
  t.equal(settingsFromEnv({ HOST: '' }, { lo: [lo4] }).host, '0.0.0.0', 'empty is unset');
  t.equal(settingsFromEnv({ HOST: '127.0.0.1' }, { lo: [lo6] }).host, '127.0.0.1', 'HOST wins');
});

t.test('CLUSTER_DOMAIN: a DNS name', async (t) => {
  for (const domain of ['cluster.local', 'k8s.example', 'local', 'Cluster.Local', 'a-b.c1', `${'a'.repeat(63)}.local`]) {
    t.equal(settingsFromEnv({ CLUSTER_DOMAIN: domain }).clusterDomain, domain, `${domain} is taken`);
  }
  for (const domain of ['cluster.local.', '.cluster.local', 'cluster..local', 'cluster local', 'cluster.local:53', '-x.local', 'x-.local', 'a_b.local', `${'a'.repeat(64)}.local`, `${'a.'.repeat(127)}ab`]) {
    const error = refusal({ CLUSTER_DOMAIN: domain });
    t.type(error, SettingsError, `${JSON.stringify(domain)} is refused`);
    t.equal(error?.message, `CLUSTER_DOMAIN must be a DNS name such as cluster.local, got ${JSON.stringify(domain)}`);
  }
});

t.test('MCROUTER_IMAGE and EXPORTER_IMAGE: image references', async (t) => {
  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const good = [
    'mcrouter',
    'jphalip/mcrouter:0.36.0',
    'ghcr.io/dev25/mcrouter_exporter:0.5.0',
    'example.com/mcrouter:0.41.0',
    'localhost:5000/team/mcrouter:latest',
    `registry.example.com:443/a/b-c__d.e@${digest}`,
    `jphalip/mcrouter:0.36.0@${digest}`,
    '[::1]:5000/mcrouter:1',
  ];
  const bad = [
    ' jphalip/mcrouter:0.36.0',
    'jphalip/mcrouter:0.36.0 ',
    'jphalip/mcrouter 0.36.0',
    'jphalip/McRouter:1',
    'jphalip/mcrouter:',
    'jphalip/mcrouter:a:b',
    'jphalip//mcrouter',
    'jphalip/mcrouter@sha256:abc',
    `jphalip/mcrouter:${'a'.repeat(129)}`,
    `example.com/${'a'.repeat(250)}`,
    'https://example.com/mcrouter',
  ];
  for (const name of ['MCROUTER_IMAGE', 'EXPORTER_IMAGE'] as const) {
    const key = name === 'MCROUTER_IMAGE' ? 'mcrouterImage' : 'exporterImage';
    const example = name === 'MCROUTER_IMAGE' ? 'jphalip/mcrouter:0.36.0' : 'ghcr.io/dev25/mcrouter_exporter:0.5.0';
    for (const image of good) t.equal(settingsFromEnv({ [name]: image })[key], image, `${name}=${image} is taken`);
    for (const image of bad) {
      const error = refusal({ [name]: image });
      t.type(error, SettingsError, `${name}=${JSON.stringify(image)} is refused`);
      t.equal(error?.message, `${name} must be an image reference such as ${example}, got ${JSON.stringify(image)}`);
    }
  }
});

/** Runs src/main.ts as lifecycle.test.ts does, with `env` over a loopback setup; resolves once it has exited. */
function runHook(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=@tapjs/typescript/import', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TS_NODE_TRANSPILE_ONLY: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // A hook that started has taken the setting: stop it rather than wait for a signal.
      if (stdout.includes('Server listening at')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`src/main.ts did not exit within 90 s; stderr: ${stderr}`));
    }, 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('the real process: a bad value is one line on stderr and exit 2', async (t) => {
  t.jobs = 4;
  const cases: [Record<string, string>, string][] = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ BODY_LIMIT: '0' }, 'BODY_LIMIT'],
    [{ SHUTDOWN_DELAY_MS: '3000000000' }, 'SHUTDOWN_DELAY_MS'],
    [{ CLUSTER_DOMAIN: 'cluster.local:53' }, 'CLUSTER_DOMAIN'],
    [{ HOST: 'not a host' }, 'HOST'],
  ];
  for (const [env, name] of cases) {
    t.test(Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' '), async (t) => {
      const { code, stdout, stderr } = await runHook(env);
      t.equal(code, 2, 'exit 2');
      t.equal(stdout, '', 'nothing logged: the server never started');
      t.match(stderr, /^[^\n]+\n$/, 'one line on stderr');
      t.match(stderr, new RegExp(`^${name} must be `), `naming ${name}`);
      t.notMatch(stderr, /^\s+at /m, 'no stack trace');
    });
  }
});

t.test('the real process: a port it cannot listen on is one line on stderr and exit 1', async (t) => {
  const taken = http.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = String((taken.address() as { port: number }).port);
  const { code, stderr } = await runHook({ PORT: port });
  t.equal(code, 1, 'exit 1: a failure at run time, not a bad setting');
  t.match(stderr, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: [^\\n]*EADDRINUSE[^\\n]*\\n$`), 'one line naming the address');
  t.notMatch(stderr, /^\s+at /m, 'no stack trace');
  // An IPv6 address in brackets, as a URL writes it: `::1:8080` would not say where the port starts.
  const { networkInterfaces } = await import('node:os');
  if (!Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === 'IPv6' && a.address === '::1'))) {
    t.pass('the bracketed IPv6 address', { skip: 'no IPv6 loopback on this machine' });
    return;
  }
  const taken6 = http.createServer();
  await new Promise<void>((resolve) => taken6.listen(0, '::1', resolve));
  t.teardown(() => taken6.close());
  const port6 = String((taken6.address() as { port: number }).port);
  t.match((await runHook({ PORT: port6, HOST: '::1' })).stderr, new RegExp(`^cannot listen on \\[::1\\]:${port6}: `));
});

t.test("the README's configuration table: a row for each setting, named as the environment variable the hook reads, with its default", async (t) => {
  const rows = new Map(tableRows(page('README.md'), '| variable | default | what |').map(([name, defaults]) => [codeSpans(name!)[0], defaults!]));
  const keys = Object.keys(DEFAULT_SETTINGS) as (keyof typeof DEFAULT_SETTINGS)[];
  t.equal(rows.size, keys.length, `one row per setting: ${[...rows.keys()].join(', ')}`);
  for (const key of keys) {
    const name = key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
    const defaults = rows.get(name);
    t.match(defaults ?? '', wholeWord(String(DEFAULT_SETTINGS[key])), `${name}: the default ${String(DEFAULT_SETTINGS[key])}`);
    // The name is one the hook reads: a value it cannot take is refused with the name.
    t.throws(() => settingsFromEnv({ [name]: name === 'HOST' ? 'no host!' : 'not a value' }), new RegExp(name), `${name} is read`);
  }
});

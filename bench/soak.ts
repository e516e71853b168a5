/**
 * `npm run soak`: the built hook (`node dist/hook.mjs`) under a minute of mixed
 * valid and hostile requests on loopback, 5 keep-alive connections, plus a
 * trickle of clients that hang up halfway through a body. Reports requests
 * served, status codes per kind of request, errors, latency percentiles and
 * the server's RSS over time; exits 1 on any 5xx, any valid request not
 * answered 200, a hostile one that every check must refuse answered 200, any
 * connection error, or a server that died.
 *
 * SOAK_SECONDS (60) and SOAK_CONNECTIONS (5) change the run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOOK_MAIN } from './dist.js';
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
  type Pod,
} from '../test/fixtures/cluster.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 60);
const CONNECTIONS = Number(process.env['SOAK_CONNECTIONS'] ?? 5);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---- the server

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

const port = await freePort();
// LOG_LEVEL=error: a refusal logs a warning, and hostile requests are half of the load; an error line is a 500.
const server = spawn(process.execPath, [HOOK_MAIN], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', SHUTDOWN_DELAY_MS: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let errorLines = 0;
server.stdout.on('data', (chunk: Buffer) => {
  errorLines += chunk.toString().split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":60')).length;
});
let exited: string | undefined;
server.on('exit', (code, signal) => (exited = `exit ${code ?? signal}`));

const rssKiB = (): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });

interface Answer {
  status: number;
  body: string;
}
function request(method: 'GET' | 'POST', path: string, body?: Buffer, contentType: string | null = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body) headers['content-length'] = body.length;
    if (body && contentType !== null) headers['content-type'] = contentType;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; ; i++) {
  try {
    if ((await request('GET', '/readyz')).status === 200) break;
  } catch {
    if (i > 100 || exited) throw new Error(`the server did not start (${exited ?? 'no answer'}); run npm run build first`);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const rssAtStart = rssKiB();

// ---- the mix: valid requests as Metacontroller sends them, and hostile ones

interface Template {
  kind: string;
  /** Valid requests must get 200; hostile ones 200 or 4xx, or only 4xx when `refused`. */
  valid: boolean;
  /** A hostile request every check must turn away: a 200 would mean it got through. */
  refused?: true;
  weight: number;
  method: 'GET' | 'POST';
  path: string;
  body?: Buffer;
  contentType?: string | null;
  /** Past the body limit: the server may close the connection before the upload ends. */
  overLimit?: boolean;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
/** `text` at the start of the parent's spec: the request's first `"spec":{` is the CompositeController's. */
const intoParentSpec = (request: string, text: string) => {
  const parent = request.indexOf('"parent":{');
  const spec = parent < 0 ? -1 : request.indexOf('"spec":{', parent);
  if (spec < 0) throw new Error('no parent spec in the request');
  const at = spec + '"spec":{'.length;
  return request.slice(0, at) + text + request.slice(at);
};

/** A first sync and the settled one after it, children and status as the API server holds them. */
async function settled(name: string, spec: Json, related: Json[], keying: 'v1' | 'v2'): Promise<{ first: Json; steady: Json; parent: Json }> {
  const first = syncRequest({ parent: proxy({ name, spec }), related, keying });
  const answer = JSON.parse((await request('POST', '/sync', json(first))).body) as Json;
  const parent = proxy({ name, spec, status: answer['status'] as Json });
  return { first, parent, steady: syncRequest({ parent, related, children: observedChildren(parent, answer['children'] as Json[]), keying }) };
}

const stsRelated = [service({ name: 'memcached-a', headless: true }), ...endpointSlices('memcached-a', statefulSetPods('memcached-a', [0, 1, 2]))];
const small = await settled('small', { serviceName: 'memcached-a' }, stsRelated, 'v1');

const pods100 = deploymentPods('memcached-b', 100);
const related100 = (pods: Pod[]) => [service({ name: 'memcached-b' }), ...endpointSlices('memcached-b', pods), endpoints('memcached-b', pods)];
const medium = await settled('medium', { serviceName: 'memcached-b', mcrouter: { replicas: 3 } }, related100(pods100), 'v2');
// A middle pod gone and a replacement not ready yet: a hole filled, lastChange and the keyspace movement computed.
const changed = syncRequest({
  parent: medium.parent,
  related: related100([...pods100.slice(0, 40), ...pods100.slice(41), { name: 'memcached-b-new', ip: '10.244.9.9', ready: false }]),
  children: Object.values(medium.steady['children'] as Record<string, Record<string, Json>>).flatMap((m) => Object.values(m)),
  keying: 'v2',
});

const pods1000 = deploymentPods('memcached-c', 1000);
const large = await settled(
  'large',
  { rules: { type: 'replicated', children: [{ service: { name: 'memcached-c' } }, { service: { name: 'memcached-a' } }] } },
  [service({ name: 'memcached-c' }), ...endpointSlices('memcached-c', pods1000), ...stsRelated],
  'v2',
);

const mediumText = JSON.stringify(medium.steady);
const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
/** Deterministic mutations: a wrong type at one of the request's paths. */
function mutations(request: Json, count: number): Buffer[] {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    if (typeof v !== 'object' || v === null) return;
    for (const [k, c] of Object.entries(v)) {
      const path = [...p, Array.isArray(v) ? Number(k) : k];
      paths.push(path);
      walk(c, path);
    }
  };
  walk(request, []);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const path = paths[Math.floor((i * paths.length) / count)]!;
    const copy = structuredClone(request);
    let holder = copy as Record<string | number, unknown>;
    for (const s of path.slice(0, -1)) holder = holder[s] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    const old = holder[last];
    holder[last] = typeof old === 'string' ? 42 : typeof old === 'number' ? 'x' : old === null ? {} : typeof old === 'object' ? 'x' : null;
    out.push(json(copy));
  }
  return out;
}
const mutated = mutations(small.steady, 200);

const templates: Template[] = [
  { kind: 'sync: StatefulSet, 3 pods', valid: true, weight: 20, method: 'POST', path: '/sync', body: json(small.steady) },
  { kind: 'sync: first, 3 pods', valid: true, weight: 5, method: 'POST', path: '/sync', body: json(small.first) },
  { kind: 'sync: 100 pods, steady', valid: true, weight: 12, method: 'POST', path: '/sync', body: Buffer.from(mediumText) },
  { kind: 'sync: 100 pods, one replaced', valid: true, weight: 8, method: 'POST', path: '/sync', body: json(changed) },
  { kind: 'sync: 1000 pods, replicated', valid: true, weight: 3, method: 'POST', path: '/sync', body: json(large.steady) },
  { kind: 'customize', valid: true, weight: 5, method: 'POST', path: '/customize', body: json({ parent: medium.parent }) },
  { kind: 'GET /metrics', valid: true, weight: 2, method: 'GET', path: '/metrics' },
  { kind: 'hostile: wrong type at a path', valid: false, weight: 12, method: 'POST', path: '/sync' },
  { kind: 'hostile: 10,000 levels deep', valid: false, refused: true, weight: 5, method: 'POST', path: '/sync', body: Buffer.from(mediumText.replace('"related":{', `"related":{"X.v1":${deep(10_000)},`)) },
  { kind: 'hostile: truncated', valid: false, refused: true, weight: 5, method: 'POST', path: '/sync', body: Buffer.from(mediumText.slice(0, mediumText.length / 2)) },
  { kind: 'hostile: __proto__', valid: false, refused: true, weight: 5, method: 'POST', path: '/sync', body: Buffer.from(intoParentSpec(mediumText, '"__proto__":{"polluted":true},')) },
  { kind: 'hostile: constructor.prototype', valid: false, refused: true, weight: 3, method: 'POST', path: '/customize', body: Buffer.from(JSON.stringify({ parent: medium.parent }).replace('"metadata":{', '"metadata":{"constructor":{"prototype":{"x":1}},')) },
  { kind: 'hostile: random JSON', valid: false, refused: true, weight: 5, method: 'POST', path: '/sync', body: json([{ parent: 1 }, 'x', null, { a: [true] }]) },
  { kind: 'hostile: not UTF-8', valid: false, refused: true, weight: 3, method: 'POST', path: '/sync', body: Buffer.concat([Buffer.from(mediumText.slice(0, 500)), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from(mediumText.slice(500))]) },
  { kind: 'hostile: wrong content type', valid: false, refused: true, weight: 3, method: 'POST', path: '/sync', body: Buffer.from(mediumText), contentType: 'text/plain' },
  { kind: 'hostile: no content type', valid: false, refused: true, weight: 2, method: 'POST', path: '/customize', body: json({ parent: medium.parent }), contentType: null },
  { kind: 'hostile: 1 MB name', valid: false, refused: true, weight: 2, method: 'POST', path: '/sync', body: Buffer.from(mediumText.replace('"name":"medium"', `"name":"${'m'.repeat(1_000_000)}"`)) },
  { kind: 'hostile: 17 MB body (413)', valid: false, refused: true, overLimit: true, weight: 0.1, method: 'POST', path: '/sync', body: Buffer.from(JSON.stringify({ ...small.steady, pad: 'x'.repeat(17 * 1024 * 1024) })) },
  { kind: 'hostile: unknown route', valid: false, refused: true, weight: 1, method: 'POST', path: '/finalize', body: json({ parent: medium.parent }) },
];

// A small deterministic PRNG: the same mix every run.
let state = 0x9e3779b9;
const random = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 0x100000000;
};
const totalWeight = templates.reduce((n, t) => n + t.weight, 0);
const pick = (): Template => {
  let r = random() * totalWeight;
  for (const t of templates) if ((r -= t.weight) < 0) return t;
  return templates[0]!;
};

// ---- the run

interface Tally {
  count: number;
  codes: Map<number, number>;
  latencies: number[];
}
const tallies = new Map<string, Tally>(templates.map((t) => [t.kind, { count: 0, codes: new Map(), latencies: [] }]));
const all: number[] = [];
let errors = 0;
let unexpected = 0;
const firstErrors: string[] = [];
const rssSamples: [number, number][] = [[0, rssAtStart]];

const started = performance.now();
const deadline = started + SECONDS * 1000;
const rssTimer = setInterval(() => rssSamples.push([Math.round((performance.now() - started) / 1000), rssKiB()]), 5000);

async function worker(): Promise<void> {
  let n = 0;
  while (performance.now() < deadline && !exited) {
    const t = pick();
    const body = t.kind === 'hostile: wrong type at a path' ? mutated[n++ % mutated.length] : t.body;
    const t0 = performance.now();
    let answer: Answer;
    try {
      answer = await request(t.method, t.path, body, t.contentType === undefined ? 'application/json' : t.contentType);
    } catch (error) {
      // The server answers 413 as soon as a body passes the limit and closes the connection: a client
      // still uploading sees the socket go away. That is the refusal working, not a failure.
      const code = (error as NodeJS.ErrnoException).code;
      if (t.overLimit && (code === 'EPIPE' || code === 'ECONNRESET')) {
        const tally = tallies.get(t.kind)!;
        tally.count++;
        tally.codes.set(0, (tally.codes.get(0) ?? 0) + 1);
        continue;
      }
      errors++;
      if (firstErrors.length < 5) firstErrors.push(`${t.kind}: ${String(error)}`);
      continue;
    }
    const ms = performance.now() - t0;
    const tally = tallies.get(t.kind)!;
    tally.count++;
    tally.codes.set(answer.status, (tally.codes.get(answer.status) ?? 0) + 1);
    tally.latencies.push(ms);
    all.push(ms);
    // A 429 is the body budget's "ask again later", not a refusal of what the request says.
    const refused = answer.status >= 400 && answer.status < 500 && answer.status !== 429;
    const ok = t.valid ? answer.status === 200 : t.refused ? refused : answer.status === 200 || refused;
    if (!ok) {
      unexpected++;
      if (firstErrors.length < 5) firstErrors.push(`${t.kind}: ${answer.status} ${answer.body.slice(0, 200)}`);
    }
  }
}

/** Clients that send half a body and hang up: the server must drop them and carry on. */
let aborted = 0;
async function hangUps(): Promise<void> {
  while (performance.now() < deadline && !exited) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n${mediumText.slice(0, 5000)}`);
        setTimeout(() => {
          socket.destroy();
          aborted++;
          resolve();
        }, 20);
      });
      socket.on('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
  }
}

await Promise.all([...Array.from({ length: CONNECTIONS }, worker), hangUps()]);
clearInterval(rssTimer);
const elapsed = (performance.now() - started) / 1000;
const rssAtEnd = rssKiB();
const healthy = !exited && (await request('GET', '/healthz').then((a) => a.status === 200, () => false));
agent.destroy();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));

// ---- the report

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const codes = new Map<number, number>();
for (const t of tallies.values()) for (const [c, n] of t.codes) if (c !== 0) codes.set(c, (codes.get(c) ?? 0) + n);
const served = all.length;
const range = (samples: [number, number][]) =>
  samples.length === 0 ? '-' : `${(Math.min(...samples.map(([, k]) => k)) / 1024).toFixed(0)}-${(Math.max(...samples.map(([, k]) => k)) / 1024).toFixed(0)} MiB from ${samples[0]![0]} s on`;
const fiveXx = [...codes].filter(([c]) => c >= 500).reduce((n, [, k]) => n + k, 0);

console.log(`soak: ${elapsed.toFixed(1)} s, ${CONNECTIONS} connections against node ${relative(ROOT, HOOK_MAIN)} on 127.0.0.1:${port}\n`);
console.log('kind                                  requests  status codes (0: closed mid-upload)  p50 ms   p99 ms');
for (const t of templates) {
  const tally = tallies.get(t.kind)!;
  const cs = [...tally.codes].sort(([a], [b]) => a - b).map(([c, n]) => `${c}:${n}`).join(' ');
  console.log(`${t.kind.padEnd(38)}${String(tally.count).padStart(8)}  ${cs.padEnd(35)}${fmt(percentile(tally.latencies, 50)).padStart(8)} ${fmt(percentile(tally.latencies, 99)).padStart(8)}`);
}
console.log(`
requests served   ${served} (${(served / elapsed).toFixed(0)}/s), ${aborted} clients hung up mid-body
status codes      ${[...codes].sort(([a], [b]) => a - b).map(([c, n]) => `${c}: ${n}`).join(', ')}
5xx               ${fiveXx} (error log lines: ${errorLines})
errors            ${errors} connection errors/timeouts, ${unexpected} unexpected answers
latency           p50 ${fmt(percentile(all, 50))} ms, p99 ${fmt(percentile(all, 99))} ms, max ${fmt(Math.max(...all))} ms
RSS               start ${(rssAtStart / 1024).toFixed(1)} MiB (idle), end ${(rssAtEnd / 1024).toFixed(1)} MiB; under load ${range(rssSamples.slice(2))}; every 5 s: ${rssSamples.map(([s, k]) => `${s}s ${(k / 1024).toFixed(0)}`).join(', ')} MiB
server            ${healthy ? 'up, /healthz 200 at the end' : `DOWN (${exited ?? '/healthz failed'})`}`);
if (firstErrors.length > 0) console.log(`first problems:\n  ${firstErrors.join('\n  ')}`);

process.exitCode = fiveXx === 0 && errorLines === 0 && errors === 0 && unexpected === 0 && healthy ? 0 : 1;

/** Calls the real server the way Metacontroller does, through Fastify's inject. */
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { pino } from 'pino';
import type { SyncContext } from '../../src/core/sync.js';
import { buildServer, type ServerOptions } from '../../src/server.js';
import { DEFAULT_SETTINGS } from '../../src/settings.js';
import { observedChildren, proxy, syncRequest, type Json } from '../fixtures/cluster.js';

export const FIXED_NOW = new Date('2026-11-25T12:00:00Z');

/** What a testServer() passes sync(): FIXED_NOW as the API server writes times, the default cluster domain and images. */
export const SYNC_CONTEXT: SyncContext = {
  now: FIXED_NOW.toISOString().replace('.000Z', 'Z'),
  clusterDomain: DEFAULT_SETTINGS.clusterDomain,
  images: { mcrouter: DEFAULT_SETTINGS.mcrouterImage, exporter: DEFAULT_SETTINGS.exporterImage },
};

export const testServer = (options: ServerOptions = {}) => buildServer({ clock: () => FIXED_NOW, ...options });
export type TestServer = ReturnType<typeof testServer>;

/** A test server logging to memory at `level`, as main.ts logs to stdout: each line parsed. */
export function loggedServer(level = 'info', options: ServerOptions = {}): { app: TestServer; lines: Json[] } {
  const lines: Json[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Json);
      done();
    },
  });
  return { app: testServer({ logger: pino({ level }, stream), ...options }), lines };
}

export interface HookAnswer {
  statusCode: number;
  text: string;
  body: Json;
}

export async function post(app: TestServer, path: '/sync' | '/customize', payload: unknown): Promise<HookAnswer> {
  const res = await app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { statusCode: res.statusCode, text: res.body, body: JSON.parse(res.body) as Json };
}

export const childOf = (body: Json, kind: string): Json | undefined =>
  (body['children'] as Json[]).find((c) => c['kind'] === kind);

export interface PoolConfig {
  servers: string[];
  weights?: number[];
}
export interface ConfigJson {
  pools: Record<string, PoolConfig>;
  route: unknown;
}

export const configOf = (body: Json): ConfigJson => {
  const cm = childOf(body, 'ConfigMap');
  if (!cm) throw new Error('no ConfigMap in the response');
  return JSON.parse((cm['data'] as Record<string, string>)['config.json']!) as ConfigJson;
};

/**
 * A MemcachedProxy synced again and again as Metacontroller does: each sync sends the status of the answer
 * before and its children as the API server then holds them. A spec edit bumps `metadata.generation`, as the
 * API server does.
 */
export class SyncedProxy<Status extends object = Json> {
  status: (Json & Status) | undefined;
  /** The children as the API server holds them: what the next sync observes. */
  observed: Json[] = [];
  private generation = 1;

  /** With `t`, each sync's 200 is also an assertion of that test. */
  constructor(
    private spec: Json,
    readonly name = 'cache',
    private readonly keying: 'v1' | 'v2' = 'v1',
    private readonly t?: Test,
  ) {}

  respec(spec: Json): void {
    if (JSON.stringify(spec) === JSON.stringify(this.spec)) return;
    this.spec = spec;
    this.generation += 1;
  }

  /** One sync against `app` with `related`; anything but a 200 throws (and fails `t`'s assertion first). */
  async sync(app: TestServer, related: Json[]): Promise<{ body: Json; status: Json & Status }> {
    const parent = proxy({ name: this.name, spec: this.spec, generation: this.generation, ...(this.status ? { status: this.status } : {}) });
    const res = await post(app, '/sync', syncRequest({ parent, related, children: this.observed, keying: this.keying }));
    this.t?.equal(res.statusCode, 200, `${this.name}: sync answered 200`);
    if (res.statusCode !== 200) throw new Error(`sync answered ${res.statusCode}: ${res.text}`);
    const status = res.body['status'] as Json & Status;
    this.status = status;
    this.observed = observedChildren(parent, res.body['children'] as Json[]);
    return { body: res.body, status };
  }
}

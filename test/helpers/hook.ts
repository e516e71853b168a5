/** Calls the real server the way Metacontroller does, through Fastify's inject. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildServer, type ServerOptions } from '../../src/server.js';
import type { Json } from '../fixtures/cluster.js';

export const FIXED_NOW = new Date('2026-11-25T12:00:00Z');

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

/**
 * Readings of a benchmarked server's memory: RSS from /proc, and what the hook's JavaScript holds from its
 * own /metrics.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { mb, rssBytes, type ServerProcess } from './http.js';

/** What the hook's JavaScript holds, by its own /metrics (prom-client's process metrics). */
export interface JsMemory {
  /** The V8 heap in use. */
  heapUsedMb: number;
  /** Buffers and other objects' memory outside the heap. */
  externalMb: number;
  /** Full (mark-compact) collections so far: one since a reading means that reading's heap is what survived. */
  majorCollections: number;
}

/**
 * Unlike RSS, what the hook's JavaScript holds leaves out what the allocator keeps of freed native memory,
 * which moved a settled hook's RSS by up to 18 MB from one idle reading to the next while this held within
 * half a MB.
 */
export async function jsMemory(server: ServerProcess): Promise<JsMemory> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  // `absent`: what a series prom-client has not written yet means (a label set it has not seen).
  const value = (series: string, absent?: number) => {
    const match = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
    if (match) return Number(match[1]);
    if (absent === undefined) throw new Error(`${server.name} serves no ${series}`);
    return absent;
  };
  return {
    heapUsedMb: mb(value('nodejs_heap_size_used_bytes')),
    externalMb: mb(value('nodejs_external_memory_bytes')),
    majorCollections: value('nodejs_gc_duration_seconds_count{kind="major"}', 0),
  };
}

/** The hook's JavaScript memory, heap in use and external. */
export const jsHeldMb = (memory: JsMemory) => memory.heapUsedMb + memory.externalMb;

/**
 * Idle seconds a reading after a load waits. V8's memory reducer collects 8 s after the last full
 * collection once allocation has stopped, and again 8 s later: it gave memory back 8-23 s after a load here.
 */
export const IDLE_SECONDS = 30;

export interface Idle {
  seconds: number;
  /** RSS every second once the last load has stopped. */
  samplesMb: number[];
  /** The last sample: what the server still holds once it has been idle for `seconds`. */
  settledMb: number;
}

/**
 * RSS of `server`, idle, every second for IDLE_SECONDS after a load. Right after a load, RSS is whatever
 * the last collection happened to leave, as arbitrary as one sample under load; once allocation stops,
 * V8's memory reducer collects and gives back what the load no longer needs.
 */
export async function idle(server: ServerProcess): Promise<Idle> {
  const samples: number[] = [];
  for (let i = 0; i < IDLE_SECONDS; i++) {
    await sleep(1000);
    samples.push(mb(rssBytes(server.pid)));
  }
  return { seconds: IDLE_SECONDS, samplesMb: samples, settledMb: samples.at(-1)! };
}

/** The hook's idle reading: also what its JavaScript holds at the end, and whether that is what a full collection left. */
export interface HookIdle extends Idle {
  js: JsMemory;
  /** A full collection came within the idle seconds: the heap then is what survived, not a load's garbage. */
  collected: boolean;
}

export async function hookIdle(hook: ServerProcess): Promise<HookIdle> {
  const { majorCollections } = await jsMemory(hook);
  const reading = await idle(hook);
  const js = await jsMemory(hook);
  return { ...reading, js, collected: js.majorCollections > majorCollections };
}

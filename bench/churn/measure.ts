/**
 * Hit rates on real memcached servers: write a fixed key set through the
 * config before an event, play the event's steps (stopping and starting the
 * pods' memcached processes), and after every step read every key through the
 * config of that step.
 */
import type { McrouterConfig } from '../../src/core/mcrouter-config.js';
import type { RouteTree, compileConfig as CompileConfig } from '../../src/mcrouter/route.js';
import type { ChurnEvent, Pod, ProcessChange, Workload } from './cluster.js';
import { MEMCACHED_PORT, NAMESPACE } from './controllers.js';
import { MemcachedConnection, MemcachedProcess, freePort } from './memcached.js';

/** One memcached process per pod, on a loopback port that stays the pod's across restarts. */
export class Fleet {
  private readonly processes = new Map<string, MemcachedProcess>();
  constructor(private readonly binary: string) {}

  async ensureRunning(pod: string): Promise<void> {
    let server = this.processes.get(pod);
    if (!server) {
      server = new MemcachedProcess(this.binary, await freePort());
      this.processes.set(pod, server);
    }
    await server.start();
  }

  async apply(change: ProcessChange): Promise<void> {
    if (change.action === 'stop') return this.processes.get(change.pod)?.stop();
    // A start is a new, empty memcached, whatever ran there before.
    await this.processes.get(change.pod)?.stop();
    await this.ensureRunning(change.pod);
  }

  /** The pod's port; a pod whose process is stopped keeps it, and connections to it are refused. */
  portOf(pod: string): number | undefined {
    return this.processes.get(pod)?.port;
  }

  async flushAll(): Promise<void> {
    await Promise.all(
      [...this.processes.values()]
        .filter((p) => p.running)
        .map(async (p) => {
          const conn = await MemcachedConnection.open(p.port);
          if (!conn) throw new Error(`memcached on port ${p.port} refused a connection`);
          try {
            await conn.flushAll();
          } finally {
            conn.close();
          }
        }),
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop()));
  }

  get size(): number {
    return this.processes.size;
  }
}

/**
 * Which pod an address in a config reaches in a given state of the cluster.
 * An IP reaches the pod holding it, ready or not (mcrouter connects to it
 * directly). A StatefulSet DNS name resolves only while its pod is ready: a
 * headless Service publishes ready endpoints only. Anything else reaches
 * nothing, and a request to it fails like a miss.
 */
export function addressBook(workload: Workload, pods: Pod[]): (address: string) => string | undefined {
  const book = new Map<string, string>();
  for (const pod of pods) {
    book.set(`${pod.ip}:${MEMCACHED_PORT}`, pod.name);
    if (workload.headless && pod.hostname && (pod.ready ?? true) && !pod.terminating) {
      book.set(`${pod.hostname}.${workload.name}.${NAMESPACE}.svc.cluster.local:${MEMCACHED_PORT}`, pod.name);
    }
  }
  return (address) => book.get(address);
}

export interface StepHits {
  note: string;
  hits: number;
}

export interface Measurement {
  keys: number;
  steps: StepHits[];
  /** Hit rate after the last step. */
  final: number;
  /** The lowest hit rate after any step. */
  lowest: number;
  /** Keys written to a server that kept its data throughout, yet missed after some step. */
  collateral: number;
  /** Reads whose outcome differs from what routing and process restarts predict (0 unless something is off). */
  modelMismatches: number;
}

const valueOf = (key: string): string => `${key}|cached-value-0123456789abcdef`;

/** Groups key indexes by the pod their address reaches (`undefined`: none). */
function groupByPod(tree: RouteTree, op: 'set' | 'get', keys: readonly string[], reach: (a: string) => string | undefined) {
  const groups = new Map<string | undefined, number[]>();
  const podOfKey: (string | undefined)[] = new Array(keys.length);
  keys.forEach((key, i) => {
    const address = tree.firstDestination(key, op);
    const pod = address === undefined ? undefined : reach(address);
    podOfKey[i] = pod;
    let group = groups.get(pod);
    if (!group) groups.set(pod, (group = []));
    group.push(i);
  });
  return { groups, podOfKey };
}

export interface EventConfigs {
  before: McrouterConfig;
  /** The config after each of the event's steps. */
  steps: McrouterConfig[];
}

export async function measureEvent(
  fleet: Fleet,
  compileConfig: typeof CompileConfig,
  workload: Workload,
  event: ChurnEvent,
  configs: EventConfigs,
  keys: readonly string[],
): Promise<Measurement> {
  for (const pod of event.before) await fleet.ensureRunning(pod.name);
  await fleet.flushAll();

  const written = groupByPod(compileConfig(configs.before), 'set', keys, addressBook(workload, event.before));
  await Promise.all(
    [...written.groups].map(async ([pod, indexes]) => {
      const port = pod === undefined ? undefined : fleet.portOf(pod);
      const conn = port === undefined ? undefined : await MemcachedConnection.open(port);
      if (!conn) throw new Error(`${indexes.length} keys route to ${pod ?? 'no server'} before "${event.title}"`);
      try {
        const stored = await conn.setMany(indexes.map((i) => [keys[i]!, valueOf(keys[i]!)] as const));
        if (stored !== indexes.length) throw new Error(`${pod}: ${stored} of ${indexes.length} sets stored`);
      } finally {
        conn.close();
      }
    }),
  );

  const emptied = new Set<string>();
  const everMissed = new Uint8Array(keys.length);
  const steps: StepHits[] = [];
  let modelMismatches = 0;
  for (const [s, step] of event.steps.entries()) {
    for (const change of step.processes) {
      await fleet.apply(change);
      emptied.add(change.pod);
    }
    const read = groupByPod(compileConfig(configs.steps[s]!), 'get', keys, addressBook(workload, step.pods));
    const hit = new Uint8Array(keys.length);
    await Promise.all(
      [...read.groups].map(async ([pod, indexes]) => {
        const port = pod === undefined ? undefined : fleet.portOf(pod);
        const conn = port === undefined ? undefined : await MemcachedConnection.open(port);
        if (!conn) return; // a stopped server: every read fails
        try {
          const found = await conn.getMany(indexes.map((i) => keys[i]!));
          for (const i of indexes) if (found.get(keys[i]!) === valueOf(keys[i]!)) hit[i] = 1;
        } finally {
          conn.close();
        }
      }),
    );
    let hits = 0;
    for (let i = 0; i < keys.length; i++) {
      const pod = read.podOfKey[i];
      const expected = pod !== undefined && pod === written.podOfKey[i] && !emptied.has(pod);
      if (expected !== (hit[i] === 1)) modelMismatches++;
      if (hit[i]) hits++;
      else everMissed[i] = 1;
    }
    steps.push({ note: step.note, hits: hits / keys.length });
  }

  let collateral = 0;
  for (let i = 0; i < keys.length; i++) {
    if (everMissed[i] && !emptied.has(written.podOfKey[i]!)) collateral++;
  }
  const rates = steps.map((s) => s.hits);
  return {
    keys: keys.length,
    steps,
    final: rates.at(-1) ?? 1,
    lowest: Math.min(...rates),
    collateral: collateral / keys.length,
    modelMismatches,
  };
}

/**
 * The best hit rate any balanced placement can reach: keys on servers whose
 * data is gone (departed or restarted) are lost, and servers that start empty
 * must take their share of keys (1/n each) from the others.
 */
export function bestHitRate(event: ChurnEvent): number {
  const emptied = new Set(event.steps.flatMap((s) => s.processes.map((p) => p.pod)));
  const after = event.steps.at(-1)!.pods.filter((p) => !p.terminating);
  const lost = event.before.filter((p) => emptied.has(p.name)).length / event.before.length;
  const newcomers = after.filter((p) => emptied.has(p.name)).length / after.length;
  return 1 - Math.max(lost, newcomers);
}

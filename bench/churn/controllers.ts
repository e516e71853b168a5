/**
 * The two controllers the bench compares, fed the same endpoints:
 * - the operator: the real sync hook, called over HTTP (Fastify's inject) the
 *   way Metacontroller calls it, its children and status fed back;
 * - the naive baseline: what ianlewis/memcached-operator v0.0.2 did, the ready
 *   addresses as the Endpoints controller sorts them (IP strings), in one pool.
 */
import type { LastChange } from '../../src/api/proxy-status.js';
import type { McrouterConfig } from '../../src/core/mcrouter-config.js';
import type { buildServer as BuildServer } from '../../src/server.js';
import { endpointSlices, observedChildren, proxy, service, statefulSet, syncRequest, type Json, type Pod } from '../../test/fixtures/cluster.js';
import type { Workload } from './cluster.js';

export const NAMESPACE = 'default';
export const MEMCACHED_PORT = 11211;

/** The Service and EndpointSlices of a workload's pods, as the API server serves them. */
export function relatedObjects(workload: Workload, pods: Pod[]): Json[] {
  return [
    service({ name: workload.name, namespace: NAMESPACE, headless: workload.headless }),
    ...endpointSlices(workload.name, pods, { namespace: NAMESPACE, port: MEMCACHED_PORT }),
    // Metacontroller sends the namespace's StatefulSets (the customize hook asks for them).
    ...(workload.kind === 'StatefulSet' ? [statefulSet(workload.name, workload.desiredReplicas, { namespace: NAMESPACE })] : []),
  ];
}

export interface OperatorAnswer {
  config: McrouterConfig;
  /** status.lastChange when this sync set it (not when it carried an older one over). */
  lastChange?: LastChange;
}

/**
 * One MemcachedProxy over a workload's Service, synced as Metacontroller
 * would: each sync sees the children the previous one applied and the status
 * it wrote.
 */
export class OperatorSession {
  private status: Json | undefined;
  private children: Json[] = [];

  constructor(
    private readonly app: ReturnType<typeof BuildServer>,
    private readonly proxyName: string,
    private readonly workload: Workload,
  ) {}

  async sync(pods: Pod[], time: string): Promise<OperatorAnswer> {
    const parent = proxy({
      name: this.proxyName,
      namespace: NAMESPACE,
      spec: { serviceName: this.workload.name },
      ...(this.status ? { status: this.status } : {}),
    });
    const request = syncRequest({ parent, related: relatedObjects(this.workload, pods), children: this.children, keying: 'v2' });
    const res = await this.app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: request });
    if (res.statusCode !== 200) throw new Error(`sync answered ${res.statusCode}: ${res.body}`);
    const body = JSON.parse(res.body) as { status: Json; children: Json[] };
    this.status = body.status;
    this.children = observedChildren(parent, body.children);
    const configMap = body.children.find((c) => c['kind'] === 'ConfigMap') as { data: Record<string, string> } | undefined;
    const text = configMap?.data['config.json'];
    if (text === undefined) throw new Error('the sync returned no config.json');
    const lastChange = body.status['lastChange'] as LastChange | undefined;
    return { config: JSON.parse(text) as McrouterConfig, ...(lastChange?.time === time ? { lastChange } : {}) };
  }
}

/**
 * v0.0.2's pool: the Endpoints object's ready `addresses` with the port, in
 * the Endpoints controller's order (sorted by IP as a string), routed by
 * `PoolRoute`. Read here from the same EndpointSlices the operator gets.
 */
export function naiveConfig(workload: Workload, pods: Pod[]): McrouterConfig {
  const ready: { ip: string; port: number }[] = [];
  for (const object of relatedObjects(workload, pods)) {
    if (object['kind'] !== 'EndpointSlice') continue;
    const port = (object['ports'] as { port: number }[])[0]!.port;
    for (const ep of object['endpoints'] as { addresses: string[]; conditions: { ready: boolean } }[]) {
      if (ep.conditions.ready) ready.push({ ip: ep.addresses[0]!, port });
    }
  }
  // By the IP alone, byte by byte (Kubernetes' LessEndpointAddress): sorting `ip:port` strings would put
  // 10.244.1.2:11211 after 10.244.1.252:11211, since ':' sorts after the digits.
  ready.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return { pools: { [workload.name]: { servers: ready.map((r) => `${r.ip}:${r.port}`) } }, route: `PoolRoute|${workload.name}` };
}

/**
 * The sample requests in hooks/: what Metacontroller sends for typical
 * situations. `npm run hooks` writes each request and the server's exact
 * response; test/hooks.test.ts replays them and compares byte for byte.
 */
import {
  deploymentPods,
  endpointSlices,
  endpoints,
  observedChildren,
  proxy,
  service,
  statefulSet,
  statefulSetPods,
  syncRequest,
  type Json,
} from '../test/fixtures/cluster.js';
import { buildServer } from '../src/server.js';

export const SAMPLE_NOW = new Date('2026-11-25T12:00:00Z');

export interface Sample {
  name: string;
  hook: 'sync' | 'customize';
  description: string;
  request: Json;
}

const seed = (status?: Json) => proxy({ name: 'example-cluster', spec: { serviceName: 'memcached-pool1' }, ...(status ? { status } : {}) });
const pool1 = service({ name: 'memcached-pool1', headless: true });

/** Answers a request with the real core, to build the next step's observed children and status. */
async function answer(request: Json): Promise<Json> {
  const app = buildServer({ clock: () => SAMPLE_NOW });
  const res = await app.inject({ method: 'POST', url: '/sync', payload: request });
  await app.close();
  return JSON.parse(res.body) as Json;
}

export async function samples(): Promise<Sample[]> {
  // The namespace's StatefulSets come too: the customize hook asks for them.
  const three = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1, 2])), statefulSet('memcached-pool1', 3)];
  const first = syncRequest({ parent: seed(), related: three });
  const firstAnswer = await answer(first);
  const settled = seed(firstAnswer['status'] as Json);
  const observed = observedChildren(settled, firstAnswer['children'] as Json[]);
  const settledAnswer = await answer(syncRequest({ parent: settled, related: three, children: observed }));
  const ready = seed(settledAnswer['status'] as Json);

  const deployPods = deploymentPods('memcached-deploy', 5).map((p, i) => (i === 3 ? { ...p, ready: false } : p));
  const deployParent = proxy({ name: 'sessions', namespace: 'web', spec: { serviceName: 'memcached-deploy' } });
  const deployRelated = (pods: typeof deployPods) => [
    service({ name: 'memcached-deploy', namespace: 'web' }),
    endpoints('memcached-deploy', pods, { namespace: 'web' }),
  ];
  const deployFirst = syncRequest({ parent: deployParent, related: deployRelated(deployPods) });
  const deployAnswer = await answer(deployFirst);
  const deployObserved = observedChildren(deployParent, deployAnswer['children'] as Json[]);
  // Ready once Metacontroller has applied the first answer, as `ready` above.
  const deploySettled = await answer(syncRequest({ parent: deployParent, related: deployRelated(deployPods), children: deployObserved }));
  const deployReady = proxy({ name: 'sessions', namespace: 'web', spec: { serviceName: 'memcached-deploy' }, status: deploySettled['status'] as Json });
  const withoutMiddle = deployPods.filter((_, i) => i !== 2);

  return [
    {
      name: 'sync-statefulset',
      hook: 'sync',
      description: 'The seed example: serviceName over a 3-pod StatefulSet behind a headless Service, read from EndpointSlices; first sync.',
      request: first,
    },
    {
      name: 'sync-scale-up',
      hook: 'sync',
      description: 'The StatefulSet scaled 3 -> 4 after the proxy became Ready: the new pod is appended, the others keep their slots.',
      request: syncRequest({
        parent: ready,
        related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1, 2, 3])), statefulSet('memcached-pool1', 4)],
        children: observed,
      }),
    },
    {
      name: 'sync-statefulset-restart',
      hook: 'sync',
      description:
        'A rolling restart takes the highest pod down first: memcached-pool1-2 has no endpoint, but its StatefulSet still wants 3 pods, so it keeps its slot and no key moves.',
      request: syncRequest({
        parent: ready,
        related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1])), statefulSet('memcached-pool1', 3)],
        children: observed,
      }),
    },
    {
      name: 'sync-deployment-endpoints',
      hook: 'sync',
      description: 'A Deployment-backed pool in namespace web, read from the Endpoints object (one pod not ready).',
      request: deployFirst,
    },
    {
      name: 'sync-middle-removed-v2',
      hook: 'sync',
      description: 'v2 hook keys (namespace/name): the middle pod of the Deployment pool deleted leaves a weight-0 hole.',
      request: syncRequest({ parent: deployReady, related: deployRelated(withoutMiddle), children: deployObserved, keying: 'v2' }),
    },
    {
      name: 'sync-missing-service',
      hook: 'sync',
      description: 'The memcached Service was deleted: the current servers are kept and status says why.',
      request: syncRequest({ parent: ready, related: [], children: observed }),
    },
    {
      name: 'customize',
      hook: 'customize',
      description: 'The customize hook for the seed example: the related Service, EndpointSlices and Endpoints.',
      request: { controller: first['controller'], parent: seed() },
    },
    {
      name: 'sync-exporter-replicas',
      hook: 'sync',
      description: '3 mcrouter replicas with the exporter sidecar, Rollout reload and pod settings, after the Deployment rolled out: Ready, and a PDB.',
      request: await exporterReplicasRequest(),
    },
    ...topologySamples(),
  ];
}

/** A proxy with 3 replicas, the exporter, Rollout reload and pod scheduling settings, synced once and rolled out. */
async function exporterReplicasRequest(): Promise<Json> {
  const spec = {
    serviceName: 'memcached-pool1',
    mcrouter: {
      replicas: 3,
      reload: 'Rollout',
      podAnnotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9442' },
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      nodeSelector: { 'node-role.example.com/cache': 'true' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cache', effect: 'NoSchedule' }],
      exporter: { enabled: true },
    },
  };
  const related = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1, 2]))];
  const created = await answer(syncRequest({ parent: proxy({ name: 'monitored', spec }), related }));
  const parent = proxy({ name: 'monitored', spec, status: created['status'] as Json });
  return syncRequest({ parent, related, children: observedChildren(parent, created['children'] as Json[]) });
}

/** spec.rules topologies (docs/replication.md), each a first sync over Services that all exist. */
function topologySamples(): Sample[] {
  const zone = (name: string, subnet: number) => [service({ name, headless: true }), ...endpointSlices(name, statefulSetPods(name, [0, 1, 2], subnet))];
  const pair = (name: string, subnet: number) => [service({ name }), ...endpointSlices(name, deploymentPods(name, 2, subnet))];
  const zones = [...zone('memcached-zone-a', 10), ...zone('memcached-zone-b', 11)];
  const pairs = [...pair('memcached-pair-1', 20), ...pair('memcached-pair-2', 21)];
  const sample = (name: string, description: string, spec: Json, related: Json[]): Sample => ({
    name: `sync-topology-${name}`,
    hook: 'sync',
    description,
    request: syncRequest({ parent: proxy({ name: `${name}-cache`, spec }), related }),
  });
  return [
    sample(
      'replicated',
      'Replicated over two services (defaults AllSync/Latest): writes reach one server of each, reads one with the other as fallback.',
      { rules: { type: 'replicated', children: [{ service: { name: 'memcached-zone-a' } }, { service: { name: 'memcached-zone-b' } }] } },
      zones,
    ),
    sample(
      'sharded-pairs',
      'Sharded over two replicated pairs (AllFastest/Failover): a key goes to one pair and is written to both of its servers; a pair with one server down still answers writes.',
      {
        rules: {
          type: 'sharded',
          children: ['memcached-pair-1', 'memcached-pair-2'].map((name) => ({ type: 'replicated', writePolicy: 'AllFastest', readPolicy: 'Failover', service: { name } })),
        },
      },
      pairs,
    ),
    sample(
      'replicated-sharded',
      'Replicated over two sharded pools hashed with Crc32 (AllFastest/MissFailover): one server of each pool per key.',
      {
        rules: {
          type: 'replicated',
          writePolicy: 'AllFastest',
          readPolicy: 'MissFailover',
          children: ['memcached-zone-a', 'memcached-zone-b'].map((name) => ({ hash: 'Crc32', service: { name, port: 'memcache' } })),
        },
      },
      zones,
    ),
    sample(
      'three-levels',
      'A 3-level tree: sharded over [replicated over [a pool, a replicated pair], sharded over [a pool, a replicated pair]]; each sharded level has its own salt.',
      {
        rules: {
          children: [
            { type: 'replicated', children: [{ service: { name: 'memcached-zone-a' } }, { type: 'replicated', service: { name: 'memcached-pair-1' } }] },
            { children: [{ service: { name: 'memcached-zone-b' } }, { type: 'replicated', service: { name: 'memcached-pair-2' } }] },
          ],
        },
      },
      [...zones, ...pairs],
    ),
    sample(
      'v002',
      "An object written for ianlewis/memcached-operator v0.0.2 (its combined example with mcrouter image, port, statsRoot, container securityContext), with the empty resources v0.0.2's controller stored.",
      {
        rules: {
          type: 'replicated',
          children: ['memcached-zone-a', 'memcached-zone-b'].map((name) => ({ type: 'sharded', service: { name, namespace: 'default', port: 11211 } })),
        },
        mcrouter: {
          image: 'ianmlewis/mcrouter:v0.36.0-2',
          port: 11211,
          resources: {},
          statsRoot: '/var/mcrouter/stats',
          securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true },
        },
      },
      zones,
    ),
  ];
}

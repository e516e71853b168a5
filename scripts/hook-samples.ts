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
  const three = [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1, 2]))];
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
        related: [pool1, ...endpointSlices('memcached-pool1', statefulSetPods('memcached-pool1', [0, 1, 2, 3]))],
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
      request: syncRequest({ parent: deployParent, related: deployRelated(withoutMiddle), children: deployObserved, keying: 'v2' }),
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
  ];
}

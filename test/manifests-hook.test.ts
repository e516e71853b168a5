/**
 * What the hook returns fits what the install sets up: every status it
 * returns is valid under the CRD's status schema (Metacontroller writes it
 * through the status subresource, which would refuse it otherwise), every
 * child kind is one the CompositeController lists, and every pod it creates
 * meets the restricted Pod Security Standard: for the sample requests in
 * hooks/ and for the examples under metacontroller/examples/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildServer } from '../src/server.js';
import { childFault, statusFaults } from './helpers/answer-contract.js';
import { EXAMPLES_DIR, ROOT, kustomize, readObjects, type K8sObject } from './helpers/k8s-tools.js';
import { podTemplatesOf, restrictedViolations } from './helpers/pod-security.js';

type Json = Record<string, unknown>;
type Child = K8sObject;


const compositeController = kustomize().find((o) => o.kind === 'CompositeController') as unknown as {
  spec: { childResources: { apiVersion: string; resource: string }[] };
};
const RESOURCES: Record<string, string> = {
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
  Service: 'services',
  PodDisruptionBudget: 'poddisruptionbudgets',
};
const listed = new Set(compositeController.spec.childResources.map((c) => `${c.apiVersion}/${c.resource}`));

function checkResponse(t: Test, where: string, response: { status?: unknown; children?: Child[] }) {
  t.same(statusFaults(response.status), [], `${where}: the status is valid under the CRD, and survives its pruning`);
  for (const child of response.children ?? []) {
    t.ok(listed.has(`${child.apiVersion}/${RESOURCES[child.kind] ?? child.kind}`), `${where}: ${child.kind} is a child resource of the CompositeController`);
    t.equal(childFault(child as unknown as Record<string, unknown>), undefined, `${where}: ${child.kind} is one the API server takes`);
    for (const pod of podTemplatesOf(child)) t.same(restrictedViolations(pod.spec, pod.annotations), [], `${where}: ${pod.where} is restricted`);
  }
  t.ok((response.children ?? []).some((c) => podTemplatesOf(c).length > 0), `${where}: a pod was checked`);
}

t.test('the sample hook responses', async (t) => {
  const files = readdirSync(join(ROOT, 'hooks')).filter((f) => f.startsWith('sync') && f.endsWith('.response.json'));
  t.ok(files.length > 0, 'there are samples');
  for (const file of files) {
    checkResponse(t, file, JSON.parse(readFileSync(join(ROOT, 'hooks', file), 'utf8')) as { status: unknown; children: Child[] });
  }
});

t.test('the hook on the examples, and with every pod option', async (t) => {
  const app = buildServer({ logger: false, clock: () => new Date('2026-01-01T00:00:00Z') });
  t.teardown(() => app.close());
  const proxies = readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => readObjects(join(EXAMPLES_DIR, f)))
    .filter((o) => o.kind === 'MemcachedProxy');
  const withOptions = {
    ...proxies[0],
    metadata: { name: 'options' },
    spec: {
      serviceName: 'memcached-pool1',
      mcrouter: {
        replicas: 3,
        reload: 'Rollout',
        statsRoot: '/var/stats',
        exporter: { enabled: true },
        podAnnotations: { a: 'b' },
        nodeSelector: { disk: 'ssd' },
      },
    },
  } as K8sObject;
  for (const proxy of [...proxies, withOptions]) {
    const parent = { ...proxy, metadata: { ...proxy.metadata, namespace: 'default', uid: 'u', generation: 1 } };
    const res = await app.inject({ method: 'POST', url: '/sync', payload: { controller: {}, parent, children: {}, related: {} } });
    t.equal(res.statusCode, 200, `${proxy.metadata.name}: 200`);
    checkResponse(t, proxy.metadata.name, res.json() as { status: unknown; children: Child[] });
  }
});

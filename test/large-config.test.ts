/**
 * A config past 128 KiB, V8's largest regular string (src/http/answer-bytes.ts writes such a config into the answer
 * in slices): its text must be `JSON.stringify(config, null, 2)` and a newline, its configHash that of the whole text
 * (what `sha256sum` of the mounted file gives), the config mounted unchanged must read as applied, and /sync must
 * send JSON.stringify's bytes. Pools of Deployment pods (IP addresses, and with holes a list of weights), of
 * StatefulSet pods (DNS names), and Rendezvous leaves, whose tags list the servers again, deeper than
 * JSON.stringify's widest indentation (10 spaces).
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import type { SyncRequest, SyncResponse } from '../src/api/hook.js';
import { sync } from '../src/core/sync.js';
import { deploymentPods, endpointSlices, largeStatefulSetPods, observedChildren, proxy, service, statefulSet, syncRequest, type Json } from './fixtures/cluster.js';
import { SYNC_CONTEXT, childOf, testServer } from './helpers/hook.js';

const app = testServer();
t.teardown(() => app.close());

const configText = (answer: SyncResponse) => (childOf(answer as unknown as Json, 'ConfigMap')!['data'] as Record<string, string>)['config.json']!;
const statusOf = (answer: SyncResponse) => answer.status as unknown as { configHash: string; conditions: { type: string; status: string; reason: string }[] };

interface Case {
  name: string;
  spec: Json;
  related: (step: number) => Json[];
  steps: number;
}

const deployment = deploymentPods('big', 5000);
const sts = largeStatefulSetPods('mc', 3000, 245);
const cases: Case[] = [
  {
    name: '5,000 Deployment pods, then 300 of them gone (holes: a list of weights)',
    spec: { serviceName: 'big' },
    related: (step) => [service({ name: 'big' }), ...endpointSlices('big', step < 2 ? deployment : deployment.filter((_, i) => i % 16 !== 3))],
    steps: 3,
  },
  {
    name: '3,000 StatefulSet pods',
    spec: { serviceName: 'mc' },
    related: () => [service({ name: 'mc', headless: true }), statefulSet('mc', 3000), ...endpointSlices('mc', sts)],
    steps: 2,
  },
  {
    name: 'Rendezvous leaves under a replicated rule, 1,200 StatefulSet pods each',
    spec: {
      rules: { type: 'replicated', children: [{ hash: 'Rendezvous', service: { name: 'mc' } }, { hash: 'Rendezvous', service: { name: 'mc2' } }] },
      // Rendezvous needs mcrouter 0.37 or later.
      mcrouter: { image: 'registry.example.com/mcrouter:0.41.0' },
    },
    related: () => [
      service({ name: 'mc', headless: true }),
      ...endpointSlices('mc', sts.slice(0, 1200)),
      service({ name: 'mc2', headless: true }),
      ...endpointSlices('mc2', largeStatefulSetPods('mc2', 1200, 246)),
    ],
    steps: 2,
  },
];

for (const { name, spec, related, steps } of cases) {
  t.test(name, async (t) => {
    let parent = proxy({ name: 'cache', spec });
    let children: Json[] = [];
    for (let step = 0; step < steps; step++) {
      const request = syncRequest({ parent, related: related(step), children }) as unknown as SyncRequest;
      const answer = sync(request, SYNC_CONTEXT);
      const text = configText(answer);
      t.ok(text.length > 128 * 1024, `sync ${step + 1}: a config past 128 KiB (${text.length} characters)`);
      t.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, `sync ${step + 1}: JSON.stringify's text`);
      t.equal(statusOf(answer).configHash, createHash('sha256').update(text).digest('hex').slice(0, 16), `sync ${step + 1}: the hash of the whole text`);
      if (step === 1) {
        // The same config mounted: applied, and the proxy Ready.
        const ready = statusOf(answer).conditions.find((c) => c.type === 'Ready')!;
        t.equal(ready.status, 'True', `sync 2: Ready (${ready.reason}), the mounted config read as the one asked for`);
      }
      const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request) });
      t.ok(res.rawPayload.equals(Buffer.from(JSON.stringify(answer))), `sync ${step + 1}: /sync sends JSON.stringify's bytes`);
      parent = proxy({ name: 'cache', spec, status: answer.status as unknown as Json });
      children = observedChildren(parent, answer.children as unknown as Json[]);
    }
  });
}

/**
 * A long mcrouter config is written into the answer in slices (src/http/answer-bytes.ts): the bytes must be
 * JSON.stringify's, whatever the text holds and wherever a slice ends.
 */
import t from 'tap';
import fc from 'fast-check';
import type { SyncRequest, SyncResponse } from '../src/api/hook.js';
import { sync } from '../src/core/sync.js';
import { LONG_TEXT, SLICE, answerBytes } from '../src/http/answer-bytes.js';
import { deploymentPods, endpointSlices, observedChildren, proxy, service, syncRequest, type Json } from './fixtures/cluster.js';
import { SYNC_CONTEXT, testServer } from './helpers/hook.js';
import { propertyRuns, propertySeed } from './helpers/property-runs.js';

const configText = (answer: SyncResponse): string => {
  const configMap = answer.children.find((child) => child.kind === 'ConfigMap') as { data: Record<string, string> };
  return configMap.data['config.json']!;
};

/** A first sync of a pool of `members`, and the next one, with the answer's children observed and its status stored. */
function syncsOf(members: number, mcrouter: Json = {}): SyncRequest[] {
  const spec = { serviceName: 'big', mcrouter };
  const related = [service({ name: 'big' }), ...endpointSlices('big', deploymentPods('big', members))];
  const first = syncRequest({ parent: proxy({ name: 'big-cache', spec }), related }) as unknown as SyncRequest;
  const answer = sync(first, SYNC_CONTEXT);
  const parent = proxy({ name: 'big-cache', spec, status: answer.status as unknown as Json });
  const next = syncRequest({ parent, related, children: observedChildren(parent, answer.children as unknown as Json[]) });
  return [first, next as unknown as SyncRequest];
}

t.test('through /sync, the answer to a large pool is JSON.stringify of sync(), byte for byte', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  for (const members of [1000, 5000]) {
    for (const [step, request] of syncsOf(members).entries()) {
      const expected = Buffer.from(JSON.stringify(sync(request, SYNC_CONTEXT)));
      const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request) });
      t.equal(res.statusCode, 200);
      t.ok(res.rawPayload.equals(expected), `${members} members, sync ${step + 1}: the same bytes`);
      t.equal(res.headers['content-length'], String(expected.length));
      t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    }
  }
  const large = sync(syncsOf(5000)[1]!, SYNC_CONTEXT);
  t.ok(configText(large).length > LONG_TEXT, 'the 5,000-member config is long enough to be written in slices');
  // What the slices are for: no string of the whole answer (past 128 KiB, V8 joins it in its large-object space).
  t.ok(Buffer.isBuffer(answerBytes(large)), 'that answer is written as bytes');
  t.equal(typeof answerBytes(sync(syncsOf(1000)[1]!, SYNC_CONTEXT)), 'string', 'a 1,000-member answer is the plain text');
});

t.test('a value the user wrote that equals the stand-in of the config still gets the same bytes', async (t) => {
  const app = testServer();
  t.teardown(() => app.close());
  for (const value of ['\u0000long text 0\u0000', '\u0000long text 1\u0000']) {
    const [request] = syncsOf(5000, { podAnnotations: { 'example.com/note': value } });
    const expected = Buffer.from(JSON.stringify(sync(request!, SYNC_CONTEXT)));
    const res = await app.inject({ method: 'POST', url: '/sync', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request) });
    t.ok(res.rawPayload.equals(expected), JSON.stringify(value));
  }
});

/** Characters JSON escapes, or writes in more than one byte, or that a slice could split. */
const awkward = fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '😀', '\ud800', '\udfff', '\ud83d', '\ude00');

/** A long text's recipe (the text itself would fill a failure's report): its length, and awkward characters put in, some at a 32 Ki boundary. */
const longText = fc.record({
  length: fc.integer({ min: LONG_TEXT - 2, max: 200 * 1024 }),
  near: fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: -2, max: 1 }), awkward), { maxLength: 12 }),
  anywhere: fc.array(fc.tuple(fc.nat(), awkward), { maxLength: 30 }),
});
type Recipe = typeof longText extends fc.Arbitrary<infer R> ? R : never;

/** ASCII letters, with the recipe's characters at their places. */
function textOf({ length, near, anywhere }: Recipe): string {
  const chars = Array.from({ length }, (_, i) => String.fromCharCode(97 + (i % 26)));
  for (const [k, offset, c] of near) chars[Math.min(length - 1, k * SLICE + offset)] = c;
  for (const [at, c] of anywhere) chars[at % length] = c;
  return chars.join('');
}

const configMap = (data: Record<string, string | Recipe>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'x-mcrouter', namespace: 'default' },
  data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, typeof value === 'string' ? value : textOf(value)])),
});

t.test('answerBytes is JSON.stringify, for any long texts in any ConfigMaps', async (t) => {
  const seed = propertySeed();
  t.comment(`FC_SEED=${seed}`);
  const recipes = fc.record({
    status: fc.jsonValue({ maxDepth: 2 }),
    children: fc.array(
      fc.oneof(
        fc.dictionary(fc.constantFrom('config.json', 'pools.json', '0', 'z'), fc.oneof(longText, fc.string({ maxLength: 8 })), { maxKeys: 3 }),
        fc.constant({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x-mcrouter', annotations: { a: '\u0000long text 0\u0000' } } }),
        fc.constant({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } }),
      ),
      { maxLength: 3 },
    ),
    resyncAfterSeconds: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(recipes, (recipe) => {
      const children = recipe.children.map((child) => ('kind' in child ? child : configMap(child as Record<string, string | Recipe>)));
      const response = { ...recipe, children } as unknown as SyncResponse;
      return Buffer.from(answerBytes(response)).equals(Buffer.from(JSON.stringify(response)));
    }),
    { seed, numRuns: propertyRuns(60) },
  );
  t.pass('the same bytes');
});

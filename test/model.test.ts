/**
 * The reconcile loop under generated histories: a model of Metacontroller
 * (test/model/) drives the real server through pods coming and going,
 * restarts, scaling, Service changes, endpoint blips and spec edits, and after
 * every sync checks the properties of test/model/invariants.ts, and what the
 * API server and the hook require of the answer (helpers/answer-contract.ts:
 * a status the CRD takes and stores whole, children the Kubernetes schemas
 * take, every status read back whole when fed back). fast-check shrinks a
 * failure to a minimal history.
 *
 * FC_SEED=n replays a seed (printed with every run), FC_RUNS=n runs more; FC_PATH=p beside FC_SEED replays
 * the case a failure printed at once (helpers/property-runs.ts).
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { loggedServer } from './helpers/hook.js';
import { setAsideLines, setAsideTotal } from './helpers/answer-contract.js';
import { Cluster, SERVICE_NAMES, type ServiceName } from './model/cluster.js';
import { churnEventArbitrary, churnSpecArbitrary, describe, eventArbitrary, phasesOf, specArbitrary, type Event, type World } from './model/events.js';
import { checkAnswerContract, checkSyncAnswer, stats, Violation, type Config, type SyncAnswer } from './model/invariants.js';
import { Metacontroller, type HookCall, type Keying } from './model/metacontroller.js';
import type { Json } from './fixtures/cluster.js';
import { propertyStart, propertyRuns } from './helpers/property-runs.js';

const start = propertyStart();
const numRuns = propertyRuns(100);
/**
 * Each of the file's two checks gets at most 40% of tap's timeout for the file (TAP_TIMEOUT, in seconds; 0 is
 * none). Shrinking a failing history replays hundreds of histories and outlasted the timeout once, which then
 * reported a timeout and not the failure; fast-check, interrupted, reports the smallest history it has found.
 */
const tapTimeout = Number(process.env['TAP_TIMEOUT'] ?? 0);
const timeLimit = tapTimeout > 0 ? { interruptAfterTimeLimit: tapTimeout * 1000 * 0.4 } : {};

const clock = { now: new Date('2026-11-25T12:00:00Z') };
// Its warn lines kept: a sync that sets aside a field of the stored status (the status the hook wrote) says so in one.
const { app, lines } = loggedServer('warn', { clock: () => clock.now });
t.teardown(() => app.close());

interface Run {
  keying: Keying;
  discovery: 'slices' | 'endpoints';
  perSlice: number;
  statefulSets: boolean;
  pods: Record<ServiceName, number>;
  spec: Json;
  events: Event[];
}

const runsOf = (podCount: fc.Arbitrary<number>, events: fc.Arbitrary<Event[]>, spec = specArbitrary): fc.Arbitrary<Run> =>
  fc.record({
    keying: fc.constantFrom<Keying>('v1', 'v2'),
    discovery: fc.constantFrom('slices' as const, 'endpoints' as const),
    perSlice: fc.constantFrom(1, 3, 100),
    statefulSets: fc.boolean(),
    pods: fc.record(Object.fromEntries(SERVICE_NAMES.map((s) => [s, podCount])) as Record<ServiceName, fc.Arbitrary<number>>),
    spec,
    events,
  });
const runArbitrary = runsOf(
  fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  fc.array(eventArbitrary, { minLength: 1, maxLength: 40, size: 'medium' }),
);
/** Pools of 8 to 16 pods losing many: the compaction, reached in most of these runs. */
const churnArbitrary = runsOf(fc.integer({ min: 8, max: 16 }), fc.array(churnEventArbitrary, { minLength: 15, maxLength: 40 }), churnSpecArbitrary);

const counts = { runs: 0, steps: 0, syncs: 0, customizes: 0 };

const configTextOf = (children: Iterable<Json>): string | undefined => {
  const cm = [...children].find((c) => c['kind'] === 'ConfigMap');
  return (cm?.['data'] as Record<string, string> | undefined)?.['config.json'];
};

/**
 * What each pool of each config the hook wrote was, by the answer that wrote it (its status.pools), kept by
 * the model itself: the hook's own record of it rides in the ConfigMap, and is what is under test.
 */
const written = new Map<string, Map<string, string>>();
const leafKey = (service: string, port: number | string) => `${service}/${typeof port}/${port}`;
function remember(answer: SyncAnswer): void {
  const text = configTextOf(answer.children);
  if (text === undefined) return;
  // docs/topologies.md: pools.json names the pools config.json lists; a pool without servers is in neither.
  const listed = (JSON.parse(text) as Config).pools;
  const pools = (answer.status.pools ?? []).filter((p) => listed[p.name] !== undefined);
  written.set(text, new Map(pools.map((p) => [leafKey(p.service, p.port), p.name])));
}

/**
 * A sync, whose stored status (every status the model holds is one the hook wrote) must be read back whole: a field
 * set aside restarts a wait's clock or loses lastChange (src/http/stored-status.ts).
 */
async function syncReadingBack(mc: Metacontroller, which: string, fail: (message: string) => never): Promise<HookCall> {
  lines.length = 0;
  const call = await mc.sync();
  const [setAside] = setAsideLines(lines, 0);
  if (setAside) fail(`the ${which} sync set aside ${JSON.stringify(setAside['fields'])} of the status the hook wrote itself: ${String(setAside['msg'])}; stored status ${JSON.stringify(mc.parent['status'])}`);
  return call;
}

/** One Metacontroller reconcile, checked, then two more with nothing changed: the answer must settle at once. */
async function reconcile(world: World, label: string): Promise<void> {
  const { cluster, metacontroller: mc } = world;
  const fail = (message: string): never => {
    throw new Violation(`after "${label}": ${message}`);
  };
  const checkContract = (answer: SyncAnswer, children: boolean) => {
    try {
      checkAnswerContract(answer, children);
    } catch (error) {
      if (error instanceof Violation) fail(error.message);
      throw error;
    }
  };
  counts.steps++;
  mc.observe();
  const customized = await mc.customize();
  if (customized) {
    counts.customizes++;
    if (customized.statusCode !== 200) fail(`/customize answered ${customized.statusCode}: ${customized.text}`);
  }
  const parent = structuredClone(mc.parent);
  const first = await syncReadingBack(mc, 'first', fail);
  let answer: SyncAnswer;
  try {
    const currentText = configTextOf(world.metacontroller.children.values());
    const current = currentText === undefined ? undefined : (JSON.parse(currentText) as Config);
    ({ answer } = checkSyncAnswer(first, { parent, cluster, current, currentPools: currentText === undefined ? undefined : written.get(currentText) }));
    checkAnswerContract(answer, true);
  } catch (error) {
    if (error instanceof Violation) fail(error.message);
    throw error;
  }
  mc.apply(answer);
  remember(answer);

  const second = await syncReadingBack(mc, 'second', fail);
  if (second.statusCode !== 200) fail(`the resync answered ${second.statusCode}: ${second.text}`);
  const settled = second.body as SyncAnswer;
  // Its children must be the first answer's (compared just below), checked already.
  checkContract(settled, false);
  if (JSON.stringify(settled.children) !== JSON.stringify(answer.children)) {
    fail(`the children changed on a resync with nothing changed: ${JSON.stringify(answer.children).slice(0, 300)} -> ${JSON.stringify(settled.children).slice(0, 300)}`);
  }
  mc.apply(settled);
  remember(settled);
  const third = await syncReadingBack(mc, 'third', fail);
  if (third.statusCode !== 200) fail(`the third sync answered ${third.statusCode}: ${third.text}`);
  // Its children are the second's unless the wait ended (the bytes are compared below only then): checked when they differ.
  checkContract(third.body as SyncAnswer, JSON.stringify((third.body as SyncAnswer).children) !== JSON.stringify(settled.children));
  // The clock moved a second: only a timed sync's countdown may differ (checkResync holds it to the deadline),
  // and the whole status when the wait it counted ended in that second (Stalled).
  const settledBytes = (call: HookCall) => JSON.stringify({ ...(call.body as Json), resyncAfterSeconds: undefined });
  const waitEnded = (second.body as Json)['resyncAfterSeconds'] === 1;
  if (!waitEnded && settledBytes(third) !== settledBytes(second)) fail(`a sync with unchanged inputs gave other bytes:\n${second.text}\n${third.text}`);
  const countdown = [second, third].map((call) => (call.body as Json)['resyncAfterSeconds']);
  if (!waitEnded && (typeof countdown[0] === 'number' ? typeof countdown[1] !== 'number' || Math.abs(countdown[1] - countdown[0]) > 1 : countdown[1] !== undefined)) {
    fail(`resyncAfterSeconds ${String(countdown[0])} then ${String(countdown[1])} a second later, nothing else changed`);
  }
  mc.apply(third.body as SyncAnswer);
  remember(third.body as SyncAnswer);
  counts.syncs += 3;
}

async function replay(run: Run): Promise<void> {
  counts.runs++;
  const cluster = new Cluster({ discovery: run.discovery, perSlice: run.perSlice, pods: run.pods, statefulSets: run.statefulSets });
  const metacontroller = new Metacontroller({ app, cluster, keying: run.keying, name: 'cache', spec: run.spec, clock });
  const world: World = { cluster, metacontroller };
  await reconcile(world, 'first sync');
  for (const event of run.events) {
    cluster.endBlips();
    for (const phase of phasesOf(event, world)) {
      phase.apply();
      await reconcile(world, phase.label);
    }
  }
  // The last status, fed back too.
  await syncReadingBack(metacontroller, 'last', (message) => {
    throw new Violation(`after the history: ${message}`);
  });
}

/** Checks `arbitrary`'s histories, reporting the counters of what they reached; returns the compactions they made. */
async function checkHistories(t: Test, arbitrary: fc.Arbitrary<Run>, runs: number): Promise<number> {
  const started = performance.now();
  const before = { ...counts, ...stats };
  const details = await fc.check(fc.asyncProperty(arbitrary, replay), { ...start, numRuns: runs, endOnFailure: false, ...timeLimit });
  t.comment(`seed ${details.seed} (FC_SEED to replay), ${details.numRuns} runs, ${details.numShrinks} shrinks`);
  t.comment(
    `${counts.runs - before.runs} histories replayed, ${counts.steps - before.steps} steps, ${counts.syncs - before.syncs} syncs, ${counts.customizes - before.customizes} customize calls in ${Math.round(performance.now() - started)} ms`,
  );
  t.comment(
    `kept without members: ${stats.keptWithoutMembers - before.keptWithoutMembers}, pools with holes: ${stats.holes - before.holes}, compactions: ${stats.compactions - before.compactions}, ErrorRoute configs: ${stats.errorRoutes - before.errorRoutes}, Stalled past a wait's deadline: ${stats.stalledAtDeadline - before.stalledAtDeadline} (with no mcrouter replica: ${stats.stalledWithoutReplicas - before.stalledWithoutReplicas})`,
  );
  if (details.failed) {
    const history = (details.counterexample?.[0] as Run | undefined)?.events.map(describe) ?? [];
    t.comment(`shrunk history:\n  ${history.join('\n  ')}`);
    t.comment(`failure: ${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance)}`);
  }
  t.notOk(details.failed, details.failed ? (fc.defaultReportMessage(details) ?? 'a property failed') : 'every property held');
  // Passing, but cut short: as a timeout would have failed the file, only now with how far it got.
  if (details.interrupted && !details.failed) t.fail(`out of time after ${details.numRuns} of ${runs} runs (40% of TAP_TIMEOUT ${tapTimeout} s)`);
  // And as the server counts it (each sync checked its own warn lines above).
  t.equal(await setAsideTotal(app), 0, 'memcached_operator_status_set_aside_total: no stored status set aside');
  return stats.compactions - before.compactions;
}

t.test('the reconcile loop keeps every property through generated histories', async (t) => {
  await checkHistories(t, runArbitrary, numRuns);
});

t.test('and through large pools that lose many pods, past half their slots', async (t) => {
  const runs = Math.max(10, Math.round(numRuns / 4));
  const compactions = await checkHistories(t, churnArbitrary, runs);
  // About half the runs reach one, about 1.2 a run: fewer than one in five runs means the histories no longer do.
  if (start.path === undefined) t.ok(compactions >= runs / 5, `the histories reached the compaction (${compactions} in ${runs} runs)`);
});

/**
 * `npm run bench`: the hook against the ceiling of its framework, the core
 * against the floor of JSON, memory under load and scaling with the pool.
 * Prints the tables and writes bench/RESULTS.md and bench/results.json.
 *
 * Expects a fresh `npm run build` (the npm script does it): the hook runs as
 * `node dist/hook.mjs`, as `npm start` runs it; the core is timed from dist/. BENCH_DIST measures
 * another build instead, BENCH_OUT writes the results to another directory.
 *
 * The npm script runs this process, where the core and the scaling are timed, with V8's allocation-site
 * pretenuring off: in a loop of syncs V8 pretenures their allocation sites in some processes and not in
 * others (one steady 1,000-member sync took 0.57 or 0.95 ms, by the process), and the hook's server shows
 * no such thing (the flag changes neither its page faults nor its CPU a request): docs/performance.md,
 * "StatefulSet pools".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers, buildCeiling, writeResponses } from './ceiling.js';
import { coreVsFloor, linearFit, median, stepTrend, syncTimes, type CoreResult, type Fit, type ScalingPoint, type SyncFn } from './core.js';
import { loadSync, DIST, HOOK_MAIN, OUT } from './dist.js';
import { BODY_LIMIT, cpuSeconds, freePort, load, loadSample, mb, rssBytes, startHook, startServer, summarizeLoads, type LoadResult, type LoadSample, type ServerProcess } from './http.js';
import { IDLE_SECONDS, hookIdle, idle, jsHeldMb, jsMemory, type HookIdle, type Idle } from './memory.js';
import { BODIES_PER_CASE, POOL_SIZES, SITUATIONS, benchCase, type BenchCase } from './requests.js';

const ROOT = new URL('../', import.meta.url);

const CONNECTIONS = 5;
const ROUNDS = 3;
const ROUND_SECONDS = 4;
/**
 * Each server's round is cut in this many loads, taking turns with the other server's: on this VM the speed
 * of the machine changes in spells of a few seconds, and a round of 4 s on end could fall in a spell the
 * other server's round missed (round ratios from 0.38 to 1.26 in one run at 10 members).
 */
const SLICES = 4;
/** After a round's last slice, before each server's CPU is read: its collector's threads finish what the load left. */
const ROUND_SETTLE_MS = 300;
const WARMUP_SECONDS = 2;
/**
 * After the warm-up, loads of CALIBRATION_SECONDS each until two in a row agree within CALIBRATION_AGREEMENT
 * (at most CALIBRATION_LOADS): the last one's rate sizes the rounds. The warm-up's own rate is no measure of
 * it, nor is one more load: the hook, with more code to compile, answered 1,400 requests a second in its
 * first 2 s at 10 members, 2,400-4,100 in the next 2 s and 4,900 in the first round, so rounds sized on the
 * warm-up ran 1 s, not ROUND_SECONDS, and the first of them was still warming up.
 */
const CALIBRATION_SECONDS = 1;
const CALIBRATION_AGREEMENT = 0.1;
const CALIBRATION_LOADS = 6;
const SOAK_SECONDS = 30;
const SOAK_MEMBERS = 5000;
const SCALING_SIZES = [10, 250, 500, 1000, 2000, 3000, 4000, 5000];

const TARGETS = {
  cpuRatio: { 10: 0.7, 1000: 0.8, 5000: 0.7 } as Record<number, number>,
  p99Ratio: 1.3,
  coreRatio: 0.5,
  rssMb: 150,
  /** The growth across the load of what the hook's JavaScript holds, in parts of what it held before. */
  jsGrowth: 0.05,
  /**
   * The growth of settled RSS across the load: a guard against native memory growing, above what the allocator
   * keeping freed memory moves it by (up to 18 MB between two idle readings of one process here).
   */
  rssGrowthMb: 25,
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const fixed = (n: number, digits = 2) => n.toFixed(digits);

interface HttpCase {
  members: number;
  requestBytes: number;
  responseBytes: number;
  /** Each server's calibration rates (requests a second), the last of which sized its rounds. */
  calibration: { hook: number[]; ceiling: number[] };
  rounds: { hook: LoadResult; ceiling: LoadResult }[];
  hook: Summary;
  ceiling: Summary;
  /** hook req/s over ceiling req/s, median of the per-round ratios. */
  rpsRatio: number;
  /** ceiling CPU per request over hook CPU per request (hook requests per CPU-second relative to the ceiling's), median of rounds. */
  cpuRatio: number;
  p99Ratio: number;
  errors: number;
}

interface Summary {
  requestsPerSecond: number;
  cpuPerRequestMs: number;
  latencyP50: number;
  latencyP99: number;
  requests: number;
}

const summarize = (results: LoadResult[]): Summary => ({
  requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
  cpuPerRequestMs: median(results.map((r) => r.cpuPerRequest * 1000)),
  latencyP50: median(results.map((r) => r.latencyP50)),
  latencyP99: median(results.map((r) => r.latencyP99)),
  requests: results.reduce((a, r) => a + r.requests, 0),
});

async function httpCase(
  hook: ServerProcess,
  ceiling: ServerProcess,
  benchCase: BenchCase,
  responseBytes: number,
  rssTrace: RssSample[],
): Promise<HttpCase> {
  const bodies = benchCase.bodies.map((b) => b.text);
  // Warm both up (JIT, pools, heap), then size the rounds on the rate once warm: a fixed count of responses
  // leaves no request in flight at the end.
  const calibrate = async (server: ServerProcess) => {
    const warm = async (seconds: number) => {
      const result = await load({ server, bodies, connections: CONNECTIONS, seconds });
      if (result.errors > 0) throw new Error(`${server.name}: ${result.errors} errors while warming up at ${benchCase.members} members`);
      return result;
    };
    await warm(WARMUP_SECONDS);
    const rates = [(await warm(CALIBRATION_SECONDS)).requestsPerSecond];
    const settled = () => rates.length >= 2 && Math.abs(rates.at(-1)! - rates.at(-2)!) <= CALIBRATION_AGREEMENT * rates.at(-2)!;
    while (!settled() && rates.length < CALIBRATION_LOADS) rates.push((await warm(CALIBRATION_SECONDS)).requestsPerSecond);
    const amount = Math.max(CONNECTIONS * BODIES_PER_CASE, Math.round((rates.at(-1)! * ROUND_SECONDS) / CONNECTIONS) * CONNECTIONS);
    return { amount, rates };
  };
  const hookCalibration = await calibrate(hook);
  const ceilingCalibration = await calibrate(ceiling);
  const rounds: HttpCase['rounds'] = [];
  const slice = (amount: number) => Math.max(CONNECTIONS, Math.round(amount / SLICES / CONNECTIONS) * CONNECTIONS);
  const sides = [
    { server: hook, amount: slice(hookCalibration.amount), samples: [] as LoadSample[] },
    { server: ceiling, amount: slice(ceilingCalibration.amount), samples: [] as LoadSample[] },
  ];
  for (let round = 0; round < ROUNDS; round++) {
    // A/B, then B/A, each cut in slices that take turns: a slow spell of the machine hits both sides alike.
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of sides) side.samples = [];
    // Each server's CPU is read over the whole round, the other server's slices included: what a slice leaves
    // its server to finish (a collection's concurrent marking and sweeping) is then counted to it, not lost.
    const cpuBefore = sides.map((side) => cpuSeconds(side.server.pid));
    for (let s = 0; s < SLICES; s++) {
      for (const side of order) side.samples.push(await loadSample({ server: side.server, bodies, connections: CONNECTIONS, amount: side.amount }));
    }
    await sleep(ROUND_SETTLE_MS);
    const cpu = sides.map((side, i) => cpuSeconds(side.server.pid) - cpuBefore[i]!);
    const r = { hook: summarizeLoads(sides[0]!.samples, cpu[0]), ceiling: summarizeLoads(sides[1]!.samples, cpu[1]) };
    rounds.push(r);
    rssTrace.push({ at: `${benchCase.members} members, round ${round + 1}`, hookMb: mb(rssBytes(hook.pid)), ceilingMb: mb(rssBytes(ceiling.pid)) });
    log(
      `  ${benchCase.members} members, round ${round + 1}: hook ${fixed(r.hook.requestsPerSecond, 1)} req/s ${fixed(r.hook.cpuPerRequest * 1000, 3)} ms CPU/req, ` +
        `ceiling ${fixed(r.ceiling.requestsPerSecond, 1)} req/s ${fixed(r.ceiling.cpuPerRequest * 1000, 3)} ms CPU/req`,
    );
  }
  const hookSummary = summarize(rounds.map((r) => r.hook));
  const ceilingSummary = summarize(rounds.map((r) => r.ceiling));
  return {
    members: benchCase.members,
    requestBytes: Math.round(bodies.reduce((a, b) => a + b.length, 0) / bodies.length),
    responseBytes,
    calibration: { hook: hookCalibration.rates, ceiling: ceilingCalibration.rates },
    rounds,
    hook: hookSummary,
    ceiling: ceilingSummary,
    rpsRatio: median(rounds.map((r) => r.hook.requestsPerSecond / r.ceiling.requestsPerSecond)),
    cpuRatio: median(rounds.map((r) => r.ceiling.cpuPerRequest / r.hook.cpuPerRequest)),
    p99Ratio: hookSummary.latencyP99 / ceilingSummary.latencyP99,
    errors: rounds.reduce((a, r) => a + r.hook.errors + r.ceiling.errors, 0),
  };
}

interface RssSample {
  at: string;
  hookMb: number;
  ceilingMb?: number;
}

interface Soak {
  seconds: number;
  members: number;
  requests: number;
  errors: number;
  /** RSS every second of the load. */
  samplesMb: number[];
  startMb: number;
  endMb: number;
  /** Median of the last third of the samples: the level RSS holds at under load, whatever phase the collector is in at one instant. */
  loadedMb: number;
  peakMb: number;
  /** Least-squares slope of RSS over the load. */
  slopeMbPerMin: number;
  /** Median of the last third of the samples minus that of the first third (medians: RSS swings with each collection). */
  thirdsGrowthMb: number;
  heapUsedMb: number | undefined;
}

/** `server` under 30 s of load, its RSS sampled every second; the V8 heap from /metrics when it serves them (the hook). */
async function soak(server: ServerProcess, benchCase: BenchCase, hasMetrics: boolean): Promise<Soak> {
  const samples: number[] = [];
  const startMb = mb(rssBytes(server.pid));
  const timer = setInterval(() => samples.push(mb(rssBytes(server.pid))), 1000);
  const result = await load({ server, bodies: benchCase.bodies.map((b) => b.text), connections: CONNECTIONS, seconds: SOAK_SECONDS });
  clearInterval(timer);
  const endMb = mb(rssBytes(server.pid));
  const third = Math.max(1, Math.floor(samples.length / 3));
  const heapUsedMb = hasMetrics ? (await jsMemory(server)).heapUsedMb : undefined;
  return {
    seconds: SOAK_SECONDS,
    members: benchCase.members,
    requests: result.requests,
    errors: result.errors,
    samplesMb: samples,
    startMb,
    endMb,
    loadedMb: median(samples.slice(-third)),
    peakMb: Math.max(...samples, endMb),
    // A sample a second.
    slopeMbPerMin: stepTrend(samples) * 60,
    thirdsGrowthMb: median(samples.slice(-third)) - median(samples.slice(0, third)),
    heapUsedMb,
  };
}

/** The ceiling's memory under the soak load and after it. */
interface Memory {
  load: Soak;
  after: Idle;
}

/**
 * The hook's, also before its load, after the HTTP runs: the growth is what it holds idle after the load
 * against that. Idle levels, since under a load RSS swings by some 50 MB with each collection; and what
 * its JavaScript holds, since idle RSS still moves by up to 18 MB with what the allocator keeps.
 */
interface HookMemory {
  before: HookIdle;
  load: Soak;
  after: HookIdle;
}

interface Scaling {
  situation: string;
  points: ScalingPoint[];
  fit: Fit;
  /** Microseconds per member above the 10-member cost, at 1,000 and at 5,000 members. */
  perMemberUs1000: number;
  perMemberUs5000: number;
}

function scaling(sync: SyncFn, situation: (typeof SITUATIONS)[number]): Scaling {
  const points = syncTimes(sync, SCALING_SIZES.map((members) => benchCase(sync, members, situation, 2)), 5, 100);
  const at = (m: number) => points.find((p) => p.members === m)!.ms;
  const base = at(10);
  return {
    situation,
    points,
    fit: linearFit(points),
    perMemberUs1000: ((at(1000) - base) / (1000 - 10)) * 1000,
    perMemberUs5000: ((at(5000) - base) / (5000 - 10)) * 1000,
  };
}

interface Check {
  what: string;
  target: string;
  measured: string;
  ok: boolean;
}

function checks(http: HttpCase[], core: CoreResult[], memory: { hook: HookMemory; ceiling: Memory }, scales: Scaling[]): Check[] {
  const soakResult = memory.hook.load;
  const list: Check[] = [];
  for (const c of http) {
    list.push({
      what: `CPU/request ratio, ${c.members} members`,
      target: `>= ${TARGETS.cpuRatio[c.members]}`,
      // Three digits: a ratio of 0.698 shown as 0.70 beside "missed" would read as a contradiction.
      measured: fixed(c.cpuRatio, 3),
      ok: c.cpuRatio >= TARGETS.cpuRatio[c.members]!,
    });
  }
  const errors = http.reduce((a, c) => a + c.errors, 0) + soakResult.errors + memory.ceiling.load.errors;
  list.push({ what: 'errors, all HTTP runs', target: '0', measured: String(errors), ok: errors === 0 });
  const big = http.find((c) => c.members === 5000)!;
  list.push({ what: 'p99 hook / p99 ceiling, 5,000 members', target: `<= ${TARGETS.p99Ratio}`, measured: fixed(big.p99Ratio, 3), ok: big.p99Ratio <= TARGETS.p99Ratio });
  // The target is for steady syncs, the requests the HTTP runs send and the same over StatefulSet pods; the other
  // situations are shown for what they cost.
  for (const r of core.filter((r) => r.members >= 1000 && (r.situation === 'steady' || r.situation === 'steady-statefulset'))) {
    list.push({ what: `core / floor, ${r.members} members, ${r.situation}`, target: `<= ${TARGETS.coreRatio}`, measured: fixed(r.ratio, 3), ok: r.ratio <= TARGETS.coreRatio });
  }
  list.push({
    // "After" the load, as issue 7 words it: under the load, RSS is mostly the young generation and the dead
    // request strings of the last few requests, as much for bare Fastify as for the hook (both shown).
    what: `RSS after ${soakResult.seconds} s of load at ${soakResult.members} members (${memory.hook.after.seconds} s idle after it)`,
    target: `< ${TARGETS.rssMb} MB`,
    measured: `${fixed(memory.hook.after.settledMb, 1)} MB (the ceiling: ${fixed(memory.ceiling.after.settledMb, 1)} MB); under the load, median of the last 10 s: ${fixed(soakResult.loadedMb, 1)} MB (the ceiling: ${fixed(memory.ceiling.load.loadedMb, 1)} MB)`,
    ok: memory.hook.after.settledMb < TARGETS.rssMb,
  });
  const { before, after } = memory.hook;
  const [held, heldAfter] = [jsHeldMb(before.js), jsHeldMb(after.js)];
  const uncollected = [before.collected ? [] : ['before'], after.collected ? [] : ['after']].flat();
  list.push({
    what: `growth across the load of what the hook's JavaScript holds, V8 heap in use + external (${after.seconds} s idle after it against ${before.seconds} s idle before it)`,
    target: `< ${TARGETS.jsGrowth * 100}%`,
    measured:
      `${fixed(((heldAfter - held) / held) * 100, 1)}%: ${fixed(held, 2)} to ${fixed(heldAfter, 2)} MB` +
      (uncollected.length > 0 ? `; no reading: no full collection within the ${IDLE_SECONDS} s idle ${uncollected.join(' and ')} the load, whose heap still held garbage` : ''),
    ok: uncollected.length === 0 && heldAfter - held < held * TARGETS.jsGrowth,
  });
  list.push({
    what: `growth across the load of the hook's RSS (${after.seconds} s idle after it against ${before.seconds} s idle before it)`,
    target: `< ${TARGETS.rssGrowthMb} MB`,
    measured: `${fixed(after.settledMb - before.settledMb, 1)} MB: ${fixed(before.settledMb, 1)} to ${fixed(after.settledMb, 1)} MB`,
    ok: after.settledMb - before.settledMb < TARGETS.rssGrowthMb,
  });
  // From 1,000 to 5,000 members the cost per member stays the same for a linear cost and grows 5 times
  // for a quadratic one; sorting (n log n) and caches that no longer hold a pool's data add some growth.
  // Linear means closer to 1 than to 5 on a log scale: below sqrt(5). An endpoint change adds a fixed
  // 5-10 ms of keyspace sampling whose noise swamps its per-member estimate: its column is shown, not checked.
  for (const s of scales.filter((s) => s.situation !== 'endpoint-change')) {
    const ratio = s.perMemberUs5000 / s.perMemberUs1000;
    list.push({
      what: `linear scaling, ${s.situation}: per-member cost at 5,000 / at 1,000`,
      target: `< ${fixed(Math.sqrt(5))} (linear: 1, quadratic: 5)`,
      measured: fixed(ratio),
      ok: ratio < Math.sqrt(5),
    });
  }
  return list;
}

function markdown(env: Record<string, string>, http: HttpCase[], core: CoreResult[], memory: { hook: HookMemory; ceiling: Memory }, rssTrace: RssSample[], scales: Scaling[], list: Check[]): string {
  const { load: soakResult, before, after } = memory.hook;
  const { load: ceilingSoak, after: ceilingAfter } = memory.ceiling;
  const lines: string[] = [];
  const row = (cells: (string | number)[]) => lines.push(`| ${cells.join(' | ')} |`);
  lines.push('# Benchmark results', '');
  lines.push(`Output of \`npm run bench\` (${env['date']}, ${env['duration']}; the load average when the measurements began ${env['loadAverage']}).`, '');
  lines.push(`Machine: ${env['cores']} cores (${env['cpu']}), ${env['memory']} RAM, Node ${env['node']}, ${env['platform']}. Build measured: ${env['build']}.`, '');
  lines.push('## Targets', '');
  row(['what', 'target', 'measured', '']);
  row(['---', '---', '---', '---']);
  for (const c of list) row([c.what, c.target, c.measured, c.ok ? 'ok' : '**missed**']);
  lines.push('');

  lines.push('## 1. HTTP: the hook against the ceiling of its framework', '');
  lines.push(
    `The hook (\`node ${relative(fileURLToPath(ROOT), HOOK_MAIN)}\`, as \`npm start\` runs it, LOG_LEVEL=warn) and a bare Fastify server that only parses the same body, with the hook's body limit and Fastify's own JSON parser at its default settings (secure-json-parse: \`JSON.parse\`, then two regular-expression scans of the text for \`__proto__\` and \`constructor\`, refused anywhere; the hook refuses them at the top and in the parent, in one walk of the parsed body, its own cost), and answers a prebuilt response of the hook's exact size: autocannon, ${CONNECTIONS} connections (Metacontroller's workers), ${BODIES_PER_CASE} bodies per case in rotation (8 proxies: different names, uids, pools; steady-state syncs), each server warmed up for ${WARMUP_SECONDS} s, then loaded ${CALIBRATION_SECONDS} s at a time until two loads in a row agreed on its rate within ${CALIBRATION_AGREEMENT * 100}% (at most ${CALIBRATION_LOADS}), the last of which sizes its rounds: ${ROUNDS} rounds of a fixed number of responses, about ${ROUND_SECONDS} s each (the rounds' seconds are below the table), each cut in ${SLICES} loads that take turns with the other server's, alternating which server goes first, medians of the rounds. CPU is the server process's user + system time from /proc/PID/stat over the whole round (the other server's loads in it included, and ${ROUND_SETTLE_MS / 1000} s after the last, so that the collections its loads leave running count to it) divided by its responses; latencies are autocannon's, of each round's responses (nearest rank). Ratios are hook over ceiling in throughput terms: for CPU, the ceiling's CPU per request over the hook's (1.0 = the hook costs nothing beyond Fastify's parsing and sending).`,
    '',
  );
  row(['members', 'request', 'hook req/s', 'ceiling req/s', 'req/s ratio', 'hook CPU/req', 'ceiling CPU/req', 'CPU ratio', 'hook p50 / p99', 'ceiling p50 / p99', 'errors']);
  row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']);
  for (const c of http) {
    row([
      c.members.toLocaleString('en'),
      `${fixed(c.requestBytes / 1024, 0)} KiB`,
      fixed(c.hook.requestsPerSecond, 1),
      fixed(c.ceiling.requestsPerSecond, 1),
      fixed(c.rpsRatio),
      `${fixed(c.hook.cpuPerRequestMs, 3)} ms`,
      `${fixed(c.ceiling.cpuPerRequestMs, 3)} ms`,
      fixed(c.cpuRatio),
      `${fixed(c.hook.latencyP50, 1)} / ${fixed(c.hook.latencyP99, 1)} ms`,
      `${fixed(c.ceiling.latencyP50, 1)} / ${fixed(c.ceiling.latencyP99, 1)} ms`,
      c.errors,
    ]);
  }
  lines.push('');
  const seconds = (results: LoadResult[]) => results.map((r) => fixed(r.seconds, 1)).join(', ');
  const rates = (list: number[]) => list.map((r) => fixed(r, 0)).join(', ');
  for (const c of http) {
    lines.push(
      `- ${c.members.toLocaleString('en')} members: CPU ratios of the rounds ${c.rounds.map((r) => fixed(r.ceiling.cpuPerRequest / r.hook.cpuPerRequest)).join(', ')}; the rounds took ${seconds(c.rounds.map((r) => r.hook))} s (hook) and ${seconds(c.rounds.map((r) => r.ceiling))} s (ceiling); calibration, requests a second: ${rates(c.calibration.hook)} (hook), ${rates(c.calibration.ceiling)} (ceiling).`,
    );
  }
  lines.push('');

  lines.push('## 2. Core against the floor', '');
  lines.push(
    '`sync()` from dist/ alone, against `JSON.parse` of the same request plus `JSON.stringify` of its response (what any implementation pays), in alternating batches over the 8 bodies, 5 rounds, medians; CPU milliseconds per request (process.cpuUsage, after a warm-up), in a process with V8\'s allocation-site pretenuring off (timed in a loop, a sync is otherwise slower in some processes than in others, by up to 70%, where the hook\'s server shows no difference). `steady` is what the HTTP table sends, and `steady-statefulset` the same over a StatefulSet\'s pods (a headless Service, the StatefulSet sent too, servers named by DNS and kept by ordinal): the target is for those two; a `first-sync` sorts every server into slots; an `endpoint-change` (a pod replaced) also routes a fixed sample of 10,000 keys through the old and the new config for `status.lastChange.keyspaceMoved`, a fixed cost of its own.',
    '',
  );
  row(['members', 'situation', 'request', 'response', 'sync()', 'JSON.parse', 'JSON.stringify', 'floor', 'core / floor']);
  row(['---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']);
  for (const r of core) {
    row([
      r.members.toLocaleString('en'),
      r.situation,
      `${fixed(r.requestBytes / 1024, 0)} KiB`,
      `${fixed(r.responseBytes / 1024, 0)} KiB`,
      fixed(r.coreMs, 3),
      fixed(r.parseMs, 3),
      fixed(r.stringifyMs, 3),
      fixed(r.floorMs, 3),
      fixed(r.ratio),
    ]);
  }
  lines.push('');

  lines.push('## 3. Memory', '');
  lines.push(
    `First the ceiling, for reference (what Fastify alone holds for these bodies), loaded for ${ceilingSoak.seconds} s at ${ceilingSoak.members.toLocaleString('en')} members: ${ceilingSoak.requests} requests; start ${fixed(ceilingSoak.startMb, 1)} MB, median of the last third ${fixed(ceilingSoak.loadedMb, 1)} MB, peak ${fixed(ceilingSoak.peakMb, 1)} MB; each second: ${ceilingSoak.samplesMb.map((m) => fixed(m, 0)).join(', ')} MB; then idle (while the hook is loaded in turn), each second for ${ceilingAfter.seconds} s: ${ceilingAfter.samplesMb.map((m) => fixed(m, 0)).join(', ')} MB.`,
    '',
  );
  lines.push(
    `The hook, idle meanwhile after the HTTP runs, each second for ${before.seconds} s: ${before.samplesMb.map((m) => fixed(m, 0)).join(', ')} MB; so ${fixed(before.settledMb, 1)} MB before its load, its V8 heap in use ${fixed(before.js.heapUsedMb, 2)} MB and external memory ${fixed(before.js.externalMb, 2)} MB.`,
    '',
  );
  lines.push(
    `The hook's RSS (/proc/PID/status) while loaded for ${soakResult.seconds} s at ${soakResult.members.toLocaleString('en')} members: ${soakResult.requests} requests, ${soakResult.errors} errors. Start ${fixed(soakResult.startMb, 1)} MB, end ${fixed(soakResult.endMb, 1)} MB, median of the last third ${fixed(soakResult.loadedMb, 1)} MB, peak ${fixed(soakResult.peakMb, 1)} MB (RSS swings with each collection: one sample says little); trend ${fixed(soakResult.slopeMbPerMin, 1)} MB/min (least squares), median of the last third minus that of the first ${fixed(soakResult.thirdsGrowthMb, 1)} MB; V8 heap used at the end ${soakResult.heapUsedMb === undefined ? 'n/a' : `${fixed(soakResult.heapUsedMb, 1)} MB`}.`,
    '',
  );
  lines.push(`RSS each second: ${soakResult.samplesMb.map((m) => fixed(m, 0)).join(', ')} MB.`, '');
  lines.push(
    `Then idle, each second for ${after.seconds} s: ${after.samplesMb.map((m) => fixed(m, 0)).join(', ')} MB. Right after the load RSS is what the last collection left; once allocation stops, V8's memory reducer collects and gives memory back: ${fixed(after.settledMb, 1)} MB at the end, ${fixed(after.settledMb - before.settledMb, 1)} MB against before the load; the V8 heap in use ${fixed(after.js.heapUsedMb, 2)} MB and external memory ${fixed(after.js.externalMb, 2)} MB, ${fixed(jsHeldMb(after.js) - jsHeldMb(before.js), 2)} MB against before.`,
    '',
  );
  lines.push('Across the whole run:', '');
  row(['after', 'hook RSS', 'ceiling RSS']);
  row(['---', '---:', '---:']);
  for (const s of rssTrace) row([s.at, `${fixed(s.hookMb, 1)} MB`, s.ceilingMb === undefined ? '' : `${fixed(s.ceilingMb, 1)} MB`]);
  lines.push('');

  lines.push('## 4. Scaling', '');
  lines.push('CPU milliseconds per `sync()` as the pool grows (2 bodies per size, 5 rounds that each time every size in turn, medians), the least-squares slope, and the cost per member above the 10-member cost at 1,000 and at 5,000 members: equal for a linear cost, growing for a quadratic one.', '');
  row(['members', ...scales.map((s) => s.situation)]);
  row(['---:', ...scales.map(() => '---:')]);
  for (const m of SCALING_SIZES) row([m.toLocaleString('en'), ...scales.map((s) => `${fixed(s.points.find((p) => p.members === m)!.ms, 3)} ms`)]);
  row(['slope', ...scales.map((s) => `${fixed(s.fit.slopeUs, 2)} µs/member`)]);
  row(['R²', ...scales.map((s) => fixed(s.fit.r2, 4))]);
  row(['µs/member at 1,000', ...scales.map((s) => fixed(s.perMemberUs1000, 2))]);
  row(['µs/member at 5,000', ...scales.map((s) => fixed(s.perMemberUs5000, 2))]);
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const startedAt = Date.now();
  const sync = await loadSync();
  const cpu = cpus();
  const env = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    // The machine's load once the build is done: a run decided on beforehand starts below 0.5, before the build.
    loadAverage: loadavg()[0]!.toFixed(2),
    cores: String(cpu.length),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    memory: `${fixed(totalmem() / 1024 ** 3, 1)} GiB`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    duration: '',
    build: relative(fileURLToPath(ROOT), fileURLToPath(DIST)) || '.',
  };
  log(`memcached-operator benchmarks: ${env.cores} cores, Node ${env.node}`);

  log('building request bodies');
  const httpCases = POOL_SIZES.map((members) => benchCase(sync, members, 'steady'));

  const hookPort = await freePort();
  const hook = await startHook('hook', HOOK_MAIN, hookPort);
  const rssTrace: RssSample[] = [{ at: 'start', hookMb: mb(rssBytes(hook.pid)) }];
  const http: HttpCase[] = [];
  let memory: { hook: HookMemory; ceiling: Memory };
  let ceiling: ServerProcess | undefined;
  try {
    const responses = new Map<string, string>();
    const responseBytes = new Map<number, number>();
    for (const c of httpCases) {
      const texts = await answers(hook, c);
      let total = 0;
      for (const [uid, text] of texts) {
        responses.set(uid, text);
        total += text.length;
      }
      responseBytes.set(c.members, Math.round(total / texts.size));
    }
    const responsesFile = writeResponses(responses);
    const ceilingPort = await freePort();
    ceiling = await startServer(
      'ceiling',
      [buildCeiling()],
      { PORT: String(ceilingPort), BODY_LIMIT: String(BODY_LIMIT), RESPONSES: responsesFile },
      ceilingPort,
    );
    for (const c of httpCases) {
      const texts = await answers(ceiling, c);
      for (const [uid, text] of texts) {
        if (text.length !== responses.get(uid)!.length) throw new Error(`the ceiling's response for ${uid} is not the hook's size`);
      }
    }
    // Both servers have now parsed every body once, the 5,000-member ones too: the rows after this one start from there.
    rssTrace.push({ at: 'every body answered once', hookMb: mb(rssBytes(hook.pid)), ceilingMb: mb(rssBytes(ceiling.pid)) });

    log(`HTTP: hook vs ceiling, ${CONNECTIONS} connections, ${ROUNDS} rounds`);
    for (const c of httpCases) {
      http.push(await httpCase(hook, ceiling, c, responseBytes.get(c.members)!, rssTrace));
    }
    const soakCase = httpCases.find((c) => c.members === SOAK_MEMBERS)!;
    // The ceiling is loaded first, for reference (what a Fastify server holds for these bodies before any
    // hook work), while the hook idles: that is the hook's reading before its own load. Then the hook is
    // loaded while the ceiling idles after its load, and then the hook idles.
    log(`memory: ${SOAK_SECONDS} s of load at ${SOAK_MEMBERS} members on the ceiling, the hook idle`);
    const [ceilingLoad, hookBefore] = await Promise.all([soak(ceiling, soakCase, false), hookIdle(hook)]);
    log(`memory: the same load on the hook, the ceiling idle, then the hook idle`);
    const [[hookLoad, hookAfter], ceilingAfter] = await Promise.all([
      soak(hook, soakCase, true).then(async (loaded) => [loaded, await hookIdle(hook)] as const),
      idle(ceiling),
    ]);
    memory = { hook: { before: hookBefore, load: hookLoad, after: hookAfter }, ceiling: { load: ceilingLoad, after: ceilingAfter } };
    rssTrace.push({ at: `the ceiling's ${SOAK_SECONDS} s of load at ${SOAK_MEMBERS} members (the hook idle)`, hookMb: hookBefore.settledMb, ceilingMb: ceilingLoad.endMb });
    rssTrace.push({ at: `the hook's ${SOAK_SECONDS} s of load (the ceiling idle)`, hookMb: hookLoad.endMb, ceilingMb: ceilingAfter.settledMb });
    rssTrace.push({ at: `the hook's ${IDLE_SECONDS} s idle`, hookMb: hookAfter.settledMb });
  } finally {
    await hook.stop();
    await ceiling?.stop();
  }

  log('core vs floor');
  const core: CoreResult[] = [];
  for (const members of POOL_SIZES) {
    for (const situation of SITUATIONS) {
      const c = situation === 'steady' ? httpCases.find((h) => h.members === members)! : benchCase(sync, members, situation);
      const r = coreVsFloor(sync, c, 5, members >= 1000 ? 150 : 100);
      core.push(r);
      log(`  ${members} ${situation}: sync ${fixed(r.coreMs, 3)} ms, floor ${fixed(r.floorMs, 3)} ms, ratio ${fixed(r.ratio)}`);
    }
  }

  log('scaling');
  const scales = SITUATIONS.map((situation) => scaling(sync, situation));
  for (const s of scales) log(`  ${s.situation}: ${fixed(s.fit.slopeUs, 2)} µs/member, R² ${fixed(s.fit.r2, 4)}, per member ${fixed(s.perMemberUs1000, 2)} µs at 1,000, ${fixed(s.perMemberUs5000, 2)} µs at 5,000`);

  const list = checks(http, core, memory, scales);
  env.duration = `${Math.round((Date.now() - startedAt) / 1000)} s`;
  const text = markdown(env, http, core, memory, rssTrace, scales, list);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(new URL('RESULTS.md', OUT), text);
  writeFileSync(
    new URL('results.json', OUT),
    `${JSON.stringify({ environment: env, targets: TARGETS, checks: list, http, core, memory: { ...memory, trace: rssTrace }, scaling: scales }, null, 2)}\n`,
  );
  log('');
  log(text);
  log(`wrote ${fileURLToPath(new URL('RESULTS.md', OUT))} and results.json in ${env.duration}`);
  const missed = list.filter((c) => !c.ok);
  log(missed.length === 0 ? 'all targets met' : `targets missed: ${missed.map((c) => c.what).join('; ')}`);
}

await main();
